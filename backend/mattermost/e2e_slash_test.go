package mattermost_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// The replies of a slash command that come after the answer to the
// server (a slow command, a second reply, a question's follow-up) go
// through the run's response_url, which the server takes five times
// within 30 minutes (model.CommandWebhook), posting each as the caller,
// marked from_webhook, in the run's channel and thread. These tests run
// "/opsbot script" through the fake server, whose handler does what the
// test hands it, step by step: the test decides when it answers.

// scriptPlugin has the command "script": its handler runs the steps the
// test sends, one at a time, and reports each one's error; a nil step
// ends it. "threaded" is the same, for a command whose replies go in a
// thread under the command's message.
type scriptPlugin struct {
	steps chan func(*bot.Request) error
	errs  chan error
}

func (sp *scriptPlugin) Name() string { return "script" }

func (sp *scriptPlugin) Setup(p *bot.Plugin) error {
	run := func(ctx context.Context, req *bot.Request) error {
		for {
			select {
			case f := <-sp.steps:
				if f == nil {
					return nil
				}
				err := f(req)
				select {
				case sp.errs <- err:
				case <-ctx.Done():
					return ctx.Err()
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	p.Command("script", run)
	p.Command("threaded", run).InThread()
	return nil
}

// slashWorld runs the bot with its slash command /opsbot, served on a
// real listener, and scriptPlugin; the bot's clock and the server's are
// the test's to move.
type slashWorld struct {
	*world
	script   *scriptPlugin
	botClock *fakeClock // the backend's Options.Now
	srvClock *fakeClock // the fake server's
	alice    *eventStream
}

// newSlashWorld starts the bot with the slash options o (its URL set
// here) and waits until /opsbot is registered.
func newSlashWorld(t *testing.T, o mmbackend.SlashOptions) *slashWorld {
	t.Helper()
	w := &slashWorld{
		script:   &scriptPlugin{steps: make(chan func(*bot.Request) error), errs: make(chan error)},
		botClock: newFakeClock(),
		srvClock: newFakeClock(),
	}
	w.world = newWorldOn(t, &mmtest.Options{Now: w.srvClock.now})
	if err := w.srv.SetTeamAdmin(w.team.ID, w.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	var handler atomic.Pointer[http.Handler]
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(rw, r)
	}))
	t.Cleanup(hs.Close)
	registered := logWatch{prefix: "slash command registered", seen: make(chan slog.Record, 1)}
	opts := w.options()
	opts.Slash = o
	opts.Slash.URL = hs.URL + mmbackend.SlashPath
	opts.Now = w.botClock.now
	opts.Logger = slog.New(registered)
	be := w.newBackend(opts)
	h := be.SlashHandler()
	handler.Store(&h)
	w.runEngine(be, nil, w.script)
	registered.wait(t, "the bot")
	w.alice = w.socket(w.world.alice.ID)
	return w
}

// exec runs command in ch as alice (in the thread root when set) and
// returns the command's response.
func (w *slashWorld) exec(t *testing.T, ch *mm.Channel, root, command string) *mm.CommandResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	r, _, err := w.aliceC.ExecuteCommand(ctx, ch.ID, "", root, command)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return r
}

// do has the running script's handler run f and returns its error.
func (w *slashWorld) do(t *testing.T, f func(*bot.Request) error) error {
	t.Helper()
	w.start(t, f)
	if f == nil {
		return nil
	}
	return w.result(t)
}

// start hands f to the running script's handler (nil ends it).
func (w *slashWorld) start(t *testing.T, f func(*bot.Request) error) {
	t.Helper()
	select {
	case w.script.steps <- f:
	case <-time.After(waitLimit):
		t.Fatal("the script's handler is not running")
	}
}

// result returns the error of the step started last.
func (w *slashWorld) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.script.errs:
		return err
	case <-time.After(waitLimit):
		t.Fatal("the script's step did not return")
	}
	return nil
}

// reply has the handler reply text, which must succeed.
func (w *slashWorld) reply(t *testing.T, text string) {
	t.Helper()
	if err := w.do(t, func(req *bot.Request) error { return req.Reply(text) }); err != nil {
		t.Fatalf("reply %q: %v", text, err)
	}
}

// ephemeral has the handler send text to the caller alone, which must
// succeed.
func (w *slashWorld) ephemeral(t *testing.T, text string) {
	t.Helper()
	if err := w.do(t, func(req *bot.Request) error { return req.Ephemeral(text) }); err != nil {
		t.Fatalf("ephemeral %q: %v", text, err)
	}
}

// messageID returns the id of the message the running handler serves.
func (w *slashWorld) messageID(t *testing.T) string {
	t.Helper()
	var id string
	_ = w.do(t, func(req *bot.Request) error { id = req.Message.ID; return nil })
	return id
}

// end has the running handler return.
func (w *slashWorld) end(t *testing.T) {
	t.Helper()
	_ = w.do(t, nil)
}

// postsOf returns the posts in ch with the message text.
func (w *slashWorld) postsOf(ch *mm.Channel, text string) []*mm.Post {
	var out []*mm.Post
	for _, p := range w.srv.Posts(ch.ID) {
		if p.Message == text {
			out = append(out, p)
		}
	}
	return out
}

// asCaller fails t unless posts is one post, made as the server makes a
// response_url's post: alice's, from_webhook, marked as answering
// replyTo, in ch and thread root.
func asCaller(t *testing.T, w *slashWorld, posts []*mm.Post, ch *mm.Channel, root, replyTo string) {
	t.Helper()
	if len(posts) != 1 {
		t.Errorf("%d posts, want one", len(posts))
		return
	}
	p := posts[0]
	if p.UserID != w.world.alice.ID || p.ChannelID != ch.ID || p.RootID != root ||
		p.Props["from_webhook"] != "true" || p.Props[mmbackend.PropReplyTo] != replyTo {
		t.Errorf("post %q = user %s, channel %s, root %q, props %v; want alice's (%s) in ~%s, root %q, from_webhook, answering %s",
			p.Message, p.UserID, p.ChannelID, p.RootID, p.Props, w.world.alice.ID, ch.Name, root, replyTo)
	}
}

// TestSlashLateReply: a handler that answers after the answer to the
// server was written (here at once: Wait is a nanosecond, and the
// handler answers only when the test has the command's response) is
// answered through the run's response_url, once, in the run's channel
// and thread, as the server posts it: the caller's post, from_webhook.
// The bot posts nothing itself.
func TestSlashLateReply(t *testing.T) {
	t.Parallel()
	w := newSlashWorld(t, mmbackend.SlashOptions{InChannel: true, Wait: time.Nanosecond})
	root := w.say(w.secret, "", "a thread to run it in")
	for _, tc := range []struct {
		name string
		ch   *mm.Channel
		root string
	}{
		{"channel", w.ops, ""},
		{"private channel, in a thread", w.secret, root.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.exec(t, tc.ch, tc.root, "/opsbot script")
			if r.Text != "" || len(r.ExtraResponses) != 0 {
				t.Errorf("the command's response = %+v, want none: the handler had not answered", r)
			}
			id := w.messageID(t)
			text := "deployed api to prod from " + tc.name
			w.reply(t, text)
			asCaller(t, w, w.postsOf(tc.ch, text), tc.ch, tc.root, id)
			w.end(t)
		})
	}
	for _, ch := range []*mm.Channel{w.ops, w.secret} {
		if bp := w.botPosts(ch); len(bp) != 0 {
			t.Errorf("the bot posted %d times in ~%s, want none: the server posts the replies", len(bp), ch.Name)
		}
	}
}

// TestSlashSeveralReplies: the replies a handler sends before the answer
// to the server (here until it asks a question: the handler then waits
// on the user, and the answer is written) are the command's response,
// the first as the response and the others as its extra responses, in
// order; the follow-up after the user's answer goes through the
// response_url, in order after them.
func TestSlashSeveralReplies(t *testing.T) {
	t.Parallel()
	w := newSlashWorld(t, mmbackend.SlashOptions{InChannel: true, Wait: time.Hour})
	resp := make(chan *mm.CommandResponse, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		r, _, err := w.aliceC.ExecuteCommand(ctx, w.ops.ID, "", "", "/opsbot script")
		if err != nil {
			t.Errorf("/opsbot script: %v", err)
		}
		resp <- r
	}()
	id := w.messageID(t)
	w.reply(t, "one")
	w.reply(t, "two")
	var answer string
	w.start(t, func(req *bot.Request) error {
		m, err := req.Ask(req.Context(), "which env?")
		if err == nil {
			answer = m.Text
		}
		return err
	})
	r := <-resp
	if r == nil {
		t.FailNow()
	}
	var got []string
	for _, x := range append([]*mm.CommandResponse{r}, r.ExtraResponses...) {
		got = append(got, x.ResponseType+" "+x.Text)
	}
	if want := []string{"in_channel one", "in_channel two", "in_channel which env?"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the command's response = %q, want %q", got, want)
	}
	w.say(w.ops, "", "prod")
	if err := w.result(t); err != nil || answer != "prod" {
		t.Fatalf("ask = %q, %v; want prod", answer, err)
	}
	w.reply(t, "deploying to prod")
	w.reply(t, "deployed")
	w.end(t)

	var order []string
	for _, p := range w.srv.Posts(w.ops.ID) {
		order = append(order, p.Message)
	}
	if want := []string{"one", "two", "which env?", "prod", "deploying to prod", "deployed"}; strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("the posts in ~ops = %q, want %q", order, want)
	}
	for _, text := range []string{"one", "two", "which env?", "deploying to prod", "deployed"} {
		asCaller(t, w, w.postsOf(w.ops, text), w.ops, "", id)
	}
}

// TestSlashResponseURLUsedUp: a reply the run's response_url would no
// longer take, after its five uses or past its 30 minutes (by the bot's
// clock, or by the server's: its refusal, a 404 or 400, is the
// reference), is not lost: the bot posts it itself, in the run's channel
// and thread, marked as answering the command.
func TestSlashResponseURLUsedUp(t *testing.T) {
	t.Parallel()
	w := newSlashWorld(t, mmbackend.SlashOptions{InChannel: true, Wait: time.Nanosecond})
	byBot := func(t *testing.T, text string, ch *mm.Channel, root, replyTo string) {
		t.Helper()
		ps := w.postsOf(ch, text)
		if len(ps) != 1 || ps[0].UserID != w.bot.ID || ps[0].RootID != root || ps[0].Props[mmbackend.PropReplyTo] != replyTo {
			for _, p := range ps {
				t.Logf("post %q by %s, root %q, props %v", p.Message, p.UserID, p.RootID, p.Props)
			}
			t.Errorf("%q: %d posts in ~%s, want one by the bot, in thread %q, answering %s", text, len(ps), ch.Name, root, replyTo)
		}
	}

	t.Run("five uses", func(t *testing.T) {
		w.exec(t, w.ops, "", "/opsbot script")
		id := w.messageID(t)
		for _, text := range []string{"r1", "r2", "r3", "r4", "r5"} {
			w.reply(t, text)
			asCaller(t, w, w.postsOf(w.ops, text), w.ops, "", id)
		}
		w.reply(t, "r6")
		w.reply(t, "r7")
		w.end(t)
		byBot(t, "r6", w.ops, "", id)
		byBot(t, "r7", w.ops, "", id)
		var order []string
		for _, p := range w.srv.Posts(w.ops.ID) {
			if strings.HasPrefix(p.Message, "r") {
				order = append(order, p.Message)
			}
		}
		if got := strings.Join(order, " "); got != "r1 r2 r3 r4 r5 r6 r7" {
			t.Errorf("the replies in ~ops = %s, want r1 to r7 in order", got)
		}
	})

	root := w.say(w.secret, "", "a thread to run it in")
	for _, tc := range []struct {
		name     string
		advance  []*fakeClock
		ch       *mm.Channel
		root     string
		command  string
		wantText string
	}{
		{"past the lifetime", []*fakeClock{w.botClock, w.srvClock}, w.ops, "", "script", "late by both clocks"},
		{"past the lifetime, in a thread", []*fakeClock{w.botClock, w.srvClock}, w.secret, root.ID, "script", "late in the thread"},
		// Its replies would go under the command's message, which is
		// no post: they go where the run's answers went.
		{"a command that replies in a thread", []*fakeClock{w.botClock, w.srvClock}, w.ops, "", "threaded", "late from a threaded command"},
		// The bot's clock is behind the server's: the server refuses.
		{"refused by the server", []*fakeClock{w.srvClock}, w.ops, "", "script", "late by the server's clock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.exec(t, tc.ch, tc.root, "/opsbot "+tc.command)
			id := w.messageID(t)
			for _, c := range tc.advance {
				c.advance(31 * time.Minute)
			}
			w.reply(t, tc.wantText)
			w.reply(t, tc.wantText+", again")
			w.end(t)
			byBot(t, tc.wantText, tc.ch, tc.root, id)
			byBot(t, tc.wantText+", again", tc.ch, tc.root, id)
		})
	}
}

// TestSlashEphemeralLateReply: a reply for the caller alone that comes
// through the response_url stays the caller's alone: an ephemeral
// response, which the server shows to alice only (an ephemeral_message
// event, as her post) and never posts in the channel; so is every reply
// when the slash command's replies are ephemeral (the default), and
// those the bot sends itself once the response_url is used up (its
// ephemeral post, or, without the permission for one, a direct
// message).
func TestSlashEphemeralLateReply(t *testing.T) {
	t.Parallel()
	notPosted := func(t *testing.T, w *slashWorld, texts ...string) {
		t.Helper()
		for _, text := range texts {
			if ps := w.postsOf(w.ops, text); len(ps) != 0 {
				t.Errorf("%q was posted in ~ops for everyone (%d posts), want it shown to alice alone", text, len(ps))
			}
		}
	}
	ephemeralFrom := func(t *testing.T, w *slashWorld, text, replyTo string) {
		t.Helper()
		p := w.alice.nextEphemeral()
		if p.Message != text || p.UserID != w.world.alice.ID || p.ChannelID != w.ops.ID || p.Props[mmbackend.PropReplyTo] != replyTo {
			t.Errorf("alice's ephemeral message = %q, user %s, channel %s, props %v; want %q, hers, in ~ops, answering %s",
				p.Message, p.UserID, p.ChannelID, p.Props, text, replyTo)
		}
	}

	t.Run("in_channel replies", func(t *testing.T) {
		t.Parallel()
		w := newSlashWorld(t, mmbackend.SlashOptions{InChannel: true, Wait: time.Nanosecond})
		w.exec(t, w.ops, "", "/opsbot script")
		id := w.messageID(t)
		w.ephemeral(t, "only you see this")
		ephemeralFrom(t, w, "only you see this", id)
		w.reply(t, "everyone sees this")
		w.end(t)
		notPosted(t, w, "only you see this")
		asCaller(t, w, w.postsOf(w.ops, "everyone sees this"), w.ops, "", id)
	})

	t.Run("ephemeral replies", func(t *testing.T) {
		t.Parallel()
		w := newSlashWorld(t, mmbackend.SlashOptions{Wait: time.Nanosecond})
		w.exec(t, w.ops, "", "/opsbot script")
		id := w.messageID(t)
		texts := []string{"e1", "e2", "e3", "e4", "e5"}
		for i, text := range texts {
			if i%2 == 0 {
				w.reply(t, text)
			} else {
				w.ephemeral(t, text)
			}
			ephemeralFrom(t, w, text, id)
		}
		// The response_url is used up: the bot shows the rest to alice,
		// in a direct message while it may not make ephemeral posts
		// (only system admins may), in its ephemeral post once it may.
		w.reply(t, "e6")
		if err := w.srv.SetSystemAdmin(w.bot.ID, true); err != nil {
			t.Fatal(err)
		}
		w.ephemeral(t, "e7")
		w.end(t)
		notPosted(t, w, append(texts, "e6", "e7")...)
		dm, err := w.srv.DirectChannel(w.world.alice.ID, w.bot.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ps := w.postsOf(dm, "e6"); len(ps) != 1 || ps[0].UserID != w.bot.ID || ps[0].Props[mmbackend.PropReplyTo] != id {
			t.Errorf("e6: %d posts in alice's direct messages with the bot, want one by the bot, answering %s", len(ps), id)
		}
		if p := w.alice.nextEphemeral(); p.Message != "e7" || p.UserID != w.bot.ID || p.ChannelID != w.ops.ID || p.Props[mmbackend.PropReplyTo] != id {
			t.Errorf("alice's ephemeral message = %q by %s in %s, props %v; want e7, the bot's, in ~ops, answering %s",
				p.Message, p.UserID, p.ChannelID, p.Props, id)
		}
	})
}
