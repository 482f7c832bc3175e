package matterbot

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins"
)

// liveDemo is the demo command running with its input open: it serves
// until stop.
type liveDemo struct {
	url   string // the fake server's
	out   *notifyWriter
	typed *io.PipeWriter
	done  chan int
}

// startDemo runs the demo with the built-ins and extra, its standard
// input a pipe kept open, until its welcome is printed; t's cleanup
// stops it.
func startDemo(t *testing.T, extra ...bot.Setuper) *liveDemo {
	t.Helper()
	in, typed := io.Pipe()
	d := &liveDemo{out: &notifyWriter{wrote: make(chan struct{}, 1)}, typed: typed, done: make(chan int, 1)}
	go func() {
		c := &Command{Name: "matterbot", Plugins: append(plugins.Builtin(), extra...), Stdin: in, Stdout: d.out, Stderr: io.Discard}
		d.done <- c.Run(context.Background(), []string{"demo", "--listen", "127.0.0.1:0"})
	}()
	t.Cleanup(func() { d.stop(t) })
	re := regexp.MustCompile(`fake Mattermost server at (http://127\.0\.0\.1:\d+),`)
	for !strings.Contains(d.out.String(), "accounts (") {
		select {
		case <-d.out.wrote:
		case code := <-d.done:
			d.done <- code
			t.Fatalf("demo exited with %d before its welcome:\n%s", code, d.out.String())
		}
	}
	m := re.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no server URL in the welcome:\n%s", d.out.String())
	}
	d.url = m[1]
	return d
}

// stop ends the demo's input and checks that it exits 0.
func (d *liveDemo) stop(t *testing.T) {
	t.Helper()
	if d.typed == nil {
		return
	}
	d.typed.Close()
	d.typed = nil
	if code := <-d.done; code != 0 {
		t.Errorf("demo exit code = %d, want 0; output:\n%s", code, d.out.String())
	}
}

// demoUser is a person logged in to the demo's server, with a WebSocket.
type demoUser struct {
	t      *testing.T
	c      *mm.Client
	me     *mm.User
	events <-chan *mm.Event
}

// login logs in as username with password and opens a WebSocket, closed
// at t's cleanup.
func (d *liveDemo) login(t *testing.T, username, password string) *demoUser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mm.NewClient(d.url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	me, _, err := c.Login(ctx, username, mm.Secret(password), "")
	if err != nil {
		t.Fatalf("login as %s: %v", username, err)
	}
	ws, err := mm.NewWebSocket(d.url, c.Token(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1) // size 1: never blocks Run's goroutine
	go func() { ran <- ws.Run(wctx) }()
	t.Cleanup(func() {
		stop()
		for range ws.Events() { // drained until Run closes it
		}
		<-ran
	})
	u := &demoUser{t: t, c: c, me: me, events: ws.Events()}
	u.next(func(e *mm.Event) bool { return e.Type == mm.EventHello })
	return u
}

// next returns the first event that match accepts, failing the test
// after 30 s.
func (u *demoUser) next(match func(*mm.Event) bool) *mm.Event {
	u.t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case e, ok := <-u.events:
			if !ok {
				u.t.Fatal("the WebSocket closed")
			}
			if match(e) {
				return e
			}
		case <-timeout.C:
			u.t.Fatal("no such event in 30 s")
		}
	}
}

// post returns the post of a posted, post_edited or ephemeral_message
// event.
func eventPost(t *testing.T, e *mm.Event) *mm.Post {
	t.Helper()
	var data struct {
		Post string `json:"post"`
	}
	var p mm.Post
	if err := json.Unmarshal(e.Data, &data); err != nil || json.Unmarshal([]byte(data.Post), &p) != nil {
		t.Fatalf("%s event without a post: %s", e.Type, e.Data)
	}
	return &p
}

// nextPost returns the next post of an event of type typ by userID.
func (u *demoUser) nextPost(typ, userID string, match func(*mm.Post) bool) *mm.Post {
	u.t.Helper()
	var p *mm.Post
	u.next(func(e *mm.Event) bool {
		if e.Type != typ {
			return false
		}
		p = eventPost(u.t, e)
		return p.UserID == userID && match(p)
	})
	return p
}

// TestDemoInteractive: in the demo, out of the box, the example plugin's
// button, menu, dialog and slash command work end to end, as a person
// sees them in a client: a card whose menu and button update it, a
// slash command that opens the dialog, a submission refused with a
// field's error then taken, and /release posting a card in the channel.
func TestDemoInteractive(t *testing.T) {
	d := startDemo(t)
	alice := d.login(t, "alice", "alice-password")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	team, _, err := alice.c.TeamByName(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	town, _, err := alice.c.ChannelByName(ctx, team.ID, "town-square")
	if err != nil {
		t.Fatal(err)
	}
	bot, _, err := alice.c.UserByUsername(ctx, "ops-bot")
	if err != nil {
		t.Fatal(err)
	}
	hasCard := func(p *mm.Post) bool { atts, _ := p.Attachments(); return len(atts) == 1 }

	if _, _, err := alice.c.CreatePost(ctx, &mm.Post{ChannelID: town.ID, Message: "!release api 1.4.2"}); err != nil {
		t.Fatal(err)
	}
	card := alice.nextPost(mm.EventPosted, bot.ID, hasCard)
	atts, _ := card.Attachments()
	if len(atts[0].Actions) != 3 {
		t.Fatalf("card = %+v, want three actions", atts[0])
	}
	approve, menu := atts[0].Actions[0], atts[0].Actions[1]

	// The menu: the card now says prod.
	if _, _, err := alice.c.DoPostAction(ctx, card.ID, menu.ID, "prod", ""); err != nil {
		t.Fatalf("choose prod: %v", err)
	}
	edited := alice.nextPost(mm.EventPostEdited, bot.ID, func(p *mm.Post) bool { return p.ID == card.ID })
	if a, _ := edited.Attachments(); a[0].Fields[0].Value != "prod" {
		t.Errorf("card after the menu: %+v, want environment prod", a[0].Fields)
	}
	// The button: released, for alice alone a word, the card without buttons.
	if _, _, err := alice.c.DoPostAction(ctx, card.ID, approve.ID, "", ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	eph := alice.nextPost(mm.EventEphemeralMessage, alice.me.ID, func(*mm.Post) bool { return true })
	if eph.Message != "Released api 1.4.2 to prod." {
		t.Errorf("ephemeral after approve = %q", eph.Message)
	}
	np, _, err := alice.c.Post(ctx, card.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := np.Attachments(); len(a) != 1 || len(a[0].Actions) != 0 || a[0].Fields[1].Value != "released, approved by @alice" {
		t.Errorf("card after approve = %+v", a)
	}

	// The slash command opens the dialog.
	if _, _, err := alice.c.ExecuteCommand(ctx, town.ID, team.ID, "", "/release schedule api 1.4.2"); err != nil {
		t.Fatalf("/release schedule: %v", err)
	}
	ev := alice.next(func(e *mm.Event) bool { return e.Type == mm.EventOpenDialog })
	var data struct {
		Dialog string `json:"dialog"`
	}
	var od mm.OpenDialogRequest
	if err := json.Unmarshal(ev.Data, &data); err != nil || json.Unmarshal([]byte(data.Dialog), &od) != nil {
		t.Fatalf("open_dialog %s", ev.Data)
	}
	submit := func(fields map[string]any) *mm.SubmitDialogResponse {
		t.Helper()
		r, _, err := alice.c.SubmitDialog(ctx, &mm.SubmitDialogRequest{URL: od.URL, CallbackID: od.Dialog.CallbackID,
			State: od.Dialog.State, ChannelID: town.ID, TeamID: team.ID, Submission: fields})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		return r
	}
	if r := submit(map[string]any{"when": "never", "env": "prod"}); r.Errors["when"] != "pick a time, or close the dialog" {
		t.Errorf("submitting never = %+v, want an error under when", r)
	}
	if r := submit(map[string]any{"when": "tonight", "env": "prod"}); len(r.Errors) != 0 || r.Error != "" {
		t.Errorf("submitting tonight = %+v, want no error", r)
	}
	if p := alice.nextPost(mm.EventPosted, bot.ID, func(*mm.Post) bool { return true }); p.Message != "api 1.4.2 will go to prod tonight (scheduled by @alice)." {
		t.Errorf("after the dialog the bot said %q", p.Message)
	}

	// /release posts its card in the channel, for everyone.
	if _, _, err := alice.c.ExecuteCommand(ctx, town.ID, team.ID, "", "/release web 2.0"); err != nil {
		t.Fatalf("/release: %v", err)
	}
	if p := alice.nextPost(mm.EventPosted, bot.ID, hasCard); p.ChannelID != town.ID {
		t.Errorf("/release card in %s, want town-square", p.ChannelID)
	}
	// The bot's own trigger runs any command, answering the caller alone.
	r, _, err := alice.c.ExecuteCommand(ctx, town.ID, team.ID, "", "/ops-bot echo hi")
	if err != nil || r.Text != "hi" {
		t.Errorf("/ops-bot echo hi = %+v, %v; want hi", r, err)
	}
}
