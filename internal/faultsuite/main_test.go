package faultsuite

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/matterbot/matterbot"
	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins"
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
		runChild(cfg, scale) // exits
	}
	goleak.VerifyTestMain(m)
}

// botPlugins are the child bot's plugins: the built-ins (echo answers the
// users' commands) and the misbehaving one.
func botPlugins() []bot.Setuper {
	return append(plugins.Builtin(), &misbehave{})
}

// runChild runs the bot on the configuration file cfg: `matterbot run -c
// cfg`, signals and all (Command.Main, which exits). Below 1, scale
// multiplies the WebSocket reconnect backoff,
// its keepalive ping and the reply retries (their backoff and their
// budget), through Command.Backend, so that a short run sees as many
// reconnections, and replies kept in the outbox, in a fraction of the
// time.
func runChild(cfg string, scale float64) {
	c := &matterbot.Command{Name: "matterbot", Plugins: botPlugins()}
	if scale > 0 && scale < 1 {
		scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
		c.Backend = func(o *mmbackend.Options) {
			o.WebSocket.MinBackoff = scaled(mm.DefaultMinBackoff)
			o.WebSocket.MaxBackoff = scaled(mm.DefaultMaxBackoff)
			// The keepalive ping is how the bot hears that its socket's
			// session was revoked (the socket goes deaf, and its
			// actions fail 401).
			o.WebSocket.PingInterval = scaled(mm.DefaultPingInterval)
			o.Retry.Base = scaled(mmbackend.DefaultRetryBase)
			o.Retry.Max = scaled(mmbackend.DefaultRetryMax)
			o.Retry.MaxTotal = scaled(mmbackend.MaxRetryTime)
		}
	}
	os.Args = []string{"matterbot", "run", "-c", cfg}
	c.Main()
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
