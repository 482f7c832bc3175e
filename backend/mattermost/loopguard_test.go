package mattermost

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loopStep is one post the guard sees: a program's post (user set) or
// the bot's answer to the post replyTo (user ""), at a time (ms).
type loopStep struct {
	user, channel, id string
	replyTo           string
	at                int64
}

func post(user, channel, id string, at int64) loopStep {
	return loopStep{user: user, channel: channel, id: id, at: at}
}

func answer(replyTo string, at int64) loopStep { return loopStep{replyTo: replyTo, at: at} }

// exchanges returns n exchanges of a program with the bot in channel,
// one every gap ms from start: its post "<user>/<channel>#i", then the
// bot's answer 1 ms later.
func exchanges(user, channel string, n int, start, gap int64) []loopStep {
	var out []loopStep
	for i := range n {
		at := start + int64(i)*gap
		id := fmt.Sprintf("%s/%s#%d", user, channel, i)
		out = append(out, post(user, channel, id, at), answer(id, at+1))
	}
	return out
}

// runGuard feeds steps to g and returns the verdicts on the programs'
// posts, as "id@at:verdict" for those not passed.
func runGuard(g *loopGuard, steps []loopStep) []string {
	var out []string
	for _, s := range steps {
		if s.user == "" {
			g.answered(s.replyTo, s.at)
			continue
		}
		if v := g.check(s.user, s.channel, s.id, s.at); v != loopPass {
			out = append(out, fmt.Sprintf("%s@%d:%d", s.id, s.at, v))
		}
	}
	return out
}

func concat(parts ...[]loopStep) []loopStep {
	var out []loopStep
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestLoopGuard(t *testing.T) {
	// A program answering the bot every 100 ms, starting at 1 s.
	fast := exchanges("peer", "c1", 25, 1000, 100)
	// A slow one: every 4 s, for 2 minutes.
	slow := exchanges("peer", "c1", 30, 1000, 4000)
	// 40 posts at once, then 40 answers: nothing followed an answer.
	var burst []loopStep
	for i := range 40 {
		burst = append(burst, post("peer", "c1", fmt.Sprint("b", i), 1000+int64(i)))
	}
	for i := range 40 {
		burst = append(burst, answer(fmt.Sprint("b", i), 1100+int64(i)))
	}
	// Each post answered by three posts of the bot (a split reply).
	var split []loopStep
	for i := range 15 {
		at := 1000 + int64(i)*100
		id := fmt.Sprint("s", i)
		split = append(split, post("peer", "c1", id, at), answer(id, at+1), answer(id, at+2), answer(id, at+3))
	}
	// The bot answers people (whose posts the guard never sees) between
	// the program's posts, which it does not answer.
	var people []loopStep
	for i := range 25 {
		at := 1000 + int64(i)*100
		people = append(people, post("peer", "c1", fmt.Sprint("p", i), at), answer(fmt.Sprint("alice", i), at+2))
	}
	for _, tc := range []struct {
		name  string
		limit int
		steps []loopStep
		want  []string
	}{
		{"a program's slow pace passes", 0, slow, nil},
		{"a loop trips after the limit, then stays muted", 0, fast,
			[]string{"peer/c1#20@3000:1", "peer/c1#21@3100:2", "peer/c1#22@3200:2", "peer/c1#23@3300:2", "peer/c1#24@3400:2"}},
		{"muted for a window, then heard again", 0,
			concat(fast[:40], []loopStep{post("peer", "c1", "x", 3000), post("peer", "c1", "y", 62999), post("peer", "c1", "z", 63000)}),
			[]string{"x@3000:1", "y@62999:2"}},
		{"other channels and programs are not muted", 0,
			concat(fast[:40], []loopStep{post("peer", "c1", "x", 3000)}, exchanges("peer", "c2", 5, 3001, 10), exchanges("other", "c1", 5, 3100, 10)),
			[]string{"x@3000:1"}},
		{"a burst answered together counts once", 0, concat(burst, exchanges("peer", "c1", 5, 1200, 10)), nil},
		{"several posts of the bot answering one count once", 0, split, nil},
		{"answers to others count for no program", 0, people, nil},
		{"off", -1, fast, nil},
		{"lower limit", 3, fast[:10], []string{"peer/c1#3@1300:1", "peer/c1#4@1400:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newLoopGuard(tc.limit, 0)
			if diff := cmp.Diff(tc.want, runGuard(&g, tc.steps)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoopGuardBounded: programs idle for a window are forgotten once
// maxLoopKeys are remembered, and so are their unanswered posts; a flood
// of unanswered posts within one window is forgotten rather than kept.
func TestLoopGuardBounded(t *testing.T) {
	g := newLoopGuard(0, time.Second)
	for i := range 3 * maxLoopKeys {
		g.check(fmt.Sprintf("u%d", i), fmt.Sprintf("c%d", i), fmt.Sprint("p", i), int64(i)*10)
	}
	if n := len(g.senders); n > maxLoopKeys {
		t.Errorf("programs remembered = %d, want at most %d", n, maxLoopKeys)
	}
	if n := len(g.asked); n > maxLoopKeys {
		t.Errorf("posts remembered = %d, want at most %d", n, maxLoopKeys)
	}

	g = newLoopGuard(0, time.Minute)
	for i := range 3 * maxLoopKeys {
		g.check("flood", "c1", fmt.Sprint("p", i), 1000+int64(i))
	}
	if n := len(g.asked); n > maxLoopKeys {
		t.Errorf("posts of a flood remembered = %d, want at most %d", n, maxLoopKeys)
	}
}
