package mattermost

import (
	"strings"
	"time"
)

// Defaults of Options.LoopLimit and Options.LoopWindow.
const (
	// DefaultLoopLimit is the number of exchanges with one program in
	// one channel, within DefaultLoopWindow, after which the bot stops
	// answering that program there. Two programs answering each other
	// do twenty exchanges in a second or two.
	DefaultLoopLimit = 20
	// DefaultLoopWindow is the span DefaultLoopLimit counts over, and
	// how long a program stays ignored once it is reached.
	DefaultLoopWindow = time.Minute
)

// loopGuard stops a conversation between the bot and a program it was
// told to answer (Options.AllowBots, Options.AllowWebhooks) that answers
// it back: another bot, a webhook fed by the bot's own posts. People are
// never counted: the backend calls it only for the posts of programs.
//
// An exchange is the bot's answer to a program's post that was created
// after the bot's previous answer to that program: the program may have
// been answering the bot. The answer names the post it answers
// (PropReplyTo), so the guard needs no guess about who was answered:
// several posts answering one (a split reply, a card) count once, and a
// burst of posts answered together counts once too, as none of them
// followed an answer. When limit exchanges fall within window, the
// program is ignored in that channel for window, and the bot says so
// once in its log. Times are the posts' create_at (the server's clock,
// ms), so the guard works the same on live posts and on posts fetched in
// a catch-up.
//
// The zero value is off until configured; it is owned by the event loop
// and needs no lock.
type loopGuard struct {
	limit  int
	window int64 // ms

	asked   map[string]askedPost // by post id: programs' posts delivered, not answered yet
	senders map[loopKey]*loopCount
}

type loopKey struct{ userID, channelID string }

// askedPost is a program's post delivered to the engine.
type askedPost struct {
	key loopKey
	at  int64 // its create_at
}

// loopCount is what the guard knows of one program in one channel.
type loopCount struct {
	answers    []int64 // create_at of the exchanges within the window
	lastAnswer int64   // create_at of the bot's last answer to it
	mutedUntil int64   // ignore its posts created before this
	lastAt     int64   // create_at of its last post, for pruning
}

// maxLoopKeys bounds the programs and the unanswered posts remembered;
// past it, those older than a window are forgotten.
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

// answered notes a post of the bot's, created at at (ms), that answers
// the post replyTo.
func (g *loopGuard) answered(replyTo string, at int64) {
	q, ok := g.asked[replyTo]
	if !ok {
		return // a person's post, or one already answered
	}
	delete(g.asked, replyTo)
	c := g.senders[q.key]
	if c == nil {
		return
	}
	if q.at > c.lastAnswer {
		c.answers = append(pruneBefore(c.answers, at-g.window), at)
	}
	c.lastAnswer = max(c.lastAnswer, at)
}

// verdict is what the guard says of a post.
type verdict int

const (
	loopPass    verdict = iota // deliver it
	loopTripped                // drop it: the limit is reached now
	loopMuted                  // drop it: the program is still ignored
)

// check notes the post postID of a program (userID) in a channel,
// created at at (ms), that is about to be delivered, and says whether to
// deliver it.
func (g *loopGuard) check(userID, channelID, postID string, at int64) verdict {
	if !g.on() {
		return loopPass
	}
	if g.senders == nil {
		g.asked = map[string]askedPost{}
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
	if len(g.asked) >= maxLoopKeys {
		g.prune(at)
		if len(g.asked) >= maxLoopKeys {
			// A flood of posts within a window, none answered:
			// forget them rather than grow.
			clear(g.asked)
		}
	}
	g.asked[strings.Clone(postID)] = askedPost{key: k, at: at} // a copy, see window.add
	return loopPass
}

// prune forgets the programs idle for a window at now, and the posts
// older than a window that were never answered.
func (g *loopGuard) prune(now int64) {
	for k, c := range g.senders {
		if c.lastAt < now-g.window && c.mutedUntil <= now {
			delete(g.senders, k)
		}
	}
	for id, q := range g.asked {
		if q.at < now-g.window || g.senders[q.key] == nil {
			delete(g.asked, id)
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
