package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// bubbleStart is when the fake clock of a synctest bubble starts.
var bubbleStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// since returns the fake time elapsed in the bubble, for readable wants.
func since() time.Duration { return time.Since(bubbleStart) }

// runLog records when each run of a job started, in bubble time.
type runLog struct {
	mu   sync.Mutex
	runs []time.Duration
}

func (l *runLog) add() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, since())
}

func (l *runLog) get() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.runs...)
}

func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs runLog
		p := plug{"poll", func(p *bot.Plugin) error {
			p.Every(time.Minute, func(ctx context.Context) error {
				runs.add()
				return p.Send(ctx, "~ops", bot.Outgoing{Text: fmt.Sprintf("poll at %v", since())})
			})
			return nil
		}}
		b := bottest.New(t, p)
		if got := b.Advance(59 * time.Second); len(got) != 0 {
			t.Errorf("after 59s: replies %q, want none", bottest.Texts(got))
		}
		if got, want := bottest.Texts(b.Advance(time.Second)), []string{"poll at 1m0s"}; !cmp.Equal(got, want) {
			t.Errorf("after 1m: replies %q, want %q", got, want)
		}
		if got, want := bottest.Texts(b.Advance(2*time.Minute)), []string{"poll at 2m0s", "poll at 3m0s"}; !cmp.Equal(got, want) {
			t.Errorf("after 3m: replies %q, want %q", got, want)
		}
		if got, want := runs.get(), []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}; !cmp.Equal(got, want) {
			t.Errorf("runs at %v, want %v", got, want)
		}
	})
}

func TestEveryNeverOverlaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs runLog
		var running, peak atomic.Int32
		p := plug{"slow", func(p *bot.Plugin) error {
			p.Every(time.Minute, func(ctx context.Context) error {
				runs.add()
				n := running.Add(1)
				defer running.Add(-1)
				peak.Store(max(peak.Load(), n))
				select { // a run that takes 2.5 intervals
				case <-time.After(150 * time.Second):
				case <-ctx.Done():
				}
				return nil
			})
			return nil
		}}
		b := bottest.New(t, p)
		b.Advance(10 * time.Minute)
		// Runs at 1m (until 3m30s), then at the next tick, 4m (until
		// 6m30s), then 7m, then 10m.
		want := []time.Duration{time.Minute, 4 * time.Minute, 7 * time.Minute, 10 * time.Minute}
		if got := runs.get(); !cmp.Equal(got, want) {
			t.Errorf("runs at %v, want %v", got, want)
		}
		if got := peak.Load(); got != 1 {
			t.Errorf("at most %d runs at once, want 1", got)
		}
	})
}

func TestCron(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble starts on Saturday 2000-01-01 00:00 UTC.
		var every5, weekdays, paris runLog
		p := plug{"cron", func(p *bot.Plugin) error {
			p.Cron("*/5 * * * *", func(ctx context.Context) error { every5.add(); return nil })
			p.Cron("30 9 * * MON-FRI", func(ctx context.Context) error { weekdays.add(); return nil })
			p.Cron("0 9 * * *", func(ctx context.Context) error { paris.add(); return nil })
			return nil
		}}
		// Options.Location applies to every cron spec; the first two read
		// the same in UTC+1 up to the shift of an hour.
		b := bottest.NewWithOptions(t, &bot.Options{Location: time.FixedZone("CET", 3600)}, p)
		b.Advance(17 * time.Minute)
		if got, want := every5.get(), []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute}; !cmp.Equal(got, want) {
			t.Errorf("*/5: runs at %v, want %v", got, want)
		}
		b.Advance(4 * 24 * time.Hour)
		// Monday 2000-01-03 09:30 CET is 08:30 UTC, 2 days 8h30m in.
		if got, want := weekdays.get(), []time.Duration{56*time.Hour + 30*time.Minute, 80*time.Hour + 30*time.Minute}; !cmp.Equal(got, want) {
			t.Errorf("30 9 * * MON-FRI: runs at %v, want %v", got, want)
		}
		if got, want := paris.get(), []time.Duration{8 * time.Hour, 32 * time.Hour, 56 * time.Hour, 80 * time.Hour}; !cmp.Equal(got, want) {
			t.Errorf("0 9 * * * (CET): runs at %v, want %v", got, want)
		}
	})
}

func TestCronNeverAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		p := plug{"feb30", func(p *bot.Plugin) error {
			p.Cron("0 0 30 2 *", func(ctx context.Context) error { t.Error("February 30th came"); return nil })
			return nil
		}}
		bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
		synctest.Wait()
		if l := logs.String(); !strings.Contains(l, `msg="schedule has no next time; stopped" plugin=feb30 schedule="cron 0 0 30 2 *"`) {
			t.Errorf("log = %s\nwant the schedule's end", l)
		}
	})
}

func TestScheduleErrorsAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		var n atomic.Int32
		p := plug{"flaky", func(p *bot.Plugin) error {
			p.Every(time.Hour, func(ctx context.Context) error {
				switch n.Add(1) {
				case 1:
					panic("poller exploded")
				case 2:
					return errors.New("upstream is down")
				}
				return p.Send(ctx, "~ops", bot.Outgoing{Text: "fine"})
			})
			p.Command("ping", reply("pong"))
			return nil
		}}
		b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
		if got, want := bottest.Texts(b.Advance(3*time.Hour)), []string{"fine"}; !cmp.Equal(got, want) {
			t.Errorf("replies %q, want %q", got, want)
		}
		if got := n.Load(); got != 3 {
			t.Errorf("%d runs after a panic and an error, want 3", got)
		}
		if got := bottest.Texts(b.Say("!ping")); !cmp.Equal(got, []string{"pong"}) {
			t.Errorf("after the panic: Say(!ping) = %q, want pong", got)
		}
		l := logs.String()
		for _, w := range []string{
			`level=ERROR msg="scheduled job panicked" plugin=flaky schedule="every 1h0m0s" panic="poller exploded" stack=`,
			`level=WARN msg="scheduled job failed" plugin=flaky schedule="every 1h0m0s" err="upstream is down"`,
		} {
			if !strings.Contains(l, w) {
				t.Errorf("log does not contain %q:\n%s", w, l)
			}
		}
	})
}

// TestScheduleLifecycle checks that schedules start on activation (after
// the OnActivate hooks), stop on deactivation (before the OnDeactivate
// hooks, their context cancelled and the run joined), and stop at
// shutdown.
func TestScheduleLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var events []string
		event := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("%v ", since())+fmt.Sprintf(format, args...))
		}
		p := plug{"life", func(p *bot.Plugin) error {
			p.OnActivate(func(ctx context.Context) error { event("activate"); return nil })
			p.OnDeactivate(func(ctx context.Context) error { event("deactivate"); return nil })
			p.Every(time.Minute, func(ctx context.Context) error {
				event("run")
				select { // runs for 30s, unless stopped
				case <-time.After(30 * time.Second):
					event("run done")
				case <-ctx.Done():
					event("run stopped: %v", ctx.Err())
				}
				return ctx.Err()
			})
			return nil
		}}
		be := bottest.NewBackend()
		e, err := bot.New(be, &bot.Options{Inactive: []string{"life"}}, p)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		stopped := make(chan error, 1)
		go func() { stopped <- e.Run(ctx) }()
		<-be.Ready()
		time.Sleep(5 * time.Minute) // inactive: nothing runs
		if err := e.Activate(ctx, "life"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(70 * time.Second) // a run at 6m, in progress at 6m10s
		if err := e.Deactivate(ctx, "life"); err != nil {
			t.Fatal(err)
		}
		event("deactivated")
		time.Sleep(5 * time.Minute)
		if err := e.Activate(ctx, "life"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60*time.Second + 10*time.Second) // a run at 12m10s, in progress at 12m20s
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		event("run returned")
		want := []string{
			"5m0s activate",
			"6m0s run", "6m10s run stopped: context canceled", "6m10s deactivate", "6m10s deactivated",
			"11m10s activate",
			"12m10s run", "12m20s run stopped: context canceled", "12m20s deactivate", "12m20s run returned",
		}
		if diff := cmp.Diff(want, events); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestScheduleDeclarationErrors(t *testing.T) {
	nop := func(context.Context) error { return nil }
	tests := []struct {
		name  string
		setup func(p *bot.Plugin)
		want  string
	}{
		{"zero interval", func(p *bot.Plugin) { p.Every(0, nop) }, `bot: plugin a: Every(0s): the interval must be positive`},
		{"negative interval", func(p *bot.Plugin) { p.Every(-time.Second, nop) }, `bot: plugin a: Every(-1s): the interval must be positive`},
		{"nil job", func(p *bot.Plugin) { p.Every(time.Second, nil) }, `bot: plugin a: Every(1s): nil handler`},
		{"nil cron job", func(p *bot.Plugin) { p.Cron("* * * * *", nil) }, `bot: plugin a: Cron("* * * * *"): nil handler`},
		{"four fields", func(p *bot.Plugin) { p.Cron("* * * *", nop) }, `bot: plugin a: Cron("* * * *"): want 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"seconds", func(p *bot.Plugin) { p.Cron("0 * * * * *", nop) }, `bot: plugin a: Cron("0 * * * * *"): want 5 fields`},
		{"empty", func(p *bot.Plugin) { p.Cron("", nop) }, `bot: plugin a: Cron(""): want 5 fields (minute hour day-of-month month day-of-week), got 0`},
		{"minute out of range", func(p *bot.Plugin) { p.Cron("61 * * * *", nop) }, `bot: plugin a: Cron("61 * * * *"): syntax error in minute field: '61'`},
		{"bad month", func(p *bot.Plugin) { p.Cron("0 0 1 FOO *", nop) }, `bot: plugin a: Cron("0 0 1 FOO *"): syntax error in month field: 'FOO'`},
		{"unknown descriptor", func(p *bot.Plugin) { p.Cron("@reboot", nop) }, `bot: plugin a: Cron("@reboot"): unknown descriptor @reboot`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.New(bottest.NewBackend(), nil, plug{"a", func(p *bot.Plugin) error { tc.setup(p); return nil }})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSchedulesListed(t *testing.T) {
	nop := func(context.Context) error { return nil }
	e, err := bot.New(bottest.NewBackend(), nil, plug{"a", func(p *bot.Plugin) error {
		p.Every(90*time.Second, nop)
		p.Cron("@daily", nop)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range e.Schedules() {
		got = append(got, s.Plugin+": "+s.String())
	}
	if want := []string{"a: every 1m30s", "a: cron @daily"}; !cmp.Equal(got, want) {
		t.Errorf("Schedules() = %q, want %q", got, want)
	}
}
