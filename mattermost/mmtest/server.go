package mmtest

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// Options configures a Server. A nil *Options or the zero value is valid and
// gives the defaults documented on each field.
type Options struct {
	// Logger receives one debug record per request and life-cycle records.
	// Nil discards. Tokens and passwords are never logged.
	Logger *slog.Logger

	// ServerVersion is the server version the fake claims (X-Version-Id,
	// the WebSocket hello and ping) and behaves like: VersionCurrent
	// ("current", the default) follows today's server source and claims
	// CurrentVersion; Version536 ("5.36") matches the 5.36.1 server the
	// recordings in testdata/recorded come from. Start and NewServer fail
	// on any other value; New panics.
	ServerVersion string

	// RateLimit turns the server's rate limiter on. Nil (the default, as on
	// the real server) means no rate limiting.
	RateLimit *RateLimit

	// MaxFileSize is the largest accepted upload in bytes
	// (FileSettings.MaxFileSize). Default 100 MiB.
	MaxFileSize int64

	// EnableBotAccountCreation lets POST /bots create bots (the server's
	// ServiceSettings.EnableBotAccountCreation). Default false: bots are
	// made through the back door, AddBot.
	EnableBotAccountCreation bool

	// WebSocket holds the WebSocket timing knobs, passed to the hub.
	WebSocket WebSocketOptions

	// Now returns the current time; nil means time.Now. Tests of the rate
	// limiter inject a fake clock here.
	Now func() time.Time

	// WebApp serves every path outside the API (/api/v4/, the
	// WebSocket included) and the webhooks (/hooks/), where a real
	// server serves its web app; matterbot fake-server serves its
	// playground page there. Nil (the default) answers them 404.
	WebApp http.Handler

	// StableIDs derives the ids of accounts (users and bots), teams and
	// channels from their names: an account's and a team's from its
	// name, a channel's from its team's id and its name, a direct or
	// group message's from its members' ids. The same world built again,
	// by another process, then has the same ids, so a bot's cached ids
	// stay right across a restart of the fake. A name whose id is taken
	// (an account renamed, its old name reused) gets a random id. Posts,
	// files, sessions, tokens and the rest stay random. Default false:
	// every id is random, as on a real server.
	StableIDs bool
}

// WebSocketOptions are the WebSocket hub's timing knobs. Zero values mean the
// real server's constants (server/channels/app/platform/web_conn.go).
type WebSocketOptions struct {
	PingInterval      time.Duration // default 60s
	PongWait          time.Duration // default 100s
	AuthTimeout       time.Duration // unauthenticated sockets closed after; default 5s
	ReapInactiveAfter time.Duration // resumable window of a dropped connection; default 5m
}

// RateLimit configures the rate limiter, following the server's
// RateLimitSettings (server/public/model/config.go).
type RateLimit struct {
	// PerSec is the sustained rate of requests per second; default 10.
	PerSec int
	// MaxBurst is how many requests above the rate may pass at once;
	// default 100.
	MaxBurst int
	// VaryByUser keys the limit by token instead of by remote address.
	VaryByUser bool
}

// Server is an in-process fake Mattermost server speaking the REST API v4 and
// the WebSocket protocol on 127.0.0.1. Its methods are safe for concurrent
// use. Close it when done (NewServer does it through t.Cleanup).
type Server struct {
	logger  *slog.Logger
	profile string // Options.ServerVersion: VersionCurrent or Version536
	version string // the release claimed: "11.4.4", "5.36.1"
	verID   string // X-Version-Id value
	now     func() time.Time
	maxFile int64
	botAPI  bool
	stable  bool    // Options.StableIDs
	router  *router // /api/v4
	web     *router // /hooks
	webApp  http.Handler
	limiter *rateLimiter
	hub     eventHub
	hs      *httptest.Server

	// onPublish, when set before the server is used, sees every event
	// (tests).
	onPublish func(event)

	closeOnce sync.Once

	keyOnce sync.Once
	key     *ecdsa.PrivateKey // the signing key of trigger ids; see signingKey

	faultMu sync.Mutex
	// fields under faultMu
	failN      int
	failStatus int
	dropN      int
	latency    time.Duration

	mu sync.Mutex
	// fields under mu
	st      *state
	changed chan struct{} // closed and replaced on every state change
}

// NewServer starts a fake server on a free port of 127.0.0.1 and closes it
// when t ends. opts may be nil.
func NewServer(t testing.TB, opts *Options) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("mmtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake server listening on addr ("127.0.0.1:8065", or
// "127.0.0.1:0" for a free port). The caller must Close it.
func Start(addr string, opts *Options) (*Server, error) {
	if opts != nil {
		if _, err := claimedVersion(opts.ServerVersion); err != nil {
			return nil, err
		}
	}
	return startServer(New(opts), addr)
}

// startServer makes s listen on addr.
func startServer(s *Server, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	s.hs = httptest.NewUnstartedServer(s)
	_ = s.hs.Listener.Close() // replaced by ours, bound to addr
	s.hs.Listener = ln
	s.hs.Config.ErrorLog = slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug)
	s.hs.Start()
	s.logger.Info("mmtest server started", "url", s.hs.URL)
	return s, nil
}

// New returns a server that is not listening: use it as an http.Handler
// (for example with httptest.NewRecorder). Start and NewServer return a
// listening one. Close releases its WebSocket hub. New panics on an
// unknown Options.ServerVersion, a programming error.
func New(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ServerVersion == "" {
		o.ServerVersion = VersionCurrent
	}
	version, err := claimedVersion(o.ServerVersion)
	if err != nil {
		panic(err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 100 << 20
	}
	s := &Server{
		logger:  o.Logger,
		profile: o.ServerVersion,
		version: version,
		// <version>.<build number>.<config hash>.<licensed>, as
		// web/handlers.go writes it; the recorded 5.36.1 release build
		// has an empty build number, and the fake keeps that form.
		verID:   version + "..482d74aa791d53ed59a63fb53a266ea0.false",
		now:     o.Now,
		maxFile: o.MaxFileSize,
		botAPI:  o.EnableBotAccountCreation,
		stable:  o.StableIDs,
		webApp:  o.WebApp,
		st:      newState(),
		changed: make(chan struct{}),
	}
	s.st.roles = s.newRoles()
	if o.RateLimit != nil {
		s.limiter = newRateLimiter(*o.RateLimit, o.Now)
	}
	var routes []route
	for _, r := range s.routes() {
		if versionAtLeast(s.version, r.since) {
			routes = append(routes, r)
		}
	}
	s.router = newRouter(routes)
	s.web = newRouter(s.webRoutes())
	s.hub = s.newEventHub(o.WebSocket)
	return s
}

// URL returns the base URL of the server, e.g. "http://127.0.0.1:41234",
// without a trailing slash. It is "" for a server made with New.
func (s *Server) URL() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// Client returns a mattermost.Client pointed at the server that sends
// token (a session or personal access token; "" for none), with the
// client's default options and the server's logger. It fails only for a
// server made with New, which has no URL.
func (s *Server) Client(token string) (*mattermost.Client, error) {
	return mattermost.NewClient(s.URL(), mattermost.Secret(token), &mattermost.ClientOptions{Logger: s.logger})
}

// Close stops the server and its WebSocket hub. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.hub.Close()
		if s.hs != nil {
			s.hs.CloseClientConnections()
			s.hs.Close()
		}
	})
}

// request is one API call on its way through a handler.
type request struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	id     string            // X-Request-Id
	params map[string]string // path parameters
	sess   *session          // nil when anonymous
	token  string            // the token the request carried, valid or not
}

// ServeHTTP serves the REST API, the WebSocket upgrade and incoming
// webhooks, and Options.WebApp every other path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	token, fromQuery := apiToken(r)
	if s.limiter != nil && !s.limiter.allow(w, r, token) {
		return
	}
	if !s.applyFaults(w, r) {
		return
	}
	if s.takeDrop(r) {
		d := &droppingWriter{orig: w}
		defer d.drop()
		w = d
	}
	path := r.URL.Path
	switch {
	case isWebSocketPath(path):
		// The upgrade never requires a session (api4/websocket.go); the
		// hub authenticates the token itself.
		s.hub.ServeHTTP(w, r)
		return
	case strings.HasPrefix(path, "/api/v4/"):
		s.serveAPI(w, r, s.router, path[len("/api/v4"):], token, fromQuery, start)
		return
	}
	if rt, _ := s.web.match(r.Method, path); rt != nil {
		s.serveAPI(w, r, s.web, path, token, fromQuery, start)
		return
	}
	if s.webApp != nil {
		s.webApp.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rtr *router, path, token string, fromQuery bool, start time.Time) {
	rt, params := rtr.match(r.Method, path)
	if rt == nil {
		handle404(w, r)
		s.logger.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "status", http.StatusNotFound)
		return
	}
	q := &request{s: s, w: w, r: r, id: mattermost.NewID(), params: params, token: token}
	// Headers every API answer carries (web/handlers.go ServeHTTP).
	h := w.Header()
	h.Set("X-Request-Id", q.id)
	h.Set("X-Version-Id", s.verID)
	if r.Method == http.MethodGet {
		h.Set("Expires", "0")
	}
	if token != "" {
		q.sess = s.session(token)
		if q.sess != nil && fromQuery && !q.sess.oauth {
			// web/handlers.go: a session token in ?access_token= is
			// refused outright.
			q.fail(apiError(http.StatusUnauthorized, "api.context.token_provided.app_error", ""))
			return
		}
	}
	if rt.auth && q.sess == nil {
		if token != "" {
			// web/handlers.go clears the stale cookie on a bad token.
			http.SetCookie(w, &http.Cookie{Name: "MMAUTHTOKEN", Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
		}
		q.fail(apiError(http.StatusUnauthorized, "api.context.session_expired.app_error", ""))
		s.logger.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "status", http.StatusUnauthorized)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	q.w = sw
	rt.handler(q)
	s.logger.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "status", sw.status,
		"request_id", q.id, "duration", s.now().Sub(start))
}

// handle404 answers an unknown route exactly as api4/api.go Handle404 →
// web/handlers.go Handle404 does: an AppError with a detailed_error, no
// request id and no explicit Content-Type (Go sniffs text/plain).
func handle404(w http.ResponseWriter, r *http.Request) {
	e := apiError(http.StatusNotFound, "api.context.404.app_error", "")
	e.DetailedError = "There doesn't appear to be an api call for the url='" + r.URL.Path + "'.  Typo? are you missing a team_id or user_id as part of the url?"
	b, _ := json.Marshal(e)
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(b)
}

// apiToken finds the token where ParseAuthTokenFromRequest
// (server/channels/app/authentication.go) looks, in its order: cookie
// MMAUTHTOKEN, "Authorization: Bearer", "Authorization: Token", then the
// access_token query parameter. fromQuery reports the last case.
func apiToken(r *http.Request) (token string, fromQuery bool) {
	if c, err := r.Cookie("MMAUTHTOKEN"); err == nil && c.Value != "" {
		return c.Value, false
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if len(a) > 6 && strings.EqualFold(a[:7], "bearer ") {
			return a[7:], false
		}
		if len(a) > 5 && strings.EqualFold(a[:6], "token ") {
			return a[6:], false
		}
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t, true
	}
	return "", false
}

// fail writes e as the answer.
func (q *request) fail(e *mattermost.APIError) {
	writeError(q.w, q.id, e)
}

// errPerm is the 403 of web/context.go SetPermissionError.
func errPerm() *mattermost.APIError {
	return apiError(http.StatusForbidden, "api.context.permissions.app_error", "")
}

// errParam is the 400 of web/context.go SetInvalidParam, naming name.
func errParam(name string) *mattermost.APIError {
	return apiError(http.StatusBadRequest, "api.context.invalid_body_param.app_error", name)
}

// failPerm writes the 403 of web/context.go SetPermissionError.
func (q *request) failPerm() {
	q.fail(errPerm())
}

// failURLParam writes the 400 of web/context.go SetInvalidURLParam.
func (q *request) failURLParam(name string) {
	q.fail(apiError(http.StatusBadRequest, "api.context.invalid_url_param.app_error", name))
}

// failParam writes the 400 of web/context.go SetInvalidParam.
func (q *request) failParam(name string) {
	q.fail(errParam(name))
}

// reply writes v as JSON with the given status.
func (q *request) reply(status int, v any) {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	_ = writeJSONBody(q.w, v) // the client went away; nothing to do
}

// okBody is the body of api4 ReturnStatusOK.
const okBody = `{"status":"OK"}`

// ok writes the {"status":"OK"} of api4 ReturnStatusOK.
func (q *request) ok() {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(q.w, okBody)
}

// statusOK answers {"status":"OK"} (api4 ReturnStatusOK) from a locked
// function.
type statusOK struct{}

// MarshalJSON writes okBody.
func (statusOK) MarshalJSON() ([]byte, error) { return []byte(okBody), nil }

// locked runs f with s.mu held and, once the lock is released, answers:
// the error f returns, or else status with out after publishing the events
// f queued in evs (none are published on error). f must return copies, not
// pointers into the state: out is encoded after the unlock. f calls
// s.touch itself when it changes the state.
func (q *request) locked(status int, f func(evs *[]event) (out any, e *mattermost.APIError)) {
	s := q.s
	var evs []event
	s.mu.Lock()
	out, e := f(&evs)
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	s.publish(evs)
	q.reply(status, out)
}

// copyOf returns *v as the answer of a locked function, or e.
func copyOf[T any](v *T, e *mattermost.APIError) (any, *mattermost.APIError) {
	if e != nil {
		return nil, e
	}
	return *v, nil
}

// decode reads the JSON body into v; on failure it answers 400
// invalid_body_param naming name, or 413 request_body_too_large for a body
// over MaximumPayloadSizeBytes (web/context.go SetInvalidParamWithErr), and
// returns false.
func (q *request) decode(name string, v any) bool {
	err := json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, maxPayload)).Decode(v)
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		q.fail(apiError(http.StatusRequestEntityTooLarge, "api.context.request_body_too_large.app_error", ""))
		return false
	}
	q.failParam(name)
	return false
}

// maxPayload is ServiceSettings.MaximumPayloadSizeBytes' default.
const maxPayload = 300000

// userParam returns the user_id path parameter with "me" resolved to the
// session's user, as web/params.go does, and checks it is a valid id
// (c.RequireUserId); on failure it answers 400 and returns "".
func (q *request) userParam() string {
	id := q.params["user_id"]
	if id == "me" && q.sess != nil {
		id = q.sess.userID
	}
	if !mattermost.IsValidID(id) {
		q.failURLParam("user_id")
		return ""
	}
	return id
}

// idParam returns the named id path parameter, answering 400
// invalid_url_param when it is not a valid id (c.RequireXxxId).
func (q *request) idParam(name string) string {
	id := q.params[name]
	if !mattermost.IsValidID(id) {
		q.failURLParam(name)
		return ""
	}
	return id
}

// writeJSONBody writes v as json.Marshal encodes it, HTML characters
// escaped, as the server's model ToJSON/EncodeJSON do.
func writeJSONBody(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// replyRaw writes an already encoded JSON body.
func (q *request) replyRaw(status int, b []byte) {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(b)
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logPath is the path as logged: an incoming webhook's id is a secret
// (whoever knows it may post), so it is redacted.
func logPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/hooks/"); ok && rest != "" {
		return "/hooks/[REDACTED]"
	}
	return p
}

// versionAtLeast reports whether version ("5.36.1") is min ("6.1") or
// later, comparing the dot-separated numbers in order; an empty min is
// always met. A part that is not a number counts as 0.
func versionAtLeast(version, min string) bool {
	if min == "" {
		return true
	}
	v, m := strings.Split(version, "."), strings.Split(min, ".")
	for i := range max(len(v), len(m)) {
		var a, b int
		if i < len(v) {
			a, _ = strconv.Atoi(v[i])
		}
		if i < len(m) {
			b, _ = strconv.Atoi(m[i])
		}
		if a != b {
			return a > b
		}
	}
	return true
}
