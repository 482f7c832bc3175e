package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Interactive messages: buttons and menus on a card (Card.Actions), whose
// clicks come back to the plugin that sent them.
//
// A plugin declares in Setup what a click runs, by name, with OnClick,
// and puts actions of that name on the cards it sends:
//
//	func (d *Deploy) Setup(p *bot.Plugin) error {
//		p.OnClick("approve", d.approve)
//		...
//	}
//
//	req.Card(bot.Card{Title: "deploy api to prod?", Actions: []bot.Action{
//		bot.Button("Approve", "approve", "api/prod").Styled("primary"),
//	}})
//
//	func (d *Deploy) approve(ctx context.Context, c *bot.Click) error {
//		c.Update("", &bot.Card{Title: "approved by " + c.User.String()})
//		return nil
//	}
//
// The handler is found by name when the click comes, so a button keeps
// working across restarts as long as the plugin still declares it. The
// backend carries the plugin's name, the action's name and its Value with
// the button, signed so that nobody but the bot can make one (on
// Mattermost: in the action's integration context, which the server
// never shows to clients).

// Kinds of Action.
const (
	// ActionButton is a button (the zero Kind).
	ActionButton = ""
	// ActionMenu is a menu of Action.Options.
	ActionMenu = "menu"
	// ActionUsers is a menu of the chat system's users: Click.Selected
	// is the chosen user's id.
	ActionUsers = "users"
	// ActionChannels is a menu of the chat system's rooms: Click.Selected
	// is the chosen room's id.
	ActionChannels = "channels"
)

// Action is a button or a menu on a Card. Build one with Button, Menu,
// UserMenu or ChannelMenu.
type Action struct {
	// Name is the click handler the sending plugin declared with
	// Plugin.OnClick. Required.
	Name string
	// Label is the text on the button, or the menu's placeholder.
	// Required.
	Label string
	// Value is given to the handler as Click.Value: which deployment a
	// button approves. It travels with the button, signed, and is never
	// shown to users; keep it short (an id, not a document).
	Value string
	// Kind is ActionButton (""), ActionMenu, ActionUsers or
	// ActionChannels.
	Kind string
	// Style colours a button: "default", "primary", "success", "good",
	// "warning", "danger" or "#RRGGBB". Default "": the client's own.
	Style string
	// Options are the choices of an ActionMenu.
	Options []Option
	// Default is the value of the option a menu shows selected at first.
	Default string
	// Disabled shows the action greyed out; it cannot be clicked.
	Disabled bool
	// Plugin is the plugin whose handler runs. The engine sets it to the
	// sending plugin when the card is sent through a Request, a Click, a
	// Submission or Plugin.Send; a card sent another way (Engine.Send)
	// must set it.
	Plugin string
}

// Option is one choice of a menu (Action.Options) or of a dialog's
// select or radio field: Text is shown, Value is what the handler gets.
type Option struct {
	Text  string
	Value string
}

// Button returns a button labelled label that runs the plugin's click
// handler name with value.
func Button(label, name, value string) Action {
	return Action{Name: name, Label: label, Value: value}
}

// Menu returns a menu with placeholder label and the given options; a
// choice runs the plugin's click handler name, with the option's value
// in Click.Selected.
func Menu(label, name string, options ...Option) Action {
	return Action{Name: name, Label: label, Kind: ActionMenu, Options: options}
}

// UserMenu returns a menu of the chat system's users; a choice runs the
// click handler name with the user's id in Click.Selected.
func UserMenu(label, name string) Action {
	return Action{Name: name, Label: label, Kind: ActionUsers}
}

// ChannelMenu returns a menu of the chat system's rooms; a choice runs
// the click handler name with the room's id in Click.Selected.
func ChannelMenu(label, name string) Action {
	return Action{Name: name, Label: label, Kind: ActionChannels}
}

// Styled returns a with Style set to style.
func (a Action) Styled(style string) Action { a.Style = style; return a }

// WithValue returns a with Value set to value.
func (a Action) WithValue(value string) Action { a.Value = value; return a }

// WithDefault returns a (a menu) with Default set to value.
func (a Action) WithDefault(value string) Action { a.Default = value; return a }

// ClickFunc handles a click on a card's action (see Plugin.OnClick). It
// answers through c (Update, Ephemeral, Reply, OpenDialog). Its error
// reaches the clicking user as an ephemeral message: a *UserError with
// its text, any other error as a reference to the log.
type ClickFunc func(ctx context.Context, c *Click) error

// ClickHandler is a declared click handler. Its methods refine the
// declaration and return it so they chain; like the declaration, they
// may only be called from Setup.
type ClickHandler struct {
	plugin  *Plugin
	name    string
	h       ClickFunc
	admin   bool
	timeout time.Duration
}

// AdminOnly lets only the bot's admins click the action; others get an
// ephemeral refusal.
func (c *ClickHandler) AdminOnly() *ClickHandler { c.admin = true; return c }

// Timeout sets the handler's deadline. Default: Options.CommandTimeout,
// at most DefaultClickTimeout. The chat server waits a limited time for
// the answer (Mattermost: ServiceSettings.OutgoingIntegrationRequestsTimeout,
// 30 s by default); an Update or Ephemeral given after that is lost,
// while Reply still posts.
func (c *ClickHandler) Timeout(d time.Duration) *ClickHandler { c.timeout = d; return c }

// DefaultClickTimeout bounds a click handler without its own Timeout: the
// chat server stops waiting for the answer after 30 s by default.
const DefaultClickTimeout = 25 * time.Second

// OnClick declares the handler of the card actions named name that this
// plugin sends (see Action). A click is checked against the access rules
// as a command of that name (an ACL "deploy:approve", "deploy:*" or
// "approve" applies; in the room of the card), and runs h at once, not
// behind queued commands. name is any non-empty string; two declarations
// of one name are an error.
func (p *Plugin) OnClick(name string, h ClickFunc) *ClickHandler {
	c := &ClickHandler{plugin: p, name: name, h: h}
	switch {
	case name == "":
		p.errs = append(p.errs, errors.New("click handler: empty name"))
	case h == nil:
		p.errs = append(p.errs, fmt.Errorf("click handler %q: %w", name, errNoHandler))
	case p.clicks[name] != nil:
		p.errs = append(p.errs, fmt.Errorf("click handler %q declared twice", name))
	default:
		if p.clicks == nil {
			p.clicks = map[string]*ClickHandler{}
		}
		p.clicks[name] = c
	}
	return c
}

// Click is a click on a card's action (or a choice in its menu), as a
// backend delivers it to the engine (ActionHandler) and the engine hands
// it to the plugin's ClickFunc. The backend sets the exported fields;
// the handler answers through the methods.
type Click struct {
	// Plugin and Action name the handler: Action.Plugin and Action.Name
	// of the action clicked.
	Plugin, Action string
	// Value is the action's Value.
	Value string
	// Selected is the choice of a menu: an option's value, a user's id
	// (ActionUsers) or a room's id (ActionChannels); "" for a button.
	Selected string
	// User is who clicked.
	User User
	// Room is where the card is; Direct reports a direct message with
	// the bot.
	Room   Room
	Direct bool
	// MessageID is the id of the message that carries the card; ThreadID
	// the id of its thread's root ("" when the card is not in a thread).
	MessageID string
	ThreadID  string
	// TriggerID lets the handler open a dialog (OpenDialog) in answer to
	// the click, for a few seconds; "" when the backend has none.
	TriggerID string

	ctx    context.Context
	engine *Engine
	plugin *Plugin
	id     uint32
	answer ClickAnswer
}

// ClickAnswer is how a click handler answered, for the backend to send
// back (Click.Answer).
type ClickAnswer struct {
	// Update, when not nil, replaces the message that carries the card.
	Update *Update
	// Ephemeral is text (markdown) shown to the clicking user alone;
	// "" for none.
	Ephemeral string
}

// Update is the new content of a message a click updates: its text and
// its card. A nil Card removes the card (and its actions).
type Update struct {
	Text string
	Card *Card
}

// Context returns the handler's context.
func (c *Click) Context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// ID returns the click's reference, as Request.ID.
func (c *Click) ID() string { return refString(c.id) }

// Answer returns how the handler answered; backends call it once the
// engine's HandleClick has returned.
func (c *Click) Answer() ClickAnswer { return c.answer }

// IsAdmin reports whether the clicking user is a bot admin.
func (c *Click) IsAdmin() bool { return c.engine != nil && c.engine.IsAdmin(c.User.ID) }

// Update replaces the message that carries the card with text and card
// (nil: no card any more), when the handler returns. The actions of card
// must be declared by the plugin (OnClick). Calling it again replaces
// the earlier update.
func (c *Click) Update(text string, card *Card) error {
	if card != nil {
		stamped, err := c.plugin.stampCard(card)
		if err != nil {
			return err
		}
		card = stamped
	}
	c.answer.Update = &Update{Text: text, Card: card}
	return nil
}

// Ephemeral shows text (markdown) to the clicking user alone, in the
// room of the card, when the handler returns. Calling it again replaces
// the earlier text.
func (c *Click) Ephemeral(text string) { c.answer.Ephemeral = text }

// Reply posts text in the room (and thread) of the card, at once.
func (c *Click) Reply(text string) error {
	return c.send(&Outgoing{Text: text})
}

// Card posts a card in the room (and thread) of the card, at once.
func (c *Click) Card(card Card) error {
	return c.send(&Outgoing{Card: &card})
}

func (c *Click) send(out *Outgoing) error {
	out.RoomID, out.ThreadID, out.ReplyTo = c.Room.ID, c.ThreadID, c.MessageID
	if err := c.plugin.stampOutgoing(out); err != nil {
		return err
	}
	if err := c.engine.sent(c.engine.backend.Send(c.Context(), out)); err != nil {
		return fmt.Errorf("bot: reply: %w", err)
	}
	return nil
}

// stampCard returns card with its actions checked against the click
// handlers p declared and their Plugin set to p; card itself is left
// alone.
func (p *Plugin) stampCard(card *Card) (*Card, error) {
	if len(card.Actions) == 0 {
		return card, nil
	}
	cc := *card
	cc.Actions = make([]Action, len(card.Actions))
	for i, a := range card.Actions {
		if a.Plugin != "" && a.Plugin != p.name {
			q := p.engine.registry().byName[a.Plugin]
			if q == nil || q.clicks[a.Name] == nil {
				return nil, fmt.Errorf("bot: card action %q of plugin %q: no such click handler", a.Name, a.Plugin)
			}
			cc.Actions[i] = a
			continue
		}
		if p.clicks[a.Name] == nil {
			return nil, fmt.Errorf("bot: card action %q: plugin %s declares no click handler of that name (Plugin.OnClick)", a.Name, p.name)
		}
		a.Plugin = p.name
		cc.Actions[i] = a
	}
	return &cc, nil
}

// stampOutgoing stamps out's card (see stampCard).
func (p *Plugin) stampOutgoing(out *Outgoing) error {
	if p == nil || out.Card == nil || len(out.Card.Actions) == 0 {
		return nil
	}
	c, err := p.stampCard(out.Card)
	if err != nil {
		return err
	}
	out.Card = c
	return nil
}

// ActionHandler is the optional part of Handler for interactive messages;
// *Engine implements it. A backend that receives a click on a card's
// action (or a dialog's submission) and has checked that it is genuine
// (signed by the bot, not expired) resolves the user and the room, calls
// HandleClick (HandleSubmission) and sends back what the handler answered
// (Click.Answer, Submission.Answer). The call runs the handler and
// returns when it is done; ctx is the request's (it ends when the chat
// server stops waiting).
type ActionHandler interface {
	HandleClick(ctx context.Context, c *Click)
	HandleSubmission(ctx context.Context, s *Submission)
}

// Words of the engine's answers to clicks it cannot run.
const (
	clickUnknown  = "This button no longer works: the bot does not know it any more."
	clickInactive = "This button does not work right now: the %s plugin is not active."
	clickStopped  = "The bot is not running right now; try again in a moment."
)

// HandleClick runs the click handler c names, checked against the access
// rules, and leaves its answer in c (Click.Answer). A click the engine
// cannot run (an unknown plugin or action, an inactive plugin, a refused
// user, a failed handler) is answered with an ephemeral message that says
// why. It implements ActionHandler.
func (e *Engine) HandleClick(ctx context.Context, c *Click) {
	c.engine, c.id = e, newRef()
	p := e.registry().byName[c.Plugin]
	var h *ClickHandler
	if p != nil {
		h = p.clicks[c.Action]
	}
	log := e.log.With("plugin", c.Plugin, "action", c.Action, "user_id", c.User.ID, "room_id", c.Room.ID)
	if h == nil {
		log.Info("click refused", "reason", "unknown action")
		c.answer.Ephemeral = clickUnknown
		return
	}
	c.plugin = p
	if !p.enter() {
		log.Info("click refused", "reason", "plugin inactive")
		c.answer.Ephemeral = fmt.Sprintf(clickInactive, p.name)
		return
	}
	defer p.leave()
	base := e.baseContext()
	st := e.settings().conn
	if base == nil || base.Err() != nil || st == nil || !e.enterService() {
		c.answer.Ephemeral = clickStopped
		return
	}
	defer e.svc.Done()

	// The access rules see the click as a command named after the action,
	// given in the room of the card.
	cmd := &Cmd{plugin: p, name: c.Action, admin: h.admin}
	m := &Message{ID: c.MessageID, From: c.User, Room: c.Room, ThreadID: c.ThreadID, Direct: c.Direct, Time: time.Now()}
	req := &Request{Message: m, Command: c.Action, Plugin: p, engine: e, cmd: cmd, id: c.id}
	logged := &Cmd{plugin: p, name: "click " + c.Action}
	done := func(o Outcome, d time.Duration, attrs ...slog.Attr) {
		req.cmd = logged
		e.done(req, o, d, attrs...)
	}
	if reason := e.refuse(req, cmd); reason != "" {
		c.answer.Ephemeral = "You cannot use this: " + reason + "."
		done(OutcomeDenied, 0, slog.String("reason", reason))
		return
	}

	timeout := h.timeout
	if timeout <= 0 {
		timeout = min(e.options().CommandTimeout, DefaultClickTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if actx := p.actx.Load(); actx != nil {
		base = *actx // cancelled by deactivation and shutdown
	}
	stop := context.AfterFunc(base, cancel)
	defer stop()
	c.ctx = ctx
	start := time.Now()
	err := e.callClick(ctx, log, c, h)
	var use *UserError
	switch {
	case err == nil:
		done(OutcomeOK, time.Since(start))
	case errors.As(err, &use):
		c.answer.Ephemeral = use.Err.Error()
		done(OutcomeError, time.Since(start), slog.Any("err", err))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		log.Warn("click timed out", "request_id", c.ID(), "timeout", timeout)
		c.answer.Ephemeral = fmt.Sprintf("That took too long (more than %v): I stopped.", timeout)
		done(OutcomeTimeout, time.Since(start))
	case errors.Is(err, context.Canceled) && base.Err() != nil:
		c.answer.Ephemeral = clickStopped
		done(OutcomeCancelled, time.Since(start))
	default:
		if !errors.Is(err, errPanic) {
			log.Warn("click failed", "request_id", c.ID(), "err", err)
		}
		c.answer.Ephemeral = fmt.Sprintf("Sorry, that failed (ref %s).", c.ID())
		done(OutcomeError, time.Since(start))
	}
}

// callClick runs h, turning a panic into errPanic and a log line with
// the stack.
func (e *Engine) callClick(ctx context.Context, log *slog.Logger, c *Click, h *ClickHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("click handler panicked", "request_id", c.ID(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return h.h(ctx, c)
}

// Interactive returns the names of the plugins that declared click
// handlers (OnClick) or dialogs (Form), in registration order: they need
// the backend's way back from the chat server (on Mattermost, the bot's
// public address).
func (e *Engine) Interactive() []string {
	var out []string
	for _, p := range e.registry().plugins {
		if len(p.clicks) > 0 || len(p.forms) > 0 {
			out = append(out, p.name)
		}
	}
	return out
}
