package bot_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// runs records what the engine tells its Observer.
type runs struct {
	mu  sync.Mutex
	got []bot.CommandRun
}

func (r *runs) ObserveCommand(c bot.CommandRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, c)
}

// take returns the runs recorded since the last take.
func (r *runs) take() []bot.CommandRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// TestObserveCommand: every command and listener run is reported once,
// with its outcome and how long its handler ran, and logged in one line
// at Info with the same request id as the reply to an internal error.
func TestObserveCommand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		started := make(chan struct{})
		p := plug{"obs", func(p *bot.Plugin) error {
			p.Command("ok", func(ctx context.Context, req *bot.Request) error {
				time.Sleep(3 * time.Second) // the fake clock of synctest
				return req.Reply("fine")
			})
			p.Command("usage", func(ctx context.Context, req *bot.Request) error { return bot.Usagef("give a service") })
			p.Command("user", func(ctx context.Context, req *bot.Request) error { return bot.UserErrorf("nothing to roll back") })
			p.Command("internal", func(ctx context.Context, req *bot.Request) error { return errors.New("db down") })
			p.Command("boom", func(ctx context.Context, req *bot.Request) error { panic("kaboom") })
			p.Command("admin", reply("done")).AdminOnly()
			p.Command("slow", func(ctx context.Context, req *bot.Request) error {
				<-ctx.Done()
				return ctx.Err()
			}).Timeout(time.Minute)
			p.Command("block", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-gate
				return nil
			})
			p.Command("empty", func(ctx context.Context, req *bot.Request) error { return req.Reply("") })
			p.Listen(`(?i)\bcoffee\b`, reply("☕"))
			return nil
		}}
		var obs runs
		var logs syncBuffer
		b := bottest.NewWithOptions(t, &bot.Options{Observer: &obs, Logger: logger(&logs),
			MaxConcurrent: 1, MaxQueue: 1}, p)

		type run struct {
			Command  string
			Listener bool
			Outcome  bot.Outcome
			Duration time.Duration
		}
		tests := []struct {
			say  string
			want run
		}{
			{"!ok", run{"ok", false, bot.OutcomeOK, 3 * time.Second}},
			{"!usage", run{"usage", false, bot.OutcomeUsage, 0}},
			{"!user", run{"user", false, bot.OutcomeError, 0}},
			{"!internal", run{"internal", false, bot.OutcomeError, 0}},
			{"!boom", run{"boom", false, bot.OutcomeError, 0}},
			{"!admin", run{"admin", false, bot.OutcomeDenied, 0}},
			{"!slow", run{"slow", false, bot.OutcomeTimeout, time.Minute}},
			{"!empty", run{"empty", false, bot.OutcomeError, 0}},
			{"coffee?", run{"listen", true, bot.OutcomeOK, 0}},
		}
		for _, tc := range tests {
			replies := b.SayAs("@bob", "~ops", tc.say)
			got := obs.take()
			if len(got) != 1 {
				t.Errorf("%s: %d runs reported, want 1: %+v", tc.say, len(got), got)
				continue
			}
			c := got[0]
			if diff := cmp.Diff(tc.want, run{c.Command, c.Listener, c.Outcome, c.Duration}); diff != "" {
				t.Errorf("%s: run mismatch (-want +got):\n%s", tc.say, diff)
			}
			if c.Plugin != "obs" || c.Message == nil || c.Message.Text != tc.say || !regexp.MustCompile(`^[0-9a-f]{6}$`).MatchString(c.RequestID()) {
				t.Errorf("%s: run = %+v, want plugin obs, the message, a request id", tc.say, c)
			}
			line := `level=INFO msg=command request_id=` + c.RequestID() + ` plugin=obs command=` + c.Command +
				` outcome=` + string(c.Outcome) + ` duration=` + c.Duration.String() + ` user_id=u-bob user=bob room_id=r-ops room=ops`
			if n := strings.Count(logs.String(), line); n != 1 {
				t.Errorf("%s: %d log lines with %q, want 1:\n%s", tc.say, n, line, logs.String())
			}
			if ref := refRE.FindString(strings.Join(texts(replies), "")); ref != "" && ref != "(ref "+c.RequestID()+")" {
				t.Errorf("%s: reply has %s, want the request id %s", tc.say, ref, c.RequestID())
			}
		}

		// One running, one queued, the third is refused.
		d1 := b.Post(b.Message("@alice", "~ops", "!block"))
		<-started
		d2 := b.Post(b.Message("@bob", "~ops", "!block"))
		synctest.Wait()
		b.Deliver(b.Message("@carol", "~ops", "!block"))
		if got := obs.take(); len(got) != 1 || got[0].Outcome != bot.OutcomeBusy || got[0].Message.From.Username != "carol" {
			t.Errorf("queue full: runs %+v, want carol's busy", got)
		}
		close(gate)
		<-started
		<-d1
		<-d2
		if got := obs.take(); len(got) != 2 || got[0].Outcome != bot.OutcomeOK || got[1].Outcome != bot.OutcomeOK {
			t.Errorf("after the gate: runs %+v, want two ok", got)
		}

		// Replies sent: fine, the usage, the user error, three sorries
		// (internal, boom, empty), the refusal, the timeout, the coffee
		// and the busy notice; failed: the empty one.
		if st := b.Engine.Stats(); st.RepliesSent != 10 || st.RepliesFailed != 1 {
			t.Errorf("Stats() = %+v, want 10 replies sent and 1 failed", st)
		}
	})
}

// TestObserverNil: without an Observer, and with the log at Warn, a
// command runs as before (the default is nobody).
func TestObserverNil(t *testing.T) {
	b := bottest.New(t, plug{"obs", func(p *bot.Plugin) error {
		p.Command("ok", reply("fine"))
		return nil
	}})
	if got := texts(b.Say("!ok")); !cmp.Equal(got, []string{"fine"}) {
		t.Errorf("Say(!ok) = %q, want fine", got)
	}
}
