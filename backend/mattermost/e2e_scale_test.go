package mattermost_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// clockedWorld is a world whose fake server stamps posts with c; the
// world was seeded a minute before c's time, so that its seeding's
// posts (the join messages of town-square and off-topic) are old.
func clockedWorld(t *testing.T) (*world, *clock) {
	t.Helper()
	c := &clock{now: time.Now()}
	w := newWorldOn(t, &mmtest.Options{Now: c.Now})
	c.advance(time.Minute)
	return w, c
}

// sayAt posts text as alice in ch, one second of the clock after the
// previous post.
func (w *world) sayAt(c *clock, ch *mm.Channel, text string) {
	w.t.Helper()
	c.advance(time.Second)
	if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: ch.ID, Message: text}); err != nil {
		w.t.Fatal(err)
	}
}

// postReads returns, by channel id, the reads of a channel's posts
// (GET /channels/{id}/posts) ct counted.
func postReads(ct *countingTransport) map[string]int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	out := map[string]int{}
	for k, n := range ct.paths {
		if id, ok := strings.CutPrefix(k, "GET /api/v4/channels/"); ok && strings.HasSuffix(id, "/posts") {
			out[strings.TrimSuffix(id, "/posts")] += n
		}
	}
	return out
}

// TestCatchUpReadsChannelsWithNewPosts: a bot in 30 channels whose
// socket cannot resume reads, to catch up, only the two channels where
// something was posted while it was away (the listing of its channels
// says each one's last_post_at), and answers each command there once.
func TestCatchUpReadsChannelsWithNewPosts(t *testing.T) {
	t.Parallel()
	w, c := clockedWorld(t)
	var extra []*mm.Channel
	for i := range 28 {
		ch, err := w.srv.AddChannel(w.team.ID, fmt.Sprintf("quiet-%d", i), "Quiet", mm.ChannelOpen)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []*mm.User{w.alice, w.bot} {
			if err := w.srv.AddChannelMember(ch.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		extra = append(extra, ch)
	}
	opts, ct := w.countedOptions()
	opts.Now = c.Now
	// One command at a time per user: the replies come in the order
	// the commands were delivered.
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
	w.sayAt(c, w.ops, "!echo warm")
	w.replyText(w.ops, "warm")
	busy := extra[7]
	c.advance(time.Minute)
	before := postReads(ct)
	w.downtime(func() {
		for i := range 3 {
			w.sayAt(c, w.ops, fmt.Sprintf("!echo ops %d", i))
			w.sayAt(c, busy, fmt.Sprintf("!echo busy %d", i))
		}
	})
	checkOnceInOrder(t, "~ops", w.answers(w.ops, []string{"ops 0", "ops 1", "ops 2"}),
		[]string{"warm", "ops 0", "ops 1", "ops 2"}, func(string) string { return "" })
	checkOnceInOrder(t, "~"+busy.Name, w.answers(busy, []string{"busy 0", "busy 1", "busy 2"}),
		[]string{"busy 0", "busy 1", "busy 2"}, func(string) string { return "" })
	read := map[string]int{}
	for id, n := range postReads(ct) {
		if n > before[id] {
			read[id] = n - before[id]
		}
	}
	want := map[string]int{w.ops.ID: 1, busy.ID: 1}
	if len(read) != len(want) || read[w.ops.ID] != 1 || read[busy.ID] != 1 {
		t.Errorf("catch-up read the posts of %d channels %v, want %v (~ops %s, ~%s %s)", len(read), read, want, w.ops.ID, busy.Name, busy.ID)
	}
}

// gatedTransport holds the lookups of users (POST /users/ids, and GET
// /users/{id}, which the event loop would wait for) while its gate is
// shut, and counts the requests by method and path, ids replaced by
// {id}.
type gatedTransport struct {
	mu   sync.Mutex
	gate chan struct{} // closed: open
	reqs map[string]int
}

func newGatedTransport() *gatedTransport {
	g := &gatedTransport{gate: make(chan struct{}), reqs: map[string]int{}}
	close(g.gate)
	return g
}

// shut holds the lookups from now on; open lets them go.
func (g *gatedTransport) shut() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedTransport) open() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	route := r.Method + " " + idPath(r.URL.Path)
	g.mu.Lock()
	g.reqs[route]++
	gate := g.gate
	g.mu.Unlock()
	if route == "POST /api/v4/users/ids" || route == "GET /api/v4/users/{id}" {
		select {
		case <-gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (g *gatedTransport) count(route string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reqs[route]
}

// idPath replaces the ids in a path by {id}.
func idPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if mm.IsValidID(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// TestNewSendersDoNotStall: 250 people the bot never met post a command
// each in ~ops while the server is slow to say who they are; meanwhile
// alice, whom the bot knows, is answered in ~secret. Then the lookups
// answer: every command in ~ops is answered once, in the order sent,
// and the senders were looked up in batches (POST /users/ids), never one
// by one.
func TestNewSendersDoNotStall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	gt := newGatedTransport()
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: gt}
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1, MaxConcurrent: 1})
	w.say(w.secret, "", "!echo warm")
	w.replyText(w.secret, "warm")
	gt.shut()
	const n = 250
	var want []string
	for i := range n {
		u, err := w.srv.AddUser(mmtest.User{Username: fmt.Sprintf("new%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("from new%d", i)
		want = append(want, text)
		if _, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo " + text}); err != nil {
			t.Fatal(err)
		}
	}
	w.say(w.secret, "", "!echo not stalled")
	w.replyText(w.secret, "not stalled")
	if got := len(w.botPosts(w.ops)); got != 0 {
		t.Errorf("%d replies in ~ops before the senders were known, want 0", got)
	}
	gt.open()
	checkOnceInOrder(t, "~ops", w.answers(w.ops, want), want, func(string) string { return "" })
	if got := gt.count("GET /api/v4/users/{id}"); got != 0 {
		t.Errorf("%d lookups of one user (GET /users/{id}), want none", got)
	}
	// alice's, then one for each of the first two senders (two lookups
	// run at once), then the others 100 at a time.
	if got, most := gt.count("POST /api/v4/users/ids"), 1+2+(n+99)/100; got > most {
		t.Errorf("%d lookups of users (POST /users/ids) for %d senders, want at most %d", got, n, most)
	}
}

// TestEventsOfNewUsersDoNotStall: people the bot never met react to a
// post in ~ops, join it, and are removed from it by alice, while the
// server is slow to say who they are; meanwhile alice, whom the bot
// knows, is answered in ~secret (her system posts in ~ops wait there,
// but do not hold her up). Then the lookups answer, and the plugin sees every one of
// those events, whose users were looked up in batches (POST /users/ids),
// never one by one.
func TestEventsOfNewUsersDoNotStall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const n = 5
	var reactors, joiners, leavers []*mm.User
	for _, group := range []struct {
		users *[]*mm.User
		name  string
		inOps bool
	}{{&reactors, "reactor", true}, {&joiners, "joiner", false}, {&leavers, "leaver", true}} {
		for i := range n {
			u, err := w.srv.AddUser(mmtest.User{Username: fmt.Sprintf("%s%d", group.name, i)})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.srv.AddTeamMember(w.team.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			if group.inOps {
				if err := w.srv.AddChannelMember(w.ops.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			*group.users = append(*group.users, u)
		}
	}
	gt := newGatedTransport()
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: gt}
	wt := newWatcher()
	w.startEngine(w.newBackend(opts), nil, wt, echo.Plugin{})
	announcement := w.say(w.ops, "", "!echo announcement")
	w.replyText(w.ops, "announcement")
	gt.shut()
	ctx := context.Background()
	var want []string
	for _, u := range reactors {
		if _, _, err := w.client(u.ID).AddReaction(ctx, announcement.ID, "tada"); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("reaction +tada @%s ~ops-team/ops %s", u.Username, announcement.ID))
	}
	for _, u := range joiners {
		if err := w.srv.AddChannelMember(w.ops.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("join @%s ~ops-team/ops", u.Username))
	}
	for _, u := range leavers {
		if _, err := w.aliceC.RemoveChannelMember(ctx, w.ops.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("leave @%s ~ops-team/ops", u.Username))
	}
	w.say(w.secret, "", "!echo not stalled")
	w.replyText(w.secret, "not stalled")
	gt.open()
	wt.expectAll(t, want)
	if got := gt.count("GET /api/v4/users/{id}"); got != 0 {
		t.Errorf("%d lookups of one user (GET /users/{id}), want none", got)
	}
	// alice's, then the new users' in a few batches.
	if got, most := gt.count("POST /api/v4/users/ids"), 1+3*n; got > most {
		t.Errorf("%d lookups of users (POST /users/ids) for %d users, want at most %d", got, 3*n, most)
	}
}
