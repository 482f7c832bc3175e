package mattermost_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// logLines is a slog.Handler that records every message logged, so that a
// test waits for a line instead of sleeping.
type logLines struct {
	mu      sync.Mutex
	msgs    []string      // guarded by mu
	records []slog.Record // guarded by mu: as msgs, with their attributes
	more    chan struct{} // size 1: a message came since the last look
}

func newLogLines() *logLines { return &logLines{more: make(chan struct{}, 1)} }

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }

func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return nil
}

func (l *logLines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// next returns a function that waits until msg is logged once more than
// it was when next was called, failing after waitLimit.
func (l *logLines) next(t *testing.T, msg string) func() {
	t.Helper()
	n := l.count(msg) + 1
	return func() {
		t.Helper()
		timeout := time.After(waitLimit)
		for l.count(msg) < n {
			select {
			case <-l.more:
			case <-timeout:
				l.mu.Lock()
				msgs := slices.Clone(l.msgs)
				l.mu.Unlock()
				t.Fatalf("no %q logged; logged %q", msg, msgs)
			}
		}
	}
}

// TestReady follows the backend's readiness through its life: connecting
// until the first hello, ready, reconnecting while the socket is down,
// ready again on a resume, catching up after a connection the server
// could not resume until the posts missed are read, ready again.
func TestReady(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	logs := newLogLines()
	fr := &failReads{path: "/api/v4/channels/" + w.ops.ID + "/posts", first: make(chan struct{}), more: -1}
	opts := w.options()
	opts.Logger = slog.New(logs)
	opts.HTTPClient = &http.Client{Transport: fr}
	be := w.newBackend(opts)
	check := func(when, want string) {
		t.Helper()
		got := ""
		if err := be.Ready(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: Ready() = %q, want %q", when, got, want)
		}
	}
	check("before Run", "connecting")

	w.startEngine(be, &bot.Options{MaxPerUser: 1})
	// The first command may be answered by the catch-up of what came
	// after the login, before the hello is handled; the second, posted
	// after that answer, comes over the socket, after the hello.
	for _, text := range []string{"one", "two"} {
		w.say(w.ops, "", "!echo "+text)
		w.replyText(w.ops, text)
	}
	check("connected", "")

	w.srv.RefuseWebSockets(time.Hour)
	dropped := logs.next(t, "websocket disconnected")
	w.srv.DropWebSocket(w.bot.ID)
	dropped()
	check("socket dropped", "websocket disconnected: reconnecting")

	resumed := logs.next(t, "websocket connected")
	w.srv.RefuseWebSockets(0)
	resumed()
	check("resumed", "")

	caught := logs.next(t, "catching up")
	w.downtime(func() {
		w.say(w.ops, "", "!echo missed")
		fr.mu.Lock()
		fr.armed = true // the catch-up's read of ~ops fails
		fr.mu.Unlock()
	})
	caught()
	check("reading ~ops in the background", "catching up")
	fr.mu.Lock()
	fr.more = 0
	fr.mu.Unlock()
	w.replyText(w.ops, "missed")
	// A live post in ~ops is held until its catch-up is done: once it
	// is answered, nothing is behind.
	w.say(w.ops, "", "!echo live")
	w.replyText(w.ops, "live")
	check("caught up", "")
}
