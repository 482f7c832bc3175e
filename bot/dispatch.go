package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// tracker closes done when every job started for one event has finished
// or is waiting in Request.Ask, after calling handled (Message.Handled)
// when set.
type tracker struct {
	n       atomic.Int32
	done    chan struct{}
	handled func(complete bool)
	cut     atomic.Bool // shutdown cancelled or dropped one of the jobs
}

// closed is returned for events that started nothing.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newTracker() *tracker {
	t := &tracker{done: make(chan struct{})}
	t.n.Store(1) // held by the dispatcher until it has submitted every job
	return t
}

func (t *tracker) add() {
	if t != nil {
		t.n.Add(1)
	}
}

func (t *tracker) release() {
	if t != nil && t.n.Add(-1) == 0 {
		if t.handled != nil {
			t.handled(!t.cut.Load())
		}
		close(t.done)
	}
}

// interrupt notes that shutdown cancelled one of the jobs, or dropped it
// before it ran: the event may not have been answered.
func (t *tracker) interrupt() {
	if t != nil {
		t.cut.Store(true)
	}
}

// job is one handler run.
type job struct {
	user   string // whose message started it, for fairness; "" for other events
	plugin *Plugin
	cmd    *Cmd                            // a command or listener, or nil
	req    *Request                        // with cmd
	fn     func(ctx context.Context) error // callbacks and notices, without cmd; plugin may be nil
	what   string                          // for logs when fn is set
	tr     *tracker
	// late: the job answers a message the backend delivers late
	// (Message.CaughtUp); it is queued even when the queue is full.
	late bool

	// pooled: it runs in a slot of the pool (work), which it gives up if
	// it overruns its deadline. Set by work.
	pooled bool
	// overran: it overran its deadline and gave its slot up; its worker
	// leaves once it returns. Set by call, on the worker's goroutine.
	overran bool
}

// handlerName names what j runs, for logs: a command's name, or what a
// callback is for.
func (j *job) handlerName() string {
	if j.cmd != nil {
		return j.cmd.name
	}
	return j.what
}

func (j *job) pluginName() string {
	if j.plugin == nil {
		return "engine"
	}
	return j.plugin.name
}

// userQueue holds one user's jobs waiting for a slot.
type userQueue struct {
	user    string
	jobs    []job // FIFO
	running int   // this user's jobs running now
}

// submit runs j in a goroutine, or queues it when MaxConcurrent handlers
// are running or j's user has MaxPerUser running. It reports false when
// the engine is shutting down or the queue is full, unless j is late: a
// message the backend caught up on is never refused for a full queue,
// since no one would be told (its author posted it while the bot could
// not hear), and the catch-up that delivers it bounds how many come.
// Late jobs do not count against MaxQueue either: the live commands
// that follow a big catch-up wait behind it rather than be refused.
func (e *Engine) submit(j job) bool {
	j.tr.add()
	e.qmu.Lock()
	if e.closing || e.baseContext() == nil {
		e.qmu.Unlock()
		j.tr.interrupt()
		j.tr.release()
		return false
	}
	uq := e.users[j.user]
	if uq == nil {
		uq = &userQueue{user: j.user}
		e.users[j.user] = uq
	}
	if e.active < e.opts.MaxConcurrent && uq.running < e.opts.MaxPerUser {
		e.active++
		uq.running++
		if e.parked > 0 {
			// A worker that ran an earlier job is waiting: its stack is
			// already grown. A new goroutine would grow one again, page
			// by page, through the handler's HTTP call (runtime.copystack
			// was a tenth of the bot's CPU in matterbot bench).
			e.parked--
			e.qmu.Unlock()
			e.handoff <- j
			return true
		}
		e.qmu.Unlock()
		go e.work(j)
		return true
	}
	if !j.late && e.queued-e.queuedLate >= e.opts.MaxQueue {
		e.forget(uq)
		e.qmu.Unlock()
		j.tr.release()
		return false
	}
	if len(uq.jobs) == 0 {
		e.waiting = append(e.waiting, uq)
	}
	uq.jobs = append(uq.jobs, j)
	e.queued++
	if j.late {
		e.queuedLate++
	}
	e.qmu.Unlock()
	return true
}

// forget drops uq when it holds nothing. Called with qmu held.
func (e *Engine) forget(uq *userQueue) {
	if uq.running == 0 && len(uq.jobs) == 0 {
		delete(e.users, uq.user)
	}
}

// next takes the next job to run: from the first waiting user, in
// round-robin order, who is below MaxPerUser. Called with qmu held.
func (e *Engine) next() (job, bool) {
	for i, uq := range e.waiting {
		if uq.running >= e.opts.MaxPerUser {
			continue
		}
		j := uq.jobs[0]
		uq.jobs[0] = job{}
		uq.jobs = uq.jobs[1:]
		uq.running++
		e.queued--
		if j.late {
			e.queuedLate--
		}
		e.waiting = append(e.waiting[:i], e.waiting[i+1:]...)
		if len(uq.jobs) > 0 {
			e.waiting = append(e.waiting, uq) // to the back of the line
		}
		return j, true
	}
	return job{}, false
}

// work runs j, then queued jobs until none may run.
func (e *Engine) work(j job) {
	var t *time.Timer // for park, made once per worker
	for {
		j.pooled = true
		e.exec(&j)
		if j.overran {
			return // its slot went to another worker (overrun)
		}
		e.qmu.Lock()
		uq := e.users[j.user]
		uq.running--
		e.forget(uq)
		var ok bool
		if !e.closing {
			j, ok = e.next()
		}
		if ok {
			e.qmu.Unlock()
			continue
		}
		e.active--
		if e.closing {
			e.checkIdle()
			e.qmu.Unlock()
			return
		}
		e.parked++
		e.qmu.Unlock()
		if t == nil {
			t = time.NewTimer(workerIdle)
		}
		if j, ok = e.park(t); !ok {
			return
		}
	}
}

// workerIdle is how long a worker without a job waits for one before it
// exits.
const workerIdle = 10 * time.Second

// park waits, as a parked worker (counted in parked by the caller), for a
// job from submit, at most workerIdle. It reports false when the worker is
// to exit: idle too long, or shutdown.
func (e *Engine) park(t *time.Timer) (job, bool) {
	t.Reset(workerIdle)
	select {
	case j := <-e.handoff:
		t.Stop()
		return j, true
	case <-t.C:
	case <-e.unpark:
		t.Stop()
	}
	e.qmu.Lock()
	if e.parked == 0 {
		// Every parked worker still here is claimed: a submit took this
		// one and is sending its job.
		e.qmu.Unlock()
		return <-e.handoff, true
	}
	e.parked--
	e.checkIdle()
	e.qmu.Unlock()
	return job{}, false
}

// checkIdle closes idle once shutdown has started and no worker is left,
// running or parked. Called with qmu held.
func (e *Engine) checkIdle() {
	if !e.closing || e.active > 0 || e.parked > 0 || e.notices > 0 {
		return
	}
	select {
	case <-e.idle:
	default:
		close(e.idle)
	}
}

// submitFunc queues a callback.
func (e *Engine) submitFunc(p *Plugin, tr *tracker, fn func(context.Context) error, what string) {
	if !e.submit(job{plugin: p, fn: fn, what: what, tr: tr}) {
		e.log.Warn("callback dropped: engine busy or stopping", "plugin", p.name, "callback", what)
	}
}

// errPanic stands for a handler's panic (a *panicError is one); the
// details are logged.
var errPanic = errors.New("handler panicked")

func (e *Engine) exec(j *job) {
	if j.plugin != nil {
		if !j.plugin.enter() {
			// Deactivated since it was queued (by an admin, or to take a
			// new configuration): it does not run.
			e.log.Info("handler dropped: plugin inactive", "plugin", j.plugin.name, "handler", j.handlerName())
			j.tr.release()
			return
		}
		defer j.plugin.leave()
	}
	timeout := e.options().CommandTimeout
	if j.cmd != nil && j.cmd.timeout > 0 {
		timeout = j.cmd.timeout
	}
	ctx, cancel := context.WithTimeout(e.baseContext(), timeout)
	defer cancel()
	if j.cmd == nil {
		if err := e.call(ctx, j); err != nil && !errors.Is(err, errPanic) {
			if errors.Is(err, context.Canceled) && e.baseContext().Err() != nil {
				j.tr.interrupt()
			}
			e.log.Warn("callback failed", "plugin", j.pluginName(), "callback", j.what, "err", err)
		}
		j.tr.release()
		return
	}
	req := j.req
	req.ctx = ctx
	if rb := e.replyBase.Load(); rb != nil {
		// Replies end with the handler's deadline, or with the wait for
		// handlers at shutdown, not when shutdown cancels ctx.
		dl, _ := ctx.Deadline()
		rctx, rcancel := context.WithDeadline(*rb, dl)
		defer rcancel()
		req.rctx = rctx
	}
	defer func() { req.tr.release() }() // Ask may have swapped the tracker
	if reason := e.refuse(req, j.cmd); reason != "" {
		if !j.cmd.listener { // a listener overhears; refusing out loud would be noise
			e.notify(req, fmt.Sprintf("`%s`: %s.", req.invocation(), reason))
		}
		e.done(req, OutcomeDenied, 0, slog.String("reason", reason))
		return
	}
	start := time.Now()
	var err error
	if j.cmd.re != nil && req.Match == nil {
		// A regex command named but not matched (see regexNamed).
		err = Usagef("%q does not fit", req.Args)
		if req.Args == "" {
			err = Usagef("missing arguments")
		}
	} else {
		ty := e.autoTyping(ctx, req, j.cmd)
		err = e.call(ctx, j)
		ty.stop()
	}
	if j.overran {
		// Its user was told that it timed out (overrun): nothing more.
		e.done(req, OutcomeTimeout, time.Since(start), slog.Bool("overran", true))
		return
	}
	if err == nil {
		e.done(req, OutcomeOK, time.Since(start))
		return
	}
	var (
		ue  *UsageError
		use *UserError
	)
	switch {
	case errors.Is(err, ErrNoMatch):
		e.done(req, OutcomeNoMatch, time.Since(start))
		if !j.cmd.listener {
			e.fallThrough(req)
		}
	case errors.As(err, &ue):
		msg := fmt.Sprintf("`%s`: %v.", req.invocation(), ue.Err)
		if syn := j.cmd.synopsis(); syn != j.cmd.name || j.cmd.args != nil {
			msg += fmt.Sprintf("\nUsage: `%s%s`", e.options().Prefix, syn)
		}
		e.notify(req, msg)
		e.done(req, OutcomeUsage, time.Since(start), slog.Any("err", ue.Err))
	case errors.Is(err, ErrNoAnswer):
		text := j.cmd.noAnswer
		if text == "" {
			text = fmt.Sprintf("`%s`: no answer, so I stopped waiting.", req.invocation())
		}
		e.notifyAt(req, req.askDestination(), text)
		e.done(req, OutcomeNoAnswer, time.Since(start), slog.Any("err", err))
	case errors.As(err, &use):
		e.notify(req, fmt.Sprintf("`%s` failed: %v", req.invocation(), use.Err))
		e.done(req, OutcomeError, time.Since(start), slog.Any("err", err))
	case errors.Is(err, errPanic): // logged with its stack by call
		e.notify(req, sorry(req))
		e.done(req, OutcomeError, time.Since(start))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		e.log.Warn("command timed out", "plugin", j.plugin.name, "command", j.cmd.name, "user_id", req.Message.From.ID,
			"request_id", req.ID(), "timeout", timeout)
		e.notify(req, fmt.Sprintf("`%s` timed out after %v.", req.invocation(), timeout))
		e.done(req, OutcomeTimeout, time.Since(start))
	case errors.Is(err, context.Canceled) && e.baseContext().Err() != nil:
		req.tr.interrupt()
		e.done(req, OutcomeCancelled, time.Since(start))
	default:
		// The error may carry anything: package prefixes, ids, internal
		// addresses. The user gets a reference to it; the log, the rest.
		e.log.Warn("command failed", "plugin", j.plugin.name, "command", j.cmd.name, "user_id", req.Message.From.ID,
			"request_id", req.ID(), "err", err)
		e.notify(req, sorry(req))
		e.done(req, OutcomeError, time.Since(start))
	}
}

// sorry is the reply to a command that failed with an internal error,
// logged with the request's id.
func sorry(req *Request) string {
	return fmt.Sprintf("Sorry, `%s` failed (ref %s).", req.invocation(), req.ID())
}

// TypingRefresh is how often the automatic typing indicator
// (Options.TypingAfter) is shown again while a command runs: Mattermost
// clients show it for about 5 seconds.
const TypingRefresh = 4 * time.Second

// autoTyping arms the typing indicator for req's command: it is shown
// once the command has run Options.TypingAfter, and again every
// TypingRefresh, until the returned typing is stopped. It returns nil
// when no indicator is to be shown; a nil *typing stops as a no-op.
//
// Most commands finish long before TypingAfter, so arming is one timer and
// stopping one Stop: the goroutine and the context for the Typing call
// exist only once the timer has fired.
func (e *Engine) autoTyping(ctx context.Context, req *Request, c *Cmd) *typing {
	tr, ok := e.backend.(Typer)
	after := e.options().TypingAfter
	if !ok || after <= 0 || c.listener {
		return nil
	}
	d := req.destination()
	if d.RoomID == "" { // diverted to a direct message not opened yet
		return nil
	}
	ty := &typing{e: e, tr: tr, req: req, room: d.RoomID, thread: d.ThreadID}
	ty.mu.Lock() // a tick waits until timer is set
	ty.timer = time.AfterFunc(after, func() { ty.tick(ctx) })
	ty.mu.Unlock()
	return ty
}

// typing is one command's automatic typing indicator (autoTyping).
type typing struct {
	e            *Engine
	tr           Typer
	req          *Request
	room, thread string
	ticks        sync.WaitGroup // a tick past its check of stopped

	mu      sync.Mutex
	timer   *time.Timer        // runs tick; re-armed by it while not stopped
	ctx     context.Context    // for the Typing calls, made by the first tick
	cancel  context.CancelFunc // ends ctx
	stopped bool
}

// tick shows the indicator, unless the handler is waiting for an answer
// (Request.Ask), and re-arms the timer for TypingRefresh. ctx is the
// handler's; the first tick derives the Typing calls' context from it.
func (ty *typing) tick(ctx context.Context) {
	ty.mu.Lock()
	if ty.stopped {
		ty.mu.Unlock()
		return
	}
	ty.ticks.Add(1) // before stop's Wait: stopped is set under mu
	defer ty.ticks.Done()
	if ty.ctx == nil {
		ty.ctx, ty.cancel = context.WithCancel(ctx)
	}
	ctx = ty.ctx
	ty.mu.Unlock()
	if ty.req.asking.Load() == 0 {
		if err := ty.tr.Typing(ctx, ty.room, ty.thread); err != nil && ctx.Err() == nil {
			ty.e.log.Debug("typing indicator failed", "room_id", ty.room, "err", err)
		}
	}
	ty.mu.Lock()
	if !ty.stopped {
		ty.timer.Reset(TypingRefresh)
	}
	ty.mu.Unlock()
}

// stop disarms the indicator, ends a Typing call in flight and returns
// once no tick runs: no indicator is shown after stop returns.
func (ty *typing) stop() {
	if ty == nil {
		return
	}
	ty.mu.Lock()
	ty.stopped = true
	ty.timer.Stop()
	cancel := ty.cancel
	ty.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	ty.ticks.Wait()
}

// call runs the job's handler, turning a panic into a *panicError and a
// log line with the stack and the error's reference. A pooled handler
// still running OverrunGrace past its deadline gives its slot up (see
// overrun) and call sets j.overran when it returns at last.
func (e *Engine) call(ctx context.Context, j *job) (err error) {
	if j.pooled {
		w := e.watch(ctx, j)
		defer func() { j.overran = !w.finish() }() // runs last: after the recover below
	}
	defer func() {
		if r := recover(); r != nil {
			attrs := []any{"plugin", j.pluginName(), "handler", j.what}
			pe := &panicError{}
			if j.cmd != nil { // the user is told the reference
				pe.ref = j.req.ID()
				attrs = []any{"plugin", j.pluginName(), "handler", j.cmd.name, "request_id", pe.ref}
			}
			e.log.Error("handler panicked", append(attrs, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))...)
			err = pe
		}
	}()
	if j.cmd != nil {
		return j.cmd.handler(ctx, j.req)
	}
	return j.fn(ctx)
}

// OverrunGrace is how long a handler may run past its deadline (the
// command's Timeout, else Options.CommandTimeout) before the engine stops
// counting it against MaxConcurrent and MaxPerUser: a handler that
// ignores its context then keeps its goroutine, which Go cannot stop,
// but not its slot, so that it cannot starve everyone else.
const OverrunGrace = time.Second

// watchdog gives a handler's slot up when it overruns its deadline.
type watchdog struct {
	state atomic.Int32 // 0 running, 1 returned, 2 overran
	timer *time.Timer
	e     *Engine
	job   job // a copy for overrun: the worker reuses its own
}

// watch arms j's watchdog: OverrunGrace after ctx's deadline, unless the
// handler has returned by then, overrun frees its slot. Shutdown's
// cancellation is not a deadline: drain waits for handlers then.
func (e *Engine) watch(ctx context.Context, j *job) *watchdog {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	w := &watchdog{e: e, job: *j}
	w.timer = time.AfterFunc(time.Until(dl)+OverrunGrace, w.fire)
	return w
}

func (w *watchdog) fire() {
	if w.state.CompareAndSwap(0, 2) {
		w.e.overrun(&w.job)
	}
}

// finish disarms the watchdog and reports whether the handler returned
// before it overran.
func (w *watchdog) finish() bool {
	if w == nil {
		return true
	}
	w.timer.Stop()
	return w.state.CompareAndSwap(0, 1)
}

// overrun is called once a pooled handler has run OverrunGrace past its
// deadline: it tells the command's user that it timed out and gives its
// slot to the next job waiting, as work would have on its return. j is a
// copy of the job; the handler's own goroutine leaves when it returns.
func (e *Engine) overrun(j *job) {
	timeout := e.options().CommandTimeout
	if j.cmd != nil && j.cmd.timeout > 0 {
		timeout = j.cmd.timeout
	}
	attrs := []any{"plugin", j.pluginName(), "handler", j.handlerName(), "timeout", timeout, "grace", OverrunGrace}
	if j.cmd != nil {
		attrs = append(attrs, "user_id", j.req.Message.From.ID, "request_id", j.req.ID())
	}
	e.log.Warn("handler overran its deadline; its slot goes to the next job", attrs...)
	e.qmu.Lock()
	if uq := e.users[j.user]; uq != nil {
		uq.running--
		e.forget(uq)
	}
	var (
		next job
		ok   bool
	)
	if !e.closing {
		next, ok = e.next()
	}
	if ok {
		e.qmu.Unlock()
		go e.work(next) // in the slot given up: active stays
	} else {
		e.active--
		e.checkIdle()
		e.qmu.Unlock()
	}
	if j.cmd != nil && !j.cmd.listener {
		e.notify(j.req, fmt.Sprintf("`%s` timed out after %v.", j.req.invocation(), timeout))
	}
}

// notify sends an engine message (refusal, error) where the command's
// replies go. It works after the handler's deadline has passed.
func (e *Engine) notify(req *Request, text string) {
	e.notifyAt(req, req.destination(), text)
}

// notifyAt is notify to out's room or user.
func (e *Engine) notifyAt(req *Request, out Outgoing, text string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.ctx), e.opts.ShutdownTimeout)
	defer cancel()
	out.Text = text
	req.addressed(&out)
	if err := e.sent(e.backend.Send(ctx, &out)); err != nil {
		e.log.Warn("send failed", "room_id", out.RoomID, "user_id", out.UserID, "err", err)
	}
}

// HandleMessage implements Handler: it runs the OnMessage callbacks, then
// the matching command or regex command and the matching listeners, each
// in a goroutine of its own; or, when m is its author's answer to a
// pending Request.Ask and not a command given with the prefix, it hands
// m to the question.
func (e *Engine) HandleMessage(m *Message) <-chan struct{} {
	s := e.settings()
	st := s.conn
	if m == nil {
		return closed
	}
	if st == nil || m.From.ID == st.self.ID {
		if m.Handled != nil {
			m.Handled(st != nil) // before the first connect, nothing runs
		}
		return closed
	}
	tr := newTracker()
	tr.handled = m.Handled
	defer tr.release()

	reg := e.registry()
	if m.Edited {
		// Only the commands that asked for it run again; nothing else
		// sees an edit.
		text, addressed, _ := address(s, m)
		if c, req := e.command(reg, m, text, addressed); c != nil && c.rerun > 0 && !m.Time.IsZero() && time.Since(m.Time) <= c.rerun {
			e.start(c, req, tr)
		}
		return tr.done
	}
	for _, p := range reg.plugins {
		if len(p.onMessage) == 0 || !p.isActive() || m.Slash {
			continue
		}
		for _, f := range p.onMessage {
			if !e.submit(job{user: m.From.ID, plugin: p, fn: func(ctx context.Context) error { return f(ctx, m) }, what: "message", tr: tr, late: m.CaughtUp}) {
				e.log.Warn("callback dropped: engine busy or stopping", "plugin", p.name, "callback", "message")
			}
		}
	}
	text, addressed, explicit := address(s, m)
	c, req, at := e.commandFrom(reg, m, text, addressed, true, 0)
	// While a question waits for its author's answer (Request.Ask), a
	// command given with the prefix runs as a command, and the question
	// still waits; any other message from the author there answers it.
	if (c == nil || !explicit) && !m.Slash && e.answer(m, tr) {
		return tr.done
	}
	var heard []*Request // the listeners' runs
	for _, l := range reg.listeners {
		if !l.plugin.isActive() || m.Slash {
			continue
		}
		if groups := l.re.FindStringSubmatch(m.Text); groups != nil {
			heard = append(heard, &Request{Message: m, Command: l.name, Args: m.Text, Match: groups, cmd: l})
		}
	}
	if c != nil {
		req.rest = dispatchRest{s: s, reg: reg, text: text, addressed: addressed, explicit: explicit, at: at, heard: len(heard) > 0}
		e.start(c, req, tr)
	}
	for _, r := range heard {
		e.start(r.cmd, r, tr)
	}
	if c == nil && len(heard) == 0 {
		e.unmatched(s, reg, m, text, addressed, tr)
	}
	return tr.done
}

// unmatched answers an addressed message that no command, regex command
// or listener took: with the usage of a regex command it names, or "not
// found".
func (e *Engine) unmatched(s *settings, reg *registry, m *Message, text string, addressed bool, tr *tracker) {
	if !addressed || text == "" {
		return
	}
	if c, args := reg.regexNamed(text); c != nil {
		e.start(c, &Request{Message: m, Command: c.name, Args: args}, tr)
	} else if !s.opts.SuppressUnknownCommand {
		e.unknown(m, text, tr)
	}
}

// dispatchRest is what HandleMessage would have done had it not chosen
// a request's command: kept with the request (Request.rest, a value: no
// allocation per command), for a handler that returns ErrNoMatch. The
// zero value (reg nil) goes on with nothing.
type dispatchRest struct {
	s         *settings
	reg       *registry // as the message found it
	text      string    // after the prefix
	addressed bool
	explicit  bool
	at        int  // the regex command chosen is reg.regexes[at]; -1: a command by name
	heard     bool // a listener matched the message
}

// fallThrough goes on with the dispatch of req's message as if req's
// command had not matched: its handler returned ErrNoMatch. Called from
// the handler's goroutine, before the run releases its tracker.
func (e *Engine) fallThrough(req *Request) {
	r := req.rest
	if r.reg == nil {
		return
	}
	m := req.Message
	if c, next, at := e.commandFrom(r.reg, m, r.text, r.addressed, false, r.at+1); c != nil {
		next.rest = r
		next.rest.at = at
		e.start(c, next, req.tr)
		return
	}
	if r.heard {
		return
	}
	if r.explicit && !m.Slash && e.answer(m, req.tr) {
		return
	}
	e.unmatched(r.s, r.reg, m, r.text, r.addressed, req.tr)
}

// Addressed implements Addresser.
func (e *Engine) Addressed(m *Message) bool {
	s := e.settings()
	if s.conn == nil || m == nil {
		return false
	}
	text, addressed, _ := address(s, m)
	if addressed {
		return true
	}
	c, _ := e.command(e.registry(), m, text, addressed)
	return c != nil
}

// command returns the command or regex command m runs, with its
// request, or nil. text is m's text after the prefix, when addressed.
func (e *Engine) command(reg *registry, m *Message, text string, addressed bool) (*Cmd, *Request) {
	c, req, _ := e.commandFrom(reg, m, text, addressed, true, 0)
	return c, req
}

// commandFrom is command: with byName, a command by name first; then
// the regex commands from reg.regexes[from] on. It also returns the
// index of the regex command chosen, -1 for a command by name.
func (e *Engine) commandFrom(reg *registry, m *Message, text string, addressed, byName bool, from int) (*Cmd, *Request, int) {
	if byName && addressed && text != "" {
		if c, args := reg.lookup(text); c != nil {
			return c, &Request{Message: m, Command: c.name, Args: args}, -1
		}
	}
	for i := from; i < len(reg.regexes); i++ {
		c := reg.regexes[i]
		subject := m.Text
		if c.prefixed {
			if !addressed {
				continue
			}
			subject = text
		}
		if !c.plugin.isActive() {
			continue
		}
		if groups := c.re.FindStringSubmatch(subject); groups != nil {
			return c, &Request{Message: m, Command: c.name, Args: subject, Match: groups}, i
		}
	}
	return nil, nil, 0
}

// regexNamed returns the visible regex command that text names without
// matching its pattern, with the rest of text: text starts with the
// command's name, an alias, or the first word of the pattern's literal
// prefix (`^ticket #(\d+)$` is named by "ticket"). Its usage is the
// answer, rather than "not found".
func (reg *registry) regexNamed(text string) (*Cmd, string) {
	words := strings.Fields(strings.ToLower(text))
	var (
		best *Cmd
		n    int // words of best's name in text
	)
	for _, c := range reg.regexes {
		if c.hidden || !c.plugin.isActive() {
			continue
		}
		names := append([]string{c.name}, c.aliases...)
		if lit, _ := c.re.LiteralPrefix(); strings.Contains(lit, " ") {
			w, _, _ := strings.Cut(lit, " ")
			names = append(names, strings.ToLower(w))
		}
		for _, name := range names {
			nw := strings.Fields(name)
			if len(nw) > n && len(nw) <= len(words) && slices.Equal(nw, words[:len(nw)]) {
				best, n = c, len(nw)
			}
		}
	}
	if best == nil {
		return nil, ""
	}
	rest := strings.TrimSpace(text)
	for range n {
		rest = strings.TrimLeftFunc(rest, func(r rune) bool { return !unicode.IsSpace(r) })
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	}
	return best, rest
}

// start queues a command; when the queue is full it says so.
func (e *Engine) start(c *Cmd, req *Request, tr *tracker) {
	req.engine, req.cmd, req.Plugin, req.tr, req.id = e, c, c.plugin, tr, newRef()
	if e.submit(job{user: req.Message.From.ID, plugin: c.plugin, cmd: c, req: req, tr: tr, late: req.Message.CaughtUp}) {
		return
	}
	e.log.Warn("command dropped: engine busy or stopping", "plugin", c.plugin.name, "command", c.name, "user_id", req.Message.From.ID,
		"request_id", req.ID())
	if e.baseContext() == nil || e.baseContext().Err() != nil {
		e.done(req, OutcomeCancelled, 0)
		return
	}
	e.done(req, OutcomeBusy, 0)
	// Tell the user, from a goroutine that bypasses the full queue (but
	// not shutdown's accounting): HandleMessage must not block on I/O.
	text := fmt.Sprintf("`%s`: the bot is busy, try again in a moment.", req.invocation())
	e.notice(job{fn: func(ctx context.Context) error {
		req.ctx = ctx
		e.notify(req, text)
		return nil
	}, what: "busy notice", tr: tr})
}

// notice runs j, a busy notice, in a goroutine of its own even when
// MaxConcurrent handlers are running, without taking a handler's slot;
// Run still waits for it at shutdown. At most MaxConcurrent notices are
// sent at once: when the server is slow and the queue full, a flood of
// refused commands would otherwise pile up a goroutine each; beyond
// that, a refused command is only logged.
func (e *Engine) notice(j job) {
	j.tr.add()
	e.qmu.Lock()
	if e.closing || e.notices >= e.opts.MaxConcurrent {
		closing := e.closing
		e.qmu.Unlock()
		if closing {
			j.tr.interrupt()
		} else {
			e.log.Debug("busy notice not sent: as many are being sent as handlers may run")
		}
		j.tr.release()
		return
	}
	e.notices++
	e.qmu.Unlock()
	go func() {
		e.exec(&j)
		e.qmu.Lock()
		e.notices--
		e.checkIdle()
		e.qmu.Unlock()
	}()
}

// unknown answers an unknown command: with the commands it may have
// meant, or with the commands of the group it names ("!plugin" or
// "!plugin foo" list "!plugin list" and its siblings).
func (e *Engine) unknown(m *Message, text string, tr *tracker) {
	msg := e.unknownText(strings.Fields(strings.ToLower(text)), e.IsAdmin(m.From.ID))
	req := &Request{Message: m, engine: e}
	e.submit(job{user: m.From.ID, fn: func(ctx context.Context) error {
		req.ctx = ctx
		e.notify(req, msg)
		return nil
	}, what: "unknown command", tr: tr, late: m.CaughtUp})
}

// unknownText is the answer to words, which name no command, for an
// admin or not.
func (e *Engine) unknownText(words []string, admin bool) string {
	prefix := e.options().Prefix
	names := e.visibleNames(admin)
	// The longest run of leading words that is a group: the first
	// words of longer command names ("plugin" for "plugin list").
	var group string
	var members []string
	for k := len(words); k > 0 && group == ""; k-- {
		g := strings.Join(words[:k], " ")
		for _, n := range names {
			if strings.HasPrefix(n, g+" ") {
				group = g
				members = append(members, n)
			}
		}
	}
	quote := func(ns []string, sep string) string {
		q := make([]string, len(ns))
		for i, n := range ns {
			q[i] = "`" + prefix + n + "`"
		}
		if len(q) > maxListed {
			return strings.Join(q[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(q)-maxListed)
		}
		if len(q) == 1 {
			return q[0]
		}
		return strings.Join(q[:len(q)-1], ", ") + " " + sep + " " + q[len(q)-1]
	}
	if group == strings.Join(words, " ") {
		return fmt.Sprintf("`%s%s` needs a subcommand: %s.", prefix, group, quote(members, "or"))
	}
	tried := words[0]
	if group != "" {
		names = members
		tried = strings.Join(words[:strings.Count(group, " ")+2], " ")
	}
	msg := fmt.Sprintf("Command %q not found.", tried)
	if sugg := suggest(words, names); len(sugg) > 0 {
		return msg + " Did you mean " + quote(sugg, "or") + "?"
	}
	if group != "" {
		return msg + " Try " + quote(members, "or") + "."
	}
	return msg
}

// maxListed is how many commands an answer to an unknown command lists
// at most.
const maxListed = 10

// visibleNames returns, sorted, the names and aliases of the active
// commands and regex commands that help shows to a user (an admin or
// not).
func (e *Engine) visibleNames(admin bool) []string {
	var out []string
	visible := func(c *Cmd) bool { return !c.hidden && (admin || !c.admin) && c.plugin.isActive() }
	reg := e.registry()
	for n, c := range reg.cmds {
		if visible(c) {
			out = append(out, n)
		}
	}
	for _, c := range reg.regexes {
		if visible(c) {
			out = append(out, c.name)
			out = append(out, c.aliases...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// suggest returns up to three of names (each one or more words) close to
// words, the closest first. A name longer than words is suggested by its
// first words: "plugn" suggests "plugin", the group of "plugin list".
func suggest(words, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		nw := strings.Fields(n)
		k := min(len(words), len(nw))
		typed, name := strings.Join(words[:k], " "), strings.Join(nw[:k], " ")
		d := levenshtein(typed, name)
		last := nw[k-1]
		if strings.HasPrefix(name, typed) || strings.HasPrefix(typed, name) && len(last) >= 3 {
			d = min(d, 1) // "dep" for "deploy", "statuses" for "status"
		}
		if d <= 2 && d < utf8.RuneCountInString(last) {
			cs = append(cs, cand{name, d})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	var out []string
	for _, c := range cs {
		if len(out) < 3 && !slices.Contains(out, c.name) {
			out = append(out, c.name)
		}
	}
	return out
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// address decides whether m is for the bot, under settings s (connected),
// and returns the text after the prefix. explicit reports that m starts
// with the prefix or an alternate prefix, not only that it is a direct
// message.
func address(s *settings, m *Message) (text string, addressed, explicit bool) {
	t := strings.TrimSpace(m.Text)
	if m.Slash {
		if t == "" {
			t = "help" // "/ops" alone
		}
		return t, true, true
	}
	if p := s.opts.Prefix; strings.HasPrefix(t, p) {
		return strings.TrimSpace(t[len(p):]), true, true
	}
	for _, ap := range s.conn.prefixes {
		if len(t) < len(ap) || !strings.EqualFold(t[:len(ap)], ap) {
			continue
		}
		rest := t[len(ap):]
		if r, _ := utf8.DecodeRuneInString(rest); isNameRune(r) && isNameRune(lastRune(ap)) {
			continue // "@ops-botty" is not "@ops-bot"
		}
		rest = strings.TrimLeft(rest, ":,; \t\n")
		return rest, true, true
	}
	if m.Direct && !s.opts.RequirePrefixInDirect {
		return t, true, false
	}
	return "", false, false
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.'
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// lookup finds the command with the longest name that starts text, and
// returns it with the rest of text.
func (reg *registry) lookup(text string) (*Cmd, string) {
	type span struct{ start, end int }
	var spans [8]span
	n := 0
	clean := true // words separated by single spaces, no upper case
	for i := 0; i < len(text) && n < min(reg.maxWords, len(spans)); {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i == len(text) {
			break
		}
		if n > 0 && i-spans[n-1].end != 1 || n > 0 && text[i-1] != ' ' {
			clean = false
		}
		start := i
		for i < len(text) && !isSpace(text[i]) {
			if c := text[i]; c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
				clean = false
			}
			i++
		}
		spans[n] = span{start, i}
		n++
	}
	for k := n; k > 0; k-- {
		name := text[spans[0].start:spans[k-1].end]
		if !clean {
			name = normalizeName(name)
		}
		if c := reg.cmds[name]; c != nil && c.plugin.isActive() {
			return c, strings.TrimSpace(text[spans[k-1].end:])
		}
	}
	return nil, ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// HandleReaction implements Handler: it runs the OnReaction callbacks
// and, for a reaction added by someone else than the bot, the reaction
// triggers of its emoji (Plugin.Reaction).
func (e *Engine) HandleReaction(r *Reaction) <-chan struct{} {
	st := e.settings().conn
	if st == nil {
		return closed
	}
	tr := newTracker()
	defer tr.release()
	reg := e.registry()
	for _, p := range reg.plugins {
		if !p.isActive() {
			continue
		}
		for _, f := range p.onReaction {
			e.submitFunc(p, tr, func(ctx context.Context) error { return f(ctx, r) }, "reaction")
		}
	}
	if r.Removed || r.User.ID == st.self.ID {
		return tr.done
	}
	emoji := strings.ToLower(strings.Trim(r.Emoji, ":"))
	for _, c := range reg.reactions {
		if c.emoji != emoji || !c.plugin.isActive() {
			continue
		}
		m := &Message{ID: r.MessageID, From: r.User, Room: r.Room, Direct: r.Room.Kind == RoomDirect}
		e.start(c, &Request{Message: m, Command: c.name, Reaction: r}, tr)
	}
	return tr.done
}

// HandlePresence implements Handler: it runs the OnPresence callbacks.
func (e *Engine) HandlePresence(pr *Presence) <-chan struct{} {
	return e.callbacks(func(p *Plugin, tr *tracker) {
		for _, f := range p.onPresence {
			e.submitFunc(p, tr, func(ctx context.Context) error { return f(ctx, pr) }, "presence")
		}
	})
}

// HandleJoin implements Handler: it runs the OnJoin callbacks.
func (e *Engine) HandleJoin(j *Join) <-chan struct{} {
	return e.callbacks(func(p *Plugin, tr *tracker) {
		for _, f := range p.onJoin {
			e.submitFunc(p, tr, func(ctx context.Context) error { return f(ctx, j) }, "join")
		}
	})
}

// HandleLeave implements LeaveHandler: it runs the OnLeave callbacks.
func (e *Engine) HandleLeave(l *Leave) <-chan struct{} {
	return e.callbacks(func(p *Plugin, tr *tracker) {
		for _, f := range p.onLeave {
			e.submitFunc(p, tr, func(ctx context.Context) error { return f(ctx, l) }, "leave")
		}
	})
}

func (e *Engine) callbacks(each func(p *Plugin, tr *tracker)) <-chan struct{} {
	if e.settings().conn == nil {
		return closed
	}
	tr := newTracker()
	defer tr.release()
	for _, p := range e.registry().plugins {
		if p.isActive() {
			each(p, tr)
		}
	}
	return tr.done
}
