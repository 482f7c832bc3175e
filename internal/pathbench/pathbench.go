// Package pathbench times the whole path of a bot command against an
// mmtest server: from the instant the server hands the posted event's
// frame to the bot's socket, to the instant the bot's reply POST reaches
// the server's handler. That interval holds the bot's work (WebSocket
// read, decode, dispatch, the echo handler, the REST POST) and the
// loopback socket, and nothing of the server's own.
//
// It serves both whole-path measurements, the benchmark of
// backend/mattermost and `matterbot bench`, so that their figures mean
// the same thing:
//
//	s, err := pathbench.Start(fake) // fake is a seeded *mmtest.Server
//	defer s.Close()
//	// ... connect the bot (echo plugin) to s.URL ...
//	c := s.NewCommand()
//	fake.CreatePost(userID, mattermost.Post{ChannelID: ch, Message: c.Text()})
//	t, err := s.Wait(ctx, c)
//	added := t.Added()
//
// The bot must answer "!echo bench-<id>" with "bench-<id>", as the echo
// plugin does.
package pathbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// The markers that find a command's id: in an event frame (the command's
// text) and in the reply POST's body (the echo plugin's answer).
const (
	CommandMarker = "!echo bench-"
	ReplyMarker   = `"message":"bench-`
)

// DefaultTimeout bounds the wait for one reply: far above any real
// latency, it only turns a lost reply into an error.
const DefaultTimeout = 30 * time.Second

// Server serves an mmtest.Server on a loopback listener of its own and
// observes its two edges: every write to a client connection (the
// WebSocket upgrade hijacks that very connection, so event frames go
// through it) and every POST /api/v4/posts as its handler starts.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string

	fake      *mmtest.Server
	hs        *http.Server
	served    chan error // size 1
	closeOnce sync.Once

	mu sync.Mutex
	// Guarded by mu:
	next int
	cmds map[int]*Command
	errs []error // unexpected replies: unknown ids, duplicates
}

// Command is one timed command. Create it with NewCommand before posting
// its Text.
type Command struct {
	ID   int
	done chan struct{} // closed at the first accepted reply

	// Guarded by the Server's mu:
	written time.Time
	arrived time.Time
	replies int
}

// Timing is what one command took.
type Timing struct {
	Written time.Time // the event's frame handed to the bot's socket
	Arrived time.Time // the reply POST reached the server's handler
}

// Added is the latency the bot added: Arrived - Written.
func (t Timing) Added() time.Duration { return t.Arrived.Sub(t.Written) }

// Start serves fake on 127.0.0.1 (a port of its own) with its edges
// observed. The caller still owns fake; Close stops only the listener.
func Start(fake *mmtest.Server) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pathbench: listen: %w", err)
	}
	s := &Server{
		URL:    "http://" + ln.Addr().String(),
		fake:   fake,
		served: make(chan error, 1),
		cmds:   map[int]*Command{},
	}
	s.hs = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: DefaultTimeout}
	go func() { s.served <- s.hs.Serve(listener{ln, s}) }()
	return s, nil
}

// Close stops the listener and cuts every connection, the bot's socket
// included, and waits for the server goroutine. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		_ = s.hs.Close()
		<-s.served // http.ErrServerClosed
	})
}

// NewCommand registers a command with the next id.
func (s *Server) NewCommand() *Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	c := &Command{ID: s.next, done: make(chan struct{})}
	s.cmds[c.ID] = c
	return c
}

// Text is the message to post: "!echo bench-<id>".
func (c *Command) Text() string { return CommandMarker + strconv.Itoa(c.ID) }

// Wait waits for c's reply and returns its timing; it fails after
// DefaultTimeout, when ctx is done, or when c's event was never seen written
// to a socket.
func (s *Server) Wait(ctx context.Context, c *Command) (Timing, error) {
	t := time.NewTimer(DefaultTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-ctx.Done():
		return Timing{}, ctx.Err()
	case <-t.C:
		return Timing{}, fmt.Errorf("pathbench: no reply to command %d in %v", c.ID, DefaultTimeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.written.IsZero() {
		return Timing{}, fmt.Errorf("pathbench: command %d's event was never written to a socket", c.ID)
	}
	return Timing{Written: c.written, Arrived: c.arrived}, nil
}

// Check reports replies to unknown commands, commands answered more than
// once, and registered commands not answered.
func (s *Server) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := append([]error(nil), s.errs...)
	for id := 1; id <= s.next; id++ {
		if c := s.cmds[id]; c.replies == 0 {
			errs = append(errs, fmt.Errorf("pathbench: command %d not answered", id))
		}
	}
	return errors.Join(errs...)
}

// Percentile returns the p-th percentile (0-100) of sorted durations, 0
// for none.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)*p/100, len(sorted)-1)]
}

// ID finds marker in b and parses the decimal id after it.
func ID(b []byte, marker string) (int, bool) {
	i := bytes.Index(b, []byte(marker))
	if i < 0 {
		return 0, false
	}
	b = b[i+len(marker):]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == 0 {
		return 0, false
	}
	id, err := strconv.Atoi(string(b[:j]))
	if err != nil { // too long
		return 0, false
	}
	return id, true
}

// serveHTTP times the reply POSTs on their way into the fake.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v4/posts" {
		s.fake.ServeHTTP(w, r)
		return
	}
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.fake.ServeHTTP(sw, r)
	id, ok := ID(body, ReplyMarker)
	if !ok || sw.status != http.StatusCreated {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cmds[id]
	switch {
	case c == nil:
		s.errs = append(s.errs, fmt.Errorf("pathbench: reply to unknown command %d", id))
		return
	case c.replies > 0:
		c.replies++
		s.errs = append(s.errs, fmt.Errorf("pathbench: command %d answered %d times", id, c.replies))
		return
	}
	c.replies = 1
	c.arrived = at
	close(c.done)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// listener hands out connections whose writes are timed.
type listener struct {
	net.Listener
	s *Server
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return conn{c, l.s}, nil
}

// conn notes when a frame carrying a command is written; a frame of an
// event this size is one Write.
type conn struct {
	net.Conn
	s *Server
}

func (c conn) Write(p []byte) (int, error) {
	// The instant the frame is handed to the kernel: taken before the
	// write, because the writing goroutine may be descheduled after the
	// system call for longer than the bot takes to answer.
	at := time.Now()
	if id, ok := ID(p, CommandMarker); ok {
		c.s.mu.Lock()
		if cmd := c.s.cmds[id]; cmd != nil && cmd.written.IsZero() {
			cmd.written = at
		}
		c.s.mu.Unlock()
	}
	return c.Conn.Write(p)
}
