package mattermost_test

import (
	"context"
	"fmt"
	"log/slog"
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
)

// logWatch is a slog.Handler that reports the messages starting with a
// prefix on a channel (up to its capacity; more are dropped).
type logWatch struct {
	prefix string
	seen   chan slog.Record
}

func (l logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l logWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, l.prefix) {
		select {
		case l.seen <- r:
		default:
		}
	}
	return nil
}
func (l logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logWatch) WithGroup(string) slog.Handler      { return l }

// wait returns the next record reported, or fails the test.
func (l logWatch) wait(t *testing.T, who string) slog.Record {
	t.Helper()
	select {
	case r := <-l.seen:
		return r
	case <-time.After(waitLimit):
		t.Fatalf("%s never logged %q", who, l.prefix)
	}
	return slog.Record{}
}

// attr returns the value of a record's attribute.
func attr(r slog.Record, key string) string {
	v := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// fakeClock is the fake server's clock (mmtest.Options.Now), which
// stamps create_at: a test moves it to simulate the pace of posts
// without waiting for it.
type fakeClock struct {
	base time.Time
	off  atomic.Int64 // ns
}

func newFakeClock() *fakeClock               { return &fakeClock{base: time.Now()} }
func (c *fakeClock) now() time.Time          { return c.base.Add(time.Duration(c.off.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// answerWatch follows the bot's posts in a channel and tells when the
// answer to a command has come.
type answerWatch struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // by expected text
	seen    map[string]bool
}

// watchAnswers starts an answerWatch on the bot's posts in ch, stopped
// at the end of the test.
func (w *world) watchAnswers(ch *mm.Channel) *answerWatch {
	aw := &answerWatch{waiting: map[string]chan struct{}{}, seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool {
			if p.UserID != w.bot.ID {
				return false
			}
			aw.mu.Lock()
			defer aw.mu.Unlock()
			aw.seen[p.Message] = true
			if c, ok := aw.waiting[p.Message]; ok {
				close(c)
				delete(aw.waiting, p.Message)
			}
			return false
		})
	})
	w.t.Cleanup(func() { cancel(); wg.Wait() })
	return aw
}

// expect returns a channel closed once the bot has posted text.
func (aw *answerWatch) expect(text string) <-chan struct{} {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	c := make(chan struct{})
	if aw.seen[text] {
		close(c)
	} else {
		aw.waiting[text] = c
	}
	return c
}

// TestDefaultsAnswerEveryCommand: with the options the default
// configuration gives (no client-side rate cap, the loop guard at its
// defaults), one user's 300 commands sent 8 at a time, then 300 more
// sent at 10 a second without waiting for the answers, are all answered,
// once each.
//
// The pace is simulated with the fake server's clock, which stamps
// create_at, the time the loop guard reads: each command of the first
// part is created 20 ms after the previous one, each of the second
// 100 ms after (10/s), whatever the real time. The whole takes 36
// seconds of the server's time, within one loop window, and a second or
// two of real time.
func TestDefaultsAnswerEveryCommand(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	w := newWorldOn(t, &mmtest.Options{Now: clock.now})
	w.startEngine(w.newBackend(w.options()), nil) // echo
	aw := w.watchAnswers(w.ops)
	var want []string
	send := func(text string) <-chan struct{} {
		answered := aw.expect(text)
		if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo " + text}); err != nil {
			t.Fatalf("alice posts: %v", err)
		}
		return answered
	}
	await := func(text string, answered <-chan struct{}) bool {
		select {
		case <-answered:
			return true
		case <-time.After(waitLimit):
			t.Errorf("%q never answered", text)
			return false
		}
	}

	const n, inFlight = 300, 8
	var mu sync.Mutex
	var next atomic.Int32
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := next.Add(1); i <= n; i = next.Add(1) {
				text := fmt.Sprintf("closed %d", i)
				mu.Lock()
				want = append(want, text)
				clock.advance(20 * time.Millisecond)
				answered := send(text)
				mu.Unlock()
				if !await(text, answered) {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	open := make([]<-chan struct{}, n)
	for i := range n {
		clock.advance(100 * time.Millisecond)
		text := fmt.Sprintf("open %d", i)
		want = append(want, text)
		open[i] = send(text)
	}
	for i, answered := range open {
		if !await(fmt.Sprintf("open %d", i), answered) {
			break
		}
	}
	checkOnceInOrder(t, "~ops", w.botPosts(w.ops), want, nil)
}

// pingPong answers !ping with !pong and !pong with !ping: two bots that
// took each other's answers for commands would never stop.
type pingPong struct{}

func (pingPong) Setup(p *bot.Plugin) error {
	p.Command("ping", func(ctx context.Context, req *bot.Request) error { return req.Reply("!pong") })
	p.Command("pong", func(ctx context.Context, req *bot.Request) error { return req.Reply("!ping") })
	return nil
}

// addPlainUser adds an ordinary user account (not a bot account) in the
// team and in ~ops, and returns it with an access token.
func (w *world) addPlainUser(name string) (*mm.User, string) {
	w.t.Helper()
	u, err := w.srv.AddUser(mmtest.User{Username: name})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.team.ID, u.ID); err != nil {
		w.t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(w.ops.ID, u.ID); err != nil {
		w.t.Fatal(err)
	}
	tok, err := w.srv.CreateToken(u.ID, "bot")
	if err != nil {
		w.t.Fatal(err)
	}
	return u, tok
}

// waitPrefix waits for a post by user in ch whose text starts with
// prefix.
func (w *world) waitPrefix(ch *mm.Channel, user *mm.User, prefix string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool { return p.UserID == user.ID && strings.HasPrefix(p.Message, prefix) }); err != nil {
		w.t.Fatalf("no post starting with %q by @%s in ~%s: %v", prefix, user.Username, ch.Name, err)
	}
}

// postsBy returns the texts of a user's posts in a channel.
func (w *world) postsBy(ch *mm.Channel, u *mm.User) []string {
	var out []string
	for _, p := range w.srv.Posts(ch.ID) {
		if p.UserID == u.ID {
			out = append(out, p.Message)
		}
	}
	return out
}

// TestTwoMatterbotsOnUserAccounts: two matterbots running as ordinary
// user accounts in one channel, with the default options, each with a
// plugin whose answer is a command to the other. alice's !ping is
// answered by both, and neither answers the other: each ignores the
// other's posts (they carry the matterbot mark) and says so once in its
// log, however many of them it sees.
func TestTwoMatterbotsOnUserAccounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var (
		peers [2]*mm.User
		logs  [2]logWatch
	)
	for i, name := range []string{"pingbot1", "pingbot2"} {
		u, tok := w.addPlainUser(name)
		peers[i] = u
		logs[i] = logWatch{prefix: "ignoring the posts of another bot", seen: make(chan slog.Record, 8)}
		opts := w.options()
		opts.Token = mm.Secret(tok)
		opts.Logger = slog.New(logs[i])
		w.startEngine(w.newBackend(opts), nil, pingPong{})
	}

	w.say(w.ops, "", "!ping")
	for _, p := range peers {
		w.waitFor(w.ops, p, "!pong")
	}
	// Each bot's events come in order: once both have answered the
	// sentinel, each has seen the other's !pong, and ignored it.
	w.say(w.ops, "", "!where sentinel")
	for _, p := range peers {
		w.waitPrefix(w.ops, p, "sentinel")
	}
	for i, p := range peers {
		if got := w.postsBy(w.ops, p); len(got) != 2 || got[0] != "!pong" {
			t.Errorf("@%s posted %q in ~ops, want !pong and the sentinel's answer only", p.Username, got)
		}
		other := peers[1-i]
		r := logs[i].wait(t, p.Username)
		if id := attr(r, "user_id"); id != other.ID {
			t.Errorf("@%s logged %q about user %s, want @%s (%s)", p.Username, r.Message, id, other.Username, other.ID)
		}
		if why := attr(r, "why"); !strings.Contains(why, mmbackend.PropReplyTo) {
			t.Errorf("@%s logged why = %q, want it to name the mark %s", p.Username, why, mmbackend.PropReplyTo)
		}
		if n := len(logs[i].seen); n != 0 {
			t.Errorf("@%s logged %d more lines about ignoring the other bot, want one in all", p.Username, n)
		}
	}
}

// TestLoopBetweenAllowedBots: with AllowBots, two matterbots on user
// accounts do hear each other, and their ping-pong plugins answer each
// other; the loop guard of the bot that counts LoopLimit exchanges first
// stops answering the other and logs it (the other then has nothing
// left to answer), and both still answer alice.
func TestLoopBetweenAllowedBots(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const limit = 5
	logs := logWatch{prefix: "loop suspected", seen: make(chan slog.Record, 4)}
	var peers []*mm.User
	// Registered before the engines start, so it runs after they stop:
	// nothing is still being posted when the posts are counted.
	t.Cleanup(func() {
		for _, p := range peers {
			n := len(w.postsBy(w.ops, p))
			t.Logf("@%s posted %d times in ~ops", p.Username, n)
			// Two chains of answers run at once (alice's !ping starts
			// one through each bot), and an answer to a post made
			// before the bot's last answer does not count: a bot
			// answers the other at most limit times per chain, plus
			// one per chain in flight when the guard trips, plus
			// alice's two commands.
			if n < limit || n > 2*limit+4 {
				t.Errorf("@%s posted %d times in ~ops, want between %d and %d", p.Username, n, limit, 2*limit+4)
			}
		}
	})
	for _, name := range []string{"pingbot1", "pingbot2"} {
		u, tok := w.addPlainUser(name)
		opts := w.options()
		opts.Token = mm.Secret(tok)
		opts.AllowBots = true
		opts.LoopLimit = limit
		opts.Logger = slog.New(logs)
		w.startEngine(w.newBackend(opts), nil, pingPong{})
		peers = append(peers, u)
	}

	w.say(w.ops, "", "!ping")
	r := logs.wait(t, "either bot")
	if blamed := attr(r, "user_id"); blamed != peers[0].ID && blamed != peers[1].ID {
		t.Errorf("the loop guard blamed user %s, want one of the two bots", blamed)
	}
	w.say(w.ops, "", "!where sentinel")
	for _, p := range peers {
		w.waitPrefix(w.ops, p, "sentinel")
	}
}

// TestConversationUntouched: people chatting fast, quoting the bot's
// answers (a quote copies the text, not the mark), replying in threads,
// and pasting a command the bot posted, with commands in between: every
// command is answered once, in its place, and nothing else is. The
// server's clock moves 50 ms a post: 331 posts in 17 seconds, and each
// round waits for the bot's answers, so that alice and bob each have
// far more exchanges with the bot than the loop guard's limit in its
// window (the test fails if people are counted).
func TestConversationUntouched(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	w := newWorldOn(t, &mmtest.Options{Now: clock.now})
	if err := w.srv.AddChannelMember(w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	w.startEngine(w.newBackend(w.options()), nil)
	post := func(u *mm.User, root, text string) *mm.Post {
		t.Helper()
		clock.advance(50 * time.Millisecond)
		p, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: w.ops.ID, RootID: root, Message: text})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var want []string
	const rounds = 30
	for round := range rounds {
		// The bot's answer is itself a command, which the bot does not
		// run (its own post), but alice may, by pasting it.
		cmd := post(w.alice, "", fmt.Sprintf("!echo !echo ping %d", round))
		want = append(want, fmt.Sprintf("!echo ping %d", round))
		ans := w.replyText(w.ops, fmt.Sprintf("!echo ping %d", round))
		post(w.bob, "", "morning all")
		post(w.alice, "", "> "+ans.Message+"\nthanks, bot")
		post(w.bob, cmd.ID, "good to hear")
		post(w.bob, cmd.ID, fmt.Sprintf("!echo in thread %d", round))
		want = append(want, fmt.Sprintf("in thread %d", round))
		post(w.alice, "", "lunch?")
		post(w.alice, "", ans.Message) // the bot's words, pasted
		want = append(want, fmt.Sprintf("ping %d", round))
		post(w.bob, "", "sure")
		post(w.alice, "", fmt.Sprintf("@%s you there?", w.bot.Username))
		post(w.bob, "", "!nosuchcommand")
		w.replyText(w.ops, fmt.Sprintf("in thread %d", round))
		w.replyText(w.ops, fmt.Sprintf("ping %d", round))
	}
	post(w.alice, "", "!echo done")
	want = append(want, "done")
	// Commands run concurrently, so the answers may come in any order:
	// wait for all of them (each want, and per round a "not found" and
	// an answer to the mention) before counting.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := 0
	if _, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
		if p.UserID == w.bot.ID {
			seen++
		}
		return seen == len(want)+2*rounds
	}); err != nil {
		t.Fatalf("the bot made %d posts, want %d: %v", seen, len(want)+2*rounds, err)
	}

	var got []*mm.Post
	notFound := 0
	for _, p := range w.botPosts(w.ops) {
		switch {
		case strings.Contains(p.Message, `"nosuchcommand" not found`):
			notFound++
		case strings.HasPrefix(p.Message, `Command "you" not found`):
			// "@opsbot you there?" addresses the bot.
		default:
			got = append(got, p)
		}
	}
	checkOnceInOrder(t, "~ops", got, want, nil)
	if notFound != rounds {
		t.Errorf("!nosuchcommand answered %d times, want %d (once a round)", notFound, rounds)
	}
	for _, p := range w.botPosts(w.ops) {
		if strings.HasPrefix(p.Message, "in thread") && p.RootID == "" {
			t.Errorf("%q posted outside the thread", p.Message)
		}
	}
}

// TestPostsMarked: every post the backend makes carries PropReplyTo, set
// to the id of the command's post it answers (each part of a split
// reply, a card, a file), or "" for a post that answers none; the
// server keeps the prop.
func TestPostsMarked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	opts.MaxMessageRunes = 120
	r := w.start(opts)

	cmds := map[string]string{} // command post id → command
	for _, c := range []string{"!long", "!card x", "!file x", "!echo hi"} {
		p := w.say(w.ops, "", c)
		cmds[p.ID] = c
	}
	if err := r.be.Send(context.Background(), &bot.Outgoing{RoomID: w.ops.ID, Text: "unprompted"}); err != nil {
		t.Fatal(err)
	}
	w.reply(w.ops, func(p *mm.Post) bool { return strings.HasSuffix(p.Message, "all done") })
	w.reply(w.ops, func(p *mm.Post) bool { return len(p.FileIDs) > 0 })
	w.reply(w.ops, func(p *mm.Post) bool { _, ok := p.Props["attachments"]; return ok })
	w.replyText(w.ops, "hi")
	w.replyText(w.ops, "unprompted")

	answered := map[string]int{}
	for _, p := range w.botPosts(w.ops) {
		v, ok := p.Props[mmbackend.PropReplyTo]
		if !ok {
			t.Errorf("bot post %q has no %s prop: props %v", p.Message, mmbackend.PropReplyTo, p.Props)
			continue
		}
		id, _ := v.(string)
		if p.Message == "unprompted" {
			if id != "" {
				t.Errorf("unprompted post: %s = %q, want \"\"", mmbackend.PropReplyTo, id)
			}
			continue
		}
		if _, ok := cmds[id]; !ok {
			t.Errorf("bot post %q: %s = %q, not one of the commands", p.Message, mmbackend.PropReplyTo, id)
		}
		answered[cmds[id]]++
	}
	for _, c := range []string{"!card x", "!file x", "!echo hi"} {
		if answered[c] != 1 {
			t.Errorf("%s answered by %d marked posts, want 1", c, answered[c])
		}
	}
	if answered["!long"] < 3 {
		t.Errorf("!long answered by %d marked posts, want every part of the split", answered["!long"])
	}
}

// TestIgnoreUsers: a third-party bot on an ordinary user account, listed
// in IgnoreUsers (with or without the @), is never answered; others are.
func TestIgnoreUsers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	errbot, _ := w.addPlainUser("errbot")
	opts := w.options()
	opts.IgnoreUsers = []string{"@errbot", "bob"}
	rec := &recordingBackend{Backend: w.newBackend(opts)}
	w.startEngine(rec, nil)
	for _, u := range []*mm.User{errbot, w.bob, w.alice} {
		if _, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo from " + u.Username}); err != nil {
			t.Fatal(err)
		}
	}
	// Events come in order: once alice's is answered, the others' were
	// seen.
	w.replyText(w.ops, "from alice")
	if got, want := rec.texts(), []string{"@alice: !echo from alice"}; !slices.Equal(got, want) {
		t.Errorf("messages delivered = %q, want %q", got, want)
	}
}
