package mattermost

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPing(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		t.Error("Ping logged in")
	})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "")
		writeJSON(w, 200, map[string]any{"status": "OK", "ActiveSearchBackend": "database"})
	})
	status, resp, err := c.Ping(t.Context())
	if err != nil || status != "OK" || resp.StatusCode != 200 {
		t.Errorf("Ping() = %q, %v, %v; want OK", status, resp, err)
	}
}

func TestPingUnhealthy(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{MaxRetries: -1})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, map[string]any{"status": "UNHEALTHY"})
	})
	if _, _, err := c.Ping(t.Context()); !isClass(err, ErrServer) {
		t.Errorf("Ping() = %v, want ErrServer", err)
	}
}

func TestNotMattermost(t *testing.T) {
	const page = "<!DOCTYPE html>\n<html><body><h1>It works!</h1></body></html>\n"
	html := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, page)
		}
	}
	appError := func(w http.ResponseWriter, r *http.Request) {
		// The server's own 404, without the header (web.Handle404).
		writeJSON(w, 404, map[string]any{"id": "api.context.404.app_error", "message": "Sorry, we could not find the page.", "status_code": 404})
	}
	withVersion := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Version-Id", "5.36.1..h.false")
			h(w, r)
		}
	}
	tests := []struct {
		name    string
		route   string
		handler http.HandlerFunc
		call    func(*Client) error
		foreign bool
		answer  string // NotMattermostError.Answer, when foreign
		is      error  // the class the error keeps
	}{
		{"html 404 on users/me", "GET /api/v4/users/me", html(404), me, true, "404 Not Found, text/html, no X-Version-Id", ErrNotFound},
		{"html 200 on users/me", "GET /api/v4/users/me", html(200), me, true, "200 OK, text/html, no X-Version-Id", nil},
		{"html 405 on login", "POST /api/v4/users/login", html(405), login, true, "405 Method Not Allowed, text/html, no X-Version-Id", nil},
		{"html 200 on ping", "GET /api/v4/system/ping", html(200), ping, true, "200 OK, text/html, no X-Version-Id", nil},
		{"plain text 400", "GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Client sent an HTTP request to an HTTPS server.", 400)
		}, me, true, "400 Bad Request, text/plain, no X-Version-Id", ErrBadRequest},
		{"empty 502 from a proxy", "GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
		}, me, true, "502 Bad Gateway, no X-Version-Id", ErrServer},
		{"server's 404 without the header", "GET /api/v4/users/me", appError, me, false, "", ErrNotFound},
		{"html with the header", "GET /api/v4/users/me", withVersion(html(404)), me, false, "", ErrNotFound},
		{"rate limiter's text 429", "GET /api/v4/users/me", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "limit exceeded", http.StatusTooManyRequests)
		}, me, false, "", ErrRateLimited},
		{"other calls", "GET /api/v4/users/u1", html(404), func(c *Client) error {
			_, _, err := c.User(t.Context(), "u1")
			return err
		}, false, "", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, &ClientOptions{MaxRetries: -1, MaxRateLimitWait: -1})
			mux.HandleFunc(tc.route, tc.handler)
			err := tc.call(c)
			if err == nil {
				t.Fatal("no error")
			}
			var nm *NotMattermostError
			if got := errors.As(err, &nm); got != tc.foreign || errors.Is(err, ErrNotMattermost) != tc.foreign {
				t.Fatalf("error %q: not Mattermost = %v, want %v", err, got, tc.foreign)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !tc.foreign {
				return
			}
			if got := nm.Answer(); got != tc.answer {
				t.Errorf("Answer() = %q, want %q", got, tc.answer)
			}
			if strings.Contains(err.Error(), "html") && strings.Contains(err.Error(), "<") {
				t.Errorf("error %q shows the page", err)
			}
		})
	}
}

func me(c *Client) error {
	_, _, err := c.Me(context.Background())
	return err
}

func login(c *Client) error {
	_, _, err := c.Login(context.Background(), "alice", "pw", "")
	return err
}

func ping(c *Client) error {
	_, _, err := c.Ping(context.Background())
	return err
}
