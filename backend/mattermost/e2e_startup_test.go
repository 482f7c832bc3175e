package mattermost_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// runToError runs an engine on a backend made from opts and returns the
// error Run stopped with; it fails t if Run connects instead.
func runToError(t *testing.T, opts mmbackend.Options) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return runToErrorCtx(t, ctx, opts)
}

// runToErrorCtx is runToError under ctx: in a synctest bubble, where
// time is fake, waitLimit would be one more timer racing the test's own.
func runToErrorCtx(t *testing.T, ctx context.Context, opts mmbackend.Options) error {
	t.Helper()
	connects := make(chan bot.User, 1)
	eng := mustEngine(t, mustBackend(t, opts), nil, &testPlugin{connects: connects})
	err := eng.Run(ctx)
	select {
	case <-connects:
		t.Errorf("Run connected, then stopped with %v", err)
	default:
	}
	return err
}

// TestNotAMattermostServer: a web server on the configured port is named
// as such, in one line, without its page.
func TestNotAMattermostServer(t *testing.T) {
	t.Parallel()
	const page = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>It works!</body></html>\n"
	htmlAnswer := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, page)
		}
	}
	token := func(o *mmbackend.Options) { o.Token = "sometokensometokensometoke" }
	password := func(o *mmbackend.Options) { o.Login, o.Password = "alice", "alice-password" }
	tests := []struct {
		name    string
		handler http.HandlerFunc
		creds   func(*mmbackend.Options)
		want    string
	}{
		{"web server, token", htmlAnswer(404), token, "is not a Mattermost server (/api/v4/users/me answered 404 Not Found, text/html, no X-Version-Id)"},
		{"web server, password", htmlAnswer(405), password, "is not a Mattermost server (/api/v4/users/login answered 405 Method Not Allowed, text/html"},
		{"single-page app", htmlAnswer(200), token, "is not a Mattermost server (/api/v4/users/me answered 200 OK, text/html"},
		{"proxy without a server", htmlAnswer(502), token, "answered /api/v4/users/me with 502 Bad Gateway, text/html, no X-Version-Id: is it a proxy whose Mattermost server is down?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			opts := mmbackend.Options{Server: ts.URL, Retry: fastRetry()}
			tc.creds(&opts)
			err := runToError(t, opts)
			if err == nil || !strings.Contains(err.Error(), ts.URL+" ") || !strings.Contains(err.Error(), tc.want) ||
				strings.ContainsAny(err.Error(), "<\n") || !errors.Is(err, mm.ErrNotMattermost) {
				t.Errorf("Run error = %v; want one line naming %s with %q, without the page", err, ts.URL, tc.want)
			}
		})
	}
}

// TestPlainHTTPOnTLSPort: scheme "http" on a port that speaks TLS gets
// the hint to use https.
func TestPlainHTTPOnTLSPort(t *testing.T) {
	t.Parallel()
	srv := mmtest.New(nil)
	defer srv.Close()
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the plain request is the point
	ts.StartTLS()
	defer ts.Close()
	site := strings.Replace(ts.URL, "https:", "http:", 1)
	err := runToError(t, mmbackend.Options{Server: site, Token: "sometokensometokensometoke", Retry: fastRetry()})
	want := site + ` is a TLS port: set scheme = "https"`
	if err == nil || err.Error() != "bot: backend: "+want && err.Error() != want {
		t.Errorf("Run error = %v; want %q", err, want)
	}

	// A plain server that is not Mattermost is not taken for a TLS port.
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	err = runToError(t, mmbackend.Options{Server: plain.URL, Token: "sometokensometokensometoke", Retry: fastRetry()})
	if err == nil || strings.Contains(err.Error(), "TLS") || !strings.Contains(err.Error(), "not a Mattermost server") {
		t.Errorf("Run error against a plain web server = %v; want it not a Mattermost server, no TLS hint", err)
	}
}

// hang is a transport to a server that never answers: each request waits
// until its context is done.
type hang struct{}

func (hang) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestStartupTimeout: against a server that never answers, Run fails
// once Timeout has passed, retries included, in one line naming it.
func TestStartupTimeout(t *testing.T) {
	t.Parallel()
	for _, creds := range []struct {
		name string
		set  func(*mmbackend.Options)
	}{
		{"token", func(o *mmbackend.Options) { o.Token = "sometokensometokensometoke" }},
		{"password", func(o *mmbackend.Options) { o.Login, o.Password = "alice", "alice-password" }},
	} {
		t.Run(creds.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := mmbackend.Options{
					Server:     "http://chat.example.com:8065",
					Timeout:    30 * time.Second,
					HTTPClient: &http.Client{Transport: hang{}},
				}
				creds.set(&opts)
				start := time.Now()
				err := runToErrorCtx(t, t.Context(), opts)
				took := time.Since(start)
				want := "http://chat.example.com:8065 did not answer within 30s (timeout)"
				if err == nil || err.Error() != "bot: backend: "+want && err.Error() != want {
					t.Errorf("Run error = %v; want %q", err, want)
				}
				if took != 30*time.Second {
					t.Errorf("Run failed after %v, want the timeout, 30s", took)
				}
			})
		})
	}
}

// TestStartupTimeoutRetries: a server that answers 503 within the
// timeout is retried, but only while the timeout lasts.
func TestStartupTimeoutRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr := &unavailableTransport{}
		opts := mmbackend.Options{
			Server:     "http://chat.example.com:8065",
			Token:      "sometokensometokensometoke",
			Timeout:    3 * time.Second,
			HTTPClient: &http.Client{Transport: tr},
		}
		start := time.Now()
		err := runToErrorCtx(t, t.Context(), opts)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Run failed after %v, want at most the timeout, 3s", took)
		}
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("Run error = %v; want the 503", err)
		}
		if n := tr.n.Load(); n < 2 {
			t.Errorf("%d requests, want the first one retried", n)
		}
	})
}

// unavailableTransport answers every request with a 503 of the server's.
type unavailableTransport struct{ n atomic.Int32 }

func (u *unavailableTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u.n.Add(1)
	resp := unavailable(r, `{"id":"test.down","message":"down for maintenance","status_code":503}`)
	resp.Header.Set("X-Version-Id", "5.36.1..h.false")
	return resp, nil
}

// TestStartupErrors: a bot that cannot start says why in one line, a
// *bot.StartupError, without activating (and logging) a plugin first.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.srv.AddTeam("lonely", "Lonely"); err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(w.srv)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close) // after the parallel subtests
	tests := []struct {
		name string
		edit func(*mmbackend.Options)
		want string
	}{
		{"bad token", func(o *mmbackend.Options) { o.Token = "wrongwrongwrongwrongwrong1" }, "rejected the token"},
		{"bad password", func(o *mmbackend.Options) { o.Token, o.Login, o.Password = "", "alice", "nope" }, `rejected the login "alice"`},
		{"unknown team", func(o *mmbackend.Options) { o.Teams = []string{"nope"} }, `team "nope" not found`},
		{"not a member", func(o *mmbackend.Options) { o.Teams = []string{"lonely"} }, `opsbot is not a member of`},
		{"unreachable", func(o *mmbackend.Options) { o.Server = "http://127.0.0.1:1" }, "cannot reach http://127.0.0.1:1"},
		{"untrusted certificate", func(o *mmbackend.Options) { o.Server = tlsSrv.URL }, "not trusted"},
		{"unknown ignored user", func(o *mmbackend.Options) { o.IgnoreUsers = []string{"@bob", "@nobody"} }, "ignore_users: no user @nobody"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			opts := w.options()
			opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tc.edit(&opts)
			var activated atomic.Int32
			counted := &onActivate{f: func() { activated.Add(1) }}
			eng := mustEngine(t, mustBackend(t, opts), &bot.Options{Logger: opts.Logger}, counted, echo.Plugin{})
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			err := eng.Run(ctx)
			var se *bot.StartupError
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !errors.As(err, &se) {
				t.Errorf("Run error = %v; want one line with %q", err, tc.want)
			}
			if n := activated.Load(); n != 0 || strings.Contains(logs.String(), "plugin") {
				t.Errorf("%d plugin activations, log:\n%s\nwant none", n, logs.String())
			}
		})
	}
}

// onActivate is a plugin that calls f when it is activated.
type onActivate struct{ f func() }

func (*onActivate) Name() string { return "activations" }

func (a *onActivate) Setup(p *bot.Plugin) error {
	p.OnActivate(func(context.Context) error {
		a.f()
		return nil
	})
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWebSocketDialTimeout: a server that answers REST but never the
// WebSocket upgrade. Each connection attempt gives up after Timeout,
// the WebSocket's dial timeout unless WebSocket.DialTimeout is set, not
// after the package default (30s).
func TestWebSocketDialTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := mmtest.New(nil)
		defer srv.Close()
		team, err := srv.AddTeam("ops", "Ops")
		if err != nil {
			t.Fatal(err)
		}
		botUser, err := srv.AddBot("opsbot", "Ops Bot", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.AddTeamMember(team.ID, botUser.ID); err != nil {
			t.Fatal(err)
		}
		token, err := srv.CreateToken(botUser.ID, "bot")
		if err != nil {
			t.Fatal(err)
		}
		logs := logWatch{prefix: "websocket disconnected", seen: make(chan slog.Record, 8)}
		opts := mmbackend.Options{
			Server: "http://chat.example.com:8065", Token: mm.Secret(token), Teams: []string{"ops"},
			Timeout:    7 * time.Second,
			HTTPClient: &http.Client{Transport: socketHang{srv}},
			Logger:     slog.New(logs),
		}
		eng := mustEngine(t, mustBackend(t, opts), nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- eng.Run(ctx) }()
		r := <-logs.seen
		if took := r.Time.Sub(start); took != 7*time.Second {
			t.Errorf("the first WebSocket attempt gave up after %v, want the timeout, 7s", took)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

// socketHang serves REST requests with a handler, in memory, and never
// answers the WebSocket upgrade.
type socketHang struct{ h http.Handler }

func (s socketHang) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/websocket") {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
