package mattermost

import (
	"cmp"
	"context"
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
	since := b.lastPostAt
	if since == 0 {
		since = gap.Since.UnixMilli()
	}
	since -= catchUpMargin
	var posts []*mm.Post
	channels := b.catchUpChannels(ctx)
	for _, id := range channels {
		list, _, err := b.client.ChannelPostsSince(ctx, id, since)
		if err != nil {
			// The rest can still be caught up; this channel's posts
			// are lost, which the log says.
			b.log.Warn("catch-up failed", "channel_id", id, "err", err)
			continue
		}
		for _, p := range list.Ordered() {
			// since also returns posts edited or deleted after it.
			if p.CreateAt >= since && p.DeleteAt == 0 {
				posts = append(posts, p)
			}
		}
	}
	slices.SortFunc(posts, func(a, c *mm.Post) int {
		return cmp.Or(cmp.Compare(a.CreateAt, c.CreateAt), cmp.Compare(a.ID, c.ID))
	})
	b.log.Info("catching up", "since_ms", since, "channels", len(channels), "posts", len(posts))
	for _, p := range posts {
		b.deliver(ctx, h, incoming{post: p})
	}
}

// catchUpChannels returns the channels to catch up in: the bot's
// channels in each of its teams as the server lists them now (direct and
// group channels included: the server lists them with every team), and
// those known before the gap. A listing that fails is logged and the
// known channels of its team are still read.
func (b *Backend) catchUpChannels(ctx context.Context) []string {
	for _, t := range b.teams {
		chs, _, err := b.client.MyChannels(ctx, t.ID)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("catch-up: cannot list the bot's channels; reading the known ones", "team_id", t.ID, "err", err)
			}
			continue
		}
		for _, ch := range chs {
			b.dir.putChannel(ch)
			b.dir.join(ch.ID)
		}
	}
	return b.dir.myChannels()
}
