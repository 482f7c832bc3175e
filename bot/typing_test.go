package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// typingPlugin has a slow command that runs until release is closed, a
// fast one, a slow listener that counts its runs, and a command that
// asks first.
type typingPlugin struct {
	release chan struct{}
	heard   atomic.Int32 // listener runs
}

func (tp *typingPlugin) Setup(p *bot.Plugin) error {
	wait := func(ctx context.Context) error {
		select {
		case <-tp.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.Command("slow", func(ctx context.Context, req *bot.Request) error {
		if err := wait(ctx); err != nil {
			return err
		}
		return req.Reply("done")
	})
	p.Command("fast", func(ctx context.Context, req *bot.Request) error { return req.Reply("done") })
	p.Command("confirm", func(ctx context.Context, req *bot.Request) error {
		if _, err := req.Ask(ctx, "sure?"); err != nil {
			return err
		}
		return wait(ctx)
	})
	p.Listen(`overheard`, func(ctx context.Context, req *bot.Request) error {
		tp.heard.Add(1)
		return wait(ctx)
	})
	return nil
}

// advance lets d of the bubble's fake time pass, then waits until every
// goroutine is blocked.
func advance(d time.Duration) {
	<-time.After(d)
	synctest.Wait()
}

// TestAutomaticTyping: with Options.TypingAfter, a command still running
// after that delay shows the typing indicator, again every TypingRefresh
// until it returns, and never again afterwards; fast commands, listeners
// and a handler waiting for an answer show none; 0 disables it.
func TestAutomaticTyping(t *testing.T) {
	type step struct {
		after time.Duration
		want  int // TypingCount after it
	}
	tests := []struct {
		name        string
		typingAfter time.Duration
		text        string
		steps       []step
		wantHeard   int32 // listener runs
	}{
		{name: "slow command", typingAfter: time.Second, text: "!slow",
			steps: []step{{999 * time.Millisecond, 0}, {time.Millisecond, 1}, {bot.TypingRefresh - time.Millisecond, 1}, {time.Millisecond, 2}, {bot.TypingRefresh, 3}}},
		{name: "disabled", typingAfter: 0, text: "!slow", steps: []step{{time.Minute, 0}}},
		{name: "fast command", typingAfter: time.Second, text: "!fast", steps: []step{{time.Minute, 0}}},
		{name: "listener", typingAfter: time.Second, text: "overheard that", steps: []step{{time.Minute, 0}}, wantHeard: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tp := &typingPlugin{release: make(chan struct{})}
				b := bottest.NewWithOptions(t, &bot.Options{TypingAfter: tc.typingAfter, CommandTimeout: time.Hour}, tp)
				done := b.Post(b.Message("@alice", "~ops", tc.text))
				synctest.Wait()
				// The handler is running (the listener's case would
				// otherwise pass with no handler at all).
				if got := tp.heard.Load(); got != tc.wantHeard {
					t.Fatalf("listener ran %d times, want %d", got, tc.wantHeard)
				}
				for i, s := range tc.steps {
					advance(s.after)
					if got := b.Backend.TypingCount(); got != s.want {
						t.Fatalf("step %d (+%v): TypingCount() = %d, want %d", i, s.after, got, s.want)
					}
				}
				close(tp.release)
				<-done
				before := b.Backend.TypingCount()
				advance(time.Minute)
				if got := b.Backend.TypingCount(); got != before {
					t.Errorf("TypingCount() = %d a minute after the handler returned, want %d (stopped)", got, before)
				}
			})
		})
	}
}

// TestAutomaticTypingPausedByAsk: no typing indicator while the handler
// waits for the user's answer; it comes back at the next refresh once the
// answer is in and the handler still runs.
func TestAutomaticTypingPausedByAsk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := &typingPlugin{release: make(chan struct{})}
		b := bottest.NewWithOptions(t, &bot.Options{TypingAfter: time.Second, CommandTimeout: time.Hour}, tp)
		done := b.Post(b.Message("@alice", "~ops", "!confirm"))
		advance(10 * time.Second) // indicator due at 1 s, 5 s and 9 s: all skipped
		if got := b.Backend.TypingCount(); got != 0 {
			t.Fatalf("TypingCount() while asking = %d, want 0", got)
		}
		b.Post(b.Message("@alice", "~ops", "yes"))
		advance(bot.TypingRefresh) // the 13 s refresh
		if got := b.Backend.TypingCount(); got != 1 {
			t.Errorf("TypingCount() after the answer = %d, want 1", got)
		}
		close(tp.release)
		<-done
	})
}

// stuckTyper is a backend whose typing indicator call hangs until its
// context ends.
type stuckTyper struct {
	nullBackend
	calls     atomic.Int32
	cancelled atomic.Int32 // calls that ended by their context's cancellation
}

func (s *stuckTyper) Typing(ctx context.Context, roomID, threadID string) error {
	s.calls.Add(1)
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.Canceled) {
		s.cancelled.Add(1)
	}
	return ctx.Err()
}

// TestAutomaticTypingStopEndsCall: a handler that returns while the
// indicator's call to the backend hangs is not held up by it: the call's
// context is cancelled, and no further indicator is shown.
func TestAutomaticTypingStopEndsCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		be := &stuckTyper{nullBackend: nullBackend{ready: make(chan struct{})}}
		tp := &typingPlugin{release: make(chan struct{})}
		e, err := bot.New(be, &bot.Options{TypingAfter: time.Second, CommandTimeout: time.Hour}, tp)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- e.Run(ctx) }()
		<-be.ready
		m := &bot.Message{ID: "m1", From: bot.User{ID: "u-alice", Username: "alice"}, Room: bot.Room{ID: "r1", Name: "ops"}, Text: "!slow"}
		done := be.h.HandleMessage(m)
		advance(time.Second) // the indicator's call now hangs
		if got := be.calls.Load(); got != 1 {
			t.Fatalf("Typing calls after 1s = %d, want 1", got)
		}
		start := time.Now()
		close(tp.release)
		<-done
		// Had stopping waited for the call, the bubble's clock would have
		// jumped to the handler's deadline, an hour on.
		if waited := time.Since(start); waited != 0 {
			t.Errorf("handler took %v to finish after release, want 0", waited)
		}
		if got := be.cancelled.Load(); got != 1 {
			t.Errorf("Typing calls cancelled = %d, want 1", got)
		}
		advance(time.Minute)
		if got := be.calls.Load(); got != 1 {
			t.Errorf("Typing calls a minute after the handler returned = %d, want 1", got)
		}
		if got := be.sent.Load(); got != 1 {
			t.Errorf("replies sent = %d, want 1", got)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}
