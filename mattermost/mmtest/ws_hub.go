package mmtest

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/matterbot/matterbot/mattermost"
)

// hubOptions configures a hub. The zero value of every field is valid and
// documented on the field.
type hubOptions struct {
	// Authenticate resolves a session token to its user. nil rejects every
	// token, so every socket stays unauthenticated.
	Authenticate func(token string) (userID string, ok bool)
	// IsChannelMember decides delivery of events with a broadcast
	// channel_id. nil means nobody is a member.
	IsChannelMember func(channelID, userID string) bool
	// IsTeamMember decides delivery of events with a broadcast team_id. nil
	// means nobody is a member.
	IsTeamMember func(teamID, userID string) bool
	// OnTyping handles the user_typing action after the hub has checked that
	// channel_id is a well-formed id: it checks permission and publishes the
	// typing event. A *wsAppError return is sent as the reply's error; any
	// other error is sent as 400 invalid_param channel_id, the error the
	// real handler gives for a channel the user may not post in
	// (server/channels/wsapi/user.go). nil: the hub checks IsChannelMember
	// and publishes the typing event itself.
	OnTyping func(userID, channelID, parentID string) error
	// GetStatuses returns the status of each user in ids, or of every known
	// user when ids is nil (the get_statuses action). Users missing from the
	// result are reported "offline", as GetStatusesByIds does for users with
	// no status row. nil: everyone is offline.
	GetStatuses func(ids []string) map[string]string
	// OnConnect is called when a socket of userID has authenticated (at
	// upgrade, by challenge, or on resume), after its hello is queued: the
	// real server sets the user online then (NewWebConn, SetStatusOnline),
	// which publishes status_change when the status changes. nil: nothing.
	OnConnect func(userID string)
	// OnDisconnect is called when the last live socket of userID has ended
	// (Hub.Start, unregister case, QueueSetStatusOffline), before DropAll
	// and the like return. Not called by Close. nil: nothing.
	OnDisconnect func(userID string)
	// ServerVersion is hello's server_version, in X-Version-Id form
	// (<version>.<build>.<config hash>.<licensed>). The ping reply's
	// version is its <version> part. Default: the recorded 5.36.1 server's.
	ServerVersion string
	// Logger receives debug logs of socket life-cycle. nil discards.
	Logger *slog.Logger
	// KeepOnBadResume keeps a connection resumable after a resume
	// refused for its sequence number, as the 5.36 hub did. false: the
	// connection is lost, as today's hub takes it out of its index when
	// the resume is checked (web_hub.go, checkConn case,
	// RemoveInactiveByConnectionID).
	KeepOnBadResume bool

	// AuthTimeout closes a socket that has not authenticated
	// (authCheckInterval). Default 5s.
	AuthTimeout time.Duration
	// PingInterval is the period of server ping frames. Default 60s.
	PingInterval time.Duration
	// PongWait drops a socket that has sent no pong for this long since it
	// connected or last ponged (pongWaitTime). Default 100s.
	PongWait time.Duration
	// WriteWait is the deadline of one frame write (writeWaitTime).
	// Default 30s.
	WriteWait time.Duration
	// ReapAfter is how long a disconnected connection stays resumable.
	// Default 5m (the real hub's reaper interval and stale threshold).
	ReapAfter time.Duration
	// DeadQueueSize is the number of sent events kept per connection for
	// resume. Default 128.
	DeadQueueSize int
	// SendQueueSize is the per-connection outbound queue; overflowing it
	// closes the socket and forgets the connection. Default 256.
	SendQueueSize int
}

// defaultServerVersion is X-Version-Id of the server the recordings come
// from (recorded/ws_hello_header_auth.json).
const defaultServerVersion = "5.36.1..482d74aa791d53ed59a63fb53a266ea0.false"

// maxFrameSize is model.SocketMaxMessageSizeKb: 8192 bytes despite its name.
const maxFrameSize = 8192

func (o hubOptions) withDefaults() hubOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.AuthTimeout, 5*time.Second)
	def(&o.PingInterval, 60*time.Second)
	def(&o.PongWait, 100*time.Second)
	def(&o.WriteWait, 30*time.Second)
	def(&o.ReapAfter, 5*time.Minute)
	if o.DeadQueueSize <= 0 {
		o.DeadQueueSize = 128
	}
	if o.SendQueueSize <= 0 {
		o.SendQueueSize = 256
	}
	if o.ServerVersion == "" {
		o.ServerVersion = defaultServerVersion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Authenticate == nil {
		o.Authenticate = func(string) (string, bool) { return "", false }
	}
	return o
}

// hub is the fake server's WebSocket side: it upgrades GET
// /api/v4/websocket, authenticates sockets, routes client actions, and
// delivers published events with per-connection sequence numbers, a dead
// queue for resume and the real server's queue limits. It follows
// server/channels/api4/websocket.go and server/channels/app/platform
// (web_conn.go, web_hub.go, websocket_router.go).
//
// A connection (wsConn) is the logical stream of events a client can resume;
// a socket (wsSocket) is one WebSocket attached to it. A connection outlives
// its socket by ReapAfter, queueing events, so that a reconnect with its
// connection_id and sequence_number resumes it.
type hub struct {
	opts    hubOptions
	log     *slog.Logger
	version string // the ping reply's version

	wg sync.WaitGroup // one per running ServeHTTP; Close waits for them

	mu sync.Mutex
	// Guarded by mu:
	closed      bool
	refuseUntil time.Time
	conns       []*wsConn                       // registered connections; wsConn.idx is the position
	byID        map[string]*wsConn              // registered connections by connection id
	sockets     map[*wsSocket]struct{}          // every live socket, authenticated or not
	byUser      map[string]map[*wsConn]struct{} // registered connections by user
}

// newHub returns a hub ready to serve. Close it to end every socket.
func newHub(opts hubOptions) *hub {
	opts = opts.withDefaults()
	return &hub{
		opts:    opts,
		log:     opts.Logger,
		version: pingVersion(opts.ServerVersion),
		byID:    make(map[string]*wsConn),
		sockets: make(map[*wsSocket]struct{}),
		byUser:  make(map[string]map[*wsConn]struct{}),
	}
}

// pingVersion returns model.CurrentVersion from an X-Version-Id string: all
// but its last three dot-separated fields (build, config hash, licensed).
func pingVersion(serverVersion string) string {
	f := strings.Split(serverVersion, ".")
	if len(f) < 4 {
		return serverVersion
	}
	return strings.Join(f[:len(f)-3], ".")
}

// tokenFromRequest finds the session token as ParseAuthTokenFromRequest
// (server/channels/app/authentication.go) does, in its order: cookie
// MMAUTHTOKEN, then "Authorization: Bearer", then "Authorization: Token".
// A token in the query string is not accepted here.
func tokenFromRequest(r *http.Request) string {
	if c, err := r.Cookie("MMAUTHTOKEN"); err == nil {
		return c.Value
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 6 && strings.EqualFold(auth[:6], "bearer") {
		return auth[7:]
	}
	if len(auth) > 5 && strings.EqualFold(auth[:5], "token") {
		return auth[6:]
	}
	return ""
}

// ServeHTTP handles GET /api/v4/websocket (connectWebSocket in
// server/channels/api4/websocket.go). The upgrade succeeds whether or not
// the request carries a valid token; without one the socket is
// unauthenticated until an authentication_challenge. It returns when the
// socket has ended.
func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closed || time.Now().Before(h.refuseUntil) {
		h.mu.Unlock()
		// The fault knob RefuseNew: the server is "down", as a proxy in
		// front of a restarting server answers.
		http.Error(w, "websocket upgrades refused", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	userID := ""
	token := tokenFromRequest(r)
	if token != "" {
		if id, ok := h.opts.Authenticate(token); ok {
			userID = id
		} else {
			token = "" // a bad token at upgrade is ignored, not an error
		}
	}

	s := newSocket(h)
	defer s.stop() // releases the context on the early returns; run has stopped it otherwise
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPongReceived: func(context.Context, []byte) { s.ponged() },
	})
	if err != nil {
		h.log.Debug("websocket upgrade failed", "err", err)
		return
	}
	c.SetReadLimit(maxFrameSize)
	s.ws = c

	q := r.URL.Query()
	cid := q.Get("connection_id")
	resumeSeq := int64(-1)

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = c.CloseNow()
		return
	}
	var conn *wsConn
	switch {
	case userID == "":
		conn = newConn(h, mattermost.NewID(), "", "")
	case cid == "":
		conn = newConn(h, mattermost.NewID(), userID, token)
		h.register(conn)
	case !mattermost.IsValidID(cid):
		// PopulateWebConnConfig fails; connectWebSocket closes the socket
		// right after the upgrade.
		h.mu.Unlock()
		h.log.Debug("websocket resume with invalid connection id")
		_ = c.CloseNow()
		return
	default:
		conn = h.inactive(userID, cid)
		if conn == nil {
			// Never existed, reaped, restarted or still active: a fresh
			// connection with a new id (PopulateWebConnConfig).
			conn = newConn(h, mattermost.NewID(), userID, token)
			h.register(conn)
			break
		}
		// Today's CheckConn has already taken the connection out of the
		// index, so a bad sequence number loses it for good; 5.36's only
		// looked it up (KeepOnBadResume).
		n, err := strconv.Atoi(q.Get("sequence_number"))
		if err != nil || n < 0 {
			if !h.opts.KeepOnBadResume {
				h.forget(conn)
			}
			h.mu.Unlock()
			h.log.Debug("websocket resume with invalid sequence number", "conn_id", cid)
			_ = c.CloseNow()
			return
		}
		resumeSeq = int64(n)
		h.log.Debug("websocket resuming", "conn_id", cid, "user_id", userID, "sequence_number", n)
		conn.token = token
		conn.revoked = false
	}
	conn.attach(s)
	h.sockets[s] = struct{}{}
	h.mu.Unlock()

	if userID != "" && h.opts.OnConnect != nil {
		h.opts.OnConnect(userID)
	}
	s.run(resumeSeq)
}

// register adds a fresh authenticated connection to the index and queues
// its hello, which the writer numbers seq 0 (Hub.Start, register case, with
// reuseCount 0). h.mu must be held.
func (h *hub) register(conn *wsConn) {
	conn.registered = true
	conn.idx = len(h.conns)
	h.conns = append(h.conns, conn)
	h.byID[conn.id] = conn
	h.indexUser(conn)
	hello, err := conn.helloEvent()
	if err != nil {
		h.log.Error("websocket hello not encoded", "err", err)
		return
	}
	h.enqueue(conn, hello) // first in the queue: nothing is queued before registration
	h.log.Debug("websocket connected", "conn_id", conn.id, "user_id", conn.userID)
}

func (h *hub) indexUser(conn *wsConn) {
	m := h.byUser[conn.userID]
	if m == nil {
		m = make(map[*wsConn]struct{})
		h.byUser[conn.userID] = m
	}
	m[conn] = struct{}{}
}

// forget removes conn from the index for good: it gets no more events and
// cannot be resumed. Its socket, if any, is closed. h.mu must be held.
func (h *hub) forget(conn *wsConn) {
	if !conn.registered || conn.removed {
		return
	}
	conn.removed = true
	last := len(h.conns) - 1
	h.conns[conn.idx] = h.conns[last]
	h.conns[conn.idx].idx = conn.idx
	h.conns[last] = nil
	h.conns = h.conns[:last]
	if h.byID[conn.id] == conn {
		delete(h.byID, conn.id)
	}
	if m := h.byUser[conn.userID]; m != nil {
		delete(m, conn)
		if len(m) == 0 {
			delete(h.byUser, conn.userID)
		}
	}
	if conn.sock != nil {
		conn.sock.stop()
	}
}

// inactive returns userID's disconnected connection id, if it is still
// resumable, and marks it taken. h.mu must be held.
func (h *hub) inactive(userID, id string) *wsConn {
	conn := h.byID[id]
	if conn == nil || conn.userID != userID || conn.active {
		return nil
	}
	if h.expired(conn, time.Now()) {
		h.forget(conn)
		return nil
	}
	return conn
}

// expired reports whether conn has been disconnected longer than ReapAfter
// (the real hub's reaper, RemoveInactiveConnections). h.mu must be held.
func (h *hub) expired(conn *wsConn, now time.Time) bool {
	return !conn.active && now.Sub(conn.inactiveAt) > h.opts.ReapAfter
}

// Publish delivers ev to every connection ShouldSendEvent selects, live or
// disconnected-but-resumable, and returns once the event is queued on each.
// The event is encoded once. IsChannelMember and IsTeamMember are called on
// the caller's goroutine without the hub's lock held.
func (h *hub) Publish(ev wsEvent) {
	pe, err := encodeEvent(ev)
	if err != nil {
		h.log.Error("websocket event not published", "event", ev.Event, "err", err)
		return
	}
	b := &ev.Broadcast
	needMember := b.ConnectionID == "" && b.UserID == "" && (b.ChannelID != "" || b.TeamID != "")

	h.mu.Lock()
	if !needMember {
		now := time.Now()
		if b.ConnectionID != "" {
			if conn := h.byID[b.ConnectionID]; conn != nil && h.selects(conn, b, now) {
				h.enqueue(conn, pe)
			}
		} else if b.UserID != "" {
			for conn := range h.byUser[b.UserID] {
				if h.selects(conn, b, now) {
					h.enqueue(conn, pe)
				}
			}
		} else {
			for i := 0; i < len(h.conns); i++ {
				conn := h.conns[i]
				if h.selects(conn, b, now) {
					h.enqueue(conn, pe)
				}
				if conn.removed {
					i-- // forgotten: the last connection took its place
				}
			}
		}
		h.mu.Unlock()
		return
	}
	// Channel and team membership live in the fake's state, which has its
	// own lock: ask without holding ours, once per user.
	now := time.Now()
	var cands []*wsConn
	for i := 0; i < len(h.conns); i++ {
		conn := h.conns[i]
		if h.selects(conn, b, now) {
			cands = append(cands, conn)
		}
		if conn.removed {
			i--
		}
	}
	h.mu.Unlock()
	member := make(map[string]bool)
	for _, conn := range cands {
		if _, ok := member[conn.userID]; !ok {
			member[conn.userID] = h.isMember(b, conn.userID)
		}
	}
	h.mu.Lock()
	for _, conn := range cands {
		if member[conn.userID] && !conn.removed && !conn.revoked {
			h.enqueue(conn, pe)
		}
	}
	h.mu.Unlock()
}

// selects applies the rules of ShouldSendEvent that need no outside state:
// authenticated, connection_id, omit_connection_id, user_id, omit_users. It
// forgets connections past ReapAfter on the way. h.mu must be held.
func (h *hub) selects(conn *wsConn, b *wsBroadcast, now time.Time) bool {
	if conn.removed || conn.revoked {
		return false
	}
	if h.expired(conn, now) {
		h.forget(conn)
		return false
	}
	if b.ConnectionID != "" {
		return conn.id == b.ConnectionID
	}
	if b.OmitConnectionID != "" && conn.id == b.OmitConnectionID {
		return false
	}
	if b.UserID != "" {
		return conn.userID == b.UserID
	}
	if b.OmitUsers[conn.userID] {
		return false
	}
	return true
}

// isMember applies the channel and team rules of ShouldSendEvent.
func (h *hub) isMember(b *wsBroadcast, userID string) bool {
	if b.ChannelID != "" {
		return h.opts.IsChannelMember != nil && h.opts.IsChannelMember(b.ChannelID, userID)
	}
	return h.opts.IsTeamMember != nil && h.opts.IsTeamMember(b.TeamID, userID)
}

// slowDropEvents are dropped for a connection whose queue is half full
// (ShouldSendEvent, sendSlowWarn).
func slowDrop(name string) bool {
	return name == "typing" || name == "status_change" || name == "multiple_channels_viewed"
}

// enqueue puts an event on conn's queue. A full queue closes the socket and
// forgets the connection, so it cannot be resumed (Hub.Start, broadcast
// case, closeAndRemoveConn). h.mu must be held.
func (h *hub) enqueue(conn *wsConn, pe *preEvent) {
	if len(conn.send) >= cap(conn.send)/2 && slowDrop(pe.name) {
		return
	}
	select {
	case conn.send <- outMsg{ev: pe}:
	default:
		h.log.Debug("websocket send queue full, closing", "conn_id", conn.id, "user_id", conn.userID)
		h.forget(conn)
	}
}

// reply queues a response for conn. Responses to a connection the hub has
// not registered (an unauthenticated socket) are dropped, as
// Hub.SendMessage drops them (web_hub.go, directMsg case).
func (h *hub) reply(conn *wsConn, r wsResponse) {
	b, err := encodeResponse(r)
	if err != nil {
		h.log.Error("websocket response not sent", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !conn.registered || conn.removed {
		return
	}
	select {
	case conn.send <- outMsg{resp: b}:
	default:
		h.log.Debug("websocket send queue full, closing", "conn_id", conn.id, "user_id", conn.userID)
		h.forget(conn)
	}
}

// lastActive reports whether userID has no live socket left. h.mu must be
// held.
func (h *hub) lastActive(userID string) bool {
	for conn := range h.byUser[userID] {
		if conn.active {
			return false
		}
	}
	return true
}

// DropAll closes every socket, as a network failure would, and returns when
// they have ended. Authenticated connections stay resumable for ReapAfter.
// DropAll, DropUser and Restart wait for sockets, so they must not be called
// from a hub callback (OnTyping and the like), which runs on a socket.
func (h *hub) DropAll() {
	h.drop(func(*wsSocket) bool { return true }, false)
}

// DropUser closes every socket of userID and returns when they have ended;
// the connections stay resumable for ReapAfter.
func (h *hub) DropUser(userID string) {
	h.drop(func(s *wsSocket) bool { return s.conn.userID == userID && userID != "" }, false)
}

// Restart simulates a server restart: every socket is closed and every
// connection with its dead queue is forgotten, so a resume gets a fresh
// hello with a new connection id. It returns when the sockets have ended.
func (h *hub) Restart() {
	h.drop(func(*wsSocket) bool { return true }, true)
}

func (h *hub) drop(match func(*wsSocket) bool, forgetAll bool) {
	h.mu.Lock()
	if forgetAll {
		for _, conn := range append([]*wsConn(nil), h.conns...) {
			h.forget(conn)
		}
	}
	var ended []*wsSocket
	for s := range h.sockets {
		if match(s) {
			s.stop()
			ended = append(ended, s)
		}
	}
	h.mu.Unlock()
	for _, s := range ended {
		<-s.done
	}
}

// RefuseNew makes upgrades fail with 503 for d, as while a server is down.
// Open sockets are not touched.
func (h *hub) RefuseNew(d time.Duration) {
	h.mu.Lock()
	h.refuseUntil = time.Now().Add(d)
	h.mu.Unlock()
}

// SessionRevoked stops event delivery to every connection authenticated
// with token; their actions then fail with 401 not_authenticated. The
// sockets stay open, as on the real server, whose WebConn.IsAuthenticated
// turns false once the revoked session leaves its cache.
func (h *hub) SessionRevoked(token string) {
	if token == "" {
		return
	}
	h.mu.Lock()
	for _, conn := range h.conns {
		if conn.token == token {
			conn.revoked = true
		}
	}
	h.mu.Unlock()
}

// Close ends every socket, forgets every connection and waits for every
// goroutine the hub started and every ServeHTTP call. New upgrades fail
// with 503. Close is idempotent.
func (h *hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for _, conn := range append([]*wsConn(nil), h.conns...) {
			h.forget(conn)
		}
		for s := range h.sockets {
			s.stop()
		}
	}
	h.mu.Unlock()
	h.wg.Wait()
}
