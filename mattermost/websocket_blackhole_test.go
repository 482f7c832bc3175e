package mattermost_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/matterbot/matterbot/internal/faultproxy"
	"github.com/matterbot/matterbot/mattermost"
)

// disconnectWatch is a slog.Handler that notes when the WebSocket logs
// "websocket disconnected", on the monotonic clock, and passes every
// record on.
type disconnectWatch struct {
	slog.Handler
	at chan time.Time // buffered: the test reads the first
}

func (d disconnectWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "websocket disconnected" {
		select {
		case d.at <- time.Now():
		default:
		}
	}
	return d.Handler.Handle(ctx, r)
}

func (d disconnectWatch) WithAttrs(a []slog.Attr) slog.Handler {
	return disconnectWatch{d.Handler.WithAttrs(a), d.at}
}

func (d disconnectWatch) WithGroup(g string) slog.Handler {
	return disconnectWatch{d.Handler.WithGroup(g), d.at}
}

// TestWebSocketMMTestBlackhole measures, over real loopback sockets, how
// long the WebSocket takes to find a half-open link: its socket to mmtest
// goes through internal/faultproxy, which black-holes it just after an
// event came (the worst moment: a whole DeadLinkAfter to wait). It then
// checks that the WebSocket reconnects and events flow again.
//
// DeadLinkAfter is 1 s to keep the test short; to measure with another
// value, or the default (0):
//
//	MATTERBOT_DEAD_LINK_AFTER=0 go test -run TestWebSocketMMTestBlackhole -v ./mattermost/
func TestWebSocketMMTestBlackhole(t *testing.T) {
	after := time.Second
	if v := os.Getenv("MATTERBOT_DEAD_LINK_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MATTERBOT_DEAD_LINK_AFTER=%q: %v", v, err)
		}
		after = d
	}
	want := after
	if want == 0 {
		want = mattermost.DefaultDeadLinkAfter
	}

	s := setupMMTest(t, nil)
	u, err := url.Parse(s.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close() // after the WebSocket has stopped (its cleanup runs first)

	rec := newRecorder()
	dw := disconnectWatch{slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}), make(chan time.Time, 1)}
	w, err := mattermost.NewWebSocket("http://"+p.Addr(), mattermost.Secret(s.token), &mattermost.WebSocketOptions{
		DeadLinkAfter: after,
		MinBackoff:    time.Millisecond,
		Observer:      rec,
		Logger:        slog.New(dw),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	defer func() {
		cancel()
		for range w.Events() { // drain until Run closes it
		}
		<-done
	}()

	waitEvent(t, w, mattermost.EventHello)
	s.post(t, "one")
	waitPosted(t, w, "one")
	p.Blackhole()
	holed := time.Now()

	var found time.Time
	select {
	case found = <-dw.at:
	case <-time.After(want + 30*time.Second):
		t.Fatalf("no disconnect within %v of the black hole", want+30*time.Second)
	}
	took := found.Sub(holed)
	t.Logf("half-open link found dead %v after the black hole (DeadLinkAfter %v)", took.Round(time.Millisecond), want)
	// The scheduler of a loaded machine may be late, and a lateness the
	// watch takes for a pause gives the ping a fresh half of
	// DeadLinkAfter: allow for one or two.
	if took < want/2 || took > 2*want {
		t.Errorf("found dead %v after the black hole, want about %v", took, want)
	}

	// It reconnects; the server has not noticed the old socket's death,
	// so this is a fresh connection (EventMissed, hello), and events flow.
	waitReconnect(t, rec)
	s.post(t, "two")
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatal("Events closed while waiting for the post")
			}
			// Skip EventMissed, hello, status changes.
			if p, isPost := ev.Payload.(*mattermost.PostedEvent); isPost && p.Post.Message == "two" {
				return
			}
		case <-timeout:
			t.Fatal("no post on the new connection within 10s")
		}
	}
}
