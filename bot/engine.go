package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures an Engine. The zero value is valid; every field
// documents its default. The keys follow Errbot's configuration where one
// exists (in brackets).
type Options struct {
	// Prefix starts a command: "!deploy". Default "!". [BOT_PREFIX]
	Prefix string
	// AltPrefixes are other ways to address the bot, matched without
	// regard to case: "@ops-bot", "ops-bot:". A following ':', ',' or ';'
	// is skipped. The bot's own "@username" is always one.
	// [BOT_ALT_PREFIXES]
	AltPrefixes []string
	// RequirePrefixInDirect makes direct messages need the prefix too; by
	// default "deploy api prod" in a DM is a command. [BOT_PREFIX_OPTIONAL_ON_CHAT]
	RequirePrefixInDirect bool
	// SuppressUnknownCommand answers unknown commands with silence instead
	// of a "did you mean" suggestion. [SUPPRESS_CMD_NOT_FOUND]
	SuppressUnknownCommand bool

	// Admins are the bot's administrators, as "@username". They are
	// resolved once to stable user ids when the backend first connects,
	// so a renamed admin keeps the rights. A name the server does not
	// know (an admin renamed while the bot was down) is logged as an
	// error and is no one's: the bot runs with the others, rather than
	// not at all. Reconfigure refuses it. [BOT_ADMINS]
	Admins []string
	// ACLs are access rules, tried in order; the first whose Pattern
	// matches a command decides. [ACCESS_CONTROLS]
	ACLs []ACL
	// DefaultACL applies to commands no ACL matches. The zero Rule allows
	// everything. [ACCESS_CONTROLS_DEFAULT]
	DefaultACL Rule

	// DivertToThread lists commands whose replies go to a thread, as if
	// declared with Cmd.InThread. [DIVERT_TO_THREAD]
	DivertToThread []string
	// DivertToPrivate lists commands whose replies go to a direct message,
	// as if declared with Cmd.Private. [DIVERT_TO_PRIVATE]
	DivertToPrivate []string
	// PrefixRoomReplies starts the text replies a command or listener
	// sends to a room (Request.Reply and its variants, Request.Ask's
	// question, the engine's error replies) with "@username: ", the
	// author's handle, so that the author is notified; direct messages,
	// replies diverted to private, cards, files, ephemeral messages and
	// Request.Send are left alone. Default false.
	// [GROUPCHAT_NICK_PREFIXED]
	PrefixRoomReplies bool

	// CommandTimeout is a handler's deadline unless the command sets its
	// own (Cmd.Timeout). Default 1 minute. A handler still running
	// OverrunGrace past its deadline gives its slot up (MaxConcurrent,
	// MaxPerUser): its user is told it timed out, and it runs on, alone,
	// until it returns.
	CommandTimeout time.Duration
	// TypingAfter makes the engine show the backend's typing indicator
	// (Typer) where a command's replies go once its handler has run this
	// long, refreshed every TypingRefresh until the handler returns: a
	// slow command looks alive. It is not shown for listeners, nor while
	// the handler waits for an answer (Request.Ask). 0 (the default) or
	// less disables it; 1 second is a good value.
	TypingAfter time.Duration
	// AskTimeout bounds how long Request.Ask waits for an answer.
	// Default 5 minutes.
	AskTimeout time.Duration
	// ShutdownTimeout is how long Run waits, once shutdown begins, for
	// running handlers to finish on their own; their replies are sent as
	// usual. Handlers still running then have their contexts cancelled
	// and get ShutdownGrace more to return and send a last word.
	// Default 10 seconds.
	ShutdownTimeout time.Duration
	// MaxConcurrent is how many handlers run at once; more wait in a
	// queue. Default 32.
	MaxConcurrent int
	// MaxPerUser is how many of one user's handlers run at once, so that
	// one user's flood of slow commands leaves room for everyone else;
	// the rest wait, and users take turns. Default MaxConcurrent/4, at
	// least 1.
	MaxPerUser int
	// MaxQueue is how many handlers may wait; beyond it a command is
	// refused with a "busy" reply. Default 1024.
	MaxQueue int

	// Storage opens the plugins' stores. Default: in memory, lost when the
	// process exits. The engine does not close it.
	Storage Storage
	// PluginConfig holds each plugin's configuration by plugin name, in any
	// form encoding/json can marshal (a map from a TOML file, a struct).
	// Plugins decode theirs with Plugin.Config. A name that is not a
	// registered plugin's is logged as a warning by New.
	PluginConfig map[string]any
	// Inactive lists plugins that are registered but not activated at
	// start; an admin can activate them later.
	Inactive []string

	// Location is the time zone of cron schedules (Plugin.Cron). Default
	// time.Local.
	Location *time.Location
	// WebhookAuth is the proof of a shared secret that every webhook
	// request must carry, unless its endpoint sets its own with
	// Endpoint.Secret or Endpoint.HMAC. Default: none.
	WebhookAuth WebhookAuth
	// WebhookMaxBody bounds the body of a webhook request, unless its
	// endpoint sets its own with Endpoint.MaxBody; a larger body is
	// refused with 413. Default 1 MiB.
	WebhookMaxBody int64

	// Version is reported by the about plugin. Default "dev".
	Version string
	// Logger receives the engine's logs: among them one line per command
	// or listener run, at Info ("command", with its request_id, user,
	// room, plugin, command, outcome and duration). Default: discard.
	Logger *slog.Logger
	// Observer is told of every command and listener run, for metrics.
	// Default nil: nobody.
	Observer Observer
}

// Engine runs plugins against a Backend: it decides which messages are
// commands, checks access, and runs handlers in goroutines of their own
// with a deadline, a panic guard and bounded concurrency.
//
// Build one with New, then call Run. An Engine is safe for concurrent use.
type Engine struct {
	backend Backend
	// opts are the options given to New, with their defaults. The fields
	// that Reconfigure changes are read from the settings in force
	// (e.options()), never from here after New.
	opts Options
	log  *slog.Logger

	// routes holds the registered plugins and what they declared; never
	// nil after New. Register and Unregister replace it as a whole.
	routes atomic.Pointer[registry]

	smu       sync.Mutex
	svc       sync.WaitGroup // schedule loops and webhook handlers; Add under smu
	svcClosed bool           // guarded by smu: Run has stopped; no more services start

	running atomic.Bool
	phase   atomic.Int32 // a phase*: where Run is, for Ready
	// reconf serializes Reconfigure with itself and with the activations
	// and deactivations of Run.
	reconf  sync.Mutex
	stopped bool // guarded by reconf: Run is stopping; Reconfigure refuses
	// activated is set once Run has activated the plugins: from then on
	// Register activates the plugins it adds. Guarded by reconf.
	activated bool
	set       atomic.Pointer[settings] // the settings in force; never nil after New
	base      atomic.Pointer[context.Context]
	resolve   sync.Mutex // serializes the changes of set: connects and Reconfigure
	// connected is closed once the first HandleConnect has succeeded and
	// its OnConnect hooks are done: timers wait for it to send.
	connected chan struct{}

	// failConnect stops the backend with a HandleConnect error; set by Run
	// before the backend starts.
	failConnect context.CancelCauseFunc

	// replyBase is the parent of the contexts replies are sent under
	// (Request.rctx): unlike the handlers' contexts, it is not cancelled
	// when shutdown starts, only when the wait for handlers ends, so that
	// a reply on its way, or a last word, is still delivered.
	replyBase atomic.Pointer[context.Context]

	qmu     sync.Mutex
	users   map[string]*userQueue // guarded by qmu: users with jobs running or queued
	waiting []*userQueue          // guarded by qmu: users with queued jobs, round-robin order
	queued  int                   // guarded by qmu: jobs in all queues
	// queuedLate counts the late jobs of queued (job.late): they do
	// not count against MaxQueue, so that a catch-up that queued
	// thousands does not make the live commands after it refused.
	queuedLate int           // guarded by qmu
	active     int           // guarded by qmu: running handler goroutines
	notices    int           // guarded by qmu: busy notices being sent (notice), not counted in active
	parked     int           // guarded by qmu: idle worker goroutines waiting for a job, unclaimed
	closing    bool          // guarded by qmu: shutdown started
	started    time.Time     // guarded by qmu: when Run started
	idle       chan struct{} // guarded by qmu: closed when closing and active, notices and parked are 0
	// handoff carries a job from submit to the parked worker it claimed
	// (by decrementing parked). Unbuffered: the worker is waiting for it.
	handoff chan job
	// unpark is closed when shutdown starts: parked workers exit, and
	// questions (Request.Ask) end.
	unpark chan struct{}

	wmu     sync.Mutex
	waiters map[convKey]*waiter // guarded by wmu: Request.Ask in progress

	// Replies sent for requests, and those that failed (see Stats).
	repliesSent, repliesFailed atomic.Uint64
}

// settings are the options in force (those given to New, with the
// changes Reconfigure made) and what the engine resolved from them when
// the backend connected. They are replaced as a whole, never modified:
// a command sees one consistent set from start to end of a decision.
type settings struct {
	opts *Options
	conn *connState // nil until the first connect
}

// settings returns the settings in force.
func (e *Engine) settings() *settings { return e.set.Load() }

// options returns the options in force: for the fields Reconfigure
// changes, the values it set last.
func (e *Engine) options() *Options { return e.set.Load().opts }

// connState is what the engine learns when the backend connects, and
// what it resolves from the options then. It is replaced as a whole,
// never modified.
type connState struct {
	self     User
	prefixes []string // lower-case alternative prefixes
	admins   map[string]bool
	acls     []compiledACL
	defACL   compiledRule
}

// New builds an engine for backend with the given plugins, calling each
// plugin's Setup. opts may be nil. It returns an error when a plugin's
// Setup fails, two plugins share a name, two commands share a name, or a
// command is declared wrongly (a bad regex, an unsupported argument type).
// A plugin whose required configuration is missing is not an error: it
// is registered and never activated (see Plugin.Config). Configuration
// for a plugin that is not registered (Options.PluginConfig) is logged as
// a warning, with the closest plugin name when one is close.
func New(backend Backend, opts *Options, plugins ...Setuper) (*Engine, error) {
	if backend == nil {
		return nil, errors.New("bot: nil backend")
	}
	e := &Engine{
		backend: backend,
		waiters: map[convKey]*waiter{},
		users:   map[string]*userQueue{},
		idle:    make(chan struct{}),
		handoff: make(chan job),
		unpark:  make(chan struct{}),

		connected: make(chan struct{}),
	}
	if opts != nil {
		e.opts = *opts
	}
	o := &e.opts
	o.setChangeableDefaults()
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 32
	}
	if o.MaxPerUser <= 0 {
		o.MaxPerUser = max(1, o.MaxConcurrent/4)
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 1024
	}
	if o.Storage == nil {
		o.Storage = &memStorage{}
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.WebhookMaxBody <= 0 {
		o.WebhookMaxBody = defaultMaxBody
	}
	if err := o.WebhookAuth.check(); err != nil {
		return nil, fmt.Errorf("bot: webhook auth: %w", err)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	e.log = o.Logger
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if err := o.checkAccess(); err != nil {
		return nil, err
	}
	if _, ok := backend.(RoleChecker); !ok {
		for _, acl := range append([]ACL{{Pattern: "default", Rule: o.DefaultACL}}, o.ACLs...) {
			if acl.usesRoles() {
				return nil, fmt.Errorf("bot: ACL %q: allowroles and denyroles need a backend that knows roles (RoleChecker); %T does not", acl.Pattern, backend)
			}
		}
	}
	in := e.opts
	e.set.Store(&settings{opts: &in})
	var ps []*Plugin
	names := map[string]bool{}
	for _, v := range plugins {
		p, err := e.setup(v)
		if err != nil {
			return nil, err
		}
		if names[p.name] {
			return nil, fmt.Errorf("bot: plugin %q registered twice", p.name)
		}
		names[p.name] = true
		ps = append(ps, p)
	}
	r, err := newRegistry(ps)
	if err != nil {
		return nil, err
	}
	e.routes.Store(r)
	for _, n := range o.Inactive {
		if r.byName[n] == nil {
			return nil, fmt.Errorf("bot: inactive plugin %q is not registered", n)
		}
	}
	e.checkPluginTables()
	return e, nil
}

// setChangeableDefaults fills in the defaults of the fields Reconfigure
// changes.
func (o *Options) setChangeableDefaults() {
	if o.Prefix == "" {
		o.Prefix = "!"
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = time.Minute
	}
	if o.AskTimeout <= 0 {
		o.AskTimeout = 5 * time.Minute
	}
}

// checkAccess checks the syntax of the admins and the access rules.
func (o *Options) checkAccess() error {
	for _, a := range o.Admins {
		if _, err := ParseAddress(a); err != nil || !strings.HasPrefix(a, "@") {
			return fmt.Errorf("bot: admin %q: want @username", a)
		}
	}
	for _, acl := range o.ACLs {
		if err := acl.Rule.check(); err != nil {
			return fmt.Errorf("bot: ACL %q: %w", acl.Pattern, err)
		}
	}
	if err := o.DefaultACL.check(); err != nil {
		return fmt.Errorf("bot: default ACL: %w", err)
	}
	return nil
}

// pluginName is the name of plugin value v: its Name() method, or its
// type name in lower case.
func pluginName(v Setuper) string {
	if n, ok := v.(interface{ Name() string }); ok {
		return n.Name()
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.ToLower(t.Name())
}

// setup builds the plugin of v: it calls v's Setup and checks what it
// declared. A plugin whose required configuration is missing is
// returned bare (see Plugin.Config), without error.
func (e *Engine) setup(v Setuper) (*Plugin, error) {
	if v == nil {
		return nil, errors.New("bot: nil plugin")
	}
	name := pluginName(v)
	if name == "" || strings.ContainsAny(name, " \t:/") {
		return nil, fmt.Errorf("bot: plugin %T: bad name %q (give the type a Name() string method)", v, name)
	}
	p := &Plugin{engine: e, value: v, name: name, store: e.opts.Storage.Store(name), mux: http.NewServeMux()}
	err := v.Setup(p)
	if mc := (*MissingConfigError)(nil); len(p.missingKeys()) > 0 && (err == nil || errors.As(err, &mc)) {
		// Never activated: registered so that it is listed, with nothing
		// else, since Setup stopped short or declared with missing values.
		p.bare = true
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bot: plugin %s: setup: %w", name, err)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, fmt.Errorf("bot: plugin %s: %w", name, err)
	}
	if len(p.timers.handlers) > 0 {
		p.timers.store = e.opts.Storage.Store(name + timerStoreSuffix)
	}
	return p, nil
}

// Run connects a backend that implements Connector and resolves the
// admins and ACL names (a failure is returned at once, before any plugin
// is activated), activates the plugins, runs the backend until ctx is
// done, then shuts down: it stops taking commands, lets the running
// handlers finish up to Options.ShutdownTimeout, then cancels the
// contexts of those still running and waits ShutdownGrace more
// (meanwhile their replies, already on their way or sent as they stop,
// are still delivered), and deactivates the plugins.
// It returns nil after a shutdown through ctx, or the error that stopped
// the backend (including a failure to resolve admins or ACL names on
// connect). Run may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("bot: engine already running")
	}
	e.phase.Store(phaseStarting)
	defer e.phase.Store(phaseStopped)
	// Not ready from the moment shutdown begins, before the backend
	// has noticed.
	defer context.AfterFunc(ctx, e.stopping)()
	e.qmu.Lock()
	e.started = time.Now()
	e.qmu.Unlock()
	// Handler contexts outlive the backend's so that shutdown is ordered:
	// first the backend stops delivering, then handlers are cancelled.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	e.base.Store(&hctx)
	rbase, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer rcancel()
	e.replyBase.Store(&rbase)

	if c, ok := e.backend.(Connector); ok {
		// Connect first: a bot that cannot start says so in one line,
		// before any plugin is activated (and logs it).
		if err := e.connectFirst(ctx, c); err != nil {
			e.stopReconfigure()
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.ShutdownTimeout)
			defer dcancel()
			e.stopServices(dctx)
			e.closeBackend(dctx)
			if ctx.Err() != nil {
				return nil // stopped while connecting
			}
			return err
		}
	}

	// Under reconf: a Reconfigure then runs wholly before or after the
	// activations, never rewriting a configuration being activated.
	e.reconf.Lock()
	for _, p := range e.registry().plugins {
		if !slices.Contains(e.opts.Inactive, p.name) {
			e.reportActivation(p, e.activate(hctx, p))
		}
	}
	e.activated = true
	e.reconf.Unlock()

	bctx, bcancel := context.WithCancelCause(ctx)
	defer bcancel(nil)
	e.failConnect = bcancel
	e.phase.CompareAndSwap(phaseStarting, phaseServing) // unless shutdown began
	err := e.backend.Run(bctx, e)
	e.stopping()
	cause := context.Cause(bctx)
	bcancel(nil)

	e.drain(hcancel) // at most ShutdownTimeout + ShutdownGrace
	rcancel()
	e.stopReconfigure()

	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.ShutdownTimeout)
	defer dcancel()
	for _, p := range e.registry().plugins {
		if err := e.deactivate(dctx, p); err != nil {
			e.log.Warn("plugin deactivation failed", "plugin", p.name, "err", err)
		}
	}
	e.stopServices(dctx)
	e.closeBackend(dctx)

	var ce *connectError
	switch {
	case errors.As(cause, &ce):
		return ce.err
	case ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)):
		return nil
	case err == nil:
		return errors.New("bot: backend stopped")
	}
	return fmt.Errorf("bot: backend: %w", err)
}

// Phases of Run, for Ready.
const (
	phaseIdle     = iota // Run not called
	phaseStarting        // connecting, activating the plugins
	phaseServing         // the backend runs
	phaseStopping        // shutdown began
	phaseStopped         // Run returned
)

// stopping notes that shutdown began, unless Run has returned.
func (e *Engine) stopping() {
	for {
		p := e.phase.Load()
		if p >= phaseStopping || e.phase.CompareAndSwap(p, phaseStopping) {
			return
		}
	}
}

// The reasons Ready gives of its own.
var (
	errNotRunning   = errors.New("not running")
	errStarting     = errors.New("starting")
	errConnecting   = errors.New("connecting")
	errShuttingDown = errors.New("shutting down")
	errStopped      = errors.New("stopped")
)

// Ready reports whether the bot serves: nil once Run has activated the
// plugins and the backend is ready (Readiness; a backend without it is
// ready once it has connected), until shutdown begins. Otherwise it
// returns an error whose text is a short reason for an operator: "not
// running", "connecting", "starting", "shutting down", "stopped", or the
// backend's own ("websocket disconnected: reconnecting", "catching up").
// A daemon's readiness probe (/readyz) reports it. Ready does not block.
func (e *Engine) Ready() error {
	switch e.phase.Load() {
	case phaseIdle:
		return errNotRunning
	case phaseStopping:
		return errShuttingDown
	case phaseStopped:
		return errStopped
	}
	if r, ok := e.backend.(Readiness); ok {
		if err := r.Ready(); err != nil {
			return err
		}
	} else {
		select {
		case <-e.connected:
		default:
			return errConnecting
		}
	}
	if e.phase.Load() != phaseServing {
		return errStarting
	}
	return nil
}

// connectFirst connects a Connector backend and resolves the admins and
// ACL names; the first HandleConnect finds them resolved and fills in
// the bot's identity.
func (e *Engine) connectFirst(ctx context.Context, c Connector) error {
	if err := c.Connect(ctx); err != nil {
		return fmt.Errorf("bot: backend: %w", err)
	}
	e.resolve.Lock()
	defer e.resolve.Unlock()
	s := e.settings()
	st, unknown, err := e.connect(ctx, s.opts, User{})
	if err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	e.logUnknown(unknown)
	e.set.Store(&settings{opts: s.opts, conn: st})
	return nil
}

// logUnknown logs the names of the options the server did not know at
// the first connect (see connect): the bot runs without them.
func (e *Engine) logUnknown(unknown []string) {
	for _, u := range unknown {
		e.log.Error("name not resolved: fix the configuration", "problem", u)
	}
}

// closeBackend calls the backend's Close, if it has one.
func (e *Engine) closeBackend(ctx context.Context) {
	if c, ok := e.backend.(Closer); ok {
		if err := c.Close(ctx); err != nil {
			e.log.Warn("backend close failed", "err", err)
		}
	}
}

// connectError carries a failure of HandleConnect to Run.
type connectError struct{ err error }

func (c *connectError) Error() string { return c.err.Error() }

// ShutdownGrace is how long Run waits, after cancelling the handlers
// still running at Options.ShutdownTimeout, for them to return.
const ShutdownGrace = time.Second

// drain stops taking work, drops queued jobs and waits up to
// ShutdownTimeout for running ones to finish; then it cancels them with
// cancel and waits up to ShutdownGrace more.
func (e *Engine) drain(cancel context.CancelFunc) {
	defer cancel()
	e.qmu.Lock()
	e.closing = true
	var dropped []job
	for _, uq := range e.waiting {
		dropped = append(dropped, uq.jobs...)
		uq.jobs = nil
	}
	e.waiting, e.queued, e.queuedLate = nil, 0, 0
	close(e.unpark)
	e.checkIdle()
	running := e.active
	e.qmu.Unlock()
	for i := range dropped {
		dropped[i].tr.interrupt()
		dropped[i].tr.release()
	}
	if running > 0 {
		e.log.Info("waiting for running handlers", "running", running, "timeout", e.opts.ShutdownTimeout)
	}
	t := time.NewTimer(e.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-e.idle:
		return
	case <-t.C:
	}
	e.qmu.Lock()
	n := e.active
	e.qmu.Unlock()
	e.log.Warn("cancelling handlers still running at the shutdown timeout", "running", n, "timeout", e.opts.ShutdownTimeout)
	cancel()
	t.Reset(ShutdownGrace)
	select {
	case <-e.idle:
	case <-t.C:
		e.qmu.Lock()
		n = e.active
		e.qmu.Unlock()
		e.log.Error("handlers still running after shutdown timeout", "running", n, "timeout", e.opts.ShutdownTimeout+ShutdownGrace)
	}
}

// HandleConnect implements Handler. On the first connect it resolves the
// admins and the user and room names in ACLs to stable ids (a name the
// server does not know is logged, see connect; a server that cannot
// answer is an error, and Run returns it). Then it runs the plugins'
// OnConnect hooks and returns when they are done.
func (e *Engine) HandleConnect(ctx context.Context, self User) error {
	e.resolve.Lock()
	defer e.resolve.Unlock()
	s := e.settings()
	st := s.conn
	if st == nil {
		var (
			unknown []string
			err     error
		)
		st, unknown, err = e.connect(ctx, s.opts, self)
		if err != nil {
			err = fmt.Errorf("bot: %w", err)
			if f := e.failConnect; f != nil {
				f(&connectError{err})
			}
			return err
		}
		e.logUnknown(unknown)
	} else {
		next := *st
		next.self = self
		next.prefixes = prefixes(s.opts, self)
		st = &next
	}
	e.set.Store(&settings{opts: s.opts, conn: st})
	e.log.Info("connected", "user_id", self.ID, "username", self.Username)
	// Wait for the OnConnect hooks (they run concurrently, each with its
	// deadline) so that a backend delivers events to a ready bot.
	tr := newTracker()
	for _, p := range e.registry().plugins {
		if !p.isActive() {
			continue
		}
		for _, f := range p.onConnect {
			e.submitFunc(p, tr, func(ctx context.Context) error { return f(ctx, self) }, "connect")
		}
	}
	tr.release()
	select {
	case <-tr.done:
	case <-ctx.Done():
	}
	select {
	case <-e.connected:
	default:
		close(e.connected) // under e.resolve: closed once
	}
	return nil
}

// prefixes returns the lower-case alternative prefixes of opts, and the
// bot's own "@username".
func prefixes(opts *Options, self User) []string {
	var ps []string
	for _, a := range opts.AltPrefixes {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			ps = append(ps, a)
		}
	}
	if self.Username != "" {
		ps = append(ps, "@"+strings.ToLower(self.Username))
	}
	return ps
}

// UnknownNames resolves the admins and the user and room names of the
// access rules of opts through b, a connected backend, as the engine does
// when it first connects, and returns a line for each name b does not
// know and what the engine then does without it (see Options.Admins and
// Rule). The error is any other failure: b could not answer. Programs
// that check a configuration without running it, such as matterbot
// check, call it.
func UnknownNames(ctx context.Context, b Backend, opts *Options) ([]string, error) {
	e := &Engine{backend: b}
	_, unknown, err := e.connect(ctx, opts, User{})
	return unknown, err
}

// connect resolves the admins and the names in the ACLs of opts to ids,
// through the backend, for the bot self. A name the server does not
// know (a person or a channel renamed while the bot was down) fails
// closed, and is returned in unknown, one line each: an admin is no
// one's; a name in an allow list lets no one in; a name in a deny list
// makes its rule refuse everyone (see compiledRule.broken). Stopping the
// bot for it, as it once did, took a whole team's chat-ops down at the
// first restart after a rename. Any other failure (the server cannot
// answer) is an error.
func (e *Engine) connect(ctx context.Context, opts *Options, self User) (st *connState, unknown []string, err error) {
	st = &connState{self: self, prefixes: prefixes(opts, self), admins: map[string]bool{}}
	for _, a := range opts.Admins {
		u, err := e.backend.User(ctx, strings.TrimPrefix(a, "@"))
		if errors.Is(err, ErrUnknown) {
			unknown = append(unknown, fmt.Sprintf("admin %s: no such user on the server: not an admin", a))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("admin %s: %w", a, err)
		}
		st.admins[u.ID] = true
	}
	for i, acl := range opts.ACLs {
		name := fmt.Sprintf("access rule %d (match %s)", i+1, acl.Pattern)
		r, err := e.compileRule(ctx, acl.Rule, name, &unknown)
		if err != nil {
			return nil, nil, fmt.Errorf("ACL %q: %w", acl.Pattern, err)
		}
		st.acls = append(st.acls, compiledACL{pattern: strings.ToLower(acl.Pattern), rule: r})
	}
	r, err := e.compileRule(ctx, opts.DefaultACL, "the default access rule", &unknown)
	if err != nil {
		return nil, nil, fmt.Errorf("default ACL: %w", err)
	}
	st.defACL = r
	return st, unknown, nil
}

// Self returns the bot's own identity, known once the backend connected.
func (e *Engine) Self() User {
	if st := e.settings().conn; st != nil {
		return st.self
	}
	return User{}
}

// Prefix returns the command prefix ("!").
func (e *Engine) Prefix() string { return e.options().Prefix }

// AltPrefixes returns the alternative prefixes in force
// (Options.AltPrefixes, as configured; the bot's own "@username", always
// one, is not listed). The caller owns the slice.
func (e *Engine) AltPrefixes() []string { return slices.Clone(e.options().AltPrefixes) }

// Admins returns the bot's admins in force (Options.Admins, as
// configured: "@alice"). The caller owns the slice.
func (e *Engine) Admins() []string { return slices.Clone(e.options().Admins) }

// Version returns Options.Version.
func (e *Engine) Version() string { return e.opts.Version }

// IsAdmin reports whether the user with the given id is a bot admin.
func (e *Engine) IsAdmin(userID string) bool {
	st := e.settings().conn
	return st != nil && st.admins[userID]
}

// Stats is a snapshot of the engine's work.
type Stats struct {
	Started time.Time // when Run started
	Running int       // handlers running now in a slot (not those past OverrunGrace)
	Queued  int       // handlers waiting for a slot
	Plugins int       // registered plugins
	Active  int       // active plugins
	// RepliesSent counts the messages the backend sent for commands and
	// listeners since New, RepliesFailed those it failed to send: their
	// replies (Request.Reply and its variants, Ask's questions,
	// Request.Send) and the engine's answers for them (usage, errors,
	// refusals, busy).
	RepliesSent, RepliesFailed uint64
}

// Stats returns a snapshot of the engine's work.
func (e *Engine) Stats() Stats {
	e.qmu.Lock()
	s := Stats{Started: e.started, Running: e.active, Queued: e.queued}
	e.qmu.Unlock()
	s.RepliesSent, s.RepliesFailed = e.repliesSent.Load(), e.repliesFailed.Load()
	ps := e.registry().plugins
	s.Plugins = len(ps)
	for _, p := range ps {
		if p.isActive() {
			s.Active++
		}
	}
	return s
}

// Schedules returns the periodic jobs plugins declared with Plugin.Every
// and Plugin.Cron. Run runs them while their plugin is active; calling
// a Schedule's Run directly is for tests.
func (e *Engine) Schedules() []Schedule {
	var out []Schedule
	for _, p := range e.registry().plugins {
		for _, s := range p.scheds {
			out = append(out, s.Schedule)
		}
	}
	return out
}

// Webhooks returns the HTTP endpoints plugins declared with
// Plugin.Webhook and Webhook. HTTPHandler serves them all.
func (e *Engine) Webhooks() []Hook { return slices.Clone(e.registry().hooks) }

// goService runs f in a goroutine that Run waits for before it returns.
// It reports false, and does not run f, once Run has stopped.
func (e *Engine) goService(f func()) bool {
	if !e.enterService() {
		return false
	}
	go func() {
		defer e.svc.Done()
		f()
	}()
	return true
}

// enterService counts a service (a webhook request) that Run waits for;
// the caller calls e.svc.Done when it is over. It reports false once Run
// has stopped.
func (e *Engine) enterService() bool {
	e.smu.Lock()
	defer e.smu.Unlock()
	if e.svcClosed {
		return false
	}
	e.svc.Add(1)
	return true
}

// stopServices refuses new services and waits for the running ones
// (their contexts are already cancelled), or for ctx.
func (e *Engine) stopServices(ctx context.Context) {
	e.smu.Lock()
	e.svcClosed = true
	e.smu.Unlock()
	done := make(chan struct{})
	go func() {
		e.svc.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		e.log.Error("schedules or webhooks still running after shutdown timeout", "timeout", e.opts.ShutdownTimeout)
	}
}

// sent counts a reply sent, or failed when err is not nil, and returns
// err.
func (e *Engine) sent(err error) error {
	if err != nil {
		e.repliesFailed.Add(1)
	} else {
		e.repliesSent.Add(1)
	}
	return err
}

// baseContext returns the parent of handler contexts, or nil before Run.
func (e *Engine) baseContext() context.Context {
	if p := e.base.Load(); p != nil {
		return *p
	}
	return nil
}

// Send sends out to an address: "@alice" (a direct message), "~ops" or
// "~team/ops", or by id, "@" + User.ID or "~" + Room.ID, which still
// reaches the user or room after a rename (see Address). The address is
// resolved through the backend on each call. out.ThreadID, when set,
// must be a thread of that room.
func (e *Engine) Send(ctx context.Context, to string, out Outgoing) error {
	a, err := ParseAddress(to)
	if err != nil {
		return err
	}
	out.RoomID, out.UserID = "", ""
	if a.User != "" {
		u, err := e.backend.User(ctx, a.User)
		if err != nil {
			return fmt.Errorf("bot: send to %s: %w", to, err)
		}
		out.UserID = u.ID
	} else {
		r, err := e.backend.Room(ctx, a.Team, a.Room)
		if err != nil {
			return fmt.Errorf("bot: send to %s: %w", to, err)
		}
		out.RoomID = r.ID
	}
	return e.backend.Send(ctx, &out)
}

// ErrUnknown is wrapped by backends' errors for a user or room that does
// not exist (Backend.User, Backend.Room).
var ErrUnknown = errors.New("bot: no such user or room")
