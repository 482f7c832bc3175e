package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestRerunOnEdit: an edited message runs again only a command that
// asked for it, within its window; nothing else sees the edit.
func TestRerunOnEdit(t *testing.T) {
	var heard int
	p := plug{"ops", func(p *bot.Plugin) error {
		bot.Command(p, "deploy", func(ctx context.Context, req *bot.Request, a struct {
			Env string `arg:""`
		}) error {
			return req.Replyf("deploying to %s", a.Env)
		}).RerunOnEdit(0)
		p.Command("status", func(ctx context.Context, req *bot.Request) error { return req.Reply("ok") })
		p.Listen(`deploy`, func(ctx context.Context, req *bot.Request) error { heard++; return nil })
		return nil
	}}
	b := bottest.New(t, p)
	edit := func(text string, age time.Duration) []string {
		m := b.Message("@alice", "~ops", text)
		m.ID, m.Edited, m.Time = "m-edited", true, time.Now().Add(-age)
		return bottest.Texts(b.Deliver(m))
	}
	b.SayAs("@alice", "~ops", "!deploy prdo")
	for _, tc := range []struct {
		name, text string
		age        time.Duration
		want       []string
	}{
		{"fixed within the window", "!deploy prod", time.Second, []string{"deploying to prod"}},
		{"past the window", "!deploy prod", bot.DefaultEditWindow + time.Second, nil},
		{"a command that did not ask", "!status", time.Second, nil},
		{"not a command", "deploy", time.Second, nil},
	} {
		if got := edit(tc.text, tc.age); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: replies %q, want %q", tc.name, got, tc.want)
		}
	}
	if heard != 1 {
		t.Errorf("the listener heard %d messages, want only the first, not its edits", heard)
	}
}
