package mattermost

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// positionsKey is the key of the positions in Options.Store.
const positionsKey = "catch-up"

// postKey orders a channel's posts as a catch-up delivers them: by
// create_at, then by id.
type postKey struct {
	At int64  `json:"at"` // create_at, ms
	ID string `json:"id"`
}

func keyOf(p *mm.Post) postKey { return postKey{At: p.CreateAt, ID: p.ID} }

func (k postKey) compare(o postKey) int {
	return cmp.Or(cmp.Compare(k.At, o.At), cmp.Compare(k.ID, o.ID))
}

// savedPositions is what Options.Store keeps under positionsKey.
type savedPositions struct {
	// SavedAt is when the bot last saved (ms): it was running then, and
	// a channel with no position had no post for it before.
	SavedAt int64 `json:"saved_at"`
	// Channels holds, per channel id, the last post up to which every
	// post of the channel the bot saw was handled.
	Channels map[string]postKey `json:"channels"`
}

// positions tracks how far the bot has handled each channel: a post is
// handled when the engine is done with it (Message.Handled, complete) or
// when the engine never sees it (the bot's own posts excepted, see
// Backend.track). A channel's position is the newest post up to which
// every post delivered is handled; a post the engine did not finish (cut
// short by shutdown) holds its channel's position before it for good, so
// that a restart delivers it again. Positions are saved to the store in
// batches (save) and read at start (load). Safe for concurrent use: the
// engine reports from handler goroutines.
type positions struct {
	store  bot.Store
	saving sync.Mutex // one save at a time, so that the last one wins

	// intern, when set, returns the one copy of a channel's id the
	// backend keeps (directory.channelID): the positions keep it rather
	// than a copy of their own. Set before the first post.
	intern func(id string) string

	mu    sync.Mutex
	chans map[string]*chanPos // guarded by mu
	dirty bool                // guarded by mu: changed since the last save
	size  int                 // guarded by mu: the last save's length, bytes
}

// chanPos is one channel's position and the posts after it delivered
// and not handled yet, in key order.
type chanPos struct {
	done    postKey
	pending []pendingPost
}

type pendingPost struct {
	key  postKey
	done bool
}

func newPositions(store bot.Store) *positions {
	return &positions{store: store, chans: map[string]*chanPos{}}
}

// load reads the positions saved by an earlier run. It reports false,
// with no error, when none were saved: the bot never ran with this store.
func (ps *positions) load(ctx context.Context) (savedPositions, bool, error) {
	v, err := bot.GetJSON[savedPositions](ctx, ps.store, positionsKey)
	if errors.Is(err, bot.ErrNotFound) {
		return savedPositions{}, false, nil
	}
	if err != nil {
		return savedPositions{}, false, fmt.Errorf("mattermost: read the catch-up positions: %w", err)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for id, k := range v.Channels {
		if ps.chans[id] == nil {
			ps.chans[id] = &chanPos{done: k}
		}
	}
	return v, true, nil
}

// start notes a post delivered to the engine and returns the function
// the engine calls when it is done with it (Message.Handled).
func (ps *positions) start(channelID string, k postKey) func(complete bool) {
	k.ID = strings.Clone(k.ID) // a copy, see window.add
	ps.mu.Lock()
	c := ps.channel(channelID)
	i, _ := slices.BinarySearchFunc(c.pending, k, func(p pendingPost, k postKey) int { return p.key.compare(k) })
	c.pending = slices.Insert(c.pending, i, pendingPost{key: k})
	ps.mu.Unlock()
	var once sync.Once
	return func(complete bool) {
		once.Do(func() { ps.finish(channelID, k, complete) })
	}
}

// handled notes a post handled without the engine.
func (ps *positions) handled(channelID string, k postKey) {
	k.ID = strings.Clone(k.ID) // a copy, see window.add
	ps.mu.Lock()
	defer ps.mu.Unlock()
	c := ps.channel(channelID)
	if len(c.pending) == 0 {
		if k.compare(c.done) > 0 {
			c.done = k
			ps.dirty = true
		}
		return
	}
	i, _ := slices.BinarySearchFunc(c.pending, k, func(p pendingPost, k postKey) int { return p.key.compare(k) })
	c.pending = slices.Insert(c.pending, i, pendingPost{key: k, done: true})
	ps.advance(c)
}

// finish marks a delivered post done, when complete, and moves the
// channel's position past the posts done in a row.
func (ps *positions) finish(channelID string, k postKey, complete bool) {
	if !complete {
		return // it stays pending: the position never passes it
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	c := ps.channel(channelID)
	for i := range c.pending {
		if c.pending[i].key == k {
			c.pending[i].done = true
			break
		}
	}
	ps.advance(c)
}

// advance moves c's position past the done posts at the head of its
// pending ones. Call with ps.mu held.
func (ps *positions) advance(c *chanPos) {
	n := 0
	for n < len(c.pending) && c.pending[n].done {
		if k := c.pending[n].key; k.compare(c.done) > 0 {
			c.done = k
			ps.dirty = true
		}
		n++
	}
	c.pending = slices.Delete(c.pending, 0, n)
	if len(c.pending) == 0 {
		// Most channels are quiet most of the time: ten thousand of
		// them each kept an array for their last post.
		c.pending = nil
	}
}

// channel returns a channel's state, made on first use. Call with ps.mu
// held.
func (ps *positions) channel(id string) *chanPos {
	c := ps.chans[id]
	if c == nil {
		c = &chanPos{}
		if ps.intern != nil {
			id = ps.intern(id)
		} else {
			id = strings.Clone(id) // a copy, see window.add
		}
		ps.chans[id] = c
	}
	return c
}

// position returns a channel's position, and false when the bot has none
// for it.
func (ps *positions) position(channelID string) (postKey, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	c := ps.chans[channelID]
	if c == nil || c.done.ID == "" {
		return postKey{}, false
	}
	return c.done, true
}

// save writes the positions to the store, stamped now (ms), when they
// changed since the last save or when force is set. Channels whose
// position is older than forget (ms) and that have nothing pending are
// dropped: a catch-up would not look that far back anyway.
func (ps *positions) save(ctx context.Context, now, forget int64, force bool) error {
	ps.saving.Lock()
	defer ps.saving.Unlock()
	ps.mu.Lock()
	if !ps.dirty && !force {
		ps.mu.Unlock()
		return nil
	}
	// Encoded here, as savedPositions: json.Marshal would build a map of
	// every channel first, sort its keys, and keep its buffer (a
	// megabyte at ten thousand channels) in its pool between saves.
	buf := make([]byte, 0, ps.size+ps.size/8+64)
	buf = append(buf, `{"saved_at":`...)
	buf = strconv.AppendInt(buf, now, 10)
	buf = append(buf, `,"channels":{`...)
	first := true
	for id, c := range ps.chans {
		if c.done.ID == "" {
			continue
		}
		if c.done.At < forget && len(c.pending) == 0 {
			delete(ps.chans, id)
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, id)
		buf = append(buf, `:{"at":`...)
		buf = strconv.AppendInt(buf, c.done.At, 10)
		buf = append(buf, `,"id":`...)
		buf = appendJSONString(buf, c.done.ID)
		buf = append(buf, '}')
	}
	buf = append(buf, "}}"...)
	ps.size = len(buf)
	ps.dirty = false
	ps.mu.Unlock()
	if err := ps.store.Set(ctx, positionsKey, buf); err != nil {
		ps.mu.Lock()
		ps.dirty = true
		ps.mu.Unlock()
		return fmt.Errorf("mattermost: save the catch-up positions: %w", err)
	}
	return nil
}

// appendJSONString appends s to b as a JSON string. Ids are letters and
// digits, appended as they are; anything else is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// positionsSaveInterval is how often the positions are saved while the
// bot runs, when they changed: a crash loses at most this much of them,
// and the commands answered meanwhile are told by their answers.
const positionsSaveInterval = 5 * time.Second

// loadPositions reads the positions the last run saved. A store that
// cannot be read is logged, and the bot starts from now.
func (b *Backend) loadPositions(ctx context.Context) {
	saved, ok, err := b.pos.load(ctx)
	if err != nil {
		b.log.Warn("catch-up: cannot read the positions saved; starting from the login", "err", err)
	}
	b.saved, b.hasSaved = saved, ok
	b.loaded.Store(true)
}

// savePositionsEvery saves the positions every interval, when they
// changed, until ctx is done.
func (b *Backend) savePositionsEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.savePositions(ctx, false)
		}
	}
}

// savePositions saves the positions, when they changed or with force,
// once Run has read the saved ones. A failure is logged: the next save
// tries again.
func (b *Backend) savePositions(ctx context.Context, force bool) {
	if b.pos == nil || !b.loaded.Load() {
		return
	}
	now := b.now()
	forget := now - max(b.opts.CatchUp, maxLookBack).Milliseconds()
	if err := b.pos.save(ctx, now, forget, force); err != nil && ctx.Err() == nil {
		b.log.Warn("catch-up: cannot save the positions", "err", err)
	}
}
