package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quiet is how long a read waits to show that nothing comes. Absence can
// only be shown by waiting; it is short, and only the black-hole tests
// pay it.
const quiet = 100 * time.Millisecond

// echoServer echoes lines back on 127.0.0.1 and records its connections,
// so that a test can close them from the server side.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c) // ends when either side closes
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		s.closeAll()
		s.wg.Wait()
	})
	return s
}

func (s *echoServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
}

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, bufio.NewReader(c)
}

// roundTrip sends a line and checks that it comes back.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("write %q: %v", line, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := r.ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("echo of %q = %q, %v; want it back", line, got, err)
	}
}

// silent checks that nothing, not even a close, comes within quiet.
func silent(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(quiet))
	got, err := r.ReadString('\n')
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a black-holed link = %q, %v; want nothing until the deadline", got, err)
	}
}

func TestRelay(t *testing.T) {
	p := startProxy(t, startEcho(t).ln.Addr().String())
	c, r := dial(t, p)
	roundTrip(t, c, r, "one")
	roundTrip(t, c, r, "two")
	c2, r2 := dial(t, p)
	roundTrip(t, c2, r2, "three")
}

func TestBlackhole(t *testing.T) {
	echo := startEcho(t)
	p := startProxy(t, echo.ln.Addr().String())
	c, r := dial(t, p)
	roundTrip(t, c, r, "before")

	p.Blackhole()
	if _, err := io.WriteString(c, "into the void\n"); err != nil {
		t.Fatalf("write on a black-holed link: %v, want it to succeed", err)
	}
	silent(t, c, r)

	// The server's close does not get through either.
	echo.closeAll()
	silent(t, c, r)

	// A new connection is relayed.
	c2, r2 := dial(t, p)
	roundTrip(t, c2, r2, "after")
}

func TestCut(t *testing.T) {
	p := startProxy(t, startEcho(t).ln.Addr().String())
	c, r := dial(t, p)
	roundTrip(t, c, r, "before")
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Cut = %q, %v; want the connection closed", got, err)
	}
	c2, r2 := dial(t, p)
	roundTrip(t, c2, r2, "after")
}

func TestClose(t *testing.T) {
	p := startProxy(t, startEcho(t).ln.Addr().String())
	c, r := dial(t, p)
	roundTrip(t, c, r, "before")
	p.Blackhole() // a dark link is closed too
	if err := p.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after Close = %v, want the connection closed", err)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		_ = c.Close()
		t.Errorf("dial after Close succeeded, want it refused")
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	_ = ln.Close() // nobody listens there now
	p := startProxy(t, target)
	c, r := dial(t, p)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read through a proxy to nothing = %v, want the connection closed", err)
	}
}

func TestNewBadTarget(t *testing.T) {
	if p, err := New("no-port"); err == nil {
		_ = p.Close()
		t.Fatal(`New("no-port") = nil error, want one`)
	}
}
