package matterbot

import (
	"context"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// shipPlugin has a command that runs again when edited and a reaction
// trigger.
type shipPlugin struct{}

func (shipPlugin) Name() string { return "ship" }

func (shipPlugin) Setup(p *bot.Plugin) error {
	p.Command("ship", func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("shipping %s", req.Args)
	}).RerunOnEdit(0)
	p.Command("state", func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("state of %s", req.Args)
	})
	p.Reaction("rocket", func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("%s approved %s", req.Message.From, req.Message.ID)
	})
	return nil
}

// TestEditRerunAndReaction: against the fake server, a command whose
// message is edited runs again and its reply is updated in place (no new
// post); a command that did not ask is not re-run; adding the rocket to
// a post runs the reaction trigger as the user who reacted.
func TestEditRerunAndReaction(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w, shipPlugin{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	p := w.say(t, "!ship v1.2")
	reply, err := w.srv.WaitForPost(ctx, w.ops.ID, func(q *mm.Post) bool { return q.UserID == w.bot.ID && q.Message == "shipping v1.2" })
	if err != nil {
		t.Fatal(err)
	}
	// Edited once the first run is over, as a person would.
	b.waitLog(t, `msg=command .*command=ship outcome=ok`)
	mark := b.mark()
	if _, _, err := w.alice.EditPost(ctx, p.ID, "!ship v1.3"); err != nil {
		t.Fatal(err)
	}
	b.waitLogSince(t, mark, `msg=command .*command=ship outcome=ok`)
	if got, _ := w.srv.Post(reply.ID); got.Message != "shipping v1.3" || got.EditAt == 0 || got.Props["matterbot_reply_to"] != p.ID {
		t.Errorf("the reply after the edit = %q (edit_at %d, props %v), want it edited to %q", got.Message, got.EditAt, got.Props, "shipping v1.3")
	}

	s := w.say(t, "!state api")
	w.reply(t, s)
	b.waitLog(t, `msg=command .*command=state outcome=ok`)

	if _, _, err := w.alice.EditPost(ctx, s.ID, "!state web"); err != nil {
		t.Fatal(err)
	}

	// The reaction trigger; its reply also shows that the edit above ran
	// nothing: the bot answers in order, and no "status of web" came.
	if _, _, err := w.alice.AddReaction(ctx, s.ID, "rocket"); err != nil {
		t.Fatal(err)
	}
	approved, err := w.srv.WaitForPost(ctx, w.ops.ID, func(q *mm.Post) bool {
		return q.UserID == w.bot.ID && q.Message == "@alice approved "+s.ID
	})
	if err != nil {
		t.Fatalf("no answer to the rocket: %v; output:\n%s", err, b.stderr.String())
	}
	var bots []string
	for _, q := range w.srv.Posts(w.ops.ID) {
		if q.UserID == w.bot.ID {
			bots = append(bots, q.Message)
		}
	}
	if want := []string{"shipping v1.3", "state of api", approved.Message}; len(bots) != 3 || bots[0] != want[0] || bots[1] != want[1] {
		t.Errorf("the bot's posts = %q, want %q: the edit of a command that did not ask runs nothing", bots, want)
	}
}
