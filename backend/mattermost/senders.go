package mattermost

import (
	"context"

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

// senderLookups is how many batches of senders are looked up at once.
const senderLookups = 2

// lookups is the state of the background sender lookups. Owned by the
// event loop.
type lookups struct {
	want    []string        // ids to look up, not asked yet
	asked   map[string]bool // ids in want or being looked up
	running int             // lookups in flight
	// waiting holds the posts not delivered yet, in the order they
	// came; byChannel and byUser count them per channel and sender.
	waiting   []incoming
	byChannel map[string]int
	byUser    map[string]int
}

// lookedUp is the answer to a background lookup of senders.
type lookedUp struct {
	ids   []string
	users []*mm.User
	err   error
}

// needsSender reports whether delivering p would ask the server for its
// sender: a post the engine may see, whose sender the directory does not
// hold (or holds expired).
func (b *Backend) needsSender(p *mm.Post) bool {
	return p.UserID != "" && b.tr.skip(p) == "" && !b.dir.knowsUser(p.UserID)
}

// waits reports whether in must wait for a sender lookup, its own or an
// earlier post's of its channel or sender; if so, it is queued, counted
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
	if b.pos != nil && p.UserID != b.self.ID {
		in.handled = b.pos.start(p.ChannelID, keyOf(p))
	}
	if b.lk.byChannel == nil {
		b.lk.byChannel, b.lk.byUser = map[string]int{}, map[string]int{}
	}
	b.lk.waiting = append(b.lk.waiting, in)
	b.lk.byChannel[p.ChannelID]++
	b.lk.byUser[p.UserID]++
	if need {
		b.dir.observed(false) // the lookup the directory would have made
		b.askSender(p.UserID)
	}
	return true
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
// to the directory, and the waiting posts whose senders are now known,
// or known to be unknown, are delivered, in each channel's order. A
// lookup that still fails after the retry budget is asked again (its
// posts keep waiting); one the server refuses (4xx) lets its posts go,
// whose delivery then asks for each sender alone. Called by the event
// loop.
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
	found := make(map[string]*mm.User, len(r.ids))
	for _, id := range r.ids {
		delete(b.lk.asked, id)
		found[id] = nil
	}
	for _, u := range r.users {
		if u != nil {
			found[u.ID] = b.dir.putUser(u)
		}
	}
	b.releaseSenders(ctx, h, found)
	b.startLookups()
}

// releaseSenders delivers, in the order they came, the waiting posts
// whose senders are known (cached, or in found: the answer of a lookup,
// nil for an id the server does not know) and that no earlier waiting
// post of their channel or sender holds back. A post whose sender is
// still missing holds back its channel and sender, and is asked for
// again if no lookup has it (the directory forgot it meanwhile).
func (b *Backend) releaseSenders(ctx context.Context, h bot.Handler, found map[string]*mm.User) {
	var (
		keep    = b.lk.waiting[:0]
		chHeld  = map[string]bool{}
		usrHeld = map[string]bool{}
	)
	for _, in := range b.lk.waiting {
		p := in.post
		held := chHeld[p.ChannelID] || usrHeld[p.UserID]
		if !held {
			if u, ok := found[p.UserID]; ok && u != nil {
				in.sender = u
			} else if !ok && b.needsSender(p) {
				b.askSender(p.UserID)
				held = true
			}
		}
		if held {
			chHeld[p.ChannelID], usrHeld[p.UserID] = true, true
			keep = append(keep, in)
			continue
		}
		// Known, or unknown to the server: delivering asks for the
		// sender alone, and drops the post if that fails too.
		b.unwait(p)
		b.handOver(ctx, h, in)
	}
	clear(b.lk.waiting[len(keep):])
	b.lk.waiting = keep
	if len(keep) == 0 {
		b.lk.waiting = nil
	}
}

// unwait uncounts a waiting post.
func (b *Backend) unwait(p *mm.Post) {
	if b.lk.byChannel[p.ChannelID]--; b.lk.byChannel[p.ChannelID] <= 0 {
		delete(b.lk.byChannel, p.ChannelID)
	}
	if b.lk.byUser[p.UserID]--; b.lk.byUser[p.UserID] <= 0 {
		delete(b.lk.byUser, p.UserID)
	}
}
