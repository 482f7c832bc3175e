package faultsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/internal/faultproxy"
)

// fault is one fault the suite injects while the users send commands.
type fault struct {
	name string
	// skip returns why the fault cannot pass yet (a feature it needs is
	// not built), or "" when it runs. A skipped fault runs anyway with
	// MATTERBOT_FAULTS_FORCE=1.
	skip func(m mode) string
	// inject makes the fault and returns once it is over and the bot has
	// reconnected, with a few words on what it did.
	inject func(ctx context.Context, s *suite, r *rand.Rand) (string, error)
	// p99, when set, bounds the 99th percentile of the time to answer
	// the fault's commands.
	p99 time.Duration
}

// faults are injected in this order, after a calm baseline.
var faults = []fault{
	// Other users' commands are answered as fast as ever: a hung handler
	// held its slot for 20 s before overruns were cut short.
	{name: "misbehaving plugins", inject: misbehavingPlugins, p99: 2 * time.Second},
	{name: "websocket drops", inject: websocketDrops},
	{name: "server restart", inject: serverRestart},
	{name: "connections refused", inject: connectionsRefused},
	{name: "5xx bursts", inject: serverErrors},
	{name: "long 5xx outage", inject: longOutage},
	{name: "429 storm", inject: rateLimitStorm},
	{name: "latency spikes", inject: latencySpikes},
	{name: "token revoked", inject: tokenRevoked},
	{name: "half-open link", inject: halfOpen},
	{name: "bot restarts", inject: botRestarts},
}

// span returns d in the short run and soakFactor times d in the soak.
func (m mode) span(d time.Duration) time.Duration {
	if m.soak > 0 {
		return d * soakFactor
	}
	return d
}

// soakFactor stretches the faults' durations in the soak.
const soakFactor = 5

// between returns a random duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// pause waits d or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// newerSocket matches a live WebSocket connection opened after the one
// numbered last.
func newerSocket(last int) func(faultproxy.Conn) bool {
	return func(c faultproxy.Conn) bool { return faultproxy.WebSocket(c) && !c.Blackholed && c.ID > last }
}

// lastSocket returns the number of the newest WebSocket connection, 0 if
// none.
func (s *suite) lastSocket() int {
	last := 0
	for _, c := range s.w.proxy.Conns() {
		if faultproxy.WebSocket(c) {
			last = max(last, c.ID)
		}
	}
	return last
}

// reconnected waits for the bot's WebSocket after the connection numbered
// last, and returns how long it took since start.
func (s *suite) reconnected(ctx context.Context, last int, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := s.w.proxy.WaitConn(ctx, newerSocket(last)); err != nil {
		return 0, fmt.Errorf("the bot did not reconnect: %w", err)
	}
	return time.Since(start).Round(time.Millisecond), nil
}

func misbehavingPlugins(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	s.w.misbehaving.Store(true)
	defer s.w.misbehaving.Store(false)
	before := s.ledger.badSent()
	if err := pause(ctx, s.mode.span(4*time.Second)); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d users sent %d misbehaving commands (%s)", badUsers, s.ledger.badSent()-before,
		strings.Join(badCommands, " ")), nil
}

// websocketDrops drops the bot's WebSocket 50 times, each at a random
// moment after it reconnected: alternately closed by the server (as
// mmtest.DropWebSockets) and reset by the network (the proxy).
func websocketDrops(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	const drops = 50
	last, byServer, byNet := 0, 0, 0
	for i := range drops {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		c, err := s.w.proxy.WaitConn(wctx, newerSocket(last))
		cancel()
		if err != nil {
			return "", fmt.Errorf("drop %d: the bot did not reconnect: %w", i+1, err)
		}
		if err := pause(ctx, between(r, 0, 250*time.Millisecond)); err != nil {
			return "", err
		}
		if i%2 == 0 {
			s.w.srv.DropWebSockets()
			byServer++
		} else {
			s.w.proxy.CutIf(newerSocket(last))
			byNet++
		}
		last = c.ID
	}
	d, err := s.reconnected(ctx, last, time.Now())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d drops: %d closed by the server, %d reset by the network; back %v after the last",
		drops, byServer, byNet, d), nil
}

// serverRestart restarts the server's WebSocket side: every connection
// and its queue of events is forgotten, so the bot cannot resume.
func serverRestart(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	last, start := s.lastSocket(), time.Now()
	s.w.srv.RestartWebSockets()
	d, err := s.reconnected(ctx, last, start)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("every connection and queue lost; reconnected in %v", d), nil
}

// connectionsRefused takes the server down: every connection is reset
// and new ones are refused for a while; then it comes back, refusing
// WebSocket upgrades (503) a while longer, as while it starts.
func connectionsRefused(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	down := s.mode.span(between(r, 2*time.Second, 4*time.Second))
	last, start := s.lastSocket(), time.Now()
	s.w.proxy.Refuse()
	cut := s.w.proxy.CutIf(faultproxy.All)
	if err := pause(ctx, down); err != nil {
		return "", err
	}
	s.w.srv.RefuseWebSockets(down / 2)
	if err := s.w.proxy.Listen(); err != nil {
		return "", err
	}
	d, err := s.reconnected(ctx, last, start)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d connections reset, refused for %v, then 503 on upgrades for %v; reconnected after %v",
		cut, down.Round(time.Millisecond), (down / 2).Round(time.Millisecond), d), nil
}

// serverErrors makes bursts of the bot's requests fail with a 500, 502,
// 503 or 504.
func serverErrors(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	statuses := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	bursts := 5 * soakTimes(s.mode)
	var parts []string
	for range bursts {
		st, n := statuses[r.IntN(len(statuses))], 5+r.IntN(26)
		s.w.srv.FailNext(n, st)
		parts = append(parts, fmt.Sprintf("%d×%d", n, st))
		if err := pause(ctx, between(r, 300*time.Millisecond, time.Second)); err != nil {
			return "", err
		}
	}
	s.w.srv.FailNext(0, 0)
	return fmt.Sprintf("%d bursts: %s", bursts, strings.Join(parts, " ")), nil
}

// retryBudget is how long the bot retries a catch-up read before it
// gives its channel's held posts up and reads again later:
// mmbackend.MaxRetryTime, scaled as the bot's. (A reply goes to the
// outbox after one try.)
func (m mode) retryBudget() time.Duration {
	return time.Duration(float64(mmbackend.MaxRetryTime) * m.scale())
}

// longOutage answers every request 503 for longer than the bot retries a
// catch-up read, while its WebSocket stays up and brings commands: the
// server's database is down, say. The replies wait in the outbox.
func longOutage(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	d := s.mode.retryBudget() + s.mode.span(2*time.Second)
	s.w.srv.FailNext(1<<30, http.StatusServiceUnavailable)
	err := pause(ctx, d)
	s.w.srv.FailNext(0, 0)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("every request answered 503 for %v (longer than the bot retries a catch-up read, %v)", d, s.mode.retryBudget()), nil
}

// rateLimitStorm answers the bot's requests 429 (Retry-After: 1) for a
// while.
func rateLimitStorm(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	d := s.mode.span(3 * time.Second)
	const n = 1 << 20 // more than the bot sends: the storm lasts d
	s.w.srv.FailNext(n, http.StatusTooManyRequests)
	if err := pause(ctx, d); err != nil {
		return "", err
	}
	s.w.srv.FailNext(0, 0)
	return fmt.Sprintf("every request answered 429 for %v", d), nil
}

// latencySpikes slows the server's answers and the wire for a while,
// three times.
func latencySpikes(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	var parts []string
	for range 3 * soakTimes(s.mode) {
		srvLat, wire := between(r, 200*time.Millisecond, 1500*time.Millisecond), between(r, 20*time.Millisecond, 250*time.Millisecond)
		hold := between(r, 500*time.Millisecond, 2*time.Second)
		s.w.srv.SetLatency(srvLat)
		s.w.proxy.SetLatency(wire)
		err := pause(ctx, hold)
		s.w.srv.SetLatency(0)
		s.w.proxy.SetLatency(0)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%v+%v for %v", srvLat.Round(time.Millisecond), wire.Round(time.Millisecond),
			hold.Round(time.Millisecond)))
		if err := pause(ctx, between(r, 200*time.Millisecond, time.Second)); err != nil {
			return "", err
		}
	}
	return "server+wire latency: " + strings.Join(parts, ", "), nil
}

// soakTimes is how many times a repeated fault repeats: more in the soak.
func soakTimes(m mode) int {
	if m.soak > 0 {
		return 2
	}
	return 1
}

// tokenRevoked revokes the bot's token, then restores it (the same
// secret works again, as after a personal access token is disabled and
// enabled).
func tokenRevoked(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	d := s.mode.span(2 * time.Second)
	last, start := s.lastSocket(), time.Now()
	s.w.srv.RevokeToken(s.w.token)
	if err := pause(ctx, d); err != nil {
		return "", err
	}
	if err := s.w.srv.AddToken(s.w.bot.ID, s.w.token, "restored"); err != nil {
		return "", err
	}
	// The revoked socket stays deaf, as on the real server: the bot has
	// to notice and connect again.
	rd, err := s.reconnected(ctx, last, start)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("revoked for %v; reconnected after %v", d, rd), nil
}

// deadQuiet finds, in the bot's line about a dead link, how long it had
// heard nothing.
var deadQuiet = regexp.MustCompile(`nothing received for ([0-9.]+[a-zµ]+)`)

// halfOpen black-holes the bot's WebSocket: it stays open at both ends
// and carries nothing. The bot must find out and connect again.
func halfOpen(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	c, err := s.w.proxy.WaitConn(ctx, newerSocket(0))
	if err != nil {
		return "", err
	}
	since := s.bot.logs.len()
	start := time.Now()
	s.w.proxy.BlackholeIf(func(x faultproxy.Conn) bool { return x.ID == c.ID })
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	i, err := s.bot.waitLog(wctx, since, `link dead`)
	cancel()
	if err != nil {
		return "", fmt.Errorf("the bot did not find the dead link: %w", err)
	}
	found := time.Since(start).Round(time.Millisecond)
	quiet := "?"
	if m := deadQuiet.FindStringSubmatch(s.bot.logs.line(i)); m != nil {
		quiet = m[1]
	}
	d, err := s.reconnected(ctx, c.ID, start)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("dead link found after %v (nothing heard for %s), replaced after %v", found, quiet, d), nil
}

// botRestarts stops the bot twice while the users go on: once as a
// deploy does (SIGTERM), once as a crash (SIGKILL), and starts it again
// after a few seconds.
func botRestarts(ctx context.Context, s *suite, r *rand.Rand) (string, error) {
	var parts []string
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := pause(ctx, between(r, 500*time.Millisecond, 2*time.Second)); err != nil {
			return "", err
		}
		s.event("bot %d stopped by %v", s.bot.n, sig)
		code := s.bot.stop(sig)
		if sig == syscall.SIGTERM && code != 0 {
			return "", fmt.Errorf("bot %d exited %d after SIGTERM\n%s", s.bot.n, code, s.bot.logs.tail(40))
		}
		down := s.mode.span(between(r, time.Second, 3*time.Second))
		if err := pause(ctx, down); err != nil {
			return "", err
		}
		start := time.Now()
		s.startBot()
		s.event("bot %d connected", s.bot.n)
		parts = append(parts, fmt.Sprintf("%v: down %v, connected in %v", sig, down.Round(time.Millisecond),
			time.Since(start).Round(time.Millisecond)))
	}
	return strings.Join(parts, "; "), nil
}
