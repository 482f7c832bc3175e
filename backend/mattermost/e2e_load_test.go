package mattermost_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// startEngine runs an engine with engOpts and plugins (echo and
// testPlugin when none are given) on be, and waits until it has
// connected. It returns the channel of HandleConnect calls.
func (w *world) startEngine(be bot.Backend, engOpts *bot.Options, plugins ...bot.Setuper) chan bot.User {
	w.t.Helper()
	if len(plugins) == 0 {
		plugins = []bot.Setuper{echo.Plugin{}}
	}
	connects, _ := w.runEngine(be, engOpts, plugins...)
	return connects
}

// runEngine runs an engine with engOpts, plugins and testPlugin on be,
// and waits until it has connected. It returns the channel of HandleConnect calls and a stop
// that ends the engine and waits for it, also called at cleanup.
func (w *world) runEngine(be bot.Backend, engOpts *bot.Options, plugins ...bot.Setuper) (connects chan bot.User, stop func()) {
	w.t.Helper()
	connects = make(chan bot.User, 16)
	plugins = append(plugins, &testPlugin{connects: connects})
	eng := mustEngine(w.t, be, engOpts, plugins...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("engine Run: %v", err)
			}
		})
	}
	w.t.Cleanup(stop)
	select {
	case <-connects:
	case err := <-done:
		done <- err
		w.t.Fatalf("engine stopped before connecting: %v", err)
	case <-time.After(waitLimit):
		w.t.Fatal("bot did not connect")
	}
	return connects, stop
}

// runUntilCleanup runs eng until the test ends, and fails the test if
// Run returns an error then.
func runUntilCleanup(t testing.TB, eng *bot.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine Run: %v", err)
		}
	})
}

// newBackend is mmbackend.New that fails the test on error.
func (w *world) newBackend(opts mmbackend.Options) *mmbackend.Backend {
	w.t.Helper()
	return mustBackend(w.t, opts)
}

// mustBackend is mmbackend.New that fails t on error. A subtest of a
// world made by its parent uses it with its own t: w.t is the parent's.
func mustBackend(t testing.TB, opts mmbackend.Options) *mmbackend.Backend {
	t.Helper()
	be, err := mmbackend.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// mustEngine is bot.New that fails t on error.
func mustEngine(t testing.TB, be bot.Backend, opts *bot.Options, plugins ...bot.Setuper) *bot.Engine {
	t.Helper()
	eng, err := bot.New(be, opts, plugins...)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// addUsers makes n users "<prefix>0".. in the world's team.
func (w *world) addUsers(prefix string, n int) []*mm.User {
	w.t.Helper()
	users := make([]*mm.User, n)
	for i := range users {
		u, err := w.srv.AddUser(mmtest.User{Username: fmt.Sprintf("%s%d", prefix, i)})
		if err != nil {
			w.t.Fatal(err)
		}
		if err := w.srv.AddTeamMember(w.team.ID, u.ID); err != nil {
			w.t.Fatal(err)
		}
		users[i] = u
	}
	return users
}

// addChannels makes n public channels "<prefix>0".. in the world's team
// with the bot and members in each.
func (w *world) addChannels(prefix string, n int, members []*mm.User) []*mm.Channel {
	w.t.Helper()
	chs := make([]*mm.Channel, n)
	for i := range chs {
		name := fmt.Sprintf("%s%d", prefix, i)
		ch, err := w.srv.AddChannel(w.team.ID, name, name, mm.ChannelOpen)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, u := range append([]*mm.User{w.bot}, members...) {
			if err := w.srv.AddChannelMember(ch.ID, u.ID); err != nil {
				w.t.Fatal(err)
			}
		}
		chs[i] = ch
	}
	return chs
}

// answers waits until the bot has posted every text of want in ch, then
// returns the bot's posts there, in the server's order.
func (w *world) answers(ch *mm.Channel, want []string) []*mm.Post {
	w.t.Helper()
	missing := map[string]bool{}
	for _, s := range want {
		missing[s] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	// WaitForPost shows match each post once, oldest first, until it
	// accepts one: it accepts the post that completes the set.
	_, err := w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool {
		if p.UserID == w.bot.ID {
			delete(missing, p.Message)
		}
		return len(missing) == 0
	})
	if err != nil {
		w.t.Fatalf("~%s: replies never posted: %v", ch.Name, keys(missing))
	}
	return w.botPosts(ch)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkOnceInOrder checks that posts hold each of want exactly once,
// and, when ordered, that the ones of each key come in want's order.
// key groups the texts whose relative order matters (a user's commands).
func checkOnceInOrder(t *testing.T, where string, posts []*mm.Post, want []string, key func(string) string) {
	t.Helper()
	count := map[string]int{}
	for _, p := range posts {
		count[p.Message]++
	}
	for _, s := range want {
		if count[s] != 1 {
			t.Errorf("%s: %q answered %d times, want once", where, s, count[s])
		}
		delete(count, s)
	}
	for s, n := range count {
		t.Errorf("%s: unexpected bot post %q (%d times)", where, s, n)
	}
	if key == nil {
		return
	}
	pos := map[string]int{}
	for i, p := range posts {
		if _, ok := pos[p.Message]; !ok {
			pos[p.Message] = i
		}
	}
	last := map[string]string{} // key → previous text
	for _, s := range want {
		k := key(s)
		if prev, ok := last[k]; ok && pos[prev] > pos[s] {
			t.Errorf("%s: %q answered before %q, want the order they were sent in", where, s, prev)
		}
		last[k] = s
	}
}

// TestHundredCommandsAnsweredOnce: 10 users send 10 commands each,
// spread over 5 channels, all at once. Every command is answered exactly
// once, and each user's answers in a channel come in the order of the
// commands (MaxPerUser 1 runs one user's commands one after the other).
func TestHundredCommandsAnsweredOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := w.addUsers("user", 10)
	chans := w.addChannels("load", 5, users)
	opts := w.options()
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})

	want := make([][]string, len(chans)) // per channel, in the order sent by each user
	var mu sync.Mutex
	var wg sync.WaitGroup
	for ui, u := range users {
		wg.Go(func() {
			for i := range 10 {
				ch := (ui + i) % len(chans)
				text := fmt.Sprintf("u%d-c%d", ui, i)
				mu.Lock()
				want[ch] = append(want[ch], text)
				mu.Unlock()
				if _, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: chans[ch].ID, Message: "!echo " + text}); err != nil {
					t.Errorf("%s posts: %v", u.Username, err)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for ci, ch := range chans {
		posts := w.answers(ch, want[ci])
		total += len(posts)
		byUser := func(s string) string { user, _, _ := strings.Cut(s, "-"); return user }
		checkOnceInOrder(t, "~"+ch.Name, posts, want[ci], byUser)
	}
	if total != 100 {
		t.Errorf("bot posted %d replies, want 100", total)
	}
}
