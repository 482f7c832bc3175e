package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ErrNotConnected is returned (wrapped) by the actions of a [WebSocket] when
// it has no authenticated connection, or when the connection was lost before
// the reply came.
var ErrNotConnected = errors.New("mattermost: websocket not connected")

// Defaults of [WebSocketOptions].
const (
	DefaultDialTimeout   = 30 * time.Second
	DefaultPingInterval  = 30 * time.Second
	DefaultReplyTimeout  = 10 * time.Second
	DefaultDeadLinkAfter = 10 * time.Second
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = time.Minute
	DefaultEventBuffer   = 1024
)

// readLimit bounds one inbound frame. The server caps a message at 16383
// runes, but a posted event carries it escaped twice plus props and
// metadata; 8 MiB leaves room for any real frame and still bounds memory.
const readLimit = 8 << 20

// WebSocketOptions configures a [WebSocket]. A nil *WebSocketOptions and
// every zero field mean the documented default.
type WebSocketOptions struct {
	// HTTPClient makes the upgrade request; its Transport must return
	// writable bodies for 101 responses (net/http's does). Default
	// http.DefaultClient. Tests and package mmtest inject in-memory
	// transports here.
	HTTPClient *http.Client

	// AuthChallenge also sends the token in an authentication_challenge
	// action after connecting, for proxies that strip the Authorization
	// header. The server closes the socket without a reply if the token is
	// bad. Default false: the header alone authenticates.
	AuthChallenge bool

	// DialTimeout bounds one connection attempt: the upgrade and the wait
	// for hello (or, when resuming, for the reply to the first ping).
	// Default DefaultDialTimeout.
	DialTimeout time.Duration

	// PingInterval is how often a ping action is sent to check that the
	// connection is alive and authenticated. Default DefaultPingInterval.
	PingInterval time.Duration

	// ReplyTimeout is how long an action, a keepalive ping included, waits
	// for its reply, and how long a write may take. A keepalive ping without
	// a reply in time makes the WebSocket reconnect, unless the reply may be
	// waiting behind events: events the receiver has not taken, or events
	// still arriving (the server queues its replies behind its events).
	// Default DefaultReplyTimeout.
	ReplyTimeout time.Duration

	// DeadLinkAfter is how long a connection may go without receiving
	// anything (an event, a reply, part of one, a ping or pong frame)
	// before it is taken for dead and replaced, the way a dropped one is:
	// it finds a half-open link (a NAT, proxy or VPN that silently forgot
	// the connection) within DeadLinkAfter. After half of it without news
	// the WebSocket sends a ping frame, which the server's socket layer
	// answers at once, not behind its queued events. Any byte received
	// counts, so a link busy with a long stream of events never needs the
	// pong in time. The clock stops while the receiver is behind and
	// nothing is read, and after a pause of the whole process (a long
	// garbage collection, a stopped VM) a fresh ping gets the other half
	// of DeadLinkAfter to be answered before anything is concluded.
	// Default DefaultDeadLinkAfter; negative turns the detection off
	// (the keepalive pings above still find a dead link, more slowly).
	DeadLinkAfter time.Duration

	// MinBackoff and MaxBackoff bound the wait between connection attempts:
	// it doubles from MinBackoff up to MaxBackoff, each wait drawn at random
	// in [d/2, d]. Defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// EventBuffer is the capacity of the Events channel. While it is full
	// the WebSocket stops reading the socket and pauses its keepalive; the
	// server queues meanwhile, and drops a connection that stays unread
	// too long (about 100 s without a pong, or 256 queued events), which
	// the WebSocket then finds and resumes or reports with EventMissed.
	// Default DefaultEventBuffer.
	EventBuffer int

	// Logger receives life-cycle messages (connected, reconnecting) and
	// decisions at Debug. Default: discard. The token is never logged.
	Logger *slog.Logger

	// Observer is told of every reconnect (Observer.ObserveReconnect),
	// for metrics. Default nil: nobody.
	Observer Observer
}

// WebSocket is a connection to the server's event stream
// (GET /api/v4/websocket) that reconnects by itself. [WebSocket.Run] owns
// the connection and delivers events on [WebSocket.Events]; the action
// methods (Ping, UserTyping, StatusesByIDs, Action) may be called from any
// goroutine while Run runs.
//
// On reconnect it resumes the server-side connection (connection_id and
// sequence_number), so events sent while it was away are replayed in order.
// When the server cannot resume, the WebSocket delivers an [EventMissed]
// event so the caller can catch up over REST. A connection that silently
// stops carrying anything (a half-open link) is found within
// WebSocketOptions.DeadLinkAfter and replaced the same way.
type WebSocket struct {
	url    *url.URL
	token  Secret
	opts   WebSocketOptions
	logger *slog.Logger
	events chan *Event

	// wakeHook, set by tests only, is called each time a dead-link watch
	// wakes, before it reads the clock: a test blocks in it to play a
	// pause of the whole process, which makes timers fire late.
	wakeHook func()

	mu      sync.Mutex
	running bool    // Run was called
	cur     *wsConn // the authenticated connection, nil between connections
}

// NewWebSocket returns a WebSocket for the server at serverURL (the site
// URL: "https://chat.example.com" or with a subpath), authenticating with
// token. It does not connect: call Run. It fails if serverURL is not an
// http, https, ws or wss URL with a host.
func NewWebSocket(serverURL string, token Secret, opts *WebSocketOptions) (*WebSocket, error) {
	u, err := websocketURL(serverURL)
	if err != nil {
		return nil, err
	}
	var o WebSocketOptions
	if opts != nil {
		o = *opts
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	setDefault(&o.DialTimeout, DefaultDialTimeout)
	setDefault(&o.PingInterval, DefaultPingInterval)
	setDefault(&o.ReplyTimeout, DefaultReplyTimeout)
	if o.DeadLinkAfter == 0 {
		o.DeadLinkAfter = DefaultDeadLinkAfter
	}
	setDefault(&o.MinBackoff, DefaultMinBackoff)
	setDefault(&o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &WebSocket{
		url:    u,
		token:  token,
		opts:   o,
		logger: logger.With("url", u.String()),
		events: make(chan *Event, o.EventBuffer),
	}, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// websocketURL maps a site URL to its WebSocket endpoint: same host, port
// and subpath, ws for http and wss for https.
func websocketURL(serverURL string) (*url.URL, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("mattermost: server URL %q: %w", serverURL, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("mattermost: server URL %q: scheme must be http or https", serverURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mattermost: server URL %q: no host", serverURL)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v4/websocket"
	u.RawPath = ""
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u, nil
}

// Events returns the channel on which Run delivers events, in the order the
// server sent them, plus the [EventMissed] events the WebSocket makes. Run
// closes it when it returns. The receiver must keep up (see
// WebSocketOptions.EventBuffer); events are never dropped to make room.
func (w *WebSocket) Events() <-chan *Event { return w.events }

// streamState is what survives from one connection to the next. Run owns
// it; during a connection the connection's reader goroutine does, and Run
// reads it again only after joining that goroutine.
type streamState struct {
	connID  string        // connection id of the last hello
	lastSeq int64         // seq of the last event delivered on connID
	lastAt  time.Time     // when that event was read (when Run started, before any)
	resume  bool          // try to resume connID on the next connection
	missed  *EventsMissed // a loss not yet delivered to the receiver
	// handshook: a connection got as far as its handshake before. Run's
	// alone: the reader never touches it.
	handshook bool
}

// Run connects, delivers events on Events until ctx is done, and reconnects
// with exponential backoff and jitter whenever the connection fails. It
// blocks until ctx is done and every goroutine it started has exited, then
// closes Events and returns nil.
//
// Run returns early with an error wrapping [ErrUnauthorized] when the
// server rejects the token: a 401 on the upgrade, a ping answered with 401
// (the session was revoked), or a connection closed before its first
// frame (the server does so for a bad token at once after an
// authentication challenge, or 5 s after an upgrade without a valid
// token) when GET /api/v4/users/me then answers 401, or two fresh
// connections in a row closed so when it does not answer (the second
// try, after a backoff, rules out a server that was merely going down).
// Run may be called only once.
func (w *WebSocket) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return errors.New("mattermost: WebSocket.Run called twice")
	}
	w.running = true
	w.mu.Unlock()
	defer close(w.events)

	st := &streamState{lastAt: time.Now()}
	attempt, closedEarly := 0, 0
	for {
		handshook, err := w.connect(ctx, st)
		if ctx.Err() != nil {
			return nil
		}
		// A fresh socket closed before hello is the server's answer to a
		// bad token, or a server or proxy going down at that very moment:
		// believe it the second time in a row.
		retryOnce := false
		if errors.Is(err, errClosedBeforeHello) {
			closedEarly++
			retryOnce = closedEarly < 2
		} else {
			closedEarly = 0
		}
		if errors.Is(err, errClosedBeforeHello) || errors.Is(err, errResumeRefused) {
			// The server closes a socket whose token it does not know
			// (revoked, or a server reset: a different world); REST
			// says so at once, where another try would wait for the
			// server's auth timeout again.
			if rerr := w.tokenRejected(ctx); rerr != nil {
				err, retryOnce = rerr, false
			}
		}
		if errors.Is(err, ErrUnauthorized) && !retryOnce {
			w.logger.Error("websocket token rejected", "err", err)
			return err
		}
		if handshook {
			attempt = 0
		}
		delay := backoffDelay(attempt, w.opts.MinBackoff, w.opts.MaxBackoff, rand.Float64())
		attempt++
		w.logger.Warn("websocket disconnected", "err", err, "retry_in", delay, "attempt", attempt)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// tokenRejected asks the server over REST whether it still accepts the
// token (GET /api/v4/users/me, the "is my token alive" call). It returns
// an error wrapping ErrUnauthorized for a 401, and nil for anything else
// (a good token, no answer, another status), which settles nothing.
func (w *WebSocket) tokenRejected(ctx context.Context) error {
	u := *w.url
	if u.Scheme == "wss" {
		u.Scheme = "https"
	} else {
		u.Scheme = "http"
	}
	u.Path = strings.TrimSuffix(u.Path, "/websocket") + "/users/me"
	u.RawQuery = ""
	ctx, cancel := context.WithTimeout(ctx, w.opts.ReplyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+string(w.token))
	req.Header.Set("Accept", "application/json")
	resp, err := w.opts.HTTPClient.Do(req)
	if err != nil {
		w.logger.Debug("websocket token check: no answer", "err", scrub(err))
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
		w.logger.Debug("websocket token check", "status", resp.StatusCode)
		return nil
	}
	return fmt.Errorf("mattermost: websocket: the server no longer accepts the token: %w", CheckResponse(resp))
}

// backoffDelay is the wait before connection attempt n+1 (n from 0): the
// base doubles from min up to max and the wait is drawn in [base/2, base]
// by r in [0, 1), so that many clients dropped at once do not reconnect in
// step.
func backoffDelay(n int, min, max time.Duration, r float64) time.Duration {
	base := min
	for i := 0; i < n && base < max; i++ {
		base *= 2
	}
	if base > max || base <= 0 {
		base = max
	}
	half := base / 2
	return half + time.Duration(r*float64(base-half))
}

// errResumeRefused reports a socket closed by the server before any frame
// while resuming: the connection id or sequence number was refused.
var errResumeRefused = errors.New("server closed the socket while resuming")

// connect makes one connection and serves it until it fails or ctx is done.
// handshook reports whether the connection got as far as hello (or the first
// ping reply when resuming).
func (w *WebSocket) connect(ctx context.Context, st *streamState) (handshook bool, err error) {
	u := *w.url
	// st belongs to the reader from its start until stop: read it now.
	resumeID := st.connID
	resuming := st.resume && resumeID != ""
	if resuming {
		q := url.Values{}
		q.Set("connection_id", resumeID)
		q.Set("sequence_number", strconv.FormatInt(st.lastSeq+1, 10))
		u.RawQuery = q.Encode()
	}
	logger := w.logger.With("resume", resuming)
	logger.Debug("websocket dialing", "connection_id", resumeID, "seq", st.lastSeq)

	dctx, cancel := context.WithTimeout(ctx, w.opts.DialTimeout)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+string(w.token))
	live := &liveness{born: time.Now()}
	ws, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient: w.opts.HTTPClient,
		HTTPHeader: hdr,
		// The library reads control frames itself, inside our reads:
		// these tell the dead-link watch that they came. The ping is
		// still answered (true).
		OnPingReceived: func(context.Context, []byte) bool { live.markHeard(); return true },
		OnPongReceived: func(context.Context, []byte) { live.markHeard() },
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			// A proxy or a future server refusing the upgrade: classify the
			// answer like any REST answer (401 matches ErrUnauthorized).
			if aerr := CheckResponse(resp); aerr != nil {
				return false, aerr
			}
		}
		return false, fmt.Errorf("mattermost: websocket upgrade: %w", err)
	}
	ws.SetReadLimit(readLimit)

	c := &wsConn{
		w:       w,
		ws:      ws,
		st:      st,
		logger:  logger,
		live:    live,
		out:     make(chan []byte),
		pending: make(map[int64]chan *ActionReply),
		first:   make(chan struct{}),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	// Actions called from now on wait for the handshake (c.ready): the
	// caller may act on hello before this goroutine has seen it, so c must
	// be current before the reader starts.
	w.mu.Lock()
	w.cur = c
	w.mu.Unlock()
	sctx, scancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { scancel(c.writeLoop(sctx)) })
	wg.Go(func() { scancel(c.readLoop(sctx)) })
	stop := func() {
		w.mu.Lock()
		w.cur = nil
		w.mu.Unlock()
		scancel(nil)
		_ = ws.CloseNow() // unblocks a pending read or write; an error means it was closed already
		wg.Wait()
		close(c.done) // fails the calls still waiting for a reply or for c.ready
	}

	connID, err := c.handshake(sctx, dctx, resuming, resumeID)
	if err != nil {
		stop()
		if errors.Is(err, errResumeRefused) {
			// Do not insist: the next attempt starts afresh, and its hello
			// (with a new connection id) reports the missed events.
			st.resume = false
		}
		return false, err
	}
	c.id = connID // published by close(c.ready)
	close(c.ready)
	if st.handshook && w.opts.Observer != nil {
		// No hello on a resumed connection: its id is still resumeID.
		// Told before the line below: who reads that line sees it counted.
		w.opts.Observer.ObserveReconnect(resuming && connID == resumeID)
	}
	st.handshook = true
	logger.Info("websocket connected", "connection_id", connID)
	if w.opts.DeadLinkAfter > 0 {
		pings := make(chan struct{}, 1) // size 1: a ping asked while one is out waits, never the watch
		wg.Go(func() { c.pinger(sctx, pings) })
		wg.Go(func() { scancel(c.watch(sctx, pings)) })
	}
	err = c.keepalive(sctx)
	stop()
	// Resume next time if the server gave this connection an id.
	st.resume = st.connID != ""
	return true, err
}

// wsConn is one WebSocket connection: a reader goroutine, a writer
// goroutine, and the actions waiting for their replies.
type wsConn struct {
	w      *WebSocket
	ws     *websocket.Conn
	st     *streamState // owned by readLoop while the connection lives
	logger *slog.Logger
	live   *liveness

	// out carries encoded actions to the writer, the only goroutine that
	// writes to ws. Unbuffered: a sender knows its frame was taken.
	out chan []byte
	// first is closed by the reader when the first frame arrives, after it
	// set helloID if that frame is hello. Authentication is proven by any
	// frame: the server writes nothing to a socket it has not
	// authenticated, and a resumed connection begins with the replayed
	// events or the reply to the handshake ping, never with hello.
	first     chan struct{}
	firstOnce sync.Once
	helloID   string
	// stalled is true while the reader waits for room in Events;
	// unstalled is when it last stopped waiting (live's clock). The
	// keepalive does not blame the server for replies the reader has not
	// read, nor the dead-link watch for silence while nothing is read.
	stalled   atomic.Bool
	unstalled atomic.Int64
	// ready is closed when the handshake succeeded; actions wait for it.
	ready chan struct{}
	// id is the connection's id, set before ready is closed.
	id string
	// done is closed once the reader and writer have exited.
	done chan struct{}

	mu      sync.Mutex
	seq     int64                       // seq of the last action sent
	pending map[int64]chan *ActionReply // actions waiting for a reply, by seq
}

// handshake waits until the connection is known to be authenticated: the
// first frame arrives (hello on a fresh connection or a resume the server
// could not honour; replayed events or the reply to the ping sent here on a
// resumed one). dctx bounds the wait. It returns the connection id.
func (c *wsConn) handshake(ctx, dctx context.Context, resuming bool, resumeID string) (string, error) {
	// A send fails only when ctx is done: the select below then reports
	// why. A nil pong channel is never ready.
	if c.w.opts.AuthChallenge {
		// The reply (OK after hello, or none if the header already
		// authenticated) tells the handshake nothing more than hello does.
		_, release, err := c.send(ctx, "authentication_challenge", map[string]string{"token": string(c.w.token)})
		if err == nil {
			defer release()
		}
	}
	// The ping makes a resumed connection with nothing to replay say
	// something.
	pong, release, err := c.send(ctx, "ping", nil)
	if err == nil {
		defer release()
	}
	select {
	case <-c.first:
	case <-ctx.Done():
		select {
		case <-c.first: // it came just before the failure
		default:
			return "", c.closedEarly(ctx, resuming)
		}
	case <-dctx.Done():
		return "", fmt.Errorf("mattermost: websocket: nothing received within %v", c.w.opts.DialTimeout)
	}
	select {
	case r := <-pong:
		if r.Status == ReplyFail && r.Error != nil && r.Error.StatusCode == http.StatusUnauthorized {
			return "", fmt.Errorf("mattermost: websocket ping: %w", r.Error)
		}
	default:
	}
	if c.helloID != "" {
		return c.helloID, nil
	}
	return resumeID, nil
}

// closedEarly explains a connection that failed before its first frame.
// If the server closed it (the reader or the writer found it closed), that
// is its answer to a bad token (fresh connection) or to a connection id or
// sequence number it refuses (resume). A write timing out proves nothing.
func (c *wsConn) closedEarly(ctx context.Context, resuming bool) error {
	cause := context.Cause(ctx)
	var re *readError
	var we *writeError
	closed := errors.As(cause, &re) || errors.As(cause, &we) && !errors.Is(we.err, context.DeadlineExceeded)
	switch {
	case !closed:
		return fmt.Errorf("mattermost: websocket handshake: %w", cause)
	case resuming:
		return fmt.Errorf("%w: %v", errResumeRefused, cause)
	}
	return fmt.Errorf("%w (%v)", errClosedBeforeHello, cause)
}

// errClosedBeforeHello is a fresh connection closed by the server before
// any frame: what the server does with a bad token.
var errClosedBeforeHello = fmt.Errorf("mattermost: websocket closed before hello (token rejected?): %w", ErrUnauthorized)

// writeError is the writer's failure: the socket was closed or broke, or
// a write timed out.
type writeError struct{ err error }

func (e *writeError) Error() string { return "mattermost: websocket write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// readError is the reader's failure: the socket was closed or broke.
type readError struct{ err error }

func (e *readError) Error() string { return "mattermost: websocket read: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// keepalive pings every PingInterval and returns when a ping gets no reply
// within ReplyTimeout, is answered 401, or ctx is done.
func (c *wsConn) keepalive(ctx context.Context) error {
	t := time.NewTicker(c.w.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		if c.stalled.Load() {
			// The receiver is behind and the reader waits for it: a reply
			// could not be read, and the write could block on a server
			// that waits for us to read. Liveness is checked again later.
			continue
		}
		sent := int64(c.live.now())
		if _, err := c.call(ctx, "ping", nil); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if errors.Is(err, context.DeadlineExceeded) &&
				(c.stalled.Load() || c.unstalled.Load() > sent || c.live.heardData.Load() > sent ||
					c.live.now()-time.Duration(sent) > c.w.opts.ReplyTimeout*11/10) {
				// The reply may be waiting behind events the receiver
				// has not taken yet, or behind events still arriving
				// (the server queues replies with events), or unread
				// after a pause of the process (the timeout fired late):
				// not the server's fault.
				continue
			}
			return fmt.Errorf("mattermost: websocket keepalive: %w", err)
		}
	}
}

// send registers an action and hands it to the writer. The reply will come
// on the returned channel; release forgets the action.
func (c *wsConn) send(ctx context.Context, action string, data any) (<-chan *ActionReply, func(), error) {
	ch := make(chan *ActionReply, 1) // one reply per seq: the reader never blocks on it
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.pending[seq] = ch
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		delete(c.pending, seq)
		c.mu.Unlock()
	}
	frame, err := json.Marshal(struct {
		Seq    int64  `json:"seq"`
		Action string `json:"action"`
		Data   any    `json:"data,omitempty"`
	}{seq, action, data})
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("mattermost: websocket %s: %w", action, err)
	}
	select {
	case c.out <- frame:
		return ch, release, nil
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	case <-c.done:
	}
	release()
	return nil, nil, fmt.Errorf("mattermost: websocket %s: %w", action, ErrNotConnected)
}

// call waits for the handshake, sends an action and waits for its reply,
// all within ReplyTimeout. A FAIL reply is returned with an error wrapping
// its *APIError.
func (c *wsConn) call(ctx context.Context, action string, data any) (*ActionReply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.w.opts.ReplyTimeout)
	defer cancel()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("mattermost: websocket %s: not authenticated yet: %w", action, ctx.Err())
	case <-c.done:
		return nil, fmt.Errorf("mattermost: websocket %s: %w", action, ErrNotConnected)
	}
	ch, release, err := c.send(ctx, action, data)
	if err != nil {
		return nil, err
	}
	defer release()
	select {
	case r := <-ch:
		if r.Status != ReplyOK {
			if r.Error == nil {
				return r, fmt.Errorf("mattermost: websocket %s: status %q", action, r.Status)
			}
			return r, fmt.Errorf("mattermost: websocket %s: %w", action, r.Error)
		}
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("mattermost: websocket %s: no reply: %w", action, ctx.Err())
	case <-c.done:
		return nil, fmt.Errorf("mattermost: websocket %s: connection lost before the reply: %w", action, ErrNotConnected)
	}
}

func (c *wsConn) writeLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case frame := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, c.w.opts.ReplyTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, frame)
			cancel()
			if err != nil {
				return &writeError{err}
			}
		}
	}
}

func (c *wsConn) readLoop(ctx context.Context) error {
	// Frames are read with a context that is never done: for a context
	// that can be, coder/websocket arms and disarms a context.AfterFunc on
	// every read call, several per frame (matterbot bench: a sixth of the
	// bot's allocations). ctx still ends a pending read: the connection is
	// closed once, when ctx is done, as the library would do.
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.ws.CloseNow() // an error means it was closed already
		close(closed)
	})
	defer func() {
		if !stop() {
			<-closed
		}
	}()
	rctx := context.WithoutCancel(ctx)
	var buf frameBuffer
	var scratch []byte // for decodeFrame
	for {
		typ, frame, err := buf.read(rctx, c.ws, c.live)
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err() // what the library reports for a read cut by ctx
			}
			return &readError{err}
		}
		if typ != websocket.MessageText {
			c.logger.Debug("websocket binary frame ignored", "bytes", len(frame))
			continue
		}
		ev, reply, err := decodeFrame(frame, &scratch)
		if err != nil {
			// A frame we cannot read is the server's or a proxy's bug; the
			// stream goes on. An event with bad data is still counted.
			c.logger.Warn("websocket frame not understood", "err", err, "bytes", len(frame))
			if ev == nil {
				continue
			}
		}
		if reply != nil {
			c.firstOnce.Do(func() { close(c.first) })
			c.mu.Lock()
			ch := c.pending[reply.SeqReply]
			c.mu.Unlock()
			if ch == nil {
				c.logger.Debug("websocket reply to no pending action", "seq_reply", reply.SeqReply)
			} else {
				select {
				case ch <- reply:
				default: // a second reply to the same seq: keep the first
				}
			}
			// A loss found on an earlier connection and not delivered
			// yet goes before anything else, even if no event comes.
			if err := c.flushMissed(ctx, c.st.lastSeq); err != nil {
				return err
			}
			continue
		}
		if err := c.handleEvent(ctx, ev); err != nil {
			return err
		}
	}
}

// frameBuffer reads whole messages through one buffer kept across frames,
// so that a frame costs one allocation of its exact size (the decoded
// event keeps references into it) rather than io.ReadAll's growing
// copies.
type frameBuffer struct{ b []byte }

// maxKeptFrameBuffer is the largest buffer kept for the next frame; a
// rare huge frame does not pin its memory for the connection's life.
const maxKeptFrameBuffer = 64 << 10

// read marks live at every part of the frame that comes, so that a frame
// longer to arrive than DeadLinkAfter is not taken for silence.
func (fb *frameBuffer) read(ctx context.Context, ws *websocket.Conn, live *liveness) (websocket.MessageType, []byte, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	live.markData()
	b := fb.b[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if n > 0 {
			live.markData()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	frame := make([]byte, len(b))
	copy(frame, b)
	if cap(b) <= maxKeptFrameBuffer {
		fb.b = b
	} else {
		fb.b = nil
	}
	return typ, frame, nil
}

// handleEvent tracks seq and connection id and delivers ev, preceded by an
// EventMissed event when events were lost.
func (c *wsConn) handleEvent(ctx context.Context, ev *Event) error {
	st := c.st
	if ev.Type == EventHello {
		var id string
		if h, ok := ev.Payload.(*HelloEvent); ok {
			id = h.ConnectionID
		}
		if st.connID != "" && id != st.connID {
			c.logger.Warn("websocket not resumed; events may be missed", "connection_id", id, "old_connection_id", st.connID, "seq", st.lastSeq)
			st.noteMissed(id)
		}
		// The new connection's stream starts here, whether or not the
		// receiver takes hello and EventMissed before the next failure.
		st.connID, st.lastSeq, st.lastAt = id, ev.Seq, time.Now()
		c.firstOnce.Do(func() {
			c.helloID = id
			close(c.first)
		})
		if err := c.flushMissed(ctx, ev.Seq); err != nil {
			return err
		}
		return c.emit(ctx, ev)
	}
	c.firstOnce.Do(func() { close(c.first) })
	// Servers without connection ids (before 5.x resume support) give no
	// seq guarantee to check.
	if st.connID != "" {
		switch {
		case ev.Seq <= st.lastSeq:
			c.logger.Debug("websocket duplicate event dropped", "event", ev.Type, "seq", ev.Seq, "last_seq", st.lastSeq)
			return nil
		case ev.Seq > st.lastSeq+1:
			c.logger.Warn("websocket seq gap; events may be missed", "seq", ev.Seq, "last_seq", st.lastSeq)
			st.noteMissed(st.connID)
		}
	}
	if err := c.flushMissed(ctx, ev.Seq); err != nil {
		return err
	}
	if err := c.emit(ctx, ev); err != nil {
		return err
	}
	st.lastSeq, st.lastAt = ev.Seq, time.Now()
	return nil
}

// noteMissed records that events were lost before the stream went on as
// connection id. A loss not yet delivered to the receiver is extended, so
// it is reported once, from the first gap.
func (st *streamState) noteMissed(id string) {
	if st.missed != nil {
		st.missed.NewConnectionID = id
		return
	}
	st.missed = &EventsMissed{Since: st.lastAt, LastSeq: st.lastSeq, OldConnectionID: st.connID, NewConnectionID: id}
}

// flushMissed delivers the pending EventMissed event, if any.
func (c *wsConn) flushMissed(ctx context.Context, seq int64) error {
	if c.st.missed == nil {
		return nil
	}
	if err := c.emit(ctx, &Event{Type: EventMissed, Seq: seq, Payload: c.st.missed}); err != nil {
		return err
	}
	c.st.missed = nil
	return nil
}

func (c *wsConn) emit(ctx context.Context, ev *Event) error {
	select {
	case c.w.events <- ev:
		return nil
	default:
	}
	c.stalled.Store(true)
	defer func() {
		c.unstalled.Store(int64(c.live.now()))
		c.stalled.Store(false)
	}()
	select {
	case c.w.events <- ev:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// current returns the authenticated connection, or an error wrapping
// ErrNotConnected.
func (w *WebSocket) current(action string) (*wsConn, error) {
	w.mu.Lock()
	c := w.cur
	w.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("mattermost: websocket %s: %w", action, ErrNotConnected)
	}
	return c, nil
}

// Connection reports the connection Run holds now: its id and true once
// it is authenticated (a fresh connection's hello came, or a resumed one
// answered), "" and false while Run connects or waits to reconnect. A
// resumed connection keeps the id it had. A fresh one after a lost
// connection has a new id, and its hello event follows the
// [EventMissed] event that reports the loss: a receiver that notes the
// id of the last hello it handled knows, when the two ids differ, that
// it has not caught up yet. A server without connection ids (before
// 5.x) gives "".
func (w *WebSocket) Connection() (id string, ok bool) {
	w.mu.Lock()
	c := w.cur
	w.mu.Unlock()
	if c == nil {
		return "", false
	}
	select {
	case <-c.ready:
		return c.id, true
	default:
		return "", false
	}
}

// Action sends an action with its data (encoded as JSON; nil for none) and
// waits for the reply, at most ReplyTimeout in all. A FAIL reply is
// returned together with an error wrapping its [*APIError]. While a
// connection is being made, Action waits for it to be authenticated (so an
// action may be sent as soon as hello is received). Between connections,
// or if the connection is lost before the reply, the error wraps
// [ErrNotConnected]: replies are not replayed across reconnects.
func (w *WebSocket) Action(ctx context.Context, action string, data any) (*ActionReply, error) {
	c, err := w.current(action)
	if err != nil {
		return nil, err
	}
	return c.call(ctx, action, data)
}

// Ping sends the ping action and waits for the pong.
func (w *WebSocket) Ping(ctx context.Context) error {
	_, err := w.Action(ctx, "ping", nil)
	return err
}

// UserTyping tells the channel's members that the user is typing, in the
// thread of parentID if it is not empty (action user_typing). The server
// answers 400 if the user may not post in the channel.
func (w *WebSocket) UserTyping(ctx context.Context, channelID, parentID string) error {
	_, err := w.Action(ctx, "user_typing", map[string]string{"channel_id": channelID, "parent_id": parentID})
	return err
}

// StatusesByIDs returns the status ("online", "away", "dnd", "offline") of
// each user, by user id (action get_statuses_by_ids).
func (w *WebSocket) StatusesByIDs(ctx context.Context, userIDs []string) (map[string]string, error) {
	if len(userIDs) == 0 {
		return map[string]string{}, nil
	}
	r, err := w.Action(ctx, "get_statuses_by_ids", map[string][]string{"user_ids": userIDs})
	if err != nil {
		return nil, err
	}
	statuses := map[string]string{}
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &statuses); err != nil {
			return nil, fmt.Errorf("mattermost: websocket get_statuses_by_ids: bad reply data: %w", err)
		}
	}
	return statuses, nil
}
