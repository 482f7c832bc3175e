package matterbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matterbot/matterbot/internal/pathbench"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// The scale bench (matterbot bench --scale) measures what grows with the
// world the bot lives in: for each world of C channels (the bot in every
// one) and U users, against an in-process mmtest server, the bot in a
// child process with the default configuration and a store as run gives
// it:
//
//   - start to connected, and RSS once connected;
//   - REST calls per command, from a known sender and from new ones;
//   - RSS after every user of the world has sent one command (U distinct
//     senders);
//   - catch-up: REST calls and time to answer 100 and 2,000 commands
//     posted while the bot's socket was down and could not resume, from
//     the new connection to the last reply; the gap comes after --quiet
//     (3 s) without posts, and one command.
//
// Every command is checked answered exactly once.

// scaleWorld is one world of the scale bench.
type scaleWorld struct{ channels, users int }

// parseWorlds parses "CxU,CxU,...".
func parseWorlds(s string) ([]scaleWorld, error) {
	var ws []scaleWorld
	for f := range strings.SplitSeq(s, ",") {
		c, u, ok := strings.Cut(strings.TrimSpace(f), "x")
		nc, err1 := strconv.Atoi(c)
		nu, err2 := strconv.Atoi(u)
		if !ok || err1 != nil || err2 != nil || nc < 1 || nu < 1 {
			return nil, fmt.Errorf("bench: --worlds: bad world %q: want CHANNELSxUSERS, both at least 1", f)
		}
		ws = append(ws, scaleWorld{nc, nu})
	}
	return ws, nil
}

// scaleResult is what one world measured.
type scaleResult struct {
	world       scaleWorld
	seed        time.Duration // building the world in the fake
	connect     time.Duration // the bot's start to its first hello handled
	connectRSS  memSample
	knownCalls  float64 // REST calls per command from a known sender
	newCalls    float64 // REST calls per command from a new sender
	senders     int
	loadRSS     memSample
	catchUps    []catchUpResult
	loadElapsed time.Duration
}

type catchUpResult struct {
	missed   int
	channels int
	calls    int64 // every REST call from the new connection to the last reply
	replies  int64 // of which the replies (POST /posts)
	// postsRead is how many posts the reads returned: the commands,
	// their replies, and whatever else a catch-up reads again.
	postsRead int64
	elapsed   time.Duration
	routes    map[string]int64
}

// runScale runs the scale bench over c.Worlds.
func (c *benchCmd) runScale(e *env) error {
	worlds, err := parseWorlds(c.Worlds)
	if err != nil {
		return err
	}
	missed := []int{100, 2000}
	w := e.stdout
	where := "bot in a child process"
	if c.InProcess {
		where = "bot in-process: memory includes the fake server and the load"
	}
	fmt.Fprintf(w, "matterbot bench --scale (%s, default configuration, a store as run gives it; GOMAXPROCS %d, %d CPUs)\n",
		where, runtime.GOMAXPROCS(0), runtime.NumCPU())
	var results []scaleResult
	for _, wd := range worlds {
		r, err := c.scaleOne(e, wd, missed)
		if err != nil {
			return fmt.Errorf("bench: world of %d channels and %d users: %w", wd.channels, wd.users, err)
		}
		results = append(results, r)
		if c.Verbose {
			printScaleDetails(w, r)
		}
	}
	printScaleTable(w, results)
	return nil
}

func printScaleDetails(w io.Writer, r scaleResult) {
	fmt.Fprintf(w, "world %d channels × %d users: seeded in %s; %d distinct senders in %s\n", r.world.channels, r.world.users,
		r.seed.Round(time.Millisecond), r.senders, r.loadElapsed.Round(time.Millisecond))
	for _, cu := range r.catchUps {
		fmt.Fprintf(w, "  catch-up of %d commands in %d channels: %d calls, %d posts read, in %s\n", cu.missed, cu.channels, cu.calls,
			cu.postsRead, cu.elapsed.Round(time.Millisecond))
		routes := make([]string, 0, len(cu.routes))
		for k := range cu.routes {
			routes = append(routes, k)
		}
		slices.Sort(routes)
		for _, k := range routes {
			fmt.Fprintf(w, "    %6d %s\n", cu.routes[k], k)
		}
	}
}

// printScaleTable prints the results as a Markdown table.
func printScaleTable(w io.Writer, rs []scaleResult) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| channels | users | start → connected | RSS connected | REST/cmd known sender | REST/cmd new sender | RSS after N distinct senders | catch-up 100 missed: calls, time | catch-up 2,000 missed: calls, time |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		cu := func(n int) string {
			for _, c := range r.catchUps {
				if c.missed == n {
					return fmt.Sprintf("%d (+%d replies), %d posts read, %s", c.calls-c.replies, c.replies, c.postsRead, fmtDur(c.elapsed))
				}
			}
			return "n/a"
		}
		fmt.Fprintf(w, "| %d | %d | %s | %s | %.2f | %.2f | %s (N=%d; heap %s) | %s | %s |\n",
			r.world.channels, r.world.users, fmtDur(r.connect), mib(r.connectRSS.RSS), r.knownCalls, r.newCalls,
			mib(r.loadRSS.RSS), r.senders, mib(r.loadRSS.HeapInuse), cu(100), cu(2000))
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// scaleOne measures one world.
func (c *benchCmd) scaleOne(e *env, wd scaleWorld, missed []int) (scaleResult, error) {
	r := scaleResult{world: wd}
	start := time.Now()
	f, err := startScaleFake(wd)
	if err != nil {
		return r, err
	}
	defer f.close()
	r.seed = time.Since(start)
	dir, err := os.MkdirTemp("", "matterbot-bench-*")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	store := filepath.Join(dir, "matterbot.db")
	var b botUnderTest
	if c.InProcess {
		b, err = startBotInProcess(e.ctx, f.url, f.token, store, e.plugins)
	} else {
		b, err = startBotChild(e.ctx, f.url, f.token, c.Profile, store, e.stderr)
	}
	if err != nil {
		return r, fmt.Errorf("start bot: %w", err)
	}
	defer b.stop()
	if r.connectRSS, err = b.mem(); err != nil {
		return r, err
	}
	r.connect = r.connectRSS.Connect

	// A known sender: one warm-up command, then 100 one at a time.
	known := f.users[0]
	if _, err := f.run(e.ctx, []scaleCmd{{known, f.channels[0]}}, 1); err != nil {
		return r, err
	}
	var cmds []scaleCmd
	for range 100 {
		cmds = append(cmds, scaleCmd{known, f.channels[0]})
	}
	calls, err := f.run(e.ctx, cmds, 1)
	if err != nil {
		return r, err
	}
	r.knownCalls = float64(calls) / float64(len(cmds))

	// Every other user once, 8 commands in flight, spread over the
	// channels.
	cmds = cmds[:0]
	for i, u := range f.users[1:] {
		cmds = append(cmds, scaleCmd{u, f.channels[i%len(f.channels)]})
	}
	r.senders = len(cmds) + 1
	if len(cmds) > 0 {
		t := time.Now()
		calls, err = f.run(e.ctx, cmds, 8)
		if err != nil {
			return r, err
		}
		r.loadElapsed = time.Since(t)
		r.newCalls = float64(calls) / float64(len(cmds))
	}
	if r.loadRSS, err = b.mem(); err != nil {
		return r, err
	}

	for _, n := range missed {
		// A catch-up reads again, in every channel they came in, the
		// posts of its look-back margin: 2 s before the last post the
		// bot saw. Right after the load, that is hundreds of channels;
		// here the gap comes after a quiet spell (on the fake's clock)
		// and one command, as most do.
		f.quiet(c.Quiet)
		if _, err := f.run(e.ctx, []scaleCmd{{known, f.channels[0]}}, 1); err != nil {
			return r, err
		}
		cu, err := f.catchUp(e.ctx, n)
		if err != nil {
			return r, fmt.Errorf("catch-up of %d commands: %w", n, err)
		}
		r.catchUps = append(r.catchUps, cu)
	}
	return r, f.check()
}

// scaleFake is the fake server of one world, served on a loopback
// listener of its own that counts the bot's REST calls and its replies.
type scaleFake struct {
	srv      *mmtest.Server
	hs       *http.Server
	served   chan error // size 1
	url      string
	token    string
	botID    string
	users    []*mm.User
	channels []*mm.Channel

	offset  atomic.Int64 // of the fake's clock from the wall clock, ns (see quiet)
	calls   atomic.Int64 // REST calls, the WebSocket's upgrade excepted
	replies atomic.Int64 // POST /api/v4/posts
	// postsRead counts the posts of the answers to GET
	// /channels/{id}/posts.
	postsRead atomic.Int64

	mu sync.Mutex
	// Guarded by mu:
	next     int
	answered map[int]int           // command id → replies seen
	waiting  map[int]chan struct{} // closed at the first reply
	errs     []error
	routes   map[string]int64 // calls by method and route, when counting
	wsArmed  bool             // the WebSocket requests' times are noted in wsAt
	wsAt     time.Time        // the last WebSocket request's
	lastAt   time.Time        // the last reply's arrival
	lastPost int64            // the create_at of the last command posted, ms, plus a second
}

// scaleCmd is one command to send: who, where.
type scaleCmd struct {
	user *mm.User
	ch   *mm.Channel
}

func startScaleFake(wd scaleWorld) (*scaleFake, error) {
	f := &scaleFake{served: make(chan error, 1), answered: map[int]int{}, waiting: map[int]chan struct{}{}}
	f.srv = mmtest.New(&mmtest.Options{Now: f.now})
	if err := f.seed(wd); err != nil {
		f.srv.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.srv.Close()
		return nil, err
	}
	f.url = "http://" + ln.Addr().String()
	f.hs = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: benchWait}
	go func() { f.served <- f.hs.Serve(ln) }()
	return f, nil
}

func (f *scaleFake) seed(wd scaleWorld) error {
	s := f.srv
	team, b, err := seedBenchBot(s)
	if err != nil {
		return err
	}
	f.botID = b.ID
	for i := range wd.users {
		u, err := s.AddUser(mmtest.User{Username: "user" + strconv.Itoa(i)})
		if err != nil {
			return err
		}
		f.users = append(f.users, u)
	}
	// The senders post through the back door, which needs no
	// membership: the channels hold the bot alone, so the world costs
	// the fake little.
	for i := range wd.channels {
		ch, err := s.AddChannel(team.ID, "bench-"+strconv.Itoa(i), "Bench "+strconv.Itoa(i), mm.ChannelOpen)
		if err != nil {
			return err
		}
		if err := s.AddChannelMember(ch.ID, b.ID); err != nil {
			return err
		}
		f.channels = append(f.channels, ch)
	}
	f.token, err = s.CreateToken(b.ID, "bench")
	return err
}

func (f *scaleFake) close() {
	_ = f.hs.Close() // cuts the bot's socket too
	<-f.served
	f.srv.Close()
}

// serveHTTP counts the calls and the replies on their way to the fake.
func (f *scaleFake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v4/websocket" {
		f.mu.Lock()
		if f.wsArmed {
			// The last one is the connection that succeeded: those
			// before it were refused.
			f.wsAt = time.Now()
		}
		f.mu.Unlock()
		f.srv.ServeHTTP(w, r)
		return
	}
	f.calls.Add(1)
	f.mu.Lock()
	if f.routes != nil {
		f.routes[r.Method+" "+routeOf(r.URL.Path)]++
	}
	f.mu.Unlock()
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/posts") {
		// A channel's posts: count them, for what a catch-up reads.
		cw := &captureWriter{ResponseWriter: w}
		f.srv.ServeHTTP(cw, r)
		var l struct{ Order []string }
		if json.Unmarshal(cw.body.Bytes(), &l) == nil {
			f.postsRead.Add(int64(len(l.Order)))
		}
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v4/posts" {
		f.srv.ServeHTTP(w, r)
		return
	}
	f.replies.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	f.srv.ServeHTTP(w, r)
	id, ok := pathbench.ID(body, pathbench.ReplyMarker)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAt = time.Now()
	f.answered[id]++
	switch ch, ok := f.waiting[id]; {
	case !ok && f.answered[id] == 1:
		f.errs = append(f.errs, fmt.Errorf("reply to unknown command %d", id))
	case f.answered[id] == 2:
		f.errs = append(f.errs, fmt.Errorf("command %d answered twice", id))
	case f.answered[id] == 1:
		close(ch)
	}
}

// captureWriter keeps a copy of what is written.
type captureWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// quiet moves the fake's clock d past the last post: the world was
// quiet that long. The fake gives every post a millisecond of its own,
// so under load its clock runs ahead of the wall clock (ten times, for
// the load of a big world): the bench cannot wait the quiet out.
func (f *scaleFake) quiet(d time.Duration) {
	f.mu.Lock()
	last := f.lastPost
	f.mu.Unlock()
	ahead := time.Until(time.UnixMilli(last).Add(d))
	if ahead > time.Duration(f.offset.Load()) {
		f.offset.Store(int64(ahead))
	}
}

// now is the fake's clock: the wall clock, moved on by quiet.
func (f *scaleFake) now() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) }

// routeOf replaces the ids in path by {id}.
func routeOf(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if mm.IsValidID(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// post posts one command and returns the channel closed at its reply.
func (f *scaleFake) post(c scaleCmd) (<-chan struct{}, error) {
	f.mu.Lock()
	f.next++
	id := f.next
	done := make(chan struct{})
	f.waiting[id] = done
	f.mu.Unlock()
	p, err := f.srv.CreatePost(c.user.ID, mm.Post{ChannelID: c.ch.ID, Message: pathbench.CommandMarker + strconv.Itoa(id)})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	// The reply comes a millisecond or so later: quiet counts from there.
	f.lastPost = max(f.lastPost, p.CreateAt+1000)
	f.mu.Unlock()
	return done, nil
}

// run sends cmds, inflight at a time, each waiting for its reply, and
// returns the REST calls the bot made meanwhile.
func (f *scaleFake) run(ctx context.Context, cmds []scaleCmd, inflight int) (int64, error) {
	before := f.calls.Load()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(inflight, len(cmds)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cmds) || ctx.Err() != nil {
					return
				}
				done, err := f.post(cmds[i])
				if err == nil {
					err = waitReply(ctx, done)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return f.calls.Load() - before, firstErr
}

func waitReply(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTimer(benchWait)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("no reply within %v", benchWait)
	}
}

// catchUp takes the bot's socket down so that it cannot resume, posts n
// commands from distinct users (cycling through the world's) in
// min(channels, n/10) channels meanwhile, lets the socket back and
// measures the calls and the time from the new connection to the last
// reply.
func (f *scaleFake) catchUp(ctx context.Context, n int) (catchUpResult, error) {
	spread := max(1, min(len(f.channels), n/10))
	cu := catchUpResult{missed: n, channels: spread}
	f.srv.RefuseWebSockets(time.Hour)
	f.srv.RestartWebSockets()
	dones := make([]<-chan struct{}, 0, n)
	for i := range n {
		done, err := f.post(scaleCmd{f.users[i%len(f.users)], f.channels[i%spread]})
		if err != nil {
			return cu, err
		}
		dones = append(dones, done)
	}
	f.mu.Lock()
	f.routes = map[string]int64{}
	f.wsArmed, f.wsAt = true, time.Time{}
	f.mu.Unlock()
	calls, replies, read := f.calls.Load(), f.replies.Load(), f.postsRead.Load()
	f.srv.RefuseWebSockets(0)
	for _, d := range dones {
		if err := waitReply(ctx, d); err != nil {
			return cu, err
		}
	}
	f.mu.Lock()
	cu.elapsed = f.lastAt.Sub(f.wsAt)
	cu.routes, f.routes = f.routes, nil
	ws := f.wsAt
	f.wsArmed = false
	f.mu.Unlock()
	if ws.IsZero() {
		return cu, errors.New("the bot did not reconnect")
	}
	cu.calls, cu.replies, cu.postsRead = f.calls.Load()-calls, f.replies.Load()-replies, f.postsRead.Load()-read
	return cu, nil
}

// check reports replies to unknown commands and commands answered twice.
func (f *scaleFake) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}
