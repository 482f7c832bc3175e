package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/storage/memory"
)

// The outbox tests run a fake server in memory, in a synctest bubble:
// the retry budget (2 minutes), the backoff and the outbox's max age
// pass in virtual time. The transport lets a test refuse every request
// (the server down) or lose the answer to a post the server made. The
// WebSocket never connects: the backend is driven through Send.

// fault is what faultTransport does with a request.
type fault int

const (
	pass        fault = iota
	refuse            // no answer: connection refused
	loseAnswer        // served, then the answer lost (connection reset)
	unavailable       // answered 503, not served
	hang              // no answer until the request's context ends
	slow              // served after a second
	limited           // answered 429, Retry-After: 1, not served
)

// faultTransport serves requests with a handler, in memory, as decide
// says; it never answers the WebSocket upgrade.
type faultTransport struct {
	h http.Handler

	mu     sync.Mutex
	decide func(r *http.Request) fault // guarded by mu; nil: pass
	posts  int                         // guarded by mu: POST /posts requests that reached the server
}

func (f *faultTransport) set(decide func(r *http.Request) fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decide = decide
}

// down refuses every request; up lets them all through.
func (f *faultTransport) down() { f.set(func(*http.Request) fault { return refuse }) }
func (f *faultTransport) up()   { f.set(nil) }

func (f *faultTransport) postsServed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts
}

func (f *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/websocket") {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	f.mu.Lock()
	what := pass
	if f.decide != nil {
		what = f.decide(r)
	}
	isPost := r.Method == http.MethodPost && r.URL.Path == "/api/v4/posts"
	if isPost && what != refuse {
		f.posts++
	}
	f.mu.Unlock()
	if what == hang {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	if what == slow {
		time.Sleep(time.Second)
	}
	if what == refuse {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	rec := httptest.NewRecorder()
	if what == unavailable {
		return failure(r, http.StatusServiceUnavailable), nil
	}
	if what == limited {
		return failure(r, http.StatusTooManyRequests, "Retry-After", "1"), nil
	}
	f.h.ServeHTTP(rec, r)
	if what == loseAnswer {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// outboxWorld is a fake server with bob and the bot opsbot in ~ops and
// ~dev of team ops-team, reached through a faultTransport.
type outboxWorld struct {
	t        *testing.T
	srv      *mmtest.Server
	tr       *faultTransport
	bot      *mm.User
	bob      *mm.User
	ops, dev *mm.Channel
	token    string
	store    bot.Store // shared by the backends of the world: a restart keeps it
	logs     *logRecords
	obs      *outboxObserver
}

func newOutboxWorld(t *testing.T) *outboxWorld {
	t.Helper()
	srv := mmtest.New(nil)
	t.Cleanup(srv.Close)
	w := &outboxWorld{t: t, srv: srv, tr: &faultTransport{h: srv}, store: memory.New().Store("backend:mattermost"),
		logs: &logRecords{}, obs: &outboxObserver{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := srv.AddTeam("ops-team", "Ops Team")
	must(err)
	w.bob, err = srv.AddUser(mmtest.User{Username: "bob"})
	must(err)
	w.bot, err = srv.AddBot("opsbot", "Ops Bot", w.bob.ID)
	must(err)
	w.ops, err = srv.AddChannel(team.ID, "ops", "Ops", mm.ChannelOpen)
	must(err)
	w.dev, err = srv.AddChannel(team.ID, "dev", "Dev", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{w.bob, w.bot} {
		must(srv.AddTeamMember(team.ID, u.ID))
		must(srv.AddChannelMember(w.ops.ID, u.ID))
		must(srv.AddChannelMember(w.dev.ID, u.ID))
	}
	w.token, err = srv.CreateToken(w.bot.ID, "bot")
	must(err)
	return w
}

// start connects a backend with the world's store (edited by edit) and
// runs it until the test ends or the returned stop is called.
func (w *outboxWorld) start(edit func(*Options)) (b *Backend, stop func()) {
	w.t.Helper()
	opts := Options{
		Server: "http://mm.test", Token: mm.Secret(w.token), Teams: []string{"ops-team"},
		HTTPClient: &http.Client{Transport: w.tr}, Store: w.store,
		Logger: slog.New(w.logs), Observer: w.obs, PresenceInterval: -1,
	}
	if edit != nil {
		edit(&opts)
	}
	b, err := New(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	b.jitter = upperJitter
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Connect(ctx); err != nil {
		cancel()
		w.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, nopHandler{}) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("Run = %v", err)
			}
		})
	}
	w.t.Cleanup(stop)
	return b, stop
}

// client returns a client of the bot's, in memory, which no fault
// reaches.
func (w *outboxWorld) client() *mm.Client {
	w.t.Helper()
	c, err := mm.NewClient("http://mm.test", mm.Secret(w.token), &mm.ClientOptions{HTTPClient: &http.Client{Transport: &faultTransport{h: w.srv}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// said returns the messages the bot posted in a channel, oldest first.
func (w *outboxWorld) said(ch *mm.Channel) []string {
	var out []string
	for _, p := range w.srv.Posts(ch.ID) {
		if p.UserID == w.bot.ID {
			out = append(out, p.Message)
		}
	}
	return out
}

// How long a Send took, for send: at once (the post kept untried), or
// one try: the client's own retries (3, after 0.5, 1 and 2 s at most),
// never the backend's.
const (
	atOnce = iota
	oneTry
)

// oneTryMax bounds a Send that tried once: the client's retries, and no
// more.
const oneTryMax = 4 * time.Second

// send sends text to a channel and checks that Send returns nil, at once
// or after one try.
func send(t *testing.T, b *Backend, ch *mm.Channel, text string, took int) {
	t.Helper()
	start := time.Now()
	if err := b.Send(t.Context(), &bot.Outgoing{RoomID: ch.ID, Text: text}); err != nil {
		t.Fatalf("Send(%q) = %v, want nil (kept in the outbox)", text, err)
	}
	got := time.Since(start)
	switch {
	case took == atOnce && got != 0:
		t.Errorf("Send(%q) returned after %v, want at once", text, got)
	case took == oneTry && (got == 0 || got > oneTryMax):
		t.Errorf("Send(%q) returned after %v, want after the client's retries, at most %v", text, got, oneTryMax)
	}
}

type nopHandler struct{}

func (nopHandler) HandleConnect(context.Context, bot.User) error { return nil }
func (nopHandler) HandleMessage(*bot.Message) <-chan struct{}    { return nil }
func (nopHandler) HandleReaction(*bot.Reaction) <-chan struct{}  { return nil }
func (nopHandler) HandlePresence(*bot.Presence) <-chan struct{}  { return nil }
func (nopHandler) HandleJoin(*bot.Join) <-chan struct{}          { return nil }

// logRecords is a slog.Handler that keeps the messages at Warn and
// above.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *logRecords) WithGroup(string) slog.Handler                 { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// count returns how many messages start with prefix.
func (l *logRecords) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// outboxObserver records what the outbox reports.
type outboxObserver struct {
	mu      sync.Mutex
	waiting int
	dropped map[string]int
}

func (o *outboxObserver) ObserveRequest(string, string, int, time.Duration) {}
func (o *outboxObserver) ObserveRateLimitWait(time.Duration)                {}
func (o *outboxObserver) ObserveReconnect(bool)                             {}
func (o *outboxObserver) ObserveCatchUp(int)                                {}
func (o *outboxObserver) ObserveCache(string, bool)                         {}
func (o *outboxObserver) ObserveOutbox(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waiting = n
}

func (o *outboxObserver) ObserveOutboxDropped(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped == nil {
		o.dropped = map[string]int{}
	}
	o.dropped[reason]++
}

func (o *outboxObserver) state() (waiting int, dropped map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.waiting, copyCounts(o.dropped)
}

func copyCounts(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestOutboxLongOutage: the server refuses every request for 10
// minutes. A reply is tried once (the client's retries), then kept; the
// server is then taken for failing, and later replies, to the same
// channel or another, are kept at once, without a try, so that no
// handler waits on the server. When the server is back, every reply is
// posted once, in order per channel, within outboxProbeMax.
func TestOutboxLongOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(nil)
		start := time.Now()
		w.tr.down()
		send(t, b, w.ops, "one", oneTry)
		send(t, b, w.ops, "two", atOnce)
		send(t, b, w.dev, "elsewhere", atOnce)
		send(t, b, w.ops, "three", atOnce)
		if n := b.ob.depth(); n != 4 {
			t.Errorf("%d posts in the outbox, want 4", n)
		}
		if waiting, _ := w.obs.state(); waiting != 4 {
			t.Errorf("Observer heard of %d posts waiting, want 4", waiting)
		}
		if n := w.logs.count("reply kept in the outbox"); n != 1 {
			t.Errorf("%d log lines \"reply kept in the outbox\", want 1 (the post that was tried)", n)
		}
		if n := w.logs.count("the server is failing"); n != 1 {
			t.Errorf("%d log lines \"the server is failing\", want 1", n)
		}
		time.Sleep(10*time.Minute - time.Since(start))
		if got := w.said(w.ops); len(got) != 0 {
			t.Fatalf("posted during the outage: %q", got)
		}
		w.tr.up()
		// While the server fails, the outbox tries again at least every
		// outboxProbeMax (4 s with the default Retry); a try under way
		// when the server came back may fail first, after the client's
		// retries (oneTryMax).
		time.Sleep(outboxProbeMax(RetryPolicy{Base: DefaultRetryBase, Max: DefaultRetryMax}) + oneTryMax)
		synctest.Wait()
		if diff := cmp.Diff([]string{"one", "two", "three"}, w.said(w.ops)); diff != "" {
			t.Errorf("~ops after the outage (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"elsewhere"}, w.said(w.dev)); diff != "" {
			t.Errorf("~dev after the outage (-want +got):\n%s", diff)
		}
		if n := b.ob.depth(); n != 0 {
			t.Errorf("%d posts left in the outbox, want 0", n)
		}
		if waiting, dropped := w.obs.state(); waiting != 0 || len(dropped) != 0 {
			t.Errorf("Observer: %d waiting, dropped %v; want 0 and none", waiting, dropped)
		}
		// A reply now goes straight through.
		send(t, b, w.ops, "four", atOnce)
		if got := w.said(w.ops); len(got) != 4 || got[3] != "four" {
			t.Errorf("~ops = %q, want four last", got)
		}
		if keys, _ := w.store.Keys(t.Context(), outboxPrefix); len(keys) != 0 {
			t.Errorf("store keeps %q, want no outbox keys", keys)
		}
	})
}

// TestOutboxRestart: replies kept during an outage are posted by the
// next run, after a restart: once, in order, before its own replies.
func TestOutboxRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, stop := w.start(nil)
		w.tr.down()
		send(t, b, w.ops, "one", oneTry)
		send(t, b, w.ops, "two", atOnce)
		stop()
		time.Sleep(5 * time.Minute)
		if keys, _ := w.store.Keys(t.Context(), outboxPrefix); len(keys) != 2 {
			t.Errorf("the store keeps %q after the stop, want the 2 posts", keys)
		}
		w.tr.up()
		b2, _ := w.start(nil)
		// A reply of the new run to the same channel goes behind them.
		send(t, b2, w.ops, "three", atOnce)
		synctest.Wait()
		if diff := cmp.Diff([]string{"one", "two", "three"}, w.said(w.ops)); diff != "" {
			t.Errorf("~ops after the restart (-want +got):\n%s", diff)
		}
		if n := b2.ob.depth(); n != 0 {
			t.Errorf("%d posts left in the outbox, want 0", n)
		}
	})
}

// TestOutboxInFlightAtShutdown: a reply still retried when its context
// ends (the end of a shutdown's wait for handlers) is kept, and posted
// by the next run.
func TestOutboxInFlightAtShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, stop := w.start(nil)
		w.tr.down()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := b.Send(ctx, &bot.Outgoing{RoomID: w.ops.ID, Text: "last word"}); err != nil {
			t.Fatalf("Send under a context that ends = %v, want nil (kept)", err)
		}
		stop()
		w.tr.up()
		b2, _ := w.start(nil)
		synctest.Wait()
		if diff := cmp.Diff([]string{"last word"}, w.said(w.ops)); diff != "" {
			t.Errorf("~ops (-want +got):\n%s", diff)
		}
		if n := b2.ob.depth(); n != 0 {
			t.Errorf("%d posts left in the outbox, want 0", n)
		}
	})
}

// TestOutboxLostAnswer: the first attempt makes the post but its answer
// is lost, then the server is down past the retry budget and past the
// 30 s it remembers a pending_post_id, and the bot restarts. The post
// kept is not made again: the outbox finds it by its
// PropPendingPostID, and sends nothing.
func TestOutboxLostAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, stop := w.start(nil)
		var landed sync.Once
		w.tr.set(func(r *http.Request) fault {
			what := refuse
			if r.URL.Path == "/api/v4/posts" {
				landed.Do(func() { what = loseAnswer })
			}
			return what
		})
		send(t, b, w.ops, "once", oneTry)
		if got := w.said(w.ops); len(got) != 1 {
			t.Fatalf("~ops = %q, want the post the first attempt made", got)
		}
		stop()
		time.Sleep(10 * time.Minute)
		w.tr.up()
		before := w.tr.postsServed()
		b2, _ := w.start(nil)
		synctest.Wait()
		if diff := cmp.Diff([]string{"once"}, w.said(w.ops)); diff != "" {
			t.Errorf("~ops (-want +got):\n%s", diff)
		}
		if n := w.tr.postsServed() - before; n != 0 {
			t.Errorf("%d POST /posts after the restart, want none: the post was made", n)
		}
		if n := b2.ob.depth(); n != 0 {
			t.Errorf("%d posts left in the outbox, want 0", n)
		}
	})
}

// TestOutboxMaxAge: a reply kept longer than OutboxMaxAge is dropped,
// with one log line, and the Observer counts it; the server, back
// later, never gets it.
func TestOutboxMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		const maxAge = 10 * time.Minute
		b, _ := w.start(func(o *Options) { o.OutboxMaxAge = maxAge })
		start := time.Now()
		w.tr.down()
		send(t, b, w.ops, "too late", oneTry)
		time.Sleep(maxAge - time.Second - time.Since(start))
		if n := b.ob.depth(); n != 1 {
			t.Fatalf("%d posts in the outbox before the max age, want 1", n)
		}
		// Dropped at the first try past its age: within a wait
		// (Retry.Max) and a try (the client's own retries).
		time.Sleep(2 * DefaultRetryMax)
		synctest.Wait()
		if n := b.ob.depth(); n != 0 {
			t.Errorf("%d posts in the outbox past the max age, want 0", n)
		}
		if n := w.logs.count("reply dropped from the outbox: older than outbox_max_age"); n != 1 {
			t.Errorf("%d log lines for the drop, want 1", n)
		}
		if waiting, dropped := w.obs.state(); waiting != 0 || !cmp.Equal(dropped, map[string]int{"expired": 1}) {
			t.Errorf("Observer: %d waiting, dropped %v; want 0 and expired 1", waiting, dropped)
		}
		w.tr.up()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := w.said(w.ops); len(got) != 0 {
			t.Errorf("~ops = %q, want nothing: the reply was dropped", got)
		}
	})
}

// TestOutboxMaxAgeAtStart: a reply kept by an earlier run and older
// than the max age by now is dropped, not posted, by the next run.
func TestOutboxMaxAgeAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, stop := w.start(nil)
		w.tr.down()
		send(t, b, w.ops, "stale", oneTry)
		stop()
		time.Sleep(DefaultOutboxMaxAge)
		w.tr.up()
		b2, _ := w.start(nil)
		synctest.Wait()
		if got := w.said(w.ops); len(got) != 0 {
			t.Errorf("~ops = %q, want nothing", got)
		}
		if n := b2.ob.depth(); n != 0 {
			t.Errorf("%d posts in the outbox, want 0", n)
		}
		if _, dropped := w.obs.state(); dropped["expired"] != 1 {
			t.Errorf("dropped %v, want expired 1", dropped)
		}
	})
}

// TestOutboxOff: with a negative OutboxMaxAge a reply that fails its
// retries is dropped, as before the outbox: Send returns the error.
func TestOutboxOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(func(o *Options) { o.OutboxMaxAge = -1 })
		w.tr.down()
		err := b.Send(t.Context(), &bot.Outgoing{RoomID: w.ops.ID, Text: "lost"})
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Send = %v, want the connection refused", err)
		}
		if keys, _ := w.store.Keys(t.Context(), outboxPrefix); len(keys) != 0 {
			t.Errorf("store keeps %q, want nothing", keys)
		}
	})
}

// TestOutboxFile: a reply with a file whose upload fails is kept with
// the file; the file is uploaded and attached when the server is back.
func TestOutboxFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(nil)
		w.tr.down()
		out := &bot.Outgoing{RoomID: w.ops.ID, Text: "the report", File: &bot.File{Name: "r.txt", Body: io.MultiReader(strings.NewReader("report body"))}}
		if err := b.Send(t.Context(), out); err != nil {
			t.Fatalf("Send = %v, want nil (kept)", err)
		}
		w.tr.up()
		time.Sleep(DefaultRetryMax)
		synctest.Wait()
		var got []*mm.Post
		for _, p := range w.srv.Posts(w.ops.ID) {
			if p.UserID == w.bot.ID {
				got = append(got, p)
			}
		}
		if len(got) != 1 || got[0].Message != "the report" || len(got[0].FileIDs) != 1 {
			t.Fatalf("~ops = %+v, want one post with the file", got)
		}
		rc, _, err := w.client().DownloadFile(t.Context(), got[0].FileIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if body, _ := io.ReadAll(rc); string(body) != "report body" {
			t.Errorf("file = %q, want %q", body, "report body")
		}
	})
}

// TestOutboxRefused: a reply kept for a channel the bot was removed
// from meanwhile is dropped when sent again, with a log line, and
// counted as refused.
func TestOutboxRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(nil)
		w.tr.down()
		send(t, b, w.dev, "nobody hears", oneTry)
		if _, err := w.client().RemoveChannelMember(t.Context(), w.dev.ID, w.bot.ID); err != nil {
			t.Fatal(err)
		}
		w.tr.up()
		time.Sleep(DefaultRetryMax)
		synctest.Wait()
		if n := b.ob.depth(); n != 0 {
			t.Errorf("%d posts in the outbox, want 0", n)
		}
		if _, dropped := w.obs.state(); dropped["refused"] != 1 {
			t.Errorf("dropped %v, want refused 1", dropped)
		}
		if n := w.logs.count("reply dropped from the outbox: the server refused it"); n != 1 {
			t.Errorf("%d log lines for the drop, want 1", n)
		}
	})
}

// TestOutboxCardByHook: the cards hook answers 503 to the end of its
// retries, and the server refuses posts meanwhile: the card, which a
// webhook post cannot keep, is kept as the bot's own post with the
// attachment, and posted when the server is back.
func TestOutboxCardByHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		hook, err := w.srv.AddHook(w.ops.ID, w.bob.ID, "cards")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := w.start(func(o *Options) { o.CardsHook = hook.ID })
		w.tr.set(func(r *http.Request) fault {
			if strings.HasPrefix(r.URL.Path, "/hooks/") {
				return unavailable
			}
			return refuse
		})
		out := &bot.Outgoing{RoomID: w.ops.ID, Card: &bot.Card{Title: "deployed", Color: "good"}, ReplyTo: "p1"}
		if err := b.Send(t.Context(), out); err != nil {
			t.Fatalf("Send(card) = %v, want nil (kept)", err)
		}
		if n := b.ob.depth(); n != 1 {
			t.Fatalf("%d posts in the outbox, want the card", n)
		}
		w.tr.set(func(r *http.Request) fault {
			if strings.HasPrefix(r.URL.Path, "/hooks/") {
				return unavailable
			}
			return pass
		})
		time.Sleep(DefaultRetryMax)
		synctest.Wait()
		var got []*mm.Post
		for _, p := range w.srv.Posts(w.ops.ID) {
			if p.UserID == w.bot.ID {
				got = append(got, p)
			}
		}
		if len(got) != 1 {
			t.Fatalf("the bot posted %d posts in ~ops, want the card", len(got))
		}
		atts, _ := got[0].Props["attachments"].([]*mm.Attachment)
		if len(atts) != 1 || atts[0].Title != "deployed" || got[0].Props[PropReplyTo] != "p1" {
			t.Errorf("posted props %v, want the card as an attachment, replying to p1", got[0].Props)
		}
	})
}

// TestOutboxCloseWaitsForSends: Close waits for a Send whose post the
// server has not answered until its context ends and the post is kept,
// so that the store is not closed under it; and no longer than its own
// context.
func TestOutboxCloseWaitsForSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, stop := w.start(nil)
		w.tr.set(func(*http.Request) fault { return hang })
		sctx, cancelSend := context.WithCancel(t.Context())
		sent := make(chan error, 1)
		go func() { sent <- b.Send(sctx, &bot.Outgoing{RoomID: w.ops.ID, Text: "last word"}) }()
		time.Sleep(time.Second) // waiting for the server (replyTry cuts it at 5 s)
		stop()
		time.AfterFunc(3*time.Second, cancelSend) // the end of the wait for handlers
		start := time.Now()
		if err := b.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("Close returned after %v, want when the Send did, 3s", took)
		}
		if keys, _ := w.store.Keys(t.Context(), outboxPrefix); len(keys) != 1 {
			t.Errorf("store keeps %q when Close returns, want the post", keys)
		}
		if err := <-sent; err != nil {
			t.Errorf("Send = %v, want nil (kept)", err)
		}

		// A Send that never ends: Close gives up with its context.
		ctx, cancel := context.WithCancel(t.Context())
		go func() { _ = b.Send(ctx, &bot.Outgoing{RoomID: w.dev.ID, Text: "stuck"}) }()
		time.Sleep(time.Second)
		cctx, ccancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer ccancel()
		start = time.Now()
		_ = b.Close(cctx)
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("Close returned after %v, want its timeout, 2s", took)
		}
		cancel()
		synctest.Wait()
	})
}

// slowText delays by a second the posts whose message starts with
// prefix, and lets the rest through at once.
func slowText(prefix string) func(r *http.Request) fault {
	return func(r *http.Request) fault {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v4/posts" || r.Body == nil {
			return pass
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var p mm.Post
		if json.Unmarshal(body, &p) == nil && strings.HasPrefix(p.Message, prefix) {
			return slow
		}
		return pass
	}
}

// TestOutboxBacklogKeepsCommandsApart: while the outbox sends a
// channel's backlog after an outage, a reply to another command goes out
// at once rather than behind it; a reply to a command with replies in
// the backlog waits behind them, in its order.
func TestOutboxBacklogKeepsCommandsApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(nil)
		sendTo := func(text, replyTo string) {
			t.Helper()
			if err := b.Send(t.Context(), &bot.Outgoing{RoomID: w.ops.ID, Text: text, ReplyTo: replyTo}); err != nil {
				t.Fatalf("Send(%q) = %v", text, err)
			}
		}
		w.tr.down()
		sendTo("old 1", "p1")
		sendTo("old 2", "p2")
		sendTo("old 3", "p3")
		// The server is back, and takes a second per backlog post.
		w.tr.set(slowText("old"))
		for !slices.Contains(w.said(w.ops), "old 1") {
			time.Sleep(100 * time.Millisecond)
		}
		// The server has "old 1"; the outbox takes its answer (and
		// learns that the server works again) in the same instant.
		synctest.Wait()
		sendTo("new", "p4")           // another command: at once
		sendTo("old 3, part 2", "p3") // behind "old 3"
		synctest.Wait()
		if got, want := w.said(w.ops), []string{"old 1", "new"}; !slices.Equal(got, want) {
			t.Errorf("~ops has %q while the backlog is sent, want %q", got, want)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got, want := w.said(w.ops), []string{"old 1", "new", "old 2", "old 3", "old 3, part 2"}; !slices.Equal(got, want) {
			t.Errorf("~ops has %q, want %q", got, want)
		}
	})
}

// TestOutboxRateLimitStorm: the server answers every request 429
// (Retry-After: 1) for a minute. A reply is not held in its handler for
// the storm (the client would wait up to a minute on 429s): it goes to
// the outbox after replyTry, the server is taken for failing and the
// replies after it are kept at once; they are all posted, once, in
// order, when the storm ends.
func TestOutboxRateLimitStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newOutboxWorld(t)
		b, _ := w.start(nil)
		w.tr.set(func(*http.Request) fault { return limited })
		start := time.Now()
		if err := b.Send(t.Context(), &bot.Outgoing{RoomID: w.ops.ID, Text: "one"}); err != nil {
			t.Fatal(err)
		}
		if took, most := time.Since(start), replyTry(RetryPolicy{Base: DefaultRetryBase}); took > most {
			t.Errorf("Send during a 429 storm returned after %v, want at most replyTry, %v", took, most)
		}
		send(t, b, w.ops, "two", atOnce)
		time.Sleep(time.Minute - time.Since(start))
		w.tr.up()
		time.Sleep(outboxProbeMax(RetryPolicy{Base: DefaultRetryBase, Max: DefaultRetryMax}) + time.Second)
		synctest.Wait()
		if got, want := w.said(w.ops), []string{"one", "two"}; !slices.Equal(got, want) {
			t.Errorf("~ops = %q, want %q", got, want)
		}
	})
}

// TestOutboxRemembersSent: once a post answering a command has left the
// outbox, the outbox still says the command is answered for sentMemory:
// a catch-up that read the channel before the post was sent finds it.
func TestOutboxRemembersSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(nil, time.Hour, nil)
		e := &outboxEntry{Post: outboxPost{ChannelID: "ch", Props: map[string]any{PropReplyTo: "cmd1"}}, Created: 1}
		if _, err := ob.put(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		if !ob.answers("cmd1") {
			t.Fatal("answers(cmd1) = false while its reply waits")
		}
		ob.forget("ch", ob.items("ch")[0])
		if !ob.answers("cmd1") {
			t.Error("answers(cmd1) = false just after its reply was sent")
		}
		time.Sleep(sentMemory + time.Second)
		e.Post.Props = map[string]any{PropReplyTo: "cmd2"}
		if _, err := ob.put(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		ob.forget("ch", ob.items("ch")[0])
		if ob.answers("cmd1") {
			t.Errorf("answers(cmd1) = true %v after its reply was sent, want forgotten", sentMemory)
		}
		if !ob.answers("cmd2") {
			t.Error("answers(cmd2) = false just after its reply was sent")
		}
	})
}

// TestCatchUpReadsMoreAnswersThanRemembered: a catch-up that reads more
// answered commands than the backend remembers answers for (replied: a
// few thousand) answers none of them again.
func TestCatchUpReadsMoreAnswersThanRemembered(t *testing.T) {
	w := newOutboxWorld(t)
	b, _ := w.start(nil)
	list := &mm.PostList{Posts: map[string]*mm.Post{}}
	const n = 6000
	for i := range n {
		cmd := &mm.Post{ID: fmt.Sprintf("cmd%05d", i), ChannelID: w.ops.ID, UserID: w.bob.ID, CreateAt: int64(2 * i), Message: "!echo x"}
		reply := &mm.Post{ID: fmt.Sprintf("rep%05d", i), ChannelID: w.ops.ID, UserID: w.bot.ID, CreateAt: int64(2*i + 1),
			Message: "x", Props: map[string]any{PropReplyTo: cmd.ID}}
		for _, p := range []*mm.Post{cmd, reply} {
			list.Posts[p.ID] = p
			list.Order = append(list.Order, p.ID)
		}
	}
	answered := map[string]bool{}
	b.noteReplies(list, answered)
	posts, old := b.missed(list, readFrom{}, answered)
	var cmds int
	for _, p := range posts {
		if p.UserID == w.bob.ID {
			cmds++
		}
	}
	if cmds != 0 || len(old) != 0 {
		t.Errorf("catch-up would deliver %d of %d answered commands again (%d too old)", cmds, n, len(old))
	}
}

// TestReleaseSkipsPostsRead: the live posts held while a channel's
// catch-up read was retried are delivered once the read is in, but not
// those the read had (it delivered them, or found them answered): after
// a read of thousands, deliver's guard against replays may have
// forgotten them.
func TestReleaseSkipsPostsRead(t *testing.T) {
	w := newOutboxWorld(t)
	b, _ := w.start(nil)
	mk := func(text string) *mm.Post {
		p, err := w.srv.CreatePost(w.bob.ID, mm.Post{ChannelID: w.ops.ID, Message: text})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	both, after := mk("!echo read and held"), mk("!echo held only")
	// Known: a post from a sender the bot does not hold waits for a
	// lookup, which the event loop, not this test, takes in.
	b.dir.putUser(w.bob)
	b.behind[w.ops.ID] = &behind{held: []incoming{{post: both}, {post: after}}}
	read := &mm.PostList{Posts: map[string]*mm.Post{both.ID: both}, Order: []string{both.ID}}
	rec := &recorder{}
	b.release(t.Context(), rec, w.ops.ID, read)
	var got []string
	for _, m := range rec.messages {
		got = append(got, m.Text)
	}
	if want := []string{"!echo held only"}; !slices.Equal(got, want) {
		t.Errorf("released %q, want %q", got, want)
	}
}
