package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// TestWindowKeepsTheLookBack: the guard forgets the oldest ids beyond
// keep only once their posts are older than the floor.
func TestWindowKeepsTheLookBack(t *testing.T) {
	w := newWindow(3)
	for i := range 10 {
		w.add(fmt.Sprint(i), 1000, 0) // all at or after the floor
	}
	if w.len() != 10 {
		t.Errorf("held %d ids at or after the floor, want all 10", w.len())
	}
	w.add("late", 5000, 2000) // the floor moves past the first ten
	if w.len() != 3 || !w.has("late") || !w.has("9") || !w.has("8") || w.has("7") {
		t.Errorf("after the floor moved: held %d ids (late %v, 9 %v, 8 %v, 7 %v), want the last 3",
			w.len(), w.has("late"), w.has("9"), w.has("8"), w.has("7"))
	}
	if w.add("9", 1000, 2000) {
		t.Error("add of an id held = true, want false")
	}
	for i := range 1000 {
		w.add(fmt.Sprint("x", i), int64(10000+i), int64(10000+i))
	}
	if w.len() != 3 || len(w.queue)-w.head != 3 || len(w.queue) > 200 {
		t.Errorf("after 1000 more: %d held, %d queued from %d; want 3 held and the queue compacted", w.len(), len(w.queue)-w.head, w.head)
	}
}

// TestCatchUpLookBackBeyondTheGuard: the bot has delivered more posts
// within the catch-up's look-back margin (all in the same second) than
// its guard's nominal size; a catch-up after a socket that could not
// resume reads them all again, and delivers none of them twice.
func TestCatchUpLookBackBeyondTheGuard(t *testing.T) {
	const keep, posts = 16, 100
	now := time.Now()
	srv := mmtest.New(&mmtest.Options{Now: func() time.Time { return now }}) // every post in the same instant
	t.Cleanup(srv.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := srv.AddTeam("ops-team", "Ops Team")
	must(err)
	bob, err := srv.AddUser(mmtest.User{Username: "bob"})
	must(err)
	me, err := srv.AddBot("opsbot", "Ops Bot", bob.ID)
	must(err)
	ops, err := srv.AddChannel(team.ID, "ops", "Ops", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{bob, me} {
		must(srv.AddTeamMember(team.ID, u.ID))
		must(srv.AddChannelMember(ops.ID, u.ID))
	}
	token, err := srv.CreateToken(me.ID, "bot")
	must(err)
	b, err := New(Options{Server: "http://mm.test", Token: mm.Secret(token), Teams: []string{"ops-team"},
		HTTPClient: &http.Client{Transport: &faultTransport{h: srv}}, Now: func() time.Time { return now }})
	must(err)
	must(b.Connect(t.Context()))
	b.seen, b.replied = newWindow(keep), newWindow(keep)
	b.dir.putUser(bob) // delivered at once, not after a lookup
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b.bgCtx = ctx
	h := &recorder{}
	for i := range posts {
		p, err := srv.CreatePost(bob.ID, mm.Post{ChannelID: ops.ID, Message: fmt.Sprintf("!echo %d", i)})
		must(err)
		b.deliver(ctx, h, incoming{post: p})
	}
	if len(h.messages) != posts {
		t.Fatalf("delivered %d posts live, want %d", len(h.messages), posts)
	}
	missed, err := srv.CreatePost(bob.ID, mm.Post{ChannelID: ops.ID, Message: "!echo missed"})
	must(err)
	b.catchUp(ctx, h, &mm.EventsMissed{Since: now})
	if len(h.messages) != posts+1 {
		t.Errorf("after the catch-up: %d posts delivered, want %d (each once, and the one missed)", len(h.messages), posts+1)
	}
	if last := h.messages[len(h.messages)-1]; last.ID != missed.ID {
		t.Errorf("last post delivered %q, want the one missed", last.Text)
	}
}
