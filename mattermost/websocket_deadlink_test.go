package mattermost

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDeadLinkClock(t *testing.T) {
	const s = time.Second
	type step struct {
		now, heard time.Duration
		ping, dead bool
		next       time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"quiet healthy link: a ping per idle period", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 6 * s, heard: 5 * s, next: 10 * s}, // the pong came at once
			{now: 10 * s, heard: 5 * s, ping: true, next: 11 * s},
			{now: 11 * s, heard: 10 * s, next: 15 * s},
		}},
		{"black hole: dead after DeadLinkAfter", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 6 * s, heard: 0, next: 7 * s},
			{now: 7 * s, heard: 0, next: 8 * s},
			{now: 8 * s, heard: 0, next: 9 * s},
			{now: 9 * s, heard: 0, next: 10 * s},
			{now: 10 * s, heard: 0, dead: true},
		}},
		{"busy link: news keeps it from pinging", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 4 * s, next: 9 * s},
			{now: 9 * s, heard: 8 * s, next: 13 * s},
		}},
		{"news at the instant of the ping: the next quiet period pings again", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 6 * s, heard: 5 * s, next: 10 * s},
			{now: 10 * s, heard: 5 * s, ping: true, next: 11 * s},
		}},
		{"pause while a ping is out: a fresh ping and its full wait", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 65 * s, heard: 0, ping: true, next: 66 * s}, // due at 6 s
			{now: 66 * s, heard: 65 * s, next: 70 * s},        // the pong was read after all
		}},
		{"pause on a dead link: dead once the fresh ping had its wait", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 65 * s, heard: 0, ping: true, next: 66 * s},
			{now: 66 * s, heard: 0, next: 67 * s},
			{now: 67 * s, heard: 0, next: 68 * s},
			{now: 68 * s, heard: 0, next: 69 * s},
			{now: 69 * s, heard: 0, next: 70 * s},
			{now: 70 * s, heard: 0, dead: true},
		}},
		{"late by half a step or less", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 5 * s, heard: 0, ping: true, next: 6 * s},
			{now: 6*s + 500*time.Millisecond, heard: 0, next: 7*s + 500*time.Millisecond},
		}},
		{"pause while idle: the ping still gets its wait", []step{
			{now: 0, heard: 0, next: 5 * s},
			{now: 60 * s, heard: 0, ping: true, next: 61 * s},
			{now: 61 * s, heard: 60 * s, next: 65 * s},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeadLinkClock(10 * s)
			for i, st := range tc.steps {
				ping, dead, next := d.wake(st.now, st.heard)
				if ping != st.ping || dead != st.dead || (!dead && next != st.next) {
					t.Fatalf("step %d: wake(%v, %v) = ping %v, dead %v, next %v; want %v, %v, %v",
						i, st.now, st.heard, ping, dead, next, st.ping, st.dead, st.next)
				}
			}
		})
	}
}

// postedOf returns a posted event's data with a message of n bytes.
func postedOf(n int) string {
	return strings.Replace(postedData, `\"message\":\"hi\"`, `\"message\":\"`+strings.Repeat("x", n)+`\"`, 1)
}

// relayed sets up a network whose connections go through test links.
func relayed(rate int) func(*pipeNet) {
	return func(n *pipeNet) { n.relay, n.rate = true, rate }
}

// TestWebSocketDeadLink black-holes a link at several moments after the
// last news and measures, on the fake clock, when the WebSocket finds it
// dead (with default options), then checks that it reconnects and goes on.
func TestWebSocketDeadLink(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration // when the link is black-holed, after hello
		last time.Duration // when the last news came before it (a pong)
	}{
		{"just after hello", time.Millisecond, 0},
		{"mid-way to the first ping", 2500 * time.Millisecond, 0},
		{"just before a ping", 4999 * time.Millisecond, 0},
		{"just after a pong, a minute in", time.Minute + time.Millisecond, time.Minute},
		{"just before a ping, a minute in", time.Minute + 4999*time.Millisecond, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake, hc, pn := startFakeNet(t, relayed(0))
				// No backoff: the new connection is dialed the instant
				// the old one is found dead. No keepalive ping action:
				// its reply at 30 s and 60 s is news too, and whether
				// it or the ping frame due at the same instant comes
				// first is up to the scheduler (10 to 12 ping frames
				// by a minute); the dead-link watch is the same.
				w := newTestWS(t, hc, &WebSocketOptions{MinBackoff: time.Nanosecond, PingInterval: time.Hour})
				runWS(t, w)
				expect(t, w, EventHello, 0)
				first := <-fake.dialed
				oldID := fake.LastID()

				time.Sleep(time.Until(first.at.Add(tc.at)))
				if n := len(fake.Pings()); n != int(tc.last/(5*time.Second)) {
					t.Fatalf("%d pings before the black hole, want one per 5 s", n)
				}
				pn.lastLink().Blackhole()
				holed := time.Now()

				second := <-fake.dialed
				took := second.at.Sub(holed)
				t.Logf("black-holed %v after the last news: found dead %v later", tc.at-tc.last, took)
				if want := first.at.Add(tc.last + DefaultDeadLinkAfter).Sub(holed); took != want {
					t.Errorf("found dead %v after the black hole, want %v (DeadLinkAfter after the last news)", took, want)
				}
				if took > DefaultDeadLinkAfter {
					t.Errorf("found dead %v after the black hole, want at most %v", took, DefaultDeadLinkAfter)
				}
				if second.query.Get("connection_id") != oldID {
					t.Errorf("reconnect query %v, want a resume of %s", second.query, oldID)
				}
				// The server still holds the old connection as active (it
				// has not noticed), so it cannot resume: the loss is
				// reported, and the new connection carries events.
				expect(t, w, EventMissed, 0)
				expect(t, w, EventHello, 0)
				fake.Publish(EventPosted, postedData)
				expect(t, w, EventPosted, 1)
			})
		})
	}
}

// TestWebSocketDeadLinkBusy checks that a pong arriving long after
// DeadLinkAfter, behind a backlog on a slow link, is no false alarm: the
// backlog arriving shows the link alive, even when it is a single frame.
// The keepalive ping action's reply, behind the same backlog, is excused
// too.
func TestWebSocketDeadLinkBusy(t *testing.T) {
	tests := []struct {
		name   string
		frames int
		size   int
	}{
		{"many events", 200, 4 << 10},
		{"one huge event", 1, 800 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// 20 KB/s: the 800 KB backlog takes 40 s, four times
				// DeadLinkAfter, and covers the first keepalive action.
				fake, hc, _ := startFakeNet(t, relayed(20<<10))
				w := newTestWS(t, hc, &WebSocketOptions{MinBackoff: time.Nanosecond})
				runWS(t, w)
				expect(t, w, EventHello, 0)
				<-fake.dialed

				// The first ping frame finds the server busy: it writes
				// the backlog before the pong.
				var once sync.Once
				data := postedOf(tc.size)
				fake.set(func(s *fakeWS) {
					s.onPing = func() {
						once.Do(func() {
							for range tc.frames {
								fake.Publish(EventPosted, data)
							}
						})
					}
				})
				for seq := int64(1); seq <= int64(tc.frames); seq++ {
					expect(t, w, EventPosted, seq)
				}
				time.Sleep(time.Minute)
				if n := len(fake.dialed); n != 0 {
					t.Fatalf("%d reconnects, want none: the link was busy, not dead", n)
				}
				if n := len(fake.Pings()); n < 2 {
					t.Fatalf("%d ping frames, want the one the backlog delayed and later ones", n)
				}
				fake.Publish(EventPosted, postedData)
				expect(t, w, EventPosted, int64(tc.frames)+1)
			})
		})
	}
}

// TestWebSocketDeadLinkPongsLost checks that on a link with steady
// traffic a lost pong is no false alarm, and that once the traffic stops
// the missing pongs do make the link dead.
func TestWebSocketDeadLinkPongsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc := startFake(t)
		w := newTestWS(t, hc, &WebSocketOptions{MinBackoff: time.Nanosecond})
		runWS(t, w)
		expect(t, w, EventHello, 0)
		<-fake.dialed
		fake.set(func(s *fakeWS) { s.noPong = true })
		var seq int64
		for range 60 { // two minutes, an event every 2 s
			time.Sleep(2 * time.Second)
			seq = fake.Publish(EventPosted, postedData)
			expect(t, w, EventPosted, seq)
		}
		last := time.Now()
		if n := len(fake.dialed); n != 0 {
			t.Fatalf("%d reconnects during the traffic, want none", n)
		}
		second := <-fake.dialed
		if d := second.at.Sub(last); d != DefaultDeadLinkAfter {
			t.Errorf("found dead %v after the last event, want %v", d, DefaultDeadLinkAfter)
		}
	})
}

// TestWebSocketDeadLinkPause plays a pause of the whole process (a long
// garbage collection): the watch's timers fire a minute late, and the pong
// that came meanwhile is read only after the watch wakes, the worst order.
// No false alarm; but a link that did die during the pause is found soon
// after.
func TestWebSocketDeadLinkPause(t *testing.T) {
	tests := []struct {
		name string
		dead bool // the link is black-holed during the pause
	}{
		{"healthy link", false},
		{"link dead during the pause", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake, hc, pn := startFakeNet(t, relayed(0))
				// The pause is played on the dead-link watch alone: the
				// keepalive action, which it would not pause, is kept
				// out of the way.
				w := newTestWS(t, hc, &WebSocketOptions{MinBackoff: time.Nanosecond, PingInterval: time.Hour})
				var mu sync.Mutex
				var pauseUntil time.Time
				w.wakeHook = func() {
					mu.Lock()
					d := time.Until(pauseUntil)
					mu.Unlock()
					if d > 0 {
						time.Sleep(d)
					}
				}
				runWS(t, w)
				expect(t, w, EventHello, 0)
				first := <-fake.dialed

				// The pause begins as the first ping reaches the server,
				// before its pong is written.
				var once sync.Once
				var resumed time.Time
				fake.set(func(s *fakeWS) {
					s.onPing = func() {
						once.Do(func() {
							mu.Lock()
							pauseUntil = time.Now().Add(time.Minute)
							resumed = pauseUntil
							mu.Unlock()
							pn.lastLink().Hold(resumed.Add(time.Millisecond))
							if tc.dead {
								pn.lastLink().Blackhole()
							}
						})
					}
				})
				if !tc.dead {
					time.Sleep(5 * time.Minute)
					if n := len(fake.dialed); n != 0 {
						t.Fatalf("%d reconnects after the pause, want none", n)
					}
					fake.Publish(EventPosted, postedData)
					expect(t, w, EventPosted, 1)
					return
				}
				second := <-fake.dialed
				mu.Lock()
				defer mu.Unlock()
				if got, want := second.at.Sub(resumed), 5*time.Second; got != want {
					t.Errorf("found dead %v after the pause, want %v (a fresh ping's wait)", got, want)
				}
				if got := second.at.Sub(first.at); got < 65*time.Second {
					t.Errorf("found dead %v after hello, want no verdict before the pause ended", got)
				}
			})
		})
	}
}

// TestWebSocketDeadLinkOff checks that a negative DeadLinkAfter sends no
// ping frames, leaving a black hole to the keepalive ping action.
func TestWebSocketDeadLinkOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake, hc, pn := startFakeNet(t, relayed(0))
		opts := &WebSocketOptions{DeadLinkAfter: -1, MinBackoff: time.Nanosecond}
		w := newTestWS(t, hc, opts)
		runWS(t, w)
		expect(t, w, EventHello, 0)
		first := <-fake.dialed
		pn.lastLink().Blackhole()
		second := <-fake.dialed
		// The keepalive action at 30 s, unanswered by 40 s.
		if got, want := second.at.Sub(first.at), DefaultPingInterval+DefaultReplyTimeout; got != want {
			t.Errorf("found dead %v after hello, want %v", got, want)
		}
		if n := len(fake.Pings()); n != 0 {
			t.Errorf("%d ping frames, want none", n)
		}
	})
}
