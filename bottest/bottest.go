// Package bottest runs plugins on an in-memory chat backend for tests, in
// the way net/http/httptest runs handlers.
//
//	func TestDeploy(t *testing.T) {
//		b := bottest.New(t, &Deploy{})
//		got := b.Say("!deploy api prod")
//		// assert on got[0].Text, got[0].Card, ...
//	}
//
// Say and its variants deliver one message and return when every handler
// it started has finished (or waits for the user's next message, see
// bot.Request.Ask), with the replies sent meanwhile: no sleeps, no
// polling. Each Bot is independent, so tests using it may run with
// t.Parallel.
//
// Schedules and webhooks are tested the same way: Advance moves the fake
// clock of a synctest bubble so that schedules run, and Webhook serves an
// HTTP request through the engine's handler.
//
//	synctest.Test(t, func(t *testing.T) {
//		b := bottest.New(t, &Deploy{})
//		got := b.Advance(time.Minute) // what the every-minute job sent
//		rec := b.Webhook(httptest.NewRequest("POST", "/deploy/done", body))
//	})
//
// A plugin whose required configuration is missing is not activated
// (see bot.Plugin.Config): give it in bot.Options.PluginConfig, with
// NewWithOptions.
//
// One-shot timers (bot.Plugin.OnTimer) fire on the same fake clock; Stop
// and a second Bot on the same bot.Options.Storage test what survives a
// restart (see Bot.Stop).
package bottest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/matterbot/matterbot/bot"
)

// Reply is something the bot sent: a message (text, card, file), an
// ephemeral message or a reaction.
type Reply struct {
	// To is where it went: "~town-square", "~test/ops" style for rooms
	// (Room.String), "@alice" for direct messages.
	To       string
	RoomID   string // "dm-<user id>" for direct messages
	ThreadID string
	Direct   bool
	Text     string
	Card     *bot.Card
	File     *File
	// EphemeralTo is the id of the only user who sees an ephemeral message.
	EphemeralTo string
	// Reaction is the emoji of a reaction to the message MessageID.
	Reaction  string
	MessageID string
	// Unreact is set when the bot removed the reaction Reaction
	// (Request.Unreact) instead of adding it.
	Unreact bool
}

// File is an uploaded file, read into memory.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Texts returns the Text of each reply that has one.
func Texts(rs []Reply) []string {
	var out []string
	for _, r := range rs {
		if r.Text != "" {
			out = append(out, r.Text)
		}
	}
	return out
}

// refRE matches the reference in the engine's reply to an internal
// error: "Sorry, `!deploy` failed (ref 7f3a9c)." (see bot.UserError).
var refRE = regexp.MustCompile(`\(ref [0-9a-f]{6}\)`)

// Unref returns rs with the random reference in each reply to an internal
// error replaced by REF, so that a test can compare replies exactly:
// "Sorry, `!deploy` failed (ref REF).". It changes rs in place.
func Unref(rs []Reply) []Reply {
	for i := range rs {
		rs[i].Text = refRE.ReplaceAllString(rs[i].Text, "(ref REF)")
	}
	return rs
}

// T is the part of *testing.T (and *testing.B, *testing.F) a Bot uses.
type T interface {
	Helper()
	Cleanup(f func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Bot is a running engine on a Backend, for one test.
type Bot struct {
	t       T
	Engine  *bot.Engine
	Backend *Backend
	nextID  atomic.Int64
	stop    func() // stops the engine and waits for it, once
}

// New starts an engine with the given plugins and default options, and
// stops it when the test ends. It fails the test when the engine cannot
// be built or does not start.
func New(t T, plugins ...bot.Setuper) *Bot {
	t.Helper()
	return NewWithOptions(t, nil, plugins...)
}

// NewWithOptions is New with engine options: admins, prefix, ACLs, ...
// Admins and ACL names must be users and rooms the Backend knows (see
// NewBackend); add more on b.Backend before the names are needed, or use
// Start.
func NewWithOptions(t T, opts *bot.Options, plugins ...bot.Setuper) *Bot {
	t.Helper()
	b, err := Start(t, NewBackend(), opts, plugins...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return b
}

// Start builds an engine on be, runs it until the test ends, and waits
// until it has connected. It returns the error of bot.New (a plugin's
// failing Setup, say) or of a failed start instead of failing the test.
func Start(t T, be *Backend, opts *bot.Options, plugins ...bot.Setuper) (*Bot, error) {
	t.Helper()
	e, err := bot.New(be, opts, plugins...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1) // size 1: Run's result is never blocked on
	go func() { stopped <- e.Run(ctx) }()
	select {
	case <-be.Ready():
	case err := <-stopped:
		cancel()
		return nil, fmt.Errorf("bottest: engine did not start: %w", err)
	}
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("bottest: engine stopped with %v", err)
		}
	})
	t.Cleanup(stop)
	return &Bot{t: t, Engine: e, Backend: be, stop: stop}, nil
}

// Stop shuts the engine down, as the end of the test does, and returns
// once bot.Engine.Run has returned: handlers drained, plugins
// deactivated. Stopping twice does nothing. To test what survives a
// restart, give two Bots the same bot.Options.Storage and Stop the first
// before starting the second:
//
//	st := memory.New() // package storage/memory
//	b := bottest.NewWithOptions(t, &bot.Options{Storage: st}, &Remind{})
//	b.Say("!remind 10m tea")
//	b.Stop()
//	b = bottest.NewWithOptions(t, &bot.Options{Storage: st}, &Remind{})
//	got := b.Advance(10 * time.Minute) // inside synctest.Test
func (b *Bot) Stop() { b.stop() }

// user returns the user with a username ("@alice" or "alice"), creating
// it when unknown.
func (b *Bot) user(name string) bot.User {
	name = strings.TrimPrefix(name, "@")
	u, err := b.Backend.User(context.Background(), name)
	if err != nil {
		u = bot.User{ID: "u-" + name, Username: name, FullName: name}
		b.Backend.AddUser(u)
	}
	return u
}

// room returns the room named "~name" or "~team/name", failing the test
// when it is unknown.
func (b *Bot) room(name string) bot.Room {
	b.t.Helper()
	a, err := bot.ParseAddress(name)
	if err != nil || a.Room == "" {
		b.t.Fatalf("bottest: room %q: want ~room or ~team/room", name)
	}
	r, err := b.Backend.Room(context.Background(), a.Team, a.Room)
	if err != nil {
		b.t.Fatalf("bottest: %v (add it with b.Backend.AddRoom)", err)
	}
	return r
}

// Message builds a message from user ("@alice") in room ("~ops"), or a
// direct message to the bot when room is "". Its ID is unique in the Bot.
// Mentions holds the @names of the text, and RoomMentions the rooms its
// "~room" and "~team/room" words name that the Backend knows (see
// Backend.AddRoom); unknown ones are left out, as a real backend does.
func (b *Bot) Message(user, room, text string) *bot.Message {
	b.t.Helper()
	u := b.user(user)
	m := &bot.Message{ID: "m" + strconv.FormatInt(b.nextID.Add(1), 10), From: u, Text: text}
	if room == "" {
		m.Direct = true
		m.Room = bot.Room{ID: "dm-" + u.ID, Name: "dm-" + u.Username}
	} else {
		m.Room = b.room(room)
	}
	m.Mentions = mentions(text)
	m.RoomMentions = b.roomMentions(text)
	return m
}

// roomMentions resolves the ~room words of text through the Backend, in
// order and without duplicates.
func (b *Bot) roomMentions(text string) []bot.Room {
	var out []bot.Room
	for _, w := range strings.Fields(text) {
		if !strings.HasPrefix(w, "~") {
			continue
		}
		a, err := bot.ParseAddress(strings.TrimRight(w, ".,:;!?)"))
		if err != nil || a.Room == "" {
			continue
		}
		r, err := b.Backend.Room(context.Background(), a.Team, a.Room)
		if err != nil || slices.Contains(out, r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// mentions finds the @names in text.
func mentions(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		if n, ok := strings.CutPrefix(w, "@"); ok {
			if n = strings.TrimRight(n, ".,:;!?"); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// Say sends text from @alice in ~town-square and returns the replies.
func (b *Bot) Say(text string) []Reply {
	b.t.Helper()
	return b.Deliver(b.Message("@alice", "~town-square", text))
}

// SayAs sends text from user ("@bob") in room ("~ops" or "~team/ops") and
// returns the replies.
func (b *Bot) SayAs(user, room, text string) []Reply {
	b.t.Helper()
	return b.Deliver(b.Message(user, room, text))
}

// DM sends text from user as a direct message to the bot and returns the
// replies.
func (b *Bot) DM(user, text string) []Reply {
	b.t.Helper()
	return b.Deliver(b.Message(user, "", text))
}

// SayInThread sends text from user in the thread rooted at threadID in
// room, and returns the replies.
func (b *Bot) SayInThread(user, room, threadID, text string) []Reply {
	b.t.Helper()
	m := b.Message(user, room, text)
	m.ThreadID = threadID
	return b.Deliver(m)
}

// Deliver hands m to the engine, waits until its handlers are done, and
// returns everything sent since the previous call that returned replies.
func (b *Bot) Deliver(m *bot.Message) []Reply {
	<-b.Backend.Handler().HandleMessage(m)
	return b.Backend.Sent()
}

// Post hands m to the engine and returns at once, with the channel that
// is closed when its handlers are done. Use it to send many messages
// concurrently; collect the replies with Replies.
func (b *Bot) Post(m *bot.Message) <-chan struct{} {
	return b.Backend.Handler().HandleMessage(m)
}

// React reports that user added emoji to the message with id messageID in
// room, and returns the replies once the callbacks are done.
func (b *Bot) React(user, room, messageID, emoji string) []Reply {
	b.t.Helper()
	r := &bot.Reaction{MessageID: messageID, Emoji: emoji, User: b.user(user), Room: b.room(room)}
	<-b.Backend.Handler().HandleReaction(r)
	return b.Backend.Sent()
}

// Presence reports that user's status changed, and returns the replies
// once the callbacks are done.
func (b *Bot) Presence(user, status string) []Reply {
	b.t.Helper()
	<-b.Backend.Handler().HandlePresence(&bot.Presence{User: b.user(user), Status: status})
	return b.Backend.Sent()
}

// Join reports that user joined room, and returns the replies once the
// callbacks are done.
func (b *Bot) Join(user, room string) []Reply {
	b.t.Helper()
	<-b.Backend.Handler().HandleJoin(&bot.Join{User: b.user(user), Room: b.room(room)})
	return b.Backend.Sent()
}

// Leave reports that user left room (or was removed from it), and
// returns the replies once the callbacks are done.
func (b *Bot) Leave(user, room string) []Reply {
	b.t.Helper()
	h, ok := b.Backend.Handler().(bot.LeaveHandler)
	if !ok {
		b.t.Fatalf("bottest: the handler does not implement bot.LeaveHandler")
	}
	<-h.HandleLeave(&bot.Leave{User: b.user(user), Room: b.room(room)})
	return b.Backend.Sent()
}

// Replies returns and forgets everything sent since the last call that
// returned replies: what OnConnect hooks, Post-ed messages or late
// handlers sent.
func (b *Bot) Replies() []Reply { return b.Backend.Sent() }
