package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Setuper is a plugin: a Go value whose Setup method declares, on p, what
// the plugin does. Setup runs once, when the engine is built; it must not
// do I/O (use OnActivate for that).
//
// The plugin's name is its type name in lower case (*Deploy is "deploy"),
// unless the value also has a Name() string method.
type Setuper interface {
	Setup(p *Plugin) error
}

// HandlerFunc runs a command or listener. It returns nil when done, or an
// error that the engine reports to the user: a *UsageError with the
// command's usage line, a *UserError with its text, an unanswered
// question (ErrNoAnswer) with the command's NoAnswer text, the handler's
// deadline with a timeout notice. Any other error is internal: the user
// gets "Sorry, `!deploy` failed (ref 7f3a9c)." and the log has the error
// with the same reference. Handlers send replies through req (Reply,
// Card, File, React) as often as they like while they work.
type HandlerFunc func(ctx context.Context, req *Request) error

// Text adapts a handler that returns its reply as a string: a non-empty
// string is sent as the reply (markdown), then the error, if any, is
// reported.
//
//	p.Command("ping", bot.Text(func(ctx context.Context, req *bot.Request) (string, error) {
//		return "pong", nil
//	}))
func Text(f func(ctx context.Context, req *Request) (string, error)) HandlerFunc {
	return func(ctx context.Context, req *Request) error {
		s, err := f(ctx, req)
		if s != "" {
			if rerr := req.Reply(s); rerr != nil && err == nil {
				err = rerr
			}
		}
		return err
	}
}

// Plugin is a plugin's handle on the engine: Setup declares commands,
// listeners, callbacks and lifecycle hooks on it, and handlers use it to
// reach the plugin's store and config and to send messages at any time.
// The declaring methods (Command, Listen, On..., Every, Cron, Webhook)
// may only be called from Setup; the others are safe for concurrent use.
type Plugin struct {
	engine *Engine
	value  Setuper
	name   string
	store  Store

	// Declared in Setup; read-only afterwards.
	desc         string
	cmds         []*Cmd
	onActivate   []func(context.Context) error
	onDeactivate []func(context.Context) error
	onConnect    []func(context.Context, User) error
	onMessage    []func(context.Context, *Message) error
	onReaction   []func(context.Context, *Reaction) error
	onPresence   []func(context.Context, *Presence) error
	onJoin       []func(context.Context, *Join) error
	onLeave      []func(context.Context, *Leave) error
	scheds       []*schedule
	hooks        []Hook         // webhooks, for the engine's registry
	mux          *http.ServeMux // the plugin's own webhooks: declaring one checks its pattern
	timers       timers         // one-shot timers: handlers declared in Setup, and their loop's state
	errs         []error        // declaration mistakes, reported by New
	// bare is set by New for a plugin registered without what its Setup
	// declared, because its required configuration was missing: only a
	// restart, which runs Setup again, can activate it.
	bare bool

	// Interactive messages, declared in Setup; read-only afterwards.
	clicks map[string]*ClickHandler // by action name (OnClick)
	forms  map[string]*FormHandler  // by dialog name (Form)

	// cfgMu guards the plugin's configuration, which Engine.Reconfigure
	// replaces while admins read it.
	cfgMu    sync.Mutex
	config   any           // guarded by cfgMu: the pointer given to Config
	defaults reflect.Value // guarded by cfgMu: a copy of *config before Config decoded into it
	missing  []string      // guarded by cfgMu: required config keys that are not set: not activated
	table    []byte        // guarded by cfgMu: the table Config read, as JSON; nil for none

	// runMu guards the count of the plugin's handlers, callbacks and
	// webhook requests in progress, which Engine.Reconfigure waits for,
	// once the plugin is inactive, before it rewrites the configuration
	// they read.
	runMu   sync.Mutex
	running int           // guarded by runMu
	drained chan struct{} // guarded by runMu: closed when running drops to 0; nil when nobody waits

	// life serializes activation and deactivation, whose hooks may be
	// slow; active is read on every message without waiting for them.
	life     sync.Mutex
	active   atomic.Bool
	stopJobs context.CancelFunc // guarded by life: cancels actx, or nil
	jobsDone chan struct{}      // guarded by life: closed when the schedules have returned
	// actx is cancelled when the plugin is deactivated; it is the parent
	// of schedule runs and webhook requests. Nil before the first
	// activation under Run.
	actx atomic.Pointer[context.Context]
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Describe sets the one-line description shown by help.
func (p *Plugin) Describe(description string) { p.desc = description }

// Store returns the plugin's private key/value store. It is the same store
// on every call.
func (p *Plugin) Store() Store { return p.store }

// Engine returns the engine the plugin is registered with: the way to
// list and manage plugins, as plugins/admin does.
func (p *Plugin) Engine() *Engine { return p.engine }

// Send sends out to an address ("@alice", "~ops", "~team/ops", or an
// id: "@" + User.ID, "~" + Room.ID) at any time, from a schedule or a
// callback. See Engine.Send.
func (p *Plugin) Send(ctx context.Context, to string, out Outgoing) error {
	if err := p.stampOutgoing(&out); err != nil {
		return err
	}
	return p.engine.Send(ctx, to, out)
}

// Config decodes the plugin's configuration (Options.PluginConfig[name])
// into v, a pointer to a struct whose fields are already set to their
// defaults. Keys without a matching field are an error. Fields tagged
// secret:"" are shown as "******" by Engine.PluginConfig. Call Config from
// Setup, and return its error from Setup: New then names the plugin.
//
// When the plugin's table changes while the bot runs (Engine.Reconfigure,
// a reload of the configuration file), the engine deactivates the
// plugin, waits for its handlers, decodes the new table into the same v,
// reset to the defaults it held when Config was first called, and
// activates the plugin again: what Setup declared stays, and handlers
// that read v see the new values. A plugin that wants to keep running
// while its configuration changes implements Reconfigurer and calls
// Config from its Reconfigure method.
//
// Fields tagged required:"" must be set: a required field left at its
// zero value (an empty string or list included) is missing, and Config
// returns a *MissingConfigError naming the keys. That error does not
// make New fail: the plugin is registered but never activated, Run logs
// one error line naming it and the keys, and the bot serves the other
// plugins, as Errbot does. Wrong types and unknown keys stay errors
// that New returns.
//
//	type Config struct {
//		Services []string `toml:"services" required:""`
//		Room     string   `toml:"room"`
//	}
//
// A value with a method Decode(v any) error (config.PluginTable) decodes
// itself, so that its errors keep the file and line it gives them; any
// other value goes through encoding/json.
func (p *Plugin) Config(v any) error {
	if err := p.decodeConfig(v); err != nil {
		return err
	}
	return p.checkRequired(v)
}

// decodeConfig decodes the plugin's configuration into v.
func (p *Plugin) decodeConfig(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("bot: plugin %s: Config needs a non-nil pointer, got %T", p.name, v)
	}
	raw, ok := p.engine.options().PluginConfig[p.name]
	table, _ := tableJSON(raw, ok)
	p.cfgMu.Lock()
	if p.config != v {
		p.defaults = deepCopy(rv.Elem())
	}
	p.config, p.table = v, table
	p.cfgMu.Unlock()
	if !ok {
		return nil
	}
	return decodeTable(raw, v)
}

// decodeTable decodes raw, a plugin's table, into v.
func decodeTable(raw, v any) error {
	if d, ok := raw.(interface{ Decode(v any) error }); ok {
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// OnActivate registers f to run when the plugin is activated: when the
// engine starts, and when an admin activates it at run time. An error
// leaves the plugin inactive.
func (p *Plugin) OnActivate(f func(ctx context.Context) error) {
	p.onActivate = append(p.onActivate, f)
}

// OnDeactivate registers f to run when the plugin is deactivated: at
// shutdown, and when an admin deactivates it.
func (p *Plugin) OnDeactivate(f func(ctx context.Context) error) {
	p.onDeactivate = append(p.onDeactivate, f)
}

// OnConnect registers f to run each time the backend (re)connects.
func (p *Plugin) OnConnect(f func(ctx context.Context, self User) error) {
	p.onConnect = append(p.onConnect, f)
}

// OnMessage registers f to run on every message the bot sees, command or
// not (Errbot's callback_message).
func (p *Plugin) OnMessage(f func(ctx context.Context, m *Message) error) {
	p.onMessage = append(p.onMessage, f)
}

// OnReaction registers f to run when a reaction is added or removed.
func (p *Plugin) OnReaction(f func(ctx context.Context, r *Reaction) error) {
	p.onReaction = append(p.onReaction, f)
}

// OnPresence registers f to run when a user's status changes.
func (p *Plugin) OnPresence(f func(ctx context.Context, pr *Presence) error) {
	p.onPresence = append(p.onPresence, f)
}

// OnJoin registers f to run when a user (or the bot) joins a room.
func (p *Plugin) OnJoin(f func(ctx context.Context, j *Join) error) {
	p.onJoin = append(p.onJoin, f)
}

// OnLeave registers f to run when a user (or the bot) leaves a room or is
// removed from it, on backends that report it (see LeaveHandler).
func (p *Plugin) OnLeave(f func(ctx context.Context, l *Leave) error) {
	p.onLeave = append(p.onLeave, f)
}

// Cmd is a declared command, regex command or listener. Its methods
// refine the declaration and return the Cmd so they chain:
//
//	p.Command("deploy rollback", h).Help("roll back").AdminOnly()
type Cmd struct {
	plugin   *Plugin
	name     string // lower case; words separated by one space
	aliases  []string
	help     string
	usage    string
	hidden   bool
	admin    bool
	timeout  time.Duration
	noAnswer string // see NoAnswer; "" for the default
	divert   divert
	handler  HandlerFunc
	args     *argSpec       // typed arguments, or nil
	re       *regexp.Regexp // regex commands and listeners
	prefixed bool           // regex commands: only after the prefix
	listener bool
	emoji    string        // reaction triggers (Reaction): the emoji, without colons
	rerun    time.Duration // RerunOnEdit's window; 0: not re-run
}

type divert int

const (
	divertNone divert = iota
	divertThread
	divertPrivate
)

var errNoHandler = errors.New("nil handler")

// Command declares a command whose handler reads its arguments from the
// Request (Args, Words). name may have several words ("deploy status");
// the longest declared name that matches wins.
func (p *Plugin) Command(name string, h HandlerFunc) *Cmd {
	c := &Cmd{plugin: p, name: normalizeName(name), handler: h}
	if c.name == "" {
		p.errs = append(p.errs, fmt.Errorf("command %q: empty name", name))
	}
	if h == nil {
		p.errs = append(p.errs, fmt.Errorf("command %q: %w", name, errNoHandler))
	}
	p.cmds = append(p.cmds, c)
	return c
}

// Command declares a command with typed arguments: the words after the
// command are parsed into a new A (a struct; see the tags below) before h
// runs. Bad arguments never reach h: the user gets the problem and the
// usage line, generated from A.
//
// Struct tags, in the style of kong:
//
//	arg:""         a positional argument (in field order); untagged fields are --flags
//	name:"x"       the flag or placeholder name (default: field name in kebab-case)
//	short:"f"      a one-letter alias for a flag (-f)
//	help:"..."     shown in the command's help
//	enum:"a,b"     the allowed values
//	default:"v"    the value when absent (makes a positional optional)
//	optional:""    a positional that may be absent
//
// Field types: string, bool, integers, floats, time.Duration, []string (a
// repeatable flag, or the last positional, taking the remaining words).
func Command[A any](p *Plugin, name string, h func(ctx context.Context, req *Request, args A) error) *Cmd {
	spec, err := newArgSpec(reflect.TypeFor[A]())
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("command %q: %w", name, err))
		spec = &argSpec{typ: reflect.TypeFor[A]()}
	}
	var hf HandlerFunc
	if h != nil {
		hf = func(ctx context.Context, req *Request) error {
			var a A
			words, err := req.Words()
			if err != nil {
				return err
			}
			if err := spec.parse(words, reflect.ValueOf(&a).Elem()); err != nil {
				return err
			}
			return h(ctx, req, a)
		}
	}
	c := p.Command(name, hf)
	c.args = spec
	return c
}

// Regex declares a command matched by a regular expression instead of a
// name, Errbot's re_botcmd. By default the message must start with the
// prefix (or be a direct message); Prefixed(false) matches any message.
// The pattern is matched against the text after the prefix; the match
// groups are in Request.Match. name is used for help and ACLs.
//
// A command given with the prefix that starts with name (or with the
// first word of the pattern's literal prefix: "ticket" for
// `^ticket #(\d+)$`) but does not match is answered with the command's
// usage line, not "not found": give it one with Usage.
//
//	p.Regex("ticket", `^ticket #(\d+)$`, t.show).Usage("#<number>")
func (p *Plugin) Regex(name, pattern string, h HandlerFunc) *Cmd {
	c := p.Command(name, h)
	c.prefixed = true
	re, err := regexp.Compile(pattern)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("regex command %q: %w", name, err))
		re = regexp.MustCompile(`$^`) // never matches
	}
	c.re = re
	return c
}

// Listen declares a listener: h runs on every message whose text matches
// pattern anywhere, with or without a prefix (Errbot's botmatch). The
// match groups are in Request.Match. Listeners are hidden from help; ACLs
// see them as "listen".
func (p *Plugin) Listen(pattern string, h HandlerFunc) *Cmd {
	c := p.Regex("listen", pattern, h)
	c.prefixed, c.listener, c.hidden = false, true, true
	return c
}

// Reaction declares a reaction trigger: h runs when someone adds the
// emoji (its name, with or without colons: "rocket", ":rocket:") to a
// message the bot can see, as Errbot has no way to. The request's
// Message stands for the message reacted to: its ID and Room, From the
// user who reacted (whom the access rules check, the command being
// "reaction EMOJI", and whom replies answer), no text; Request.Reaction
// is the reaction. Replies go to the room (not to the message's thread,
// which the reaction does not tell). Like a listener it is hidden from
// help, and a refusal is logged, not said. Removing the reaction, and
// the bot's own reactions, start nothing.
//
//	p.Reaction("rocket", d.deployApproved)
func (p *Plugin) Reaction(emoji string, h HandlerFunc) *Cmd {
	emoji = strings.ToLower(strings.Trim(strings.TrimSpace(emoji), ":"))
	c := p.Command("reaction "+emoji, h)
	c.listener, c.hidden, c.emoji = true, true, emoji
	if emoji == "" || strings.ContainsAny(emoji, " \t") {
		p.errs = append(p.errs, fmt.Errorf("reaction %q: want an emoji name such as rocket", emoji))
	}
	return c
}

// Alias adds other names for the command.
func (c *Cmd) Alias(names ...string) *Cmd {
	for _, n := range names {
		if n := normalizeName(n); n != "" {
			c.aliases = append(c.aliases, n)
		}
	}
	return c
}

// Help sets the help text: its first line is the summary in the command
// list; all of it is shown by "help <command>".
func (c *Cmd) Help(text string) *Cmd { c.help = text; return c }

// Usage sets the usage line shown after the command name ("<service>
// <env>"). Typed commands generate it from their argument struct.
func (c *Cmd) Usage(line string) *Cmd { c.usage = line; return c }

// Hidden leaves the command out of help.
func (c *Cmd) Hidden() *Cmd { c.hidden = true; return c }

// AdminOnly restricts the command to the bot's admins.
func (c *Cmd) AdminOnly() *Cmd { c.admin = true; return c }

// Timeout sets the handler's deadline (default Options.CommandTimeout).
func (c *Cmd) Timeout(d time.Duration) *Cmd { c.timeout = d; return c }

// NoAnswer sets what the engine says when the handler returns the error
// of a question left unanswered (Request.Ask, ErrNoAnswer): "No answer:
// deploy cancelled.". It is sent as is, where the question was asked.
// Default: "`!deploy`: no answer, so I stopped waiting.".
func (c *Cmd) NoAnswer(text string) *Cmd { c.noAnswer = text; return c }

// InThread sends the command's replies in a thread: the thread the command
// came from, or a new one started on the command (Errbot's
// DIVERT_TO_THREAD). A slash command, which is no post, starts none: its
// replies go where its answers are shown.
func (c *Cmd) InThread() *Cmd { c.divert = divertThread; return c }

// Private sends the command's replies as a direct message to the caller
// (Errbot's DIVERT_TO_PRIVATE).
func (c *Cmd) Private() *Cmd { c.divert = divertPrivate; return c }

// DefaultEditWindow is RerunOnEdit's window when it is given none.
const DefaultEditWindow = 2 * time.Minute

// RerunOnEdit makes the command run again when its author edits the
// message within window of posting it (0 or less: DefaultEditWindow):
// a typo fixed in "!deploy api prdo" deploys to prod. The new run's
// replies replace the first run's where the backend can edit its posts
// (Mattermost: the bot's replies are updated in place, extra old ones
// deleted); elsewhere they are sent anew. An edit that names another
// command re-runs it if that command asked for it too.
func (c *Cmd) RerunOnEdit(window time.Duration) *Cmd {
	if window <= 0 {
		window = DefaultEditWindow
	}
	c.rerun = window
	return c
}

// Prefixed sets whether a regex command needs the prefix (default true).
func (c *Cmd) Prefixed(required bool) *Cmd { c.prefixed = required; return c }

// Name returns the command's name.
func (c *Cmd) Name() string { return c.name }

// normalizeName lower-cases name and joins its words with single spaces.
func normalizeName(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(name)), " ")
}

// synopsis returns "deploy <service> <env> [--force]" (without prefix).
func (c *Cmd) synopsis() string {
	u := c.usage
	if u == "" && c.args != nil {
		u = c.args.usage()
	}
	if c.re != nil && u == "" {
		return c.name
	}
	if u == "" {
		return c.name
	}
	return c.name + " " + u
}
