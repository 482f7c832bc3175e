package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/cronexpr"
)

// Schedule is a periodic job a plugin declared with Every or Cron.
type Schedule struct {
	Plugin   string
	Interval time.Duration // for Every
	Spec     string        // for Cron
	Run      func(ctx context.Context) error
}

// String returns "every 1m0s" or "cron */5 * * * *", as in the logs.
func (s Schedule) String() string {
	if s.Spec != "" {
		return "cron " + s.Spec
	}
	return "every " + s.Interval.String()
}

// schedule is a declared Schedule with its parsed cron expression.
type schedule struct {
	Schedule
	cron *cronexpr.Expression // nil for Every
}

// Every declares f to run every interval while the plugin is active
// (Errbot's start_poller): the first run is one interval after the
// plugin is activated. Runs of one job never overlap: when a run takes
// longer than the interval, the ticks it overran are skipped.
//
// f's ctx is cancelled when the plugin is deactivated or the engine shuts
// down; a run has no deadline of its own (use context.WithTimeout). An
// error is logged; a panic is logged with its stack, and the job runs
// again at the next tick.
func (p *Plugin) Every(interval time.Duration, f func(ctx context.Context) error) {
	switch {
	case interval <= 0:
		p.errs = append(p.errs, fmt.Errorf("Every(%v): the interval must be positive", interval))
	case f == nil:
		p.errs = append(p.errs, fmt.Errorf("Every(%v): %w", interval, errNoHandler))
	default:
		p.addSchedule(&schedule{Schedule: Schedule{Plugin: p.name, Interval: interval, Run: f}})
	}
}

// Cron declares f to run on a cron schedule while the plugin is active,
// in the time zone Options.Location. spec has the five standard fields
// (minute, hour, day of month, month, day of week: "*/5 * * * *",
// "0 9 * * MON-FRI"), with the extensions L, W and # in the day fields,
// or is one of @yearly, @annually, @monthly, @weekly, @daily and
// @hourly. Sunday is 0 or 7 ("0 0 * * 5-7" is Friday to Sunday). A bad
// spec, a range that runs backwards ("22-2") included, makes New fail,
// naming the plugin and the spec. Runs behave as for Every: never two at once, a run that overruns the
// next time skips it.
func (p *Plugin) Cron(spec string, f func(ctx context.Context) error) {
	expr, err := parseCron(spec)
	switch {
	case err != nil:
		p.errs = append(p.errs, fmt.Errorf("Cron(%q): %w", spec, err))
	case f == nil:
		p.errs = append(p.errs, fmt.Errorf("Cron(%q): %w", spec, errNoHandler))
	default:
		p.addSchedule(&schedule{Schedule: Schedule{Plugin: p.name, Spec: spec, Run: f}, cron: expr})
	}
}

func (p *Plugin) addSchedule(s *schedule) {
	p.scheds = append(p.scheds, s)
}

// next returns when s runs next after a run due at prev finished at now,
// or the zero time when it never runs again (a cron spec such as
// "0 0 30 2 *"). err is set, with the zero time, if cronexpr panicked:
// parseCron refuses the specs known to do that, and this keeps one we
// do not know of from taking the bot down.
func (s *schedule) next(prev, now time.Time, loc *time.Location) (next time.Time, err error) {
	if s.cron != nil {
		defer func() {
			if r := recover(); r != nil {
				next, err = time.Time{}, fmt.Errorf("cronexpr panicked computing the time after %v: %v", now.In(loc), r)
			}
		}()
		return s.cron.Next(now.In(loc)), nil
	}
	next = prev.Add(s.Interval)
	if !next.After(now) {
		// Overran: skip the ticks that passed during the run.
		next = next.Add((now.Sub(next)/s.Interval + 1) * s.Interval)
	}
	return next, nil
}

// startJobs gives the plugin the context of its activation and starts
// its schedules under it, unless this is done already or the engine is
// not running. Called with p.life held.
func (e *Engine) startJobs(p *Plugin) {
	if p.stopJobs != nil {
		return
	}
	base := e.baseContext()
	if base == nil {
		return // Run starts them
	}
	ctx, cancel := context.WithCancel(base)
	done := make(chan struct{})
	if len(p.scheds) == 0 && len(p.timers.handlers) == 0 {
		close(done)
	} else if !e.goService(func() {
		defer close(done)
		e.runSchedules(ctx, p)
	}) {
		cancel()
		return
	}
	p.actx.Store(&ctx)
	p.stopJobs, p.jobsDone = cancel, done
}

// stopJobs cancels the context of the plugin's activation, which stops
// its schedules and webhook requests, and waits for the schedules to
// return, or for ctx. Called with p.life held.
func (e *Engine) stopJobs(ctx context.Context, p *Plugin) error {
	if p.stopJobs == nil {
		return nil
	}
	p.stopJobs()
	done := p.jobsDone
	p.stopJobs, p.jobsDone = nil, nil
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduled jobs still running: %w", ctx.Err())
	}
}

// runSchedules runs each of p's schedules, and its one-shot timers, in a
// goroutine of its own until ctx is done, and returns when they have all
// returned.
func (e *Engine) runSchedules(ctx context.Context, p *Plugin) {
	var wg sync.WaitGroup
	for _, s := range p.scheds {
		wg.Go(func() { e.loop(ctx, p, s) })
	}
	if len(p.timers.handlers) > 0 {
		wg.Go(func() { e.runTimers(ctx, p) })
	}
	wg.Wait()
}

// loop runs s at its times until ctx is done. One goroutine per schedule
// runs it synchronously, so two runs of a job never overlap.
func (e *Engine) loop(ctx context.Context, p *Plugin, s *schedule) {
	log := e.log.With("plugin", p.name, "schedule", s.String())
	now := time.Now()
	next, err := s.next(now, now, e.opts.Location)
	var t *time.Timer
	for {
		switch {
		case err != nil:
			log.Error("schedule stopped", "err", err)
			return
		case next.IsZero():
			log.Warn("schedule has no next time; stopped")
			return
		}
		if t == nil {
			t = time.NewTimer(time.Until(next))
			defer t.Stop()
		} else {
			t.Reset(time.Until(next)) // Go 1.23 timers: no stale tick to drain
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.runJob(ctx, log, s)
		next, err = s.next(next, time.Now(), e.opts.Location)
	}
}

// runJob runs s once, logging an error or a panic.
func (e *Engine) runJob(ctx context.Context, log *slog.Logger, s *schedule) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("scheduled job panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := s.Run(ctx); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return // stopped by deactivation or shutdown
		}
		log.Warn("scheduled job failed", "err", err)
	}
}
