package mattermost

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// catchUpMargin is how far before the last post seen the catch-up looks
// (ms): posts created in the same instant as it, or stamped by a server
// node whose clock lags, are not missed. Posts already delivered are
// dropped by id.
const catchUpMargin = 2000

// catchUp delivers the posts the WebSocket may have missed: those created
// in the bot's channels since the last post seen (or since the gap began,
// if none was seen), oldest first, each once. The bot's channels are
// listed again first: it may have been added to a channel, or sent a
// first direct message, while the socket was down.
func (b *Backend) catchUp(ctx context.Context, h bot.Handler, gap *mm.EventsMissed) {
	b.catching.Store(true)
	defer b.catching.Store(false)
	since := b.lastPostAt
	if since == 0 {
		since = gap.Since.UnixMilli()
	}
	since -= catchUpMargin
	var posts []*mm.Post
	channels := b.catchUpChannels(ctx)
	for _, id := range channels {
		if _, ok := b.behind[id]; ok {
			// Still catching up from an earlier gap: one more read in
			// the background, from the earlier point, keeps its order.
			b.fetchLater(id, since, true)
			continue
		}
		list, _, err := b.client.ChannelPostsSince(ctx, id, since)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !mm.Transient(err) {
				// Left, or the channel is gone: nothing to catch up.
				b.log.Warn("catch-up failed", "channel_id", id, "err", err)
				continue
			}
			// The server is failing: read the channel again later, and
			// hold its live posts until then, so that they follow the
			// posts missed in order.
			b.log.Warn("catch-up failed, retrying in the background", "channel_id", id, "err", err)
			b.fetchLater(id, since, true)
			continue
		}
		posts = append(posts, postsSince(list, since)...)
	}
	sortPosts(posts)
	b.log.Info("catching up", "since_ms", since, "channels", len(channels), "posts", len(posts))
	b.deliverCaught(ctx, h, posts)
}

// deliverCaught delivers the posts a catch-up read, in order, and tells
// the Observer how many reached the engine.
func (b *Backend) deliverCaught(ctx context.Context, h bot.Handler, posts []*mm.Post) {
	n := 0
	for _, p := range posts {
		if b.deliver(ctx, h, incoming{post: p}) {
			n++
		}
	}
	if o := b.opts.Observer; o != nil && n > 0 {
		o.ObserveCatchUp(n)
	}
}

// postsSince returns the posts of list created since since and not
// deleted: since also returns posts edited or deleted after it.
func postsSince(list *mm.PostList, since int64) []*mm.Post {
	var posts []*mm.Post
	for _, p := range list.Ordered() {
		if p.CreateAt >= since && p.DeleteAt == 0 {
			posts = append(posts, p)
		}
	}
	return posts
}

func sortPosts(posts []*mm.Post) {
	slices.SortFunc(posts, func(a, c *mm.Post) int {
		return cmp.Or(cmp.Compare(a.CreateAt, c.CreateAt), cmp.Compare(a.ID, c.ID))
	})
}

// caughtUp is the result of a catch-up read retried in the background.
type caughtUp struct {
	channelID string
	since     int64
	list      *mm.PostList // nil on error
	err       error
	held      bool // the channel's live posts are held for this read
}

// behind is a channel whose catch-up reads are retried in the
// background: its live posts are held until they are all done.
type behind struct {
	held  []incoming
	reads int   // background reads not done yet
	since int64 // the earliest point a read started from
}

// fetchLater reads a channel's posts since since in the background,
// retrying transient failures (see retry), and hands the result to the
// event loop (serve), which calls caughtUpIn. With hold, the channel's
// live posts are held (see hold) until every such read is done; a read
// for a channel already behind starts from the earliest point asked, so
// that whichever read ends first, the posts come in order. Called by the
// event loop.
func (b *Backend) fetchLater(channelID string, since int64, hold bool) {
	if hold {
		bh := b.behind[channelID]
		if bh == nil {
			bh = &behind{since: since}
			b.behind[channelID] = bh
			b.behindN.Store(int32(len(b.behind)))
		}
		bh.reads++
		bh.since = min(bh.since, since)
		since = bh.since
	}
	ctx := b.bgCtx
	b.bg.Go(func() {
		var list *mm.PostList
		err := b.retry(ctx, "catch up", mm.Transient, func() error {
			var err error
			list, _, err = b.client.ChannelPostsSince(ctx, channelID, since)
			return err
		})
		select {
		case b.caught <- caughtUp{channelID: channelID, since: since, list: list, err: err, held: hold}:
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

// release delivers, in order, the live posts held for a channel, and
// stops holding them.
func (b *Backend) release(ctx context.Context, h bot.Handler, channelID string) {
	bh := b.behind[channelID]
	if bh == nil {
		return
	}
	delete(b.behind, channelID)
	b.behindN.Store(int32(len(b.behind)))
	for _, in := range bh.held {
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
	last := b.readDone(r)
	if r.err != nil {
		if last {
			b.release(ctx, h, r.channelID)
		}
		if ctx.Err() != nil || !mm.Transient(r.err) {
			b.log.Warn("catch-up failed", "channel_id", r.channelID, "err", r.err)
			return
		}
		b.log.Warn("catch-up still failing, retrying", "channel_id", r.channelID, "err", r.err)
		b.fetchLater(r.channelID, r.since, false)
		return
	}
	posts := postsSince(r.list, r.since)
	sortPosts(posts)
	b.log.Info("caught up", "channel_id", r.channelID, "since_ms", r.since, "posts", len(posts))
	b.deliverCaught(ctx, h, posts)
	if last {
		b.release(ctx, h, r.channelID)
	}
}

// catchUpChannels returns the channels to catch up in: the bot's
// channels as the server lists them now, and those known before the gap.
// Servers since 6.1 list them all in one call (direct and group channels
// included, which a bot in no team can list no other way); older ones
// answer 404, and the bot then lists them per team (direct and group
// channels come with every team), saying so once. A listing that fails
// is logged and the known channels are still read.
func (b *Backend) catchUpChannels(ctx context.Context) []string {
	if !b.perTeamListing {
		chs, _, err := b.client.AllMyChannels(ctx)
		switch {
		case err == nil:
			b.joinListed(chs)
			return b.dir.myChannels()
		case errors.Is(err, mm.ErrNotFound):
			b.perTeamListing = true
			b.log.Info("catch-up: the server cannot list all the bot's channels at once (before 6.1); listing them per team")
		default:
			if ctx.Err() == nil {
				b.log.Warn("catch-up: cannot list the bot's channels; reading the known ones", "err", err)
			}
			return b.dir.myChannels()
		}
	}
	for _, t := range b.teams {
		chs, _, err := b.client.MyChannels(ctx, t.ID)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("catch-up: cannot list the bot's channels; reading the known ones", "team_id", t.ID, "err", err)
			}
			continue
		}
		b.joinListed(chs)
	}
	return b.dir.myChannels()
}

// joinListed records channels the server lists as the bot's.
func (b *Backend) joinListed(chs []*mm.Channel) {
	for _, ch := range chs {
		b.dir.putChannel(ch)
		b.dir.join(ch.ID)
	}
}
