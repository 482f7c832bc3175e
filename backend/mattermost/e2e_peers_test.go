package mattermost_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// recordingBackend is the Mattermost backend with the messages it
// delivers to the engine recorded, in order.
type recordingBackend struct {
	*mmbackend.Backend
	mu   sync.Mutex
	msgs []*bot.Message
}

func (r *recordingBackend) Run(ctx context.Context, h bot.Handler) error {
	return r.Backend.Run(ctx, recordingHandler{h, r})
}

// texts returns "@from: text" of each message delivered.
func (r *recordingBackend) texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		out = append(out, m.From.String()+": "+m.Text)
	}
	return out
}

type recordingHandler struct {
	bot.Handler
	r *recordingBackend
}

func (h recordingHandler) HandleMessage(m *bot.Message) <-chan struct{} {
	h.r.mu.Lock()
	h.r.msgs = append(h.r.msgs, m)
	h.r.mu.Unlock()
	return h.Handler.HandleMessage(m)
}

// parrot repeats every message it hears, as "<name> heard: <text>": two
// parrots that heard each other would never stop.
type parrot struct{ name string }

func (p parrot) Setup(pl *bot.Plugin) error {
	pl.Listen(`.+`, func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("%s heard: %s", p.name, req.Message.Text)
	})
	return nil
}

// addBotPeer adds a second bot account "otherbot" in the team and in
// ~ops, and returns it with its token.
func (w *world) addBotPeer() (*mm.User, string) {
	w.t.Helper()
	other, err := w.srv.AddBot("otherbot", "Other Bot", w.alice.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.team.ID, other.ID); err != nil {
		w.t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(w.ops.ID, other.ID); err != nil {
		w.t.Fatal(err)
	}
	tok, err := w.srv.CreateToken(other.ID, "peer")
	if err != nil {
		w.t.Fatal(err)
	}
	return other, tok
}

// waitFor waits for a post by user in ch with the text.
func (w *world) waitFor(ch *mm.Channel, user *mm.User, text string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool { return p.UserID == user.ID && p.Message == text }); err != nil {
		for _, p := range w.srv.Posts(ch.ID) {
			w.t.Logf("post by %s: %q", p.UserID, p.Message)
		}
		w.t.Fatalf("no post %q by @%s in ~%s: %v", text, user.Username, ch.Name, err)
	}
}

// TestBotsDoNotLoop: two bots in one channel, each repeating every
// message it hears. Neither hears itself, the other bot, a webhook's post
// or a system message, so alice's message gets one answer from each and
// nothing more.
func TestBotsDoNotLoop(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other, otherTok := w.addBotPeer()
	hook, err := w.srv.AddHook(w.ops.ID, w.alice.ID, "alerts")
	if err != nil {
		t.Fatal(err)
	}
	rec1 := &recordingBackend{Backend: w.newBackend(w.options())}
	w.startEngine(rec1, nil, parrot{"opsbot"})
	opts2 := w.options()
	opts2.Token = mm.Secret(otherTok)
	rec2 := &recordingBackend{Backend: w.newBackend(opts2)}
	w.startEngine(rec2, nil, parrot{"otherbot"})

	w.say(w.ops, "", "hello")
	w.waitFor(w.ops, w.bot, "opsbot heard: hello")
	w.waitFor(w.ops, other, "otherbot heard: hello")

	ctx := context.Background()
	if _, err := w.aliceC.PostWebhook(ctx, hook.ID, &mm.WebhookMessage{Text: "alert from a hook"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.aliceC.AddChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil { // a system post
		t.Fatal(err)
	}
	// Each bot's events come in order on its socket: once it has
	// answered the sentinel it has seen, and skipped, everything before.
	w.say(w.ops, "", "sentinel")
	w.waitFor(w.ops, w.bot, "opsbot heard: sentinel")
	w.waitFor(w.ops, other, "otherbot heard: sentinel")

	want := []string{"@alice: hello", "@alice: sentinel"}
	for _, r := range []*recordingBackend{rec1, rec2} {
		if got := r.texts(); !slices.Equal(got, want) {
			t.Errorf("messages delivered to a bot = %q, want only alice's %q", got, want)
		}
	}
	var kinds []string
	for _, p := range w.srv.Posts(w.ops.ID) {
		kinds = append(kinds, fmt.Sprintf("%s:%s", p.UserID, p.Message))
	}
	if n := len(w.srv.Posts(w.ops.ID)); n != 8 {
		t.Errorf("~ops holds %d posts, want 8 (2 by alice, a hook's, a system post, 4 answers):\n%q", n, kinds)
	}
}

// TestBotsAndWebhooksAllowed: with AllowBots and AllowWebhooks, other
// bots' posts and webhook posts reach the engine; the bot's own posts
// and system posts still do not.
func TestBotsAndWebhooksAllowed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, otherTok := w.addBotPeer()
	hook, err := w.srv.AddHook(w.ops.ID, w.alice.ID, "alerts")
	if err != nil {
		t.Fatal(err)
	}
	opts := w.options()
	opts.AllowBots, opts.AllowWebhooks = true, true
	rec := &recordingBackend{Backend: w.newBackend(opts)}
	w.startEngine(rec, nil)

	ctx := context.Background()
	otherC, err := w.srv.Client(otherTok)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := otherC.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!echo from a bot"}); err != nil {
		t.Fatal(err)
	}
	w.replyText(w.ops, "from a bot")
	if _, err := w.aliceC.PostWebhook(ctx, hook.ID, &mm.WebhookMessage{Text: "!echo from a hook"}); err != nil {
		t.Fatal(err)
	}
	w.replyText(w.ops, "from a hook")
	if _, _, err := w.aliceC.AddChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	w.say(w.ops, "", "!echo sentinel")
	w.replyText(w.ops, "sentinel")

	want := []string{"@otherbot: !echo from a bot", "@alice: !echo from a hook", "@alice: !echo sentinel"}
	if got := rec.texts(); !slices.Equal(got, want) {
		t.Errorf("messages delivered = %q, want %q", got, want)
	}
	rec.mu.Lock()
	if len(rec.msgs) > 0 && !rec.msgs[0].From.Bot {
		t.Errorf("otherbot's message From = %+v, want Bot set", rec.msgs[0].From)
	}
	rec.mu.Unlock()
}
