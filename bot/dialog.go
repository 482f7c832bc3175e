package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Dialogs: a form a plugin opens in the user's chat client, in answer to
// a click (Click.OpenDialog) or to anything else that carries a trigger
// id (Plugin.OpenDialog), and whose submission comes back, checked, to
// the handler declared with Form.

// Element types of a DialogElement.
const (
	ElementText     = "text"
	ElementTextarea = "textarea"
	ElementSelect   = "select"
	ElementRadio    = "radio"
	ElementBool     = "bool"
)

// Limits of a dialog, as Mattermost checks them (model.Dialog.IsValid).
const (
	dialogTitleMax = 24
	elementLabel   = 24
	elementHelp    = 150
	elementName    = 300
	textMax        = 150
	textareaMax    = 3000
)

// Dialog is a form to open in a chat client, as the engine hands it to a
// backend (DialogOpener). It is built from the struct a plugin declared
// with Form.
type Dialog struct {
	// Plugin and Name name the handler of the submission (Form).
	Plugin, Name string
	// Value comes back with the submission (Submission.Value).
	Value string
	// Title, Intro (markdown above the fields) and SubmitLabel (the
	// submit button's text; "" for the client's own).
	Title, Intro, SubmitLabel string
	Elements                  []DialogElement
}

// DialogElement is one field of a Dialog.
type DialogElement struct {
	// Name is the key of the field's value in the submission.
	Name string
	// Label is shown above the field.
	Label string
	// Type is ElementText, ElementTextarea, ElementSelect, ElementRadio
	// or ElementBool.
	Type string
	// Subtype refines a text field: "", "email", "number", "tel", "url"
	// or "password".
	Subtype     string
	Default     string
	Placeholder string
	Help        string
	Optional    bool
	// MinLength and MaxLength bound a text's length in characters; 0:
	// no bound.
	MinLength, MaxLength int
	// Options are the choices of a select or radio field.
	Options []Option
	// DataSource makes a select list "users" or "channels" instead of
	// Options.
	DataSource string
}

// DialogOpener is implemented by backends that can open dialogs in the
// user's client. triggerID is the one a click or a slash command gave
// (Click.TriggerID); it is good for a few seconds. Plugin.OpenDialog calls
// it.
type DialogOpener interface {
	OpenDialog(ctx context.Context, triggerID string, d *Dialog) error
}

// FieldErrors are problems with a dialog's fields, by field name: a form
// handler returns them to keep the dialog open and show each message
// under its field.
//
//	if !known(f.Service) {
//		return bot.FieldErrors{"service": "no such service"}
//	}
type FieldErrors map[string]string

// Error lists the problems, sorted by field: "env: pick one; service: no
// such service".
func (fe FieldErrors) Error() string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(fe)) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + fe[k])
	}
	return b.String()
}

// FormHandler is a declared dialog. Its methods refine the declaration
// and return it so they chain; like the declaration, they may only be
// called from Setup.
type FormHandler struct {
	plugin   *Plugin
	name     string
	title    string
	fields   []dialogField
	admin    bool
	timeout  time.Duration
	typ      reflect.Type
	validate func(ctx context.Context, s *Submission, v reflect.Value) error
}

// AdminOnly lets only the bot's admins submit the dialog.
func (f *FormHandler) AdminOnly() *FormHandler { f.admin = true; return f }

// Timeout sets the handler's deadline; see ClickHandler.Timeout.
func (f *FormHandler) Timeout(d time.Duration) *FormHandler { f.timeout = d; return f }

// Elements returns the dialog's fields, as Form made them from F.
func (f *FormHandler) Elements() []DialogElement {
	out := make([]DialogElement, len(f.fields))
	for i, ff := range f.fields {
		out[i] = ff.el
	}
	return out
}

// dialogField is a field of a form's struct.
type dialogField struct {
	index []int
	kind  reflect.Kind
	el    DialogElement
}

// Form declares a dialog named name with the given title (at most 24
// characters), whose fields are those of the struct F, and the handler
// h of its submissions. The submission is checked against the fields
// before h runs: a missing required field, a text too short or too long,
// a number that is not one, a choice not offered are sent back to the
// dialog, under their fields, and h does not run. h gets the values in an
// F; it may return FieldErrors for checks of its own (the dialog stays
// open and shows them), a *UserError (shown at the dialog's foot), or
// nil (the dialog closes).
//
// Struct tags of F's exported fields:
//
//	name:"x"          the field's key (default: field name in snake_case)
//	label:"Service"   shown above the field (default: the field's name), at most 24 characters
//	help:"..."        shown below the field
//	placeholder:"..." shown in an empty field
//	default:"v"       the value shown at first
//	optional:""       may be left empty (bool fields always may)
//	textarea:""       a multi-line text
//	subtype:"email"   a text's kind: email, number, tel, url, password
//	min:"3" max:"40"  bounds of a text's length
//	options:"a,b"     a select of these values; "Text=value" sets a label
//	radio:""          the options as radio buttons instead of a select
//	data:"users"      a select of users (or "channels"); the value is an id
//
// Field types: string, bool (a checkbox), integers and floats (a text of
// subtype number).
//
//	type deployForm struct {
//		Service string `label:"Service" min:"2" max:"40"`
//		Env     string `label:"Environment" options:"staging,prod" default:"staging"`
//		Notes   string `label:"Notes" textarea:"" optional:""`
//	}
//	bot.Form(p, "deploy", "Deploy a service", d.submitted)
func Form[F any](p *Plugin, name, title string, h func(ctx context.Context, s *Submission, f F) error) *FormHandler {
	fh := &FormHandler{plugin: p, name: name, title: title, typ: reflect.TypeFor[F]()}
	fail := func(err error) *FormHandler {
		p.errs = append(p.errs, fmt.Errorf("form %q: %w", name, err))
		return fh
	}
	switch {
	case name == "":
		return fail(errors.New("empty name"))
	case h == nil:
		return fail(errNoHandler)
	case p.forms[name] != nil:
		return fail(errors.New("declared twice"))
	case title == "" || utf8.RuneCountInString(title) > dialogTitleMax:
		return fail(fmt.Errorf("title %q: want 1 to %d characters", title, dialogTitleMax))
	}
	fields, err := dialogFields(fh.typ)
	if err != nil {
		return fail(err)
	}
	fh.fields = fields
	fh.validate = func(ctx context.Context, s *Submission, v reflect.Value) error {
		return h(ctx, s, v.Interface().(F))
	}
	if p.forms == nil {
		p.forms = map[string]*FormHandler{}
	}
	p.forms[name] = fh
	return fh
}

// formFields reads the fields of struct t.
func dialogFields(t reflect.Type) ([]dialogField, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("fields: %v is not a struct", t)
	}
	var out []dialogField
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		f, err := dialogFieldOf(sf)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		if seen[f.el.Name] {
			return nil, fmt.Errorf("field %s: name %q used twice", sf.Name, f.el.Name)
		}
		seen[f.el.Name] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fields: %v has no exported field", t)
	}
	return out, nil
}

func dialogFieldOf(sf reflect.StructField) (dialogField, error) {
	tag := sf.Tag
	has := func(k string) bool { _, ok := tag.Lookup(k); return ok }
	el := DialogElement{
		Name:        tag.Get("name"),
		Label:       tag.Get("label"),
		Help:        tag.Get("help"),
		Placeholder: tag.Get("placeholder"),
		Default:     tag.Get("default"),
		Optional:    has("optional"),
		Subtype:     tag.Get("subtype"),
		DataSource:  tag.Get("data"),
	}
	if el.Name == "" {
		el.Name = strings.ReplaceAll(kebab(sf.Name), "-", "_")
	}
	if el.Label == "" {
		el.Label = sf.Name
	}
	f := dialogField{index: sf.Index, kind: sf.Type.Kind()}
	for _, b := range []struct {
		key string
		dst *int
	}{{"min", &el.MinLength}, {"max", &el.MaxLength}} {
		if v, ok := tag.Lookup(b.key); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fmt.Errorf("%s:%q: want a length", b.key, v)
			}
			*b.dst = n
		}
	}
	if opts, ok := tag.Lookup("options"); ok {
		for o := range strings.SplitSeq(opts, ",") {
			text, value, ok := strings.Cut(strings.TrimSpace(o), "=")
			if !ok {
				value = text
			}
			if value == "" {
				return f, fmt.Errorf("options:%q: an empty option", opts)
			}
			el.Options = append(el.Options, Option{Text: text, Value: value})
		}
	}
	switch {
	case f.kind == reflect.String:
		switch {
		case el.DataSource != "":
			if el.DataSource != "users" && el.DataSource != "channels" {
				return f, fmt.Errorf("data:%q: want users or channels", el.DataSource)
			}
			el.Type = ElementSelect
		case len(el.Options) > 0 && has("radio"):
			el.Type = ElementRadio
		case len(el.Options) > 0:
			el.Type = ElementSelect
		case has("textarea"):
			el.Type = ElementTextarea
		default:
			el.Type = ElementText
		}
	case f.kind == reflect.Bool:
		el.Type, el.Optional = ElementBool, true
		if el.Default != "" && el.Default != "true" && el.Default != "false" {
			return f, fmt.Errorf("default:%q: want true or false", el.Default)
		}
	case isInt(f.kind) || isUint(f.kind) || f.kind == reflect.Float32 || f.kind == reflect.Float64:
		el.Type, el.Subtype = ElementText, "number"
	default:
		return f, fmt.Errorf("type %v: want string, bool or a number", sf.Type)
	}
	switch el.Subtype {
	case "", "text", "email", "number", "tel", "url", "password":
	default:
		return f, fmt.Errorf("subtype:%q: want email, number, tel, url or password", el.Subtype)
	}
	if (len(el.Options) > 0 || el.DataSource != "") && el.Type != ElementSelect && el.Type != ElementRadio {
		return f, errors.New("options and data need a string field")
	}
	if el.Default != "" && len(el.Options) > 0 && !slices.ContainsFunc(el.Options, func(o Option) bool { return o.Value == el.Default }) {
		return f, fmt.Errorf("default:%q: not one of the options", el.Default)
	}
	limit := textMax
	if el.Type == ElementTextarea {
		limit = textareaMax
	}
	if el.MaxLength == 0 && f.kind == reflect.String && (el.Type == ElementText || el.Type == ElementTextarea) {
		el.MaxLength = limit
	}
	switch {
	case el.MaxLength > limit && el.Type != ElementSelect:
		return f, fmt.Errorf("max:%d: at most %d", el.MaxLength, limit)
	case el.MinLength > el.MaxLength && el.MaxLength > 0:
		return f, fmt.Errorf("min:%d is more than max:%d", el.MinLength, el.MaxLength)
	case utf8.RuneCountInString(el.Label) > elementLabel:
		return f, fmt.Errorf("label %q: at most %d characters", el.Label, elementLabel)
	case utf8.RuneCountInString(el.Help) > elementHelp:
		return f, fmt.Errorf("help: at most %d characters", elementHelp)
	case len(el.Name) > elementName:
		return f, fmt.Errorf("name: at most %d characters", elementName)
	}
	f.el = el
	return f, nil
}

func isInt(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }
func isUint(k reflect.Kind) bool {
	return k >= reflect.Uint && k <= reflect.Uint64
}

// DialogOptions say how to open a dialog declared with Form.
type DialogOptions struct {
	// Title replaces the title given to Form.
	Title string
	// Intro is markdown shown above the fields.
	Intro string
	// SubmitLabel is the submit button's text; "" for the client's own.
	SubmitLabel string
	// Value comes back with the submission (Submission.Value): what the
	// dialog is about.
	Value string
	// Defaults, an F or a *F, fills the fields with its non-zero values
	// instead of their default tags.
	Defaults any
}

// OpenDialog opens the dialog name, declared with Form, in the client of
// the user whose click or slash command gave triggerID. It fails when the
// backend cannot open dialogs (an error wrapping ErrUnsupported).
func (p *Plugin) OpenDialog(ctx context.Context, triggerID, name string, o DialogOptions) error {
	f := p.forms[name]
	if f == nil {
		return fmt.Errorf("bot: open dialog %q: plugin %s declares no such form (Form)", name, p.name)
	}
	op, ok := p.engine.backend.(DialogOpener)
	if !ok {
		return fmt.Errorf("bot: open dialog %q: backend %T cannot: %w", name, p.engine.backend, ErrUnsupported)
	}
	if triggerID == "" {
		return fmt.Errorf("bot: open dialog %q: no trigger id: a dialog opens in answer to a click or a slash command", name)
	}
	d := &Dialog{Plugin: p.name, Name: name, Value: o.Value, Title: f.title, Intro: o.Intro,
		SubmitLabel: o.SubmitLabel, Elements: f.Elements()}
	if o.Title != "" {
		if utf8.RuneCountInString(o.Title) > dialogTitleMax {
			return fmt.Errorf("bot: open dialog %q: title %q: at most %d characters", name, o.Title, dialogTitleMax)
		}
		d.Title = o.Title
	}
	if o.Defaults != nil {
		v := reflect.ValueOf(o.Defaults)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Type() != f.typ {
			return fmt.Errorf("bot: open dialog %q: defaults of type %T, want %v", name, o.Defaults, f.typ)
		}
		for i, ff := range f.fields {
			if fv := v.FieldByIndex(ff.index); !fv.IsZero() {
				d.Elements[i].Default = fmt.Sprint(fv.Interface())
			}
		}
	}
	if err := op.OpenDialog(ctx, triggerID, d); err != nil {
		return fmt.Errorf("bot: open dialog %q: %w", name, err)
	}
	return nil
}

// OpenDialog opens the plugin's dialog name (declared with Form) in the
// clicking user's client; see Plugin.OpenDialog.
func (c *Click) OpenDialog(name string, o DialogOptions) error {
	return c.plugin.OpenDialog(c.Context(), c.TriggerID, name, o)
}

// OpenDialog opens the plugin's dialog name (declared with Form) in the
// client of the user whose slash command started the handler
// (Message.TriggerID); see Plugin.OpenDialog. A command given as a
// message has no trigger id: it fails then, and the handler may answer
// with a card whose button opens the dialog instead.
func (r *Request) OpenDialog(name string, o DialogOptions) error {
	return r.Plugin.OpenDialog(r.Context(), r.Message.TriggerID, name, o)
}

// Submission is a dialog's submission, as a backend delivers it to the
// engine (ActionHandler) and the engine hands it, checked, to the form's
// handler.
type Submission struct {
	// Plugin and Dialog name the form (Dialog.Plugin, Dialog.Name).
	Plugin, Dialog string
	// Value is DialogOptions.Value, given when the dialog was opened.
	Value string
	// User is who submitted.
	User User
	// Room is where the user was; Direct reports a direct message with
	// the bot.
	Room   Room
	Direct bool
	// Fields are the values as submitted, by field name: strings,
	// numbers (float64) and bools.
	Fields map[string]any

	ctx    context.Context
	engine *Engine
	plugin *Plugin
	id     uint32
	answer SubmissionAnswer
}

// SubmissionAnswer is what the engine answers a submission, for the
// backend to send back to the dialog (Submission.Answer). The zero value
// closes the dialog.
type SubmissionAnswer struct {
	// Errors are messages by field: the dialog stays open and shows them.
	Errors map[string]string
	// Error is a message for the whole dialog, shown at its foot.
	Error string
}

// Context returns the handler's context.
func (s *Submission) Context() context.Context {
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

// ID returns the submission's reference, as Request.ID.
func (s *Submission) ID() string { return refString(s.id) }

// Answer returns what the engine answers; backends call it once
// HandleSubmission has returned.
func (s *Submission) Answer() SubmissionAnswer { return s.answer }

// IsAdmin reports whether the submitting user is a bot admin.
func (s *Submission) IsAdmin() bool { return s.engine != nil && s.engine.IsAdmin(s.User.ID) }

// Reply posts text in the room the dialog was submitted from.
func (s *Submission) Reply(text string) error { return s.send(&Outgoing{Text: text}) }

// Card posts a card in the room the dialog was submitted from.
func (s *Submission) Card(card Card) error { return s.send(&Outgoing{Card: &card}) }

func (s *Submission) send(out *Outgoing) error {
	out.RoomID = s.Room.ID
	if err := s.plugin.stampOutgoing(out); err != nil {
		return err
	}
	if err := s.engine.sent(s.engine.backend.Send(s.Context(), out)); err != nil {
		return fmt.Errorf("bot: reply: %w", err)
	}
	return nil
}

const (
	dialogUnknown  = "This dialog no longer works: the bot does not know it any more."
	fieldRequired  = "This field is required."
	fieldNotNumber = "Enter a number."
	fieldNotWhole  = "Enter a whole number."
	fieldNotChoice = "Pick one of the choices."
)

// HandleSubmission checks s against the form it names and runs the form's
// handler, leaving the answer for the dialog in s (Submission.Answer). A
// cancelled dialog runs nothing. It implements ActionHandler.
func (e *Engine) HandleSubmission(ctx context.Context, s *Submission) {
	s.engine, s.id = e, newRef()
	p := e.registry().byName[s.Plugin]
	var f *FormHandler
	if p != nil {
		f = p.forms[s.Dialog]
	}
	log := e.log.With("plugin", s.Plugin, "dialog", s.Dialog, "user_id", s.User.ID, "room_id", s.Room.ID)
	if f == nil {
		log.Info("submission refused", "reason", "unknown dialog")
		s.answer.Error = dialogUnknown
		return
	}
	s.plugin = p
	if !p.enter() {
		log.Info("submission refused", "reason", "plugin inactive")
		s.answer.Error = fmt.Sprintf("This dialog does not work right now: the %s plugin is not active.", p.name)
		return
	}
	defer p.leave()
	base := e.baseContext()
	if base == nil || base.Err() != nil || e.settings().conn == nil || !e.enterService() {
		s.answer.Error = clickStopped
		return
	}
	defer e.svc.Done()

	cmd := &Cmd{plugin: p, name: s.Dialog, admin: f.admin}
	m := &Message{From: s.User, Room: s.Room, Direct: s.Direct, Time: time.Now()}
	req := &Request{Message: m, Command: s.Dialog, Plugin: p, engine: e, cmd: cmd, id: s.id}
	logged := &Cmd{plugin: p, name: "dialog " + s.Dialog}
	done := func(o Outcome, d time.Duration, attrs ...slog.Attr) {
		req.cmd = logged
		e.done(req, o, d, attrs...)
	}
	if reason := e.refuse(req, cmd); reason != "" {
		s.answer.Error = "You cannot use this: " + reason + "."
		done(OutcomeDenied, 0, slog.String("reason", reason))
		return
	}
	v := reflect.New(f.typ).Elem()
	if errs := f.decode(s.Fields, v); len(errs) > 0 {
		s.answer.Errors = errs
		done(OutcomeUsage, 0, slog.Any("fields", FieldErrors(errs)))
		return
	}

	timeout := f.timeout
	if timeout <= 0 {
		timeout = min(e.options().CommandTimeout, DefaultClickTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if actx := p.actx.Load(); actx != nil {
		base = *actx
	}
	stop := context.AfterFunc(base, cancel)
	defer stop()
	s.ctx = ctx
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("form handler panicked", "request_id", s.ID(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = errPanic
			}
		}()
		return f.validate(ctx, s, v)
	}()
	var (
		fe  FieldErrors
		use *UserError
	)
	switch {
	case err == nil:
		done(OutcomeOK, time.Since(start))
	case errors.As(err, &fe):
		s.answer.Errors = fe
		done(OutcomeUsage, time.Since(start), slog.Any("fields", fe))
	case errors.As(err, &use):
		s.answer.Error = use.Err.Error()
		done(OutcomeError, time.Since(start), slog.Any("err", err))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		log.Warn("submission timed out", "request_id", s.ID(), "timeout", timeout)
		s.answer.Error = fmt.Sprintf("That took too long (more than %v): I stopped.", timeout)
		done(OutcomeTimeout, time.Since(start))
	default:
		if !errors.Is(err, errPanic) {
			log.Warn("submission failed", "request_id", s.ID(), "err", err)
		}
		s.answer.Error = fmt.Sprintf("Sorry, that failed (ref %s).", s.ID())
		done(OutcomeError, time.Since(start))
	}
}

// decode checks the submitted values against the form's fields and sets
// them in v; it returns the problems by field name.
func (f *FormHandler) decode(in map[string]any, v reflect.Value) map[string]string {
	errs := map[string]string{}
	for _, ff := range f.fields {
		el := ff.el
		raw, ok := in[el.Name]
		if s, isStr := raw.(string); !ok || raw == nil || isStr && strings.TrimSpace(s) == "" {
			if !el.Optional {
				errs[el.Name] = fieldRequired
			}
			continue
		}
		dst := v.FieldByIndex(ff.index)
		switch {
		case ff.kind == reflect.Bool:
			switch b := raw.(type) {
			case bool:
				dst.SetBool(b)
			case string:
				pb, err := strconv.ParseBool(b)
				if err != nil {
					errs[el.Name] = "Check it or leave it."
					continue
				}
				dst.SetBool(pb)
			default:
				errs[el.Name] = "Check it or leave it."
			}
		case ff.kind == reflect.String:
			s, ok := raw.(string)
			if !ok {
				s = fmt.Sprint(raw)
			}
			n := utf8.RuneCountInString(s)
			switch {
			case el.MinLength > 0 && n < el.MinLength:
				errs[el.Name] = fmt.Sprintf("Enter at least %d characters.", el.MinLength)
			case el.MaxLength > 0 && n > el.MaxLength && el.Type != ElementSelect && el.Type != ElementRadio:
				errs[el.Name] = fmt.Sprintf("Enter at most %d characters.", el.MaxLength)
			case len(el.Options) > 0 && !slices.ContainsFunc(el.Options, func(o Option) bool { return o.Value == s }):
				errs[el.Name] = fieldNotChoice
			default:
				dst.SetString(s)
			}
		default: // numbers
			var x float64
			switch n := raw.(type) {
			case float64:
				x = n
			case string:
				pf, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
				if err != nil || math.IsNaN(pf) || math.IsInf(pf, 0) {
					errs[el.Name] = fieldNotNumber
					continue
				}
				x = pf
			default:
				errs[el.Name] = fieldNotNumber
				continue
			}
			switch {
			case isInt(ff.kind):
				if x != math.Trunc(x) || dst.OverflowInt(int64(x)) {
					errs[el.Name] = fieldNotWhole
					continue
				}
				dst.SetInt(int64(x))
			case isUint(ff.kind):
				if x != math.Trunc(x) || x < 0 || dst.OverflowUint(uint64(x)) {
					errs[el.Name] = fieldNotWhole
					continue
				}
				dst.SetUint(uint64(x))
			default:
				dst.SetFloat(x)
			}
		}
	}
	return errs
}
