package faultsuite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mode is how the suite runs, from the environment (see the package
// doc).
type mode struct {
	soak  time.Duration // 0: the short run
	seed  uint64
	force bool     // run the skipped faults too
	only  []string // run only the faults whose names contain one of these
}

// selects reports whether the mode runs the fault named name.
func (m mode) selects(name string) bool {
	if len(m.only) == 0 {
		return true
	}
	for _, o := range m.only {
		if strings.Contains(name, o) {
			return true
		}
	}
	return false
}

// shortScale scales the bot's backoffs in the short run: a reconnection
// waits 25-50 ms instead of 0.5-1 s, a retry 25-50 ms instead of 0.5-1 s.
const shortScale = 0.05

func readMode(t *testing.T) mode {
	t.Helper()
	m := mode{seed: 1}
	if v := os.Getenv("MATTERBOT_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("MATTERBOT_SOAK=%q: want a positive duration such as 10m", v)
		}
		m.soak = d
	}
	if v := os.Getenv("MATTERBOT_FAULTS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MATTERBOT_FAULTS_SEED=%q: want an unsigned integer", v)
		}
		m.seed = n
	}
	m.force = os.Getenv("MATTERBOT_FAULTS_FORCE") == "1"
	if v := os.Getenv("MATTERBOT_FAULTS_ONLY"); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				m.only = append(m.only, o)
			}
		}
	}
	return m
}

// scale is the factor of the bot's backoffs: 1 (the bot as run builds
// it) in the soak.
func (m mode) scale() float64 {
	if m.soak > 0 {
		return 1
	}
	return shortScale
}

// deadLink is the bot's dead_link_after: its default (10 s) in the soak,
// 2 s in the short run.
func (m mode) deadLink() time.Duration {
	if m.soak > 0 {
		return 0
	}
	return 2 * time.Second
}

// calm is the time after each fault, whose commands count for it.
func (m mode) calm() time.Duration {
	if m.soak > 0 {
		return 5 * time.Second
	}
	return 500 * time.Millisecond
}

func (m mode) String() string {
	if m.soak > 0 {
		return fmt.Sprintf("soak of %v, the bot as `matterbot run`", m.soak)
	}
	return fmt.Sprintf("short run, the bot's backoffs scaled by %v, dead_link_after %v", shortScale, m.deadLink())
}

// suite is one run of the fault suite.
type suite struct {
	t      *testing.T
	mode   mode
	w      *world
	ledger *ledger
	bot    *botProc // the bot running now; replaced by a restart
	bots   int
	fail   context.CancelCauseFunc // ends the run: the bot exited on its own

	events []string // the run's timeline, for the summary of a failed run
}

// event adds a line to the run's timeline.
func (s *suite) event(format string, args ...any) {
	at := time.Since(s.ledger.start).Round(time.Millisecond)
	s.events = append(s.events, fmt.Sprintf("+%v %s", at, fmt.Sprintf(format, args...)))
}

// startBot starts the next bot process. Its exit, unless the suite asked
// for it, ends the run.
func (s *suite) startBot() {
	s.bots++
	n := s.bots
	s.bot = s.w.startBot(s.t, n, s.mode.scale(), func(state *os.ProcessState) {
		s.fail(fmt.Errorf("bot %d exited on its own: %v", n, state))
	})
}

// report is what the suite learned of one fault.
type report struct {
	skipped string
	runs    []string // details, one per injection
	heaps   []heap   // the bot's after each injection
	errs    []string
}

// TestFaults is the fault suite: see the package doc.
func TestFaults(t *testing.T) {
	m := readMode(t)
	t.Logf("fault suite: %v, seed %d (MATTERBOT_FAULTS_SEED)", m, m.seed)
	runCtx, fail := context.WithCancelCause(context.Background())
	defer fail(nil)
	s := &suite{t: t, mode: m, w: newWorld(t, m.deadLink()), ledger: newLedger(), fail: fail}
	s.startBot()

	var collector, users sync.WaitGroup
	collectCtx, stopCollect := context.WithCancel(context.Background())
	collector.Go(func() { s.w.collect(collectCtx, s.ledger) })
	defer func() { stopCollect(); collector.Wait() }()
	loadCtx, stopLoad := context.WithCancel(runCtx)
	loadErrs := make(chan error, 1)
	users.Go(func() { s.w.load(loadCtx, s.ledger, m.seed, loadErrs) })
	defer func() { stopLoad(); users.Wait() }()

	if err := pause(runCtx, m.span(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	before, err := s.bot.heap()
	if err != nil {
		t.Fatal(err)
	}
	baseline := before

	reports := make([]report, len(faults))
	r := rand.New(rand.NewPCG(m.seed, 0x5eed))
	start := time.Now()
run:
	for {
		for i, f := range faults {
			if !m.selects(f.name) {
				reports[i].skipped = "not in MATTERBOT_FAULTS_ONLY"
				continue
			}
			if f.skip != nil && !m.force {
				if reason := f.skip(m); reason != "" {
					reports[i].skipped = reason
					continue
				}
			}
			s.ledger.setPhase(i + 1)
			bot := s.bot
			s.event("%s begins", f.name)
			detail, err := f.inject(runCtx, s, r)
			s.event("%s ends", f.name)
			if err == nil {
				// The calm after the fault: its commands are the
				// fault's too, as are the replies it delays.
				err = pause(runCtx, m.calm())
			}
			if err != nil {
				reports[i].errs = append(reports[i].errs, err.Error())
				if runCtx.Err() != nil {
					break run
				}
				continue
			}
			h, err := s.bot.heap()
			if err != nil {
				reports[i].errs = append(reports[i].errs, err.Error())
				continue
			}
			if s.bot != bot {
				baseline = h // a new process: its own baseline
			}
			reports[i].runs = append(reports[i].runs, detail)
			reports[i].heaps = append(reports[i].heaps, h)
		}
		if m.soak == 0 || time.Since(start) >= m.soak {
			break
		}
	}
	s.ledger.setPhase(len(faults) + 1) // the calm before the end
	_ = pause(runCtx, m.calm())
	stopLoad()
	users.Wait()

	// Every command must be answered: the last replies may wait for the
	// bot's retries (2 minutes at most) after the last fault.
	left := 0
	if runCtx.Err() == nil {
		sctx, cancel := context.WithTimeout(runCtx, 3*time.Minute)
		left = s.ledger.settle(sctx)
		cancel()
	}
	var after heap
	if s.bot.alive() {
		if after, err = s.bot.heap(); err != nil {
			t.Error(err)
		}
	}
	exited := context.Cause(runCtx)
	code := s.bot.stop(syscall.SIGTERM)

	// The summary, one line per fault.
	var out strings.Builder
	fmt.Fprintf(&out, "fault suite summary (%v, seed %d, %v):\n", m, m.seed, time.Since(start).Round(time.Second))
	fmt.Fprintf(&out, "  %-20s %v\n", "baseline", s.ledger.tally(0))
	var failed []string
	for i, f := range faults {
		rep := reports[i]
		if rep.skipped != "" {
			fmt.Fprintf(&out, "  %-20s SKIPPED: %s\n", f.name, rep.skipped)
			continue
		}
		tl := s.ledger.tally(i + 1)
		fmt.Fprintf(&out, "  %-20s %v\n", f.name, tl)
		for j, d := range rep.runs {
			fmt.Fprintf(&out, "  %-20s   %s; then %v\n", "", d, rep.heaps[j])
		}
		for _, e := range tl.examples {
			fmt.Fprintf(&out, "  %-20s   e.g. %s\n", "", e)
		}
		for _, e := range rep.errs {
			fmt.Fprintf(&out, "  %-20s   error: %s\n", "", e)
		}
		if f.p99 > 0 && tl.percentile(99) > f.p99 {
			fmt.Fprintf(&out, "  %-20s   too slow: p99 %v, want at most %v\n", "", tl.percentile(99), f.p99)
			failed = append(failed, f.name)
		} else if tl.lost > 0 || tl.duplicated > 0 || len(rep.errs) > 0 {
			failed = append(failed, f.name)
		}
	}
	fmt.Fprintf(&out, "  %-20s %v\n", "end", s.ledger.tally(len(faults)+1))
	total := s.ledger.tally(-1)
	fmt.Fprintf(&out, "  %-20s %v\n", "all", total)
	fmt.Fprintf(&out, "  bot: %d process(es); before %v; after %v; exit code %d at the end\n", s.bots, before, after, code)
	t.Log(out.String())

	switch {
	case exited != nil && !errors.Is(exited, context.Canceled):
		t.Errorf("%v; its log:\n%s", exited, s.bot.logs.tail(60))
	case code != 0:
		t.Errorf("the bot exited %d after SIGTERM; its log:\n%s", code, s.bot.logs.tail(60))
	}
	if left > 0 || total.lost > 0 || total.duplicated > 0 || len(failed) > 0 {
		t.Logf("timeline:\n  %s", strings.Join(s.events, "\n  "))
		t.Errorf("%d commands lost, %d answered more than once; faults that failed (see the summary): %v; the bot's log:\n%s",
			total.lost, total.duplicated, failed, s.bot.logs.tail(30))
	}
	if strays := s.ledger.strayReplies(); len(strays) > 0 {
		t.Errorf("%d replies answer no command sent: %q", len(strays), strays[:min(5, len(strays))])
	}
	if after.inuse > 0 && after.inuse > heapBound(baseline.inuse) {
		t.Errorf("heap in use grew from %v to %v, beyond %.1f MiB", baseline, after, float64(heapBound(baseline.inuse))/(1<<20))
	}
	select {
	case err := <-loadErrs:
		t.Errorf("a user could not post: %v", err)
	default:
	}
}

// heapBound is the most heap in use the bot may have at the end: its heap
// once warm, doubled, plus 16 MiB.
func heapBound(warm uint64) uint64 { return 2*warm + 16<<20 }
