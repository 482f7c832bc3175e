package mattermost_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/storage/memory"
)

// downtime restarts the server's WebSocket side, so the bot's connection
// cannot be resumed, and keeps it refusing sockets while during runs:
// the bot must catch up over REST afterwards.
func (w *world) downtime(during func()) {
	w.t.Helper()
	w.srv.RefuseWebSockets(time.Hour)
	w.srv.RestartWebSockets()
	during()
	w.srv.RefuseWebSockets(0)
}

// TestCatchUpEveryKindOfChannel: commands sent while the bot's socket is
// down and cannot be resumed, in a public, a private, a direct and a
// group channel and a thread, interleaved, are each answered exactly once
// and in order in each channel.
func TestCatchUpEveryKindOfChannel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dm := w.botDM()
	group := w.botGroup()
	opts := w.options()
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
	// The bot has heard from each channel once.
	for _, ch := range []*mm.Channel{w.ops, w.secret, dm, group} {
		w.say(ch, "", "!echo hi")
		w.replyText(ch, "hi")
	}
	root := w.say(w.ops, "", "thread root")

	chans := []*mm.Channel{w.ops, w.secret, dm, group, w.ops}
	roots := []string{"", "", "", "", root.ID}
	want := map[string][]string{}
	w.downtime(func() {
		for i := range 4 {
			for k, ch := range chans {
				text := fmt.Sprintf("down %d.%d", k, i)
				want[ch.ID] = append(want[ch.ID], text)
				if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: ch.ID, RootID: roots[k], Message: "!echo " + text}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	for _, ch := range []*mm.Channel{w.ops, w.secret, dm, group} {
		posts := w.answers(ch, want[ch.ID])
		checkOnceInOrder(t, "~"+ch.Name, posts, append([]string{"hi"}, want[ch.ID]...), func(string) string { return "" })
	}
	for _, p := range w.botPosts(w.ops) {
		if strings.HasPrefix(p.Message, "down 4.") && p.RootID != root.ID {
			t.Errorf("reply %q to a command in a thread has RootID %q, want %q", p.Message, p.RootID, root.ID)
		}
	}
}

// TestCatchUpMarksMessagesLate: a command the catch-up finds reaches
// the engine as bot.Message.CaughtUp (never refused for a full queue);
// one pushed live does not.
func TestCatchUpMarksMessagesLate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.start(w.options())
	w.say(w.ops, "", "!late live")
	w.replyText(w.ops, "live caught_up=false")
	w.downtime(func() { w.say(w.ops, "", "!late missed") })
	w.replyText(w.ops, "missed caught_up=true")
}

// TestCatchUpNewChannels: while the bot's socket is down and cannot be
// resumed, it is added to a channel, or a user it never talked to opens
// a direct channel with it; the command posted there is answered once
// the socket is back.
func TestCatchUpNewChannels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// during makes the new channel while the socket is down, posts
		// the command in it and returns the channel.
		during func(w *world) *mm.Channel
		want   string
	}{
		{"added to a channel", func(w *world) *mm.Channel {
			late, err := w.srv.AddChannel(w.team.ID, "late", "Late", mm.ChannelOpen)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []*mm.User{w.alice, w.bot} {
				if err := w.srv.AddChannelMember(late.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			w.say(late, "", "!echo in late")
			return late
		}, "in late"},
		{"new direct channel", func(w *world) *mm.Channel {
			dm, err := w.srv.DirectChannel(w.bob.ID, w.bot.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.srv.CreatePost(w.bob.ID, mm.Post{ChannelID: dm.ID, Message: "echo from bob"}); err != nil {
				t.Fatal(err)
			}
			return dm
		}, "from bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.startEngine(w.newBackend(w.options()), nil)
			w.say(w.ops, "", "!echo before")
			w.replyText(w.ops, "before")
			var ch *mm.Channel
			w.downtime(func() { ch = tc.during(w) })
			w.say(w.ops, "", "!echo after")
			w.replyText(w.ops, "after")
			w.replyText(ch, tc.want)
		})
	}
}

// TestCatchUpBotInNoTeam: a bot in no team that served a DM, its socket
// down and not resumable, answers a DM sent meanwhile.
func TestCatchUpBotInNoTeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lone, err := w.srv.AddBot("lonebot", "Lone Bot", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.srv.CreateToken(lone.ID, "lone")
	if err != nil {
		t.Fatal(err)
	}
	dm, err := w.srv.DirectChannel(w.alice.ID, lone.ID)
	if err != nil {
		t.Fatal(err)
	}
	opts := w.options()
	opts.Token, opts.Teams = mm.Secret(tok), nil
	w.startEngine(w.newBackend(opts), nil)
	w.say(dm, "", "echo before")
	w.waitFor(dm, lone, "before")
	w.downtime(func() { w.say(dm, "", "echo during") })
	w.say(dm, "", "echo after")
	w.waitFor(dm, lone, "during")
	w.waitFor(dm, lone, "after")
	n := 0
	for _, p := range w.srv.Posts(dm.ID) {
		if p.UserID == lone.ID && p.Message == "during" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("reply to the command sent while down posted %d times, want once", n)
	}
}

// observer records what a Backend tells its Observer.
type observer struct {
	mu         sync.Mutex
	routes     map[string]int // "GET /api/v4/users/me 200" → count
	reconnects chan bool      // size 16
	caught     chan int       // size 16
}

func newObserver() *observer {
	return &observer{routes: map[string]int{}, reconnects: make(chan bool, 16), caught: make(chan int, 16)}
}

func (o *observer) ObserveRequest(method, route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[fmt.Sprintf("%s %s %d", method, route, status)]++
}

func (o *observer) ObserveRateLimitWait(time.Duration) {}
func (o *observer) ObserveReconnect(resumed bool)      { o.reconnects <- resumed }
func (o *observer) ObserveCatchUp(posts int)           { o.caught <- posts }
func (o *observer) ObserveOutbox(int)                  {}
func (o *observer) ObserveOutboxDropped(string)        {}
func (o *observer) ObserveCache(string, bool)          {}

func (o *observer) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.routes[key]
}

// TestCatchUpObserved: the Observer hears of the requests by route, of
// a reconnect that could not resume, and of the three commands the
// catch-up delivered (not of the bot's own posts it read).
func TestCatchUpObserved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	obs := newObserver()
	opts := w.options()
	opts.Observer = obs
	w.startEngine(w.newBackend(opts), nil)
	// The first run's catch-up (what came after the login) may deliver
	// "hi": "again", answered over the socket, says it is over, and its
	// count is dropped.
	for _, text := range []string{"hi", "again"} {
		w.say(w.ops, "", "!echo "+text)
		w.replyText(w.ops, text)
	}
	select {
	case <-obs.caught:
	default:
	}
	w.downtime(func() {
		for i := range 3 {
			w.say(w.ops, "", fmt.Sprintf("!echo down %d", i))
		}
	})
	w.answers(w.ops, []string{"down 0", "down 1", "down 2"})
	select {
	case resumed := <-obs.reconnects:
		if resumed {
			t.Errorf("reconnect after a restart: resumed = true, want false")
		}
	case <-time.After(waitLimit):
		t.Fatal("no reconnect observed")
	}
	select {
	case n := <-obs.caught:
		if n != 3 {
			t.Errorf("catch-up delivered %d posts, want 3", n)
		}
	case <-time.After(waitLimit):
		t.Fatal("no catch-up observed")
	}
	for _, key := range []string{"GET /api/v4/users/me 200", "GET /api/v4/channels/{channel_id}/posts 200", "POST /api/v4/posts 201"} {
		if obs.count(key) == 0 {
			t.Errorf("no request %s observed; observed %v", key, obs.routes)
		}
	}
}

// TestFirstStartCatchesUpFromConnect: on the first run with a store (no
// position saved yet), a command posted once the bot has logged in but
// before its WebSocket is up is answered: the bot reads what it missed
// from its login, not from its socket's hello; not one posted before.
func TestFirstStartCatchesUpFromConnect(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now()}
	w := newWorldOn(t, &mmtest.Options{Now: c.Now})
	logs := newLogLines()
	opts := w.options()
	opts.Store = memory.New().Store("mattermost:backend")
	opts.Logger = slog.New(logs)
	opts.Now = c.Now
	w.say(w.ops, "", "!echo too old")
	c.advance(time.Minute) // the bot starts a minute later
	w.srv.RefuseWebSockets(time.Hour)
	refused := logs.next(t, "websocket disconnected")
	eng := mustEngine(t, w.newBackend(opts), nil, echo.Plugin{})
	runUntilCleanup(t, eng)
	refused() // logged in; the socket is refused
	w.say(w.ops, "", "!echo early")
	w.srv.RefuseWebSockets(0)
	w.replyText(w.ops, "early")
	w.say(w.ops, "", "!echo after")
	w.replyText(w.ops, "after")
	for _, p := range w.srv.Posts(w.ops.ID) {
		if p.UserID == w.bot.ID && p.Message == "too old" {
			t.Error("a command posted a minute before the bot started was answered")
		}
	}
}
