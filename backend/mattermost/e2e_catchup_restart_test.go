package mattermost_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/storage/memory"
)

// These tests stop the bot (Run returns) and start a new backend and
// engine on the same store, as a deploy or a crash and a supervisor's
// restart do, while the fake server, its clock moved by hand, goes on.

// clock is a fake server's clock and the bot's (mmtest.Options.Now,
// mmbackend.Options.Now), moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// frozenStore is a store that can stop keeping what is written to it,
// as a process that crashes before its next save.
// With only set, only the keys with that prefix are frozen.
// It is a bot.Batcher, as the stores of matterbot run are; with plain
// set it is not, as a store of a version before them.
type frozenStore struct {
	bot.Store
	frozen atomic.Bool
	only   string
	plain  atomic.Bool
}

func (s *frozenStore) Set(ctx context.Context, key string, value []byte) error {
	if s.frozen.Load() && strings.HasPrefix(key, s.only) {
		return nil
	}
	return s.Store.Set(ctx, key, value)
}

func (s *frozenStore) Batch(ctx context.Context, changes []bot.Change) error {
	if s.plain.Load() {
		return errors.New("frozenStore: Batch on a plain store")
	}
	kept := changes[:0:0]
	for _, c := range changes {
		if !s.frozen.Load() || !strings.HasPrefix(c.Key, s.only) {
			kept = append(kept, c)
		}
	}
	return s.Store.(bot.Batcher).Batch(ctx, kept)
}

// store returns the store a new backend gets: without Batch when plain.
func (s *frozenStore) store() bot.Store {
	if s.plain.Load() {
		return struct{ bot.Store }{s}
	}
	return s
}

// restarts is a world whose bot can be stopped and started again on one
// store.
type restarts struct {
	*world
	clock *clock
	store *frozenStore
	logs  *logLines
	// hangs counts the runs of the command "hang", which waits for its
	// context the first time, saying so on hanging, and answers the
	// next.
	hangs   atomic.Int32
	hanging chan struct{}
	// failPosts makes the bot's POST /posts requests fail with a 503,
	// the others pass.
	failPosts atomic.Bool
}

// RoundTrip is the bot's transport: http.DefaultTransport, but for
// failPosts.
func (r *restarts) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.failPosts.Load() && req.Method == http.MethodPost && req.URL.Path == "/api/v4/posts" {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
			Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func newRestarts(t *testing.T) *restarts {
	c := &clock{now: time.Now()}
	return &restarts{
		world: newWorldOn(t, &mmtest.Options{Now: c.Now}),
		clock: c,
		store: &frozenStore{Store: memory.New().Store("mattermost:backend")},
		logs:  newLogLines(),

		hanging: make(chan struct{}, 1),
	}
}

// start runs a new backend and engine on the store, with catch-up
// window catchUp, and returns the function that stops them.
func (r *restarts) start(catchUp time.Duration) (stop func()) {
	r.t.Helper()
	opts := r.options()
	opts.Store, opts.CatchUp, opts.Now = r.store.store(), catchUp, r.clock.Now
	opts.Logger = slog.New(r.logs)
	opts.HTTPClient = &http.Client{Transport: r}
	hang := plug{"hang", func(p *bot.Plugin) error {
		p.Command("hang", func(ctx context.Context, req *bot.Request) error {
			if r.hangs.Add(1) == 1 {
				r.hanging <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			}
			return req.Reply("hung " + req.Args)
		})
		return nil
	}}
	// One handler at a time: the replies come in the order the commands
	// were delivered.
	_, stop = r.runEngine(r.newBackend(opts), &bot.Options{MaxConcurrent: 1, ShutdownTimeout: 50 * time.Millisecond},
		echo.Plugin{}, hang)
	return stop
}

// post posts text as user in ch (in a thread when root is set), a
// second of the clock after the previous post.
func (r *restarts) post(user *mm.User, ch *mm.Channel, root, text string) *mm.Post {
	r.t.Helper()
	r.clock.advance(time.Second)
	p, err := r.srv.CreatePost(user.ID, mm.Post{ChannelID: ch.ID, RootID: root, Message: text})
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// sentinel posts "!echo <text>" in ~ops and waits for its answer: the
// catch-up, delivered before live posts and answered one at a time, is
// then answered too.
func (r *restarts) sentinel(text string) {
	r.t.Helper()
	r.say(r.ops, "", "!echo "+text)
	r.replyText(r.ops, text)
}

// answered returns the bot's posts of every channel, oldest first.
func (r *restarts) answered(chans ...*mm.Channel) []*mm.Post {
	var out []*mm.Post
	for _, ch := range chans {
		out = append(out, r.botPosts(ch)...)
	}
	slices.SortFunc(out, func(a, b *mm.Post) int { return int(a.CreateAt - b.CreateAt) })
	return out
}

// answersTo returns the bot's posts of every channel that answer user's
// posts, oldest first.
func (r *restarts) answersTo(user *mm.User, chans ...*mm.Channel) []*mm.Post {
	var out []*mm.Post
	for _, p := range r.answered(chans...) {
		id, _ := p.Props[mmbackend.PropReplyTo].(string)
		if q, ok := r.srv.Post(id); ok && q.UserID == user.ID {
			out = append(out, p)
		}
	}
	return out
}

// checkAnswers checks that the bot's posts are want, in that order,
// each once.
func checkAnswers(t *testing.T, posts []*mm.Post, want ...string) {
	t.Helper()
	var got []string
	for _, p := range posts {
		got = append(got, p.Message)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the bot's posts, oldest first:\n%q\nwant\n%q", got, want)
	}
}

// TestRestartCatchUp: commands posted while the bot is stopped, in a
// channel, a direct message, a group message, a thread, a channel the
// bot was added to meanwhile and a direct message opened meanwhile, are each answered once after it
// starts again, oldest first; the commands answered before the stop are
// not answered again, nor are the missed ones after a second restart.
func TestRestartCatchUp(t *testing.T) {
	t.Parallel()
	r := newRestarts(t)
	dm, group := r.botDM(), r.botGroup()
	stop := r.start(0)
	r.sentinel("first")
	for _, ch := range []*mm.Channel{dm, group} {
		r.post(r.alice, ch, "", "!echo before "+ch.Type)
		r.replyText(ch, "before "+ch.Type)
	}
	root := r.post(r.alice, r.ops, "", "a thread")
	stop()

	r.clock.advance(time.Minute)
	late, err := r.srv.AddChannel(r.team.ID, "late", "Late", mm.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mm.User{r.alice, r.bot} {
		if err := r.srv.AddChannelMember(late.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	r.post(r.alice, r.ops, "", "!echo down 1")
	r.post(r.alice, dm, "", "echo down 2")
	r.post(r.bob, group, "", "!echo down 3")
	r.post(r.alice, r.ops, root.ID, "!echo down 4")
	r.post(r.alice, late, "", "!echo down 5")
	bobDM, err := r.srv.DirectChannel(r.bob.ID, r.bot.ID) // bob's first words to the bot
	if err != nil {
		t.Fatal(err)
	}
	r.post(r.bob, bobDM, "", "echo down 6")
	r.post(r.alice, r.ops, "", "just chatting")

	stop = r.start(0)
	r.sentinel("second")
	all := []*mm.Channel{r.ops, dm, group, late, bobDM}
	// The engine takes turns between users: the order holds per user.
	checkAnswers(t, r.answersTo(r.alice, all...), "first", "before D", "before G",
		"down 1", "down 2", "down 4", "down 5", "second")
	checkAnswers(t, r.answersTo(r.bob, all...), "down 3", "down 6")
	for _, p := range r.botPosts(r.ops) {
		if p.Message == "down 4" && p.RootID != root.ID {
			t.Errorf("answer in the thread has root %q, want %q", p.RootID, root.ID)
		}
	}
	stop()

	stop = r.start(0)
	r.sentinel("third")
	stop()
	checkAnswers(t, r.answersTo(r.alice, all...), "first", "before D", "before G",
		"down 1", "down 2", "down 4", "down 5", "second", "third")
	checkAnswers(t, r.answersTo(r.bob, all...), "down 3", "down 6")
}

// TestRestartUpgrade: a bot of a version that kept its positions in one
// value (its store no bot.Batcher) stops; commands are posted; the bot
// starts again on a store that is a bot.Batcher. It answers each missed
// command once, and its first save replaces the old value by a log of
// records; the next restart reads those.
func TestRestartUpgrade(t *testing.T) {
	t.Parallel()
	r := newRestarts(t)
	dm := r.botDM()
	keys := func() []string {
		t.Helper()
		keys, err := r.store.Store.Keys(t.Context(), "catch-up")
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	r.store.plain.Store(true)
	stop := r.start(0)
	r.sentinel("a")
	r.post(r.alice, dm, "", "echo b")
	r.replyText(dm, "b")
	stop()
	if got, want := keys(), []string{"catch-up"}; !slices.Equal(got, want) {
		t.Fatalf("store keys of the old version %q, want %q", got, want)
	}

	r.clock.advance(time.Minute)
	r.post(r.alice, r.ops, "", "!echo down 1")
	r.post(r.alice, dm, "", "echo down 2")
	r.store.plain.Store(false)
	stop = r.start(0)
	r.sentinel("c")
	stop()
	checkAnswers(t, r.answered(r.ops, dm), "a", "b", "down 1", "down 2", "c")
	if got := keys(); len(got) == 0 || slices.ContainsFunc(got, func(k string) bool { return !strings.HasPrefix(k, "catch-up/") }) {
		t.Errorf("store keys after the upgrade %q, want records (catch-up/...) only", got)
	}

	r.post(r.alice, dm, "", "echo down 3")
	stop = r.start(0)
	r.sentinel("d")
	stop()
	checkAnswers(t, r.answered(r.ops, dm), "a", "b", "down 1", "down 2", "c", "down 3", "d")
}

// TestRestartAfterCrash: the bot answers commands and crashes before it
// saves how far it got (its store keeps nothing from some point on): on
// start, the answers in the channels' history tell it which commands
// are answered, and it answers only the one posted while it was down.
// Once with positions saved before the crash, once with none yet.
func TestRestartAfterCrash(t *testing.T) {
	t.Parallel()
	for _, saved := range []bool{true, false} {
		t.Run(fmt.Sprintf("saved=%v", saved), func(t *testing.T) {
			t.Parallel()
			r := newRestarts(t)
			stop := r.start(0)
			r.sentinel("a")
			if saved {
				stop() // a clean stop saves the positions
				stop = r.start(0)
			}
			r.store.frozen.Store(true) // nothing written from here on is kept
			r.sentinel("b")
			r.post(r.alice, r.ops, "", "!echo c")
			r.replyText(r.ops, "c")
			stop()

			r.store.frozen.Store(false)
			r.clock.advance(time.Minute)
			r.post(r.alice, r.ops, "", "!echo d")
			stop = r.start(0)
			r.sentinel("e")
			stop()
			checkAnswers(t, r.answered(r.ops), "a", "b", "c", "d", "e")
		})
	}
}

// TestRestartOutboxNotAnsweredTwice: a command answered while the server
// fails every post has its reply in the outbox; the bot stops without its
// position past the command saved (a crash before the save). After the
// restart, the server still failing posts, the catch-up reads the
// command again, and leaves it: the reply waiting in the outbox answers
// it, once, when the server takes posts again.
func TestRestartOutboxNotAnsweredTwice(t *testing.T) {
	t.Parallel()
	r := newRestarts(t)
	r.store.only = "catch-up" // the positions' keys; the outbox is kept
	stop := r.start(0)
	r.sentinel("a")
	r.store.frozen.Store(true)
	kept := r.logs.next(t, "reply kept in the outbox")
	r.failPosts.Store(true)
	r.post(r.alice, r.ops, "", "!echo b")
	kept()
	stop()
	r.store.frozen.Store(false)
	caughtUp := r.logs.next(t, "catching up")
	stop = r.start(0)
	caughtUp()
	r.failPosts.Store(false)
	r.sentinel("c")
	r.replyText(r.ops, "b") // from the outbox, before or after c's
	stop()
	var got []string
	for _, p := range r.answered(r.ops) {
		got = append(got, p.Message)
	}
	slices.Sort(got)
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("the bot's posts %q, want %q, each once", got, want)
	}
}

// TestRestartCatchUpBusyChannel: more commands were posted in one channel
// while the bot was stopped than the server returns for one since= read
// (mmtest.SincePostsLimit, as the server's query): every one is answered
// once, the oldest too.
func TestRestartCatchUpBusyChannel(t *testing.T) {
	t.Parallel()
	r := newRestarts(t)
	stop := r.start(0)
	r.sentinel("before")
	stop()
	n := mmtest.SincePostsLimit + 150
	want := []string{"before"}
	for i := range n {
		text := fmt.Sprintf("busy %d", i)
		want = append(want, text)
		r.clock.advance(time.Millisecond)
		if _, err := r.srv.CreatePost(r.alice.ID, mm.Post{ChannelID: r.ops.ID, Message: "!echo " + text}); err != nil {
			t.Fatal(err)
		}
	}
	paged := r.logs.next(t, "catch-up: read a busy channel page by page")
	stop = r.start(0)
	paged()
	r.answers(r.ops, want[1:])
	stop()
	checkAnswers(t, r.answered(r.ops), want...)
}

// TestRestartCutShort: a command whose handler the shutdown cancelled,
// without an answer, runs again after the restart; the position stopped
// before it.
func TestRestartCutShort(t *testing.T) {
	t.Parallel()
	r := newRestarts(t)
	stop := r.start(0)
	r.sentinel("a")
	r.post(r.alice, r.ops, "", "!hang x")
	<-r.hanging
	stop()
	stop = r.start(0)
	r.sentinel("b")
	stop()
	checkAnswers(t, r.answered(r.ops), "a", "hung x", "b")
}

// TestRestartWindow: commands older than the catch-up window are not
// answered, and one line says how many; 0 turns the catch-up off.
func TestRestartWindow(t *testing.T) {
	t.Parallel()
	t.Run("window", func(t *testing.T) {
		t.Parallel()
		r := newRestarts(t)
		stop := r.start(15 * time.Minute)
		r.sentinel("a")
		stop()
		r.post(r.alice, r.ops, "", "!echo old 1")
		r.post(r.alice, r.botDM(), "", "echo old 2")
		r.post(r.alice, r.ops, "", "not a command")
		r.clock.advance(20 * time.Minute)
		r.post(r.alice, r.ops, "", "!echo new")
		stop = r.start(15 * time.Minute)
		r.sentinel("b")
		stop()
		checkAnswers(t, r.answered(r.ops), "a", "new", "b")
		const line = "catch-up: commands older than catch_up not answered"
		if n := r.logs.count(line); n != 1 {
			t.Errorf("%q logged %d times, want once", line, n)
		}
		if got := r.logs.attr(line, "commands"); got != "2" {
			t.Errorf("%q commands=%s, want 2", line, got)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		r := newRestarts(t)
		stop := r.start(-1)
		r.sentinel("a")
		stop()
		r.post(r.alice, r.ops, "", "!echo missed")
		stop = r.start(-1)
		r.sentinel("b")
		stop()
		checkAnswers(t, r.answered(r.ops), "a", "b")
	})
}

// TestRestartCatchUpFigures measures the restart catch-up: one command
// a second, spread over four channels, while the bot is stopped for 1
// and for 10 minutes (the fake's clock); all must be answered once after
// the start. It logs how long that took.
func TestRestartCatchUpFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measures; skipped in short mode")
	}
	for _, down := range []time.Duration{time.Minute, 10 * time.Minute} {
		t.Run(down.String(), func(t *testing.T) {
			r := newRestarts(t)
			chans := []*mm.Channel{r.ops, r.secret, r.botDM(), r.botGroup()}
			stop := r.start(0)
			r.sentinel("before")
			stop()
			var want []string
			n := int(down / time.Second)
			for i := range n {
				text := fmt.Sprintf("cmd %d", i)
				want = append(want, text)
				r.post(r.alice, chans[i%len(chans)], "", "!echo "+text)
			}
			start := time.Now()
			stop = r.start(0)
			for _, ch := range chans {
				var w []string
				for i := range n {
					if i%len(chans) == slices.Index(chans, ch) {
						w = append(w, want[i])
					}
				}
				r.answers(ch, w)
			}
			took := time.Since(start)
			stop()
			got := r.answered(chans...)
			checkAnswers(t, got, append([]string{"before"}, want...)...)
			t.Logf("stopped %v: %d commands, all answered once in %v after start (%.0f/s)",
				down, n, took.Round(time.Millisecond), float64(n)/took.Seconds())
		})
	}
}

// attr returns the value of key in the last record logged with msg.
func (l *logLines) attr(msg, key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.records) - 1; i >= 0; i-- {
		if l.records[i].Message != msg {
			continue
		}
		v := ""
		l.records[i].Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.String()
				return false
			}
			return true
		})
		return v
	}
	return ""
}

// plug is a plugin made of a name and a Setup function.
type plug struct {
	name  string
	setup func(*bot.Plugin) error
}

func (p plug) Name() string               { return p.name }
func (p plug) Setup(bp *bot.Plugin) error { return p.setup(bp) }
