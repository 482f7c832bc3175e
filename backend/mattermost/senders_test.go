package mattermost

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// lineRecorder is a bot.Handler and bot.LeaveHandler that notes what it
// is given as lines, in order.
type lineRecorder struct{ lines []string }

func (r *lineRecorder) note(format string, args ...any) <-chan struct{} {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	return closed()
}

func (r *lineRecorder) HandleConnect(context.Context, bot.User) error { return nil }
func (r *lineRecorder) HandleMessage(m *bot.Message) <-chan struct{} {
	if m.Edited {
		return r.note("message %s %s %s (edited)", m.From, m.Room, m.Text)
	}
	return r.note("message %s %s %s", m.From, m.Room, m.Text)
}
func (r *lineRecorder) HandleReaction(x *bot.Reaction) <-chan struct{} {
	return r.note("reaction %s %s +%s", x.User, x.Room, x.Emoji)
}
func (r *lineRecorder) HandlePresence(p *bot.Presence) <-chan struct{} {
	return r.note("presence %s %s", p.User, p.Status)
}
func (r *lineRecorder) HandleJoin(j *bot.Join) <-chan struct{} {
	return r.note("join %s %s", j.User, j.Room)
}
func (r *lineRecorder) HandleLeave(l *bot.Leave) <-chan struct{} {
	return r.note("leave %s %s", l.User, l.Room)
}

// countGets is a lookup that counts the lookups of one user (GET
// /users/{id}): the event loop's own.
type countGets struct {
	*fakeLookup
	gets *atomic.Int32
}

func (c countGets) user(ctx context.Context, id string) (*mm.User, error) {
	c.gets.Add(1)
	return c.fakeLookup.user(ctx, id)
}

// lookupRig is an offline backend, the bot's, that looks users up in
// the background as it does when it runs: a lookup's answer waits on
// b.looked until the test takes it (answer), so that the lookup is
// blocked until then. The directory holds alice and admin, not bob;
// the server knows all three.
type lookupRig struct {
	t    *testing.T
	b    *Backend
	h    *lineRecorder
	gets atomic.Int32
	at   int64 // the last post's create_at
}

func newLookupRig(t *testing.T) *lookupRig {
	t.Helper()
	b := offlineBackend(botID)
	r := &lookupRig{t: t, b: b, h: &lineRecorder{}, at: 1000}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(func() {
		cancel()
		b.bg.Wait()
	})
	b.bgCtx, b.looked = ctx, make(chan lookedUp)
	api := b.dir.api.(*fakeLookup)
	b.dir.api = countGets{api, &r.gets}
	b.dir.putUser(api.users[aliceID])
	b.dir.putUser(api.users[adminID])
	return r
}

// handle hands ev to the backend as the event loop does.
func (r *lookupRig) handle(ev *mm.Event) {
	r.t.Helper()
	if err := r.b.handle(r.t.Context(), r.h, ev); err != nil {
		r.t.Fatalf("handle(%s): %v", ev.Type, err)
	}
}

// post returns the posted event of text by user in a channel.
func (r *lookupRig) post(user, channel, text string) *mm.Event {
	r.at++
	p := &mm.Post{ID: mm.NewID(), UserID: user, ChannelID: channel, Message: text, CreateAt: r.at}
	return &mm.Event{Type: mm.EventPosted, Payload: &mm.PostedEvent{Post: p}}
}

// answer takes the answer of the next lookup, as the event loop does.
func (r *lookupRig) answer() {
	r.t.Helper()
	select {
	case l := <-r.b.looked:
		r.b.lookedUpIn(r.t.Context(), r.h, l)
	case <-time.After(10 * time.Second):
		r.t.Fatal("no lookup answered")
	}
}

// want checks that the handler was given want since the last call.
func (r *lookupRig) want(want ...string) {
	r.t.Helper()
	if got := r.h.lines; !slices.Equal(got, want) {
		r.t.Errorf("delivered %q, want %q", got, want)
	}
	r.h.lines = nil
}

// TestEventsWaitForTheirUser: a reaction, a user added to or removed
// from a channel, or the edit of an answered post, by a user the
// directory does not hold, waits for the user's lookup in the
// background: a post of someone else's in another channel is delivered
// meanwhile, and the event once the lookup answers, after the post its
// user made before it and before alice's event in the same channel
// (and alice's later post);
// the event loop never asks the server for one user (GET /users/{id}).
// An event of a user the server does not know is dropped once the
// lookup says so.
func TestEventsWaitForTheirUser(t *testing.T) {
	for _, tc := range []struct {
		name string
		// ev returns the event of user in ~ops, and its line once
		// delivered.
		ev func(r *lookupRig, user string) (*mm.Event, string)
	}{
		{"reaction", func(r *lookupRig, user string) (*mm.Event, string) {
			re := &mm.Reaction{UserID: user, PostID: mm.NewID(), EmojiName: "thumbsup", ChannelID: opsID}
			return &mm.Event{Type: mm.EventReactionAdded, Payload: &mm.ReactionEvent{Reaction: re}},
				"reaction @" + r.name(user) + " ~testteam/ops +thumbsup"
		}},
		{"user added", func(r *lookupRig, user string) (*mm.Event, string) {
			return &mm.Event{Type: mm.EventUserAdded, Payload: &mm.UserAddedEvent{UserID: user, ChannelID: opsID}},
				"join @" + r.name(user) + " ~testteam/ops"
		}},
		{"user removed", func(r *lookupRig, user string) (*mm.Event, string) {
			return &mm.Event{Type: mm.EventUserRemoved, Payload: &mm.UserRemovedEvent{UserID: user, ChannelID: opsID}},
				"leave @" + r.name(user) + " ~testteam/ops"
		}},
		{"edit", func(r *lookupRig, user string) (*mm.Event, string) {
			// A post of user's the bot answered, edited now.
			r.at++
			p := &mm.Post{ID: mm.NewID(), UserID: user, ChannelID: opsID, Message: "!deploy v2", CreateAt: r.at}
			r.b.answers.add(p.ID, mm.NewID())
			return &mm.Event{Type: mm.EventPostEdited, Payload: &mm.PostEditedEvent{Post: p}},
				"message @" + r.name(user) + " ~testteam/ops !deploy v2 (edited)"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("alone", func(t *testing.T) {
				r := newLookupRig(t)
				ev, line := tc.ev(r, bobID)
				r.handle(ev)
				r.handle(r.post(aliceID, secretID, "meanwhile"))
				r.want("message @alice ~testteam/secret meanwhile")
				r.answer()
				r.want(line)
				if n := r.gets.Load(); n != 0 {
					t.Errorf("%d lookups of one user in the event loop, want none", n)
				}
			})
			t.Run("in order", func(t *testing.T) {
				r := newLookupRig(t)
				r.handle(r.post(bobID, opsID, "first"))
				ev, line := tc.ev(r, bobID)
				r.handle(ev)
				// alice's own event in ~ops waits behind bob's, and
				// her post in a group conversation behind it.
				aliceEv, aliceLine := tc.ev(r, aliceID)
				r.handle(aliceEv)
				r.handle(r.post(aliceID, groupID, "later"))
				r.handle(r.post(adminID, secretID, "meanwhile"))
				r.want("message @admin ~testteam/secret meanwhile")
				r.answer()
				r.want("message @bob ~testteam/ops first", line, aliceLine,
					"message @alice ~40bb2a2a44f0d47287885db355b086b6e55af470 later")
				if n := r.gets.Load(); n != 0 {
					t.Errorf("%d lookups of one user in the event loop, want none", n)
				}
			})
			t.Run("unknown to the server", func(t *testing.T) {
				r := newLookupRig(t)
				ev, _ := tc.ev(r, "nosuchuserxxxxxxxxxxxxxxxx")
				r.handle(ev)
				r.handle(r.post(aliceID, secretID, "meanwhile"))
				r.answer()
				r.want("message @alice ~testteam/secret meanwhile")
				if n := r.gets.Load(); n != 0 {
					t.Errorf("%d lookups of one user in the event loop, want none", n)
				}
				if len(r.b.lk.waiting) != 0 {
					t.Errorf("%d items still waiting, want none", len(r.b.lk.waiting))
				}
			})
		})
	}
}

// TestStatusOfUnknownNotLookedUp: a status change of a user the
// directory does not hold starts no lookup and holds up nothing (the
// server sends a user only its own, see presence.go: only a server that
// broadcasts everyone's would send it); a held user's is delivered.
func TestStatusOfUnknownNotLookedUp(t *testing.T) {
	r := newLookupRig(t)
	for _, id := range []string{bobID, aliceID} {
		r.handle(&mm.Event{Type: mm.EventStatusChange, Payload: &mm.StatusChangeEvent{UserID: id, Status: mm.StatusAway}})
	}
	r.handle(r.post(aliceID, secretID, "meanwhile"))
	r.want("presence @alice away", "message @alice ~testteam/secret meanwhile")
	if r.b.lk.running != 0 || r.gets.Load() != 0 {
		t.Errorf("%d lookups started, %d made in the event loop; want none", r.b.lk.running, r.gets.Load())
	}
}

// name returns the username of a user of the fake server.
func (r *lookupRig) name(id string) string {
	if u := r.b.dir.api.(countGets).users[id]; u != nil {
		return u.Username
	}
	return id
}

// TestSkippedPostHoldsItsChannelOnly: a post the engine will not see (a
// system post of alice's, who removed someone from ~ops) waits behind
// an earlier post of its channel whose sender is looked up, but holds
// up nothing of alice's elsewhere.
func TestSkippedPostHoldsItsChannelOnly(t *testing.T) {
	r := newLookupRig(t)
	r.handle(r.post(bobID, opsID, "first"))
	sys := r.post(aliceID, opsID, "someone removed from the channel.")
	sys.Payload.(*mm.PostedEvent).Post.Type = "system_remove_from_channel"
	r.handle(sys)
	r.handle(r.post(aliceID, secretID, "meanwhile"))
	r.want("message @alice ~testteam/secret meanwhile")
	if n := len(r.b.lk.waiting); n != 2 {
		t.Errorf("%d posts waiting, want bob's and the system post", n)
	}
	r.answer()
	r.want("message @bob ~testteam/ops first")
	if n := len(r.b.lk.waiting); n != 0 {
		t.Errorf("%d posts waiting after the lookup, want none", n)
	}
}
