package mattermost

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// testLink relays one connection of a pipeNet between the client's pipe
// and the server's, so that a test can break it the ways a network does,
// inside a synctest bubble: black-hole it (the same fault as
// internal/faultproxy's, on pipes), hold back what the server sends (as
// for a pause of the client's process, whose socket buffers meanwhile),
// or slow it down. Towards the client, bytes wait in a queue as in the
// network's buffers: the server's writes do not wait for a slow link, and
// what it writes later (a pong) arrives after what it wrote before.
type testLink struct {
	client net.Conn // the relay's end of the client's pipe
	server net.Conn // the relay's end of the server's pipe
	rate   int      // bytes per second towards the client; 0: no limit
	dark   atomic.Bool

	mu   sync.Mutex
	hold time.Time // nothing reaches the client before this
}

// linkQueue is the capacity, in chunks of at most 32 KiB, of the queue
// towards the client: the network's buffers.
const linkQueue = 1024

// newLink makes a link and returns the client's and the server's ends.
func (n *pipeNet) newLink() (client, server net.Conn) {
	client, relayC := net.Pipe()
	relayS, server := net.Pipe()
	l := &testLink{client: relayC, server: relayS, rate: n.rate}
	n.mu.Lock()
	n.links = append(n.links, l)
	n.mu.Unlock()
	q := make(chan []byte, linkQueue)
	n.pumps.Go(l.up)
	n.pumps.Go(func() { l.fill(q) })
	n.pumps.Go(func() { l.drain(q) })
	return client, server
}

// Blackhole makes the link half-open: from now on nothing gets through
// either way, not even a close, and both ends' writes still succeed.
func (l *testLink) Blackhole() { l.dark.Store(true) }

// Hold keeps back what the server sends until the fake clock reads until.
func (l *testLink) Hold(until time.Time) {
	l.mu.Lock()
	l.hold = until
	l.mu.Unlock()
}

// up relays the client's bytes to the server.
func (l *testLink) up() {
	buf := make([]byte, 32<<10)
	for {
		n, err := l.client.Read(buf)
		if n > 0 && !l.dark.Load() {
			if _, werr := l.server.Write(buf[:n]); werr != nil {
				l.closeUnlessDark()
				return
			}
		}
		if err != nil {
			_ = l.client.Close()
			l.closeUnlessDark()
			return
		}
	}
}

// fill reads the server's bytes into the queue.
func (l *testLink) fill(q chan<- []byte) {
	defer close(q)
	for {
		buf := make([]byte, 32<<10)
		n, err := l.server.Read(buf)
		if n > 0 && !l.dark.Load() {
			q <- buf[:n]
		}
		if err != nil {
			_ = l.server.Close()
			return
		}
	}
}

// drain delivers the queue to the client, at rate, after any hold. Once
// the server's side is done, it closes the client's, unless the link is
// dark.
func (l *testLink) drain(q <-chan []byte) {
	broken := false
	for b := range q {
		for len(b) > 0 && !broken {
			l.mu.Lock()
			hold := l.hold
			l.mu.Unlock()
			if d := time.Until(hold); d > 0 {
				time.Sleep(d)
				continue // the hold may have been extended
			}
			piece := b
			if l.rate > 0 {
				piece = b[:min(len(b), max(l.rate/10, 1))]
				time.Sleep(time.Duration(len(piece)) * time.Second / time.Duration(l.rate))
			}
			b = b[len(piece):]
			if l.dark.Load() {
				continue
			}
			if _, err := l.client.Write(piece); err != nil {
				broken = true // the client is gone; keep taking the queue so fill ends
				l.closeUnlessDark()
			}
		}
	}
	l.closeUnlessDark()
}

func (l *testLink) closeUnlessDark() {
	if l.dark.Load() {
		return // a black hole passes on no close
	}
	_ = l.client.Close() // an error means it is closed already
	_ = l.server.Close()
}
