package mattermost

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// This file holds the dead-link watch of a connection: it finds a
// half-open link (nothing arrives any more, and neither end was told)
// within WebSocketOptions.DeadLinkAfter.
//
// Why a ping frame and not the ping action: the server (gorilla/websocket
// in web_conn.go) answers a ping frame from its read loop at once, while
// the action's reply waits in the connection's send queue behind up to
// 256 events. The server's own keepalive is far too slow for us: a ping
// frame every 60 s and a read deadline of 100 s (pingInterval,
// pongWaitTime), and it only tells the server.
//
// Why any byte counts, not only the pong: the pong of a busy link may sit
// behind megabytes of events on the way, but those bytes arriving prove
// what matters, that the server's writes reach us. Counting parts of
// frames (not whole frames) keeps one huge frame on a slow link from
// passing for silence.
//
// Why pauses need care: a pause of the whole process (a long garbage
// collection, a stopped VM or container) stops our reader and our timers
// alike. On resume, timers that fell due fire at once, possibly before the
// reader has read the pong that came meanwhile. Time is read on the
// monotonic clock (time.Since), so that a wall-clock step changes nothing;
// and a wake that comes late shows the pause: the watch then sends a fresh
// ping and gives it its full wait before concluding anything.

// errDeadLink is the dead-link watch's verdict.
var errDeadLink = errors.New("mattermost: websocket link dead")

// liveness is what the dead-link watch knows of a connection: when
// something last arrived. Times are durations since born on the monotonic
// clock.
type liveness struct {
	born      time.Time
	heard     atomic.Int64 // anything: a frame, part of one, a ping or pong frame
	heardData atomic.Int64 // part of a data frame: an event or a reply
}

func (l *liveness) now() time.Duration { return time.Since(l.born) }

func (l *liveness) markHeard() { l.heard.Store(int64(l.now())) }

func (l *liveness) markData() {
	n := int64(l.now())
	l.heard.Store(n)
	l.heardData.Store(n)
}

// deadLinkClock decides, each time the watch wakes, whether to ping,
// whether the link is dead, and when to wake next. It is the watch's
// logic without goroutines or timers; all times are on liveness's clock.
type deadLinkClock struct {
	after time.Duration // DeadLinkAfter
	idle  time.Duration // ping after this long without news: after/2
	wait  time.Duration // a ping's time to be answered: after-idle
	// step is the longest sleep while a ping is out, and step/2 the
	// lateness taken for a pause: a pause that ends between two wakes
	// unnoticed leaves the reader at least step/2 to catch up before the
	// verdict.
	step   time.Duration
	pinged time.Duration // when the last ping was asked for; -1: never
	due    time.Duration // when the current wake was due
}

func newDeadLinkClock(after time.Duration) *deadLinkClock {
	idle := after / 2
	wait := after - idle
	return &deadLinkClock{after: after, idle: idle, wait: wait, step: max(wait/5, time.Millisecond), pinged: -1}
}

// wake is called at now, with heard the time of the last news. It
// reports whether to send a ping, whether the link is dead (no news for
// after, and a ping unanswered for its full wait), and when to wake next.
func (d *deadLinkClock) wake(now, heard time.Duration) (ping, dead bool, next time.Duration) {
	late := now-d.due > d.step/2 // the process did not run when it should have
	if now-heard < d.idle {
		d.due = heard + d.idle
		return false, false, d.due
	}
	if d.pinged <= heard || late {
		// No ping since the news; or we were paused, and what came
		// meanwhile may still be waiting to be read: a fresh ping gets
		// its full wait from now.
		ping, d.pinged = true, now
	}
	deadline := max(heard+d.after, d.pinged+d.wait)
	if now >= deadline {
		return ping, true, 0
	}
	d.due = min(deadline, now+d.step)
	return ping, false, d.due
}

// watch runs the dead-link watch until ctx is done (it returns the cause)
// or the link is found dead (it returns an error wrapping errDeadLink).
// It asks pinger for pings on pings.
func (c *wsConn) watch(ctx context.Context, pings chan<- struct{}) error {
	d := newDeadLinkClock(c.w.opts.DeadLinkAfter)
	now := c.live.now()
	d.due = now
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		heard := max(time.Duration(c.live.heard.Load()), time.Duration(c.unstalled.Load()))
		if c.stalled.Load() {
			// The reader waits for the receiver: nothing is read, so
			// silence says nothing. The clock restarts when it reads.
			heard = now
		}
		ping, dead, next := d.wake(now, heard)
		if dead {
			return fmt.Errorf("%w: nothing received for %v, and no pong for %v", errDeadLink, now-heard, now-d.pinged)
		}
		if ping {
			c.logger.Debug("websocket quiet: ping frame", "quiet", now-heard)
			select {
			case pings <- struct{}{}:
			default: // one is asked already
			}
		}
		t.Reset(next - now)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		if c.w.wakeHook != nil {
			c.w.wakeHook()
		}
		now = c.live.now()
	}
}

// pinger sends a ping frame each time watch asks, until ctx is done. The
// pong itself is noted by the library's callback (OnPongReceived): Ping's
// wait is only bounded here, never judged.
func (c *wsConn) pinger(ctx context.Context, pings <-chan struct{}) {
	wait := c.w.opts.DeadLinkAfter - c.w.opts.DeadLinkAfter/2
	for {
		select {
		case <-ctx.Done():
			return
		case <-pings:
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.logger.Debug("websocket ping frame unanswered", "err", err)
		}
	}
}
