package mattermost_test

import (
	"context"
	"log/slog"
	"testing"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// loneBot adds a bot in no team to w and returns it with backend options
// for it.
func (w *world) loneBot() (*mm.User, func() mmbackend.Options) {
	w.t.Helper()
	lone, err := w.srv.AddBot("lonebot", "Lone Bot", "")
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := w.srv.CreateToken(lone.ID, "lone")
	if err != nil {
		w.t.Fatal(err)
	}
	return lone, func() mmbackend.Options {
		opts := w.options()
		opts.Token, opts.Teams = mm.Secret(tok), nil
		return opts
	}
}

// replies counts the posts by user in ch with the text.
func (w *world) replies(ch *mm.Channel, user *mm.User, text string) int {
	n := 0
	for _, p := range w.srv.Posts(ch.ID) {
		if p.UserID == user.ID && p.Message == text {
			n++
		}
	}
	return n
}

// TestCatchUpNewDirectChannelNoTeam: a bot in no team, its socket down
// and not resumable; alice opens a direct channel with it meanwhile and
// sends a command there. A server since 6.1 lists every channel of the
// bot (GET /users/me/channels), so the command is answered once when
// the socket is back.
func TestCatchUpNewDirectChannelNoTeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t) // the current profile
	lone, opts := w.loneBot()
	w.startEngine(w.newBackend(opts()), nil)
	var dm *mm.Channel
	w.downtime(func() {
		var err error
		if dm, _, err = w.aliceC.CreateDirectChannel(context.Background(), w.alice.ID, lone.ID); err != nil {
			t.Fatal(err)
		}
		w.say(dm, "", "echo during")
	})
	w.waitFor(dm, lone, "during")
	w.say(dm, "", "echo after")
	w.waitFor(dm, lone, "after")
	if n := w.replies(dm, lone, "during"); n != 1 {
		t.Errorf("reply to the command sent while down posted %d times, want once", n)
	}
}

// TestCatchUpBeforeAllChannels: on a server before 6.1 (the recorded
// 5.36, the fake's 5.36 profile) GET /users/me/channels is a 404; the bot says so once, lists its
// channels per team as before, and still catches up in the direct
// channel it knew. A direct channel opened while it was down stays
// unknown to a bot in no team there: its command is not answered.
func TestCatchUpBeforeAllChannels(t *testing.T) {
	t.Parallel()
	w := newWorldOn(t, &mmtest.Options{ServerVersion: mmtest.Version536})
	lone, opts := w.loneBot()
	known, err := w.srv.DirectChannel(w.bob.ID, lone.ID)
	if err != nil {
		t.Fatal(err)
	}
	bobC := w.client(w.bob.ID)
	logs := logWatch{prefix: "catch-up: the server cannot list all", seen: make(chan slog.Record, 4)}
	o := opts()
	o.Logger = slog.New(logs)
	// One handler per user at a time: alice's answers come in order.
	w.startEngine(w.newBackend(o), &bot.Options{MaxPerUser: 1})
	post := func(c *mm.Client, ch *mm.Channel, text string) {
		t.Helper()
		if _, _, err := c.CreatePost(context.Background(), &mm.Post{ChannelID: ch.ID, Message: text}); err != nil {
			t.Fatal(err)
		}
	}
	post(bobC, known, "echo hello")
	w.waitFor(known, lone, "hello")
	var dm *mm.Channel
	for i, text := range []string{"one", "two"} {
		w.downtime(func() {
			post(bobC, known, "echo "+text)
			if i == 0 {
				if dm, _, err = w.aliceC.CreateDirectChannel(context.Background(), w.alice.ID, lone.ID); err != nil {
					t.Fatal(err)
				}
				w.say(dm, "", "echo unseen")
			}
		})
		w.waitFor(known, lone, text)
	}
	w.say(dm, "", "echo after")
	w.waitFor(dm, lone, "after")
	if n := w.replies(dm, lone, "unseen"); n != 0 {
		t.Errorf("the command in the direct channel opened while down was answered %d times; the 5.36 gap is closed: update the parity doc", n)
	}
	logs.wait(t, "lonebot")
	if n := len(logs.seen); n != 0 {
		t.Errorf("the fallback to per-team listing was logged %d more times, want once", n)
	}
}
