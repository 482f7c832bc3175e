package matterbot

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"", "http://127.0.0.1:8066/healthz"},
		{"127.0.0.1:8066", "http://127.0.0.1:8066/healthz"},
		{":9000", "http://127.0.0.1:9000/healthz"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/healthz"},
		{"[::]:9000", "http://[::1]:9000/healthz"},
		{"[::1]:9000", "http://[::1]:9000/healthz"},
		{"localhost:9000", "http://localhost:9000/healthz"},
		{"10.0.0.7:9000", "http://10.0.0.7:9000/healthz"},
	}
	for _, tc := range tests {
		if got, err := healthURL(tc.addr, "/healthz"); err != nil || got != tc.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	ready := "connecting"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			fmt.Fprintln(w, "ok")
		case "/readyz":
			if ready != "ok" {
				http.Error(w, ready, http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name     string
		env      string // MATTERBOT_HTTP_LISTEN
		args     []string
		ready    string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "healthz", args: []string{"--addr", addr},
			wantOut: srv.URL + "/healthz: 200 ok\n"},
		{name: "listen from the environment", env: addr,
			wantOut: srv.URL + "/healthz: 200 ok\n"},
		{name: "flag over environment", env: "127.0.0.1:1", args: []string{"--addr", addr},
			wantOut: srv.URL + "/healthz: 200 ok\n"},
		{name: "not ready", args: []string{"--addr", addr, "--ready"}, ready: "connecting", wantCode: 1,
			wantErr: "matterbot: " + srv.URL + "/readyz: 503 connecting\n"},
		{name: "ready", args: []string{"--addr", addr, "--ready"}, ready: "ok",
			wantOut: srv.URL + "/readyz: 200 ok\n"},
		{name: "url", args: []string{"--url", srv.URL + "/nope"}, wantCode: 1,
			wantErr: "matterbot: " + srv.URL + "/nope: 404 404 page not found\n"},
		{name: "bad addr", args: []string{"--addr", "nope"}, wantCode: 1,
			wantErr: "matterbot: --addr \"nope\" is not an address such as \"127.0.0.1:8066\" or \":8066\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MATTERBOT_HTTP_LISTEN", tc.env)
			ready = tc.ready
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append([]string{"healthcheck"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode || stdout.String() != tc.wantOut || stderr.String() != tc.wantErr {
				t.Errorf("healthcheck %q = %d, stdout %q, stderr %q; want %d, %q, %q",
					tc.args, code, stdout.String(), stderr.String(), tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
}

// TestHealthcheckRun asks the listener of a running bot, as a container's
// HEALTHCHECK does, and again once the bot has stopped.
func TestHealthcheckRun(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w)
	addr := b.httpAddr(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"healthcheck", "--addr", addr}, &stdout, &stderr); code != 0 {
		t.Errorf("healthcheck of a running bot = %d, stderr %q", code, stderr.String())
	}
	if want := "http://" + addr + "/healthz: 200 ok\n"; stdout.String() != want {
		t.Errorf("healthcheck stdout = %q, want %q", stdout.String(), want)
	}
	if code := b.stop(t); code != 0 {
		t.Fatalf("run = %d", code)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(t.Context(), []string{"healthcheck", "--addr", addr}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("healthcheck of a stopped bot = %d, stderr %q; want 1, connection refused", code, stderr.String())
	}
}
