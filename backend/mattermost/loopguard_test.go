package mattermost

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loopStep is one post the guard sees: by the bot (user "bot") or by a
// sender, in a channel, at a time (ms).
type loopStep struct {
	user, channel string
	at            int64
}

// exchanges returns n exchanges of user with the bot in channel, one
// every gap ms from start: user's post, then the bot's answer 1 ms later.
func exchanges(user, channel string, n int, start, gap int64) []loopStep {
	var out []loopStep
	for i := range n {
		at := start + int64(i)*gap
		out = append(out, loopStep{user, channel, at}, loopStep{"bot", channel, at + 1})
	}
	return out
}

// run feeds steps to g and returns the verdicts on the senders' posts,
// as "user@at:verdict" for those not passed.
func runGuard(g *loopGuard, steps []loopStep) []string {
	var out []string
	for _, s := range steps {
		if s.user == "bot" {
			g.botPosted(s.channel, s.at)
			continue
		}
		if v := g.check(s.user, s.channel, s.at); v != loopPass {
			out = append(out, fmt.Sprintf("%s/%s@%d:%d", s.user, s.channel, s.at, v))
		}
	}
	return out
}

func TestLoopGuard(t *testing.T) {
	concat := func(parts ...[]loopStep) []loopStep {
		var out []loopStep
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// A person's pace: one command every 4 s, answered, for 2 minutes.
	person := exchanges("alice", "c1", 30, 0, 4000)
	// A bot's: one every 100 ms.
	fast := exchanges("peer", "c1", 25, 0, 100)
	var burst []loopStep
	for i := range 40 {
		burst = append(burst, loopStep{"alice", "c1", int64(i)})
	}
	for i := range 40 {
		burst = append(burst, loopStep{"bot", "c1", int64(100 + i)})
	}
	var split []loopStep
	for i := range 15 {
		at := int64(i) * 100
		split = append(split, loopStep{"peer", "c1", at}, loopStep{"bot", "c1", at + 1}, loopStep{"bot", "c1", at + 2})
	}
	var between []loopStep
	for i := range 25 {
		at := int64(i) * 100
		// peer posts, alice posts, the bot answers alice: alice
		// trips the guard, peer never does.
		between = append(between, loopStep{"peer", "c1", at}, loopStep{"alice", "c1", at + 1}, loopStep{"bot", "c1", at + 2})
	}
	for _, tc := range []struct {
		name  string
		limit int
		steps []loopStep
		want  []string
	}{
		{"a person's pace passes", 0, person, nil},
		{"a bot's pace trips after the limit, then stays muted",
			0, fast, []string{"peer/c1@2000:1", "peer/c1@2100:2", "peer/c1@2200:2", "peer/c1@2300:2", "peer/c1@2400:2"}},
		{"muted for a window, then heard again",
			0, concat(fast[:40], []loopStep{{"peer", "c1", 2000}, {"peer", "c1", 61999}, {"peer", "c1", 62000}}),
			[]string{"peer/c1@2000:1", "peer/c1@61999:2"}},
		{"other channels and senders are not muted",
			0, concat(fast[:40], []loopStep{{"peer", "c1", 2000}}, exchanges("peer", "c2", 5, 2001, 10), exchanges("alice", "c1", 5, 2100, 10)),
			[]string{"peer/c1@2000:1"}},
		{"a burst answered together counts once", 0, concat(burst, exchanges("alice", "c1", 5, 200, 10)), nil},
		{"several posts of the bot count once", 0, split, nil},
		{"the bot's answer counts for the last sender only", 0, between,
			[]string{"alice/c1@2001:1", "alice/c1@2101:2", "alice/c1@2201:2", "alice/c1@2301:2", "alice/c1@2401:2"}},
		{"off", -1, fast, nil},
		{"lower limit", 3, fast[:10], []string{"peer/c1@300:1", "peer/c1@400:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newLoopGuard(tc.limit, 0)
			if diff := cmp.Diff(tc.want, runGuard(&g, tc.steps)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoopGuardBounded: senders idle for a window are forgotten once
// maxLoopKeys are remembered, and so are the channels whose last sender
// was forgotten. Each post is in a channel of its own, so that both maps
// would grow past the bound without pruning.
func TestLoopGuardBounded(t *testing.T) {
	g := newLoopGuard(0, time.Second)
	for i := range 3 * maxLoopKeys {
		g.check(fmt.Sprintf("u%d", i), fmt.Sprintf("c%d", i), int64(i)*10)
	}
	if n := len(g.senders); n > maxLoopKeys {
		t.Errorf("senders remembered = %d, want at most %d", n, maxLoopKeys)
	}
	if n := len(g.last); n > maxLoopKeys {
		t.Errorf("channels remembered = %d, want at most %d", n, maxLoopKeys)
	}
}
