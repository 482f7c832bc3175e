package matterbot

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/plugins"
)

// runDemo runs the demo command with the built-ins on args, reading in,
// and returns its exit code and outputs.
func runDemo(ctx context.Context, in io.Reader, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	c := &Command{Name: "matterbot", Plugins: plugins.Builtin(), Stdin: in, Stdout: &out, Stderr: &errOut}
	code = c.Run(ctx, append([]string{"demo"}, args...))
	return code, out.String(), errOut.String()
}

// wantInOrder checks that out holds each of want, in that order.
func wantInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q after what came before; output:\n%s", w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

// Piped lines are alice's messages, posted through the fake server to
// the bot over HTTP and WebSocket; the conversation is printed.
func TestDemoPipedLines(t *testing.T) {
	in := strings.NewReader("!echo hello from a pipe\n!whoami\n/dm ops-bot\necho just between us\n")
	code, out, errOut := runDemo(context.Background(), in, "--listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("demo = %d, want 0; stderr:\n%s", code, errOut)
	}
	wantInOrder(t, out,
		"matterbot demo: a fake Mattermost server at http://127.0.0.1:",
		"playground: http://127.0.0.1:",
		"/playground?user=alice, a chat in your browser",
		`log in as alice, password "alice-password", team ops`,
		"~town-square alice: !echo hello from a pipe\n",
		"~town-square ops-bot: hello from a pipe\n",
		"~town-square alice: !whoami\n",
		"| user | @alice |",
		"you are @alice in @ops-bot (direct).\n",
		"@ops-bot (direct) alice: echo just between us\n",
		"@ops-bot (direct) ops-bot: just between us\n",
		"demo over",
	)
	if strings.Contains(out, "scripted") {
		t.Errorf("the demo played its script although lines were piped:\n%s", out)
	}
}

// With nothing on standard input, the demo plays its script and exits 0.
func TestDemoScript(t *testing.T) {
	code, out, errOut := runDemo(context.Background(), strings.NewReader(""))
	if code != 0 {
		t.Fatalf("demo = %d, want 0; stderr:\n%s", code, errOut)
	}
	wantInOrder(t, out,
		"a scripted conversation",
		"~town-square alice: !help\n",
		"~town-square ops-bot: **about**",
		"~town-square ops-bot: hello\n",
		"| user | @alice |",
		"| admin | yes |",
		"@ops-bot (direct) ops-bot: in a direct message, no prefix is needed\n",
		"you are @bob in ~town-square.\n",
		"~town-square ops-bot: `!plugin deactivate`: only bot admins may run this command.\n",
		"demo over",
	)
}

// Ctrl-C (the context cancelled) ends a demo whose input is still open,
// with exit code 0 and nothing left running (goleak checks).
func TestDemoInterrupted(t *testing.T) {
	in, typed := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	go func() {
		c := &Command{Name: "matterbot", Plugins: plugins.Builtin(), Stdin: in, Stdout: out, Stderr: io.Discard}
		done <- c.Run(ctx, []string{"demo", "--listen", "127.0.0.1:0"})
	}()
	if _, err := io.WriteString(typed, "!echo still here\n"); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "ops-bot: still here") {
		select {
		case <-out.wrote:
		case code := <-done:
			t.Fatalf("demo exited with %d before answering:\n%s", code, out.String())
		}
	}
	cancel()
	if code := <-done; code != 0 || !strings.Contains(out.String(), "demo over") {
		t.Errorf("demo after Ctrl-C = %d, want 0 and the closing line; output:\n%s", code, out.String())
	}
	typed.Close() // ends the read a terminal would leave blocked
}

func TestStartDemoWorldPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sf, err := parseSeed("(default)", defaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	w, err := startDemoWorld("", ln.Addr().String(), sf, logger)
	if err != nil {
		t.Fatalf("startDemoWorld with its port taken: %v, want a free port", err)
	}
	defer w.srv.Close()
	if w.url == "http://"+ln.Addr().String() || !strings.HasPrefix(w.url, "http://127.0.0.1:") {
		t.Errorf("demo world at %s with %s taken, want another port of 127.0.0.1", w.url, ln.Addr())
	}
	// An address named with --listen is not replaced.
	if w, err := startDemoWorld(ln.Addr().String(), "127.0.0.1:0", sf, logger); err == nil {
		w.srv.Close()
		t.Errorf("startDemoWorld(--listen %s, taken) succeeded at %s, want an error", ln.Addr(), w.url)
	}
}
