package matterbot

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins"
)

// defaultsWorld is a fake server with a team, alice and ~ops, whose clock
// (which stamps create_at) the test moves to simulate a pace of posts.
type defaultsWorld struct {
	srv   *mmtest.Server
	team  *mm.Team
	ops   *mm.Channel
	alice *mm.User
	base  time.Time
	off   atomic.Int64 // ns added to base
}

func newDefaultsWorld(t *testing.T) *defaultsWorld {
	t.Helper()
	w := &defaultsWorld{base: time.Now()}
	w.srv = mmtest.NewServer(t, &mmtest.Options{Now: func() time.Time { return w.base.Add(time.Duration(w.off.Load())) }})
	var err error
	if w.team, err = w.srv.AddTeam("ops-team", "Ops"); err != nil {
		t.Fatal(err)
	}
	if w.alice, err = w.srv.AddUser(mmtest.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	if w.ops, err = w.srv.AddChannel(w.team.ID, "ops", "Ops", mm.ChannelOpen); err != nil {
		t.Fatal(err)
	}
	w.join(t, w.alice)
	return w
}

func (w *defaultsWorld) join(t *testing.T, u *mm.User) {
	t.Helper()
	if err := w.srv.AddTeamMember(w.team.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(w.ops.ID, u.ID); err != nil {
		t.Fatal(err)
	}
}

// startBot runs "run -c FILE" for the account u, with a configuration
// holding only what the server needs (server, port, scheme, team, token)
// and a free port for its HTTP listener: every other key at its default. It waits until the bot is connected.
func (w *defaultsWorld) startBot(t *testing.T, u *mm.User, extra ...bot.Setuper) *runningBot {
	t.Helper()
	tok, err := w.srv.CreateToken(u.ID, "defaults test")
	if err != nil {
		t.Fatal(err)
	}
	su, err := url.Parse(w.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "matterbot.toml")
	// The HTTP listener's port is the one key not at its default: the
	// tests run bots in parallel, and the default port is one for all.
	doc := fmt.Sprintf("[mattermost]\nserver = %q\nscheme = \"http\"\nport = %s\nteam = \"ops-team\"\ntoken = %q\n"+
		"[http]\nlisten = \"127.0.0.1:0\"\n", su.Hostname(), su.Port(), tok)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &runningBot{stderr: &notifyWriter{wrote: make(chan struct{}, 1)}, cancel: cancel, done: make(chan int, 1)}
	c := &Command{Name: "matterbot", Plugins: append(plugins.Builtin(), extra...),
		Stdin: strings.NewReader(""), Stdout: b.stderr, Stderr: b.stderr}
	go func() { b.done <- c.Run(ctx, []string{"run", "-c", cfg}) }()
	t.Cleanup(func() { b.stop(t) })
	b.waitLog(t, `msg=connected`)
	return b
}

// pingPong answers !ping with !pong and !pong with !ping.
type pingPong struct{}

func (pingPong) Name() string { return "pingpong" }

func (pingPong) Setup(p *bot.Plugin) error {
	p.Command("ping", func(ctx context.Context, req *bot.Request) error { return req.Reply("!pong") })
	p.Command("pong", func(ctx context.Context, req *bot.Request) error { return req.Reply("!ping") })
	return nil
}

// TestDefaultConfigAnswersPeopleNotBots runs the matterbot command with
// the default configuration against the fake server: it answers every
// command of a person however fast they come, and two matterbots on
// ordinary user accounts, each answering the other's replies with a
// command, never answer each other.
func TestDefaultConfigAnswersPeopleNotBots(t *testing.T) {
	t.Run("300 commands 8 in flight, then 300 at 10 a second", func(t *testing.T) {
		w := newDefaultsWorld(t)
		opsbot, err := w.srv.AddBot("opsbot", "Ops Bot", w.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.join(t, opsbot)
		w.startBot(t, opsbot)

		// One watcher of the bot's posts tells each sender its answer
		// came.
		var mu sync.Mutex
		waiting, seen := map[string]chan struct{}{}, map[string]int{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
				if p.UserID == opsbot.ID {
					mu.Lock()
					seen[p.Message]++
					if c, ok := waiting[p.Message]; ok {
						close(c)
						delete(waiting, p.Message)
					}
					mu.Unlock()
				}
				return false
			})
		})
		defer func() { cancel(); wg.Wait() }()
		// send posts "!echo text" as alice, the server's clock moved by
		// gap first: the pace the bot sees in create_at, whatever the
		// real one. The watcher runs under the server's lock, so mu is
		// not held while posting.
		var sendMu sync.Mutex
		var want []string
		send := func(text string, gap time.Duration) <-chan struct{} {
			sendMu.Lock()
			defer sendMu.Unlock()
			c := make(chan struct{})
			mu.Lock()
			waiting[text] = c
			want = append(want, text)
			mu.Unlock()
			w.off.Add(int64(gap))
			if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo " + text}); err != nil {
				t.Errorf("alice posts: %v", err)
			}
			return c
		}
		answered := func(c <-chan struct{}) bool {
			select {
			case <-c:
				return true
			case <-time.After(30 * time.Second):
				return false
			}
		}

		var next atomic.Int32
		var senders sync.WaitGroup
		for range 8 {
			senders.Go(func() {
				for i := next.Add(1); i <= 300; i = next.Add(1) {
					text := fmt.Sprintf("closed %d", i)
					c := send(text, 20*time.Millisecond) // a script: 50/s
					if !answered(c) {
						t.Errorf("%q never answered", text)
						return
					}
				}
			})
		}
		senders.Wait()
		open := make([]<-chan struct{}, 300)
		for i := range open {
			open[i] = send(fmt.Sprintf("open %d", i), 100*time.Millisecond) // 10/s, not waiting for answers
		}
		for i, c := range open {
			if !answered(c) {
				t.Fatalf("\"open %d\" never answered", i)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, s := range want {
			if seen[s] != 1 {
				t.Errorf("%q answered %d times, want once", s, seen[s])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("the bot posted %d distinct texts, want %d", len(seen), len(want))
		}
	})

	t.Run("two matterbots on user accounts", func(t *testing.T) {
		w := newDefaultsWorld(t)
		var (
			peers [2]*mm.User
			bots  [2]*runningBot
		)
		for i, name := range []string{"pingbot1", "pingbot2"} {
			u, err := w.srv.AddUser(mmtest.User{Username: name})
			if err != nil {
				t.Fatal(err)
			}
			w.join(t, u)
			peers[i], bots[i] = u, w.startBot(t, u, pingPong{})
		}
		waitFor := func(u *mm.User, prefix string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
				return p.UserID == u.ID && strings.HasPrefix(p.Message, prefix)
			}); err != nil {
				t.Fatalf("no post %q… by @%s: %v", prefix, u.Username, err)
			}
		}
		if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!ping"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range peers {
			waitFor(p, "!pong")
		}
		// Each ignores the other's !pong, and says so; the server may
		// publish alice's next post before the !pong it saved first,
		// so the line is waited for.
		for i, b := range bots {
			b.waitLog(t, `msg="ignoring the posts of another bot.*username=`+peers[1-i].Username)
		}
		// More posts of the other bot (the answers to this) are ignored
		// without a word.
		for _, text := range []string{"!echo sentinel 1", "!echo sentinel 2"} {
			if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: text}); err != nil {
				t.Fatal(err)
			}
			for _, p := range peers {
				waitFor(p, strings.TrimPrefix(text, "!echo "))
			}
		}
		for i, p := range peers {
			var posts []string
			for _, q := range w.srv.Posts(w.ops.ID) {
				if q.UserID == p.ID {
					posts = append(posts, q.Message)
				}
			}
			if len(posts) != 3 {
				t.Errorf("@%s posted %q, want only its answers to alice (!pong, two sentinels)", p.Username, posts)
			}
			out := bots[i].stderr.String()
			if n := strings.Count(out, "ignoring the posts of another bot"); n != 1 {
				t.Errorf("@%s logged the other bot ignored %d times, want once; output:\n%s", p.Username, n, out)
			}
		}
	})
}
