// Package faultproxy is a TCP proxy for tests that breaks links the way
// networks do, which an in-process fake server's own knobs cannot. Its
// main fault is the half-open link: [Proxy.Blackhole] makes the
// connections open now stop carrying anything in either direction while
// both ends still believe them open, as when a NAT entry, a load
// balancer or a VPN silently forgets a connection. It also resets
// connections ([Proxy.Cut]), refuses new ones while nothing listens
// ([Proxy.Refuse], [Proxy.Listen]) and delays bytes on the wire
// ([Proxy.SetLatency]).
//
// It is shared test infrastructure, not promised to users: the mattermost
// package's WebSocket tests measure the dead-link detection through it,
// and the fault suite (internal/faultsuite) uses it for its network
// faults. Add the faults you need here rather than writing another proxy.
//
//	p, err := faultproxy.New("127.0.0.1:8065") // the real server's address
//	if err != nil { ... }
//	defer p.Close()
//	// point the client at p.Addr() instead of the server
//	p.Blackhole() // every open link goes silent; new connections work
//	p.Cut()       // every open link is reset
//	p.BlackholeIf(faultproxy.WebSocket) // only the WebSocket goes silent
//	p.Refuse()    // connections refused ...
//	p.Listen()    // ... until it listens again
//
// A connection is told apart by the first line its client sent
// ([Conn].First), so that a fault can hit the WebSocket and spare the REST
// calls.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Conn describes one proxied connection, for the match functions of CutIf
// and BlackholeIf, and for Conns and WaitConn.
type Conn struct {
	// ID numbers the connections in the order they were accepted, from 1.
	ID int
	// First is the first line the client sent, without its line end
	// ("GET /api/v4/websocket HTTP/1.1"); "" until the client has sent
	// one, or if its first bytes held no line end.
	First string
	// Opened is when the proxy accepted the connection.
	Opened time.Time
	// Blackholed reports whether Blackhole has silenced the connection.
	Blackholed bool
}

// All matches every connection.
func All(Conn) bool { return true }

// WebSocket matches the connections that began with a WebSocket upgrade
// request to Mattermost's /api/v4/websocket.
func WebSocket(c Conn) bool {
	return strings.HasPrefix(c.First, "GET ") && strings.Contains(c.First, "/websocket")
}

// dialTimeout bounds the proxy's connection to the target.
const dialTimeout = 5 * time.Second

// Proxy is a TCP proxy listening on 127.0.0.1 in front of one address.
// Its methods are safe for concurrent use. Close it when done.
type Proxy struct {
	target string
	addr   string // fixed by New; Listen binds it again

	wg   sync.WaitGroup // the accept loop and every link's goroutines
	done chan struct{}  // closed by Close: latency waits end

	mu sync.Mutex
	// Guarded by mu:
	ln      net.Listener // nil while refusing
	links   map[*link]struct{}
	nextID  int
	latency time.Duration
	closed  bool
	changed chan struct{} // closed and replaced when a connection opens or ends
}

// New starts a proxy to target (host:port) listening on 127.0.0.1 at a
// port of its own, given by Addr. It does not dial target until a client
// connects; a client whose target cannot be reached is disconnected. The
// caller must Close the proxy.
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), done: make(chan struct{}),
		links: make(map[*link]struct{}), changed: make(chan struct{})}
	p.serve(ln)
	return p, nil
}

// Addr returns the address the proxy listens on, host:port. It stays the
// same across Refuse and Listen.
func (p *Proxy) Addr() string { return p.addr }

// serve starts the accept loop on ln. p.mu must not be held.
func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Refuse or Close
			}
			p.open(c)
		}
	}()
}

// open dials the target for client connection c and starts forwarding.
func (p *Proxy) open(c net.Conn) {
	s, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		_ = c.Close() // the target is down: so is the proxy, to this client
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		resetClose(c)
		resetClose(s)
		return
	}
	p.nextID++
	l := &link{p: p, client: c, server: s, info: Conn{ID: p.nextID, Opened: time.Now()}}
	p.links[l] = struct{}{}
	p.notify()
	p.wg.Add(2)
	p.mu.Unlock()
	go l.pump(c, s, true)
	go l.pump(s, c, false)
}

// notify wakes WaitConn. p.mu must be held.
func (p *Proxy) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Conns returns the open connections, in the order they were accepted.
func (p *Proxy) Conns() []Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns()
}

func (p *Proxy) conns() []Conn {
	out := make([]Conn, 0, len(p.links))
	for l := range p.links {
		out = append(out, l.info)
	}
	for i := 1; i < len(out); i++ { // a handful: insertion sort by id
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// WaitConn waits until an open connection matches and returns it; it
// returns ctx's error if none does before ctx is done. It is woken by
// connections opening and ending and by their first lines, never polls.
func (p *Proxy) WaitConn(ctx context.Context, match func(Conn) bool) (Conn, error) {
	for {
		p.mu.Lock()
		for _, c := range p.conns() {
			if match(c) {
				p.mu.Unlock()
				return c, nil
			}
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Conn{}, fmt.Errorf("faultproxy: wait for a connection: %w", ctx.Err())
		}
	}
}

// Cut resets every connection open now (both sides get a TCP RST): an
// abrupt drop. New connections are relayed normally.
func (p *Proxy) Cut() { p.CutIf(All) }

// CutIf resets the open connections that match, both ends at once, as a
// network failure or a crashed middlebox does: each end gets an error
// (a TCP reset), not an orderly close. It returns how many it cut.
func (p *Proxy) CutIf(match func(Conn) bool) int {
	p.mu.Lock()
	var cut []*link
	for l := range p.links {
		if match(l.info) {
			cut = append(cut, l)
		}
	}
	p.mu.Unlock()
	for _, l := range cut {
		resetClose(l.client)
		resetClose(l.server)
	}
	return len(cut)
}

// Blackhole makes every connection open now a half-open one (see
// BlackholeIf). Connections made afterwards are relayed normally.
func (p *Proxy) Blackhole() { p.BlackholeIf(All) }

// BlackholeIf silences the open connections that match, for good: from now
// on the bytes either end sends are read and thrown away, nothing reaches
// the other end, and neither end is told: no reset, no close, not even
// of one end to the other. Each end learns only by its own timeouts, as
// with a link through a NAT or firewall that forgot it. Connections opened
// later are not affected. It returns how many it silenced.
func (p *Proxy) BlackholeIf(match func(Conn) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for l := range p.links {
		if match(l.info) && !l.info.Blackholed {
			l.info.Blackholed = true
			n++
		}
	}
	if n > 0 {
		p.notify()
	}
	return n
}

// Refuse stops listening: connection attempts are refused (ECONNREFUSED)
// until Listen. Open connections are not touched; Cut them too for a
// server that went down. Refusing twice is a no-op.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close() // ends the accept loop; its error says nothing new
	}
}

// Listen listens again on Addr after Refuse; it is a no-op if the proxy
// listens. It fails if the port was taken meanwhile.
func (p *Proxy) Listen() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("faultproxy: listen after Close")
	}
	if p.ln != nil {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
	}
	p.mu.Lock()
	if p.closed || p.ln != nil { // Close, or another Listen, won the race
		p.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	p.mu.Unlock()
	p.serve(ln)
	return nil
}

// SetLatency delays every chunk of bytes, in both directions and on every
// connection, by d from when the proxy read it; 0 turns it off. Order is
// kept, and bytes read before the call keep the latency they were read
// with.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = max(d, 0)
	p.mu.Unlock()
}

func (p *Proxy) getLatency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latency
}

// Close stops listening, resets every connection and waits for the
// proxy's goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	close(p.done)
	ln := p.ln
	p.ln = nil
	var all []*link
	for l := range p.links {
		all = append(all, l)
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for _, l := range all {
		resetClose(l.client)
		resetClose(l.server)
	}
	p.wg.Wait()
	return nil
}

// link is one proxied connection: the client's and the proxy's own to
// the target, and a pump for each direction.
type link struct {
	p              *Proxy
	client, server net.Conn

	// Guarded by p.mu:
	info  Conn
	ended int // pumps that have returned
}

// chunk is bytes read by a pump, and when they may be written.
type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst until src fails. fromClient marks the client's
// direction, whose first line names the connection. Writes go through a
// second goroutine when latency is on, so that a delay holds back bytes
// without holding back the reading.
func (l *link) pump(src, dst net.Conn, fromClient bool) {
	defer l.p.wg.Done()
	out := make(chan chunk, 64) // a few frames in flight under latency; full, it pushes back on the reader
	written := make(chan struct{})
	go func() { // the writer; ends when out is closed
		defer close(written)
		failed := false
		for c := range out {
			if failed || l.silenced() {
				continue
			}
			if d := time.Until(c.due); d > 0 {
				t := time.NewTimer(d) // the latency asked for: this is the wire
				select {
				case <-t.C:
				case <-l.p.done:
					t.Stop()
				}
			}
			if l.silenced() {
				continue
			}
			if _, err := dst.Write(c.b); err != nil {
				failed = true
			}
		}
	}()
	first := fromClient
	buf := make([]byte, 32<<10)
	var err error
	for {
		var n int
		n, err = src.Read(buf)
		if n > 0 {
			if first {
				first = false
				l.setFirst(buf[:n])
			}
			if !l.silenced() {
				out <- chunk{b: bytes.Clone(buf[:n]), due: time.Now().Add(l.p.getLatency())}
			}
		}
		if err != nil {
			break
		}
	}
	close(out)
	<-written
	l.end(dst, errors.Is(err, io.EOF))
}

// setFirst records the client's first line, if b holds one.
func (l *link) setFirst(b []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return
	}
	l.p.mu.Lock()
	l.info.First = strings.TrimRight(string(b[:i]), "\r")
	l.p.notify()
	l.p.mu.Unlock()
}

func (l *link) silenced() bool {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.info.Blackholed
}

// end is called by a pump whose source has failed: an orderly close (EOF)
// is passed on as a half close, anything else as a reset; a silenced link
// passes on nothing. The link is forgotten, and both ends closed, when
// both pumps have ended.
func (l *link) end(dst net.Conn, eof bool) {
	l.p.mu.Lock()
	l.ended++
	last := l.ended == 2
	silent := l.info.Blackholed
	if last {
		delete(l.p.links, l)
		l.p.notify()
	}
	l.p.mu.Unlock()
	switch {
	case last:
		_ = l.client.Close()
		_ = l.server.Close()
	case silent:
	case eof:
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return
		}
		_ = dst.Close()
	default:
		resetClose(dst)
	}
}

// resetClose closes c with a TCP reset rather than an orderly close.
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
