package bot

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// One-shot timers.
//
// A timer is kept in the plugin's timer store (Options.Storage, under the
// name "PLUGIN:timers", which no plugin can have), so it survives a
// restart. Its handler cannot be stored: the plugin registers it under a
// name in Setup (OnTimer), and the stored timer names it. While the
// plugin is active and the backend has connected, one goroutine per
// plugin (started with its schedules) sleeps until the next timer is due.
// Firing claims the timer by deleting it from the store (Store.Update),
// then runs its handler: of two engines on one storage, or a fire and a
// cancel, exactly one wins, and a timer is never delivered twice. The
// price is that a crash while the handler runs loses that timer. A claim
// that fails (the store errs) is tried again a minute later, and so is
// the loop's load of the stored timers.

// TimerFunc handles a one-shot timer that fell due (see Plugin.OnTimer).
// ctx is cancelled after Options.CommandTimeout, when the plugin is
// deactivated, or when the engine shuts down. An error is logged; the
// timer is not retried.
type TimerFunc func(ctx context.Context, t *Timer) error

// Timer is a one-shot timer, as stored: set with Plugin.After, Plugin.At,
// Request.After, Request.At or Plugin.SetTimer, handed to its handler
// when due, and listed by Plugin.Timers.
type Timer struct {
	// ID identifies the timer in its plugin (Plugin.CancelTimer). Set
	// when the timer is set.
	ID string `json:"id"`
	// Name is the name of the handler, registered with Plugin.OnTimer.
	Name string `json:"name"`
	// Due is when the timer fires. A timer that fell due while the bot
	// was down, or its plugin inactive, fires as soon as the plugin is
	// active and the backend has connected.
	Due time.Time `json:"due"`
	// Payload is the value given when the timer was set, as JSON; read it
	// with Decode.
	Payload json.RawMessage `json:"payload,omitempty"`
	// RoomID and ThreadID are where Reply and Post send: for a timer set
	// from a request, where the request's replies go. Empty RoomID:
	// Reply sends a direct message to UserID.
	RoomID   string `json:"room_id,omitempty"`
	ThreadID string `json:"thread_id,omitempty"`
	// UserID is the user the timer is for: the author of the request
	// that set it.
	UserID string `json:"user_id,omitempty"`

	plugin *Plugin
}

// Decode decodes the timer's payload into v, as encoding/json does.
func (t *Timer) Decode(v any) error {
	if len(t.Payload) == 0 {
		return fmt.Errorf("bot: timer %s %q: no payload", t.Name, t.ID)
	}
	if err := json.Unmarshal(t.Payload, v); err != nil {
		return fmt.Errorf("bot: timer %s %q: decode payload: %w", t.Name, t.ID, err)
	}
	return nil
}

// Reply sends text (markdown) where the timer was set: its room and
// thread, or a direct message to its user. See Post.
func (t *Timer) Reply(ctx context.Context, text string) error {
	return t.Post(ctx, Outgoing{Text: text})
}

// Post sends out (text, card, file) where the timer was set: to RoomID
// in ThreadID, or, when RoomID is empty, to UserID as a direct message.
// The destination fields of out are replaced. It fails when the timer has
// neither a room nor a user.
func (t *Timer) Post(ctx context.Context, out Outgoing) error {
	if t.plugin == nil {
		return fmt.Errorf("bot: timer %s %q: not from an engine", t.Name, t.ID)
	}
	out.RoomID, out.UserID, out.ThreadID = t.RoomID, "", t.ThreadID
	if t.RoomID == "" {
		if t.UserID == "" {
			return fmt.Errorf("bot: timer %s %q: set with no room or user to reply to (use Plugin.Send)", t.Name, t.ID)
		}
		out.UserID, out.ThreadID = t.UserID, ""
	}
	if err := t.plugin.engine.backend.Send(ctx, &out); err != nil {
		return fmt.Errorf("bot: timer %s %q: send: %w", t.Name, t.ID, err)
	}
	return nil
}

// timers is a plugin's one-shot timer state.
type timers struct {
	handlers map[string]TimerFunc // declared in Setup; read-only afterwards
	store    Store                // the plugin's timer store; nil without handlers

	mu sync.Mutex
	// pending is the due time of the timers the running loop knows, by
	// id; nil when no loop runs. Guarded by mu.
	pending map[string]time.Time
	// wake tells the running loop that pending changed. Size 1: setting
	// a timer never blocks, and one signal covers many changes.
	wake chan struct{}
}

// timerStoreSuffix makes the name of a plugin's timer store: plugin
// names cannot contain ':', so it never is a plugin's own store.
const timerStoreSuffix = ":timers"

// OnTimer registers h as the handler of the one-shot timers named name
// that the plugin sets (After, At, SetTimer). The name is what is stored
// with a timer, so that it finds its handler again after a restart: keep
// it stable across versions of the plugin. A timer whose name has no
// handler (the plugin dropped it) stays stored, and a warning is logged
// when the plugin is activated. Call OnTimer from Setup.
//
//	p.OnTimer("remind", func(ctx context.Context, t *bot.Timer) error {
//		var what string
//		if err := t.Decode(&what); err != nil {
//			return err
//		}
//		return t.Reply(ctx, "reminder: "+what)
//	})
func (p *Plugin) OnTimer(name string, h TimerFunc) {
	switch {
	case name == "":
		p.errs = append(p.errs, errors.New("OnTimer: empty name"))
	case h == nil:
		p.errs = append(p.errs, fmt.Errorf("OnTimer(%q): %w", name, errNoHandler))
	case p.timers.handlers[name] != nil:
		p.errs = append(p.errs, fmt.Errorf("OnTimer(%q): declared twice", name))
	default:
		if p.timers.handlers == nil {
			p.timers.handlers = map[string]TimerFunc{}
		}
		p.timers.handlers[name] = h
	}
}

// After sets a one-shot timer: the handler registered as name (OnTimer)
// runs once, d from now, with payload (any value encoding/json can
// marshal, read back with Timer.Decode). The timer is stored, so it fires
// after a restart too; it has no room to reply to (see Request.After and
// SetTimer). After returns the timer as stored, with its ID.
func (p *Plugin) After(ctx context.Context, d time.Duration, name string, payload any) (Timer, error) {
	return p.At(ctx, time.Now().Add(d), name, payload)
}

// At is After with a time instead of a duration. A time in the past
// fires at once.
func (p *Plugin) At(ctx context.Context, due time.Time, name string, payload any) (Timer, error) {
	t := Timer{Name: name, Due: due}
	if err := t.setPayload(payload); err != nil {
		return Timer{}, err
	}
	return p.SetTimer(ctx, t)
}

// After sets a one-shot timer, as Plugin.After does, whose Reply goes
// where this request's replies go (its room and thread, or the author's
// direct messages for a private command), and whose UserID is the
// request's author.
//
//	t, err := req.After(10*time.Minute, "remind", "tea")
func (r *Request) After(d time.Duration, name string, payload any) (Timer, error) {
	return r.At(time.Now().Add(d), name, payload)
}

// At is Request.After with a time instead of a duration.
func (r *Request) At(due time.Time, name string, payload any) (Timer, error) {
	dest := r.destination()
	t := Timer{Name: name, Due: due, RoomID: dest.RoomID, ThreadID: dest.ThreadID, UserID: r.Message.From.ID}
	if err := t.setPayload(payload); err != nil {
		return Timer{}, err
	}
	return r.Plugin.SetTimer(r.ctx, t)
}

func (t *Timer) setPayload(payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("bot: timer %s: encode payload: %w", t.Name, err)
	}
	t.Payload = b
	return nil
}

// SetTimer stores t and arms it: the general form of After and At, for
// a timer that replies in a room of the plugin's choosing (RoomID,
// ThreadID) or to a user (UserID). Name and Due are required; ID is
// assigned, and must be empty. It returns the timer as stored.
func (p *Plugin) SetTimer(ctx context.Context, t Timer) (Timer, error) {
	switch {
	case p.timers.handlers[t.Name] == nil:
		return Timer{}, fmt.Errorf("bot: plugin %s: timer %q has no handler (declare it with OnTimer in Setup)", p.name, t.Name)
	case t.Due.IsZero():
		return Timer{}, fmt.Errorf("bot: plugin %s: timer %q: no due time", p.name, t.Name)
	case t.ID != "":
		return Timer{}, fmt.Errorf("bot: plugin %s: timer %q: ID %q is assigned by SetTimer", p.name, t.Name, t.ID)
	}
	t.ID = rand.Text()
	t.Due = t.Due.Round(0) // no monotonic reading: it does not survive a restart
	t.plugin = p
	if err := SetJSON(ctx, p.timers.store, t.ID, t); err != nil {
		return Timer{}, fmt.Errorf("bot: plugin %s: set timer %q: %w", p.name, t.Name, err)
	}
	p.timers.arm(t.ID, t.Due)
	return t, nil
}

// CancelTimer removes the pending timer with the given id, so that it
// never fires. It returns an error wrapping ErrNotFound when there is no
// such timer: it fired, was cancelled, or never existed.
func (p *Plugin) CancelTimer(ctx context.Context, id string) error {
	if p.timers.store == nil {
		return fmt.Errorf("bot: plugin %s: cancel timer %q: %w", p.name, id, ErrNotFound)
	}
	err := p.timers.store.Update(ctx, id, func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			return nil, ErrNotFound
		}
		return nil, nil // delete
	})
	if err != nil {
		return fmt.Errorf("bot: plugin %s: cancel timer %q: %w", p.name, id, err)
	}
	p.timers.disarm(id)
	return nil
}

// Timers returns the plugin's pending timers, the next due first.
func (p *Plugin) Timers(ctx context.Context) ([]Timer, error) {
	if p.timers.store == nil {
		return nil, nil
	}
	ts, err := p.loadTimers(ctx, nil)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b Timer) int { return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.ID, b.ID)) })
	return ts, nil
}

// loadTimers reads every stored timer. A value that cannot be read is
// passed to bad, or, when bad is nil, is an error.
func (p *Plugin) loadTimers(ctx context.Context, bad func(id string, err error)) ([]Timer, error) {
	keys, err := p.timers.store.Keys(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("bot: plugin %s: list timers: %w", p.name, err)
	}
	var ts []Timer
	for _, k := range keys {
		t, err := GetJSON[Timer](ctx, p.timers.store, k)
		if errors.Is(err, ErrNotFound) {
			continue // fired or cancelled meanwhile
		}
		if err != nil && bad != nil {
			bad(k, err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("bot: plugin %s: timer %q: %w", p.name, k, err)
		}
		t.ID, t.plugin = k, p
		ts = append(ts, t)
	}
	return ts, nil
}

// arm tells the running loop, if any, about a timer.
func (ts *timers) arm(id string, due time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.pending == nil {
		return // the loop loads it from the store when it starts
	}
	ts.pending[id] = due
	select {
	case ts.wake <- struct{}{}:
	default:
	}
}

// disarm forgets a timer in the running loop, if any.
func (ts *timers) disarm(id string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.pending, id)
}

// next returns the timers of pending (a loop's own map) due at or before
// now, removing them, and when the next one after now is due (zero when
// none is).
func (ts *timers) next(pending map[string]time.Time, now time.Time) (due []string, at time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for id, t := range pending {
		switch {
		case !t.After(now):
			due = append(due, id)
			delete(pending, id)
		case at.IsZero() || t.Before(at):
			at = t
		}
	}
	return due, at
}

// runTimers fires p's timers until ctx is done, once the backend has
// connected, and returns when the handlers it started have returned.
func (e *Engine) runTimers(ctx context.Context, p *Plugin) {
	log := e.log.With("plugin", p.name)
	ts := &p.timers
	// The loop's own state, published before loading, so that a timer
	// set meanwhile is either stored before the load or armed here. A
	// loop whose deactivation gave up waiting for it (a handler that
	// ignores its context) may end after the next activation's loop has
	// published its own: it touches only its own map, and unpublishes
	// only its own.
	pending, wake := map[string]time.Time{}, make(chan struct{}, 1)
	ts.mu.Lock()
	ts.pending, ts.wake = pending, wake
	ts.mu.Unlock()
	defer func() {
		ts.mu.Lock()
		if ts.wake == wake {
			ts.pending, ts.wake = nil, nil
		}
		ts.mu.Unlock()
	}()
	var running sync.WaitGroup
	defer running.Wait()

	// Sending needs a connected backend: a timer that fell due while the
	// bot was down waits for the connection.
	select {
	case <-ctx.Done():
		return
	case <-e.connected:
	}
	var loaded []Timer
	for {
		var err error
		loaded, err = p.loadTimers(ctx, func(id string, err error) {
			log.Error("stored timer cannot be read; kept", "timer_id", id, "err", err)
		})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("timers not loaded; retrying", "retry_in", timerRetry, "err", err)
		retry := time.NewTimer(timerRetry)
		select {
		case <-ctx.Done():
			retry.Stop()
			return
		case <-retry.C:
		}
	}
	ts.mu.Lock()
	for _, t := range loaded {
		if ts.handlers[t.Name] == nil {
			log.Warn("stored timer has no handler; kept", "timer", t.Name, "timer_id", t.ID, "due", t.Due)
			continue
		}
		pending[t.ID] = t.Due
	}
	ts.mu.Unlock()

	var clock *time.Timer
	for {
		due, at := ts.next(pending, time.Now())
		for _, id := range due {
			running.Go(func() { e.fireTimer(ctx, log, p, id) })
		}
		var tick <-chan time.Time
		if !at.IsZero() {
			if clock == nil {
				clock = time.NewTimer(time.Until(at))
				defer clock.Stop()
			} else {
				clock.Reset(time.Until(at)) // Go 1.23 timers: no stale tick to drain
			}
			tick = clock.C
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick:
		}
	}
}

// timerRetry is how long a timer whose claim failed, or a loop whose
// load of the stored timers failed (the store erred), waits before it
// tries again.
const timerRetry = time.Minute

// errTimerGone aborts the claim of a timer that is no longer stored.
var errTimerGone = errors.New("timer gone")

// fireTimer claims the timer id and runs its handler.
func (e *Engine) fireTimer(ctx context.Context, log *slog.Logger, p *Plugin, id string) {
	if ctx.Err() != nil {
		return // stopping: the timer stays stored for the next start
	}
	var raw []byte
	err := p.timers.store.Update(ctx, id, func(old []byte, exists bool) ([]byte, error) {
		if !exists {
			return nil, errTimerGone
		}
		raw = old
		return nil, nil // delete: whoever deletes it delivers it
	})
	if errors.Is(err, errTimerGone) {
		return // cancelled, or fired by another engine on the same storage
	}
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: the timer stays stored for the next start
		}
		log.Warn("timer not claimed; retrying", "timer_id", id, "retry_in", timerRetry, "err", err)
		p.timers.arm(id, time.Now().Add(timerRetry))
		return
	}
	var t Timer
	if err := json.Unmarshal(raw, &t); err != nil {
		log.Error("stored timer does not decode; dropped", "timer_id", id, "err", err)
		return
	}
	t.ID, t.plugin = id, p
	log = log.With("timer", t.Name, "timer_id", id)
	h := p.timers.handlers[t.Name]
	if h == nil {
		log.Error("timer has no handler; dropped")
		return
	}
	hctx, cancel := context.WithTimeout(ctx, e.options().CommandTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			log.Error("timer handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := h(hctx, &t); err != nil {
		log.Warn("timer handler failed", "err", err)
	}
}
