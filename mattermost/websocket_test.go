package mattermost

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewWebSocketURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "http://chat.example.com:8065", want: "ws://chat.example.com:8065/api/v4/websocket"},
		{in: "https://chat.example.com", want: "wss://chat.example.com/api/v4/websocket"},
		{in: "https://example.com/mattermost/", want: "wss://example.com/mattermost/api/v4/websocket"},
		{in: "wss://example.com/mm?x=1#f", want: "wss://example.com/mm/api/v4/websocket"},
		{in: "https://user:pw@example.com", want: "wss://example.com/api/v4/websocket"},
		{in: "ftp://example.com", wantErr: "scheme must be http or https"},
		{in: "chat.example.com", wantErr: "scheme must be http or https"},
		{in: "https://", wantErr: "no host"},
		{in: "http://[::1", wantErr: "missing ']'"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := websocketURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("websocketURL(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
				}
				if _, err := NewWebSocket(tc.in, fakeToken, nil); err == nil {
					t.Errorf("NewWebSocket(%q) error = nil, want one", tc.in)
				}
				return
			}
			if err != nil || u.String() != tc.want {
				t.Errorf("websocketURL(%q) = %v, %v; want %q", tc.in, u, err, tc.want)
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name     string
		n        int
		min, max time.Duration
		r        float64
		want     time.Duration
	}{
		{"first, low draw", 0, s, 60 * s, 0, s / 2},
		{"first, high draw", 0, s, 60 * s, 0.999999, s - 1000},
		{"second doubles", 1, s, 60 * s, 0, s},
		{"third doubles again", 2, s, 60 * s, 0.5, 3 * s},
		{"capped at max", 10, s, 60 * s, 0, 30 * s},
		{"capped at max, high draw", 10, s, 60 * s, 0.5, 45 * s},
		{"huge attempt does not overflow", 1000, s, 60 * s, 0, 30 * s},
		{"min above max", 0, 10 * s, 5 * s, 0, 5 * s / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backoffDelay(tc.n, tc.min, tc.max, tc.r)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("backoffDelay(%d, %v, %v, %v) = %v, want %v", tc.n, tc.min, tc.max, tc.r, got, tc.want)
			}
		})
	}
}

// testLogger logs to t, shown for failed tests and with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// runWS starts w.Run in a goroutine; stop cancels it and returns its error.
func runWS(t *testing.T, w *WebSocket) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			cancel()
			err = <-errc
			stopped = true
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// next returns the next event, failing the test if none comes within an
// hour of (fake) time.
func next(t *testing.T, w *WebSocket) *Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatal("Events closed, want an event")
		}
		return ev
	case <-time.After(time.Hour):
		t.Fatal("no event within an hour")
	}
	return nil
}

// expect reads the next event and checks its type and seq.
func expect(t *testing.T, w *WebSocket, typ string, seq int64) *Event {
	t.Helper()
	ev := next(t, w)
	if ev.Type != typ || ev.Seq != seq {
		t.Fatalf("event = %q seq %d, want %q seq %d", ev.Type, ev.Seq, typ, seq)
	}
	return ev
}

func newTestWS(t *testing.T, hc *http.Client, opts *WebSocketOptions) *WebSocket {
	t.Helper()
	var o WebSocketOptions
	if opts != nil {
		o = *opts
	}
	o.HTTPClient = hc
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	w, err := NewWebSocket("http://mattermost.test", fakeToken, &o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

const postedData = `{"channel_display_name":"ops","channel_name":"ops","channel_type":"O","post":"{\"id\":\"g77s5139uin4tcxikynebsumua\",\"channel_id\":\"eofczhjqg7d4pd5iz5pcjmmjfo\",\"message\":\"hi\"}","sender_name":"@bob","set_online":true,"team_id":"g4abhgi4hfb3xqdwp4ixd58t4r"}`

func TestWebSocketHelloAndSeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)

		hello := expect(t, w, EventHello, 0)
		want := &HelloEvent{ConnectionID: fake.LastID(), ServerVersion: fakeVersion}
		if diff := cmp.Diff(want, hello.Payload); diff != "" {
			t.Errorf("hello payload mismatch (-want +got):\n%s", diff)
		}
		if hello.Broadcast.UserID != fakeUserID {
			t.Errorf("hello Broadcast.UserID = %q, want %q", hello.Broadcast.UserID, fakeUserID)
		}
		for seq := int64(1); seq <= 3; seq++ {
			if got := fake.Publish(EventPosted, postedData); got != seq {
				t.Fatalf("fake published seq %d, want %d", got, seq)
			}
			ev := expect(t, w, EventPosted, seq)
			p, ok := ev.Payload.(*PostedEvent)
			if !ok || p.Post.Message != "hi" || p.SenderName != "@bob" {
				t.Errorf("event %d payload = %#v, want the posted event", seq, ev.Payload)
			}
		}
		d := <-fake.dialed
		if d.auth != "Bearer "+fakeToken || len(d.query) != 0 {
			t.Errorf("dial: Authorization %q, query %v; want the bearer token and no query", d.auth, d.query)
		}
	})
}

func TestWebSocketActions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		// No synctest.Wait: actions may be sent as soon as hello is seen.

		ctx := t.Context()
		if err := w.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if err := w.UserTyping(ctx, fakeChannel, "root"); err != nil {
			t.Errorf("UserTyping: %v", err)
		}
		statuses, err := w.StatusesByIDs(ctx, []string{"u1", "u2"})
		if diff := cmp.Diff(map[string]string{"u1": "online", "u2": "online"}, statuses); err != nil || diff != "" {
			t.Errorf("StatusesByIDs = %v, %v; diff (-want +got):\n%s", statuses, err, diff)
		}
		if got, err := w.StatusesByIDs(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("StatusesByIDs(nil) = %v, %v; want empty, nil", got, err)
		}

		failures := []struct {
			name   string
			call   func() error
			status int
			id     string
		}{
			{"typing in a bad channel", func() error { return w.UserTyping(ctx, "bad", "") }, 400, "api.websocket_handler.invalid_param.app_error"},
			{"unknown action", func() error { _, err := w.Action(ctx, "no_such_action", nil); return err }, 500, "api.web_socket_router.bad_action.app_error"},
		}
		for _, f := range failures {
			err := f.call()
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != f.status || ae.ID != f.id {
				t.Errorf("%s: error = %v, want *APIError %d %s", f.name, err, f.status, f.id)
			}
		}

		// The fake saw the actions with increasing seqs from 1 (the
		// handshake ping first) and the data the server expects.
		var got []string
		for i, a := range fake.Actions() {
			if a.Seq != int64(i+1) {
				t.Errorf("action %d (%s) seq = %d, want %d", i, a.Action, a.Seq, i+1)
			}
			got = append(got, a.Action)
			if a.Action == "user_typing" && a.Data["channel_id"] == fakeChannel && a.Data["parent_id"] != "root" {
				t.Errorf("user_typing data = %v, want parent_id root", a.Data)
			}
		}
		want := []string{"ping", "ping", "user_typing", "get_statuses_by_ids", "user_typing", "no_such_action"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("actions mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestWebSocketActionNotConnected(t *testing.T) {
	w, err := NewWebSocket("http://mattermost.test", fakeToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Ping(t.Context()); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Ping before Run = %v, want ErrNotConnected", err)
	}
}

func TestWebSocketReplyLostOnDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		synctest.Wait()

		fake.Mute()
		errc := make(chan error, 1)
		start := time.Now()
		go func() { errc <- w.Ping(t.Context()) }()
		synctest.Wait() // the ping is sent and waits for its reply
		fake.Drop()
		err := <-errc
		if !errors.Is(err, ErrNotConnected) {
			t.Errorf("Ping across a drop = %v, want ErrNotConnected", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Ping failed after %v, want at once when the socket drops", d)
		}
	})
}

func TestWebSocketResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		id := fake.LastID()
		fake.Publish(EventPosted, postedData)
		fake.Publish(EventTyping, `{"user_id":"u","parent_id":""}`)
		expect(t, w, EventPosted, 1)
		expect(t, w, EventTyping, 2)

		fake.Drop()
		// Sent while the client is away: the server queues them.
		for range 3 {
			fake.Publish(EventPosted, postedData)
		}
		for seq := int64(3); seq <= 5; seq++ {
			expect(t, w, EventPosted, seq) // no hello, no EventMissed, in order
		}
		fake.Publish(EventStatusChange, `{"user_id":"u","status":"away"}`)
		expect(t, w, EventStatusChange, 6)

		<-fake.dialed
		d := <-fake.dialed
		if got, want := d.query.Get("connection_id"), id; got != want {
			t.Errorf("resume connection_id = %q, want %q", got, want)
		}
		if got, want := d.query.Get("sequence_number"), "3"; got != want {
			t.Errorf("resume sequence_number = %q, want %q", got, want)
		}
		if fake.LastID() != id {
			t.Errorf("connection id after resume = %q, want %q", fake.LastID(), id)
		}
	})
}

func TestWebSocketResumeImpossible(t *testing.T) {
	tests := []struct {
		name  string
		knob  func(s *fakeWS)
		dials int // dials until the fresh connection
	}{
		{"connection forgotten", func(s *fakeWS) { s.forgetAll = true }, 2},
		{"socket closed on resume", func(s *fakeWS) { s.closeOnResume = true }, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake, hc := startFake(t)
				w := newTestWS(t, hc, nil)
				runWS(t, w)
				expect(t, w, EventHello, 0)
				oldID := fake.LastID()
				fake.Publish(EventPosted, postedData)
				fake.Publish(EventPosted, postedData)
				expect(t, w, EventPosted, 1)
				expect(t, w, EventPosted, 2)
				lastSeen := time.Now()

				fake.set(tc.knob)
				time.Sleep(time.Minute)
				fake.Drop()
				fake.Publish(EventPosted, postedData) // lost with the old connection

				ev := expect(t, w, EventMissed, 0)
				newID := fake.LastID()
				want := &EventsMissed{Since: lastSeen, LastSeq: 2, OldConnectionID: oldID, NewConnectionID: newID}
				if diff := cmp.Diff(want, ev.Payload); diff != "" || newID == oldID {
					t.Errorf("EventsMissed mismatch (-want +got):\n%s", diff)
				}
				hello := expect(t, w, EventHello, 0)
				if id := hello.Payload.(*HelloEvent).ConnectionID; id != newID {
					t.Errorf("hello connection id = %q, want %q", id, newID)
				}
				fake.Publish(EventPosted, postedData)
				expect(t, w, EventPosted, 1)
				if n := len(fake.dialed); n != tc.dials {
					t.Errorf("%d dials, want %d", n, tc.dials)
				}
			})
		})
	}
}

func TestWebSocketSeqGapAndDuplicate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		id := fake.LastID()
		fake.Publish(EventPosted, postedData)
		expect(t, w, EventPosted, 1)
		at := time.Now()
		time.Sleep(time.Second)

		fake.Resend(1) // a duplicate is dropped
		fake.Skip()    // seq 2 is lost
		fake.Publish(EventPosted, postedData)
		ev := expect(t, w, EventMissed, 3)
		want := &EventsMissed{Since: at, LastSeq: 1, OldConnectionID: id, NewConnectionID: id}
		if diff := cmp.Diff(want, ev.Payload); diff != "" {
			t.Errorf("EventsMissed mismatch (-want +got):\n%s", diff)
		}
		expect(t, w, EventPosted, 3)
	})
}

func TestWebSocketUnauthorized(t *testing.T) {
	tests := []struct {
		name     string
		token    Secret
		opts     WebSocketOptions
		knob     func(s *fakeWS)
		after    time.Duration // when Run returns
		afterMax time.Duration // if set, Run returns within [after, afterMax]
		dials    int
		status   int  // the *APIError status in the chain, if any
		connect  bool // connects first, then loses the session
		reset    bool // with connect: the server is reset and drops the socket
	}{
		// Closed before hello: GET /users/me answers 401 at once.
		{name: "bad token in the header", token: "bad", after: authCheckFor, status: 401, dials: 1},
		{name: "bad token in the challenge", token: "bad", opts: WebSocketOptions{AuthChallenge: true}, status: 401, dials: 1},
		// Without an answer there, believed the second time, after a
		// backoff in [0.5 s, 1 s].
		{name: "bad token, users/me unanswered", token: "bad", knob: func(s *fakeWS) { s.meStatus = http.StatusBadGateway },
			after: 2*authCheckFor + time.Second/2, afterMax: 2*authCheckFor + time.Second, dials: 2},
		{name: "bad token in the challenge, users/me unanswered", token: "bad", opts: WebSocketOptions{AuthChallenge: true},
			knob: func(s *fakeWS) { s.meStatus = http.StatusBadGateway }, after: time.Second / 2, afterMax: time.Second, dials: 2},
		{name: "401 on the upgrade", token: fakeToken, knob: func(s *fakeWS) { s.upgradeStatus = 401 }, status: 401, dials: 1},
		{name: "session revoked", token: fakeToken, connect: true, after: DefaultPingInterval, status: 401, dials: 1},
		// A restarted fake server: a different world, which knows
		// neither the token nor the connection. The resume is closed
		// after the auth timeout, and /users/me settles it.
		{name: "server reset", token: fakeToken, connect: true, reset: true,
			after: time.Second/2 + authCheckFor, afterMax: time.Second + authCheckFor, status: 401, dials: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake, hc := startFake(t)
				if tc.knob != nil {
					fake.set(tc.knob)
				}
				o := tc.opts
				o.HTTPClient = hc
				w, err := NewWebSocket("http://mattermost.test", tc.token, &o)
				if err != nil {
					t.Fatal(err)
				}
				errc := make(chan error, 1)
				go func() { errc <- w.Run(t.Context()) }()
				if tc.connect {
					expect(t, w, EventHello, 0)
					synctest.Wait() // the handshake ping is answered
					if tc.reset {
						fake.set(func(s *fakeWS) { s.reset = true })
						fake.Drop()
					} else {
						fake.set(func(s *fakeWS) { s.revoked = true })
					}
				}
				start := time.Now()
				err = <-errc
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("Run = %v, want ErrUnauthorized", err)
				}
				if d := time.Since(start); tc.afterMax == 0 && d != tc.after || tc.afterMax != 0 && (d < tc.after || d > tc.afterMax) {
					t.Errorf("Run returned after %v, want %v (max %v)", d, tc.after, tc.afterMax)
				}
				var ae *APIError
				if tc.status != 0 && (!errors.As(err, &ae) || ae.StatusCode != tc.status) {
					t.Errorf("Run = %v, want an *APIError %d in the chain", err, tc.status)
				}
				if n := len(fake.dialed); n != tc.dials {
					t.Errorf("%d dials, want %d", n, tc.dials)
				}
				if strings.Contains(err.Error(), string(tc.token)) {
					t.Errorf("error %q contains the token", err)
				}
				if _, ok := <-w.Events(); ok && !tc.connect {
					t.Errorf("Events delivered an event, want it closed")
				}
			})
		})
	}
}

func TestWebSocketAuthChallenge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		fake.set(func(s *fakeWS) { s.ignoreHeader = true }) // a proxy strips the header
		w := newTestWS(t, hc, &WebSocketOptions{AuthChallenge: true})
		runWS(t, w)
		expect(t, w, EventHello, 0)
		synctest.Wait()
		if err := w.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		a := fake.Actions()
		if len(a) == 0 || a[0].Action != "authentication_challenge" || a[0].Seq != 1 || a[0].Data["token"] != fakeToken {
			t.Errorf("first action = %+v, want authentication_challenge seq 1 with the token", a)
		}
	})
}

func TestWebSocketKeepaliveTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		opts := &WebSocketOptions{PingInterval: 20 * time.Second, ReplyTimeout: 5 * time.Second, MinBackoff: time.Second}
		w := newTestWS(t, hc, opts)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		first := <-fake.dialed
		fake.Mute() // the connection is silently dead

		second := <-fake.dialed
		// ping at 20 s, no reply by 25 s, then a backoff in [0.5 s, 1 s].
		if d := second.at.Sub(first.at); d < 25500*time.Millisecond || d > 26*time.Second {
			t.Errorf("reconnected after %v, want within [25.5s, 26s]", d)
		}
		if second.query.Get("connection_id") == "" {
			t.Errorf("reconnect query %v, want a resume", second.query)
		}
		fake.Publish(EventPosted, postedData)
		expect(t, w, EventPosted, 1) // resumed: no hello
	})
}

func TestWebSocketBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		fake.set(func(s *fakeWS) { s.upgradeStatus = http.StatusServiceUnavailable })
		w := newTestWS(t, hc, &WebSocketOptions{MinBackoff: time.Second, MaxBackoff: 16 * time.Second})
		runWS(t, w)

		prev := (<-fake.dialed).at
		bases := []time.Duration{1, 2, 4, 8, 16, 16, 16}
		var fractions []float64
		for i, base := range bases {
			base *= time.Second
			at := (<-fake.dialed).at
			d := at.Sub(prev)
			prev = at
			if d < base/2 || d > base {
				t.Errorf("wait %d = %v, want within [%v, %v]", i, d, base/2, base)
			}
			fractions = append(fractions, float64(d-base/2)/float64(base/2))
		}
		same := true
		for _, f := range fractions[1:] {
			same = same && f == fractions[0]
		}
		if same {
			t.Errorf("waits all at the same point of their range (%v): want jitter", fractions)
		}
	})
}

func TestWebSocketShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		stop := runWS(t, w)
		expect(t, w, EventHello, 0)
		synctest.Wait()

		fake.Mute()
		pingErr := make(chan error, 1)
		go func() { pingErr <- w.Ping(t.Context()) }()
		synctest.Wait()
		start := time.Now()
		if err := stop(); err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Run took %v to stop, want no delay", d)
		}
		if err := <-pingErr; !errors.Is(err, ErrNotConnected) {
			t.Errorf("Ping during shutdown = %v, want ErrNotConnected", err)
		}
		if _, ok := <-w.Events(); ok {
			t.Errorf("Events still open after Run returned")
		}
		if err := w.Run(t.Context()); err == nil {
			t.Errorf("second Run = nil, want an error")
		}
	})
}

// TestWebSocketLongLived checks that a healthy connection outlives
// DialTimeout and many keepalive pings without a reconnect.
func TestWebSocketLongLived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		time.Sleep(10*time.Minute + time.Second)
		fake.Publish(EventPosted, postedData)
		expect(t, w, EventPosted, 1)
		if n := len(fake.dialed); n != 1 {
			t.Errorf("%d dials in 10 minutes, want 1", n)
		}
		pings := 0
		for _, a := range fake.Actions() {
			if a.Action == "ping" {
				pings++
			}
		}
		// One at the handshake, then one per PingInterval.
		if want := 1 + int(10*time.Minute/DefaultPingInterval); pings != want {
			t.Errorf("%d pings in 10 minutes, want %d", pings, want)
		}
	})
}

// TestWebSocketSlowConsumer checks that a receiver that stops reading
// Events for a while neither loses events nor makes the keepalive blame
// the server (whose replies wait behind the unread events).
func TestWebSocketSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, &WebSocketOptions{EventBuffer: 1})
		runWS(t, w)
		expect(t, w, EventHello, 0)
		// The fake writes synchronously, so it publishes from another
		// goroutine: it waits, as the server's queue would, for the
		// client to read.
		published := make(chan struct{})
		go func() {
			defer close(published)
			for range 5 {
				fake.Publish(EventPosted, postedData)
			}
		}()
		time.Sleep(5 * time.Minute) // nobody reads Events
		for seq := int64(1); seq <= 5; seq++ {
			expect(t, w, EventPosted, seq)
		}
		<-published
		fake.Publish(EventPosted, postedData)
		expect(t, w, EventPosted, 6)
		if n := len(fake.dialed); n != 1 {
			t.Errorf("%d dials, want 1: the connection was fine", n)
		}
	})
}

// TestWebSocketDropWhileStalled checks a drop the client cannot see while
// its receiver does not read: it is found, and reported once, when the
// receiver is back.
func TestWebSocketDropWhileStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, &WebSocketOptions{EventBuffer: 1})
		runWS(t, w)
		expect(t, w, EventHello, 0)
		synctest.Wait() // the handshake ping is answered: the writer is idle
		oldID := fake.LastID()
		fake.Publish(EventTyping, `{"user_id":"u","parent_id":""}`) // fills the buffer
		fake.Publish(EventTyping, `{"user_id":"u","parent_id":""}`) // waits in the reader
		fake.set(func(s *fakeWS) { s.forgetAll = true })
		fake.Drop()
		time.Sleep(10 * time.Minute)
		if n := len(fake.dialed); n != 1 {
			t.Errorf("%d dials while the receiver was away, want 1", n)
		}
		expect(t, w, EventTyping, 1)
		expect(t, w, EventTyping, 2)
		ev := expect(t, w, EventMissed, 0)
		m := ev.Payload.(*EventsMissed)
		if m.LastSeq != 2 || m.OldConnectionID != oldID || m.NewConnectionID != fake.LastID() {
			t.Errorf("EventsMissed = %+v, want LastSeq 2 from %s to %s", m, oldID, fake.LastID())
		}
		expect(t, w, EventHello, 0)
		fake.Publish(EventPosted, postedData)
		expect(t, w, EventPosted, 1)
	})
}

func TestNoteMissed(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	st := &streamState{connID: "a", lastSeq: 7, lastAt: t0}
	st.noteMissed("b")
	// A second loss before the receiver took the first extends it.
	st.connID, st.lastSeq, st.lastAt = "b", 0, t0.Add(time.Minute)
	st.noteMissed("c")
	want := &EventsMissed{Since: t0, LastSeq: 7, OldConnectionID: "a", NewConnectionID: "c"}
	if diff := cmp.Diff(want, st.missed); diff != "" {
		t.Errorf("noteMissed twice: mismatch (-want +got):\n%s", diff)
	}
}

// TestWebSocketClosedOnceBeforeHello checks that one fresh socket closed
// before hello (a server going down) is not taken for a bad token.
func TestWebSocketClosedOnceBeforeHello(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		fake.set(func(s *fakeWS) { s.closeFresh = 1 })
		w := newTestWS(t, hc, nil)
		stop := runWS(t, w)
		expect(t, w, EventHello, 0)
		if n := len(fake.dialed); n != 2 {
			t.Errorf("%d dials, want 2", n)
		}
		if err := stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

// TestWebSocketFrameSizes checks that frames of every size arrive whole
// through the reader's reused buffer, and that an event already delivered
// keeps its data when later frames reuse (or outgrow) the buffer.
func TestWebSocketFrameSizes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, nil)
		runWS(t, w)
		expect(t, w, EventHello, 0)

		sizes := []int{1, 4000, 5000, 200 << 10, 10, 70 << 10, 3}
		var got []*Event
		for i, n := range sizes {
			msg := strings.Repeat(string(rune('a'+i)), n)
			data := `{"channel_type":"O","post":"{\"id\":\"g77s5139uin4tcxikynebsumua\",\"message\":\"` + msg + `\"}"}`
			seq := fake.Publish(EventPosted, data)
			ev := expect(t, w, EventPosted, seq)
			if string(ev.Data) != data {
				t.Fatalf("frame %d (%d bytes): Data differs from what was sent", i, n)
			}
			got = append(got, ev)
		}
		for i, ev := range got {
			want := strings.Repeat(string(rune('a'+i)), sizes[i])
			if m := ev.Payload.(*PostedEvent).Post.Message; m != want {
				t.Errorf("event %d: Post.Message has %d bytes starting %.10q, want %d bytes of %q", i, len(m), m, sizes[i], want[:1])
			}
			if !strings.Contains(string(ev.Data), want) {
				t.Errorf("event %d: Data changed after later frames were read", i)
			}
		}
	})
}
