package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// This file holds a small fake of the server's WebSocket endpoint for the
// tests of websocket.go, and an in-memory network to reach it from inside
// synctest bubbles. Its behaviour follows the server source:
// server/channels/api4/websocket.go (upgrade, resume query),
// server/channels/app/platform/web_conn.go (5 s auth check, seq, dead queue),
// web_hub.go (hello, resume lookup) and websocket_router.go (actions, auth
// challenge, router errors).

const (
	fakeToken    = "good-token"
	fakeUserID   = "t7boqukfst88jmcu3mgp8jtrme"
	fakeChannel  = "eofczhjqg7d4pd5iz5pcjmmjfo"
	fakeVersion  = "5.36.1..482d74aa791d53ed59a63fb53a266ea0.false"
	authCheckFor = 5 * time.Second // web_conn.go authCheckInterval
)

type fakeDial struct {
	at    time.Time
	query url.Values
	auth  string
}

type fakeAction struct {
	Seq    int64          `json:"seq"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
}

type fakeConn struct {
	id    string
	sent  [][]byte // every event frame written or queued, index = seq
	ws    *websocket.Conn
	muted bool // read actions, answer none (a silently dead server)
	// wmu serializes writes, in seq order. A channel rather than a
	// sync.Mutex: a goroutine waiting on it is durably blocked, so fake
	// time still advances while a write waits for a client not reading.
	wmu chanMutex
}

type chanMutex struct{ ch chan struct{} }

func (m *chanMutex) Lock() {
	if m.ch == nil {
		panic("chanMutex not made")
	}
	m.ch <- struct{}{}
}

func (m *chanMutex) Unlock() { <-m.ch }

func newFakeConn(id string, ws *websocket.Conn) *fakeConn {
	return &fakeConn{id: id, ws: ws, wmu: chanMutex{make(chan struct{}, 1)}}
}

type fakeWS struct {
	t      testing.TB
	dialed chan fakeDial // every upgrade request, buffered

	mu            sync.Mutex
	ignoreHeader  bool // a proxy stripped the Authorization header
	forgetAll     bool // no connection can be resumed
	closeOnResume bool // close the socket on resume, as for a bad sequence_number
	revoked       bool // the session was revoked: actions get 401
	upgradeStatus int  // answer the upgrade with this status instead of 101
	closeFresh    int  // close this many more sockets right after the upgrade
	reset         bool // the server was reset: it knows neither the token nor the connections
	meStatus      int  // answer GET /api/v4/users/me with this status
	nextID        int
	conns         map[string]*fakeConn
	last          *fakeConn // the connection Publish writes to
	actions       []fakeAction
	pings         []time.Time // every ping frame received
	noPong        bool        // ping frames get no pong
	onPing        func()      // called for each ping frame, before the pong
	handlers      sync.WaitGroup
}

func newFakeWS(t testing.TB) *fakeWS {
	return &fakeWS{t: t, dialed: make(chan fakeDial, 100), conns: map[string]*fakeConn{}}
}

func (s *fakeWS) set(f func(s *fakeWS)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *fakeWS) newID() string {
	s.nextID++
	id := fmt.Sprintf("conn%022d", s.nextID) // 26 characters, like NewId
	return id
}

func (s *fakeWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handlers.Add(1)
	defer s.handlers.Done()
	if strings.HasSuffix(r.URL.Path, "/api/v4/users/me") {
		s.me(w, r)
		return
	}
	s.dialed <- fakeDial{at: time.Now(), query: r.URL.Query(), auth: r.Header.Get("Authorization")}
	s.mu.Lock()
	status, ignoreHeader, reset := s.upgradeStatus, s.ignoreHeader, s.reset
	s.mu.Unlock()
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"id":"fake.status.%d","message":"refused","detailed_error":"","status_code":%d}`, status, status)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: s.pinged})
	if err != nil {
		s.t.Errorf("fake: accept: %v", err)
		return
	}
	defer ws.CloseNow()
	ctx := context.Background()
	s.mu.Lock()
	closeNow := s.closeFresh > 0
	if closeNow {
		s.closeFresh--
	}
	s.mu.Unlock()
	if closeNow {
		return // a server going down
	}

	// The upgrade never fails for a bad token (api4/websocket.go): the
	// socket stays unauthenticated until an authentication_challenge.
	authed := !ignoreHeader && !reset && r.Header.Get("Authorization") == "Bearer "+fakeToken
	var challenge *fakeAction
	if !authed {
		actx, cancel := context.WithTimeout(ctx, authCheckFor)
		for challenge == nil {
			a, err := readAction(actx, ws)
			if err != nil {
				cancel()
				return // 5 s without authenticating: closed, no close frame
			}
			s.record(a)
			if a.Action != "authentication_challenge" {
				continue // not authenticated: no reply at all
			}
			if tok, _ := a.Data["token"].(string); tok != fakeToken {
				cancel()
				return // bad token: closed at once, no reply
			}
			challenge = &a
		}
		cancel()
	}
	c := s.register(ctx, ws, r.URL.Query(), challenge == nil)
	if c == nil {
		return
	}
	if challenge != nil {
		// websocket_router.go: hello is queued by the registration, then
		// the OK reply.
		s.reply(ctx, c, fmt.Sprintf(`{"status":"OK","seq_reply":%d}`, challenge.Seq))
	}
	for {
		a, err := readAction(ctx, ws)
		if err != nil {
			s.mu.Lock()
			if c.ws == ws {
				c.ws = nil // inactive: resumable
			}
			s.mu.Unlock()
			return
		}
		s.record(a)
		s.answer(ctx, c, a)
	}
}

// pinged records a ping frame and tells whether to answer it.
func (s *fakeWS) pinged(context.Context, []byte) bool {
	s.mu.Lock()
	s.pings = append(s.pings, time.Now())
	f, answer := s.onPing, !s.noPong
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return answer
}

// Pings returns when each ping frame was received.
func (s *fakeWS) Pings() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.pings...)
}

// me answers GET /api/v4/users/me, which the WebSocket asks when a
// socket closes before its first frame: 401 for a token that is not the
// fake's or a revoked session, the user otherwise.
func (s *fakeWS) me(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := r.Header.Get("Authorization") == "Bearer "+fakeToken && !s.revoked && !s.reset
	status := s.meStatus
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "proxy trouble", status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Version-Id", fakeVersion)
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","detailed_error":"","status_code":401}`)
		return
	}
	fmt.Fprintf(w, `{"id":%q,"username":"opsbot"}`, fakeUserID)
}

func readAction(ctx context.Context, ws *websocket.Conn) (fakeAction, error) {
	var a fakeAction
	_, b, err := ws.Read(ctx)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, err
	}
	return a, nil
}

func (s *fakeWS) record(a fakeAction) {
	s.mu.Lock()
	s.actions = append(s.actions, a)
	s.mu.Unlock()
}

// register decides between a fresh connection and a resume, as
// web_hub.go and web_conn.go do, and writes hello or the missed events.
func (s *fakeWS) register(ctx context.Context, ws *websocket.Conn, q url.Values, headerAuth bool) *fakeConn {
	s.mu.Lock()
	// Resume needs the session at upgrade time: header auth only.
	if id := q.Get("connection_id"); id != "" && headerAuth && !s.forgetAll {
		if c, ok := s.conns[id]; ok && c.ws == nil {
			n, err := strconv.ParseInt(q.Get("sequence_number"), 10, 64)
			if err != nil || n < 0 || s.closeOnResume {
				s.mu.Unlock()
				return nil // closed right after the upgrade
			}
			if last := int64(len(c.sent) - 1); n >= 1 && n <= last+1 {
				c.ws = ws
				s.last = c
				replay := c.sent[n:]
				c.wmu.Lock()
				s.mu.Unlock()
				defer c.wmu.Unlock()
				for _, f := range replay {
					if err := ws.Write(ctx, websocket.MessageText, f); err != nil {
						s.mu.Lock()
						if c.ws == ws {
							c.ws = nil // inactive again: resumable
						}
						s.mu.Unlock()
						return nil
					}
				}
				return c
			}
		}
	}
	c := newFakeConn(s.newID(), ws)
	s.conns[c.id] = c
	s.last = c
	hello := fmt.Sprintf(`{"event": "hello", "data": {"connection_id": %q, "server_version": %q}, "broadcast": {"omit_users": null, "user_id": %q, "channel_id": "", "team_id": ""}, "seq": 0}`,
		c.id, fakeVersion, fakeUserID)
	c.sent = append(c.sent, []byte(hello))
	c.wmu.Lock()
	s.mu.Unlock()
	defer c.wmu.Unlock()
	if err := ws.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
		return nil
	}
	return c
}

func (s *fakeWS) reply(ctx context.Context, c *fakeConn, frame string) {
	s.mu.Lock()
	ws, muted := c.ws, c.muted
	s.mu.Unlock()
	if ws == nil || muted {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = ws.Write(ctx, websocket.MessageText, []byte(frame)) // a failed write shows as a failed read
}

func fakeFail(seq int64, status int, id string) string {
	return fmt.Sprintf(`{"status":"FAIL","seq_reply":%d,"error":{"id":%q,"message":"fake","detailed_error":"","status_code":%d}}`, seq, id, status)
}

// answer follows websocket_router.go and wsapi/*.go.
func (s *fakeWS) answer(ctx context.Context, c *fakeConn, a fakeAction) {
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	switch {
	case a.Seq <= 0:
		s.reply(ctx, c, fakeFail(a.Seq, 400, "api.web_socket_router.bad_seq.app_error"))
	case a.Action == "authentication_challenge":
		// already authenticated: silently ignored
	case revoked:
		s.reply(ctx, c, fakeFail(a.Seq, 401, "api.web_socket_router.not_authenticated.app_error"))
	case a.Action == "ping":
		s.reply(ctx, c, fmt.Sprintf(`{"status":"OK","seq_reply":%d,"data":{"node_id":"","server_time":%d,"text":"pong","version":"5.36.1"}}`, a.Seq, time.Now().UnixMilli()))
	case a.Action == "user_typing":
		if ch, _ := a.Data["channel_id"].(string); len(ch) != 26 {
			s.reply(ctx, c, fakeFail(a.Seq, 400, "api.websocket_handler.invalid_param.app_error"))
			return
		}
		s.reply(ctx, c, fmt.Sprintf(`{"status":"OK","seq_reply":%d}`, a.Seq))
	case a.Action == "get_statuses_by_ids":
		ids, _ := a.Data["user_ids"].([]any)
		if len(ids) == 0 {
			s.reply(ctx, c, fakeFail(a.Seq, 400, "api.websocket_handler.invalid_param.app_error"))
			return
		}
		m := map[string]string{}
		for _, id := range ids {
			m[fmt.Sprint(id)] = "online"
		}
		b, _ := json.Marshal(m)
		s.reply(ctx, c, fmt.Sprintf(`{"status":"OK","seq_reply":%d,"data":%s}`, a.Seq, b))
	default:
		s.reply(ctx, c, fakeFail(a.Seq, 500, "api.web_socket_router.bad_action.app_error"))
	}
}

// Publish sends an event with the next seq on the last connection, or
// queues it there if the client is away (web_conn.go keeps sending into
// the queue of an inactive connection). It returns the seq.
func (s *fakeWS) Publish(event, data string) int64 {
	s.mu.Lock()
	c := s.last
	if c == nil {
		s.mu.Unlock()
		s.t.Fatalf("fake: Publish(%q) before any connection", event)
	}
	seq := int64(len(c.sent))
	frame := fmt.Appendf(nil, `{"event": %q, "data": %s, "broadcast": {"omit_users": null, "user_id": "", "channel_id": %q, "team_id": ""}, "seq": %d}`,
		event, data, fakeChannel, seq)
	c.sent = append(c.sent, frame)
	ws := c.ws
	c.wmu.Lock()
	s.mu.Unlock()
	defer c.wmu.Unlock()
	if ws != nil {
		_ = ws.Write(context.Background(), websocket.MessageText, frame) // a failed write shows as a failed read
	}
	return seq
}

// Skip loses the next event: its seq is used but nothing is sent.
func (s *fakeWS) Skip() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last.sent = append(s.last.sent, nil)
}

// Resend writes the event of seq again on the last connection.
func (s *fakeWS) Resend(seq int64) {
	s.mu.Lock()
	c := s.last
	frame, ws := c.sent[seq], c.ws
	c.wmu.Lock()
	s.mu.Unlock()
	defer c.wmu.Unlock()
	_ = ws.Write(context.Background(), websocket.MessageText, frame)
}

// Drop cuts the last connection abruptly; it stays resumable.
func (s *fakeWS) Drop() {
	s.mu.Lock()
	ws := s.last.ws
	s.last.ws = nil
	s.mu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
}

// Mute makes the last connection stop answering actions.
func (s *fakeWS) Mute() {
	s.set(func(s *fakeWS) { s.last.muted = true })
}

func (s *fakeWS) Actions() []fakeAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeAction(nil), s.actions...)
}

func (s *fakeWS) LastID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.id
}

// closeAll closes every socket, so that handlers return.
func (s *fakeWS) closeAll() {
	s.mu.Lock()
	var all []*websocket.Conn
	for _, c := range s.conns {
		if c.ws != nil {
			all = append(all, c.ws)
		}
	}
	s.mu.Unlock()
	for _, ws := range all {
		_ = ws.CloseNow()
	}
}

// pipeNet is an in-memory network: DialContext makes a net.Pipe and hands
// the other end to Accept. Inside a synctest bubble, blocking on it is
// durable, so fake time advances while client and server wait on each other.
type pipeNet struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once

	// relay, set before the first dial, puts a testLink between the two
	// ends of every connection, carrying rate bytes per second towards
	// the client (0: no limit).
	relay bool
	rate  int
	pumps sync.WaitGroup // the links' goroutines

	mu    sync.Mutex
	links []*testLink // every link, in dial order
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func newPipeNet() *pipeNet {
	return &pipeNet{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (n *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.closed:
		return nil, net.ErrClosed
	}
}

func (n *pipeNet) Close() error {
	n.closeOnce.Do(func() { close(n.closed) })
	return nil
}

func (n *pipeNet) Addr() net.Addr { return pipeAddr{} }

func (n *pipeNet) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	if n.relay {
		client, server = n.newLink()
	}
	select {
	case n.conns <- server:
		return client, nil
	case <-ctx.Done():
		_, _ = client.Close(), server.Close() // ends the link's goroutines
		return nil, ctx.Err()
	case <-n.closed:
		_, _ = client.Close(), server.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: syscall.ECONNREFUSED}
	}
}

// lastLink returns the link of the latest connection.
func (n *pipeNet) lastLink() *testLink {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[len(n.links)-1]
}

// startFake serves a fake on an in-memory network and returns it with an
// HTTP client that reaches it at http://mattermost.test. Everything is shut
// down and joined at the end of the test.
func startFake(t testing.TB) (*fakeWS, *http.Client) {
	s, hc, _ := startFakeNet(t, func(*pipeNet) {})
	return s, hc
}

// startFakeNet is startFake with the network at hand, set up by setup
// before the first dial.
func startFakeNet(t testing.TB, setup func(*pipeNet)) (*fakeWS, *http.Client, *pipeNet) {
	s := newFakeWS(t)
	pn := newPipeNet()
	setup(pn)
	srv := &http.Server{Handler: s}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(pn) }()
	tr := &http.Transport{DialContext: pn.DialContext}
	t.Cleanup(func() {
		_ = srv.Close() // closes the listener; hijacked sockets are closed below
		s.closeAll()
		s.handlers.Wait()
		tr.CloseIdleConnections()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("fake: Serve: %v", err)
		}
		pn.pumps.Wait()
	})
	return s, &http.Client{Transport: tr}, pn
}
