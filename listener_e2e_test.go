package matterbot

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// The tests in this file run "run -c FILE" against the fake server and
// ask its HTTP listener what an operator's tools would.

// httpAddr returns the address the bot's HTTP listener logged.
func (b *runningBot) httpAddr(t *testing.T) string {
	t.Helper()
	return b.waitLog(t, `msg="http server listening" addr=(\S+)`)[1]
}

// get asks the bot's listener for path with method and returns the
// status and the body.
func get(t *testing.T, method, addr, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, string(body)
}

// hookPlugin declares a webhook that hides behind /healthz and one that
// does not.
type hookPlugin struct{}

func (hookPlugin) Name() string { return "hooks" }

func (hookPlugin) Setup(p *bot.Plugin) error {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }
	p.Webhook("GET /healthz", ok)
	p.Webhook("POST /hooks/deploy", ok)
	return nil
}

// TestHTTPEndpoints: the listener answers the operations endpoints and
// the plugins' webhooks side by side; a webhook an endpoint hides is
// named in the log.
func TestHTTPEndpoints(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w, hookPlugin{})
	addr := b.httpAddr(t)
	tests := []struct {
		method, path string
		status       int
		body         string // "": not checked
	}{
		{"GET", "/healthz", http.StatusOK, "ok\n"},
		{"HEAD", "/healthz", http.StatusOK, ""},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "method not allowed\n"},
		{"POST", "/hooks/deploy", http.StatusAccepted, ""},
		{"GET", "/hooks/deploy", http.StatusMethodNotAllowed, ""},
		{"GET", "/no/such/path", http.StatusNotFound, ""},
		{"GET", "/debug/pprof/", http.StatusNotFound, ""}, // off by default
		{"GET", "/debug/pprof/cmdline", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		status, body := get(t, tc.method, addr, tc.path)
		if status != tc.status || tc.body != "" && body != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, status, body, tc.status, tc.body)
		}
	}
	b.waitLog(t, `level=WARN msg="webhook hidden by an operations endpoint" plugin=hooks webhook="GET /healthz" endpoint=/healthz\n`)
	if strings.Contains(b.stderr.String(), `webhook="POST /hooks/deploy"`) {
		t.Errorf("a webhook no endpoint hides is logged as hidden:\n%s", b.stderr.String())
	}
}

// TestHTTPHeaderLimit: a request whose headers pass the limit is refused
// with 431, and the listener goes on serving.
func TestHTTPHeaderLimit(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w)
	addr := b.httpAddr(t)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("x", httpMaxHeaderBytes+4096))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET /healthz with %d bytes of headers = %d, want 431", httpMaxHeaderBytes+4096, resp.StatusCode)
	}
	if status, _ := get(t, http.MethodGet, addr, "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz after an oversized request = %d, want 200", status)
	}
}

// TestHTTPListenerOff: listen = "" runs the bot without a listener.
func TestHTTPListenerOff(t *testing.T) {
	w := newRunWorld(t)
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), `listen = "127.0.0.1:0"`, `listen = ""`, 1))
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startRun(t, w)
	if got := w.reply(t, w.say(t, "!echo no listener")); got != "no listener" {
		t.Errorf("reply = %q, want %q", got, "no listener")
	}
	if out := b.stderr.String(); strings.Contains(out, "listening") {
		t.Errorf("listen = \"\" still started a listener:\n%s", out)
	}
}

// TestReadyz: /readyz answers 503 with the reason while the bot cannot
// serve, and 200 while it can: connecting while the server refuses its
// socket, ready once connected, reconnecting when the server drops the
// socket, ready again once it resumed. /healthz answers 200 throughout.
func TestReadyz(t *testing.T) {
	w := newRunWorld(t)
	check := func(addr, when string, wantStatus int, wantBody string) {
		t.Helper()
		if status, body := get(t, http.MethodGet, addr, "/readyz"); status != wantStatus || body != wantBody {
			t.Errorf("%s: GET /readyz = %d %q, want %d %q", when, status, body, wantStatus, wantBody)
		}
		if status, body := get(t, http.MethodGet, addr, "/healthz"); status != http.StatusOK || body != "ok\n" {
			t.Errorf("%s: GET /healthz = %d %q, want 200 \"ok\\n\"", when, status, body)
		}
	}

	w.srv.RefuseWebSockets(time.Hour)
	b := launchRun(t, w)
	addr := b.httpAddr(t)
	b.waitLog(t, `msg="websocket disconnected"`) // the upgrade was refused
	check(addr, "socket refused", http.StatusServiceUnavailable, "connecting\n")

	w.srv.RefuseWebSockets(0)
	b.waitLog(t, `msg=connected`)
	// The first run's catch-up (what came after the login) may answer
	// the first command before the hello is handled; a command posted
	// after that answer comes over the socket, after the hello.
	for _, text := range []string{"up", "again"} {
		if got := w.reply(t, w.say(t, "!echo "+text)); got != text {
			t.Fatalf("reply = %q, want %q", got, text)
		}
	}
	check(addr, "connected", http.StatusOK, "ok\n")

	w.srv.RefuseWebSockets(time.Hour)
	mark := b.mark()
	w.srv.DropWebSocket(w.bot.ID)
	b.waitLogSince(t, mark, `msg="websocket disconnected"`)
	check(addr, "socket dropped", http.StatusServiceUnavailable, "websocket disconnected: reconnecting\n")

	mark = b.mark()
	w.srv.RefuseWebSockets(0)
	b.waitLogSince(t, mark, `msg="websocket connected"`)
	check(addr, "socket resumed", http.StatusOK, "ok\n")
	if got := w.reply(t, w.say(t, "!echo still up")); got != "still up" {
		t.Errorf("reply after the resume = %q, want %q", got, "still up")
	}
}

// TestPprof: pprof = true serves Go's profiler under /debug/pprof/.
func TestPprof(t *testing.T) {
	w := newRunWorld(t)
	w.editConfig(t, `listen = "127.0.0.1:0"`, "listen = \"127.0.0.1:0\"\npprof = true")
	b := startRun(t, w)
	addr := b.httpAddr(t)
	b.waitLog(t, `msg="profiler served" path=/debug/pprof/`)
	for _, tc := range []struct{ path, want string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile:"},
		{"/debug/pprof/cmdline", os.Args[0]}, // the process's: the test binary's
	} {
		status, body := get(t, http.MethodGet, addr, tc.path)
		if status != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d, body %.200q; want 200 with %q", tc.path, status, body, tc.want)
		}
	}
	if status, body := get(t, http.MethodGet, addr, "/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", status, body)
	}
}
