package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// nullBackend is the least a backend can be: it counts what is sent and
// how often the typing indicator was shown.
type nullBackend struct {
	ready chan struct{}
	h     bot.Handler
	sent  atomic.Int64
	typed atomic.Int64
}

func (n *nullBackend) Run(ctx context.Context, h bot.Handler) error {
	if err := h.HandleConnect(ctx, bot.User{ID: "u-bot", Username: "bot"}); err != nil {
		return err
	}
	n.h = h
	close(n.ready)
	<-ctx.Done()
	return nil
}

func (n *nullBackend) Send(ctx context.Context, out *bot.Outgoing) error {
	n.sent.Add(1)
	return nil
}

func (n *nullBackend) Typing(ctx context.Context, roomID, threadID string) error {
	n.typed.Add(1)
	return nil
}

func (n *nullBackend) React(ctx context.Context, id, emoji string) error { return nil }

func (n *nullBackend) User(ctx context.Context, name string) (bot.User, error) {
	return bot.User{}, bot.ErrUnknown
}

func (n *nullBackend) Room(ctx context.Context, team, name string) (bot.Room, error) {
	return bot.Room{}, errors.New("no rooms")
}

// BenchmarkCommand measures one command through the engine: a message
// in, prefix and name matched, ACL checked, the handler run in its own
// goroutine with a deadline, the reply sent, completion signalled.
func BenchmarkCommand(b *testing.B) {
	benchmarkCommand(b, nil, "!ping")
}

// BenchmarkCommandTyping is BenchmarkCommand with the automatic typing
// indicator on, as matterbot run sets it: every command arms it and, done
// long before it is due, disarms it.
func BenchmarkCommandTyping(b *testing.B) {
	benchmarkCommand(b, &bot.Options{TypingAfter: 2 * time.Second}, "!ping")
}

// BenchmarkTypedCommand is BenchmarkCommand with typed arguments parsed
// from shell words into a struct.
func BenchmarkTypedCommand(b *testing.B) {
	benchmarkCommand(b, nil, `!deploy "api server" prod --force`)
}

func benchmarkCommand(b *testing.B, opts *bot.Options, text string) {
	be := &nullBackend{ready: make(chan struct{})}
	p := plug{"ping", func(p *bot.Plugin) error {
		p.Command("ping", func(ctx context.Context, req *bot.Request) error { return req.Reply("pong") })
		p.Command("deploy status", func(ctx context.Context, req *bot.Request) error { return req.Reply("ok") })
		bot.Command(p, "deploy", func(ctx context.Context, req *bot.Request, a deployArgs) error { return req.Reply(a.Service) })
		return nil
	}}
	e, err := bot.New(be, opts, p)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-be.ready
	m := &bot.Message{ID: "m1", From: bot.User{ID: "u-alice", Username: "alice"}, Room: bot.Room{ID: "r1", Name: "ops"}, Text: text}
	b.ReportAllocs()
	for b.Loop() {
		<-be.h.HandleMessage(m)
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if got := be.sent.Load(); got < int64(b.N) {
		b.Fatalf("sent %d replies for %d commands", got, b.N)
	}
}
