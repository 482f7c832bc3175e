package mattermost

import (
	"context"
	"slices"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// DefaultPresenceInterval is the default of Options.PresenceInterval.
const DefaultPresenceInterval = time.Minute

// presenceBatch is how many users one request of a presence poll asks
// about: a POST body of about 15 KB, far below the server's limit on a
// request's size (ServiceSettings.MaximumPayloadSizeBytes, 300 KB by
// default); the server sets no limit of its own on the count.
const presenceBatch = 500

// The server sends a status_change event only to the user it is about
// (server/channels/app/platform/status.go BroadcastStatus publishes it
// with that user's id as the only recipient), so the bot never hears
// other people come and go. pollPresence asks for their statuses
// instead (POST /users/status/ids) every interval, and the event loop
// (presenceIn) delivers the changes.

// pollPresence asks the server, every interval until ctx is done, for the
// status of every user in the directory (the people the bot has seen:
// the senders, reactors, members it met, up to Options.UserCache), in
// batches, and hands each answer to the event loop. A failed poll is
// logged once per run of failures and skipped.
func (b *Backend) pollPresence(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := b.dir.otherUserIDs()
		if len(ids) == 0 {
			continue
		}
		var (
			all []*mm.Status
			err error
		)
		for chunk := range slices.Chunk(ids, presenceBatch) {
			var ss []*mm.Status
			if ss, _, err = b.client.UserStatuses(ctx, chunk); err != nil {
				break
			}
			all = append(all, ss...)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				b.log.Warn("presence poll failed; trying again next time", "users", len(ids), "err", err)
			}
			failing = true
			continue
		case failing:
			b.log.Info("presence poll works again")
			failing = false
		}
		select {
		case b.polled <- all:
		case <-ctx.Done():
			return
		}
	}
}

// presenceIn delivers the statuses of a poll that differ from the last
// seen. The first status seen of a user (the first poll, or the first
// after the user was met) is only remembered, so that starting the bot
// or meeting someone is not reported as a change; so are statuses polled
// before the first hello. The statuses remembered are those of the poll:
// a user the directory forgot is forgotten here too. Called by the event
// loop.
func (b *Backend) presenceIn(h bot.Handler, ss []*mm.Status) {
	last := b.statuses
	b.statuses = make(map[string]string, len(ss))
	for _, s := range ss {
		if s == nil || s.UserID == "" || s.UserID == b.self.ID {
			continue
		}
		old, seen := last[s.UserID]
		b.statuses[s.UserID] = s.Status
		if !seen || old == s.Status || b.hellos == 0 {
			continue
		}
		u := b.dir.cachedUser(s.UserID)
		if u == nil {
			continue
		}
		h.HandlePresence(&bot.Presence{User: botUser(u), Status: s.Status})
	}
}

// noteStatus records a user's status and returns the one seen before.
// Called by the event loop.
func (b *Backend) noteStatus(userID, status string) (old string, seen bool) {
	if b.statuses == nil {
		b.statuses = map[string]string{}
	}
	old, seen = b.statuses[userID]
	b.statuses[userID] = status
	return old, seen
}

// otherUserIDs returns the ids of the cached users other than the bot,
// in id order.
func (d *directory) otherUserIDs() []string {
	d.mu.Lock()
	ids := d.users.ids()
	d.mu.Unlock()
	slices.Sort(ids)
	return ids
}
