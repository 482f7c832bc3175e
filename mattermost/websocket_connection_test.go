package mattermost_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// logWatch is a slog.Handler that records the messages logged, so that a
// test waits for a line instead of sleeping.
type logWatch struct {
	mu   sync.Mutex
	msgs []string      // guarded by mu
	more chan struct{} // size 1: a message came since the last look
}

func newLogWatch() *logWatch { return &logWatch{more: make(chan struct{}, 1)} }

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logWatch) WithGroup(string) slog.Handler            { return l }

func (l *logWatch) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return nil
}

// count returns how many times msg was logged.
func (l *logWatch) count(msg string) int {
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
// it was when next was called, failing after 10 s.
func (l *logWatch) next(t *testing.T, msg string) func() {
	t.Helper()
	n := l.count(msg) + 1
	return func() {
		t.Helper()
		l.wait(t, msg, n)
	}
}

// wait waits for the n-th message msg (from 1) and fails after 10 s.
func (l *logWatch) wait(t *testing.T, msg string, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if l.count(msg) >= n {
			return
		}
		l.mu.Lock()
		msgs := slices.Clone(l.msgs)
		l.mu.Unlock()
		select {
		case <-l.more:
		case <-timeout:
			t.Fatalf("no %d× %q within 10s; logged %q", n, msg, msgs)
		}
	}
}

// TestWebSocketConnection: Connection reports no connection while Run
// connects or waits to reconnect, the same id after a resume, and the
// new hello's id after a connection the server could not resume.
func TestWebSocketConnection(t *testing.T) {
	s := setupMMTest(t, nil)
	s.srv.RefuseWebSockets(time.Hour)
	logs := newLogWatch()
	w, err := mattermost.NewWebSocket(s.srv.URL(), mattermost.Secret(s.token), &mattermost.WebSocketOptions{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		for range w.Events() {
		}
		<-done
	})
	check := func(when, wantID string, wantOK bool) {
		t.Helper()
		if id, ok := w.Connection(); id != wantID || ok != wantOK {
			t.Errorf("%s: Connection() = %q, %v; want %q, %v", when, id, ok, wantID, wantOK)
		}
	}

	if id, ok := w.Connection(); ok {
		t.Errorf("before the first connection: Connection() = %q, true; want false", id)
	}
	logs.wait(t, "websocket disconnected", 1) // the upgrade was refused
	check("upgrades refused", "", false)

	s.srv.RefuseWebSockets(0)
	hello := waitEvent(t, w, mattermost.EventHello).Payload.(*mattermost.HelloEvent)
	logs.wait(t, "websocket connected", 1)
	check("connected", hello.ConnectionID, true)

	s.srv.RefuseWebSockets(time.Hour)
	dropped := logs.next(t, "websocket disconnected")
	s.srv.DropWebSockets()
	dropped()
	check("dropped", "", false)

	resumed := logs.next(t, "websocket connected")
	s.srv.RefuseWebSockets(0)
	resumed()
	check("resumed", hello.ConnectionID, true)

	fresh := logs.next(t, "websocket connected")
	s.srv.RestartWebSockets()
	missed := waitEvent(t, w, mattermost.EventMissed).Payload.(*mattermost.EventsMissed)
	fresh()
	check("not resumed", missed.NewConnectionID, true)
	if missed.NewConnectionID == hello.ConnectionID {
		t.Errorf("a connection the server could not resume kept its id %q", hello.ConnectionID)
	}
}
