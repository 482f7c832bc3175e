package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/storage/memory"
)

// remind is the plugin of the timer tests: "!remind 10m tea" replies
// "tea" in the command's thread 10 minutes later; "!remind-dm 10m tea"
// does it in private; "!reminders" lists the pending ones; "!forget ID"
// cancels one.
type remind struct {
	p *bot.Plugin
}

type remindArgs struct {
	In   time.Duration `arg:""`
	What string        `arg:""`
}

func (r *remind) Setup(p *bot.Plugin) error {
	r.p = p
	p.OnTimer("remind", func(ctx context.Context, t *bot.Timer) error {
		var what string
		if err := t.Decode(&what); err != nil {
			return err
		}
		return t.Reply(ctx, "reminder: "+what)
	})
	set := func(ctx context.Context, req *bot.Request, a remindArgs) error {
		t, err := req.After(a.In, "remind", a.What)
		if err != nil {
			return err
		}
		return req.Reply("ok " + t.ID)
	}
	bot.Command(p, "remind", set)
	bot.Command(p, "remind-dm", set).Private()
	p.Command("reminders", bot.Text(func(ctx context.Context, req *bot.Request) (string, error) {
		ts, err := p.Timers(ctx)
		var lines []string
		for _, t := range ts {
			lines = append(lines, string(t.Payload)+" at "+t.Due.Sub(bubbleStart).String())
		}
		return strings.Join(lines, "\n"), err
	}))
	p.Command("forget", func(ctx context.Context, req *bot.Request) error {
		if err := p.CancelTimer(ctx, req.Args); err != nil {
			return err
		}
		return req.Reply("forgotten")
	})
	return nil
}

// setReminder says cmd and returns the id of the timer it set.
func setReminder(t *testing.T, b *bottest.Bot, m *bot.Message) string {
	t.Helper()
	got := bottest.Texts(b.Deliver(m))
	if len(got) != 1 || !strings.HasPrefix(got[0], "ok ") {
		t.Fatalf("%q: replies %q, want ok and the timer id", m.Text, got)
	}
	return strings.TrimPrefix(got[0], "ok ")
}

func TestTimerFiresOnceInItsThread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.New(t, &remind{})
		m := b.Message("@alice", "~ops", "!remind 10m tea")
		m.ThreadID = "root-1"
		setReminder(t, b, m)
		setReminder(t, b, b.Message("@bob", "", "!remind 5m coffee"))
		if got, want := bottest.Texts(b.Say("!reminders")), []string{`"coffee" at 5m0s` + "\n" + `"tea" at 10m0s`}; !cmp.Equal(got, want) {
			t.Errorf("reminders: %q, want %q", got, want)
		}

		want := []bottest.Reply{{To: "@bob", RoomID: "dm-u-bob", Direct: true, Text: "reminder: coffee"}}
		if diff := cmp.Diff(want, b.Advance(5*time.Minute)); diff != "" {
			t.Errorf("after 5m (-want +got):\n%s", diff)
		}
		if got := b.Advance(5*time.Minute - time.Second); len(got) != 0 {
			t.Errorf("after 9m59s: %v, want nothing", got)
		}
		want = []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root-1", Text: "reminder: tea"}}
		if diff := cmp.Diff(want, b.Advance(time.Second)); diff != "" {
			t.Errorf("after 10m (-want +got):\n%s", diff)
		}
		if got := b.Advance(24 * time.Hour); len(got) != 0 {
			t.Errorf("a day later: %v, want nothing (delivered once)", got)
		}
		if got := bottest.Texts(b.Say("!reminders")); len(got) != 0 {
			t.Errorf("reminders after delivery: %q, want none", got)
		}
	})
}

func TestTimerPrivateCommandRepliesInPrivate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.New(t, &remind{})
		got := b.SayAs("@carol", "~ops", "!remind-dm 1h stretch")
		if len(got) != 1 || !got[0].Direct {
			t.Fatalf("replies %v, want one direct message", got)
		}
		want := []bottest.Reply{{To: "@carol", RoomID: "dm-u-carol", Direct: true, Text: "reminder: stretch"}}
		if diff := cmp.Diff(want, b.Advance(time.Hour)); diff != "" {
			t.Errorf("after 1h (-want +got):\n%s", diff)
		}
	})
}

// TestTimerSurvivesRestart stops the bot with a reminder pending and
// starts another engine on the same storage: it delivers the reminder
// once, at its time, in its thread; a third engine delivers nothing.
func TestTimerSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		opts := &bot.Options{Storage: st}
		b := bottest.NewWithOptions(t, opts, &remind{})
		m := b.Message("@alice", "~ops", "!remind 10m tea")
		m.ThreadID = "root-1"
		setReminder(t, b, m)
		b.Advance(time.Minute)
		b.Stop()

		b = bottest.NewWithOptions(t, opts, &remind{})
		if got := b.Advance(9*time.Minute - time.Second); len(got) != 0 {
			t.Errorf("restarted, before the time: %v, want nothing", got)
		}
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root-1", Text: "reminder: tea"}}
		if diff := cmp.Diff(want, b.Advance(time.Second)); diff != "" {
			t.Errorf("restarted, at the time (-want +got):\n%s", diff)
		}
		b.Stop()

		b = bottest.NewWithOptions(t, opts, &remind{})
		if got := b.Advance(24 * time.Hour); len(got) != 0 {
			t.Errorf("restarted again: %v, want nothing (delivered once)", got)
		}
	})
}

// TestTimerDueWhileDown: a reminder that fell due while the bot was down
// fires once, as soon as the next engine has connected.
func TestTimerDueWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		opts := &bot.Options{Storage: st}
		b := bottest.NewWithOptions(t, opts, &remind{})
		m := b.Message("@alice", "~ops", "!remind 10m tea")
		m.ThreadID = "root-1"
		setReminder(t, b, m)
		b.Stop()
		time.Sleep(time.Hour) // the bot is down

		b = bottest.NewWithOptions(t, opts, &remind{})
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root-1", Text: "reminder: tea"}}
		if diff := cmp.Diff(want, b.Advance(0)); diff != "" {
			t.Errorf("at start (-want +got):\n%s", diff)
		}
		if got := b.Advance(24 * time.Hour); len(got) != 0 {
			t.Errorf("later: %v, want nothing (delivered once)", got)
		}
	})
}

// TestTimerTwoEnginesOneStorage runs two engines on one storage, both
// knowing the timer: one of them delivers it.
func TestTimerTwoEnginesOneStorage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		opts := &bot.Options{Storage: st}
		b1 := bottest.NewWithOptions(t, opts, &remind{})
		setReminder(t, b1, b1.Message("@alice", "~ops", "!remind 10m tea"))
		b2 := bottest.NewWithOptions(t, opts, &remind{}) // loads the timer at start
		got := append(b1.Advance(10*time.Minute), b2.Replies()...)
		if want := []string{"reminder: tea"}; !cmp.Equal(bottest.Texts(got), want) {
			t.Errorf("both engines: %q, want %q (once)", bottest.Texts(got), want)
		}
	})
}

func TestTimerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r remind
		b := bottest.New(t, &r)
		id := setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		if got, want := bottest.Texts(b.Say("!forget "+id)), []string{"forgotten"}; !cmp.Equal(got, want) {
			t.Errorf("forget: %q, want %q", got, want)
		}
		if got := b.Advance(time.Hour); len(got) != 0 {
			t.Errorf("after a cancelled timer's time: %v, want nothing", got)
		}
		err := r.p.CancelTimer(context.Background(), id)
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("CancelTimer of a cancelled timer = %v, want ErrNotFound", err)
		}
	})
}

// TestTimerWhileInactive: a timer due while its plugin is deactivated
// fires when it is activated again.
func TestTimerWhileInactive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.New(t, &remind{})
		setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		ctx := context.Background()
		if err := b.Engine.Deactivate(ctx, "remind"); err != nil {
			t.Fatal(err)
		}
		if got := b.Advance(time.Hour); len(got) != 0 {
			t.Errorf("while inactive: %v, want nothing", got)
		}
		if err := b.Engine.Activate(ctx, "remind"); err != nil {
			t.Fatal(err)
		}
		if got, want := bottest.Texts(b.Advance(0)), []string{"reminder: tea"}; !cmp.Equal(got, want) {
			t.Errorf("activated: %q, want %q", got, want)
		}
	})
}

func TestTimerErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r remind
		bb := bottest.New(t, &r)
		ctx := context.Background()
		if _, err := r.p.After(ctx, time.Minute, "nope", nil); err == nil || !strings.Contains(err.Error(), `timer "nope" has no handler`) {
			t.Errorf("After with an unknown name = %v, want no handler", err)
		}
		if _, err := r.p.SetTimer(ctx, bot.Timer{Name: "remind"}); err == nil || !strings.Contains(err.Error(), "no due time") {
			t.Errorf("SetTimer without Due = %v, want no due time", err)
		}
		if _, err := r.p.SetTimer(ctx, bot.Timer{Name: "remind", Due: time.Now(), ID: "x"}); err == nil {
			t.Error("SetTimer with an ID succeeded, want an error")
		}
		if _, err := r.p.After(ctx, time.Minute, "remind", func() {}); err == nil {
			t.Error("After with a payload JSON cannot encode succeeded, want an error")
		}
		// A timer set outside a request has nowhere to reply: the
		// handler's error is logged, nothing is sent.
		if _, err := r.p.After(ctx, time.Minute, "remind", "x"); err != nil {
			t.Fatal(err)
		}
		if got := bb.Advance(time.Minute); len(got) != 0 {
			t.Errorf("timer without a room: sent %v, want nothing", got)
		}
	})

	for _, tc := range []struct {
		name  string
		setup func(p *bot.Plugin)
		want  string
	}{
		{"twice", func(p *bot.Plugin) {
			p.OnTimer("x", func(context.Context, *bot.Timer) error { return nil })
			p.OnTimer("x", func(context.Context, *bot.Timer) error { return nil })
		}, `OnTimer("x"): declared twice`},
		{"nil", func(p *bot.Plugin) { p.OnTimer("x", nil) }, `OnTimer("x"): nil handler`},
		{"empty name", func(p *bot.Plugin) {
			p.OnTimer("", func(context.Context, *bot.Timer) error { return nil })
		}, "OnTimer: empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.New(bottest.NewBackend(), nil, plug{"t", func(p *bot.Plugin) error { tc.setup(p); return nil }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTimerHandlerDropped: a stored timer whose handler the plugin no
// longer declares is kept, with a warning, and fires again once a
// version of the plugin declares it.
func TestTimerHandlerDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		b := bottest.NewWithOptions(t, &bot.Options{Storage: st}, &remind{})
		setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		b.Stop()

		var logs syncBuffer
		b = bottest.NewWithOptions(t, &bot.Options{Storage: st, Logger: logger(&logs)}, plug{"remind", func(p *bot.Plugin) error {
			p.OnTimer("other", func(context.Context, *bot.Timer) error { return nil })
			return nil
		}})
		if got := b.Advance(time.Hour); len(got) != 0 {
			t.Errorf("without the handler: %v, want nothing", got)
		}
		if !strings.Contains(logs.String(), "stored timer has no handler; kept") || !strings.Contains(logs.String(), "timer=remind") {
			t.Errorf("log %q, want a warning naming the timer", logs.String())
		}
		b.Stop()

		b = bottest.NewWithOptions(t, &bot.Options{Storage: st}, &remind{})
		if got, want := bottest.Texts(b.Advance(0)), []string{"reminder: tea"}; !cmp.Equal(got, want) {
			t.Errorf("handler back: %q, want %q", got, want)
		}
	})
}

// lateBackend connects only when release is closed, and refuses to send
// before. Like a real backend, it can send from HandleConnect on (an
// OnConnect hook may), before bottest's Ready.
type lateBackend struct {
	*bottest.Backend
	release chan struct{}
}

func (l lateBackend) Run(ctx context.Context, h bot.Handler) error {
	select {
	case <-l.release:
	case <-ctx.Done():
		return nil
	}
	return l.Backend.Run(ctx, h)
}

func (l lateBackend) Send(ctx context.Context, out *bot.Outgoing) error {
	select {
	case <-l.release:
		return l.Backend.Send(ctx, out)
	default:
		return errors.New("not connected")
	}
}

// TestTimerWaitsForConnection: a timer due at start waits for the
// backend to connect before it fires.
func TestTimerWaitsForConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		b := bottest.NewWithOptions(t, &bot.Options{Storage: st}, &remind{})
		setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		b.Stop()
		time.Sleep(time.Hour)

		var logs syncBuffer
		be := lateBackend{Backend: bottest.NewBackend(), release: make(chan struct{})}
		e, err := bot.New(be, &bot.Options{Storage: st, Logger: logger(&logs)}, &remind{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := be.Sent(); len(got) != 0 {
			t.Errorf("before connecting: sent %v, want nothing", got)
		}
		close(be.release)
		<-be.Ready()
		synctest.Wait()
		if got, want := bottest.Texts(be.Sent()), []string{"reminder: tea"}; !cmp.Equal(got, want) {
			t.Errorf("connected: sent %q, want %q (log: %s)", got, want, logs.String())
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

// TestTimerAfterStuckDeactivation: a timer handler that ignores its
// context outlives a deactivation that gave up waiting for it; the loop
// of the next activation keeps working when the old one ends.
func TestTimerAfterStuckDeactivation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var tp *bot.Plugin
		b := bottest.New(t, plug{"stuck", func(p *bot.Plugin) error {
			tp = p
			p.OnTimer("block", func(context.Context, *bot.Timer) error {
				<-release // ignores its context
				return nil
			})
			p.OnTimer("ping", func(ctx context.Context, _ *bot.Timer) error {
				return p.Send(ctx, "~ops", bot.Outgoing{Text: "ping"})
			})
			return nil
		}})
		ctx := context.Background()
		if _, err := tp.After(ctx, 0, "block", nil); err != nil {
			t.Fatal(err)
		}
		b.Advance(0)
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := b.Engine.Deactivate(dctx, "stuck"); err == nil {
			t.Fatal("Deactivate with a stuck timer handler = nil, want an error")
		}
		if err := b.Engine.Activate(ctx, "stuck"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the new loop waits for timers
		close(release)  // the old loop ends now
		b.Advance(0)
		if _, err := tp.After(ctx, time.Minute, "ping", nil); err != nil {
			t.Fatal(err)
		}
		if got, want := bottest.Texts(b.Advance(time.Minute)), []string{"ping"}; !cmp.Equal(got, want) {
			t.Errorf("timer set after the reactivation: sent %q, want %q", got, want)
		}
	})
}

// flakyStorage is a storage whose timer stores fail the first fails
// updates and the first keyFails listings.
type flakyStorage struct {
	bot.Storage
	fails, keyFails atomic.Int32
}

func (f *flakyStorage) Store(name string) bot.Store {
	s := f.Storage.Store(name)
	if strings.HasSuffix(name, ":timers") {
		return flakyStore{Store: s, fails: &f.fails, keyFails: &f.keyFails}
	}
	return s
}

type flakyStore struct {
	bot.Store
	fails, keyFails *atomic.Int32
}

func (f flakyStore) Keys(ctx context.Context, prefix string) ([]string, error) {
	if f.keyFails.Add(-1) >= 0 {
		return nil, errors.New("database is locked")
	}
	return f.Store.Keys(ctx, prefix)
}

func (f flakyStore) Update(ctx context.Context, key string, fn func([]byte, bool) ([]byte, error)) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("database is locked")
	}
	return f.Store.Update(ctx, key, fn)
}

// TestTimerClaimFails: a timer whose claim fails (the store errs) fires
// when the store works again, a minute later, not only after a restart.
func TestTimerClaimFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &flakyStorage{Storage: memory.New()}
		var logs syncBuffer
		b := bottest.NewWithOptions(t, &bot.Options{Storage: st, Logger: logger(&logs)}, &remind{})
		setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		st.fails.Store(1)
		if got := b.Advance(10 * time.Minute); len(got) != 0 {
			t.Errorf("claim failed: sent %v, want nothing yet", got)
		}
		if w := `msg="timer not claimed; retrying" plugin=remind timer_id=`; !strings.Contains(logs.String(), w) {
			t.Errorf("log does not contain %s:\n%s", w, logs.String())
		}
		if got, want := bottest.Texts(b.Advance(time.Minute)), []string{"reminder: tea"}; !cmp.Equal(got, want) {
			t.Errorf("a minute later: sent %q, want %q", got, want)
		}
		if got := b.Advance(time.Hour); len(got) != 0 {
			t.Errorf("later: sent %v, want nothing (delivered once)", got)
		}
	})
}

// TestTimerLoadFails: when the stored timers cannot be listed at start,
// the loop tries again, and the timer fires at its time.
func TestTimerLoadFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &flakyStorage{Storage: memory.New()}
		b := bottest.NewWithOptions(t, &bot.Options{Storage: st}, &remind{})
		setReminder(t, b, b.Message("@alice", "~ops", "!remind 10m tea"))
		b.Stop()

		st.keyFails.Store(1)
		var logs syncBuffer
		b = bottest.NewWithOptions(t, &bot.Options{Storage: st, Logger: logger(&logs)}, &remind{})
		synctest.Wait()
		if w := `msg="timers not loaded; retrying" plugin=remind retry_in=1m0s err="bot: plugin remind: list timers: database is locked"`; !strings.Contains(logs.String(), w) {
			t.Errorf("log does not contain %s:\n%s", w, logs.String())
		}
		if got, want := bottest.Texts(b.Advance(10*time.Minute)), []string{"reminder: tea"}; !cmp.Equal(got, want) {
			t.Errorf("at its time: sent %q, want %q", got, want)
		}
	})
}
