package execplugin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Defaults of a manifest's limits (docs/exec-plugins.md §8.1).
const (
	defaultMaxOutput           = 1 << 20
	defaultOneShotConcurrency  = 4
	defaultLongLivedConcurrncy = 16
	defaultStartTimeout        = 10 * time.Second
	defaultTimeout             = time.Minute
)

// Plugin is an exec plugin: a bot.Setuper whose Setup declares what its
// manifest declares, and whose handlers run its program. Build one with
// Host.Load or New; register it with bot.New or bot.Engine.Register.
type Plugin struct {
	m    *Manifest
	dir  string // the plugin's directory, absolute
	file string // the manifest's path, for errors
	work string // the working directory
	env  []string
	o    *Options
	log  *slog.Logger

	bp     *bot.Plugin
	cfg    reflect.Value // a pointer to the configuration Setup gave bot.Plugin.Config
	secret map[string]bool
	sem    chan struct{} // a slot per invocation at once
	ids    atomic.Uint64
	stderr *stderrLimiter
	ll     *supervisor // long-lived mode; nil for one-shot
	taken  []string    // the describe hello's taken_commands
}

// Name returns the manifest's name.
func (pl *Plugin) Name() string { return pl.m.Name }

// Manifest returns the plugin's manifest. The caller must not modify it.
func (pl *Plugin) Manifest() *Manifest { return pl.m }

// Dir returns the plugin's directory.
func (pl *Plugin) Dir() string { return pl.dir }

func (pl *Plugin) maxOutput() int {
	if pl.m.Limits.MaxOutput > 0 {
		return pl.m.Limits.MaxOutput
	}
	return defaultMaxOutput
}

func (pl *Plugin) timeout(d Duration) time.Duration {
	switch {
	case d > 0:
		return time.Duration(d)
	case pl.m.Limits.Timeout > 0:
		return time.Duration(pl.m.Limits.Timeout)
	}
	return 0 // the engine's
}

// Setup declares, on p, what the manifest declares.
func (pl *Plugin) Setup(p *bot.Plugin) error {
	pl.bp = p
	p.Describe(pl.m.Description)
	if err := pl.setupConfig(p); err != nil {
		return err
	}
	d := &pl.m.Declared
	for _, c := range d.Commands {
		var cmd *bot.Cmd
		h := c.Handler
		if h == "" {
			h = normalize(c.Name)
		}
		if len(c.Args) > 0 {
			args, _ := botArgs(c.Args) // checked at load
			cmd = p.CommandArgs(c.Name, args, func(ctx context.Context, req *bot.Request, v map[string]any) error {
				return pl.invoke(ctx, &invocation{kind: "command", handler: h, req: req, arguments: wireArguments(c.Args, v)})
			})
		} else {
			cmd = p.Command(c.Name, func(ctx context.Context, req *bot.Request) error {
				return pl.invoke(ctx, &invocation{kind: "command", handler: h, req: req})
			})
		}
		cmd.Alias(c.Aliases...)
		pl.common(cmd, c.Common)
	}
	for _, r := range d.Regex {
		h := r.Handler
		if h == "" {
			h = normalize(r.Name)
		}
		cmd := p.Regex(r.Name, r.Pattern, func(ctx context.Context, req *bot.Request) error {
			return pl.invoke(ctx, &invocation{kind: "regex", handler: h, req: req})
		})
		if r.Prefixed != nil {
			cmd.Prefixed(*r.Prefixed)
		}
		pl.common(cmd, r.Common)
	}
	for _, l := range d.Listeners {
		h := l.Handler
		if h == "" {
			h = l.Name
		}
		cmd := p.Listen(l.Pattern, func(ctx context.Context, req *bot.Request) error {
			return pl.invoke(ctx, &invocation{kind: "listener", handler: h, req: req})
		})
		if t := pl.timeout(l.Timeout); t > 0 {
			cmd.Timeout(t)
		}
	}
	for _, s := range d.Schedules {
		h := s.Handler
		if h == "" {
			h = s.Name
		}
		t := pl.timeout(s.Timeout)
		if t == 0 {
			t = defaultTimeout
		}
		run := func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, t)
			defer cancel()
			return pl.invoke(ctx, &invocation{kind: "schedule", handler: h})
		}
		if s.Every > 0 {
			p.Every(time.Duration(s.Every), run)
		} else {
			p.Cron(s.Cron, run)
		}
	}
	for _, w := range d.Webhooks {
		pl.webhook(p, w)
	}
	for _, e := range d.Events {
		pl.event(p, e)
	}
	if pl.m.Mode == LongLived {
		pl.ll = &supervisor{pl: pl}
		p.OnActivate(pl.ll.start)
		p.OnDeactivate(pl.ll.stop)
		// Once connected, the bot knows its account: the program learns
		// it now, not at its next request.
		p.OnConnect(func(ctx context.Context, _ bot.User) error {
			if proc := pl.ll.current(); proc != nil {
				_ = proc.syncBot(ctx) // gone meanwhile: its successor's hello says it all
			}
			return nil
		})
	}
	return nil
}

// common applies the keys commands and regex commands share.
func (pl *Plugin) common(cmd *bot.Cmd, c Common) {
	if c.Help != "" {
		cmd.Help(c.Help)
	}
	if c.Usage != "" {
		cmd.Usage(c.Usage)
	}
	if c.Admin {
		cmd.AdminOnly()
	}
	if c.Hidden {
		cmd.Hidden()
	}
	if c.Thread {
		cmd.InThread()
	}
	if c.Private {
		cmd.Private()
	}
	if t := pl.timeout(c.Timeout); t > 0 {
		cmd.Timeout(t)
	}
	if c.NoAnswer != "" {
		cmd.NoAnswer(c.NoAnswer)
	}
}

// configGoTypes are the Go types of the manifest's config types.
var configGoTypes = map[string]reflect.Type{
	"":       reflect.TypeFor[any](),
	"string": reflect.TypeFor[string](),
	"bool":   reflect.TypeFor[bool](),
	"int":    reflect.TypeFor[int64](),
	"float":  reflect.TypeFor[float64](),
	"array":  reflect.TypeFor[[]any](),
	"table":  reflect.TypeFor[map[string]any](),
}

// setupConfig gives bot.Plugin.Config a value to decode the plugin's
// table into: a struct built from the manifest's config keys, tagged
// for required and secret keys, so that the engine checks and reports
// the table as it does a Go plugin's; or a map when the manifest
// declares no keys. A key that may be absent (not required, no default)
// is a pointer, omitted from the JSON when the table leaves it out, so
// that the program can tell "not set" from a zero value.
func (pl *Plugin) setupConfig(p *bot.Plugin) error {
	keys := slices.Sorted(mapKeys(pl.m.Config))
	if len(keys) == 0 {
		v := &map[string]any{}
		pl.cfg = reflect.ValueOf(v)
		return p.Config(v)
	}
	pl.secret = map[string]bool{}
	fields := make([]reflect.StructField, len(keys))
	for i, k := range keys {
		c := pl.m.Config[k]
		typ, jsonTag := configGoTypes[c.Type], k
		if !c.Required && c.Default == nil {
			jsonTag += ",omitempty"
			if typ.Kind() != reflect.Interface {
				typ = reflect.PointerTo(typ)
			}
		}
		tag := fmt.Sprintf(`json:%q toml:%q`, jsonTag, k)
		if c.Required {
			tag += ` required:""`
		}
		if c.Secret {
			tag += ` secret:""`
			pl.secret[k] = true
		}
		fields[i] = reflect.StructField{Name: "K" + strconv.Itoa(i), Type: typ, Tag: reflect.StructTag(tag)}
	}
	v := reflect.New(reflect.StructOf(fields))
	for i, k := range keys {
		if d := pl.m.Config[k].Default; d != nil {
			setDefault(v.Elem().Field(i), d)
		}
	}
	pl.cfg = v
	return p.Config(v.Interface())
}

// setDefault sets f to d, a default from the manifest (checked against
// the field's type at load).
func setDefault(f reflect.Value, d any) {
	b, _ := json.Marshal(d)
	_ = json.Unmarshal(b, f.Addr().Interface())
}

// config returns the plugin's configuration as JSON.
func (pl *Plugin) config() json.RawMessage {
	if !pl.cfg.IsValid() {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(pl.cfg.Interface())
	if err != nil || string(b) == "null" {
		return json.RawMessage("{}")
	}
	return b
}

// configValue returns the value of a key of the configuration.
func (pl *Plugin) configValue(key string) any {
	var m map[string]any
	_ = json.Unmarshal(pl.config(), &m)
	return m[key]
}

// botArgs converts a manifest's arguments to the engine's, and checks
// them as the engine will.
func botArgs(args []Arg) ([]bot.Arg, error) {
	out := make([]bot.Arg, len(args))
	for i, a := range args {
		out[i] = bot.Arg{
			Name: a.Name, Type: bot.ArgType(a.Type), Positional: a.Positional, Optional: a.Optional,
			Short: a.Short, Help: a.Help, Enum: a.Enum, Default: a.Default,
		}
	}
	return out, bot.CheckArgs(out)
}

// wireArguments converts the engine's argument values to the protocol's:
// durations in seconds, lists never null.
func wireArguments(args []Arg, v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		switch x := x.(type) {
		case time.Duration:
			out[k] = x.Seconds()
		case []string:
			if x == nil {
				x = []string{}
			}
			out[k] = x
		default:
			out[k] = x
		}
	}
	return out
}

// invocation is one run of a handler of the plugin.
type invocation struct {
	kind, handler string
	req           *bot.Request // commands, regex commands, listeners
	msg           *bot.Message // the message of a message event (req is nil)
	arguments     map[string]any
	webhook       *wireWebhook
	event         *wireEvent
	answers       []*wireMessage
	state         json.RawMessage

	// Set by the replies.
	resp    *httpReply // a webhook's response
	ask     *inbound   // one-shot: the question to ask, then run again
	doneOK  bool       // done was written
	err     *wireError // done's error
	noMatch bool       // done said no_match
	sendErr error      // the failure of the last reply sent
}

// request builds the request of inv, with id.
func (pl *Plugin) request(ctx context.Context, inv *invocation, id string, withConfig bool) *wireRequest {
	r := &wireRequest{
		Type: "request", Protocol: Protocol, ID: id, Plugin: pl.m.Name, Kind: inv.kind, Handler: inv.handler,
		Arguments: inv.arguments, Webhook: inv.webhook, Event: inv.event, Answers: inv.answers, State: inv.state,
	}
	if d, ok := ctx.Deadline(); ok {
		r.Deadline = d.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	m := inv.msg
	if inv.req != nil {
		m = inv.req.Message
		r.Ref = inv.req.ID()
		switch inv.kind {
		case "command":
			r.Command = inv.req.Command
			args := inv.req.Args
			r.Args = &args
			if w, err := bot.Split(args); err == nil {
				r.Words = append([]string{}, w...)
			}
		case "regex":
			r.Command = inv.req.Command
			args := inv.req.Args
			r.Args = &args
			r.Match = inv.req.Match
		case "listener":
			r.Match = inv.req.Match
		}
		admin := inv.req.IsAdmin()
		r.Admin = &admin
	}
	if r.Ref == "" {
		r.Ref = id
	}
	if m != nil {
		r.Message = messageOf(m)
		r.User, r.Room, r.ThreadID = &r.Message.From, &r.Message.Room, &r.Message.ThreadID
		if r.Admin == nil {
			admin := pl.bp.Engine().IsAdmin(m.From.ID)
			r.Admin = &admin
		}
	}
	if withConfig {
		r.Config = pl.config()
		r.Bot = pl.botInfo()
	}
	return r
}

// botInfo describes the bot as it is now. Before the plugin is set up
// (a describe hello) only the name is known.
func (pl *Plugin) botInfo() *wireBot {
	b := &wireBot{Name: "matterbot", AltPrefixes: []string{}, Admins: []string{}}
	if pl.bp == nil {
		return b
	}
	e := pl.bp.Engine()
	b.Version, b.Prefix = e.Version(), e.Prefix()
	if a := e.AltPrefixes(); a != nil {
		b.AltPrefixes = a
	}
	if a := e.Admins(); a != nil {
		b.Admins = a
	}
	if self := e.Self(); self.ID != "" {
		u := userOf(self)
		b.User = &u
	}
	return b
}

// invoke runs inv on the plugin's program.
func (pl *Plugin) invoke(ctx context.Context, inv *invocation) error {
	select {
	case pl.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("execplugin %s: waiting for a free slot (limits.concurrency %d): %w", pl.m.Name, cap(pl.sem), ctx.Err())
	}
	defer func() { <-pl.sem }()
	var err error
	if pl.ll != nil {
		err = pl.ll.invoke(ctx, inv)
	} else {
		err = pl.runOneShot(ctx, inv)
	}
	if err != nil {
		return err
	}
	return pl.result(inv)
}

// errNoDestination is a reply that needs a message to answer, in an
// invocation that has none.
var errNoDestination = errors.New("has no message to answer here: use send")

// act carries out one reply of inv.
func (pl *Plugin) act(ctx context.Context, inv *invocation, in *inbound) error {
	req := inv.req
	text := ""
	if in.Text != nil {
		text = *in.Text
	}
	switch in.Type {
	case typeText:
		if req != nil {
			return pl.logged(inv, in, req.Reply(text))
		}
		return pl.eventSend(ctx, inv, in, bot.Outgoing{Text: text})
	case typeCard:
		if req != nil {
			return pl.logged(inv, in, req.Card(in.Card.card()))
		}
		c := in.Card.card()
		return pl.eventSend(ctx, inv, in, bot.Outgoing{Card: &c})
	case typeFile:
		f := in.fileSpec()
		body, closeFn, err := f.open(pl.work, pl.dir)
		if err != nil {
			return err
		}
		defer closeFn()
		file := bot.File{Name: f.Name, ContentType: f.ContentType, Body: body}
		if req != nil {
			return pl.logged(inv, in, req.File(file, f.Text))
		}
		return pl.eventSend(ctx, inv, in, bot.Outgoing{File: &file, Text: f.Text})
	case typeReact, typeUnreact:
		if req == nil {
			return fmt.Errorf("%s reply: a %s %w", in.Type, inv.kind, errNoDestination)
		}
		if in.Type == typeReact {
			return pl.logged(inv, in, req.React(in.Emoji))
		}
		return pl.logged(inv, in, req.Unreact(in.Emoji))
	case typeEphemeral:
		if req == nil {
			return fmt.Errorf("ephemeral reply: a %s %w", inv.kind, errNoDestination)
		}
		return pl.logged(inv, in, req.Ephemeral(text))
	case typeTyping:
		if req != nil {
			return pl.logged(inv, in, req.Typing())
		}
		return nil
	case typeSend:
		out, closeFn, err := pl.outgoing(in.Text, in.Card, in.File, in.ThreadID)
		if err != nil {
			return err
		}
		defer closeFn()
		if req != nil {
			return pl.logged(inv, in, req.Send(in.To, out))
		}
		if inv.msg != nil {
			out.ReplyTo = inv.msg.ID
		}
		return pl.logged(inv, in, pl.bp.Send(ctx, in.To, out))
	case typeAsk:
		if pl.ll != nil {
			return errors.New("ask reply: long-lived plugins use the ask call")
		}
		if req == nil {
			return fmt.Errorf("ask reply: a %s has nobody to ask", inv.kind)
		}
		inv.ask = in
		return nil
	case typeHTTP:
		if inv.kind != "webhook" {
			return fmt.Errorf("http reply: a %s is not a webhook", inv.kind)
		}
		if inv.resp != nil {
			return errors.New("http reply: a second one")
		}
		inv.resp = in.httpReply()
		return nil
	case typeDone:
		if in.NoMatch && inv.kind != "command" && inv.kind != "regex" && inv.kind != "listener" {
			return fmt.Errorf("done: no_match in a %s: only a command, regex command or listener can hand its message back", inv.kind)
		}
		inv.doneOK, inv.err, inv.noMatch = true, in.Error, in.NoMatch
		return nil
	}
	return fmt.Errorf("unknown reply type %q", in.Type)
}

// logged logs a reply the chat server refused, and goes on: the plugin
// could not do anything about it. inv.sendErr keeps the error for the
// reply call.
func (pl *Plugin) logged(inv *invocation, in *inbound, err error) error {
	inv.sendErr = err
	if err != nil {
		pl.log.Warn("reply failed", "reply", in.Type, "err", err)
	}
	return nil
}

// eventSend sends a reply of an invocation without a request: a message
// event's go to the message's room and thread.
func (pl *Plugin) eventSend(ctx context.Context, inv *invocation, in *inbound, out bot.Outgoing) error {
	if inv.msg == nil {
		return fmt.Errorf("%s reply: a %s %w", in.Type, inv.kind, errNoDestination)
	}
	out.ThreadID, out.ReplyTo = inv.msg.ThreadID, inv.msg.ID
	return pl.logged(inv, in, pl.bp.Send(ctx, "~"+inv.msg.Room.ID, out))
}

// outgoing builds the message of a send reply or call.
func (pl *Plugin) outgoing(text *string, card *wireCard, file *wireFile, thread string) (bot.Outgoing, func(), error) {
	out := bot.Outgoing{ThreadID: thread}
	if text != nil {
		out.Text = *text
	}
	if card != nil {
		c := card.card()
		out.Card = &c
	}
	closeFn := func() {}
	if file != nil {
		if err := file.check(); err != nil {
			return out, closeFn, err
		}
		body, c, err := file.open(pl.work, pl.dir)
		if err != nil {
			return out, closeFn, err
		}
		closeFn = c
		out.File = &bot.File{Name: file.Name, ContentType: file.ContentType, Body: body}
		if out.Text == "" {
			out.Text = file.Text
		}
	}
	return out, closeFn, nil
}

// result turns the end of inv into the handler's error.
func (pl *Plugin) result(inv *invocation) error {
	if inv.noMatch {
		return fmt.Errorf("execplugin %s: the program said no match: %w", pl.m.Name, bot.ErrNoMatch)
	}
	e := inv.err
	if e == nil {
		return nil
	}
	switch e.Kind {
	case "user":
		return &bot.UserError{Err: errors.New(e.Message)}
	case "usage":
		return &bot.UsageError{Err: errors.New(e.Message)}
	case "no_answer":
		return fmt.Errorf("execplugin %s: %s: %w", pl.m.Name, e.Message, bot.ErrNoAnswer)
	}
	return fmt.Errorf("execplugin %s: %s failed: %s", pl.m.Name, inv.kind, e.Message)
}

// webhook declares w on p.
func (pl *Plugin) webhook(p *bot.Plugin, w Webhook) {
	h := w.Handler
	if h == "" {
		h = w.Name
	}
	ep := p.Webhook(w.Pattern, func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // already read and bounded by the engine
		if w.Auth == "secret" || w.Auth == "hmac" {
			if code, msg := pl.checkSecret(w, r.Header, body); code != 0 {
				http.Error(rw, msg, code)
				return
			}
		}
		inv := &invocation{kind: "webhook", handler: h, webhook: webhookOf(w, r, body)}
		ctx := r.Context()
		if t := pl.timeout(w.Timeout); t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		err := pl.invoke(ctx, inv)
		var ue *bot.UserError
		switch {
		case err == nil:
		case errors.As(err, &ue) && inv.err != nil && inv.err.Status >= 400 && inv.err.Status <= 599:
			http.Error(rw, inv.err.Message, inv.err.Status)
			return
		case errors.As(err, &ue):
			http.Error(rw, inv.err.Message, http.StatusBadRequest)
			return
		case inv.err != nil && inv.err.Status >= 400 && inv.err.Status <= 599:
			pl.log.Warn("webhook failed", "webhook", w.Pattern, "err", err)
			http.Error(rw, http.StatusText(inv.err.Status), inv.err.Status)
			return
		default:
			pl.log.Error("webhook failed", "webhook", w.Pattern, "err", err)
			var re restartingError
			if errors.As(err, &re) {
				http.Error(rw, "plugin restarting", http.StatusServiceUnavailable)
				return
			}
			http.Error(rw, "internal error", http.StatusInternalServerError)
			return
		}
		if inv.resp == nil {
			rw.WriteHeader(http.StatusNoContent)
			return
		}
		for k, vs := range inv.resp.headers {
			for _, v := range vs {
				rw.Header().Add(k, v)
			}
		}
		rw.WriteHeader(inv.resp.status)
		_, _ = rw.Write(inv.resp.body) // the sender hung up: nothing to do
	})
	switch w.Auth {
	case "public", "secret", "hmac":
		ep.Public() // the secret is checked above, from the configuration in force
	}
	if w.MaxBody > 0 {
		ep.MaxBody(w.MaxBody)
	}
}

// checkSecret checks the proof of the webhook's secret, read from the
// configuration in force. It returns 0 when the proof is good, else the
// status and message to refuse with.
func (pl *Plugin) checkSecret(w Webhook, h http.Header, body []byte) (int, string) {
	secret, _ := pl.configValue(w.SecretConfig).(string)
	if secret == "" {
		return http.StatusServiceUnavailable, "webhook secret not configured"
	}
	auth := bot.WebhookAuth{Secret: secret, Header: w.Header, HMAC: w.Auth == "hmac"}
	name := secretHeader(w)
	got := h.Get(name)
	if got == "" {
		return http.StatusUnauthorized, "missing " + name + " header"
	}
	want := secret
	if auth.HMAC {
		want = auth.Sign(body)
		if !strings.HasPrefix(got, "sha256=") {
			got = "sha256=" + got
		}
	}
	g, wsum := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(g[:], wsum[:]) != 1 {
		return http.StatusForbidden, "wrong secret in " + name + " header"
	}
	return 0, ""
}

// secretHeader is the header that carries w's secret.
func secretHeader(w Webhook) string {
	switch {
	case w.Header != "":
		return w.Header
	case w.Auth == "hmac":
		return "X-Hub-Signature-256"
	}
	return "X-Webhook-Secret"
}

// webhookOf describes r for the plugin.
func webhookOf(w Webhook, r *http.Request, body []byte) *wireWebhook {
	ww := &wireWebhook{Method: r.Method, Path: r.URL.Path, Pattern: w.Pattern, RemoteAddr: r.RemoteAddr}
	if q := r.URL.Query(); len(q) > 0 {
		ww.Query = q
	}
	hdr := r.Header.Clone()
	if w.Auth == "secret" || w.Auth == "hmac" {
		hdr.Del(secretHeader(w))
	} else if w.Auth == "" || w.Auth == "default" {
		hdr.Del("X-Webhook-Secret")
	}
	if len(hdr) > 0 {
		ww.Headers = hdr
	}
	for _, name := range wildcards(w.Pattern) {
		if ww.PathValues == nil {
			ww.PathValues = map[string]string{}
		}
		ww.PathValues[name] = r.PathValue(name)
	}
	if utf8Valid(body) {
		s := string(body)
		ww.Body = &s
	} else {
		ww.BodyBase64 = base64Encode(body)
	}
	return ww
}

// wildcards returns the names of the {name} and {name...} wildcards of
// a ServeMux pattern.
func wildcards(pattern string) []string {
	var out []string
	for s := pattern; ; {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSuffix(s[i+1:i+j], "...")
		if name != "$" && name != "" {
			out = append(out, name)
		}
		s = s[i+j+1:]
	}
}

// event declares the callback of an event kind.
func (pl *Plugin) event(p *bot.Plugin, kind string) {
	run := pl.invoke
	switch kind {
	case "message":
		p.OnMessage(func(ctx context.Context, m *bot.Message) error {
			return run(ctx, &invocation{kind: "event", handler: kind, msg: m})
		})
	case "reaction":
		p.OnReaction(func(ctx context.Context, r *bot.Reaction) error {
			u, rm := userOf(r.User), roomOf(r.Room)
			return run(ctx, &invocation{kind: "event", handler: kind, event: &wireEvent{Kind: kind, MessageID: r.MessageID, Emoji: r.Emoji, Removed: r.Removed, User: &u, Room: &rm}})
		})
	case "presence":
		p.OnPresence(func(ctx context.Context, pr *bot.Presence) error {
			u := userOf(pr.User)
			return run(ctx, &invocation{kind: "event", handler: kind, event: &wireEvent{Kind: kind, Status: pr.Status, User: &u}})
		})
	case "join":
		p.OnJoin(func(ctx context.Context, j *bot.Join) error {
			u, rm := userOf(j.User), roomOf(j.Room)
			return run(ctx, &invocation{kind: "event", handler: kind, event: &wireEvent{Kind: kind, User: &u, Room: &rm}})
		})
	case "leave":
		p.OnLeave(func(ctx context.Context, l *bot.Leave) error {
			u, rm := userOf(l.User), roomOf(l.Room)
			return run(ctx, &invocation{kind: "event", handler: kind, event: &wireEvent{Kind: kind, User: &u, Room: &rm}})
		})
	case "connect":
		p.OnConnect(func(ctx context.Context, self bot.User) error {
			u := userOf(self)
			return run(ctx, &invocation{kind: "event", handler: kind, event: &wireEvent{Kind: kind, User: &u}})
		})
	}
}
