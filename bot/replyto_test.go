package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// replyToBackend is a bottest.Backend that notes the ReplyTo of every
// message sent, as "text→id".
type replyToBackend struct {
	*bottest.Backend
	mu  sync.Mutex
	got []string
}

func (b *replyToBackend) note(out *bot.Outgoing) {
	text := out.Text
	if out.Card != nil {
		text = "card " + out.Card.Title
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, text+"→"+out.ReplyTo)
}

func (b *replyToBackend) Send(ctx context.Context, out *bot.Outgoing) error {
	b.note(out)
	return b.Backend.Send(ctx, out)
}

func (b *replyToBackend) SendEphemeral(ctx context.Context, userID string, out *bot.Outgoing) error {
	b.note(out)
	return b.Backend.SendEphemeral(ctx, userID, out)
}

// TestReplyTo: everything sent about a message (replies, cards, diverted
// replies, ephemeral messages, a plugin's Send, the engine's own answers)
// carries the message's id in Outgoing.ReplyTo; the engine's Send, which
// answers no message, leaves it empty.
func TestReplyTo(t *testing.T) {
	be := &replyToBackend{Backend: bottest.NewBackend()}
	p := plug{"r", func(p *bot.Plugin) error {
		p.Command("reply", reply("a reply"))
		p.Command("card", func(ctx context.Context, req *bot.Request) error { return req.Card(bot.Card{Title: "c"}) })
		p.Command("private", reply("in private")).Private()
		p.Command("thread", reply("in a thread")).InThread()
		p.Command("psst", func(ctx context.Context, req *bot.Request) error { return req.Ephemeral("ephemeral") })
		p.Command("tell", func(ctx context.Context, req *bot.Request) error {
			return req.Send("~ops", bot.Outgoing{Text: "told"})
		})
		return nil
	}}
	e, err := bot.New(be, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-be.Ready()
	var want []string
	for _, cmd := range []string{"reply", "card", "private", "thread", "psst", "tell", "nosuch"} {
		id := "m-" + cmd
		<-be.Handler().HandleMessage(&bot.Message{ID: id, From: bot.User{ID: "u-alice", Username: "alice"},
			Room: bot.Room{ID: "r-ops", Name: "ops", Team: bottest.DefaultTeam}, Text: "!" + cmd})
		be.mu.Lock()
		n := len(be.got)
		be.mu.Unlock()
		if n == 0 || !strings.HasSuffix(be.got[n-1], "→"+id) {
			t.Errorf("!%s: sent %q, want the last with ReplyTo %q", cmd, be.got, id)
		}
		want = append(want, id)
	}
	if err := e.Send(ctx, "~ops", bot.Outgoing{Text: "unprompted"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range be.got {
		_, id, _ := strings.Cut(s, "→")
		ids = append(ids, id)
	}
	want = append(want, "")
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("ReplyTo of the messages sent (-want +got):\n%s\nsent: %q", diff, be.got)
	}
}
