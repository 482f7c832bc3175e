package faultsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// The users' commands: "!echo fs-<id>", answered "fs-<id>" by the echo
// plugin. Ids count from 1 across the run.
const (
	commandPrefix = "!echo "
	replyPrefix   = "fs-"
)

// command is one echo command a user sent.
type command struct {
	phase   int
	where   string // channel, thread, dm or gm
	sent    time.Time
	replies []time.Time // when each reply was seen
}

// ledger records every command sent and every reply of the bot's.
type ledger struct {
	start time.Time // of the run, for the times in the examples

	mu sync.Mutex
	// Guarded by mu:
	cmds    []*command // by id-1
	phase   int        // the phase new commands belong to
	strays  []string   // replies of the bot's to no command of ours
	bad     int        // misbehaving commands sent (not echo; not counted)
	changed chan struct{}
}

func newLedger() *ledger { return &ledger{start: time.Now(), changed: make(chan struct{})} }

// setPhase makes later commands count for phase i.
func (l *ledger) setPhase(i int) {
	l.mu.Lock()
	l.phase = i
	l.mu.Unlock()
}

// add records a new command sent to where, and returns its id.
func (l *ledger) add(where string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, &command{phase: l.phase, where: where, sent: time.Now()})
	return len(l.cmds)
}

// badSent returns how many misbehaving commands were sent.
func (l *ledger) badSent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bad
}

func (l *ledger) addBad() {
	l.mu.Lock()
	l.bad++
	l.mu.Unlock()
}

// observe records a post of the bot's: a reply to a command, or a stray.
// Other posts (the misbehaving plugin's, the engine's notices) are not
// replies: only a post that is exactly "fs-<id>" is.
func (l *ledger) observe(p *mm.Post) {
	rest, ok := strings.CutPrefix(p.Message, replyPrefix)
	if !ok {
		return
	}
	id, err := strconv.Atoi(rest)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || id < 1 || id > len(l.cmds) {
		l.strays = append(l.strays, p.Message)
		return
	}
	c := l.cmds[id-1]
	c.replies = append(c.replies, time.Now())
	close(l.changed)
	l.changed = make(chan struct{})
}

// strayReplies returns the bot's replies to no command sent.
func (l *ledger) strayReplies() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.strays)
}

// unanswered returns how many commands have no reply yet, and a channel
// closed at the next reply.
func (l *ledger) unanswered() (int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.cmds {
		if len(c.replies) == 0 {
			n++
		}
	}
	return n, l.changed
}

// settle waits until every command has a reply or ctx is done, and
// returns how many are left without one.
func (l *ledger) settle(ctx context.Context) int {
	for {
		n, changed := l.unanswered()
		if n == 0 {
			return 0
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return n
		}
	}
}

// tally is the count of one phase's commands.
type tally struct {
	sent, answered, duplicated, lost int
	latencies                        []time.Duration // of the first replies, sorted
	examples                         []string        // of lost and duplicated commands, the first few
}

// tally counts the commands of phase, or of every phase for -1.
func (l *ledger) tally(phase int) tally {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t tally
	for i, c := range l.cmds {
		if phase >= 0 && c.phase != phase {
			continue
		}
		t.sent++
		switch {
		case len(c.replies) == 0:
			t.lost++
			if t.lost <= 3 {
				t.examples = append(t.examples, l.example(i+1, c))
			}
			continue
		case len(c.replies) > 1:
			t.duplicated++
			if t.duplicated <= 3 {
				t.examples = append(t.examples, l.example(i+1, c))
			}
		}
		t.answered++
		t.latencies = append(t.latencies, c.replies[0].Sub(c.sent))
	}
	slices.Sort(t.latencies)
	return t
}

func (t tally) percentile(p int) time.Duration {
	if len(t.latencies) == 0 {
		return 0
	}
	return t.latencies[(len(t.latencies)-1)*p/100]
}

func (t tally) String() string {
	s := fmt.Sprintf("sent %d answered %d duplicated %d lost %d", t.sent, t.answered, t.duplicated, t.lost)
	if len(t.latencies) > 0 {
		s += fmt.Sprintf(" (latency p50 %v p99 %v max %v)", t.percentile(50).Round(time.Millisecond),
			t.percentile(99).Round(time.Millisecond), t.latencies[len(t.latencies)-1].Round(time.Millisecond))
	}
	return s
}

// example describes command id for the summary: where and when it was
// sent, and when it was answered, in time since the run began.
func (l *ledger) example(id int, c *command) string {
	var answers []string
	for _, r := range c.replies {
		answers = append(answers, "+"+r.Sub(l.start).Round(time.Millisecond).String())
	}
	if len(answers) == 0 {
		answers = []string{"never"}
	}
	return fmt.Sprintf("fs-%d in a %s, sent at +%v, answered %s", id, c.where,
		c.sent.Sub(l.start).Round(time.Millisecond), strings.Join(answers, ", "))
}

// collect records the bot's posts until ctx is done. The server's
// WaitForPost goes through every post once, in order, woken by changes.
func (w *world) collect(ctx context.Context, l *ledger) {
	_, _ = w.srv.WaitForPost(ctx, "", func(p *mm.Post) bool {
		if p.UserID == w.bot.ID {
			l.observe(p)
		}
		return false // never done: ends with ctx
	})
}

// meanGap is the mean time between two commands of one user: 16 users
// send about 64 commands a second in all.
const meanGap = 250 * time.Millisecond

// load runs the users until ctx is done: each sends a command, waits a
// random gap (exponential, mean meanGap) and sends another, without
// waiting for answers. While w.misbehaving is set, some users send the
// misbehaving plugin's commands too (see badCommand). Users post through
// the server's back door: the faults hit the bot, not them. The first
// error of a post is sent on errs, if there is room.
func (w *world) load(ctx context.Context, l *ledger, seed uint64, errs chan<- error) {
	var wg sync.WaitGroup
	for i, u := range w.users {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() {
			t := time.NewTimer(0)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if err := w.send(u, i, r, l); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				t.Reset(time.Duration(r.ExpFloat64() * float64(meanGap)))
			}
		})
	}
	wg.Wait()
}

// send posts one command of user u: in its channel half of the time, in
// its thread, its direct messages or its group message otherwise.
func (w *world) send(u *simUser, i int, r *rand.Rand, l *ledger) error {
	p := mm.Post{ChannelID: u.channel.ID}
	where := "channel"
	switch x := r.IntN(100); {
	case x < 15:
		p.RootID, where = u.root.ID, "thread"
	case x < 40:
		p.ChannelID, where = u.dm.ID, "dm"
	case x < 50:
		p.ChannelID, where = u.gm.ID, "gm"
	}
	if w.misbehaving.Load() {
		if text := badCommand(i, r); text != "" {
			p.Message = text
			l.addBad()
			_, err := w.srv.CreatePost(u.ID, p)
			return err
		}
	}
	p.Message = commandPrefix + replyPrefix + strconv.Itoa(l.add(where))
	_, err := w.srv.CreatePost(u.ID, p)
	return err
}
