package matterbot

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// mainEnv, set to "1", makes the test binary run main instead of the
// tests (see TestMain).
//
// The signal tests need the real command in its own process: signals,
// exit codes and os.Exit are the point. They re-execute the test binary
// rather than `go build` the command in TestMain, because (1) there is
// no compile step at test time, which needs the toolchain, a writable
// cache and seconds (more under -race) in every environment that runs
// the tests; (2) the child is built exactly as the tests are, with the
// race detector when they have it, so a race in the shutdown path fails
// the child too; (3) it still runs main unchanged: os.Args, the signal
// handling and os.Exit.
const mainEnv = "MATTERBOT_TEST_MAIN"

// childName is the program's name in the child's lines: the test
// binary's, as Main names the program after os.Args[0].
var childName = filepath.Base(os.Args[0])

// child is the matterbot command running in a child process.
type child struct {
	cmd  *exec.Cmd
	read chan struct{} // closed when stderr is at EOF

	mu    sync.Mutex
	lines []string      // guarded by mu: stderr so far
	more  chan struct{} // size 1: a line arrived since the last look
}

// startChild runs matterbot with args and the extra environment; the
// test's cleanup kills it if it is still running.
func startChild(t *testing.T, args []string, env ...string) *child {
	t.Helper()
	c := &child{
		cmd:  exec.Command(os.Args[0], args...),
		read: make(chan struct{}),
		more: make(chan struct{}, 1),
	}
	// atexit_sleep_ms=0: under -race the child would otherwise wait a
	// second at exit, which is not the shutdown's time.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	c.cmd.Env = append(append(os.Environ(), mainEnv+"=1", "GORACE="+gorace), env...)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.read)
		var buf []byte
		b := make([]byte, 4096)
		for {
			n, err := stderr.Read(b)
			buf = append(buf, b[:n]...)
			for {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				c.mu.Lock()
				c.lines = append(c.lines, string(buf[:i]))
				c.mu.Unlock()
				buf = buf[i+1:]
				select {
				case c.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			<-c.read
			_ = c.cmd.Wait()
		}
	})
	return c
}

// stderr returns what the child wrote to stderr so far.
func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// waitLine returns the first line of stderr that matches re, waiting for
// it; it fails the test if stderr ends first or after a generous limit.
func (c *child) waitLine(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	limit := time.After(30 * time.Second)
	for i := 0; ; {
		c.mu.Lock()
		lines := c.lines[i:]
		c.mu.Unlock()
		for _, l := range lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		i += len(lines)
		select {
		case <-c.more:
		case <-c.read:
			select {
			case <-c.more: // the last lines
				continue
			default:
			}
			t.Fatalf("child's stderr ended without a line matching %q:\n%s", re, c.stderr())
		case <-limit:
			t.Fatalf("no line matching %q from the child:\n%s", re, c.stderr())
		}
	}
}

// wait waits for the child to exit and returns its exit code; it fails
// the test if that takes more than limit.
func (c *child) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-c.read: // stderr is closed when the process has exited
	case <-time.After(limit):
		t.Fatalf("child still running %v after the signal:\n%s", limit, c.stderr())
	}
	err := c.cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return c.cmd.ProcessState.ExitCode()
}

// shutdownLimit is how long a clean shutdown may take: the engine's
// default shutdown timeout and grace, which bound the wait for running
// commands.
const shutdownLimit = 10*time.Second + bot.ShutdownGrace

// TestSignalStopsCleanly runs the command against the fake server, sees
// it answer a command, signals it and checks that it exits with 0, in
// time, saying why.
func TestSignalStopsCleanly(t *testing.T) {
	tests := []struct {
		sig    syscall.Signal
		reason string
	}{
		{syscall.SIGTERM, "received terminated"},
		{syscall.SIGINT, "received interrupt"},
	}
	for _, tc := range tests {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			w := newRunWorld(t)
			c := startChild(t, []string{"run", "-c", w.config}, "MATTERBOT_MATTERMOST_TOKEN="+w.token)
			c.waitLine(t, `msg=connected`)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, _, err := w.alice.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!echo before the signal"}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
				return p.UserID == w.bot.ID && p.Message == "before the signal"
			}); err != nil {
				t.Fatalf("no echo: %v; stderr:\n%s", err, c.stderr())
			}

			start := time.Now()
			if err := c.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			c.waitLine(t, `msg="shutting down" reason="`+tc.reason+`"`)
			if code := c.wait(t, shutdownLimit); code != 0 {
				t.Errorf("exit code after %v = %d, want 0; stderr:\n%s", tc.sig, code, c.stderr())
			}
			t.Logf("%v: exited %v after the signal", tc.sig, time.Since(start).Round(time.Millisecond))
			if s := c.stderr(); strings.Contains(s, childName+": ") || strings.Contains(s, "level=ERROR") {
				t.Errorf("stderr after %v has an error:\n%s", tc.sig, s)
			}
			// The operator reads why it stops before what stops.
			s := c.stderr()
			if i, j := strings.Index(s, `msg="shutting down"`), strings.Index(s, `msg="plugin deactivated"`); j < 0 || i > j {
				t.Errorf("after %v, \"shutting down\" is not logged before the plugins stop:\n%s", tc.sig, s)
			}
		})
	}
}

// TestSecondSignalForcesExit stalls the graceful shutdown (a webhook
// client that never finishes its request holds the HTTP server's
// shutdown) and checks that a second SIGINT ends the process at once,
// with 130 as a shell would report for SIGINT.
func TestSecondSignalForcesExit(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	c := startChild(t, []string{"run", "-c", w.config}, "MATTERBOT_MATTERMOST_TOKEN="+w.token)
	addr := c.waitLine(t, `msg="http server listening" addr=(\S+)`)[1]
	c.waitLine(t, `msg=connected`)

	// Half a request: the server counts the connection as active and
	// its Shutdown waits for it (up to 10 s).
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /hooks/x HTTP/1.1\r\nHost: bot\r\n")); err != nil {
		t.Fatal(err)
	}
	// A whole request on a connection dialed after it: once it is
	// answered, the server has accepted (and tracks) the first one, since
	// it accepts in order. Without this the signal could close the
	// listener with the half request still in its backlog.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	c.waitLine(t, `msg="shutting down"`)
	start := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	c.waitLine(t, `^`+regexp.QuoteMeta(childName)+`: interrupt again: exiting without waiting$`)
	if code := c.wait(t, 5*time.Second); code != 130 {
		t.Errorf("exit code after a second SIGINT = %d, want 130; stderr:\n%s", code, c.stderr())
	}
	t.Logf("exited %v after the second signal", time.Since(start).Round(time.Millisecond))
}

// TestSignalFinishesReplyInFlight signals the command while its reply is
// on its way (held at the server) and checks that the reply still lands
// and the process exits with 0 once it has: shutdown cancels handlers,
// not what they already said.
func TestSignalFinishesReplyInFlight(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	arrived := make(chan struct{}, 1)
	abandoned := make(chan struct{}, 1)
	release := make(chan struct{})
	held := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v4/posts" && r.Header.Get("Authorization") == "Bearer "+w.token {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte("held reply")) {
				arrived <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
					abandoned <- struct{}{} // the bot gave up on its reply: it is lost
					return
				}
			}
		}
		w.srv.ServeHTTP(rw, r)
	}))
	defer held.Close()
	defer close(release)
	u, err := url.Parse(held.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = regexp.MustCompile(`(?m)^port = \d+$`).ReplaceAll(cfg, []byte("port = "+u.Port()))
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	c := startChild(t, []string{"run", "-c", w.config}, "MATTERBOT_MATTERMOST_TOKEN="+w.token)
	addr := c.waitLine(t, `msg="http server listening" addr=(\S+)`)[1]
	c.waitLine(t, `msg=connected`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := w.alice.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!echo held reply"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatalf("the reply never reached the server; stderr:\n%s", c.stderr())
	}

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The engine waits for the handler, its reply still on the way:
	// the process serves, and is not ready.
	c.waitLine(t, `msg="waiting for running handlers" running=1`)
	if status, body := get(t, http.MethodGet, addr, "/readyz"); status != http.StatusServiceUnavailable || body != "shutting down\n" {
		t.Errorf("GET /readyz while draining = %d %q, want 503 \"shutting down\\n\"", status, body)
	}
	if status, _ := get(t, http.MethodGet, addr, "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz while draining = %d, want 200", status)
	}
	select {
	case release <- struct{}{}:
	case <-abandoned:
		t.Errorf("the bot abandoned its reply at the signal")
	}
	if code := c.wait(t, shutdownLimit); code != 0 {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, c.stderr())
	}
	var got []string
	for _, p := range w.srv.Posts(w.ops.ID) {
		if p.UserID == w.bot.ID {
			got = append(got, p.Message)
		}
	}
	if len(got) != 1 || got[0] != "held reply" {
		t.Errorf("the bot's posts = %q, want the held reply delivered; stderr:\n%s", got, c.stderr())
	}
}
