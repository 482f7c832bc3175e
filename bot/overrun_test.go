package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestOverrunFreesSlot: a handler that ignores its deadline keeps its
// goroutine but not its slot. OverrunGrace past the deadline its user is
// told it timed out and the next job runs in its place; when it returns
// at last, nothing more is said.
func TestOverrunFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		started := make(chan struct{}, 2)
		p := plug{"bad", func(p *bot.Plugin) error {
			p.Command("hang", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-gate // ignores its context
				return nil
			}).Timeout(time.Second)
			p.Command("fast", reply("fast done"))
			return nil
		}}
		var logs syncBuffer
		b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 2, MaxPerUser: 2, Logger: logger(&logs)}, p)
		hung := []<-chan struct{}{
			b.Post(b.Message("@alice", "~ops", "!hang")),
			b.Post(b.Message("@alice", "~ops", "!hang")),
		}
		<-started
		<-started
		fast := b.Post(b.Message("@bob", "~ops", "!fast"))
		advance(time.Second + bot.OverrunGrace/2)
		if got := texts(b.Replies()); len(got) != 0 {
			t.Fatalf("replies within the grace = %q, want none: both slots are taken", got)
		}
		advance(bot.OverrunGrace)
		<-fast
		want := []string{"`!hang` timed out after 1s.", "`!hang` timed out after 1s.", "fast done"}
		got := texts(b.Replies())
		slices.Sort(got)
		if !cmp.Equal(got, want) {
			t.Errorf("replies after the grace = %q, want %q", got, want)
		}
		if n := strings.Count(logs.String(), "handler overran its deadline"); n != 2 {
			t.Errorf("%d overrun lines in the log, want 2:\n%s", n, logs.String())
		}
		if st := b.Engine.Stats(); st.Running != 0 {
			t.Errorf("Stats() = %+v, want none running: the overrunning handlers gave their slots up", st)
		}
		close(gate)
		for _, h := range hung {
			<-h
		}
		synctest.Wait()
		if got := texts(b.Replies()); len(got) != 0 {
			t.Errorf("replies once the overrunning handlers returned = %q, want none", got)
		}
		if st := b.Engine.Stats(); st.Running != 0 || st.Queued != 0 {
			t.Errorf("Stats() once the overrunning handlers returned = %+v, want nothing running or queued", st)
		}
		if got := texts(b.SayAs("@alice", "~ops", "!fast")); !cmp.Equal(got, []string{"fast done"}) {
			t.Errorf("alice's next command: replies %q, want fast done", got)
		}
	})
}

// slowSender is a backend whose Send waits for gate, counting the sends
// in flight.
type slowSender struct {
	*bottest.Backend
	gate     chan struct{}
	inflight atomic.Int32
	peak     atomic.Int32
}

func (s *slowSender) Send(ctx context.Context, out *bot.Outgoing) error {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		old := s.peak.Load()
		if n <= old || s.peak.CompareAndSwap(old, n) {
			break
		}
	}
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Backend.Send(ctx, out)
}

// TestBusyNoticesBounded: when the queue is full and the server slow,
// the "busy" notices do not pile up, a goroutine each: at most
// MaxConcurrent are sent at once, the rest of the refused commands are
// only logged; nor do they hold up the handlers' slots.
func TestBusyNoticesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		p := plug{"q", func(p *bot.Plugin) error {
			p.Command("work", func(ctx context.Context, req *bot.Request) error {
				<-gate
				return nil
			})
			return nil
		}}
		be := &slowSender{Backend: bottest.NewBackend(), gate: make(chan struct{})}
		var logs syncBuffer
		e, err := bot.New(be, &bot.Options{MaxConcurrent: 2, MaxPerUser: 2, MaxQueue: 1, Logger: logger(&logs)}, p)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		<-be.Ready()
		h := be.Handler()
		msg := func(i int) *bot.Message {
			return &bot.Message{ID: fmt.Sprintf("m%d", i), From: bot.User{ID: "u-alice", Username: "alice"},
				Room: bot.Room{ID: "r1", Name: "ops"}, Text: "!work"}
		}
		for i := range 3 { // two run, one waits
			h.HandleMessage(msg(i))
		}
		synctest.Wait()
		for i := 3; i < 50; i++ { // refused: busy
			h.HandleMessage(msg(i))
		}
		synctest.Wait()
		if n := be.peak.Load(); n > 2 {
			t.Errorf("%d busy notices sent at once, want at most MaxConcurrent (2)", n)
		}
		if st := e.Stats(); st.Running != 2 || st.Queued != 1 {
			t.Errorf("Stats() = %+v, want the 2 handlers running and 1 queued", st)
		}
		close(be.gate)
		close(gate)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "command dropped"); n != 47 {
			t.Errorf("%d commands dropped in the log, want 47", n)
		}
	})
}
