package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	// baseURLPath is a non-empty subpath the test server is mounted under,
	// so that a client dropping the site's subpath fails every test.
	baseURLPath = "/mm"
	testToken   = Secret("tok-3f9a1c") // never to be seen in logs or errors
)

// sleeper replaces the clock's waits: it records every wait and returns at
// once (or with ctx.Err()), so retry tests need no real sleeping.
type sleeper struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// setup starts a test server under baseURLPath and returns a client
// pointed at it (token testToken, no client-side rate limit, recorded
// sleeps) and the mux to register handlers on, with paths as the server
// sees them (e.g. "GET /api/v4/users/me"). opts, when non-nil, is used as
// the base of the client options.
func setup(t *testing.T, opts *ClientOptions) (*Client, *http.ServeMux, *sleeper) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)

	s := &sleeper{}
	o := ClientOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Sleep == nil {
		o.Sleep = s.Sleep
	}
	token := testToken
	if o.Login != "" {
		token = ""
	}
	c, err := NewClient(srv.URL+baseURLPath, token, &o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, s
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("request method = %s, want %s", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, header, want string) {
	t.Helper()
	if got := r.Header.Get(header); got != want {
		t.Errorf("request header %s = %q, want %q", header, got, want)
	}
}

// testBody checks that the request body is the JSON want (compared as
// values, so key order and spacing do not matter), ignoring the listed
// top-level keys.
func testBody(t *testing.T, r *http.Request, want any, ignore ...string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read request body: %v", err)
	}
	var got any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("request body %q is not JSON: %v", b, err)
		}
	}
	wantV := want
	if raw, ok := want.(json.RawMessage); ok {
		if err := json.Unmarshal(raw, &wantV); err != nil {
			t.Fatal(err)
		}
	}
	if m, ok := got.(map[string]any); ok {
		for _, k := range ignore {
			delete(m, k)
		}
	}
	if diff := cmp.Diff(wantV, got); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request query mismatch (-want +got):\n%s", diff)
	}
}

// writeRecorded answers with a recorded response: status, headers, body.
func writeRecorded(w http.ResponseWriter, rec *recorded) {
	for k, v := range rec.Response.Headers {
		if k != "Content-Length" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(rec.Response.Status)
	var s string
	if json.Unmarshal(rec.Response.Body, &s) == nil {
		_, _ = io.WriteString(w, s)
		return
	}
	_, _ = w.Write(rec.Response.Body)
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAppError answers an AppError body, as the server does.
func writeAppError(w http.ResponseWriter, status int, id string) {
	writeJSON(w, status, &APIError{ID: id, Message: "msg for " + id, StatusCode: status, RequestID: "req" + id})
}

// hangUp closes the connection without an answer: the client sees a
// network error (the answer is lost).
func hangUp(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// recordedCase is one endpoint test driven by a real-server recording: the
// handler checks the request against the recording and replays the
// recorded answer; the result must equal the recorded body decoded into
// the result's type.
type recordedCase struct {
	name     string
	file     string
	path     string   // request path under /api/v4 when the recording's has a placeholder
	method   string   // the request method, when the recording is of another call with the same answer (no body then)
	raw      bool     // path is not under /api/v4
	wantBody any      // the request body expected; nil means the recording's
	ignore   []string // body keys not compared (generated values)
	call     func(ctx context.Context, c *Client) (any, *Response, error)
	want     any // the result expected; nil means the recorded body decoded
	before   func(c *Client)
}

func runRecorded(t *testing.T, tests []recordedCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, nil)
			if tc.before != nil {
				tc.before(c)
			}
			rec := loadRecorded(t, tc.file)
			path, rawQuery, _ := strings.Cut(rec.Request.Path, "?")
			if tc.path != "" {
				path = tc.path
			}
			wantQuery, _ := url.ParseQuery(rawQuery)
			prefix := "/api/v4"
			if tc.raw {
				prefix = ""
			}
			var calls atomic.Int32
			mux.HandleFunc(prefix+path, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				method, reqBody := rec.Request.Method, rec.Request.Body
				if tc.method != "" {
					method, reqBody = tc.method, nil
				}
				testMethod(t, r, method)
				testQuery(t, r, wantQuery)
				testHeader(t, r, "User-Agent", DefaultUserAgent)
				if rec.Request.Auth == "none" {
					testHeader(t, r, "Authorization", "")
				} else {
					testHeader(t, r, "Authorization", "Bearer "+string(testToken))
				}
				switch {
				case tc.wantBody != nil:
					testBody(t, r, tc.wantBody, tc.ignore...)
				case len(reqBody) > 0 && string(reqBody) != "null":
					testHeader(t, r, "Content-Type", "application/json")
					testBody(t, r, reqBody, tc.ignore...)
				default:
					testBody(t, r, nil)
				}
				writeRecorded(w, rec)
			})
			got, resp, err := tc.call(t.Context(), c)
			if calls.Load() != 1 {
				t.Errorf("server saw %d requests, want 1", calls.Load())
			}
			if resp == nil || resp.StatusCode != rec.Response.Status {
				t.Errorf("Response = %v, want status %d", resp, rec.Response.Status)
			}
			if rec.Response.Status >= 300 {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != rec.Response.Status {
					t.Fatalf("error = %v, want an *APIError with status %d", err, rec.Response.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if resp.RequestID != rec.Response.Headers["X-Request-Id"] {
				t.Errorf("Response.RequestID = %q, want %q", resp.RequestID, rec.Response.Headers["X-Request-Id"])
			}
			want := tc.want
			if want == nil {
				if got == nil {
					return
				}
				v := reflect.New(reflect.TypeOf(got))
				if err := json.Unmarshal(rec.Response.Body, v.Interface()); err != nil {
					t.Fatal(err)
				}
				want = v.Elem().Interface()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// recordedBody decodes the recorded answer of file into a new T.
func recordedBody[T any](t *testing.T, file string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(loadRecorded(t, file).Response.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    *ClientOptions
		wantURL string
		wantWS  string
		wantErr string
	}{
		{name: "plain", url: "https://chat.example.com", wantURL: "https://chat.example.com", wantWS: "wss://chat.example.com/api/v4/websocket"},
		{name: "subpath and slash", url: "http://h:8065/team/", wantURL: "http://h:8065/team", wantWS: "ws://h:8065/team/api/v4/websocket"},
		{name: "api suffix", url: "http://h/api/v4/", wantURL: "http://h", wantWS: "ws://h/api/v4/websocket"},
		{name: "query dropped", url: "http://h/x?a=b#f", wantURL: "http://h/x", wantWS: "ws://h/x/api/v4/websocket"},
		{name: "no scheme", url: "chat.example.com", wantErr: "scheme must be http or https"},
		{name: "ftp", url: "ftp://h", wantErr: "scheme must be http or https"},
		{name: "no host", url: "http:///x", wantErr: "no host"},
		{name: "bad", url: "http://h/%zz", wantErr: "invalid URL escape"},
		{name: "user info", url: "http://bob:pw@h", wantErr: "user info is not allowed"},
		{name: "login without password", url: "http://h", opts: &ClientOptions{Login: "bob"}, wantErr: `login "bob" without a password`},
		{name: "negative burst", url: "http://h", opts: &ClientOptions{RateBurst: -1}, wantErr: "negative RateBurst"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.url, "", tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewClient(%q) error = %v, want one containing %q", tc.url, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw@") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient(%q) error = %v", tc.url, err)
			}
			if got := c.ServerURL().String(); got != tc.wantURL {
				t.Errorf("ServerURL() = %q, want %q", got, tc.wantURL)
			}
			if got := c.WebSocketURL(); got != tc.wantWS {
				t.Errorf("WebSocketURL() = %q, want %q", got, tc.wantWS)
			}
		})
	}
}

func TestClientAccessors(t *testing.T) {
	hc := &http.Client{}
	c, err := NewClient("http://h", "t1", &ClientOptions{HTTPClient: hc, UserAgent: "ua/1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPClient() != hc || c.UserAgent() != "ua/1" || c.Token() != "t1" || c.UserID() != "" {
		t.Errorf("accessors = %v %q %q %q", c.HTTPClient(), c.UserAgent(), string(c.Token()), c.UserID())
	}
	c.SetToken("t2")
	if c.Token() != "t2" {
		t.Errorf("Token() after SetToken = %q", string(c.Token()))
	}
	u := c.ServerURL()
	u.Host = "evil"
	if c.ServerURL().Host != "h" {
		t.Error("ServerURL() returned the client's own URL, not a copy")
	}
}

func TestSecretRedacts(t *testing.T) {
	s := Secret("hunter2")
	for _, got := range []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s %+v", s, s, s), fmt.Sprintf("%#v", s),
		fmt.Sprintf("%v", struct{ T Secret }{s}), fmt.Sprintf("%#v", struct{ T Secret }{s}),
	} {
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "REDACTED") {
			t.Errorf("formatted Secret = %q, want it redacted", got)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", s)
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("slog output %q shows the secret", buf.String())
	}
	if b, err := json.Marshal(struct{ T Secret }{s}); err != nil || strings.Contains(string(b), "hunter2") {
		t.Errorf("json.Marshal(Secret) = %s, %v; want it redacted", b, err)
	}
	var back struct{ T Secret }
	if err := json.Unmarshal([]byte(`{"T":"hunter2"}`), &back); err != nil || string(back.T) != "hunter2" {
		t.Errorf("json.Unmarshal into Secret = %q, %v; want the value", string(back.T), err)
	}
	if Secret("").String() != "" {
		t.Errorf("empty Secret String() = %q, want empty", Secret("").String())
	}
}

// TestNoSecretInLogsOrErrors runs calls that log at debug level, fail,
// retry and log in again, and checks that neither the token, the password
// nor a webhook id shows up in the logs or the errors.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux, _ := setup(t, &ClientOptions{Logger: logger, Login: "alice", Password: "pa55-word"})
	var n atomic.Int32
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Token", fmt.Sprintf("session-%d-xyz", n.Add(1)))
		writeJSON(w, 200, &User{ID: "u1"})
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 401, "api.context.session_expired.app_error")
	})
	mux.HandleFunc("GET /api/v4/posts/p1", func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 503, "x")
	})
	mux.HandleFunc("POST /hooks/", func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 400, "web.incoming_webhook.invalid.app_error")
	})
	var errs []error
	_, _, err := c.Me(t.Context())
	errs = append(errs, err)
	_, _, err = c.Post(t.Context(), "p1")
	errs = append(errs, err)
	_, err = c.PostWebhook(t.Context(), "hooksecret123", &WebhookMessage{Text: "x"})
	errs = append(errs, err)
	all := logs.String()
	for _, e := range errs {
		if e == nil {
			t.Fatal("a call that should fail succeeded")
		}
		all += "\n" + e.Error()
	}
	for _, secret := range []string{"pa55-word", "session-1-xyz", "session-2-xyz", "hooksecret123", string(testToken)} {
		if strings.Contains(all, secret) {
			t.Errorf("logs or errors show %q:\n%s", secret, all)
		}
	}
	if !strings.Contains(all, "mattermost request") {
		t.Errorf("debug logs missing:\n%s", all)
	}
}

func TestUserAgentAndAccept(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{UserAgent: "mybot/2"})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "User-Agent", "mybot/2")
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "Authorization", "")
		writeJSON(w, 200, map[string]string{"status": "OK"})
	})
	if _, _, err := c.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestResponseRate(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ratelimit-Limit", "4")
		w.Header().Set("X-Ratelimit-Remaining", "1")
		w.Header().Set("X-Ratelimit-Reset", "2")
		w.Header().Set("X-Version-Id", "5.36.1..h.false")
		writeJSON(w, 200, &User{ID: "u1"})
	})
	_, resp, err := c.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := Rate{Limit: 4, Remaining: 1, Reset: 2 * time.Second, Known: true}
	if resp.Rate != want || resp.ServerVersion != "5.36.1..h.false" {
		t.Errorf("Response.Rate = %+v, ServerVersion %q; want %+v, 5.36.1..h.false", resp.Rate, resp.ServerVersion, want)
	}
	if c.UserID() != "u1" {
		t.Errorf("UserID() after Me = %q, want u1", c.UserID())
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		file  string
		class error
	}{
		{"post_too_long.json", ErrBadRequest},
		{"users_me_bad_token.json", ErrUnauthorized},
		{"post_not_member_private.json", ErrForbidden},
		{"users_username_unknown.json", ErrNotFound},
		{"rate_limited_429.json", ErrRateLimited},
		{"", ErrServer},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.class), func(t *testing.T) {
			c, mux, _ := setup(t, &ClientOptions{MaxRetries: -1, MaxRateLimitWait: -1})
			mux.HandleFunc("GET /api/v4/posts/p1", func(w http.ResponseWriter, r *http.Request) {
				if tc.file == "" {
					writeAppError(w, 500, "app.post.get.app_error")
					return
				}
				writeRecorded(w, loadRecorded(t, tc.file))
			})
			_, resp, err := c.Post(t.Context(), "p1")
			if got := classOf(err); len(got) != 1 || got[0] != tc.class {
				t.Errorf("Post() error %v matches %v, want %v", err, got, tc.class)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Method != "GET" || apiErr.Path != baseURLPath+"/api/v4/posts/p1" {
				t.Errorf("Post() error = %#v, want an *APIError for GET %s/api/v4/posts/p1", apiErr, baseURLPath)
			}
			if resp == nil || resp.StatusCode != apiErr.StatusCode {
				t.Errorf("Response = %v, want the error answer", resp)
			}
		})
	}
}

func TestDecodeErrorOn2xx(t *testing.T) {
	c, mux, _ := setup(t, nil)
	// Me would call this answer not Mattermost's (TestNotMattermost).
	mux.HandleFunc("GET /api/v4/users/u1", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "<html>proxy login</html>")
	})
	_, resp, err := c.User(t.Context(), "u1")
	if err == nil || !strings.Contains(err.Error(), "decode answer") || resp == nil {
		t.Errorf("User() on an HTML 200 = %v, %v; want a decode error and the response", resp, err)
	}
}

// TestPasswordLogin: with Login/Password and no token the client logs in
// before its first call and uses the token from the Token header.
func TestPasswordLogin(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw", MFAToken: "123456"})
	rec := loadRecorded(t, "login_ok.json")
	var logins atomic.Int32
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		testHeader(t, r, "Authorization", "")
		testBody(t, r, map[string]any{"login_id": "alice", "password": "pw", "token": "123456"})
		writeRecorded(w, rec)
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer "+rec.Response.Headers["Token"])
		writeRecorded(w, loadRecorded(t, "users_me.json"))
	})
	for range 2 {
		if _, _, err := c.Me(t.Context()); err != nil {
			t.Fatalf("Me() error = %v", err)
		}
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("logins = %d, want 1", n)
	}
	if got := string(c.Token()); got != rec.Response.Headers["Token"] {
		t.Errorf("Token() = %q, want the login's", got)
	}
}

// TestRelogin: a 401 with known credentials logs in again once and retries
// the call once, for any method.
func TestRelogin(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
	c.SetToken("stale")
	var logins, posts atomic.Int32
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		w.Header().Set("Token", "fresh")
		writeJSON(w, 200, &User{ID: "t7boqukfst88jmcu3mgp8jtrme"})
	})
	mux.HandleFunc("POST /api/v4/channels", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		if r.Header.Get("Authorization") != "Bearer fresh" {
			writeRecorded(w, loadRecorded(t, "users_me_bad_token.json"))
			return
		}
		testBody(t, r, map[string]any{"team_id": "t", "name": "n", "display_name": "N", "type": "O"})
		writeJSON(w, 201, &Channel{ID: "c1"})
	})
	ch, _, err := c.CreateChannel(t.Context(), &Channel{TeamID: "t", Name: "n", DisplayName: "N", Type: ChannelOpen})
	if err != nil || ch.ID != "c1" {
		t.Fatalf("CreateChannel() = %v, %v; want c1", ch, err)
	}
	if logins.Load() != 1 || posts.Load() != 2 {
		t.Errorf("logins = %d, requests = %d; want 1 and 2", logins.Load(), posts.Load())
	}
}

func TestReloginOnlyOnce(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
	c.SetToken("stale")
	var logins, calls atomic.Int32
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		w.Header().Set("Token", "fresh")
		writeJSON(w, 200, &User{ID: "u"})
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeRecorded(w, loadRecorded(t, "users_me_bad_token.json"))
	})
	_, _, err := c.Me(t.Context())
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Me() = %v, want ErrUnauthorized", err)
	}
	if logins.Load() != 1 || calls.Load() != 2 {
		t.Errorf("logins = %d, calls = %d; want 1 and 2", logins.Load(), calls.Load())
	}
}

func TestReloginFails(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "wrong"})
	c.SetToken("stale")
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		writeRecorded(w, loadRecorded(t, "login_bad_password.json"))
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeRecorded(w, loadRecorded(t, "users_me_bad_token.json"))
	})
	_, _, err := c.Me(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.ID != "api.user.login.invalid_credentials_email_username" || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Me() = %v, want the login's 401", err)
	}
	if !strings.Contains(err.Error(), "session rejected and login failed") {
		t.Errorf("Me() error %q does not say the session was rejected", err)
	}
}

// TestReloginConcurrent: calls failing with the same stale token at once
// log in once between them.
func TestReloginConcurrent(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
	c.SetToken("stale")
	var logins atomic.Int32
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		w.Header().Set("Token", "fresh")
		writeJSON(w, 200, &User{ID: "u"})
	})
	var stale sync.WaitGroup
	stale.Add(4)
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			stale.Done()
			stale.Wait() // all four hold the stale token before any logs in
			writeAppError(w, 401, "api.context.session_expired.app_error")
			return
		}
		writeJSON(w, 200, &User{ID: "u"})
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, _, err := c.Me(t.Context()); err != nil {
				t.Errorf("Me() error = %v", err)
			}
		})
	}
	wg.Wait()
	if n := logins.Load(); n != 1 {
		t.Errorf("logins = %d, want 1", n)
	}
}

func TestNoReloginWithoutCredentials(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		t.Error("login attempted without credentials")
	})
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		writeRecorded(w, loadRecorded(t, "users_me_no_token.json"))
	})
	if _, _, err := c.Me(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Me() = %v, want ErrUnauthorized", err)
	}
}

func TestLoginWithoutTokenHeader(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, &User{ID: "u"})
	})
	if _, _, err := c.Login(t.Context(), "a", "b", ""); err == nil || !strings.Contains(err.Error(), "no Token header") {
		t.Errorf("Login() = %v, want a missing-token error", err)
	}
	if c.Token() != testToken {
		t.Error("a failed login replaced the token")
	}
}

// Test429Waits: a 429 is waited out (Retry-After) and retried, for a POST
// too, since the server's limiter rejects before the handler runs.
func Test429Waits(t *testing.T) {
	c, mux, sl := setup(t, nil)
	rec := loadRecorded(t, "rate_limited_429.json")
	var n atomic.Int32
	mux.HandleFunc("POST /api/v4/channels", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			writeRecorded(w, rec)
			return
		}
		writeJSON(w, 201, &Channel{ID: "c1"})
	})
	ch, _, err := c.CreateChannel(t.Context(), &Channel{TeamID: "t", Name: "n", DisplayName: "n", Type: ChannelOpen})
	if err != nil || ch.ID != "c1" {
		t.Fatalf("CreateChannel() = %v, %v", ch, err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, sl.waits()); diff != "" {
		t.Errorf("waits mismatch (-want +got):\n%s", diff)
	}
}

func Test429Bounded(t *testing.T) {
	tests := []struct {
		name       string
		opts       ClientOptions
		retryAfter string
		ctxTimeout time.Duration
		wantWaits  []time.Duration
	}{
		{name: "too long", retryAfter: "120", wantWaits: nil},
		{name: "total bound", opts: ClientOptions{MaxRateLimitWait: 25 * time.Second}, retryAfter: "10",
			wantWaits: []time.Duration{10 * time.Second, 10 * time.Second}},
		{name: "never wait", opts: ClientOptions{MaxRateLimitWait: -1}, retryAfter: "1", wantWaits: nil},
		{name: "past the deadline", retryAfter: "30", ctxTimeout: 10 * time.Second, wantWaits: nil},
		{name: "no header", opts: ClientOptions{MaxRateLimitWait: 2500 * time.Millisecond},
			wantWaits: []time.Duration{time.Second, time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, sl := setup(t, &tc.opts)
			mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				http.Error(w, "limit exceeded", http.StatusTooManyRequests)
			})
			ctx := t.Context()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			_, _, err := c.Me(ctx)
			var rl *RateLimitError
			if !errors.As(err, &rl) {
				t.Fatalf("Me() = %v, want a *RateLimitError", err)
			}
			if diff := cmp.Diff(tc.wantWaits, sl.waits()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRetryBackoff: an idempotent call is retried on 5xx with growing,
// jittered waits, at most MaxRetries times.
func TestRetryBackoff(t *testing.T) {
	c, mux, sl := setup(t, &ClientOptions{RetryBackoff: 100 * time.Millisecond, MaxRetryBackoff: 300 * time.Millisecond, MaxRetries: 4})
	var n atomic.Int32
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeAppError(w, http.StatusBadGateway, "")
	})
	_, _, err := c.Me(t.Context())
	if !errors.Is(err, ErrServer) {
		t.Fatalf("Me() = %v, want ErrServer", err)
	}
	if n.Load() != 5 {
		t.Errorf("requests = %d, want 5 (1 + 4 retries)", n.Load())
	}
	waits := sl.waits()
	bounds := [][2]time.Duration{{50, 100}, {100, 200}, {150, 300}, {150, 300}} // ms: [d/2, d], d doubling up to the cap
	if len(waits) != len(bounds) {
		t.Fatalf("waits = %v, want %d of them", waits, len(bounds))
	}
	for i, w := range waits {
		lo, hi := bounds[i][0]*time.Millisecond, bounds[i][1]*time.Millisecond
		if w < lo || w > hi {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, lo, hi)
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, mux, sl := setup(t, nil)
	var n atomic.Int32
	mux.HandleFunc("GET /api/v4/posts/p1", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			hangUp(t, w) // network error
		case 2:
			w.Header().Set("Retry-After", "2")
			writeAppError(w, http.StatusServiceUnavailable, "")
		default:
			writeRecorded(w, loadRecorded(t, "post_create.json"))
		}
	})
	p, _, err := c.Post(t.Context(), "p1")
	if err != nil || p.ID != "g77s5139uin4tcxikynebsumua" {
		t.Fatalf("Post() = %v, %v", p, err)
	}
	waits := sl.waits()
	if len(waits) != 2 || waits[1] != 2*time.Second {
		t.Errorf("waits = %v, want 2, the second the server's Retry-After (2s)", waits)
	}
}

func TestNoRetry(t *testing.T) {
	tests := []struct {
		name   string
		status int // 0: hang up
		call   func(ctx context.Context, c *Client) error
	}{
		{"create channel 500", 500, func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateChannel(ctx, &Channel{})
			return err
		}},
		{"create channel network", 0, func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateChannel(ctx, &Channel{})
			return err
		}},
		{"GET 501", 501, func(ctx context.Context, c *Client) error {
			_, _, err := c.Channel(ctx, "x")
			return err
		}},
		{"GET 404", 404, func(ctx context.Context, c *Client) error {
			_, _, err := c.Channel(ctx, "x")
			return err
		}},
		{"webhook 503", 503, func(ctx context.Context, c *Client) error {
			_, err := c.PostWebhook(ctx, "h", &WebhookMessage{Text: "x"})
			return err
		}},
		{"ephemeral network", 0, func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateEphemeralPost(ctx, "u", &Post{ChannelID: "c"})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, sl := setup(t, nil)
			var n atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				if tc.status == 0 {
					hangUp(t, w)
					return
				}
				writeAppError(w, tc.status, "x")
			})
			if err := tc.call(t.Context(), c); err == nil {
				t.Fatal("call succeeded, want an error")
			}
			if n.Load() != 1 || len(sl.waits()) != 0 {
				t.Errorf("requests = %d, waits = %v; want 1 request and no wait", n.Load(), sl.waits())
			}
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c, mux, _ := setup(t, &ClientOptions{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while we wait
		<-ctx.Done()
		return ctx.Err()
	}})
	var n atomic.Int32
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeAppError(w, 503, "")
	})
	_, _, err := c.Me(ctx)
	if !errors.Is(err, ErrServer) || n.Load() != 1 {
		t.Errorf("Me() = %v after %d requests, want the 503 after 1", err, n.Load())
	}
	_, _, err = c.Me(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Me() on a canceled ctx = %v, want context.Canceled", err)
	}
}

// TestCreatePostRetryDeduplicates: the answer to the first CreatePost is
// lost after the server stored the post; the retry carries the same
// pending_post_id and the server answers the same post (as a real server
// does within 30 s), so there is one post.
func TestCreatePostRetryDeduplicates(t *testing.T) {
	c, mux, sl := setup(t, nil)
	c.setUserID("t7boqukfst88jmcu3mgp8jtrme")
	var (
		mu      sync.Mutex
		stored  = map[string]*Post{} // by pending_post_id
		pending []string
	)
	mux.HandleFunc("POST /api/v4/posts", func(w http.ResponseWriter, r *http.Request) {
		var in Post
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("decode: %v", err)
		}
		mu.Lock()
		pending = append(pending, in.PendingPostID)
		p, seen := stored[in.PendingPostID]
		if !seen {
			p = &Post{ID: NewID(), ChannelID: in.ChannelID, Message: in.Message, PendingPostID: in.PendingPostID, Props: map[string]any{}}
			stored[in.PendingPostID] = p
		}
		mu.Unlock()
		if !seen {
			hangUp(t, w) // stored, but the answer never arrives
			return
		}
		writeJSON(w, 201, p)
	})
	got, _, err := c.CreatePost(t.Context(), &Post{ChannelID: "eofczhjqg7d4pd5iz5pcjmmjfo", Message: "once"})
	if err != nil {
		t.Fatalf("CreatePost() error = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != 1 || len(pending) != 2 || pending[0] != pending[1] || pending[0] == "" {
		t.Fatalf("server stored %d posts from pending ids %q, want 1 post from one id sent twice", len(stored), pending)
	}
	if want := stored[pending[0]]; got.ID != want.ID {
		t.Errorf("CreatePost() = post %s, want the stored %s", got.ID, want.ID)
	}
	if len(sl.waits()) != 1 {
		t.Errorf("waits = %v, want one backoff", sl.waits())
	}
}

func TestPendingPostID(t *testing.T) {
	now := time.UnixMilli(1795686540231)
	c, err := NewClient("http://h", "t", &ClientOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if id := c.pendingPostID(); !IsValidID(id) {
		t.Errorf("pendingPostID() without a user id = %q, want a fresh id", id)
	}
	c.setUserID("t7boqukfst88jmcu3mgp8jtrme")
	got := []string{c.pendingPostID(), c.pendingPostID()}
	now = now.Add(5 * time.Millisecond)
	got = append(got, c.pendingPostID())
	tag := ":" + c.pendingTag
	want := []string{
		"t7boqukfst88jmcu3mgp8jtrme:1795686540231" + tag,
		"t7boqukfst88jmcu3mgp8jtrme:1795686540232" + tag, // same ms: made unique
		"t7boqukfst88jmcu3mgp8jtrme:1795686540236" + tag,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pendingPostID() mismatch (-want +got):\n%s", diff)
	}
	// Another client, as after a restart, makes other ids in the same ms.
	c2, err := NewClient("http://h", "t", &ClientOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c2.setUserID("t7boqukfst88jmcu3mgp8jtrme")
	if id := c2.pendingPostID(); slices.Contains(got, id) {
		t.Errorf("another client's pendingPostID() = %q, the same as the first client's %q", id, got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.pendingPostID() }); n != 1 {
		t.Errorf("pendingPostID() allocates %v times, want 1 (the id)", n)
	}
}

// TestClientRateLimiter: the client-side limiter spaces requests at
// RateLimit per second after the burst (synctest: fake time, fake
// transport, no network).
func TestClientRateLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Time
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			times = append(times, time.Now())
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"status":"OK"}`)), Request: r}, nil
		})
		c, err := NewClient("http://h", "t", &ClientOptions{HTTPClient: &http.Client{Transport: rt}, RateLimit: 2, RateBurst: 2})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range 6 {
			if _, _, err := c.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		var got []time.Duration
		for _, tm := range times {
			got = append(got, tm.Sub(start))
		}
		ms := time.Millisecond
		want := []time.Duration{0, 0, 500 * ms, 1000 * ms, 1500 * ms, 2000 * ms}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request times mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAttemptTimeout: Timeout bounds each attempt; a hung attempt of an
// idempotent call is retried (synctest: fake time).
func TestAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n int
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n++
			if n == 1 {
				<-r.Context().Done() // the server hangs
				return nil, r.Context().Err()
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"id":"u1"}`)), Request: r}, nil
		})
		c, err := NewClient("http://h", "t", &ClientOptions{HTTPClient: &http.Client{Transport: rt},
			Timeout: 5 * time.Second, RetryBackoff: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		u, _, err := c.Me(t.Context())
		if err != nil || u.ID != "u1" {
			t.Fatalf("Me() = %v, %v", u, err)
		}
		if d := time.Since(start); d < 5500*time.Millisecond || d > 6*time.Second {
			t.Errorf("Me() took %v, want the 5s timeout plus a 0.5-1s backoff", d)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// cmpSorted compares string slices as sets.
var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	slices.Sort(out)
	return out
})

// TestEmptyBucketPause: after an answer saying the server's bucket is
// empty (recorded headers: limit 4, remaining 0, reset 2s), the next
// request waits one token's time, 500ms, instead of earning a 429.
func TestEmptyBucketPause(t *testing.T) {
	now := time.Unix(1000, 0)
	c, mux, sl := setup(t, &ClientOptions{Now: func() time.Time { return now }})
	remaining := "0"
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ratelimit-Limit", "4")
		w.Header().Set("X-Ratelimit-Remaining", remaining)
		w.Header().Set("X-Ratelimit-Reset", "2")
		writeJSON(w, 200, &User{ID: "u"})
	})
	for range 2 {
		if _, _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond}, sl.waits()); diff != "" {
		t.Errorf("waits mismatch (-want +got):\n%s", diff)
	}
	// Time passes (the sleeper does not move the clock): no more wait.
	now = now.Add(time.Second)
	remaining = "3"
	for range 2 {
		if _, _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if len(sl.waits()) != 1 {
		t.Errorf("waits = %v, want no new one once the pause is over", sl.waits())
	}
}

// TestPacingCountsOnlyRequestsInFlight: requests that failed, or were
// answered 429, are no longer in flight. An answer leaving one request
// in the bucket, with none in flight, lets the next request go at once.
func TestPacingCountsOnlyRequestsInFlight(t *testing.T) {
	n := 0
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n++
		h := http.Header{}
		switch {
		case n <= 3:
			return nil, errors.New("connection reset by peer")
		case n == 4:
			h.Set("Retry-After", "1")
			return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h, Body: io.NopCloser(strings.NewReader("limit exceeded")), Request: r}, nil
		}
		h.Set("X-Ratelimit-Limit", "4")
		h.Set("X-Ratelimit-Remaining", "1")
		h.Set("X-Ratelimit-Reset", "2")
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(`{"id":"u1"}`)), Request: r}, nil
	})
	s := &sleeper{}
	c, err := NewClient("http://h", "t", &ClientOptions{HTTPClient: &http.Client{Transport: rt}, Sleep: s.Sleep,
		MaxRetries: -1, MaxRateLimitWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		_, _, err := c.Me(t.Context())
		if (i < 4) != (err != nil) {
			t.Fatalf("Me() #%d = %v", i+1, err)
		}
	}
	if w := s.waits(); len(w) != 0 {
		t.Errorf("waits = %v, want none: the bucket was never reported empty", w)
	}
}

// TestEmptyBucketPauseEndsWithoutHeaders: once answers carry no
// X-Ratelimit-* headers (the server restarted with its limiter off), the
// client stops pacing on the empty bucket the server last reported. The
// clock stands still, so a pace kept would make each request wait longer.
func TestEmptyBucketPauseEndsWithoutHeaders(t *testing.T) {
	now := time.Unix(1000, 0)
	c, mux, sl := setup(t, &ClientOptions{Now: func() time.Time { return now }})
	var limiting atomic.Bool
	limiting.Store(true)
	mux.HandleFunc("GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
		if limiting.Load() {
			w.Header().Set("X-Ratelimit-Limit", "4")
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", "2")
		}
		writeJSON(w, 200, &User{ID: "u"})
	})
	if _, _, err := c.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	limiting.Store(false)
	for range 3 {
		if _, _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// The first request after the report waits as it said; the answer
	// without headers ends the pacing.
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond}, sl.waits()); diff != "" {
		t.Errorf("waits mismatch (-want +got):\n%s", diff)
	}
}
