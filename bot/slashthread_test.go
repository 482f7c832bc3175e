package bot_test

import (
	"context"
	"testing"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestSlashCommandInThread: a command whose replies go in a thread
// (Cmd.InThread), run as a slash command, replies where the slash
// command's answers go, its own thread or none: the command's message is
// no post, and a thread under it does not exist. Its question
// (Request.Ask) is asked there too, so that the caller's answer in the
// channel reaches it.
func TestSlashCommandInThread(t *testing.T) {
	answers := make(chan string, 1)
	b := bottest.New(t, plug{"t", func(p *bot.Plugin) error {
		p.Command("thread", reply("in a thread")).InThread()
		p.Command("ask", func(ctx context.Context, req *bot.Request) error {
			m, err := req.Ask(ctx, "which env?")
			if err != nil {
				return err
			}
			answers <- m.Text
			return req.Reply("deploying to " + m.Text)
		}).InThread()
		return nil
	}})
	for _, tc := range []struct{ name, root, want string }{
		{"in the channel", "", ""},
		{"in a thread", "root1", "root1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := b.Message("@alice", "~ops", "thread")
			m.Slash, m.ThreadID = true, tc.root
			rs := b.Deliver(m)
			if len(rs) != 1 || rs[0].Text != "in a thread" || rs[0].ThreadID != tc.want {
				t.Errorf("replies = %+v, want one in thread %q", rs, tc.want)
			}
		})
	}
	// As a "!" command, the thread starts on the command's post.
	if rs := b.Say("!thread"); len(rs) != 1 || rs[0].ThreadID == "" {
		t.Errorf("!thread replies = %+v, want one in a thread on the command", rs)
	}

	m := b.Message("@alice", "~ops", "ask")
	m.Slash = true
	if rs := b.Deliver(m); len(rs) != 1 || rs[0].Text != "which env?" || rs[0].ThreadID != "" {
		t.Fatalf("the question = %+v, want one in the channel", rs)
	}
	rs := b.SayAs("@alice", "~ops", "prod")
	select {
	case a := <-answers:
		if a != "prod" {
			t.Errorf("the answer = %q, want prod", a)
		}
	default:
		t.Fatal("the question got no answer")
	}
	if len(rs) != 1 || rs[0].Text != "deploying to prod" || rs[0].ThreadID != "" {
		t.Errorf("after the answer = %+v, want the follow-up in the channel", rs)
	}
}
