package mmtest

import (
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// answer is the status and AppError id a test expects: id "" for a
// success.
type answer struct {
	status int
	id     string
}

// expect fails t unless r has the status and error id of want.
func expect(t *testing.T, what string, r result, want answer) {
	t.Helper()
	if got := (answer{r.status, errID(t, r)}); got != want {
		t.Errorf("%s = %d %q (%s), want %d %q", what, got.status, got.id, r.body, want.status, want.id)
	}
}

// privateChannel adds a private channel to w's team with the given
// members.
func (w *world) privateChannel(t *testing.T, name string, members ...*mattermost.User) *mattermost.Channel {
	t.Helper()
	ch, err := w.srv.AddChannel(w.team.ID, name, name, mattermost.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range members {
		if err := w.srv.AddChannelMember(ch.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// post creates a post through the API as token's owner and returns it.
func (w *world) post(t *testing.T, token, channelID, msg string) mattermost.Post {
	t.Helper()
	r := w.do(t, "POST", "/posts", token, map[string]any{"channel_id": channelID, "message": msg})
	if r.status != 201 {
		t.Fatalf("POST /posts %q = %d %s", msg, r.status, r.body)
	}
	var p mattermost.Post
	r.json(t, &p)
	return p
}

// ok is the answer of a success with status.
func ok(status int) answer { return answer{status: status} }

const (
	idPerm     = "api.context.permissions.app_error"
	idBodyParm = "api.context.invalid_body_param.app_error"
	idURLParam = "api.context.invalid_url_param.app_error"
)
