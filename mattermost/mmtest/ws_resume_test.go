package mmtest

import (
	"fmt"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
)

// recordedIDs maps the recordings' ids to the test state's.
var recordedIDs = map[string]string{
	recordedUser:                 alice,
	"eofczhjqg7d4pd5iz5pcjmmjfo": opsChan,
}

// eventOf turns a recorded frame back into the event that produced it.
func eventOf(f map[string]any) wsEvent {
	b := f["broadcast"].(map[string]any)
	ev := wsEvent{Event: f["event"].(string), Data: f["data"].(map[string]any)}
	ev.Broadcast.UserID, _ = b["user_id"].(string)
	ev.Broadcast.ChannelID, _ = b["channel_id"].(string)
	ev.Broadcast.TeamID, _ = b["team_id"].(string)
	if om, ok := b["omit_users"].(map[string]any); ok {
		ev.Broadcast.OmitUsers = map[string]bool{}
		for k := range om {
			ev.Broadcast.OmitUsers[k] = true
		}
	}
	return ev
}

// connected returns a client of alice that has read its hello and n
// events (seq 1..n), and its connection id.
func connected(t *testing.T, e *wsEnv, n int) (*wsClient, string) {
	t.Helper()
	c := e.dial(dialOpts{bearer: "tok-alice"})
	cid := c.hello()
	for i := range n {
		e.h.Publish(postedEvent(opsChan, "before "+strconv.Itoa(i+1)))
		if f := c.next(); seqOf(f) != int64(i+1) {
			t.Fatalf("event %v, want seq %d", f, i+1)
		}
	}
	return c, cid
}

// TestWSResumeReplay replays recorded/ws_resume_replay.json: the status
// changes of the disconnect and the reconnect and the posts published while
// the client was away arrive on resume with their seq numbers and no hello.
func TestWSResumeReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := recorded(t, "ws_resume_replay.json")
		last := int(rec["last_seq_before"].(float64))
		var frames []map[string]any
		for _, f := range rec["frames"].([]any) {
			frames = append(frames, substitute(f.(map[string]any), recordedIDs))
		}
		var e *wsEnv
		var h *hub
		e = newWSEnv(t, func(o *hubOptions) { withStatus(o, &h) })
		h = e.h
		c := e.dial(dialOpts{bearer: "tok-alice"})
		cid := c.hello()
		if f := c.next(); f["event"] != "status_change" || seqOf(f) != 1 {
			t.Fatalf("got %v, want status_change seq 1", f)
		}
		e.h.Publish(postedEvent(opsChan, "seen"))
		if f := c.next(); seqOf(f) != int64(last) {
			t.Fatalf("got %v, want seq %d", f, last)
		}
		e.h.DropAll() // publishes status offline
		c.wantClosed(true)
		for _, f := range frames {
			if f["event"] == "posted" {
				e.h.Publish(eventOf(f))
			}
		}
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, strconv.Itoa(last+1))})
		var got []map[string]any
		for range frames {
			got = append(got, r.next())
		}
		if d := cmp.Diff(frames, got); d != "" {
			t.Errorf("resumed frames differ from recorded (-want +got):\n%s", d)
		}
		r.none()
	})
}

func TestWSResumeFromDeadQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c, cid := connected(t, e, 5)
		_ = c
		e.h.DropAll()
		// The client says it saw only up to 2: 3, 4, 5 come again.
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "3")})
		for want := int64(3); want <= 5; want++ {
			f := r.next()
			if seqOf(f) != want || message(t, f) != "before "+strconv.FormatInt(want, 10) {
				t.Errorf("replayed %v, want event %d", f, want)
			}
		}
		r.none()
		e.h.Publish(postedEvent(opsChan, "after"))
		if f := r.next(); seqOf(f) != 6 || message(t, f) != "after" {
			t.Errorf("got %v, want the new event with seq 6", f)
		}
		// The same connection id keeps working for a second resume.
		e.h.DropAll()
		r2 := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "6")})
		if f := r2.next(); seqOf(f) != 6 || message(t, f) != "after" {
			t.Errorf("second resume got %v, want seq 6 again", f)
		}
	})
}

func TestWSResumeLossless(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		_, cid := connected(t, e, 2)
		e.h.DropAll()
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "3")})
		r.none() // nothing missed, no hello
		e.h.Publish(postedEvent(opsChan, "next"))
		if f := r.next(); seqOf(f) != 3 {
			t.Errorf("got %v, want seq 3", f)
		}
	})
}

func TestWSResumeLossy(t *testing.T) {
	tests := []struct {
		name string
		seq  string
	}{
		{"older than the dead queue", "2"},
		{"from the future", "100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, func(o *hubOptions) { o.DeadQueueSize = 4 })
				_, cid := connected(t, e, 10)
				e.h.DropAll()
				e.h.Publish(postedEvent(opsChan, "queued"))
				r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, tc.seq)})
				newID := r.hello()
				if newID == cid {
					t.Errorf("lossy resume kept connection id %q, want a new one", cid)
				}
				// The queued event follows, numbered after the new hello.
				if f := r.next(); seqOf(f) != 1 || message(t, f) != "queued" {
					t.Errorf("got %v, want the queued event with seq 1", f)
				}
				// The new id is the one to resume with now.
				e.h.DropAll()
				r2 := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(newID, "2")})
				r2.none()
				e.h.Publish(postedEvent(opsChan, "x"))
				if f := r2.next(); seqOf(f) != 2 {
					t.Errorf("got %v, want seq 2", f)
				}
				e.h.DropAll()
				r3 := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "1")})
				if id := r3.hello(); id == cid || id == newID {
					t.Errorf("old id resumed as %q", id)
				}
			})
		})
	}
}

// TestWSResumeSeqZero copies a quirk of the real writePump: with
// sequence_number=0 it checks nothing, sends no hello, and numbers the next
// event 0.
func TestWSResumeSeqZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		_, cid := connected(t, e, 3)
		e.h.DropAll()
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "0")})
		r.none()
		e.h.Publish(postedEvent(opsChan, "x"))
		if f := r.next(); seqOf(f) != 0 {
			t.Errorf("got %v, want seq 0", f)
		}
	})
}

func TestWSResumeFresh(t *testing.T) {
	rec := recordedFrames(t, "ws_resume_unknown_connection.json")[0]
	recCID := rec["data"].(map[string]any)["connection_id"].(string)
	tests := []struct {
		name  string
		setup func(t *testing.T, e *wsEnv, cid string) (query string, token string)
	}{
		{"unknown id", func(*testing.T, *wsEnv, string) (string, string) { return mattermost.NewID(), "tok-alice" }},
		{"still active", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.dial(dialOpts{bearer: "tok-alice"}).hello()
			return "", "tok-alice" // the connection of connected is live
		}},
		{"another user's", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.h.DropAll()
			return cid, "tok-bob"
		}},
		{"reaped", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.h.DropAll()
			time.Sleep(5*time.Minute + time.Second)
			return cid, "tok-alice"
		}},
		{"reaped, seen by a publish", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.h.DropAll()
			time.Sleep(5*time.Minute + time.Second)
			e.h.Publish(postedEvent(opsChan, "x"))
			return cid, "tok-alice"
		}},
		{"restarted", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.h.Restart()
			return cid, "tok-alice"
		}},
		{"queue overflowed while away", func(t *testing.T, e *wsEnv, cid string) (string, string) {
			e.h.DropAll()
			for range 257 {
				e.h.Publish(postedEvent(opsChan, "x"))
			}
			return cid, "tok-alice"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, nil)
				_, cid := connected(t, e, 2)
				q, token := tc.setup(t, e, cid)
				if q == "" {
					q = cid
				}
				r := e.dial(dialOpts{bearer: token, query: resumeQuery(q, "3")})
				f := r.next()
				got, _ := f["data"].(map[string]any)["connection_id"].(string)
				if got == cid || !mattermost.IsValidID(got) {
					t.Fatalf("hello connection_id %q, want a new valid id (old %q)", got, cid)
				}
				user := alice
				if token == "tok-bob" {
					user = bob
				}
				want := substitute(rec, map[string]string{recordedUser: user, recCID: got})
				if d := cmp.Diff(want, f); d != "" {
					t.Errorf("hello differs from recorded (-want +got):\n%s", d)
				}
			})
		})
	}
}

// TestWSResumeRefused: a resume refused for its connection id or its
// sequence number closes the socket. Today's hub has then lost the
// connection; with KeepOnBadResume (the 5.36 hub) a later good resume
// still works.
func TestWSResumeRefused(t *testing.T) {
	tests := []struct {
		name string
		cid  func(cid string) string
		seq  string
		lost bool // the connection can no longer be resumed (today's hub)
	}{
		{"malformed connection id", func(string) string { return "not-an-id" }, "3", false},
		{"missing sequence number", func(c string) string { return c }, "", true},
		{"sequence number not a number", func(c string) string { return c }, "three", true},
		{"negative sequence number", func(c string) string { return c }, "-1", true},
	}
	for _, keep := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s, keep %v", tc.name, keep), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					e := newWSEnv(t, func(o *hubOptions) { o.KeepOnBadResume = keep })
					_, cid := connected(t, e, 2)
					e.h.DropAll()
					r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(tc.cid(cid), tc.seq)})
					r.wantClosed(true)
					r.none()
					ok := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "3")})
					if tc.lost && !keep {
						if id := ok.hello(); id == cid {
							t.Errorf("resumed %q after a refused resume, want a fresh connection", cid)
						}
						return
					}
					ok.none() // resumed: no hello
					ok.wantOpen()
				})
			})
		}
	}
}

func TestWSResumeNeedsHeaderAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		_, cid := connected(t, e, 2)
		e.h.DropAll()
		// Without a session at upgrade the ids are ignored: a plain
		// unauthenticated socket; the challenge then gives a new id.
		u := e.dial(dialOpts{query: resumeQuery(cid, "3")})
		u.none()
		u.send("authentication_challenge", map[string]any{"token": "tok-alice"})
		if id := u.hello(); id == cid {
			t.Errorf("challenge resumed %q", cid)
		}
		// The old connection is still there to resume.
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "3")})
		r.none()
		r.wantOpen()
	})
}

func TestWSRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		a, cid := connected(t, e, 1)
		b := e.dial(dialOpts{bearer: "tok-bob"})
		b.hello()
		e.h.Restart()
		a.wantClosed(true)
		b.wantClosed(true)
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "2")})
		if id := r.hello(); id == cid {
			t.Errorf("resumed %q after Restart", cid)
		}
	})
}
