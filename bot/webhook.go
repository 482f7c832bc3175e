package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
)

// defaultMaxBody is the default of Options.WebhookMaxBody.
const defaultMaxBody = 1 << 20

// Hook is an HTTP endpoint a plugin declared with Plugin.Webhook or
// Webhook.
type Hook struct {
	Plugin  string
	Pattern string // a net/http ServeMux pattern: "POST /deploy/done"
	// Handler serves the endpoint as Engine.HTTPHandler does, with every
	// check: plugin active, secret, body size.
	Handler http.Handler
}

// WebhookAuth says how a webhook request proves that its sender knows a
// shared secret. The zero value checks nothing. Comparisons take
// constant time; a missing proof is refused with 401, a wrong one with
// 403.
type WebhookAuth struct {
	// Secret is the shared secret. Empty: no check.
	Secret string
	// Header is the request header that carries the proof. Default
	// "X-Webhook-Secret", or "X-Hub-Signature-256" with HMAC.
	Header string
	// HMAC makes Header carry "sha256=" and the hex HMAC-SHA256 of the
	// body keyed with Secret (GitHub's X-Hub-Signature-256) instead of
	// the secret itself: the secret never travels, and the body cannot
	// be changed on the way. The "sha256=" is optional.
	HMAC bool
}

func (a *WebhookAuth) check() error {
	if a.Secret == "" && (a.Header != "" || a.HMAC) {
		return errors.New("empty secret")
	}
	if a.Header != "" && !validHeaderName(a.Header) {
		return fmt.Errorf("bad header name %q", a.Header)
	}
	return nil
}

func validHeaderName(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

func (a *WebhookAuth) header() string {
	switch {
	case a.Header != "":
		return a.Header
	case a.HMAC:
		return "X-Hub-Signature-256"
	}
	return "X-Webhook-Secret"
}

// verify checks the proof in h; body is needed for HMAC. It returns nil
// or an *HTTPError (401, 403).
func (a *WebhookAuth) verify(h http.Header, body []byte) error {
	name := a.header()
	got := h.Get(name)
	if got == "" {
		return &HTTPError{Code: http.StatusUnauthorized, Message: "missing " + name + " header"}
	}
	if !a.HMAC {
		// Compare digests so that the comparison does not leak the
		// secret's length either.
		g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(a.Secret))
		if subtle.ConstantTimeCompare(g[:], w[:]) != 1 {
			return &HTTPError{Code: http.StatusForbidden, Message: "wrong secret in " + name + " header"}
		}
		return nil
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(got, "sha256="))
	if err != nil {
		return &HTTPError{Code: http.StatusForbidden, Message: "malformed signature in " + name + " header: want sha256=<hex HMAC-SHA256 of the body>"}
	}
	mac := hmac.New(sha256.New, []byte(a.Secret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return &HTTPError{Code: http.StatusForbidden, Message: "bad signature in " + name + " header"}
	}
	return nil
}

// Sign returns the value of the HMAC header for body: "sha256=<hex>". It
// is what a sender computes; tests use it.
func (a WebhookAuth) Sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(a.Secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// HTTPError is an error with an HTTP status. A webhook handler returns
// one to refuse a request with a 4xx (or 5xx) and a message for the
// sender; any other error, or a Code outside 400-599, is a 500 whose
// details only the log sees.
type HTTPError struct {
	Code    int    // an HTTP status code: http.StatusBadRequest
	Message string // for the sender
}

// Error returns "422 Unprocessable Entity: service is required".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// Endpoint is a declared webhook. Its methods refine the declaration
// and return the Endpoint so they chain; like the declaration, they may
// only be called from Setup.
//
//	bot.Webhook(p, "POST /deploy/done", d.done).HMAC("", d.cfg.Secret)
type Endpoint struct {
	plugin  *Plugin
	pattern string
	auth    *WebhookAuth // nil: Options.WebhookAuth
	maxBody int64        // 0: Options.WebhookMaxBody
	// serve handles a request whose checks passed and whose body was
	// read. It returns nil once it has written the response.
	serve func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) error
}

// Secret requires the request header (default "X-Webhook-Secret") to
// hold secret, instead of Options.WebhookAuth.
func (ep *Endpoint) Secret(header, secret string) *Endpoint {
	return ep.Auth(WebhookAuth{Secret: secret, Header: header})
}

// HMAC requires the request header (default "X-Hub-Signature-256") to
// hold "sha256=" and the hex HMAC-SHA256 of the body keyed with secret,
// instead of Options.WebhookAuth.
func (ep *Endpoint) HMAC(header, secret string) *Endpoint {
	return ep.Auth(WebhookAuth{Secret: secret, Header: header, HMAC: true})
}

// Auth sets how requests prove they know a shared secret, instead of
// Options.WebhookAuth. An empty secret is a declaration error: to accept
// requests without proof despite Options.WebhookAuth, use Public.
func (ep *Endpoint) Auth(a WebhookAuth) *Endpoint {
	if a.Secret == "" {
		ep.plugin.errs = append(ep.plugin.errs, fmt.Errorf("webhook %q: empty secret", ep.pattern))
		return ep
	}
	if err := a.check(); err != nil {
		ep.plugin.errs = append(ep.plugin.errs, fmt.Errorf("webhook %q: %w", ep.pattern, err))
		return ep
	}
	ep.auth = &a
	return ep
}

// Public accepts requests without proof of a secret, even when
// Options.WebhookAuth sets one.
func (ep *Endpoint) Public() *Endpoint {
	ep.auth = &WebhookAuth{}
	return ep
}

// MaxBody bounds the request body, instead of Options.WebhookMaxBody.
func (ep *Endpoint) MaxBody(n int64) *Endpoint {
	if n <= 0 {
		ep.plugin.errs = append(ep.plugin.errs, fmt.Errorf("webhook %q: MaxBody(%d): the limit must be positive", ep.pattern, n))
		return ep
	}
	ep.maxBody = n
	return ep
}

// Webhook declares an HTTP endpoint served by Engine.HTTPHandler while
// the plugin is active. pattern is a net/http ServeMux pattern with a
// method: "POST /deploy/done", "GET /deploy/{service}". h gets the body
// in r.Body, already read and checked (size, secret); r's context is
// cancelled at shutdown and deactivation and after Options.CommandTimeout.
// A panic in h becomes a 500 and a log line. See Webhook for a typed
// handler that gets a decoded body.
func (p *Plugin) Webhook(pattern string, h http.HandlerFunc) *Endpoint {
	if h == nil {
		return p.addHook(pattern, nil)
	}
	return p.addHook(pattern, func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) error {
		h(w, r)
		return nil
	})
}

// WebhookRequest is a webhook request handed to a typed handler.
type WebhookRequest struct {
	// HTTP is the request. Its body has been read into Body.
	HTTP *http.Request
	// Body is the raw body.
	Body []byte
	// Plugin is the plugin that declared the endpoint: for Send and
	// Store.
	Plugin *Plugin

	status int
	resp   any
}

// PathValue returns the value of the wildcard {name} in the endpoint's
// pattern.
func (r *WebhookRequest) PathValue(name string) string { return r.HTTP.PathValue(name) }

// Respond sets the response sent when the handler returns nil: status,
// and v encoded as JSON unless v is nil. Default 204 No Content.
func (r *WebhookRequest) Respond(status int, v any) { r.status, r.resp = status, v }

// Webhook declares an HTTP endpoint whose body is decoded into a T for h,
// and served by Engine.HTTPHandler while the plugin is active (see
// Plugin.Webhook for the pattern and the context).
//
// A JSON body (Content-Type application/json or */*+json) is decoded
// with encoding/json; unknown fields are ignored. A form body
// (application/x-www-form-urlencoded) is decoded when T is a struct
// whose fields are strings, bools, numbers or slices of them, named by
// their form tag, else their json tag, else their name (case does not
// matter); or a map[string]string or url.Values. T []byte takes the raw
// body of any type. An empty body without a Content-Type leaves T zero.
//
// The sender gets 415 for another Content-Type, 400 naming the problem
// for a body that does not decode, h's *HTTPError as it is, 500 for any
// other error or a panic (logged), and otherwise what h set with
// WebhookRequest.Respond (default 204 No Content).
func Webhook[T any](p *Plugin, pattern string, h func(ctx context.Context, req *WebhookRequest, body T) error) *Endpoint {
	if h == nil {
		return p.addHook(pattern, nil)
	}
	dec, err := newBodyDecoder(reflect.TypeFor[T]())
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("webhook %q: %w", pattern, err))
		return &Endpoint{plugin: p, pattern: pattern}
	}
	return p.addHook(pattern, func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) error {
		var v T
		if err := dec.decode(r.Header.Get("Content-Type"), body, reflect.ValueOf(&v).Elem()); err != nil {
			return err
		}
		req := &WebhookRequest{HTTP: r, Body: body, Plugin: p, status: http.StatusNoContent}
		if err := h(ctx, req, v); err != nil {
			return err
		}
		if req.status < 200 || req.status > 599 {
			return fmt.Errorf("Respond(%d): not a final HTTP status", req.status)
		}
		if req.resp == nil {
			w.WriteHeader(req.status)
			return nil
		}
		b, err := json.Marshal(req.resp)
		if err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(req.status)
		_, _ = w.Write(append(b, '\n')) // the sender hung up: nothing to do
		return nil
	})
}

func (p *Plugin) addHook(pattern string, serve func(context.Context, http.ResponseWriter, *http.Request, []byte) error) *Endpoint {
	ep := &Endpoint{plugin: p, pattern: pattern, serve: serve}
	if serve == nil {
		p.errs = append(p.errs, fmt.Errorf("webhook %q: %w", pattern, errNoHandler))
		return ep
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.engine.serveHook(ep, w, r) })
	// ServeMux panics on a bad or conflicting pattern: a declaration
	// error, reported by New like the others.
	if err := safely(func() error { p.mux.Handle(pattern, h); return nil }); err != nil {
		p.errs = append(p.errs, fmt.Errorf("webhook %q: %s", pattern, strings.TrimPrefix(err.Error(), "panic: ")))
		return ep
	}
	p.hooks = append(p.hooks, Hook{Plugin: p.name, Pattern: pattern, Handler: h})
	return ep
}

// HTTPHandler returns the handler that serves the webhooks of the active
// plugins, for the daemon to mount on its HTTP server. A path nobody
// declared, or whose plugin is inactive, gets 404; a declared path with
// another method gets 405 with an Allow header; a request before Run or
// after shutdown gets 503.
//
// The handler follows the plugins registered and unregistered at run
// time (Register, Unregister).
func (e *Engine) HTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.registry().mux.ServeHTTP(w, r) })
}

// serveHook serves one request to ep: checks, body, handler, errors.
func (e *Engine) serveHook(ep *Endpoint, w http.ResponseWriter, r *http.Request) {
	p := ep.plugin
	if !p.enter() {
		http.NotFound(w, r)
		return
	}
	defer p.leave()
	base := e.baseContext()
	if base == nil || base.Err() != nil || !e.enterService() {
		http.Error(w, "bot is not running", http.StatusServiceUnavailable)
		return
	}
	defer e.svc.Done()
	log := e.log.With("plugin", p.name, "webhook", ep.pattern)
	auth := ep.auth
	if auth == nil {
		auth = &e.opts.WebhookAuth
	}
	limit := ep.maxBody
	if limit == 0 {
		limit = e.opts.WebhookMaxBody
	}
	refuse := func(err error) {
		var he *HTTPError
		errors.As(err, &he)
		log.Info("webhook refused", "status", he.Code, "reason", he.Message, "remote_addr", r.RemoteAddr)
		http.Error(w, he.Message, he.Code)
	}
	// A plain secret is checked before reading the body, which an HMAC
	// needs.
	if auth.Secret != "" && !auth.HMAC {
		if err := auth.verify(r.Header, nil); err != nil {
			refuse(err)
			return
		}
	}
	tooLarge := &HTTPError{Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("body larger than %d bytes", limit)}
	if r.ContentLength > limit {
		refuse(tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			refuse(tooLarge)
		} else {
			refuse(&HTTPError{Code: http.StatusBadRequest, Message: "reading the body: " + err.Error()})
		}
		return
	}
	if auth.Secret != "" && auth.HMAC {
		if err := auth.verify(r.Header, body); err != nil {
			refuse(err)
			return
		}
	}

	ctx, cancel := context.WithTimeout(r.Context(), e.options().CommandTimeout)
	defer cancel()
	if actx := p.actx.Load(); actx != nil {
		base = *actx // cancelled by deactivation and shutdown
	}
	stop := context.AfterFunc(base, cancel)
	defer stop()
	r = r.WithContext(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rw := &responseWriter{ResponseWriter: w}
	err = e.callHook(ctx, log, ep, rw, r, body)
	var he *HTTPError
	switch {
	case err == nil:
		log.Debug("webhook served", "status", rw.status())
		return
	case err == errAbort:
		// The handler aborted the response on purpose: let net/http
		// close the connection, as it would have done without us.
		panic(http.ErrAbortHandler)
	case errors.As(err, &he) && (he.Code < 400 || he.Code > 599):
		log.Warn("webhook failed", "status", http.StatusInternalServerError, "err", fmt.Errorf("HTTPError with code %d, want 4xx or 5xx: %w", he.Code, err))
		he = &HTTPError{Code: http.StatusInternalServerError, Message: "webhook handler failed; the bot's log has the details"}
	case errors.As(err, &he):
		if he.Code >= 500 {
			log.Warn("webhook failed", "status", he.Code, "err", err)
		} else {
			log.Info("webhook refused", "status", he.Code, "reason", he.Message, "remote_addr", r.RemoteAddr)
		}
	case errors.Is(err, errPanic):
		he = &HTTPError{Code: http.StatusInternalServerError, Message: "webhook handler failed; the bot's log has the details"}
	default:
		log.Warn("webhook failed", "status", http.StatusInternalServerError, "err", err)
		he = &HTTPError{Code: http.StatusInternalServerError, Message: "webhook handler failed; the bot's log has the details"}
	}
	if rw.wrote {
		return // too late for a status: the handler has started its response
	}
	http.Error(rw, he.Message, he.Code)
}

// errAbort stands for a handler's panic(http.ErrAbortHandler).
var errAbort = errors.New("handler aborted")

// callHook runs ep's handler, turning a panic into errPanic and a log line
// with the stack.
func (e *Engine) callHook(ctx context.Context, log *slog.Logger, ep *Endpoint, w http.ResponseWriter, r *http.Request, body []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // compared as net/http does
				err = errAbort
				return
			}
			log.Error("webhook handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return ep.serve(ctx, w, r, body)
}

// responseWriter records whether the handler has started its response.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
	code  int
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote, w.code = true, code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote, w.code = true, http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// bodyDecoder decodes request bodies into values of one type.
type bodyDecoder struct {
	typ  reflect.Type
	raw  bool      // T is []byte
	form *formSpec // nil: no form bodies
}

func newBodyDecoder(t reflect.Type) (*bodyDecoder, error) {
	if t == reflect.TypeFor[[]byte]() {
		return &bodyDecoder{typ: t, raw: true}, nil
	}
	if t.Kind() == reflect.Func || t.Kind() == reflect.Chan {
		return nil, fmt.Errorf("body type %v cannot be decoded", t)
	}
	return &bodyDecoder{typ: t, form: newFormSpec(t)}, nil
}

// decode decodes body, of the given Content-Type, into v. Errors are
// *HTTPError (400, 415).
func (d *bodyDecoder) decode(contentType string, body []byte, v reflect.Value) error {
	if d.raw {
		v.SetBytes(body)
		return nil
	}
	if contentType == "" && len(body) == 0 {
		return nil
	}
	accepted := "application/json"
	if d.form != nil {
		accepted += " or application/x-www-form-urlencoded"
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case contentType == "":
		return &HTTPError{Code: http.StatusUnsupportedMediaType, Message: "missing Content-Type: send " + accepted}
	case err != nil:
		return &HTTPError{Code: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("bad Content-Type %q: send %s", contentType, accepted)}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return decodeJSON(body, v)
	case mt == "application/x-www-form-urlencoded" && d.form != nil:
		return d.form.decode(body, v)
	}
	return &HTTPError{Code: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("Content-Type %s not accepted: send %s", mt, accepted)}
}

func decodeJSON(body []byte, v reflect.Value) error {
	bad := func(format string, args ...any) error {
		return &HTTPError{Code: http.StatusBadRequest, Message: "invalid JSON body: " + fmt.Sprintf(format, args...)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return bad("empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v.Addr().Interface()); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return bad("%s (at byte %d)", strings.TrimPrefix(err.Error(), "json: "), se.Offset)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return bad("truncated")
		}
		return bad("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("more than one JSON value")
	}
	return nil
}
