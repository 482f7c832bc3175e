package mattermost_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// fakeWorld is a fake server seeded with a team, an open channel, a human
// (alice, with a password) and a bot (with a token).
type fakeWorld struct {
	srv        *mmtest.Server
	team       *mattermost.Team
	ops        *mattermost.Channel
	alice, bot *mattermost.User
	botToken   string
	alicePW    string
	sleepsMu   sync.Mutex
	sleeps     []time.Duration
	clientOpts mattermost.ClientOptions
}

func newFakeWorld(t *testing.T) *fakeWorld {
	t.Helper()
	srv := mmtest.NewServer(t, nil)
	w := &fakeWorld{srv: srv, alicePW: "alice-pw-1"}
	var err error
	must := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatalf("seed the fake: %v", e)
		}
	}
	w.team, err = srv.AddTeam("ops-team", "Ops")
	must(err)
	w.alice, err = srv.AddUser(mmtest.User{Username: "alice", Password: w.alicePW})
	must(err)
	w.bot, err = srv.AddBot("deploybot", "Deploy Bot", w.alice.ID)
	must(err)
	must(srv.AddTeamMember(w.team.ID, w.alice.ID))
	must(srv.AddTeamMember(w.team.ID, w.bot.ID))
	w.ops, err = srv.AddChannel(w.team.ID, "ops", "Ops", mattermost.ChannelOpen)
	must(err)
	must(srv.AddChannelMember(w.ops.ID, w.alice.ID))
	must(srv.AddChannelMember(w.ops.ID, w.bot.ID))
	w.botToken, err = srv.CreateToken(w.bot.ID, "matterbot")
	must(err)
	w.clientOpts = mattermost.ClientOptions{Sleep: func(ctx context.Context, d time.Duration) error {
		w.sleepsMu.Lock()
		w.sleeps = append(w.sleeps, d)
		w.sleepsMu.Unlock()
		return ctx.Err()
	}}
	return w
}

func (w *fakeWorld) botClient(t *testing.T) *mattermost.Client {
	t.Helper()
	o := w.clientOpts
	c, err := mattermost.NewClient(w.srv.URL(), mattermost.Secret(w.botToken), &o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAgainstFakeServer runs the calls a bot makes against mmtest, the
// fake other packages test with: both sides must agree.
func TestAgainstFakeServer(t *testing.T) {
	w := newFakeWorld(t)
	c := w.botClient(t)
	ctx := t.Context()

	if st, _, err := c.Ping(ctx); err != nil || st != "OK" {
		t.Fatalf("Ping() = %q, %v", st, err)
	}
	me, _, err := c.Me(ctx)
	if err != nil || me.ID != w.bot.ID || !me.IsBot {
		t.Fatalf("Me() = %+v, %v; want the bot", me, err)
	}
	team, _, err := c.TeamByName(ctx, "ops-team")
	if err != nil || team.ID != w.team.ID {
		t.Fatalf("TeamByName() = %v, %v", team, err)
	}
	teams, _, err := c.MyTeams(ctx)
	if err != nil || len(teams) != 1 {
		t.Errorf("MyTeams() = %v, %v", teams, err)
	}
	ch, _, err := c.ChannelByTeamNameAndName(ctx, "ops-team", "ops")
	if err != nil || ch.ID != w.ops.ID {
		t.Fatalf("ChannelByTeamNameAndName() = %v, %v", ch, err)
	}
	if _, _, err := c.ChannelByName(ctx, w.team.ID, "nope"); !errors.Is(err, mattermost.ErrNotFound) {
		t.Errorf("ChannelByName(nope) = %v, want ErrNotFound", err)
	}
	chans, _, err := c.MyChannels(ctx, w.team.ID)
	if err != nil || len(chans) == 0 {
		t.Errorf("MyChannels() = %v, %v", chans, err)
	}
	u, _, err := c.UserByUsername(ctx, "alice")
	if err != nil || u.ID != w.alice.ID {
		t.Errorf("UserByUsername() = %v, %v", u, err)
	}
	dm, _, err := c.CreateDirectChannel(ctx, w.bot.ID, w.alice.ID)
	if err != nil || dm.Type != mattermost.ChannelDirect {
		t.Errorf("CreateDirectChannel() = %v, %v", dm, err)
	}

	root, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: ch.ID, Message: "deploying"})
	if err != nil {
		t.Fatalf("CreatePost() = %v", err)
	}
	reply, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: ch.ID, RootID: root.ID, Message: "done",
		Props: map[string]any{"attachments": []*mattermost.Attachment{{Title: "deployed", Color: "good"}}}})
	if err != nil || reply.RootID != root.ID {
		t.Fatalf("CreatePost(reply) = %v, %v", reply, err)
	}
	if atts, err := reply.Attachments(); err != nil || len(atts) != 1 || atts[0].Title != "deployed" {
		t.Errorf("reply attachments = %v, %v", atts, err)
	}
	thread, _, err := c.PostThread(ctx, root.ID)
	if err != nil || len(thread.Order) != 2 {
		t.Errorf("PostThread() = %v, %v; want 2 posts", thread, err)
	}
	if _, _, err := c.EditPost(ctx, root.ID, "deployed"); err != nil {
		t.Errorf("EditPost() = %v", err)
	}
	if _, _, err := c.AddReaction(ctx, root.ID, "white_check_mark"); err != nil {
		t.Errorf("AddReaction() = %v", err)
	}
	if rs, _, err := c.Reactions(ctx, root.ID); err != nil || len(rs) != 1 {
		t.Errorf("Reactions() = %v, %v", rs, err)
	}
	if _, err := c.RemoveReaction(ctx, root.ID, "white_check_mark"); err != nil {
		t.Errorf("RemoveReaction() = %v", err)
	}
	if _, err := c.Typing(ctx, ch.ID, ""); err != nil {
		t.Errorf("Typing() = %v", err)
	}
	page, _, err := c.ChannelPosts(ctx, ch.ID, 0, 10)
	if err != nil || len(page.Ordered()) < 2 {
		t.Errorf("ChannelPosts() = %v, %v", page, err)
	}
	since, _, err := c.ChannelPostsSince(ctx, ch.ID, root.CreateAt-1)
	if err != nil || len(since.Order) < 2 {
		t.Errorf("ChannelPostsSince() = %v, %v", since, err)
	}

	fi, _, err := c.UploadFile(ctx, ch.ID, "report.txt", strings.NewReader("hello file\n"))
	if err != nil {
		t.Fatalf("UploadFile() = %v", err)
	}
	withFile, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: ch.ID, Message: "see file", FileIDs: []string{fi.ID}})
	if err != nil || len(withFile.FileIDs) != 1 {
		t.Errorf("CreatePost(file) = %v, %v", withFile, err)
	}
	body, _, err := c.DownloadFile(ctx, fi.ID)
	if err != nil {
		t.Fatalf("DownloadFile() = %v", err)
	}
	b, _ := io.ReadAll(body)
	_ = body.Close()
	if string(b) != "hello file\n" {
		t.Errorf("downloaded %q", b)
	}
	if info, _, err := c.FileInfo(ctx, fi.ID); err != nil || info.Size != 11 {
		t.Errorf("FileInfo() = %v, %v", info, err)
	}

	if _, err := c.DeletePost(ctx, withFile.ID); err != nil {
		t.Errorf("DeletePost() = %v", err)
	}
	if _, _, err := c.Post(ctx, withFile.ID); !errors.Is(err, mattermost.ErrNotFound) {
		t.Errorf("Post(deleted) = %v, want ErrNotFound", err)
	}

	hook, err := w.srv.AddHook(ch.ID, w.alice.ID, "cards")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostWebhook(ctx, hook.ID, &mattermost.WebhookMessage{Text: "from hook"}); err != nil {
		t.Errorf("PostWebhook() = %v", err)
	}
	if _, err := c.PostWebhook(ctx, "nosuchhooknosuchhooknosuch", &mattermost.WebhookMessage{Text: "x"}); !errors.Is(err, mattermost.ErrBadRequest) {
		t.Errorf("PostWebhook(unknown) = %v, want ErrBadRequest", err)
	}
}

// TestFakeServerCreatePostDropped: the fake stores the post and drops the
// answer; the retry with the same pending_post_id gets the same post.
func TestFakeServerCreatePostDropped(t *testing.T) {
	w := newFakeWorld(t)
	c := w.botClient(t)
	w.srv.DropNextResponses(1)
	p, _, err := c.CreatePost(t.Context(), &mattermost.Post{ChannelID: w.ops.ID, Message: "exactly once"})
	if err != nil {
		t.Fatalf("CreatePost() = %v", err)
	}
	var n int
	for _, q := range w.srv.Posts(w.ops.ID) {
		if q.Message == "exactly once" {
			n++
			if q.ID != p.ID {
				t.Errorf("stored post %s, CreatePost answered %s", q.ID, p.ID)
			}
		}
	}
	if n != 1 {
		t.Errorf("the fake holds %d copies of the post, want 1", n)
	}
}

func TestFakeServerFaults(t *testing.T) {
	w := newFakeWorld(t)
	c := w.botClient(t)
	ctx := t.Context()

	w.srv.FailNext(2, http.StatusServiceUnavailable)
	if _, _, err := c.Me(ctx); err != nil {
		t.Errorf("Me() after two 503s = %v, want a retried success", err)
	}
	w.srv.FailNext(1, http.StatusTooManyRequests)
	if _, _, err := c.CreateChannel(ctx, &mattermost.Channel{TeamID: w.team.ID, Name: "new-chan", DisplayName: "New", Type: mattermost.ChannelPrivate}); err != nil {
		t.Errorf("CreateChannel() after a 429 = %v, want a waited success", err)
	}
	w.srv.FailNext(1, http.StatusInternalServerError)
	if _, _, err := c.CreateChannel(ctx, &mattermost.Channel{TeamID: w.team.ID, Name: "other", DisplayName: "O", Type: mattermost.ChannelOpen}); !errors.Is(err, mattermost.ErrServer) {
		t.Errorf("CreateChannel() on a 500 = %v, want ErrServer (not retried)", err)
	}
	w.sleepsMu.Lock()
	defer w.sleepsMu.Unlock()
	if len(w.sleeps) != 3 || w.sleeps[2] != time.Second {
		t.Errorf("waits = %v, want two backoffs and the 429's 1s", w.sleeps)
	}
}

// TestFakeServerPasswordRelogin: a human logs in with a password; when the
// server revokes the session, the next call logs in again by itself.
func TestFakeServerPasswordRelogin(t *testing.T) {
	w := newFakeWorld(t)
	o := w.clientOpts
	o.Login, o.Password = "alice", mattermost.Secret(w.alicePW)
	c, err := mattermost.NewClient(w.srv.URL(), "", &o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	me, _, err := c.Me(ctx)
	if err != nil || me.ID != w.alice.ID {
		t.Fatalf("Me() = %v, %v", me, err)
	}
	first := c.Token()
	w.srv.RevokeSessions(w.alice.ID)
	if _, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: w.ops.ID, Message: "still here"}); err != nil {
		t.Fatalf("CreatePost() after revocation = %v, want a re-login", err)
	}
	if c.Token() == first {
		t.Error("token unchanged after re-login")
	}
	if _, err := c.Logout(ctx); err != nil {
		t.Errorf("Logout() = %v", err)
	}

	bad, _ := mattermost.NewClient(w.srv.URL(), "", &mattermost.ClientOptions{Login: "alice", Password: "wrong"})
	if _, _, err := bad.Me(ctx); !errors.Is(err, mattermost.ErrUnauthorized) {
		t.Errorf("Me() with a wrong password = %v, want ErrUnauthorized", err)
	}
}
