package mattermost

import "time"

// Defaults of Options.LoopLimit and Options.LoopWindow.
const (
	// DefaultLoopLimit is the number of exchanges with one sender in one
	// channel, within DefaultLoopWindow, after which the bot stops
	// answering that sender there. A person does not type twenty
	// commands, each after the bot's answer to the last, in a minute;
	// two bots answering each other do it in a second or two.
	DefaultLoopLimit = 20
	// DefaultLoopWindow is the span DefaultLoopLimit counts over, and
	// how long a sender stays ignored once it is reached.
	DefaultLoopWindow = time.Minute
)

// loopGuard stops a conversation between the bot and another program
// that answers it: a second bot running as an ordinary user account,
// whose posts carry no from_bot prop and whose user has no is_bot, so
// that nothing else tells it from a person.
//
// It counts exchanges per sender and channel: a post of the bot's that
// follows a post of the sender delivered to the engine, with no other
// delivered post between (the bot answered it). Several posts of the bot
// after one of the sender's (a split reply, a card) count once, and so
// does a burst of the sender's posts answered together, as after a
// catch-up. When limit exchanges fall within window, the sender is
// ignored in that channel for window, and the bot says so once in its
// log. Times are the posts' create_at (the server's clock, ms), so the
// guard works the same on live posts and on posts fetched in a catch-up.
//
// The zero value is off until configured; it is owned by the event loop
// and needs no lock.
type loopGuard struct {
	limit  int
	window int64 // ms

	last    map[string]lastSender // by channel id: the last delivered post
	senders map[loopKey]*loopCount
}

type loopKey struct{ userID, channelID string }

// lastSender is the sender of the last post delivered in a channel, and
// whether the bot has posted since.
type lastSender struct {
	userID   string
	answered bool
}

// loopCount is what the guard knows of one sender in one channel.
type loopCount struct {
	answers    []int64 // create_at of the bot's answers within the window
	mutedUntil int64   // ignore the sender's posts created before this
	lastAt     int64   // create_at of the sender's last post, for pruning
}

// maxLoopKeys bounds the senders remembered; past it, those idle for a
// window are forgotten.
const maxLoopKeys = 4096

func newLoopGuard(limit int, window time.Duration) loopGuard {
	if limit == 0 {
		limit = DefaultLoopLimit
	}
	if window <= 0 {
		window = DefaultLoopWindow
	}
	return loopGuard{limit: limit, window: window.Milliseconds()}
}

func (g *loopGuard) on() bool { return g.limit > 0 && g.window > 0 }

// botPosted notes a post of the bot's in a channel, created at at (ms).
func (g *loopGuard) botPosted(channelID string, at int64) {
	if !g.on() {
		return
	}
	ls, ok := g.last[channelID]
	if !ok || ls.answered {
		return
	}
	ls.answered = true
	g.last[channelID] = ls
	c := g.senders[loopKey{ls.userID, channelID}]
	if c == nil {
		return
	}
	c.answers = append(pruneBefore(c.answers, at-g.window), at)
}

// verdict is what the guard says of a post.
type verdict int

const (
	loopPass    verdict = iota // deliver it
	loopTripped                // drop it: the limit is reached now
	loopMuted                  // drop it: the sender is still ignored
)

// check notes a post by userID in a channel, created at at (ms), that is
// about to be delivered, and says whether to deliver it.
func (g *loopGuard) check(userID, channelID string, at int64) verdict {
	if !g.on() {
		return loopPass
	}
	if g.last == nil {
		g.last = map[string]lastSender{}
		g.senders = map[loopKey]*loopCount{}
	}
	k := loopKey{userID, channelID}
	c := g.senders[k]
	if c == nil {
		if len(g.senders) >= maxLoopKeys {
			g.prune(at)
		}
		c = &loopCount{}
		g.senders[k] = c
	}
	c.lastAt = max(c.lastAt, at)
	if at < c.mutedUntil {
		return loopMuted
	}
	c.answers = pruneBefore(c.answers, at-g.window)
	if len(c.answers) >= g.limit {
		c.answers = c.answers[:0]
		c.mutedUntil = at + g.window
		return loopTripped
	}
	g.last[channelID] = lastSender{userID: userID}
	return loopPass
}

// prune forgets the senders idle for a window at now.
func (g *loopGuard) prune(now int64) {
	for k, c := range g.senders {
		if c.lastAt < now-g.window && c.mutedUntil <= now {
			delete(g.senders, k)
		}
	}
	for ch, ls := range g.last {
		if g.senders[loopKey{ls.userID, ch}] == nil {
			delete(g.last, ch)
		}
	}
}

// pruneBefore drops the times before t from the front of ts (ascending,
// but for posts fetched late, which are only kept a little longer).
func pruneBefore(ts []int64, t int64) []int64 {
	i := 0
	for i < len(ts) && ts[i] < t {
		i++
	}
	return append(ts[:0], ts[i:]...)
}
