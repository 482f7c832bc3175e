package bot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestUnreact: a handler adds a reaction and removes it again; the
// backend sees both, in that order, on the command's message.
func TestUnreact(t *testing.T) {
	p := plug{"r", func(p *bot.Plugin) error {
		p.Command("flip", func(ctx context.Context, req *bot.Request) error {
			if err := req.React("hourglass"); err != nil {
				return err
			}
			return req.Unreact(":hourglass:")
		})
		return nil
	}}
	b := bottest.New(t, p)
	m := b.Message("@alice", "~ops", "!flip")
	want := []bottest.Reply{
		{MessageID: m.ID, Reaction: "hourglass"},
		{MessageID: m.ID, Reaction: "hourglass", Unreact: true},
	}
	if diff := cmp.Diff(want, b.Deliver(m)); diff != "" {
		t.Errorf("Deliver(!flip) mismatch (-want +got):\n%s", diff)
	}
}

// TestUnreactUnsupported: a backend without bot.Unreacter makes
// Request.Unreact fail with ErrUnsupported, not panic.
func TestUnreactUnsupported(t *testing.T) {
	be := &nullBackend{ready: make(chan struct{})}
	errc := make(chan error, 1)
	p := plug{"r", func(p *bot.Plugin) error {
		p.Command("unreact", func(ctx context.Context, req *bot.Request) error {
			errc <- req.Unreact("x")
			return nil
		})
		return nil
	}}
	e, err := bot.New(be, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-be.ready
	m := &bot.Message{ID: "m1", From: bot.User{ID: "u-alice", Username: "alice"}, Room: bot.Room{ID: "r1", Name: "ops"}, Text: "!unreact"}
	<-be.h.HandleMessage(m)
	if err := <-errc; !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Unreact on a backend without Unreacter = %v, want ErrUnsupported", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
}
