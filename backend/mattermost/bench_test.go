package mattermost_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// BenchmarkAddedLatency measures the latency the bot adds to a command:
// from the instant the fake server hands the posted event's frame to the
// bot's socket to the instant the reply POST reaches the fake's handler.
// That interval holds only the bot (WebSocket read, decode, dispatch, the
// echo handler, the REST POST) and the loopback socket; it reports
// added-p50-us and added-p99-us. allocs/op counts the whole process, the
// fake server included. `matterbot bench` measures the same interval with
// the bot in a process of its own, beside a no-op client's floor,
// throughput, allocations and RSS of the bot alone.
func BenchmarkAddedLatency(b *testing.B) {
	f := newTimedFake(b)
	ctx, cancel := context.WithCancel(context.Background())
	be, err := mmbackend.New(mmbackend.Options{Server: f.url, Teams: []string{"bench"}, Token: mm.Secret(f.token), RateLimit: -1,
		// The fake answers the bot at once, as a looping bot would.
		LoopLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	connects := make(chan bot.User, 16)
	eng, err := bot.New(be, nil, echo.Plugin{}, &testPlugin{connects: connects})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("engine Run: %v", err)
		}
	}()
	select {
	case <-connects:
	case err := <-done:
		done <- err
		b.Fatalf("engine stopped before connecting: %v", err)
	case <-time.After(waitLimit):
		b.Fatal("bot did not connect")
	}

	var added []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d, err := f.command(i)
		if err != nil {
			b.Fatal(err)
		}
		added = append(added, d)
	}
	slices.Sort(added)
	b.ReportMetric(float64(added[len(added)/2])/float64(time.Microsecond), "added-p50-us")
	b.ReportMetric(float64(added[len(added)*99/100])/float64(time.Microsecond), "added-p99-us")
}

// benchCmdMarker and benchReplyMarker find a command's id in an event
// frame ("!echo bench-<id>") and in the echo reply's POST body.
const (
	benchCmdMarker   = "!echo bench-"
	benchReplyMarker = `"message":"bench-`
)

// timedFake serves an mmtest server on a listener of its own, noting when
// a command's frame is written to a client socket and when its reply POST
// arrives.
type timedFake struct {
	srv   *mmtest.Server
	url   string
	token string // the bot's
	user  *mm.User
	ch    *mm.Channel

	mu sync.Mutex
	// Guarded by mu:
	written map[int]time.Time
	arrived map[int]chan time.Time // size 1
}

func newTimedFake(b *testing.B) *timedFake {
	b.Helper()
	f := &timedFake{srv: mmtest.New(nil), written: map[int]time.Time{}, arrived: map[int]chan time.Time{}}
	b.Cleanup(f.srv.Close)
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	team, err := f.srv.AddTeam("bench", "Bench")
	must(err)
	f.user, err = f.srv.AddUser(mmtest.User{Username: "alice"})
	must(err)
	botUser, err := f.srv.AddBot("benchbot", "Bench Bot", f.user.ID)
	must(err)
	f.ch, err = f.srv.AddChannel(team.ID, "bench", "Bench", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{f.user, botUser} {
		must(f.srv.AddTeamMember(team.ID, u.ID))
		must(f.srv.AddChannelMember(f.ch.ID, u.ID))
	}
	f.token, err = f.srv.CreateToken(botUser.ID, "bench")
	must(err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	f.url = "http://" + ln.Addr().String()
	hs := &http.Server{Handler: http.HandlerFunc(f.serveHTTP)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(timedListener{ln, f}) // ErrServerClosed at Close
	}()
	b.Cleanup(func() {
		_ = hs.Close()
		<-served
	})
	return f
}

// command posts command i as the user and returns the latency the bot
// added to it.
func (f *timedFake) command(i int) (time.Duration, error) {
	arrived := make(chan time.Time, 1)
	f.mu.Lock()
	f.arrived[i] = arrived
	f.mu.Unlock()
	if _, err := f.srv.CreatePost(f.user.ID, mm.Post{ChannelID: f.ch.ID, Message: benchCmdMarker + strconv.Itoa(i)}); err != nil {
		return 0, err
	}
	select {
	case at := <-arrived:
		f.mu.Lock()
		defer f.mu.Unlock()
		w, ok := f.written[i]
		if !ok {
			return 0, errNotWritten
		}
		delete(f.written, i)
		delete(f.arrived, i)
		return at.Sub(w), nil
	case <-time.After(waitLimit):
		return 0, errNoReply
	}
}

type benchError string

func (e benchError) Error() string { return string(e) }

const (
	errNotWritten = benchError("a command's event was never written to the bot's socket")
	errNoReply    = benchError("no reply to a command")
)

// benchID finds marker in p and parses the decimal id after it.
func benchID(p []byte, marker string) (int, bool) {
	i := bytes.Index(p, []byte(marker))
	if i < 0 {
		return 0, false
	}
	p = p[i+len(marker):]
	j := 0
	for j < len(p) && p[j] >= '0' && p[j] <= '9' {
		j++
	}
	id, err := strconv.Atoi(string(p[:j]))
	return id, err == nil
}

// serveHTTP notes when a reply POST reaches the fake, then serves it.
func (f *timedFake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v4/posts" {
		f.srv.ServeHTTP(w, r)
		return
	}
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.srv.ServeHTTP(w, r)
	if id, ok := benchID(body, benchReplyMarker); ok {
		f.mu.Lock()
		c := f.arrived[id]
		f.mu.Unlock()
		if c != nil {
			select {
			case c <- at:
			default: // a second reply: the first one counts
			}
		}
	}
}

// timedListener hands out connections whose command frames are timed.
// The WebSocket upgrade hijacks this very connection.
type timedListener struct {
	net.Listener
	f *timedFake
}

func (l timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return timedConn{c, l.f}, nil
}

type timedConn struct {
	net.Conn
	f *timedFake
}

func (c timedConn) Write(p []byte) (int, error) {
	// Timed before the write: the writing goroutine may be descheduled
	// after the system call for longer than the bot takes to answer.
	at := time.Now()
	if id, ok := benchID(p, benchCmdMarker); ok {
		c.f.mu.Lock()
		if _, seen := c.f.written[id]; !seen {
			c.f.written[id] = at
		}
		c.f.mu.Unlock()
	}
	return c.Conn.Write(p)
}
