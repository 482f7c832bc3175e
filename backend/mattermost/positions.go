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

// The positions' keys in Options.Store. A store that is a bot.Batcher
// keeps a log of records, positionPrefix + a 16-digit hexadecimal
// number, each a savedPositions of some channels (null for a channel
// forgotten) of at most about recordSize bytes: a save appends the
// channels whose position moved since the last one, and once the log
// has grown by what its last compaction wrote (compactBelow at least),
// the next save compacts it: it writes every position again, in new
// records, and deletes the old ones, in one batch. Another store keeps
// every position in one savedPositions under positionsKey, rewritten
// whole at each save: the format of the versions before, which a
// Batcher's first save after start folds into the log.
//
// Why a log and not one key a channel: bbolt rewrites each page a
// commit changes, 4 KiB, and the channels that move in five seconds are
// spread over all the pages of ten thousand keys (300 keys of 10,000
// rewrote 1 MB, more than the single value); appended records fill a
// few pages at the end (87 KB). See BenchmarkPositionsSave here and
// BenchmarkPositions in storage/bolt.
const (
	positionsKey   = "catch-up"
	positionPrefix = "catch-up/"
	// recordSize keeps two records to a 4 KiB page: bbolt splits a
	// page past half of it, but keeps two keys at least.
	recordSize = 1900
	// compactBelow is the least growth of the log between
	// compactions, and compactRecords the most records: a small world
	// compacts every few hundred saves, not at each.
	compactBelow   = 32 << 10
	compactRecords = 256
)

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

// savedPositions is what a store without bot.Batcher keeps under
// positionsKey, and a record of the log of one with it.
type savedPositions struct {
	// SavedAt is when the bot last saved (ms): it was running then, and
	// a channel with no position had no post for it before.
	SavedAt int64 `json:"saved_at"`
	// Channels holds, per channel id, the last post up to which every
	// post of the channel the bot saw was handled; in a record, nil for
	// a channel forgotten since the records before.
	Channels map[string]*postKey `json:"channels"`
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
	batch  bot.Batcher // store's, or nil: one value under positionsKey
	saving sync.Mutex  // one save at a time, so that the last one wins
	log    positionLog // guarded by saving

	// intern, when set, returns the one copy of a channel's id the
	// backend keeps (directory.channelID): the positions keep it rather
	// than a copy of their own. Set before the first post.
	intern func(id string) string

	mu    sync.Mutex
	chans map[string]*chanPos // guarded by mu
	// dirty holds, guarded by mu, the channels whose position moved,
	// or that were forgotten, since the last save: what the next one
	// writes. Made on the first change after a save, dropped by the
	// save: most channels are quiet, and a map keeps its size.
	dirty map[string]struct{}
	// retry is set, guarded by mu, when the last save failed: the next
	// one writes even if no position moved meanwhile (its stamp is
	// owed).
	retry bool
	size  int // guarded by mu: the last single value's length, bytes
}

// positionLog is where the log of records stands in a store that is a
// bot.Batcher (see positionsKey).
type positionLog struct {
	next    uint64 // the number of the next record
	grown   int    // bytes of the records appended since the last compaction
	records int    // how many
	base    int    // bytes of the records the last compaction wrote
	// compacted is set once a save of this run has compacted: the first
	// does, so that what an earlier run left (the single value, records
	// unreadable) goes, and the numbers go on from the store's.
	compacted bool
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
	b, _ := store.(bot.Batcher)
	return &positions{store: store, batch: b, chans: map[string]*chanPos{}}
}

// load reads the positions saved by an earlier run, and returns when it
// last saved (ms). It reports false, with no error, when none were
// saved: the bot never ran with this store. It reads both formats (see
// positionsKey): the log, then the single value, which an earlier
// version wrote after it, if ever both are there (a downgrade, then an
// upgrade). A record or value it cannot decode is left out, counted in
// nbad: its channels read from the last save, as channels the bot
// joined while it was stopped; the first save deletes it.
func (ps *positions) load(ctx context.Context) (savedAt int64, ok bool, nbad int, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("mattermost: read the catch-up positions: %w", err)
		}
	}()
	keys, err := ps.store.Keys(ctx, positionPrefix)
	if err != nil {
		return 0, false, 0, err
	}
	chans := map[string]postKey{}
	for _, key := range append(keys, positionsKey) {
		v, err := ps.store.Get(ctx, key)
		if errors.Is(err, bot.ErrNotFound) {
			continue // no single value; or deleted since Keys, by no one
		}
		if err != nil {
			return 0, false, 0, err
		}
		var r savedPositions
		if _, isRecord := recordNumber(key); (key != positionsKey && !isRecord) || json.Unmarshal(v, &r) != nil {
			nbad++
			continue
		}
		savedAt, ok = max(savedAt, r.SavedAt), true
		for id, k := range r.Channels {
			if k == nil {
				delete(chans, id) // forgotten
			} else {
				chans[id] = *k
			}
		}
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for id, k := range chans {
		if ps.chans[id] == nil {
			ps.chans[id] = &chanPos{done: k}
		}
	}
	return savedAt, ok, nbad, nil
}

// recordKey returns the key of record n of the log.
func recordKey(n uint64) string { return fmt.Sprintf("%s%016x", positionPrefix, n) }

// recordNumber returns the number of the record of the log under key,
// and false if key is not a record's.
func recordNumber(key string) (uint64, bool) {
	hex, ok := strings.CutPrefix(key, positionPrefix)
	if !ok || len(hex) != 16 || strings.ToLower(hex) != hex {
		return 0, false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, err == nil
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
			ps.markDirty(channelID)
		}
		return
	}
	i, _ := slices.BinarySearchFunc(c.pending, k, func(p pendingPost, k postKey) int { return p.key.compare(k) })
	c.pending = slices.Insert(c.pending, i, pendingPost{key: k, done: true})
	ps.advance(channelID, c)
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
	ps.advance(channelID, c)
}

// advance moves the position of c, channel id's, past the done posts at
// the head of its pending ones. Call with ps.mu held.
func (ps *positions) advance(id string, c *chanPos) {
	n, moved := 0, false
	for n < len(c.pending) && c.pending[n].done {
		if k := c.pending[n].key; k.compare(c.done) > 0 {
			c.done = k
			moved = true
		}
		n++
	}
	if moved {
		ps.markDirty(id)
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

// markDirty notes that channel id's position is to be saved. Call with
// ps.mu held.
func (ps *positions) markDirty(id string) {
	if _, ok := ps.dirty[id]; ok {
		return
	}
	if ps.dirty == nil {
		ps.dirty = map[string]struct{}{}
	}
	// A copy (see window.add), until the next save: not the directory's
	// (ps.intern), which would make an entry for a channel it forgot.
	ps.dirty[strings.Clone(id)] = struct{}{}
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
// dropped: a catch-up would not look that far back anyway. A save that
// fails leaves what it was to write for the next one.
func (ps *positions) save(ctx context.Context, now, forget int64, force bool) error {
	ps.saving.Lock()
	defer ps.saving.Unlock()
	ps.mu.Lock()
	idle := len(ps.dirty) == 0 && !ps.retry && !force
	ps.mu.Unlock()
	if idle {
		return nil
	}
	var err error
	if ps.batch == nil {
		err = ps.saveValue(ctx, now, forget)
	} else {
		err = ps.saveLog(ctx, now, forget)
	}
	if err != nil {
		return fmt.Errorf("mattermost: save the catch-up positions: %w", err)
	}
	return nil
}

// saveValue is save for a store without bot.Batcher.
func (ps *positions) saveValue(ctx context.Context, now, forget int64) error {
	ps.mu.Lock()
	dirty := ps.take(forget)
	buf := ps.encode(now)
	ps.mu.Unlock()
	if err := ps.store.Set(ctx, positionsKey, buf); err != nil {
		ps.failed(dirty)
		return err
	}
	return nil
}

// saveLog is save for a bot.Batcher: it appends the channels that moved
// to the log, or compacts it (see positionsKey).
func (ps *positions) saveLog(ctx context.Context, now, forget int64) error {
	l := &ps.log
	compact := !l.compacted || l.grown >= max(l.base, compactBelow) || l.records >= compactRecords
	var old []string
	if compact {
		// Listed here, not kept from load: whatever an earlier run
		// left goes, and the numbers go on after its records.
		var err error
		if old, err = ps.store.Keys(ctx, positionPrefix); err != nil {
			ps.failed(nil)
			return err
		}
		for _, key := range old {
			if n, ok := recordNumber(key); ok {
				l.next = max(l.next, n+1)
			}
		}
	}
	ps.mu.Lock()
	dirty := ps.take(forget)
	changes, size := ps.records(now, l.next, dirty, compact)
	ps.mu.Unlock()
	n := len(changes)
	if compact {
		for _, key := range old {
			changes = append(changes, bot.Change{Key: key, Delete: true})
		}
		changes = append(changes, bot.Change{Key: positionsKey, Delete: true})
	}
	if err := ps.batch.Batch(ctx, changes); err != nil {
		ps.failed(dirty)
		return err
	}
	l.next += uint64(n)
	if compact {
		l.compacted, l.base, l.grown, l.records = true, size, 0, 0
	} else {
		l.grown += size
		l.records += n
	}
	return nil
}

// take forgets the channels whose position is older than forget and
// that have nothing pending, and returns the channels that moved (and
// those forgotten), now owed to the store. Call with ps.mu held.
func (ps *positions) take(forget int64) map[string]struct{} {
	for id, c := range ps.chans {
		if c.done.ID != "" && c.done.At < forget && len(c.pending) == 0 {
			delete(ps.chans, id)
			ps.markDirty(id)
		}
	}
	dirty := ps.dirty
	ps.dirty, ps.retry = nil, false
	return dirty
}

// failed gives back to ps what a save that failed took (take), for the
// next save.
func (ps *positions) failed(dirty map[string]struct{}) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.dirty == nil {
		ps.dirty = dirty
	} else {
		for id := range dirty {
			ps.dirty[id] = struct{}{}
		}
	}
	ps.retry = true
}

// records returns the records, numbered from first, of the positions
// of the channels in only, or of every channel with all, stamped now,
// and their length in bytes. A channel of only with no position
// (forgotten) is recorded null. There is one record at least: the stamp.
// Call with ps.mu held.
func (ps *positions) records(now int64, first uint64, only map[string]struct{}, all bool) ([]bot.Change, int) {
	n := len(only)
	if all {
		n = len(ps.chans)
	}
	// One buffer for all, cut once it is written.
	buf := make([]byte, 0, n*72+64)
	var ends []int
	open := func() {
		buf = append(buf, `{"saved_at":`...)
		buf = strconv.AppendInt(buf, now, 10)
		buf = append(buf, `,"channels":{`...)
	}
	start := len(buf)
	open()
	add := func(id string, k postKey) {
		if len(buf)-start >= recordSize {
			buf = append(buf, "}}"...)
			ends = append(ends, len(buf))
			start = len(buf)
			open()
		}
		if buf[len(buf)-1] != '{' {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, id)
		buf = append(buf, ':')
		if k.ID == "" {
			buf = append(buf, "null"...)
		} else {
			buf = appendPostKey(buf, k)
		}
	}
	if all {
		for id, c := range ps.chans {
			if c.done.ID != "" {
				add(id, c.done)
			}
		}
	} else {
		for id := range only {
			var k postKey
			if c := ps.chans[id]; c != nil {
				k = c.done
			}
			add(id, k)
		}
	}
	buf = append(buf, "}}"...)
	ends = append(ends, len(buf))
	changes := make([]bot.Change, len(ends))
	from := 0
	for i, end := range ends {
		changes[i] = bot.Change{Key: recordKey(first + uint64(i)), Value: buf[from:end:end]}
		from = end
	}
	return changes, len(buf)
}

// encode returns the single value of every position (savedPositions),
// stamped now. Call with ps.mu held.
func (ps *positions) encode(now int64) []byte {
	// Encoded here: json.Marshal would build a map of every channel
	// first, sort its keys, and keep its buffer (a megabyte at ten
	// thousand channels) in its pool between saves.
	buf := make([]byte, 0, ps.size+ps.size/8+64)
	buf = append(buf, `{"saved_at":`...)
	buf = strconv.AppendInt(buf, now, 10)
	buf = append(buf, `,"channels":{`...)
	first := true
	for id, c := range ps.chans {
		if c.done.ID == "" {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, id)
		buf = append(buf, ':')
		buf = appendPostKey(buf, c.done)
	}
	buf = append(buf, "}}"...)
	ps.size = len(buf)
	return buf
}

// appendPostKey appends k to b as JSON.
func appendPostKey(b []byte, k postKey) []byte {
	b = append(b, `{"at":`...)
	b = strconv.AppendInt(b, k.At, 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, k.ID)
	return append(b, '}')
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
	savedAt, ok, bad, err := b.pos.load(ctx)
	if err != nil {
		b.log.Warn("catch-up: cannot read the positions saved; starting from the login", "err", err)
	}
	if bad > 0 {
		// Their channels read from the last save, as channels the bot
		// joined while it was stopped; the first save deletes them.
		b.log.Warn("catch-up: some saved positions unreadable; left out", "records", bad)
	}
	b.savedAt, b.hasSaved = savedAt, ok
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
