package mmtest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"

	"github.com/matterbot/matterbot/mattermost"
)

// Fixed 26-character ids for the tiny in-test state.
const (
	alice   = "aliceaaaaaaaaaaaaaaaaaaaaa"
	bob     = "bobbbbbbbbbbbbbbbbbbbbbbbb"
	carol   = "carolccccccccccccccccccccc"
	opsChan = "opschannelcccccccccccccccc"
	offChan = "offtopicccccccccccccccccch"
	team1   = "teamoneeeeeeeeeeeeeeeeeee"
)

// wsState is the smallest server state the hub needs: tokens, channel and
// team members.
type wsState struct {
	mu       sync.Mutex
	tokens   map[string]string          // token → user id
	channels map[string]map[string]bool // channel id → members
	teams    map[string]map[string]bool // team id → members
}

func newWSState() *wsState {
	return &wsState{
		tokens: map[string]string{"tok-alice": alice, "tok-alice2": alice, "tok-bob": bob, "tok-carol": carol},
		channels: map[string]map[string]bool{
			opsChan: {alice: true, bob: true},
			offChan: {carol: true},
		},
		teams: map[string]map[string]bool{team1: {alice: true, carol: true}},
	}
}

func (st *wsState) options() hubOptions {
	return hubOptions{
		Authenticate: func(token string) (string, bool) {
			st.mu.Lock()
			defer st.mu.Unlock()
			id, ok := st.tokens[token]
			return id, ok
		},
		IsChannelMember: func(channelID, userID string) bool {
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.channels[channelID][userID]
		},
		IsTeamMember: func(teamID, userID string) bool {
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.teams[teamID][userID]
		},
	}
}

// pipeListener hands the server ends of in-memory pipes to an http.Server,
// so the hub runs its real upgrade path inside a synctest bubble, where
// loopback sockets are not allowed.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	srv, cli := net.Pipe()
	select {
	case l.conns <- srv:
		return cli, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// wsEnv is a hub served over pipes, with its state.
type wsEnv struct {
	t      *testing.T
	h      *hub
	st     *wsState
	client *http.Client
	synced bool // inside a synctest bubble
}

// newWSEnv starts a hub over in-memory pipes; call it inside
// synctest.Test. edit may change the options before the hub is built.
func newWSEnv(t *testing.T, edit func(*hubOptions)) *wsEnv {
	t.Helper()
	st := newWSState()
	opts := st.options()
	if edit != nil {
		edit(&opts)
	}
	h := newHub(opts)
	ln := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	srv := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	tr := &http.Transport{DialContext: ln.dial}
	t.Cleanup(func() {
		h.Close()
		_ = srv.Close()
		<-served
		tr.CloseIdleConnections()
	})
	return &wsEnv{t: t, h: h, st: st, client: &http.Client{Transport: tr}, synced: true}
}

// dialOpts says how a test client connects.
type dialOpts struct {
	bearer string     // Authorization: Bearer
	header string     // a whole Authorization header
	cookie string     // MMAUTHTOKEN cookie
	query  url.Values // connection_id, sequence_number
	noPong bool       // never answer server pings
	noRead bool       // do not start the reader: frames stay unread
}

// wsClient is a coder/websocket client whose reader goroutine collects
// frames.
type wsClient struct {
	t      *testing.T
	env    *wsEnv
	c      *websocket.Conn
	frames chan []byte
	closed chan struct{}
	err    error // why the reader ended; valid once closed is closed
	seq    int64
	pings  chan struct{}
}

func (e *wsEnv) dial(o dialOpts) *wsClient {
	e.t.Helper()
	c, err := e.tryDial(o)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

func (e *wsEnv) tryDial(o dialOpts) (*wsClient, error) {
	u := "ws://mm.test/api/v4/websocket"
	if len(o.query) > 0 {
		u += "?" + o.query.Encode()
	}
	hdr := http.Header{}
	switch {
	case o.bearer != "":
		hdr.Set("Authorization", "Bearer "+o.bearer)
	case o.header != "":
		hdr.Set("Authorization", o.header)
	}
	if o.cookie != "" {
		hdr.Set("Cookie", "MMAUTHTOKEN="+o.cookie)
	}
	wc := &wsClient{t: e.t, env: e, frames: make(chan []byte, 4096), closed: make(chan struct{}), pings: make(chan struct{}, 1024)}
	c, resp, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{
		HTTPClient: e.client,
		HTTPHeader: hdr,
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case wc.pings <- struct{}{}:
			default:
			}
			return !o.noPong
		},
	})
	if err != nil {
		if resp != nil {
			return nil, &dialError{status: resp.StatusCode, err: err}
		}
		return nil, err
	}
	c.SetReadLimit(-1)
	wc.c = c
	e.t.Cleanup(func() { _ = c.CloseNow(); <-wc.closed })
	if o.noRead {
		close(wc.closed)
		return wc, nil
	}
	go wc.read()
	return wc, nil
}

type dialError struct {
	status int
	err    error
}

func (e *dialError) Error() string { return e.err.Error() }

func (c *wsClient) read() {
	defer close(c.closed)
	for {
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		c.frames <- b
	}
}

// settle lets every goroutine of the bubble run until it blocks.
func (c *wsClient) settle() {
	if c.env.synced {
		synctest.Wait()
	}
}

// nextRaw returns the next frame, which must already have arrived.
func (c *wsClient) nextRaw() []byte {
	c.t.Helper()
	c.settle()
	if c.env.synced {
		select {
		case b := <-c.frames:
			return b
		default:
			c.t.Fatalf("no frame arrived (socket closed: %v)", c.isClosed())
			return nil
		}
	}
	select {
	case b := <-c.frames:
		return b
	case <-time.After(10 * time.Second): // a guard against a hang, not a wait
		c.t.Fatal("no frame arrived within 10s")
		return nil
	}
}

// next returns the next frame decoded.
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	return decodeFrame(c.t, c.nextRaw())
}

func decodeFrame(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame %q: %v", b, err)
	}
	return m
}

// none checks that no frame has arrived.
func (c *wsClient) none() {
	c.t.Helper()
	c.settle()
	select {
	case b := <-c.frames:
		c.t.Fatalf("unexpected frame %s", b)
	default:
	}
}

func (c *wsClient) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// wantClosed checks that the server has closed the socket, without a close
// frame when abnormal is true.
func (c *wsClient) wantClosed(abnormal bool) {
	c.t.Helper()
	c.settle()
	if !c.isClosed() {
		c.t.Fatal("socket still open, want closed by the server")
	}
	if abnormal && websocket.CloseStatus(c.err) != -1 {
		c.t.Errorf("close status %d, want an abnormal closure (no close frame); err %v", websocket.CloseStatus(c.err), c.err)
	}
}

func (c *wsClient) wantOpen() {
	c.t.Helper()
	c.settle()
	if c.isClosed() {
		c.t.Fatalf("socket closed (%v), want open", c.err)
	}
}

// send writes a request with the next seq and returns that seq.
func (c *wsClient) send(action string, data map[string]any) int64 {
	c.t.Helper()
	c.seq++
	c.sendJSON(map[string]any{"seq": c.seq, "action": action, "data": data})
	return c.seq
}

func (c *wsClient) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

func (c *wsClient) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	if err := c.c.Write(context.Background(), typ, b); err != nil && !errors.Is(err, net.ErrClosed) {
		c.t.Fatalf("write: %v", err)
	}
}

// hello reads the next frame, checks it is a hello with seq 0, and returns
// its connection id.
func (c *wsClient) hello() string {
	c.t.Helper()
	f := c.next()
	if f["event"] != "hello" || f["seq"] != 0.0 {
		c.t.Fatalf("frame %v, want hello with seq 0", f)
	}
	id, _ := f["data"].(map[string]any)["connection_id"].(string)
	if !mattermost.IsValidID(id) {
		c.t.Fatalf("hello connection_id %q is not a valid id", id)
	}
	return id
}

// recorded loads the frames of a recording from testdata/recorded.
func recorded(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func recordedFrames(t *testing.T, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, f := range recorded(t, name)["frames"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}

// postedEvent is a posted event like the recorded ones, with a marker.
func postedEvent(channelID, msg string) wsEvent {
	return wsEvent{
		Event: "posted",
		Data: map[string]any{
			"channel_display_name": "ops", "channel_name": "ops", "channel_type": "O",
			"post":        `{"id":"x","message":"` + msg + `"}`,
			"sender_name": "@bob", "set_online": true, "team_id": team1,
		},
		Broadcast: wsBroadcast{ChannelID: channelID},
	}
}

// message returns the post message of a posted frame built by postedEvent.
func message(t *testing.T, f map[string]any) string {
	t.Helper()
	data, _ := f["data"].(map[string]any)
	post, _ := data["post"].(string)
	var p struct{ Message string }
	if err := json.Unmarshal([]byte(post), &p); err != nil {
		t.Fatalf("frame %v: post: %v", f, err)
	}
	return p.Message
}

func seqOf(f map[string]any) int64 {
	s, ok := f["seq"].(float64)
	if !ok {
		return -1
	}
	return int64(s)
}

func resumeQuery(cid, seq string) url.Values {
	q := url.Values{"connection_id": {cid}}
	if seq != "" {
		q.Set("sequence_number", seq)
	}
	return q
}

// withStatus makes the hooks keep a status per user and publish
// status_change to the user when it changes, as the real server's
// SetStatusOnline and SetStatusOffline do.
func withStatus(o *hubOptions, h **hub) {
	var mu sync.Mutex
	status := map[string]string{}
	set := func(userID, st string) {
		mu.Lock()
		changed := status[userID] != st
		status[userID] = st
		mu.Unlock()
		if changed {
			(*h).Publish(wsEvent{Event: "status_change", Data: map[string]any{"status": st, "user_id": userID},
				Broadcast: wsBroadcast{UserID: userID}})
		}
	}
	o.OnConnect = func(userID string) { set(userID, "online") }
	o.OnDisconnect = func(userID string) { set(userID, "offline") }
}
