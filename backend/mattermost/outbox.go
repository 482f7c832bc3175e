package mattermost

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/storage/memory"
)

// The outbox keeps the posts the server could not take: a post that
// fails at its first try (the client's own retries included), or whose
// context ends first (a handler's deadline, the end of a shutdown), is
// stored (Options.Store) instead of dropped, with its pending_post_id,
// and sent again when the server answers, oldest first, until it is
// older than Options.OutboxMaxAge. A later post that answers the same
// command as posts waiting (or, answering none, to a channel with such
// posts waiting) goes behind them, unsent, so that the replies to one
// command keep their order (see waitingFor); while the server fails (outbox.failing), every post goes there
// untried, so that no handler waits on the server: in a long outage,
// handlers that each waited out a retry budget held every slot, and
// commands were refused.
//
// A resend never makes a second post. The server answers the post made
// for a pending_post_id it has seen, but it forgets the id after 30 s
// (app/post.go pendingPostIDsCacheTTL) and at a restart, and never
// returns it on reads (it is no column of the Posts table). So every
// post carries its pending_post_id in a prop too (PropPendingPostID),
// and before it sends a channel's waiting posts the outbox reads the
// channel's posts since the oldest was first tried, and drops those the
// server has made already: an attempt whose answer was lost.

// DefaultOutboxMaxAge is the default of Options.OutboxMaxAge.
const DefaultOutboxMaxAge = time.Hour

// PropPendingPostID is the post prop that carries a post's
// pending_post_id on every post the backend creates, so that the outbox
// can tell, however late, whether an attempt whose answer was lost made
// the post (see Options.OutboxMaxAge).
const PropPendingPostID = "matterbot_pending_post_id"

const (
	// outboxPrefix is the prefix of the outbox's keys in Options.Store:
	// "outbox/" and a 20-digit number, in the order the posts were kept.
	outboxPrefix = "outbox/"
	// outboxLookback is how far before a post's first attempt the check
	// for a post made already reads: the bot's clock and the server's
	// may disagree by that much.
	outboxLookback = time.Minute
	// Reasons of Observer.ObserveOutboxDropped.
	droppedExpired = "expired"
	droppedRefused = "refused"
)

// outboxEntry is one post in the outbox, as stored (JSON).
type outboxEntry struct {
	Post outboxPost `json:"post"`
	// File is a file to upload and attach to the post first, when its
	// upload failed too (or the channel had posts waiting).
	File *outboxFile `json:"file,omitempty"`
	// Created is when the post was first tried, or kept without trying
	// (Unix ms, the bot's clock): its age counts from there, and the
	// check for a post made already reads from there.
	Created int64 `json:"created_ms"`
}

// outboxPost is what the server is sent for a post.
type outboxPost struct {
	ChannelID     string         `json:"channel_id"`
	RootID        string         `json:"root_id,omitempty"`
	Message       string         `json:"message,omitempty"`
	Props         map[string]any `json:"props,omitempty"`
	FileIDs       []string       `json:"file_ids,omitempty"`
	PendingPostID string         `json:"pending_post_id"`
}

// outboxFile is a file to upload, held in the entry.
type outboxFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

func (p *outboxPost) post() *mm.Post {
	return &mm.Post{ChannelID: p.ChannelID, RootID: p.RootID, Message: p.Message, Props: p.Props,
		FileIDs: p.FileIDs, PendingPostID: p.PendingPostID}
}

func newOutboxPost(p *mm.Post) outboxPost {
	return outboxPost{ChannelID: p.ChannelID, RootID: p.RootID, Message: p.Message, Props: p.Props,
		FileIDs: p.FileIDs, PendingPostID: p.PendingPostID}
}

// outbox is the index of the posts kept in the store, by channel. The
// store holds the entries; the index only what ordering and expiry
// need.
type outbox struct {
	store  outboxStore
	maxAge time.Duration
	obs    Observer // nil: nobody

	mu     sync.Mutex
	byChan map[string][]outboxItem // guarded by mu: channel id → its posts, oldest first
	n      int                     // guarded by mu: posts in the outbox
	// replies counts, by post id, the posts waiting that answer it
	// (PropReplyTo): a catch-up does not answer those again. Guarded by
	// mu.
	replies map[string]int
	// sent remembers, for sentMemory, the posts answered by posts that
	// left the outbox: a catch-up that read a channel before such a post
	// was sent, and looks for it after it left, must still find it.
	// Guarded by mu.
	sent    map[string]time.Time // post id → when the last post answering it left
	sentLog []sentReply          // sent, oldest first, for pruning
	last    uint64               // guarded by mu: number of the last key handed out

	// failing is set when the server fails a post (no answer, a 429 or
	// 5xx, the token refused): every post then goes to the outbox
	// untried, so that no handler waits on the server, until a post goes
	// through again (Backend.answered), the outbox's first included.
	failing atomic.Bool
	// posted counts the posts the outbox's loop has sent.
	posted atomic.Int64

	// wake tells the outbox's loop (runOutbox) that it has work, or that
	// the server answers again. Size 1: a wake never blocks, and wakes
	// that come while one is pending are one.
	wake chan struct{}
}

// sentReply is a post answered by a post that left the outbox, and when.
type sentReply struct {
	replyTo string
	at      time.Time
}

// sentMemory is how long the outbox remembers the posts its sent posts
// answered: longer than a catch-up takes from its read to its check,
// background retries included (Retry.MaxTotal).
const sentMemory = 15 * time.Minute

// outboxItem is a post of the index.
type outboxItem struct {
	key     string
	created int64  // Unix ms
	replyTo string // the post it answers (PropReplyTo), or ""
}

// replyTo returns the post e answers, or "".
func (e *outboxEntry) replyTo() string {
	id, _ := e.Post.Props[PropReplyTo].(string)
	return id
}

// outboxStore is the part of a bot.Store the outbox uses.
type outboxStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// newOutbox returns an empty outbox over store (nil: a map in memory).
func newOutbox(store bot.Store, maxAge time.Duration, obs Observer) *outbox {
	ob := &outbox{maxAge: maxAge, obs: obs, byChan: map[string][]outboxItem{}, replies: map[string]int{},
		sent: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	if store == nil {
		ob.store = memory.New().Store("backend") // lost at exit
	} else {
		ob.store = store
	}
	return ob
}

// load reads the posts kept by an earlier run. Entries that cannot be
// decoded are deleted.
func (ob *outbox) load(ctx context.Context, log warner) error {
	keys, err := ob.store.Keys(ctx, outboxPrefix)
	if err != nil {
		return fmt.Errorf("mattermost: read the outbox: %w", err)
	}
	items := map[string][]outboxItem{}
	replies := map[string]int{}
	var last uint64
	n := 0
	for _, k := range keys {
		num, err := strconv.ParseUint(k[len(outboxPrefix):], 10, 64)
		e, gerr := ob.get(ctx, k)
		if errors.Is(gerr, bot.ErrNotFound) {
			continue
		}
		if err != nil || gerr != nil {
			log.Warn("outbox entry unreadable, deleted", "key", k, "err", cmp.Or(gerr, err))
			_ = ob.store.Delete(ctx, k) // best effort: it is skipped either way
			continue
		}
		last = max(last, num)
		it := outboxItem{key: k, created: e.Created, replyTo: e.replyTo()}
		items[e.Post.ChannelID] = append(items[e.Post.ChannelID], it)
		if it.replyTo != "" {
			replies[it.replyTo]++
		}
		n++
	}
	ob.mu.Lock()
	ob.byChan, ob.replies, ob.n, ob.last = items, replies, n, max(ob.last, last)
	ob.mu.Unlock()
	ob.observe(n)
	if n > 0 {
		ob.kick()
	}
	return nil
}

// warner is the part of a logger load needs.
type warner interface {
	Warn(msg string, args ...any)
}

// get reads an entry.
func (ob *outbox) get(ctx context.Context, key string) (*outboxEntry, error) {
	b, err := ob.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	e := new(outboxEntry)
	if err := json.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("decode outbox entry %s: %w", key, err)
	}
	return e, nil
}

// waitingFor reports whether posts that a new post to a channel must not
// overtake wait in the outbox: those answering the same post, replyTo
// (the replies to one command keep their order), or, for a post that
// answers none, those to the channel that answer none either. A reply to
// another command does not wait behind them: after an outage, the
// backlog is sent while new commands are answered at once (a backlog
// that every new reply joined, at a channel's busiest, never emptied).
func (ob *outbox) waitingFor(channelID, replyTo string) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if replyTo != "" {
		return ob.replies[replyTo] > 0
	}
	for _, it := range ob.byChan[channelID] {
		if it.replyTo == "" {
			return true
		}
	}
	return false
}

// depth returns the number of posts in the outbox.
func (ob *outbox) depth() int {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return ob.n
}

// put stores e and adds it to its channel's queue, behind the posts
// there, and returns the number of posts waiting.
func (ob *outbox) put(ctx context.Context, e *outboxEntry) (int, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("encode outbox entry: %w", err)
	}
	ob.mu.Lock()
	// A number above every key in the store, in the order of the calls;
	// from the clock, so that a run whose load failed still does not
	// reuse an earlier run's keys.
	ob.last = max(ob.last+1, uint64(time.Now().UnixNano()))
	key := fmt.Sprintf("%s%020d", outboxPrefix, ob.last)
	ob.mu.Unlock()
	// Stored before it is indexed: the loop never finds an item without
	// its entry. The index is kept in key order, should a concurrent put
	// finish first.
	if err := ob.store.Set(ctx, key, b); err != nil {
		return 0, fmt.Errorf("keep in the outbox: %w", err)
	}
	ch := e.Post.ChannelID
	ob.mu.Lock()
	q := ob.byChan[ch]
	i, _ := slices.BinarySearchFunc(q, key, func(it outboxItem, k string) int { return cmp.Compare(it.key, k) })
	it := outboxItem{key: key, created: e.Created, replyTo: e.replyTo()}
	ob.byChan[ch] = slices.Insert(q, i, it)
	if it.replyTo != "" {
		ob.replies[it.replyTo]++
	}
	ob.n++
	n := ob.n
	ob.mu.Unlock()
	ob.observe(n)
	if n == 1 {
		ob.kick()
	}
	return n, nil
}

// update stores e again under its key.
func (ob *outbox) update(ctx context.Context, key string, e *outboxEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox entry: %w", err)
	}
	return ob.store.Set(ctx, key, b)
}

// remove deletes an item, sent or dropped, from the store and the index.
func (ob *outbox) remove(ctx context.Context, channelID string, it outboxItem) error {
	if err := ob.store.Delete(ctx, it.key); err != nil {
		return fmt.Errorf("delete outbox entry %s: %w", it.key, err)
	}
	ob.forget(channelID, it)
	return nil
}

// forget removes an item from the index.
func (ob *outbox) forget(channelID string, it outboxItem) {
	ob.mu.Lock()
	q := ob.byChan[channelID]
	i := slices.IndexFunc(q, func(x outboxItem) bool { return x.key == it.key })
	if i >= 0 {
		if id := q[i].replyTo; id != "" {
			if ob.replies[id]--; ob.replies[id] <= 0 {
				delete(ob.replies, id)
			}
			ob.rememberSent(id)
		}
		q = slices.Delete(q, i, i+1)
		ob.n--
	}
	if len(q) == 0 {
		delete(ob.byChan, channelID)
	} else {
		ob.byChan[channelID] = q
	}
	n := ob.n
	ob.mu.Unlock()
	ob.observe(n)
}

// answers reports whether a post waiting answers the post id, or one
// sent (or dropped) within sentMemory did.
func (ob *outbox) answers(id string) bool {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	_, sent := ob.sent[id]
	return ob.replies[id] > 0 || sent
}

// rememberSent notes that a post answering id left the outbox, and
// forgets those older than sentMemory. Called with mu held.
func (ob *outbox) rememberSent(id string) {
	now := time.Now()
	ob.sent[id] = now
	ob.sentLog = append(ob.sentLog, sentReply{id, now})
	n := 0
	for n < len(ob.sentLog) && now.Sub(ob.sentLog[n].at) > sentMemory {
		if r := ob.sentLog[n]; ob.sent[r.replyTo].Equal(r.at) {
			delete(ob.sent, r.replyTo)
		}
		n++
	}
	if n > 0 {
		ob.sentLog = slices.Delete(ob.sentLog, 0, n)
	}
}

// items returns a channel's posts, oldest first.
func (ob *outbox) items(channelID string) []outboxItem {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return slices.Clone(ob.byChan[channelID])
}

// channels returns the channels with posts waiting, the one with the
// oldest first.
func (ob *outbox) channels() []string {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	chs := make([]string, 0, len(ob.byChan))
	for ch := range ob.byChan {
		chs = append(chs, ch)
	}
	slices.SortFunc(chs, func(a, b string) int { return cmp.Compare(ob.byChan[a][0].key, ob.byChan[b][0].key) })
	return chs
}

// kick wakes the outbox's loop.
func (ob *outbox) kick() {
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

func (ob *outbox) observe(n int) {
	if ob.obs != nil {
		ob.obs.ObserveOutbox(n)
	}
}

// expired reports whether a post kept at created (Unix ms) is past the
// outbox's max age at now.
func (ob *outbox) expired(created int64, now time.Time) bool {
	return now.Sub(time.UnixMilli(created)) > ob.maxAge
}

// errBehind is why a post goes to the outbox untried: posts it must not
// overtake wait there (see outbox.waitingFor).
var errBehind = errors.New("mattermost: posts to the channel wait in the outbox")

// keepable reports whether a post that failed with err goes to the
// outbox: the server did not answer, answered 429 or 5xx (mm.Transient),
// or no longer took the bot's credentials (a session that expired, a
// token revoked: a supervisor's restart with a good token delivers it),
// or the reply's context ended before the server took it (a handler's
// deadline, the end of a shutdown).
func keepable(ctx context.Context, err error) bool {
	return errors.Is(err, errBehind) || mm.Transient(err) || errors.Is(err, mm.ErrUnauthorized) ||
		ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// stamp gives p its pending_post_id, once, and the prop that carries
// it.
func (b *Backend) stamp(p *mm.Post) {
	if p.PendingPostID != "" {
		return
	}
	p.PendingPostID = b.client.PendingPostID()
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	p.Props[PropPendingPostID] = p.PendingPostID
}

// post creates p, or keeps it in the outbox: with a file to upload first
// (whose upload failed), when posts to its channel wait there, when the
// server is failing (see outbox.failing), or when it does not take p at
// the first try (the client's own retries included). A reply is never
// retried in its handler: a handler waiting on a failing server holds
// its slot, and a long outage filled every slot and the queue behind
// them, so that commands were refused; the outbox retries instead. It
// returns an error for a post the server refused, or one that could not
// be kept.
func (b *Backend) post(ctx context.Context, p *mm.Post, file *outboxFile) error {
	created := time.Now()
	b.stamp(p)
	if b.ob == nil {
		return b.createPost(ctx, p)
	}
	var err error
	switch {
	case file != nil, b.ob.waitingFor(p.ChannelID, replyToOf(p)):
	case b.ob.failing.Load():
		err = errFailing
	default:
		tctx, cancel := context.WithTimeout(ctx, replyTry(b.opts.Retry))
		var made *mm.Post
		made, _, err = b.client.CreatePost(tctx, p)
		cancel()
		if err == nil {
			b.noteReply(made)
			b.answered()
			return nil
		}
		if !keepable(ctx, err) {
			return err
		}
	}
	return b.keep(ctx, &outboxEntry{Post: newOutboxPost(p), File: file, Created: created.UnixMilli()}, err)
}

// answered notes that the server took a post: posts are tried again,
// and those waiting in the outbox are sent.
func (b *Backend) answered() {
	b.recovered()
	if b.ob.depth() > 0 {
		b.ob.kick()
	}
}

// recovered notes that the server took a post: posts are tried again.
func (b *Backend) recovered() {
	if b.ob.failing.Swap(false) {
		b.log.Info("the server answers again: replies are posted, and the outbox sent", "waiting", b.ob.depth())
	}
}

// serverFailing reports whether err, from a post, says the server is
// failing rather than refusing this post: no answer, a 429 or 5xx, or
// the bot's credentials refused.
func serverFailing(err error) bool {
	return mm.Transient(err) || errors.Is(err, mm.ErrUnauthorized)
}

// replyToOf returns the post p answers (PropReplyTo), or "".
func replyToOf(p *mm.Post) string {
	id, _ := p.Props[PropReplyTo].(string)
	return id
}

// replyTry bounds a reply's try in its handler, the client's own
// retries and its waits on 429 answers included: 5 times p.Base (5 s by
// default), and never under minReplyTry, which a post takes on a slow
// server whatever the backoff's scale. Past it the reply goes to the
// outbox. A client told by 429s
// to wait waits up to a minute per call; in a storm of them every
// handler waited out the storm in its slot, and the queue behind them
// filled. A post whose answer this cuts off may have been made: the
// outbox finds it (PropPendingPostID) before it sends again.
func replyTry(p RetryPolicy) time.Duration {
	return max(5*p.Base, minReplyTry)
}

// minReplyTry is the least replyTry.
const minReplyTry = 2 * time.Second

// errFailing is why a post goes to the outbox untried: the server failed
// the last post it was sent, and the outbox is retrying.
var errFailing = errors.New("mattermost: the server is failing; the outbox retries")

// keep puts e in the outbox; cause is why it was not sent (nil: it goes
// behind posts waiting).
func (b *Backend) keep(ctx context.Context, e *outboxEntry, cause error) error {
	// The reply's context may be over (that may be why it is kept): the
	// store is written all the same, within Timeout.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.Timeout)
	defer cancel()
	n, err := b.ob.put(sctx, e)
	if err != nil {
		if cause == nil {
			cause = errBehind
		}
		return fmt.Errorf("%w; %w", cause, err)
	}
	switch {
	case cause != nil && !errors.Is(cause, errBehind) && !errors.Is(cause, errFailing):
		if serverFailing(cause) && !b.ob.failing.Swap(true) {
			b.log.Warn("the server is failing: replies go to the outbox until it answers", "err", cause)
		}
		b.log.Warn("reply kept in the outbox", "channel_id", e.Post.ChannelID, "waiting", n, "err", cause)
	default:
		b.log.Debug("reply queued behind the outbox", "channel_id", e.Post.ChannelID, "waiting", n)
	}
	return nil
}

// runOutbox sends the posts of the outbox while ctx lasts: at once when
// there are some, again each time a send fails, with the backoff of
// Options.Retry (no end), and at once when the server is seen to answer
// again (a WebSocket hello, a post that went through). Posts older than
// OutboxMaxAge are dropped, with a log line each.
func (b *Backend) runOutbox(ctx context.Context) {
	ob := b.ob
	jitter := b.jitter
	if jitter == nil {
		jitter = equalJitter
	}
	var (
		failures int
		retry    *time.Timer
		retryC   <-chan time.Time
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ob.wake:
		case <-retryC:
		}
		if retry != nil {
			retry.Stop()
			retry, retryC = nil, nil
		}
		if ob.depth() == 0 {
			failures = 0
			continue
		}
		postedBefore := ob.posted.Load()
		err := b.flushOutbox(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil || ob.posted.Load() > postedBefore {
			// Done; or a channel failed while others were sent to,
			// failing before the server came back: again at once.
			failures = 0
			if ob.depth() > 0 {
				ob.kick() // put while it sent, or left by a failure
			}
			continue
		}
		if serverFailing(err) && !ob.failing.Swap(true) {
			b.log.Warn("the server is failing: replies go to the outbox until it answers", "err", err)
		}
		d := jitter(min(b.opts.Retry.ceiling(failures), outboxProbeMax(b.opts.Retry)))
		var rl *mm.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > d {
			d = rl.RetryAfter
		}
		failures++
		b.log.Debug("outbox: server unavailable, retrying", "waiting", ob.depth(), "wait", d, "err", err)
		retry = time.NewTimer(d)
		retryC = retry.C
	}
}

// outboxProbeMax caps the outbox's wait between two tries while the
// server fails: 4 times p.Base (4 s by default), within p.Max. The
// outbox is the one caller still trying then (posts go there untried),
// so its wait is how late replies come once the server is back.
func outboxProbeMax(p RetryPolicy) time.Duration {
	return max(p.Base, min(p.Max, 4*p.Base))
}

// outboxFlushers is how many channels the outbox sends to at once. Each
// channel's posts go one after the other, in order; after a long outage
// thousands wait, over many channels, and one channel at a time made
// the replies trickle back for a minute.
const outboxFlushers = 8

// flushOutbox drops the posts past their age, then sends the others,
// outboxFlushers channels at a time, oldest channel first. It returns
// the first error that says to try again later (the server did not
// take a post), starts no other channel once it has one, and leaves the
// rest for then.
func (b *Backend) flushOutbox(ctx context.Context) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error // guarded by mu
	)
	sem := make(chan struct{}, outboxFlushers)
	for _, ch := range b.ob.channels() {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := b.flushChannel(ctx, ch); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// flushChannel sends the posts waiting for one channel, in order.
func (b *Backend) flushChannel(ctx context.Context, channelID string) error {
	ob := b.ob
	items := ob.items(channelID)
	now := time.Now()
	live := items[:0]
	for _, it := range items {
		if ob.expired(it.created, now) {
			if err := b.dropKept(ctx, channelID, it, droppedExpired, nil); err != nil {
				return err
			}
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return nil
	}
	made, err := b.madeSince(ctx, channelID, live)
	if err != nil {
		if keepable(ctx, err) {
			return err
		}
		// The channel cannot be read (gone, or the bot removed from
		// it): it cannot be posted to either.
		for _, it := range live {
			if err := b.dropKept(ctx, channelID, it, droppedRefused, err); err != nil {
				return err
			}
		}
		return nil
	}
	sent := 0
	defer func() {
		if sent > 0 {
			b.log.Info("outbox: replies delivered", "channel_id", channelID, "posts", sent, "waiting", ob.depth())
		}
	}()
	for _, it := range live {
		e, err := ob.get(ctx, it.key)
		if errors.Is(err, bot.ErrNotFound) {
			ob.forget(channelID, it) // deleted behind our back
			continue
		}
		if err != nil {
			// The store fails: try again later, with the backoff.
			return err
		}
		if made[e.Post.PendingPostID] {
			// An attempt whose answer was lost made it.
			b.log.Debug("outbox: post made already", "channel_id", channelID, "pending_post_id", e.Post.PendingPostID)
			if err := ob.remove(ctx, channelID, it); err != nil {
				return err
			}
			sent++
			continue
		}
		if e.File != nil {
			fi, _, err := b.client.UploadFile(ctx, channelID, e.File.Name, bytes.NewReader(e.File.Data))
			if err != nil {
				if keepable(ctx, err) {
					return err
				}
				if err := b.dropKept(ctx, channelID, it, droppedRefused, err); err != nil {
					return err
				}
				continue
			}
			e.Post.FileIDs, e.File = []string{fi.ID}, nil
			if err := ob.update(ctx, it.key, e); err != nil {
				return err
			}
		}
		if _, _, err := b.client.CreatePost(ctx, e.Post.post()); err != nil {
			if keepable(ctx, err) {
				return err
			}
			if err := b.dropKept(ctx, channelID, it, droppedRefused, err); err != nil {
				return err
			}
			continue
		}
		ob.posted.Add(1)
		b.recovered()
		if err := ob.remove(ctx, channelID, it); err != nil {
			return err
		}
		sent++
	}
	return nil
}

// madeSince returns the pending_post_ids (PropPendingPostID) of the
// bot's posts in a channel since the first of items was first tried.
func (b *Backend) madeSince(ctx context.Context, channelID string, items []outboxItem) (map[string]bool, error) {
	since := items[0].created
	for _, it := range items {
		since = min(since, it.created)
	}
	list, err := b.postsSince(ctx, channelID, since-outboxLookback.Milliseconds())
	if err != nil {
		return nil, err
	}
	made := map[string]bool{}
	for _, p := range list.Posts {
		// Deleted ones too: a reply someone deleted is not posted again.
		if id, ok := p.Props[PropPendingPostID].(string); ok && p.UserID == b.self.ID {
			made[id] = true
		}
	}
	return made, nil
}

// dropKept drops a post from the outbox, with a log line and the
// Observer told: too old (reason droppedExpired), or refused by the
// server (droppedRefused, with the error). It fails when the store
// does.
func (b *Backend) dropKept(ctx context.Context, channelID string, it outboxItem, reason string, cause error) error {
	if err := b.ob.remove(ctx, channelID, it); err != nil {
		return err
	}
	age := time.Since(time.UnixMilli(it.created)).Round(time.Second)
	if reason == droppedExpired {
		b.log.Warn("reply dropped from the outbox: older than outbox_max_age", "channel_id", channelID,
			"age", age, "max_age", b.ob.maxAge)
	} else {
		b.log.Warn("reply dropped from the outbox: the server refused it", "channel_id", channelID, "age", age, "err", cause)
	}
	if o := b.opts.Observer; o != nil {
		o.ObserveOutboxDropped(reason)
	}
	return nil
}

// inflight counts calls in flight, and lets one wait until none is.
type inflight struct {
	mu   sync.Mutex
	n    int           // guarded by mu
	zero chan struct{} // guarded by mu: closed when n drops to 0; nil when nobody waits
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
}

// wait returns when no call is in flight, or when ctx is done.
func (f *inflight) wait(ctx context.Context) {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	zero := f.zero
	f.mu.Unlock()
	select {
	case <-zero:
	case <-ctx.Done():
	}
}
