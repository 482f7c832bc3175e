package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"text/template"
	"time"
)

// Request is one run of a command or listener: the message that started
// it, what was matched, and the ways to answer.
//
// Like net/http's Request it carries the handler's context, which Reply
// and the other sending methods use; it is cancelled when the handler's
// deadline passes or the engine shuts down. A Request is used by one
// handler goroutine; it is not safe for concurrent use.
type Request struct {
	// Message is the message that started the handler.
	Message *Message
	// Command is the matched command's name ("deploy rollback"); "listen"
	// for listeners.
	Command string
	// Args is the text after the command's name, trimmed. For regex
	// commands it is the text the pattern was matched against.
	Args string
	// Match holds a regex command's or listener's match: the whole match,
	// then the groups.
	Match []string
	// Plugin is the plugin that declared the command.
	Plugin *Plugin
	// Reaction is the reaction that started a reaction trigger
	// (Plugin.Reaction); nil for the others.
	Reaction *Reaction

	engine *Engine
	cmd    *Cmd
	id     uint32 // the run's reference; see ID
	ctx    context.Context
	rctx   context.Context // replies are sent under it; see Engine.replyBase
	tr     *tracker
	asking atomic.Int32 // Ask calls waiting for an answer
	rest   dispatchRest // what dispatch goes on with if the handler returns ErrNoMatch; zero: nothing
}

// Context returns the handler's context.
func (r *Request) Context() context.Context { return r.ctx }

// ID returns the run's reference, six hex digits ("07f3a9"): the
// request_id of the engine's log line for the run, and the reference in
// the reply to an internal error ("Sorry, `!deploy` failed (ref
// 07f3a9)."). A plugin that logs about a run can add it, so that a user's
// reference finds every line.
func (r *Request) ID() string { return refString(r.id) }

// replyContext returns the context to send a reply under: the handler's,
// except that shutdown's cancellation reaches it only when the wait for
// handlers ends (see Engine.replyBase).
func (r *Request) replyContext() context.Context {
	if r.rctx != nil {
		return r.rctx
	}
	return r.ctx
}

// Words returns Args split like a shell would (see Split). A quoting
// mistake is a *UsageError.
func (r *Request) Words() ([]string, error) {
	w, err := Split(r.Args)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return w, nil
}

// IsAdmin reports whether the message's author is a bot admin.
func (r *Request) IsAdmin() bool { return r.engine.IsAdmin(r.Message.From.ID) }

// invocation names the command in engine messages: "!deploy", or
// "deploy listener".
func (r *Request) invocation() string {
	if r.cmd.emoji != "" {
		return r.cmd.plugin.name + " :" + r.cmd.emoji + ": reaction"
	}
	if r.cmd.listener {
		return r.cmd.plugin.name + " listener"
	}
	return r.engine.options().Prefix + r.cmd.name
}

// destination returns where replies go: the room and thread of the
// message, a new thread on it (Cmd.InThread; not on a slash command,
// which is no post), or the author's direct messages (Cmd.Private).
func (r *Request) destination() Outgoing {
	m := r.Message
	d := divertNone
	if r.cmd != nil {
		d = r.engine.divert(r.cmd)
	}
	switch {
	case d == divertPrivate && !m.Direct:
		return Outgoing{UserID: m.From.ID, ReplyTo: m.ID}
	case d == divertThread && m.ThreadID == "" && !m.Slash:
		return Outgoing{RoomID: m.Room.ID, ThreadID: m.ID, ReplyTo: m.ID}
	}
	return Outgoing{RoomID: m.Room.ID, ThreadID: m.ThreadID, ReplyTo: m.ID}
}

// addressed prefixes the text of out with "@username: " when out goes to
// a room (not a person, not a direct message) and the engine prefixes
// replies in rooms (Options.PrefixRoomReplies), as Errbot's
// GROUPCHAT_NICK_PREFIXED does.
func (r *Request) addressed(out *Outgoing) {
	m := r.Message
	if !r.engine.options().PrefixRoomReplies || m == nil || m.Direct || out.RoomID == "" ||
		out.Text == "" || m.From.Username == "" {
		return
	}
	out.Text = addressTo(m.From, out.Text)
}

// addressTo returns text addressed to u: "@alice: text". When text
// starts with a markdown block (a code fence, a table, a heading, a
// quote, a list, an indented code block), the prefix goes on a line of
// its own, so that the block still renders as one.
func addressTo(u User, text string) string {
	if startsWithBlock(text) {
		return u.String() + ":\n" + text
	}
	return u.String() + ": " + text
}

// startsWithBlock reports whether the first line of text opens a
// markdown block element, which must start a line.
func startsWithBlock(text string) bool {
	line, _, _ := strings.Cut(text, "\n")
	if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
		return true
	}
	line = strings.TrimLeft(line, " ")
	for _, p := range []string{"```", "~~~", "|", "#", ">", "- ", "* ", "+ "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	digits := len(line) - len(strings.TrimLeft(line, "0123456789"))
	return digits > 0 && (strings.HasPrefix(line[digits:], ". ") || strings.HasPrefix(line[digits:], ") "))
}

func (r *Request) send(out *Outgoing) error {
	if err := r.Plugin.stampOutgoing(out); err != nil {
		return err
	}
	if err := r.engine.sent(r.engine.backend.Send(r.replyContext(), out)); err != nil {
		return fmt.Errorf("bot: reply: %w", err)
	}
	return nil
}

// Reply sends text (markdown) where the command's replies go. It may be
// called many times while the handler works.
func (r *Request) Reply(text string) error {
	out := r.destination()
	out.Text = text
	r.addressed(&out)
	return r.send(&out)
}

// Replyf formats and sends a reply, like fmt.Sprintf.
func (r *Request) Replyf(format string, args ...any) error {
	return r.Reply(fmt.Sprintf(format, args...))
}

// ReplyTemplate executes the text/template t with data and sends the
// result as a reply.
func (r *Request) ReplyTemplate(t *template.Template, data any) error {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("bot: template %s: %w", t.Name(), err)
	}
	return r.Reply(b.String())
}

// Card sends a card where the command's replies go.
func (r *Request) Card(c Card) error {
	out := r.destination()
	out.Card = &c
	return r.send(&out)
}

// File uploads a file where the command's replies go, with an optional
// text.
func (r *Request) File(f File, text string) error {
	out := r.destination()
	out.File, out.Text = &f, text
	return r.send(&out)
}

// React adds an emoji reaction ("white_check_mark") to the message that
// started the handler.
func (r *Request) React(emoji string) error {
	if err := r.engine.backend.React(r.ctx, r.Message.ID, strings.Trim(emoji, ":")); err != nil {
		return fmt.Errorf("bot: react: %w", err)
	}
	return nil
}

// Unreact removes the bot's emoji reaction (with or without colons) from
// the message, when the backend can (Unreacter); otherwise it returns an
// error wrapping ErrUnsupported.
func (r *Request) Unreact(emoji string) error {
	u, ok := r.engine.backend.(Unreacter)
	if !ok {
		return fmt.Errorf("bot: unreact: backend %T cannot: %w", r.engine.backend, ErrUnsupported)
	}
	if err := u.Unreact(r.ctx, r.Message.ID, strings.Trim(emoji, ":")); err != nil {
		return fmt.Errorf("bot: unreact: %w", err)
	}
	return nil
}

// Ephemeral sends text that only the author sees, in the room of the
// message, when the backend supports it (EphemeralSender), and as a
// direct message otherwise.
func (r *Request) Ephemeral(text string) error {
	if es, ok := r.engine.backend.(EphemeralSender); ok && !r.Message.Direct {
		out := Outgoing{RoomID: r.Message.Room.ID, ThreadID: r.Message.ThreadID, Text: text, ReplyTo: r.Message.ID}
		return r.engine.sent(es.SendEphemeral(r.replyContext(), r.Message.From.ID, &out))
	}
	return r.send(&Outgoing{UserID: r.Message.From.ID, Text: text, ReplyTo: r.Message.ID})
}

// Send sends out to an address: "@alice" (a direct message), "~ops",
// "~team/ops", or an id ("@" + User.ID, "~" + Room.ID). See Engine.Send.
// out.ReplyTo defaults to the message's id.
func (r *Request) Send(to string, out Outgoing) error {
	if out.ReplyTo == "" {
		out.ReplyTo = r.Message.ID
	}
	if err := r.Plugin.stampOutgoing(&out); err != nil {
		return err
	}
	return r.engine.sent(r.engine.Send(r.ctx, to, out))
}

// Typing shows the backend's typing indicator where the replies go, when
// the backend has one (Typer); otherwise it does nothing.
func (r *Request) Typing() error {
	t, ok := r.engine.backend.(Typer)
	if !ok {
		return nil
	}
	d := r.destination()
	if d.RoomID == "" {
		return nil
	}
	return t.Typing(r.ctx, d.RoomID, d.ThreadID)
}

// OpenFile opens a file attached to the message for reading. The caller
// closes it. It fails when the backend cannot download files.
func (r *Request) OpenFile(f FileRef) (io.ReadCloser, error) {
	fo, ok := r.engine.backend.(FileOpener)
	if !ok {
		return nil, errors.New("bot: this backend cannot download files")
	}
	return fo.OpenFile(r.ctx, f.ID)
}

// ErrNoMatch is returned (wrapped or not) by a command's or regex
// command's handler that finds, after all, that the message is not for
// it: its own check of the text failed where the engine's match
// succeeded (a pattern the engine's RE2 approximates, for instance). The
// engine then goes on as if the command had not matched: the next regex
// command whose pattern matches runs; if none does and no listener heard
// the message, the message answers a pending Request.Ask, or gets the
// usage of the regex command it names, or "not found"
// (Options.SuppressUnknownCommand), as it would have. A handler that
// returns it should not have replied. From a listener it only ends the
// run. The run's outcome is OutcomeNoMatch.
var ErrNoMatch = errors.New("bot: no match")

// ErrNoAnswer is returned (wrapped) by Request.Ask when the user did not
// answer in time. A handler that returns it gets the command's NoAnswer
// text as its last word (see Cmd.NoAnswer).
var ErrNoAnswer = errors.New("bot: no answer")

// convKey identifies whose next message answers a question, and where.
// A question asked outside a thread has thread "" and accepts an answer
// anywhere in the room.
type convKey struct {
	user, room, thread string
}

type waiter struct {
	ch chan answer // size 1: the delivering side never blocks
}

type answer struct {
	m  *Message
	tr *tracker
}

// Ask sends question where the replies go and waits for the author's next
// message in the same room (and thread, when the question was asked in
// one). That message answers the question: it is not run as a command,
// unless it is a command given with the prefix ("!status"), which runs as
// usual while the question goes on waiting. In a direct message, a
// command without the prefix is an answer. Call Ask again to chain steps.
//
// Ask returns an error wrapping ErrNoAnswer when no answer came within
// Options.AskTimeout or before ctx's deadline, or at once when the engine
// begins to shut down (no answer can arrive then), and ctx's error when
// ctx is cancelled. The wait counts against the handler's deadline
// (Options.CommandTimeout, 1 minute by default): give a command that asks
// a longer one with Cmd.Timeout. Return the error, and the engine tells
// the user the command stopped waiting (Cmd.NoAnswer sets the words); or
// handle it and say something else.
//
// One question at a time waits for a user in one room or thread: a second
// Ask there fails with a *UserError that says so.
//
// While Ask waits, the message that started the handler counts as
// handled (bottest's Say returns).
func (r *Request) Ask(ctx context.Context, question string) (*Message, error) {
	out := r.askDestination()
	out.Text = question
	r.addressed(&out)
	r.asking.Add(1) // no automatic typing indicator while the user is to type
	defer r.asking.Add(-1)
	key := convKey{user: r.Message.From.ID, room: out.RoomID, thread: out.ThreadID}
	w := &waiter{ch: make(chan answer, 1)}
	e := r.engine
	e.wmu.Lock()
	if _, busy := e.waiters[key]; busy {
		e.wmu.Unlock()
		return nil, UserErrorf("I am still waiting for your answer to an earlier question here: answer it first, or start this in a thread")
	}
	e.waiters[key] = w
	e.wmu.Unlock()
	cancel := func() {
		e.wmu.Lock()
		if e.waiters[key] == w {
			delete(e.waiters, key)
		}
		e.wmu.Unlock()
	}
	if err := r.send(&out); err != nil {
		cancel()
		return nil, err
	}

	r.tr.release() // the handler now waits on the user, not on the engine
	r.tr = nil
	timeout := e.options().AskTimeout
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case a := <-w.ch:
		r.tr = a.tr
		return a.m, nil
	case <-ctx.Done():
		err = ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("bot: ask %s: %w (%w)", r.Message.From, ErrNoAnswer, err)
		}
	case <-t.C:
		err = fmt.Errorf("bot: ask %s: %w after %v", r.Message.From, ErrNoAnswer, timeout)
	case <-e.unpark: // shutdown began: no answer can come, so do not hold it up
		err = fmt.Errorf("bot: ask %s: %w: the bot is stopping", r.Message.From, ErrNoAnswer)
	}
	cancel()
	// An answer delivered between the timeout and the removal of the
	// waiter wins: the user did answer.
	select {
	case a := <-w.ch:
		r.tr = a.tr
		return a.m, nil
	default:
		return nil, err
	}
}

// askDestination returns where Ask puts its question: where the replies
// go, except that a question for private replies is asked in the room,
// where its answer is awaited.
func (r *Request) askDestination() Outgoing {
	out := r.destination()
	if out.UserID != "" {
		out = Outgoing{RoomID: r.Message.Room.ID, ThreadID: r.Message.ThreadID, ReplyTo: r.Message.ID}
	}
	return out
}

// answer delivers m to a pending Ask, if there is one for it: one asked
// in m's thread, or one asked outside threads in m's room.
func (e *Engine) answer(m *Message, tr *tracker) bool {
	key := convKey{user: m.From.ID, room: m.Room.ID, thread: m.ThreadID}
	e.wmu.Lock()
	w, ok := e.waiters[key]
	if !ok && key.thread != "" {
		key.thread = ""
		w, ok = e.waiters[key]
	}
	if ok {
		delete(e.waiters, key)
	}
	e.wmu.Unlock()
	if !ok {
		return false
	}
	tr.add()
	w.ch <- answer{m: m, tr: tr}
	return true
}

// divert returns where c's replies go: as c declares (Cmd.InThread,
// Cmd.Private), else as the options in force list it
// (Options.DivertToPrivate, Options.DivertToThread). Listeners are not
// diverted by the options.
func (e *Engine) divert(c *Cmd) divert {
	if c.divert != divertNone || c.listener {
		return c.divert
	}
	o := e.options()
	switch {
	case slices.Contains(o.DivertToPrivate, c.name):
		return divertPrivate
	case slices.Contains(o.DivertToThread, c.name):
		return divertThread
	}
	return divertNone
}
