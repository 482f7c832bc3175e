package faultsuite

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/matterbot/matterbot"
	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins"
	"github.com/matterbot/matterbot/storage/bolt"
)

// The test binary is also the bot under test: with childEnv set it runs
// the bot instead of the tests (see startBot).
const (
	// childEnv holds the configuration file of the child bot.
	childEnv = "MATTERBOT_FAULTSUITE_CHILD"
	// scaleEnv, in the child, scales the bot's backoffs down by the
	// factor it holds; unset or 1, the child is `matterbot run` itself.
	scaleEnv = "MATTERBOT_FAULTSUITE_SCALE"
)

// backendStore is run.go's name for the backend's store.
const backendStore = "backend:mattermost"

// The child's memory probe: the parent writes a line on fd 3 and reads
// the answer on fd 4 (exec.Cmd.ExtraFiles).
const (
	probeIn  = 3
	probeOut = 4
)

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		scale, _ := strconv.ParseFloat(os.Getenv(scaleEnv), 64)
		// No warning about variables the bot does not know.
		os.Unsetenv(childEnv)
		os.Unsetenv(scaleEnv)
		go serveProbe()
		os.Exit(runChild(cfg, scale))
	}
	goleak.VerifyTestMain(m)
}

// botPlugins are the child bot's plugins: the built-ins (echo answers the
// users' commands) and the misbehaving one.
func botPlugins() []bot.Setuper {
	return append(plugins.Builtin(), &misbehave{})
}

// runChild runs the bot on the configuration file cfg and returns its exit
// code. With scale 0 or 1 it is `matterbot run -c cfg`, signals and all;
// below 1 it builds the bot the way run does (BackendOptions,
// EngineOptions, the bolt store) with the WebSocket reconnect backoff and
// the reply retries (their backoff and their budget) multiplied by
// scale, so that a short run sees as many reconnections, and replies
// kept in the outbox, in a fraction of the time.
func runChild(cfg string, scale float64) int {
	if scale <= 0 || scale >= 1 {
		os.Args = []string{"matterbot", "run", "-c", cfg}
		matterbot.Main(botPlugins()...) // exits
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := runScaled(ctx, cfg, scale); err != nil {
		fmt.Fprintln(os.Stderr, "matterbot:", err)
		return 1
	}
	return 0
}

// runScaled is run.go's runCmd.Run without the HTTP listener and the
// reload, with scaled backoffs. Keep it in step with run.go.
func runScaled(ctx context.Context, file string, scale float64) error {
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	bopts := matterbot.BackendOptions(cfg.Mattermost, logger)
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	bopts.WebSocket.MinBackoff = scaled(mm.DefaultMinBackoff)
	bopts.WebSocket.MaxBackoff = scaled(mm.DefaultMaxBackoff)
	// The keepalive ping is how the bot hears that its socket's session
	// was revoked (the socket goes deaf, and its actions fail 401).
	bopts.WebSocket.PingInterval = scaled(mm.DefaultPingInterval)
	bopts.Retry.Base = scaled(mmbackend.DefaultRetryBase)
	bopts.Retry.Max = scaled(mmbackend.DefaultRetryMax)
	bopts.Retry.MaxTotal = scaled(mmbackend.MaxRetryTime)
	store, err := bolt.Open(cfg.Storage.Path, &bolt.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close()
	bopts.Store = store.Store(backendStore)
	be, err := mmbackend.New(bopts)
	if err != nil {
		return err
	}
	eng, err := bot.New(be, matterbot.EngineOptions(cfg, store, logger), botPlugins()...)
	if err != nil {
		return err
	}
	return eng.Run(ctx)
}

// serveProbe answers each line on fd probeIn with the heap in use after a
// collection, the live heap and the number of goroutines, on fd probeOut.
func serveProbe() {
	in, out := os.NewFile(probeIn, "probe-in"), os.NewFile(probeOut, "probe-out")
	if in == nil || out == nil {
		return
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		runtime.GC()
		runtime.GC() // the second collection frees what the first one's finalizers released
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if _, err := fmt.Fprintf(out, "%d %d %d\n", ms.HeapInuse, ms.HeapAlloc, runtime.NumGoroutine()); err != nil {
			return
		}
	}
}
