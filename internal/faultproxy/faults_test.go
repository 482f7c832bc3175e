package faultproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// lineServer accepts connections and hands each to the test, which plays
// the server's side itself.
type lineServer struct {
	ln    net.Listener
	conns chan net.Conn // size 16: the tests open a few
}

func startLines(t *testing.T) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		close(s.conns)
		for c := range s.conns {
			_ = c.Close()
		}
	})
	return s
}

// next returns the next connection the server accepted.
func (s *lineServer) next(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { _ = c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the server accepted no connection")
		return nil
	}
}

func writeLine(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s+"\n"); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return line[:len(line)-1]
}

// open opens a connection through p whose first line is first, and
// returns the client's end, its reader, and the server's end, once the
// server has read that line.
func open(t *testing.T, p *Proxy, srv *lineServer, first string) (net.Conn, *bufio.Reader, net.Conn) {
	t.Helper()
	c, r := dial(t, p)
	writeLine(t, c, first)
	s := srv.next(t)
	readLine(t, s)
	return c, r, s
}

// TestConnsFirstLine: connections are told apart by their first line.
func TestConnsFirstLine(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	open(t, p, srv, "POST /api/v4/posts HTTP/1.1")
	open(t, p, srv, "GET /api/v4/websocket?connection_id=x HTTP/1.1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.WaitConn(ctx, WebSocket)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != 2 || c.First != "GET /api/v4/websocket?connection_id=x HTTP/1.1" || c.Blackholed {
		t.Errorf("WaitConn(WebSocket) = %+v, want connection 2, not black-holed", c)
	}
	conns := p.Conns()
	if len(conns) != 2 || conns[0].ID != 1 || conns[0].First != "POST /api/v4/posts HTTP/1.1" {
		t.Errorf("Conns() = %+v, want the REST connection first", conns)
	}
}

// TestOrderlyClosePassedOn: a client's close reaches the server as EOF.
func TestOrderlyClosePassedOn(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	c, _ := dial(t, p)
	writeLine(t, c, "hello")
	s := srv.next(t)
	readLine(t, s)
	_ = c.Close()
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("server read after the client's close: %v, want EOF", err)
	}
}

// TestCutIf: a cut resets both ends of the matching connections and
// spares the others.
func TestCutIf(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	rest, _, restS := open(t, p, srv, "POST /api/v4/posts HTTP/1.1")
	ws, _, wsS := open(t, p, srv, "GET /api/v4/websocket HTTP/1.1")
	if n := p.CutIf(WebSocket); n != 1 {
		t.Errorf("CutIf(WebSocket) = %d, want 1", n)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := ws.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read after the cut: %v, want a reset", err)
	}
	_ = wsS.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := wsS.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("server read after the cut: %v, want a reset", err)
	}
	writeLine(t, rest, "still here")
	if got := readLine(t, restS); got != "still here" {
		t.Errorf("the spared connection carried %q", got)
	}
}

// TestBlackholeIf: only the matching connection goes silent.
func TestBlackholeIf(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	rest, _, restS := open(t, p, srv, "POST /api/v4/posts HTTP/1.1")
	ws, wsR, wsS := open(t, p, srv, "GET /api/v4/websocket HTTP/1.1")
	if n := p.BlackholeIf(WebSocket); n != 1 {
		t.Errorf("BlackholeIf(WebSocket) = %d, want 1", n)
	}
	if n := p.BlackholeIf(WebSocket); n != 0 {
		t.Errorf("BlackholeIf(WebSocket) again = %d, want 0", n)
	}
	writeLine(t, wsS, "lost")
	silent(t, ws, wsR)
	writeLine(t, rest, "still here")
	if got := readLine(t, restS); got != "still here" {
		t.Errorf("the spared connection carried %q", got)
	}
	// The client gives up on the dead link; the server is not told.
	_ = ws.Close()
	_ = wsS.SetReadDeadline(time.Now().Add(quiet))
	if _, err := wsS.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("server read after the client left a black-holed link: %v, want a timeout", err)
	}
}

func TestRefuseThenListen(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	open, _ := dial(t, p)
	writeLine(t, open, "before")
	s := srv.next(t)
	p.Refuse()
	p.Refuse() // twice is fine
	if c, err := net.Dial("tcp", p.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			_ = c.Close()
		}
		t.Fatalf("dial while refusing: %v, want connection refused", err)
	}
	// An open connection is not touched.
	if got := readLine(t, s); got != "before" {
		t.Errorf("server read %q", got)
	}
	writeLine(t, open, "during")
	if got := readLine(t, s); got != "during" {
		t.Errorf("open connection carried %q while refusing, want during", got)
	}
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	if err := p.Listen(); err != nil { // listening already: a no-op
		t.Fatal(err)
	}
	c, _ := dial(t, p)
	writeLine(t, c, "after")
	if got := readLine(t, srv.next(t)); got != "after" {
		t.Errorf("a connection after Listen carried %q, want after", got)
	}
}

func TestLatency(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	c, _ := dial(t, p)
	writeLine(t, c, "hello")
	s := srv.next(t)
	readLine(t, s)
	const d = 50 * time.Millisecond
	p.SetLatency(d)
	start := time.Now()
	writeLine(t, c, "ping")
	readLine(t, s)
	writeLine(t, s, "pong")
	readLine(t, c)
	if rtt := time.Since(start); rtt < 2*d {
		t.Errorf("round trip with %v latency each way took %v, want at least %v", d, rtt, 2*d)
	}
}

// TestCloseCutsLatency: Close does not wait out the latency of bytes in
// flight, and refuses to listen again.
func TestCloseCutsLatency(t *testing.T) {
	srv := startLines(t)
	p := startProxy(t, srv.ln.Addr().String())
	c, _ := dial(t, p)
	writeLine(t, c, "hello")
	readLine(t, srv.next(t))
	p.SetLatency(time.Hour)
	writeLine(t, c, "held")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Listen(); err == nil {
		t.Error("Listen after Close succeeded")
	}
}
