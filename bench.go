package matterbot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/internal/metrics"
	"github.com/matterbot/matterbot/internal/pathbench"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/storage/bolt"
)

// benchCmd measures the whole path of a command (posted event written to
// the bot's socket → reply POST received by the fake server) against an
// in-process mmtest server, and the bot's allocations and resident memory.
//
// The bot runs by default in a child process (this binary, re-executed
// with the hidden --bot-of flag), so that its allocation count and RSS are
// the bot's alone: a go test benchmark, or the bot beside the fake in one
// process, would count the fake server, the load generator and the test
// binary too. --in-process keeps everything in one process (used by the
// unit test) and says so in the report.
type benchCmd struct {
	Commands   int           `default:"2000" help:"Commands timed one at a time, for the latency percentiles."`
	Throughput int           `default:"10000" help:"Commands for the throughput run."`
	Users      int           `default:"8" help:"Users sending commands in the throughput run."`
	Channels   int           `default:"4" help:"Channels of the throughput run; every user sends in every channel, one command in flight each."`
	Warmup     int           `default:"200" help:"Untimed commands before each run."`
	InProcess  bool          `name:"in-process" help:"Run the bot in this process: allocations and RSS then include the fake server and the load."`
	Profile    string        `help:"Write the bot's CPU and allocation profiles to FILE.cpu and FILE.mem (the whole process with --in-process); a child bot also writes its live heap and memory classes at the last sample to FILE.heap and FILE.classes." placeholder:"FILE"`
	Scale      bool          `help:"Measure what grows with the world instead (see --worlds): start, RSS, REST calls per command, catch-up, in a child process with the default configuration."`
	Worlds     string        `default:"10x10,1000x5000,10000x50000" help:"The worlds of --scale: CHANNELSxUSERS, comma-separated." placeholder:"CxU,..."`
	Verbose    bool          `short:"v" help:"With --scale, say more: the calls of each catch-up by route."`
	Quiet      time.Duration `default:"3s" help:"With --scale, how long the world is quiet (on the fake server's clock) before the command that precedes each gap: a catch-up also reads the channels that had posts in the 2 s before the last post the bot saw."`

	// BotOf makes this process the bot under test: it connects to the
	// given fake server with the token in MATTERBOT_BENCH_TOKEN and
	// answers the parent on stdin/stdout (see runBotChild).
	BotOf string `name:"bot-of" hidden:"" help:"Internal: run only the bot against this server URL."`
	// BotStore, with BotOf, gives the bot a store in this file, as run
	// does.
	BotStore string `name:"bot-store" hidden:"" help:"Internal: with --bot-of, the bot's store file."`
}

const (
	benchTeam = "bench"
	// benchTokenEnv carries the bot's token to the child: never on the
	// command line, where ps shows it.
	benchTokenEnv = "MATTERBOT_BENCH_TOKEN"
	// benchWait bounds the wait for the bot to connect: far above any
	// real delay, it only turns a hang into an error.
	benchWait = pathbench.DefaultTimeout
)

func (c *benchCmd) Run(e *env) error {
	if c.BotOf != "" {
		stop, err := startProfile(c.Profile)
		if err != nil {
			return err
		}
		defer stop()
		return runBotChild(e.ctx, c.BotOf, os.Getenv(benchTokenEnv), c.BotStore, c.Profile, e.plugins, e.stdin, e.stdout)
	}
	if c.Scale {
		return c.runScale(e)
	}
	if c.Commands < 1 || c.Throughput < 1 || c.Users < 1 || c.Channels < 1 || c.Warmup < 0 {
		return fmt.Errorf("bench: --commands, --throughput, --users and --channels must be at least 1, --warmup at least 0")
	}
	f, err := startBenchFake(c.Users, c.Channels)
	if err != nil {
		return err
	}
	defer f.close()
	w := e.stdout

	// 1. The fake's and the socket's own share: a trivial client that
	// does no bot work (no decoding beyond finding the marker, no
	// dispatch) answers the same commands as the same user.
	base, err := f.latencyWithEchoClient(e.ctx, c.Warmup, c.Commands)
	if err != nil {
		return fmt.Errorf("bench: echo client: %w", err)
	}

	// 2. The bot.
	var b botUnderTest
	if c.InProcess {
		stop, perr := startProfile(c.Profile)
		if perr != nil {
			return perr
		}
		defer stop()
		b, err = startBotInProcess(e.ctx, f.url, f.token, "", e.plugins)
	} else {
		b, err = startBotChild(e.ctx, f.url, f.token, c.Profile, "", e.stderr)
	}
	if err != nil {
		return fmt.Errorf("bench: start bot: %w", err)
	}
	defer b.stop()

	lat, err := f.latency(e.ctx, c.Warmup, c.Commands)
	if err != nil {
		return fmt.Errorf("bench: latency: %w", err)
	}
	if _, err := f.throughput(e.ctx, c.Warmup); err != nil {
		return fmt.Errorf("bench: throughput warm-up: %w", err)
	}
	before, err := b.mem()
	if err != nil {
		return fmt.Errorf("bench: bot memory: %w", err)
	}
	ownBefore := procCPU()
	tp, err := f.throughput(e.ctx, c.Throughput)
	if err != nil {
		return fmt.Errorf("bench: throughput: %w", err)
	}
	ownCPU := procCPU() - ownBefore
	after, err := b.mem()
	if err != nil {
		return fmt.Errorf("bench: bot memory: %w", err)
	}
	if err := f.checkReplies(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}

	where := "bot in a child process: figures are the bot's alone"
	if c.InProcess {
		where = "bot in-process: allocations and memory include the fake server and the load"
	}
	fmt.Fprintf(w, "matterbot bench (%s; GOMAXPROCS %d, %d CPUs)\n", where, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(w, "latency, %d commands one at a time, event written to the bot's socket → reply POST at the fake:\n", c.Commands)
	fmt.Fprintf(w, "  bot          p50 %s  p99 %s\n", us(lat.added, 50), us(lat.added, 99))
	fmt.Fprintf(w, "  echo client  p50 %s  p99 %s  (socket + HTTP floor, no bot work)\n", us(base.added, 50), us(base.added, 99))
	fmt.Fprintf(w, "  round trip   p50 %s  p99 %s  (post created in the fake → reply POST, bot)\n", us(lat.roundTrip, 50), us(lat.roundTrip, 99))
	fmt.Fprintf(w, "throughput, %d users × %d channels, %d commands in flight (closed loop):\n", c.Users, c.Channels, c.Users*c.Channels)
	fmt.Fprintf(w, "  %d commands in %s = %.0f commands/s, every reply seen exactly once\n",
		tp.n, tp.elapsed.Round(time.Millisecond), float64(tp.n)/tp.elapsed.Seconds())
	n := float64(tp.n)
	// In-process, the CPU time is the fake's and the load's too.
	if cpu := after.CPU - before.CPU; cpu > 0 && !c.InProcess {
		perCmd := cpu / time.Duration(tp.n)
		fmt.Fprintf(w, "  bot CPU %s = %.0f µs/command: a CPU-bound ceiling of %.0f commands/s on %d cores\n",
			cpu.Round(10*time.Millisecond), float64(perCmd)/float64(time.Microsecond),
			float64(runtime.NumCPU())/cpu.Seconds()*n, runtime.NumCPU())
		if ownCPU > 0 {
			fmt.Fprintf(w, "  fake server + load CPU %s = %.0f µs/command, on the same cores\n",
				ownCPU.Round(10*time.Millisecond), float64(ownCPU/time.Duration(tp.n))/float64(time.Microsecond))
		}
	}
	fmt.Fprintf(w, "memory over the throughput run:\n")
	fmt.Fprintf(w, "  allocs/command %.1f  bytes/command %.0f\n",
		float64(after.Mallocs-before.Mallocs)/n, float64(after.TotalAlloc-before.TotalAlloc)/n)
	fmt.Fprintf(w, "  RSS %s  peak RSS %s  Go heap in use %s  Go runtime total %s\n",
		mib(after.RSS), mib(after.PeakRSS), mib(after.HeapInuse), mib(after.Sys))
	return nil
}

// us formats the p-th percentile of sorted durations in microseconds.
func us(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%6.0f µs", float64(pathbench.Percentile(sorted, p))/float64(time.Microsecond))
}

func mib(b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// benchFake is the fake server with its edges observed by package
// pathbench (the posted event's frame written to the bot's socket, the
// reply POST reaching the fake), and the users and channels of the load.
type benchFake struct {
	srv      *mmtest.Server
	ps       *pathbench.Server
	url      string
	token    string // the bot's
	botID    string
	users    []*mm.User
	channels []*mm.Channel

	mu   sync.Mutex
	sent map[string]int // guarded by mu: commands sent per channel id
}

// benchCommand is one command in flight or answered.
type benchCommand struct {
	pc      *pathbench.Command
	created time.Time // before the fake created the post
}

// benchTiming is what one command took.
type benchTiming struct {
	pathbench.Timing
	created time.Time
}

func startBenchFake(users, channels int) (*benchFake, error) {
	f := &benchFake{srv: mmtest.New(nil), sent: map[string]int{}}
	if err := f.seed(users, channels); err != nil {
		f.srv.Close()
		return nil, err
	}
	ps, err := pathbench.Start(f.srv)
	if err != nil {
		f.srv.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	f.ps, f.url = ps, ps.URL
	return f, nil
}

func (f *benchFake) seed(users, channels int) error {
	s := f.srv
	team, b, err := seedBenchBot(s)
	if err != nil {
		return err
	}
	f.botID = b.ID
	for i := range users {
		u, err := s.AddUser(mmtest.User{Username: "user" + strconv.Itoa(i)})
		if err != nil {
			return err
		}
		if err := s.AddTeamMember(team.ID, u.ID); err != nil {
			return err
		}
		f.users = append(f.users, u)
	}
	for i := range channels {
		ch, err := s.AddChannel(team.ID, "bench-"+strconv.Itoa(i), "Bench "+strconv.Itoa(i), mm.ChannelOpen)
		if err != nil {
			return err
		}
		for _, u := range append([]*mm.User{b}, f.users...) {
			if err := s.AddChannelMember(ch.ID, u.ID); err != nil {
				return err
			}
		}
		f.channels = append(f.channels, ch)
	}
	f.token, err = s.CreateToken(b.ID, "bench")
	return err
}

// seedBenchBot adds the bench team, its owner, and the bot, a member of
// the team, to s.
func seedBenchBot(s *mmtest.Server) (*mm.Team, *mm.User, error) {
	team, err := s.AddTeam(benchTeam, "Bench")
	if err != nil {
		return nil, nil, err
	}
	owner, err := s.AddUser(mmtest.User{Username: "owner"})
	if err != nil {
		return nil, nil, err
	}
	b, err := s.AddBot("benchbot", "Bench Bot", owner.ID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.AddTeamMember(team.ID, b.ID); err != nil {
		return nil, nil, err
	}
	return team, b, nil
}

func (f *benchFake) close() {
	f.ps.Close() // cuts the sockets too
	f.srv.Close()
}

// send posts one command as user in ch and returns it.
func (f *benchFake) send(user *mm.User, ch *mm.Channel) (*benchCommand, error) {
	cmd := &benchCommand{pc: f.ps.NewCommand()}
	f.mu.Lock()
	f.sent[ch.ID]++
	f.mu.Unlock()
	cmd.created = time.Now()
	if _, err := f.srv.CreatePost(user.ID, mm.Post{ChannelID: ch.ID, Message: cmd.pc.Text()}); err != nil {
		return nil, err
	}
	return cmd, nil
}

// await waits for cmd's reply and returns its timing.
func (f *benchFake) await(ctx context.Context, cmd *benchCommand) (benchTiming, error) {
	t, err := f.ps.Wait(ctx, cmd.pc)
	return benchTiming{t, cmd.created}, err
}

type latencies struct {
	added     []time.Duration // written → arrived, sorted
	roundTrip []time.Duration // created → arrived, sorted
}

// latency sends warmup+n commands one at a time as the first user in the
// first channel and times the last n.
func (f *benchFake) latency(ctx context.Context, warmup, n int) (latencies, error) {
	var l latencies
	for i := range warmup + n {
		cmd, err := f.send(f.users[0], f.channels[0])
		if err != nil {
			return l, err
		}
		got, err := f.await(ctx, cmd)
		if err != nil {
			return l, err
		}
		if i >= warmup {
			l.added = append(l.added, got.Added())
			l.roundTrip = append(l.roundTrip, got.Arrived.Sub(got.created))
		}
	}
	slices.Sort(l.added)
	slices.Sort(l.roundTrip)
	return l, nil
}

// latencyWithEchoClient is latency with, in place of the bot, a client
// that answers each command event with one POST and nothing else, as the
// bot's user.
func (f *benchFake) latencyWithEchoClient(ctx context.Context, warmup, n int) (latencies, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	hdr := http.Header{"Authorization": {"Bearer " + f.token}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/api/v4/websocket",
		&websocket.DialOptions{HTTPClient: hc, HTTPHeader: hdr})
	if err != nil {
		return latencies{}, err
	}
	defer ws.CloseNow()
	// Commands start once the hello has come: the socket is registered.
	if _, hello, err := ws.Read(ctx); err != nil || !bytes.Contains(hello, []byte(`"hello"`)) {
		return latencies{}, fmt.Errorf("want a hello frame, got %q, %v", hello, err)
	}
	echoed := make(chan error, 1) // size 1: the echo loop never blocks on exit
	go func() { echoed <- f.echo(ctx, ws, hc, hdr) }()
	l, err := f.latency(ctx, warmup, n)
	cancel()
	<-echoed
	return l, err
}

// echo answers "!echo bench-<id>" events on ws with a POST of
// "bench-<id>" in the first channel.
func (f *benchFake) echo(ctx context.Context, ws *websocket.Conn, hc *http.Client, hdr http.Header) error {
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		id, ok := pathbench.ID(b, pathbench.CommandMarker)
		if !ok {
			continue
		}
		body := `{"channel_id":"` + f.channels[0].ID + `","message":"bench-` + strconv.Itoa(id) + `"}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/api/v4/posts", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header = hdr.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

type throughputResult struct {
	n       int
	elapsed time.Duration
}

// throughput sends n commands from every user in every channel, one in
// flight per (user, channel), and waits for every reply.
func (f *benchFake) throughput(ctx context.Context, n int) (throughputResult, error) {
	if n == 0 {
		return throughputResult{}, nil
	}
	var left atomic.Int64
	left.Store(int64(n))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	for _, u := range f.users {
		for _, ch := range f.channels {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					cmd, err := f.send(u, ch)
					if err == nil {
						_, err = f.await(ctx, cmd)
					}
					if err != nil {
						errOnce.Do(func() { firstErr = err; cancel() })
						return
					}
				}
			})
		}
	}
	wg.Wait()
	return throughputResult{n: n, elapsed: time.Since(start)}, firstErr
}

// checkReplies reports replies to unknown commands or answered twice, and
// checks against the fake's own record that the bot posted exactly one
// reply per command it was sent (by the bot and not the echo client:
// theirs count too, they posted as the bot).
func (f *benchFake) checkReplies() error {
	if err := f.ps.Check(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.channels {
		got := 0
		for _, p := range f.srv.Posts(ch.ID) {
			if p.UserID == f.botID {
				got++
			}
		}
		if got != f.sent[ch.ID] {
			return fmt.Errorf("channel %s holds %d replies, want %d", ch.Name, got, f.sent[ch.ID])
		}
	}
	return nil
}

// memSample is the bot's memory at one instant.
type memSample struct {
	Mallocs    uint64 // runtime.MemStats.Mallocs
	TotalAlloc uint64
	HeapInuse  uint64
	Sys        uint64
	RSS        uint64        // VmRSS, bytes; 0 where /proc is missing
	PeakRSS    uint64        // VmHWM
	CPU        time.Duration // user + system time of the process, 10 ms steps; 0 where /proc is missing
	Connect    time.Duration // the bot's start to its first connection (the child's bot only)
}

func readMem() memSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := memSample{Mallocs: ms.Mallocs, TotalAlloc: ms.TotalAlloc, HeapInuse: ms.HeapInuse, Sys: ms.Sys}
	s.RSS, s.PeakRSS = procRSS()
	s.CPU = procCPU()
	return s
}

// procCPU reads the process's user and system time from /proc/self/stat
// (Linux; fields 14 and 15, in ticks of 1/100 s, USER_HZ); zero elsewhere.
func procCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// procRSS reads VmRSS and VmHWM from /proc/self/status (Linux); zero
// elsewhere.
func procRSS() (rss, peak uint64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

// startProfile starts the CPU profile into file+".cpu"; the returned func
// stops it and writes the allocation profile to file+".mem". An empty
// file profiles nothing.
func startProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	runtime.MemProfileRate = 4096 // before the allocations it should see
	cpu, err := os.Create(file + ".cpu")
	if err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		_ = cpu.Close()
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = cpu.Close()
		if mem, err := os.Create(file + ".mem"); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(mem, 0)
			_ = mem.Close()
		}
	}, nil
}

// writeMemClasses writes to file where the runtime's memory goes (the
// /memory/classes/ metrics, and the heap's goal and live bytes), one
// line each; a failure only loses them.
func writeMemClasses(file string) {
	var samples []rtmetrics.Sample
	for _, d := range rtmetrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/goal") || strings.HasPrefix(d.Name, "/gc/heap/live") {
			samples = append(samples, rtmetrics.Sample{Name: d.Name})
		}
	}
	rtmetrics.Read(samples)
	var b strings.Builder
	for _, s := range samples {
		if s.Value.Kind() == rtmetrics.KindUint64 {
			fmt.Fprintf(&b, "%-50s %8.2f MiB\n", s.Name, float64(s.Value.Uint64())/(1<<20))
		}
	}
	// And how the kernel counts the process: its own memory, and the
	// pages of the program's file it maps.
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(st)) {
			if strings.HasPrefix(line, "Rss") || strings.HasPrefix(line, "Vm") {
				b.WriteString(line)
			}
		}
	}
	_ = os.WriteFile(file, []byte(b.String()), 0o644)
}

// writeHeapProfile writes the live heap, after a collection, to file; a
// failure only loses the profile.
func writeHeapProfile(file string) {
	f, err := os.Create(file)
	if err != nil {
		return
	}
	runtime.GC()
	_ = pprof.Lookup("heap").WriteTo(f, 0)
	_ = f.Close()
}

// botUnderTest is the running bot, in this process or a child.
type botUnderTest interface {
	mem() (memSample, error)
	stop()
}

// newBenchBot builds the bot as run does, with the options of a default
// configuration (typing indicator, loop guard, no client-side rate cap,
// metrics, a log line per command: what users get), the command's plugins, the echo plugin if they lack
// it, and a plugin that reports the connection. With storePath, the bot
// keeps its store there, as run does (the catch-up positions, the
// outbox); the returned func closes it once the engine has stopped.
func newBenchBot(url, token, storePath string, plugins []bot.Setuper, connected chan<- struct{}) (*bot.Engine, func(), error) {
	cfg := config.Default()
	m := cfg.Mattermost
	m.Server = url // a site URL: scheme and port come from it
	m.Team = benchTeam
	m.Token = config.NewSecret(token)
	// Observed as run observes it with the default listener on; the
	// metrics are not served.
	obs := metrics.New("bench")
	// The default log level writes one line per command: format it as
	// run does, and throw it away, so its cost counts but not a
	// terminal's.
	logger := cfg.Log.NewLogger(io.Discard)
	bopts := BackendOptions(m, logger)
	bopts.Observer = obs
	closeStore := func() {}
	var storage bot.Storage
	if storePath != "" {
		store, err := bolt.Open(storePath, &bolt.Options{Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		storage, closeStore = store, func() { _ = store.Close() }
		bopts.Store = store.Store(backendStore)
	}
	be, err := mmbackend.New(bopts)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	eopts := EngineOptions(cfg, storage, logger)
	eopts.Observer = obs
	eng, err := bot.New(be, eopts, benchPlugins(plugins, connected)...)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	obs.Engine(eng)
	return eng, closeStore, nil
}

// benchPlugins returns the bot's plugins, the echo plugin that the bench
// commands call when they are not among them, and a plugin that reports
// the connection.
func benchPlugins(plugins []bot.Setuper, connected chan<- struct{}) []bot.Setuper {
	out := slices.Clip(plugins)
	if !slices.ContainsFunc(plugins, func(p bot.Setuper) bool { _, ok := p.(echo.Plugin); return ok }) {
		out = append(out, echo.Plugin{})
	}
	return append(out, readyPlugin{name: "bench", connected: connected})
}

// readyPlugin, named name, signals each connection, without blocking.
type readyPlugin struct {
	name      string
	connected chan<- struct{}
}

func (r readyPlugin) Name() string { return r.name }

func (r readyPlugin) Setup(p *bot.Plugin) error {
	p.OnConnect(func(context.Context, bot.User) error {
		select {
		case r.connected <- struct{}{}:
		default:
		}
		return nil
	})
	return nil
}

// inProcessBot is the bench bot running in this process, in a goroutine
// owned by startBot.
type inProcessBot struct {
	cancel  context.CancelFunc
	done    chan error    // size 1: the bot's goroutine never blocks on it
	connect time.Duration // Run's start to the first connection
}

func startBotInProcess(ctx context.Context, url, token, storePath string, plugins []bot.Setuper) (*inProcessBot, error) {
	connected := make(chan struct{}, 1)
	eng, closeStore, err := newBenchBot(url, token, storePath, plugins, connected)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	b, err := startBot(ctx, func(ctx context.Context) error {
		defer closeStore()
		return eng.Run(ctx)
	}, connected, benchWait)
	if err != nil {
		return nil, err
	}
	b.connect = time.Since(start)
	return b, nil
}

// startBot runs run in a goroutine and waits until connected is
// signalled, run returns, or wait has passed: only the first gives a
// running bot. Both the in-process bot and the child process start
// their bot here, so neither waits forever for a bot that never
// connects.
func startBot(ctx context.Context, run func(context.Context) error, connected <-chan struct{}, wait time.Duration) (*inProcessBot, error) {
	ctx, cancel := context.WithCancel(ctx)
	b := &inProcessBot{cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- run(ctx) }()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-connected:
		return b, nil
	case err := <-b.done:
		cancel()
		return nil, fmt.Errorf("bot stopped before connecting: %v", err)
	case <-timer.C:
		b.stop()
		return nil, fmt.Errorf("bot did not connect within %v", wait)
	}
}

func (b *inProcessBot) mem() (memSample, error) {
	m := readMem()
	m.Connect = b.connect
	return m, nil
}

func (b *inProcessBot) stop() { _ = b.shutdown() } // the figures are out by then

// shutdown stops the bot and returns what its Run returned.
func (b *inProcessBot) shutdown() error {
	b.cancel()
	return <-b.done
}

// childBot is the bot in a child process, driven over its stdin and
// stdout: it prints "ready" once connected, answers each "mem" line with a
// JSON memSample, and stops at the end of its stdin.
type childBot struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startBotChild starts the bench bot in a child process, its log going to
// stderr, and waits until it is connected.
// With storePath, the bot keeps its store there.
func startBotChild(ctx context.Context, url, token, profile, storePath string, stderr io.Writer) (*childBot, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "--bot-of", url}
	if profile != "" {
		args = append(args, "--profile", profile)
	}
	if storePath != "" {
		args = append(args, "--bot-store", storePath)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), benchTokenEnv+"="+token)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &childBot{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if line, err := b.line(); err != nil || line != "ready" {
		b.stop()
		return nil, fmt.Errorf("child bot: got %q, %v; want ready", line, err)
	}
	return b, nil
}

func (b *childBot) line() (string, error) {
	if !b.out.Scan() {
		if err := b.out.Err(); err != nil {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return b.out.Text(), nil
}

func (b *childBot) mem() (memSample, error) {
	var s memSample
	if _, err := io.WriteString(b.in, "mem\n"); err != nil {
		return s, err
	}
	line, err := b.line()
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(line), &s)
}

func (b *childBot) stop() {
	_ = b.in.Close()
	_ = b.cmd.Wait() // its exit status says nothing the figures did not
}

// runBotChild is the child side of childBot.
//
// With profile set, each memory sample also writes the live heap, once
// collected, to profile+".heap", sampled finer than the default so that
// small structures show, and the runtime's memory classes to
// profile+".classes" (the last sample's win).
func runBotChild(ctx context.Context, url, token, storePath, profile string, plugins []bot.Setuper, in io.Reader, out io.Writer) error {
	if token == "" {
		return fmt.Errorf("bench: --bot-of needs the bot's token in %s", benchTokenEnv)
	}
	b, err := startBotInProcess(ctx, url, token, storePath, plugins)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		_ = b.shutdown() // the write error says more
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "mem" {
			continue
		}
		s, _ := b.mem()
		if profile != "" {
			writeMemClasses(profile + ".classes")
			writeHeapProfile(profile + ".heap")
		}
		m, _ := json.Marshal(s) // plain numbers: cannot fail
		if _, err := fmt.Fprintf(out, "%s\n", m); err != nil {
			break
		}
	}
	return b.shutdown()
}
