package mattermost

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// DefaultCatchUp is the default of Options.CatchUp.
const DefaultCatchUp = 15 * time.Minute

// catchUpMargin is how far before the last post seen the catch-up looks
// (ms): posts created in the same instant as it, or stamped by a server
// node whose clock lags, are not missed. Posts already delivered are
// dropped by id.
const catchUpMargin = 2000

// maxLookBack bounds how far back a catch-up after a restart reads, to
// count the commands too old to answer (Options.CatchUp): a bot stopped
// for days does not read days of every channel.
const maxLookBack = 24 * time.Hour

// readFrom says where a catch-up reads a channel from, and what it
// delivers of what it reads.
type readFrom struct {
	// since is the time (ms) the posts are read from: those created at
	// or after it are considered.
	since int64
	// after, when set, is the channel's position (see positions): only
	// the posts after it are delivered.
	after postKey
	// cutoff, when positive, is the time (ms) before which a post is too
	// old to answer: it is counted (see tooOld), not delivered.
	cutoff int64
}

// earlier returns whichever of r and o reads from further back.
func (r readFrom) earlier(o readFrom) readFrom {
	if o.since < r.since {
		return o
	}
	return r
}

// catchUp delivers the posts the WebSocket may have missed: those created
// in the bot's channels since the last post seen (or since the gap began,
// if none was seen), oldest first, each once.
func (b *Backend) catchUp(ctx context.Context, h bot.Handler, gap *mm.EventsMissed) {
	since := b.lastPostAt
	if since == 0 {
		since = gap.Since.UnixMilli()
	}
	rf := readFrom{since: since - catchUpMargin, cutoff: b.cutoff()}
	b.catchUpFrom(ctx, h, "reconnected", func(string) readFrom { return rf })
}

// catchUpStart delivers the posts of the bot's channels that the last run
// did not handle (Options.Store): in each channel, those after its
// position, or those since the last run last saved in a channel with
// none (the bot joined it while it was stopped), within Options.CatchUp.
// A first run with the store, or a run without one, reads each channel
// after its newest post when the bot logged in (its last_post_at then, on
// the server's clock; for a channel the login did not list, from the
// login on the bot's clock): the commands posted while its socket was
// not up yet were once lost. Not before: the commands of the minutes
// before are not its to answer (another bot on the account, Errbot
// before the move, may have), and a clock that differs from the
// server's would read some of them, or leave out some after.
func (b *Backend) catchUpStart(ctx context.Context, h bot.Handler) {
	if b.opts.CatchUp < 0 {
		return
	}
	if b.pos == nil || !b.hasSaved {
		if b.pos != nil {
			b.log.Info("catch-up: no position saved yet; starting from the login")
		}
		cutoff := b.cutoff()
		b.catchUpFrom(ctx, h, "started", func(id string) readFrom {
			if at, ok := b.loginPosts[id]; ok {
				// After it: that post was there before the login.
				// (A post in the same millisecond, after the
				// listing, would be missed: rarer than the
				// answered command read again that "at" would
				// bring.)
				return readFrom{since: at + 1, cutoff: cutoff}
			}
			return readFrom{since: b.contactAt, cutoff: cutoff}
		})
		b.loginPosts = nil
		b.savePositions(ctx, true)
		return
	}
	b.loginPosts = nil
	cutoff := b.cutoff()
	floor := b.now() - max(b.opts.CatchUp, maxLookBack).Milliseconds()
	b.catchUpFrom(ctx, h, "restarted", func(id string) readFrom {
		if k, ok := b.pos.position(id); ok {
			return readFrom{since: max(k.At, floor), after: k, cutoff: cutoff}
		}
		return readFrom{since: max(b.savedAt-catchUpMargin, floor), cutoff: cutoff}
	})
	b.savePositions(ctx, true)
}

// now returns Options.Now in ms.
func (b *Backend) now() int64 { return b.opts.Now().UnixMilli() }

// cutoff returns the time (ms) before which a post is too old to answer,
// or 0 for none (Options.CatchUp negative).
func (b *Backend) cutoff() int64 {
	if b.opts.CatchUp < 0 {
		return 0
	}
	return b.now() - b.opts.CatchUp.Milliseconds()
}

// catchUpFrom reads, in the channels of the bot's that have posts from
// where from says, those posts, and delivers those not handled yet,
// oldest first, each once. The bot's channels are listed again first: it
// may have been added to a channel, or sent a first direct message,
// while the socket was down; and the listing gives each channel's
// last_post_at, the create_at of its newest post, so that a channel with
// nothing from where from says is not read: the cost of a catch-up
// follows what was missed, not how many channels the bot is in. A post
// the bot answered (its own posts say so, PropReplyTo) is not delivered
// again, whichever channel the answer is in.
func (b *Backend) catchUpFrom(ctx context.Context, h bot.Handler, why string, from func(channelID string) readFrom) {
	b.catching.Store(true)
	defer b.catching.Store(false)
	channels, lastPost := b.catchUpChannels(ctx)
	var reads []*channelRead
	quiet := 0
	for _, id := range channels {
		rf := from(id)
		if _, ok := b.behind[id]; ok {
			// Still catching up from an earlier gap: one more read in
			// the background, from the earlier point, keeps its order.
			b.fetchLater(id, rf, true)
			continue
		}
		if at, ok := lastPost[id]; ok && at < rf.since {
			quiet++ // nothing posted there since
			continue
		}
		reads = append(reads, &channelRead{id: id, from: rf})
	}
	b.readChannels(ctx, reads)
	if ctx.Err() != nil {
		return
	}
	var lists []*channelRead
	for _, r := range reads {
		switch {
		case r.later:
			// The server is failing: the event loop does not wait out
			// the client's retries channel after channel (30 channels
			// held live events for a minute and a half).
			b.fetchLater(r.id, r.from, true)
		case r.err == nil:
			lists = append(lists, r)
		case !mm.Transient(r.err):
			// Left, or the channel is gone: nothing to catch up.
			b.log.Warn("catch-up failed", "channel_id", r.id, "err", r.err)
		default:
			// The server is failing: read the channel again later, and
			// hold its live posts until then, so that they follow the
			// posts missed in order.
			b.log.Warn("catch-up failed, retrying in the background", "channel_id", r.id, "err", r.err)
			b.fetchLater(r.id, r.from, true)
		}
	}
	answered := map[string]bool{}
	for _, r := range lists {
		b.noteReplies(r.list, answered)
	}
	var posts, old []*mm.Post
	for _, r := range lists {
		p, o := b.missed(r.list, r.from, answered)
		posts, old = append(posts, p...), append(old, o...)
	}
	sortPosts(posts)
	b.log.Info("catching up", "why", why, "channels", len(channels), "posts", b.othersPosts(posts),
		"read", len(reads), "quiet", quiet)
	b.tooOld(ctx, h, old)
	b.deliverCaught(ctx, h, posts)
}

// catchUpReaders is how many channels a catch-up reads at once.
const catchUpReaders = 4

// channelRead is one channel a catch-up reads, and what it got.
type channelRead struct {
	id    string
	from  readFrom
	list  *mm.PostList
	err   error
	later bool // not read: another read found the server failing
}

// readChannels reads the channels of reads, catchUpReaders at a time,
// and waits for them. Once a read fails transiently, those not started
// yet are left for later (channelRead.later): the server is failing.
func (b *Backend) readChannels(ctx context.Context, reads []*channelRead) {
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		failing atomic.Bool
	)
	for range min(catchUpReaders, len(reads)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reads) {
					return
				}
				r := reads[i]
				if failing.Load() || ctx.Err() != nil {
					r.later = true
					continue
				}
				r.list, r.err = b.postsSince(ctx, r.id, r.from.since-1)
				if r.err != nil && mm.Transient(r.err) {
					failing.Store(true)
				}
			}
		})
	}
	wg.Wait()
}

// othersPosts returns how many of posts are not the bot's own: those
// read again only for the commands they answer.
func (b *Backend) othersPosts(posts []*mm.Post) int {
	n := 0
	for _, p := range posts {
		if p.UserID != b.self.ID {
			n++
		}
	}
	return n
}

// noteReplies records the posts the bot's own posts in list answer, in
// replied and in answered. The catch-up that read list checks answered:
// replied keeps the answers from where a catch-up may read on (see
// guardFloor), and a catch-up after a restart may read further back (a
// channel whose position stayed far back); a command whose answer
// replied had forgotten was answered again.
func (b *Backend) noteReplies(list *mm.PostList, answered map[string]bool) {
	for _, p := range list.Ordered() {
		if p.UserID != b.self.ID {
			continue
		}
		if replyTo, ok := p.Props[PropReplyTo].(string); ok && replyTo != "" {
			b.replied.add(replyTo, p.CreateAt, b.guardFloor())
			answered[replyTo] = true
		}
	}
}

// missed returns the posts of list that rf says to deliver, and those too
// old to: both without the deleted ones (since also returns posts edited
// or deleted after it), those created before rf.since, those up to
// rf.after and those the bot has answered (answered, see noteReplies).
func (b *Backend) missed(list *mm.PostList, rf readFrom, answered map[string]bool) (posts, old []*mm.Post) {
	for _, p := range list.Ordered() {
		switch {
		case p.CreateAt < rf.since || p.DeleteAt != 0:
		case rf.after.ID != "" && keyOf(p).compare(rf.after) <= 0:
		case answered[p.ID] || b.replied.has(p.ID) || (b.ob != nil && b.ob.answers(p.ID)):
			// Answered: on the server, or by a reply waiting in the
			// outbox (the server failed when it was sent, and the bot
			// may have restarted since).
			if b.seen.add(p.ID, p.CreateAt, b.guardFloor()) {
				b.track(incoming{post: p}, nil)
			}
		case p.CreateAt < rf.cutoff:
			old = append(old, p)
		default:
			posts = append(posts, p)
		}
	}
	return posts, old
}

// tooOld skips the posts a catch-up found too old to answer
// (Options.CatchUp), and says in one line how many of them were
// commands: those h (an Addresser) takes as addressed to the bot.
func (b *Backend) tooOld(ctx context.Context, h bot.Handler, old []*mm.Post) {
	if len(old) == 0 {
		return
	}
	ad, _ := h.(bot.Addresser)
	n, oldest := 0, int64(0)
	for _, p := range old {
		if !b.seen.add(p.ID, p.CreateAt, b.guardFloor()) {
			continue
		}
		b.track(incoming{post: p}, nil)
		if p.UserID == b.self.ID {
			continue
		}
		// Counted for a log line: a sender the directory does not hold
		// is not asked for.
		in := incoming{post: p, sender: b.dir.cachedUser(p.UserID)}
		if in.sender == nil {
			in.sender = &mm.User{ID: p.UserID}
		}
		m, err := b.tr.message(ctx, in)
		if err != nil || m == nil || (ad != nil && !ad.Addressed(m)) {
			continue
		}
		n++
		if oldest == 0 || p.CreateAt < oldest {
			oldest = p.CreateAt
		}
	}
	if n > 0 {
		b.log.Warn("catch-up: commands older than catch_up not answered", "commands", n, "catch_up", b.opts.CatchUp,
			"oldest", time.UnixMilli(oldest).UTC())
	}
}

// deliverCaught delivers the posts a catch-up read, in order, and tells
// the Observer how many reached the engine.
func (b *Backend) deliverCaught(ctx context.Context, h bot.Handler, posts []*mm.Post) {
	n := 0
	for _, p := range posts {
		if b.deliver(ctx, h, incoming{post: p, caughtUp: true}) {
			n++
		}
	}
	if o := b.opts.Observer; o != nil && n > 0 {
		o.ObserveCatchUp(n)
	}
}

// sinceLimit is the most posts the server returns for a since= read
// (sqlstore/post_store.go GetPostsSince: LIMIT 1000, in no stated
// order); postsPage is the page size postsSince reads beyond it with.
const (
	sinceLimit = 1000
	postsPage  = 200
)

// postsSince returns the posts of a channel created, edited or deleted
// after since (ms). One since= read is complete below the server's
// limit; at it, some posts may be missing, and the channel is read
// again page by page, newest first, down to since: a bot stopped while
// a channel took a thousand posts still sees every command. Posts read
// twice (new ones shift the pages) are one in the list.
func (b *Backend) postsSince(ctx context.Context, channelID string, since int64) (*mm.PostList, error) {
	list, _, err := b.client.ChannelPostsSince(ctx, channelID, since)
	if err != nil || len(list.Order) < sinceLimit {
		return list, err
	}
	if list.Posts == nil {
		list.Posts = map[string]*mm.Post{}
	}
	for page := 0; ; page++ {
		pl, _, err := b.client.ChannelPosts(ctx, channelID, page, postsPage)
		if err != nil {
			return nil, err
		}
		oldest := int64(0)
		for i, p := range pl.Ordered() {
			if _, ok := list.Posts[p.ID]; !ok {
				list.Order = append(list.Order, p.ID)
			}
			list.Posts[p.ID] = p
			if i == 0 || p.CreateAt < oldest {
				oldest = p.CreateAt
			}
		}
		if len(pl.Order) < postsPage || oldest <= since {
			b.log.Info("catch-up: read a busy channel page by page", "channel_id", channelID, "pages", page+1,
				"posts", len(list.Order))
			return list, nil
		}
	}
}

func sortPosts(posts []*mm.Post) {
	slices.SortFunc(posts, func(a, c *mm.Post) int {
		return cmp.Or(cmp.Compare(a.CreateAt, c.CreateAt), cmp.Compare(a.ID, c.ID))
	})
}

// guardFloor returns the earliest create_at (ms) a catch-up may read
// from: catchUpMargin before the last post delivered, or where a
// background read not done yet reads from. The duplicate guards (seen,
// replied) forget no post from there on. Called by the event loop.
func (b *Backend) guardFloor() int64 {
	f := b.lastPostAt - catchUpMargin
	for since := range b.readsFrom {
		f = min(f, since)
	}
	return f
}

// readingFrom counts a background read from since (ms) that starts (+1)
// or ends (-1). Called by the event loop.
func (b *Backend) readingFrom(since int64, d int) {
	if b.readsFrom == nil {
		b.readsFrom = map[int64]int{}
	}
	if b.readsFrom[since] += d; b.readsFrom[since] <= 0 {
		delete(b.readsFrom, since)
	}
}

// caughtUp is the result of a catch-up read retried in the background.
type caughtUp struct {
	channelID string
	from      readFrom
	list      *mm.PostList // nil on error
	err       error
	held      bool // the channel's live posts are held for this read
}

// behind is a channel whose catch-up reads are retried in the
// background: its live posts are held until they are all done.
type behind struct {
	held  []incoming
	reads int      // background reads not done yet
	from  readFrom // the earliest point a read started from
}

// fetchLater reads a channel's posts from rf in the background,
// retrying transient failures (see retry), and hands the result to the
// event loop (serve), which calls caughtUpIn. With hold, the channel's
// live posts are held (see hold) until every such read is done; a read
// for a channel already behind starts from the earliest point asked, so
// that whichever read ends first, the posts come in order. Called by the
// event loop.
func (b *Backend) fetchLater(channelID string, rf readFrom, hold bool) {
	if hold {
		bh := b.behind[channelID]
		if bh == nil {
			bh = &behind{from: rf}
			b.behind[channelID] = bh
			b.behindN.Store(int32(len(b.behind)))
		}
		bh.reads++
		bh.from = bh.from.earlier(rf)
		rf = bh.from
	}
	b.readingFrom(rf.since, 1)
	ctx := b.bgCtx
	b.bg.Go(func() {
		var list *mm.PostList
		err := b.retry(ctx, "catch up", mm.Transient, func() error {
			var err error
			list, err = b.postsSince(ctx, channelID, rf.since-1)
			return err
		})
		select {
		case b.caught <- caughtUp{channelID: channelID, from: rf, list: list, err: err, held: hold}:
		case <-ctx.Done():
		}
	})
}

// hold keeps a live post of a channel whose catch-up is still being
// retried, and reports whether it did. Called by the event loop.
func (b *Backend) hold(in incoming) bool {
	bh := b.behind[in.post.ChannelID]
	if bh != nil {
		bh.held = append(bh.held, in)
	}
	return bh != nil
}

// release delivers, in order, the live posts held for a channel, but
// those read (nil: none), and stops holding them.
func (b *Backend) release(ctx context.Context, h bot.Handler, channelID string, read *mm.PostList) {
	bh := b.behind[channelID]
	if bh == nil {
		return
	}
	delete(b.behind, channelID)
	b.behindN.Store(int32(len(b.behind)))
	for _, in := range bh.held {
		if read != nil {
			if _, ok := read.Posts[in.post.ID]; ok {
				// The read had it, and delivered it or found it
				// answered: deliver's guard against replays may have
				// forgotten it by now, after a read of thousands.
				continue
			}
		}
		// Held, they are as late as the posts caught up: their authors
		// were not told to wait, and are not to be told the bot is busy.
		in.caughtUp = true
		b.deliver(ctx, h, in)
	}
}

// readDone notes that a held read of a channel ended and reports whether
// it was the last one.
func (b *Backend) readDone(r caughtUp) bool {
	bh := b.behind[r.channelID]
	if bh == nil || !r.held {
		return bh == nil
	}
	bh.reads--
	return bh.reads <= 0
}

// caughtUpIn delivers the result of a background catch-up read: the
// posts missed, oldest first, then the live posts held meanwhile, each
// once (deliver drops the posts already delivered). When the read still
// fails after Options.Retry.MaxTotal, the held posts are delivered and the read is
// retried again without holding, until it succeeds or the bot stops: a
// channel the server cannot read is not frozen, and its missed commands
// are answered late rather than never. Called by the event loop.
func (b *Backend) caughtUpIn(ctx context.Context, h bot.Handler, r caughtUp) {
	// The guards keep what this read returned until it is delivered:
	// the count drops after.
	defer b.readingFrom(r.from.since, -1)
	last := b.readDone(r)
	if r.err != nil {
		if last {
			b.release(ctx, h, r.channelID, nil)
		}
		if ctx.Err() != nil || !mm.Transient(r.err) {
			b.log.Warn("catch-up failed", "channel_id", r.channelID, "err", r.err)
			return
		}
		b.log.Warn("catch-up still failing, retrying", "channel_id", r.channelID, "err", r.err)
		b.fetchLater(r.channelID, r.from, false)
		return
	}
	answered := map[string]bool{}
	b.noteReplies(r.list, answered)
	posts, old := b.missed(r.list, r.from, answered)
	sortPosts(posts)
	b.log.Info("caught up", "channel_id", r.channelID, "since_ms", r.from.since, "posts", b.othersPosts(posts))
	b.tooOld(ctx, h, old)
	b.deliverCaught(ctx, h, posts)
	if last {
		b.release(ctx, h, r.channelID, r.list)
	}
}

// catchUpChannels returns the channels to catch up in: the bot's
// channels as the server lists them now, and those known before the gap;
// and the last_post_at of those the listing gave. Servers since 6.1 list
// them all in one call (direct and group channels included, which a bot
// in no team can list no other way); older ones answer 404, and the bot
// then lists them per team (direct and group channels come with every
// team), saying so once. A listing that fails is logged and the known
// channels are still read, all of them.
func (b *Backend) catchUpChannels(ctx context.Context) ([]string, map[string]int64) {
	lastPost := map[string]int64{}
	note := func(ch *mm.Channel) {
		b.joinListed(ch)
		lastPost[strings.Clone(ch.ID)] = ch.LastPostAt
	}
	if !b.perTeamListing {
		_, err := b.client.AllMyChannelsFunc(ctx, note)
		switch {
		case err == nil:
			return b.dir.myChannels(), lastPost
		case errors.Is(err, mm.ErrNotFound):
			b.perTeamListing = true
			b.log.Info("catch-up: the server cannot list all the bot's channels at once (before 6.1); listing them per team")
		default:
			if ctx.Err() == nil {
				b.log.Warn("catch-up: cannot list the bot's channels; reading the known ones", "err", err)
			}
			return b.dir.myChannels(), lastPost
		}
	}
	for _, t := range b.teams {
		if _, err := b.client.MyChannelsFunc(ctx, t.ID, note); err != nil {
			if ctx.Err() == nil {
				b.log.Warn("catch-up: cannot list the bot's channels; reading the known ones", "team_id", t.ID, "err", err)
			}
		}
	}
	return b.dir.myChannels(), lastPost
}

// loginListed is joinListed for the login's listing, which also notes
// the channel's last_post_at (see catchUpStart).
func (b *Backend) loginListed(ch *mm.Channel) {
	b.joinListed(ch)
	if b.loginPosts == nil {
		b.loginPosts = map[string]int64{}
	}
	b.loginPosts[b.dir.channelID(ch.ID)] = ch.LastPostAt
}

// joinListed records a channel the server lists as the bot's. ch may be
// reused after (see mm.Client.MyChannelsFunc).
func (b *Backend) joinListed(ch *mm.Channel) {
	b.dir.putChannel(ch)
	b.dir.join(ch.ID)
}
