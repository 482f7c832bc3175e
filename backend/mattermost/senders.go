package mattermost

import (
	"context"
	"fmt"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// A post from a sender the directory does not hold waits, rather than
// hold up the event loop with a GET /users/{id}: a burst of new senders
// (a company-wide announcement that everyone answers, a catch-up of two
// thousand commands) once stalled every other channel behind one request
// per sender. The sender is looked up in the background, in batches
// (POST /users/ids, usersPerLookup ids each, senderLookups of them at a
// time: the ids asked for while one runs go together in the next), and
// the post is delivered when the answer comes. Posts of other channels
// and other people flow meanwhile; the later posts of the same channel,
// and those of the same person elsewhere, wait behind it, so that each
// channel's order, and each person's, hold. A waiting post is counted in
// its channel's catch-up position from the start (positions.start), so
// that a restart meanwhile reads it again.
//
// The other events that name a user wait the same way, in the same
// queue, under the same rules (see Backend.event): a reaction (everyone
// reacting to an announcement), a user added to or removed from a
// channel, the edit of a post the bot answered. A status change does
// not wait: it is delivered for a user the directory holds, and only
// then (see handle).

// senderLookups is how many batches of senders are looked up at once.
const senderLookups = 2

// lookups is the state of the background sender lookups. Owned by the
// event loop.
type lookups struct {
	want    []string        // ids to look up, not asked yet
	asked   map[string]bool // ids in want or being looked up
	running int             // lookups in flight
	// waiting holds the posts and other events not delivered yet, in
	// the order they came; byChannel and byUser count them per channel
	// and user.
	waiting   []waiter
	byChannel map[string]int
	byUser    map[string]int
}

// waiter is an item of lookups.waiting: a post (in), or another event
// (ev) that names a user (see Backend.event).
type waiter struct {
	in incoming  // the post; unset for another event
	ev *mm.Event // the other event; nil for a post
	// user is the post's sender or the user the event names ("" for a
	// post the engine will not see), channel the channel it is in (""
	// if it names none): the orders it keeps.
	user, channel string
}

// lookedUp is the answer to a background lookup of senders.
type lookedUp struct {
	ids   []string
	users []*mm.User
	err   error
}

// lookupAnswer is what a background lookup said, for the events that waited
// for it: found has each user asked for, nil for one the server does
// not know, unless the server refused to say (refused: a 4xx for the
// whole batch).
type lookupAnswer struct {
	found   map[string]*mm.User
	refused bool
}

// needsSender reports whether delivering p would ask the server for its
// sender: a post the engine may see, whose sender the directory does not
// hold (or holds expired).
func (b *Backend) needsSender(p *mm.Post) bool {
	return p.UserID != "" && b.tr.skip(p) == "" && !b.dir.knowsUser(p.UserID)
}

// needs reports whether delivering w would ask the server for its user.
func (b *Backend) needs(w *waiter) bool {
	if w.ev == nil {
		return b.needsSender(w.in.post)
	}
	return !b.dir.knowsUser(w.user)
}

// waits reports whether in must wait for a sender lookup, its own or an
// earlier item's of its channel or sender; if so, it is queued, counted
// in its channel's position, and its sender asked for.
func (b *Backend) waits(in incoming) bool {
	p := in.post
	need := b.needsSender(p)
	if !need && b.lk.byChannel[p.ChannelID] == 0 && b.lk.byUser[p.UserID] == 0 {
		return false
	}
	if b.bgCtx == nil {
		// Not running (a test driving the backend by hand): no event
		// loop takes the lookups' answers; delivering looks up.
		return false
	}
	user := p.UserID
	if !need && b.tr.skip(p) != "" {
		// Not the engine's (a system post, the bot's own): it keeps
		// its channel's order, for the positions, but its sender has
		// no order to keep. The admin who removes someone from a
		// channel where others wait is not held up elsewhere.
		if b.lk.byChannel[p.ChannelID] == 0 {
			return false
		}
		user = ""
	}
	if b.pos != nil && p.UserID != b.self.ID {
		in.handled = b.pos.start(p.ChannelID, keyOf(p))
	}
	b.enqueue(waiter{in: in, user: user, channel: p.ChannelID}, need)
	return true
}

// eventWaits reports whether ev, an event other than a post that names
// user in channel, must wait for a lookup of user, or behind an earlier
// waiting item of that user or channel; if so, it is queued and user
// asked for.
func (b *Backend) eventWaits(ev *mm.Event, user, channel string) bool {
	need := !b.dir.knowsUser(user)
	if !need && b.lk.byChannel[channel] == 0 && b.lk.byUser[user] == 0 {
		return false
	}
	if b.bgCtx == nil {
		return false // as in waits
	}
	b.enqueue(waiter{ev: ev, user: user, channel: channel}, need)
	return true
}

// enqueue adds w to the waiting items and, if need, asks for its user.
func (b *Backend) enqueue(w waiter, need bool) {
	if b.lk.byChannel == nil {
		b.lk.byChannel, b.lk.byUser = map[string]int{}, map[string]int{}
	}
	b.lk.waiting = append(b.lk.waiting, w)
	b.lk.byChannel[w.channel]++
	b.lk.byUser[w.user]++
	if need {
		b.dir.observed(false) // the lookup the directory would have made
		b.askSender(w.user)
	}
}

// askSender queues a lookup of a sender, unless one is asked already.
func (b *Backend) askSender(id string) {
	if b.lk.asked[id] {
		return
	}
	if b.lk.asked == nil {
		b.lk.asked = map[string]bool{}
	}
	b.lk.asked[id] = true
	b.lk.want = append(b.lk.want, id)
	b.startLookups()
}

// startLookups starts background lookups of the senders wanted, up to
// senderLookups at once. Each one retries a failing server (see retry)
// and reports on b.looked.
func (b *Backend) startLookups() {
	for len(b.lk.want) > 0 && b.lk.running < senderLookups {
		n := min(len(b.lk.want), usersPerLookup)
		ids := b.lk.want[:n:n]
		b.lk.want = b.lk.want[n:]
		if len(b.lk.want) == 0 {
			b.lk.want = nil // let the array go
		}
		b.lk.running++
		ctx := b.bgCtx
		b.bg.Go(func() {
			var r lookedUp
			r.ids = ids
			r.err = b.retry(ctx, "look up senders", mm.Transient, func() error {
				var err error
				r.users, err = b.dir.api.usersByIDs(ctx, ids)
				return err
			})
			select {
			case b.looked <- r:
			case <-ctx.Done():
			}
		})
	}
}

// lookedUpIn takes the answer of a background lookup: the users found go
// to the directory, and the waiting items whose users are now known, or
// known to be unknown, are delivered, in each channel's order. A lookup
// that still fails after the retry budget is asked again (its items keep
// waiting); one the server refuses (4xx) lets its items go, whose
// delivery then asks for each user alone. Called by the event loop.
func (b *Backend) lookedUpIn(ctx context.Context, h bot.Handler, r lookedUp) {
	b.lk.running--
	if r.err != nil && ctx.Err() == nil && mm.Transient(r.err) {
		b.log.Warn("sender lookup still failing, retrying", "users", len(r.ids), "err", r.err)
		b.lk.want = append(b.lk.want, r.ids...)
		b.startLookups()
		return
	}
	if r.err != nil && ctx.Err() == nil {
		b.log.Warn("sender lookup failed", "users", len(r.ids), "err", r.err)
	}
	a := &lookupAnswer{found: make(map[string]*mm.User, len(r.ids)), refused: r.err != nil}
	for _, id := range r.ids {
		delete(b.lk.asked, id)
		a.found[id] = nil
	}
	for _, u := range r.users {
		if u != nil {
			a.found[u.ID] = b.dir.putUser(u)
		}
	}
	b.releaseWaiting(ctx, h, a)
	b.startLookups()
}

// releaseWaiting delivers, in the order they came, the waiting items
// whose users are known (cached, or in a: the answer of a lookup) and
// that no earlier waiting item of their channel or user holds back. An
// item whose user is still missing holds back its channel and user, and
// its user is asked for again if no lookup has it (the directory forgot
// it meanwhile).
func (b *Backend) releaseWaiting(ctx context.Context, h bot.Handler, a *lookupAnswer) {
	var (
		keep    = b.lk.waiting[:0]
		chHeld  = map[string]bool{}
		usrHeld = map[string]bool{}
	)
	for _, w := range b.lk.waiting {
		held := chHeld[w.channel] || usrHeld[w.user]
		if !held {
			if u, ok := a.found[w.user]; ok && u != nil {
				w.in.sender = u
			} else if !ok && b.needs(&w) {
				b.askSender(w.user)
				held = true
			}
		}
		if held {
			chHeld[w.channel] = true
			if w.user != "" {
				usrHeld[w.user] = true
			}
			keep = append(keep, w)
			continue
		}
		b.unwait(w)
		if w.ev != nil {
			b.event(ctx, h, w.ev, a)
			continue
		}
		// Known, or unknown to the server: delivering asks for the
		// sender alone, and drops the post if that fails too.
		b.handOver(ctx, h, w.in)
	}
	clear(b.lk.waiting[len(keep):])
	b.lk.waiting = keep
	if len(keep) == 0 {
		b.lk.waiting = nil
	}
}

// unwait uncounts a waiting item.
func (b *Backend) unwait(w waiter) {
	if b.lk.byChannel[w.channel]--; b.lk.byChannel[w.channel] <= 0 {
		delete(b.lk.byChannel, w.channel)
	}
	if b.lk.byUser[w.user]--; b.lk.byUser[w.user] <= 0 {
		delete(b.lk.byUser, w.user)
	}
}

// userOf returns the user with the given id that an event names: as the
// lookup it waited for found them (a; nil when it did not wait), or else
// as the directory holds them. A user that lookup did not find is
// unknown to the server: an error wrapping mm.ErrNotFound, without
// asking again; if the server refused the lookup, the user is asked for
// alone.
func (b *Backend) userOf(ctx context.Context, id string, a *lookupAnswer) (*mm.User, error) {
	if a != nil {
		switch u, ok := a.found[id]; {
		case u != nil:
			return u, nil
		case ok && !a.refused:
			return nil, fmt.Errorf("user %s: %w", id, mm.ErrNotFound)
		}
	}
	return b.dir.user(ctx, id)
}
