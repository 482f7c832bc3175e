package mmtest

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/matterbot/matterbot/mattermost"
)

// outMsg is one entry of a connection's outbound queue: an event, numbered
// when it is written, or an encoded response.
type outMsg struct {
	ev   *preEvent
	resp []byte
}

// deadEntry is a sent event kept for resume, with the seq it was sent with.
type deadEntry struct {
	ev  *preEvent
	seq int64
}

// wsConn is a logical connection: what a client resumes with its
// connection_id. It carries the outbound queue and the dead queue from one
// socket to the next (WebConnConfig's activeQueue and deadQueue in
// server/channels/app/platform/web_conn.go).
type wsConn struct {
	h    *hub
	send chan outMsg // SendQueueSize; never closed, the hub forgets instead

	// Guarded by h.mu:
	id         string
	userID     string
	token      string // the session's token; never logged
	registered bool   // authenticated and in the hub's index
	removed    bool   // forgotten: no events, no resume
	revoked    bool   // session revoked: no events, actions fail 401
	active     bool   // a socket is attached
	inactiveAt time.Time
	idx        int // position in h.conns
	sock       *wsSocket

	// Owned by the writer of the attached socket; handed to the next one
	// through h.mu, after the old writer has ended.
	seq      int64 // seq of the next event written
	dead     []deadEntry
	deadNext int // slot of the next entry
	deadLen  int
}

func newConn(h *hub, id, userID, token string) *wsConn {
	return &wsConn{
		h:      h,
		send:   make(chan outMsg, h.opts.SendQueueSize),
		id:     id,
		userID: userID,
		token:  token,
		dead:   make([]deadEntry, h.opts.DeadQueueSize),
	}
}

// attach makes s the connection's socket. h.mu must be held.
func (conn *wsConn) attach(s *wsSocket) {
	conn.sock = s
	conn.active = true
	s.conn = conn
}

// helloEvent is createHelloMessage (web_conn.go). h.mu must be held.
func (conn *wsConn) helloEvent() (*preEvent, error) {
	return encodeDirect(wsEvent{
		Event: "hello",
		Data: map[string]any{
			"connection_id":  conn.id,
			"server_version": conn.h.opts.ServerVersion,
		},
		Broadcast: wsBroadcast{UserID: conn.userID},
	})
}

// addDead stores a written event (addToDeadQueue).
func (conn *wsConn) addDead(ev *preEvent, seq int64) {
	conn.dead[conn.deadNext] = deadEntry{ev: ev, seq: seq}
	conn.deadNext = (conn.deadNext + 1) % len(conn.dead)
	if conn.deadLen < len(conn.dead) {
		conn.deadLen++
	}
}

// deadAt returns the i-th stored event, oldest first.
func (conn *wsConn) deadAt(i int) deadEntry {
	n := len(conn.dead)
	return conn.dead[(conn.deadNext-conn.deadLen+i+n)%n]
}

// findDead returns the position, oldest first, of the stored event with
// seq, or -1 (isInDeadQueue).
func (conn *wsConn) findDead(seq int64) int {
	for i := range conn.deadLen {
		if conn.deadAt(i).seq == seq {
			return i
		}
	}
	return -1
}

// hasMsgLoss reports whether next is not the seq right after the newest
// stored event; an empty dead queue means no loss (hasMsgLoss).
func (conn *wsConn) hasMsgLoss(next int64) bool {
	if conn.deadLen == 0 {
		return false
	}
	return conn.deadAt(conn.deadLen-1).seq != next-1
}

func (conn *wsConn) clearDead() {
	clear(conn.dead)
	conn.deadNext, conn.deadLen = 0, 0
}

// wsSocket is one WebSocket. Its reader runs on the ServeHTTP goroutine,
// its writer on a goroutine of its own (one writer per socket), and each
// server ping waits for its pong on a short-lived goroutine; run joins them
// all before it returns.
type wsSocket struct {
	h      *hub
	ws     *websocket.Conn
	conn   *wsConn // set under h.mu before run, never changed
	ctx    context.Context
	cancel context.CancelFunc
	pong   chan struct{} // size 1: a pong arrived since the writer last looked
	done   chan struct{} // closed when run has returned everything
	wg     sync.WaitGroup

	writeDeadline *time.Timer // owned by the writer; its func only cancels
}

func newSocket(h *hub) *wsSocket {
	ctx, cancel := context.WithCancel(context.Background())
	return &wsSocket{
		h:      h,
		ctx:    ctx,
		cancel: cancel,
		pong:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// stop ends the socket without a close frame, as the real server's
// conn.WebSocket.Close does; the client sees an abnormal closure (1006).
// It only cancels, so it is safe under h.mu and from any goroutine.
func (s *wsSocket) stop() { s.cancel() }

// ponged is the OnPongReceived callback: it extends the pong deadline, as
// readPump's pong handler extends the read deadline.
func (s *wsSocket) ponged() {
	select {
	case s.pong <- struct{}{}:
	default:
	}
}

// run serves the socket until it ends, then leaves its connection
// resumable (or forgotten) and closes s.done. resumeSeq is the client's
// sequence_number on a resume, -1 otherwise.
func (s *wsSocket) run(resumeSeq int64) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.writeLoop(resumeSeq)
	}()
	s.readLoop()
	s.stop()
	_ = s.ws.CloseNow()
	s.wg.Wait()

	// Only now, with the writer gone, may another socket resume the
	// connection (Pump: HubUnregister after the pumps have ended).
	h := s.h
	h.mu.Lock()
	delete(h.sockets, s)
	conn := s.conn
	if conn.sock == s {
		conn.sock = nil
		conn.active = false
		conn.inactiveAt = time.Now()
	}
	userID := conn.userID
	offline := conn.registered && !h.closed && h.lastActive(userID)
	h.mu.Unlock()
	if offline && h.opts.OnDisconnect != nil {
		h.opts.OnDisconnect(userID)
	}
	close(s.done)
}

// readLoop reads client requests until the socket fails (readPump).
func (s *wsSocket) readLoop() {
	for {
		typ, b, err := s.ws.Read(s.ctx)
		if err != nil {
			s.h.log.Debug("websocket read ended", "err", err)
			return
		}
		if typ != websocket.MessageText {
			// The real server decodes binary frames as MessagePack; the
			// fake does not speak it and closes, as on a decode error.
			s.h.log.Debug("websocket binary frame not supported, closing")
			return
		}
		req, err := decodeRequest(b)
		if err != nil {
			s.h.log.Debug("websocket request not decoded, closing", "err", err)
			return
		}
		s.h.route(s, req)
	}
}

// writeLoop writes the connection's queue, numbering events, and keeps the
// socket alive (writePump).
func (s *wsSocket) writeLoop(resumeSeq int64) {
	defer func() {
		s.stop()
		_ = s.ws.CloseNow()
	}()
	o := s.h.opts
	conn := s.conn
	var buf []byte
	if resumeSeq >= 0 && !s.resume(resumeSeq, &buf) {
		return
	}

	ping := time.NewTicker(o.PingInterval)
	defer ping.Stop()
	pongDeadline := time.NewTimer(o.PongWait)
	defer pongDeadline.Stop()
	auth := time.NewTimer(o.AuthTimeout)
	defer auth.Stop()
	authC := auth.C

	for {
		select {
		case <-s.ctx.Done():
			return
		case m := <-conn.send:
			frame := m.resp
			if m.ev != nil {
				seq := conn.seq
				conn.seq++
				// Stored before the write, so an event lost with the
				// socket is replayed on resume.
				conn.addDead(m.ev, seq)
				buf = m.ev.appendFrame(buf[:0], seq)
				frame = buf
			}
			if err := s.write(frame); err != nil {
				s.h.log.Debug("websocket write failed", "err", err)
				return
			}
		case <-ping.C:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = s.ws.Ping(s.ctx) // the pong is seen by OnPongReceived
			}()
		case <-s.pong:
			pongDeadline.Reset(o.PongWait)
		case <-pongDeadline.C:
			s.h.log.Debug("websocket pong overdue, closing", "pong_wait", o.PongWait)
			return
		case <-authC:
			s.h.mu.Lock()
			ok := conn.registered
			s.h.mu.Unlock()
			if !ok {
				s.h.log.Debug("websocket not authenticated in time, closing")
				return
			}
			authC = nil
		}
	}
}

// write writes one frame within WriteWait (writeMessageBuf's write
// deadline). The deadline is one timer per socket, reset per frame, rather
// than a context per frame: it is the hot path of every event.
func (s *wsSocket) write(frame []byte) error {
	if s.writeDeadline == nil {
		s.writeDeadline = time.AfterFunc(s.h.opts.WriteWait, s.stop)
	} else {
		s.writeDeadline.Reset(s.h.opts.WriteWait)
	}
	err := s.ws.Write(s.ctx, websocket.MessageText, frame)
	s.writeDeadline.Stop()
	return err
}

// resume replays the dead queue for a client that reconnected asking for
// event seq next, as writePump does before its loop. It reports false if
// the socket failed.
func (s *wsSocket) resume(next int64, buf *[]byte) bool {
	conn := s.conn
	// Sequence starts at the client's number; sequence_number=0 skips every
	// check below and the next event is numbered 0, a quirk of the real
	// server ("if wc.Sequence != 0").
	conn.seq = next
	if next == 0 {
		return true
	}
	if i := conn.findDead(next); i >= 0 {
		for ; i < conn.deadLen; i++ {
			e := conn.deadAt(i)
			*buf = e.ev.appendFrame((*buf)[:0], e.seq)
			if err := s.write(*buf); err != nil {
				return false
			}
			conn.seq++
		}
		return true
	}
	if !conn.hasMsgLoss(next) {
		return true // nothing missed: the queued events follow
	}
	// Events were lost: a new connection id, seq from 0 and a hello.
	conn.clearDead()
	h := s.h
	h.mu.Lock()
	if h.byID[conn.id] == conn {
		delete(h.byID, conn.id)
	}
	conn.id = mattermost.NewID()
	if conn.registered && !conn.removed {
		h.byID[conn.id] = conn
	}
	hello, err := conn.helloEvent()
	h.mu.Unlock()
	if err != nil {
		h.log.Error("websocket hello not encoded", "err", err)
		return false
	}
	conn.seq = 0
	conn.addDead(hello, 0)
	*buf = hello.appendFrame((*buf)[:0], 0)
	if err := s.write(*buf); err != nil {
		return false
	}
	conn.seq = 1
	return true
}
