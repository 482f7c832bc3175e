package mattermost_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// These tests run the WebSocket against the fake server of package mmtest
// over real loopback sockets: the same protocol end to end, with the fake's
// fault knobs. The synctest-driven tests in websocket_test.go cover timing.

type mmtestSetup struct {
	srv     *mmtest.Server
	bot     *mattermost.User
	alice   *mattermost.User
	channel *mattermost.Channel
	token   string
}

func setupMMTest(t testing.TB, opts *mmtest.Options) *mmtestSetup {
	t.Helper()
	var o mmtest.Options
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := mmtest.NewServer(t, &o)
	s, err := seedMMTest(srv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func seedMMTest(srv *mmtest.Server) (*mmtestSetup, error) {
	team, err := srv.AddTeam("ops", "Ops")
	if err != nil {
		return nil, err
	}
	bot, err := srv.AddBot("opsbot", "Ops Bot", "")
	if err != nil {
		return nil, err
	}
	alice, err := srv.AddUser(mmtest.User{Username: "alice", Password: "secret"})
	if err != nil {
		return nil, err
	}
	for _, u := range []string{bot.ID, alice.ID} {
		if err := srv.AddTeamMember(team.ID, u); err != nil {
			return nil, err
		}
	}
	ch, ok := srv.Channel(team.ID, "town-square")
	if !ok {
		return nil, errors.New("no town-square")
	}
	token, err := srv.CreateToken(bot.ID, "test")
	if err != nil {
		return nil, err
	}
	return &mmtestSetup{srv: srv, bot: bot, alice: alice, channel: ch, token: token}, nil
}

// startMMTestWS runs a WebSocket for the bot until the test ends. done is
// closed when Run returns, and *runErr then holds its error.
func startMMTestWS(t *testing.T, s *mmtestSetup, opts *mattermost.WebSocketOptions) (w *mattermost.WebSocket, done <-chan struct{}, runErr *error) {
	t.Helper()
	var o mattermost.WebSocketOptions
	if opts != nil {
		o = *opts
	}
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := mattermost.NewWebSocket(s.srv.URL(), mattermost.Secret(s.token), &o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	runErr = new(error)
	go func() {
		defer close(ch)
		*runErr = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		for range w.Events() { // drain until Run closes it
		}
		<-ch
	})
	return w, ch, runErr
}

// waitEvent returns the first event of type typ, skipping others (status
// changes, channel_viewed...). It fails on an unexpected EventMissed or
// hello unless typ asks for one, and after 10 s.
func waitEvent(t *testing.T, w *mattermost.WebSocket, typ string) *mattermost.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("Events closed while waiting for %q", typ)
			}
			if ev.Type == typ {
				return ev
			}
			if ev.Type == mattermost.EventMissed || ev.Type == mattermost.EventHello {
				t.Fatalf("got %q (%+v) while waiting for %q", ev.Type, ev.Payload, typ)
			}
		case <-timeout:
			t.Fatalf("no %q event within 10s", typ)
		}
	}
}

func (s *mmtestSetup) post(t *testing.T, msg string) {
	t.Helper()
	if _, err := s.srv.CreatePost(s.alice.ID, mattermost.Post{ChannelID: s.channel.ID, Message: msg}); err != nil {
		t.Fatal(err)
	}
}

func waitPosted(t *testing.T, w *mattermost.WebSocket, msg string) {
	t.Helper()
	ev := waitEvent(t, w, mattermost.EventPosted)
	p := ev.Payload.(*mattermost.PostedEvent)
	if p.Post.Message != msg || p.SenderName != "@alice" || p.ChannelType != mattermost.ChannelOpen {
		t.Fatalf("posted %q from %q in %q, want %q from @alice in O", p.Post.Message, p.SenderName, p.ChannelType, msg)
	}
}

func TestWebSocketMMTest(t *testing.T) {
	s := setupMMTest(t, nil)
	rec := newRecorder()
	w, _, _ := startMMTestWS(t, s, &mattermost.WebSocketOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Observer: rec})
	hello := waitEvent(t, w, mattermost.EventHello).Payload.(*mattermost.HelloEvent)
	if len(hello.ConnectionID) != 26 {
		t.Errorf("hello connection id = %q, want 26 characters", hello.ConnectionID)
	}

	s.post(t, "one")
	waitPosted(t, w, "one")
	ctx := t.Context()
	if err := w.UserTyping(ctx, s.channel.ID, ""); err != nil {
		t.Errorf("UserTyping: %v", err)
	}
	st, err := w.StatusesByIDs(ctx, []string{s.alice.ID})
	if err != nil || st[s.alice.ID] == "" {
		t.Errorf("StatusesByIDs = %v, %v; want alice's status", st, err)
	}

	// A drop is resumed: the post made meanwhile arrives once, without
	// hello or EventMissed. Upgrades are refused (503) until DropWebSockets
	// has returned, that is until the server has seen the old socket end: a
	// client back before that gets a fresh connection, from the real server
	// as from the fake.
	s.srv.RefuseWebSockets(time.Hour)
	s.srv.DropWebSockets()
	s.post(t, "two")
	s.srv.RefuseWebSockets(0)
	waitPosted(t, w, "two")
	s.post(t, "three")
	waitPosted(t, w, "three")
	if got := waitReconnect(t, rec); !got {
		t.Errorf("reconnect after a drop: resumed = false, want true")
	}

	// A restart loses the server's state: EventMissed, then a new hello.
	s.srv.RestartWebSockets()
	missed := waitEvent(t, w, mattermost.EventMissed).Payload.(*mattermost.EventsMissed)
	if missed.OldConnectionID != hello.ConnectionID || missed.NewConnectionID == hello.ConnectionID {
		t.Errorf("EventsMissed = %+v, want from %q to a new id", missed, hello.ConnectionID)
	}
	if h := waitEvent(t, w, mattermost.EventHello).Payload.(*mattermost.HelloEvent); h.ConnectionID != missed.NewConnectionID {
		t.Errorf("hello after restart = %q, want %q", h.ConnectionID, missed.NewConnectionID)
	}
	s.post(t, "four")
	waitPosted(t, w, "four")
	if got := waitReconnect(t, rec); got {
		t.Errorf("reconnect after a restart: resumed = true, want false")
	}
	select {
	case r := <-rec.reconnects:
		t.Errorf("a third reconnect reported (resumed %v), want two", r)
	default:
	}
}

// waitReconnect returns the next reconnect reported to rec.
func waitReconnect(t *testing.T, rec *recorder) bool {
	t.Helper()
	select {
	case r := <-rec.reconnects:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect reported within 10s")
		return false
	}
}

func TestWebSocketMMTestRevoked(t *testing.T) {
	s := setupMMTest(t, nil)
	w, done, runErr := startMMTestWS(t, s, &mattermost.WebSocketOptions{PingInterval: 20 * time.Millisecond})
	waitEvent(t, w, mattermost.EventHello)
	s.srv.RevokeToken(s.token)
	select {
	case <-done:
		if !errors.Is(*runErr, mattermost.ErrUnauthorized) {
			t.Errorf("Run = %v, want ErrUnauthorized", *runErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still running 10s after the token was revoked")
	}
}

func TestWebSocketMMTestBadToken(t *testing.T) {
	s := setupMMTest(t, &mmtest.Options{WebSocket: mmtest.WebSocketOptions{AuthTimeout: 50 * time.Millisecond}})
	for _, challenge := range []bool{false, true} {
		t.Run(fmt.Sprint("challenge=", challenge), func(t *testing.T) {
			w, err := mattermost.NewWebSocket(s.srv.URL(), "not-a-token", &mattermost.WebSocketOptions{AuthChallenge: challenge})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := w.Run(ctx); !errors.Is(err, mattermost.ErrUnauthorized) {
				t.Errorf("Run = %v, want ErrUnauthorized", err)
			}
		})
	}
}

// ExampleWebSocket connects a bot to a fake server and prints the first
// post it sees.
func ExampleWebSocket() {
	srv, err := mmtest.Start("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	s, err := seedMMTest(srv)
	if err != nil {
		fmt.Println(err)
		return
	}

	ws, err := mattermost.NewWebSocket(srv.URL(), mattermost.Secret(s.token), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ws.Run(ctx) }()

	for ev := range ws.Events() { // closed when Run returns
		switch p := ev.Payload.(type) {
		case *mattermost.HelloEvent:
			fmt.Println("connected")
			_, _ = srv.CreatePost(s.alice.ID, mattermost.Post{ChannelID: s.channel.ID, Message: "hello bot"})
		case *mattermost.PostedEvent:
			fmt.Printf("%s in %s: %s\n", p.SenderName, p.ChannelName, p.Post.Message)
			cancel()
		case *mattermost.EventsMissed:
			// Catch up over REST: GET /channels/{id}/posts?since=...
		}
	}
	fmt.Println("Run:", <-done)
	// Output:
	// connected
	// @alice in town-square: hello bot
	// Run: <nil>
}
