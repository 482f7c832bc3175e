// Package faultproxy is a TCP proxy for tests that breaks links the way
// networks do, which an in-process fake server's own knobs cannot. Its
// main fault is the half-open link: [Proxy.Blackhole] makes the
// connections open now stop carrying anything in either direction while
// both ends still believe them open, as when a NAT entry, a load
// balancer or a VPN silently forgets a connection.
//
// It is shared test infrastructure, not promised to users: the mattermost
// package's WebSocket tests measure the dead-link detection through it,
// and the fault suite uses it for its half-open link. Add the faults you
// need here rather than writing another proxy.
//
//	p, err := faultproxy.New("127.0.0.1:8065") // the real server's address
//	if err != nil { ... }
//	defer p.Close()
//	// point the client at p.Addr() instead of the server
//	p.Blackhole() // every open link goes silent; new connections work
//	p.Cut()       // every open link is reset
package faultproxy

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds the proxy's connection to the target.
const dialTimeout = 5 * time.Second

// Proxy accepts connections on a loopback port and relays each to the
// target over a connection of its own. Its methods are safe for concurrent
// use. Close it to stop it and join its goroutines.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup // the accept loop and every link's relays

	mu     sync.Mutex
	links  map[*link]struct{} // the links open now
	closed bool
}

// New starts a proxy to target (host:port) listening on 127.0.0.1 at a
// port of its own, given by Addr. It does not dial target until a client
// connects; a client whose target cannot be reached is disconnected.
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, links: map[*link]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr is the address (127.0.0.1:port) clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole makes every link open now a half-open one: the proxy keeps
// both connections open and keeps reading from them, so that writes on
// either side succeed as they do into a dead network path, but drops all
// it reads and passes on neither data nor a close. The links stay so until
// Cut or Close. Connections made afterwards are relayed normally.
func (p *Proxy) Blackhole() {
	for _, l := range p.open() {
		l.dark.Store(true)
	}
}

// Cut resets every link open now (both sides get a TCP RST): an abrupt
// drop. New connections are relayed normally.
func (p *Proxy) Cut() {
	for _, l := range p.open() {
		l.reset()
	}
}

// Close stops accepting, closes every link and waits for the proxy's
// goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		_ = p.ln.Close() // ends the accept loop
		for _, l := range p.open() {
			l.close()
		}
	}
	p.wg.Wait()
	return nil
}

func (p *Proxy) open() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]*link, 0, len(p.links))
	for l := range p.links {
		all = append(all, l)
	}
	return all
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.relay(c) })
	}
}

// relay serves one client connection until both of its relays stop.
func (p *Proxy) relay(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		_ = client.Close() // the target is down: so is the proxy, to this client
		return
	}
	l := &link{client: client, server: server}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close()
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { l.pump(server, client) })
	wg.Go(func() { l.pump(client, server) })
	wg.Wait()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// link is one relayed connection: the client's and the proxy's own to the
// target.
type link struct {
	client, server net.Conn
	dark           atomic.Bool // black-holed: drop everything, pass no close
}

// pump copies src to dst until src fails. A failure closes both sides,
// which stops the other pump, unless the link is dark: a black hole passes
// on no close, so only src is closed and dst stays open.
func (l *link) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.dark.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil && !l.dark.Load() {
				l.close()
				return
			}
		}
		if err != nil {
			if l.dark.Load() {
				_ = src.Close() // a closed connection has nothing more to say
				return
			}
			l.close()
			return
		}
	}
}

func (l *link) close() {
	_ = l.client.Close() // an error means it is closed already
	_ = l.server.Close()
}

// reset closes both sides with a TCP RST rather than a FIN.
func (l *link) reset() {
	for _, c := range []net.Conn{l.client, l.server} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // makes Close send RST
		}
		_ = c.Close()
	}
}
