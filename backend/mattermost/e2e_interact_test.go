package mattermost_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// interactPlugin sends a card with a button, a menu and a button that
// opens a dialog, and records what its handlers saw.
type interactPlugin struct {
	mu   sync.Mutex
	runs []string
}

type serviceForm struct {
	Service string `label:"Service" min:"2"`
	Env     string `label:"Environment" options:"staging,prod"`
}

func (ip *interactPlugin) Name() string { return "deploy" }

func (ip *interactPlugin) ran(s string) {
	ip.mu.Lock()
	ip.runs = append(ip.runs, s)
	ip.mu.Unlock()
}

func (ip *interactPlugin) took() []string {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	r := ip.runs
	ip.runs = nil
	return r
}

func (ip *interactPlugin) Setup(p *bot.Plugin) error {
	p.Command("ask", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{Title: "deploy api?", Actions: []bot.Action{
			bot.Button("Approve", "approve", "api").Styled("primary"),
			bot.Menu("Env", "env", bot.Option{Text: "Production", Value: "prod"}),
			bot.Button("Form", "form", "api"),
		}})
	})
	p.OnClick("approve", func(ctx context.Context, c *bot.Click) error {
		ip.ran("approve " + c.Value + " by " + c.User.Username + " in " + c.Room.Name)
		c.Ephemeral("approved, thanks")
		return c.Update("approved by "+c.User.String(), &bot.Card{Title: "deploy api: approved", Color: "good"})
	})
	p.OnClick("env", func(ctx context.Context, c *bot.Click) error {
		ip.ran("env " + c.Selected)
		return nil
	})
	p.OnClick("form", func(ctx context.Context, c *bot.Click) error {
		return c.OpenDialog("deploy", bot.DialogOptions{Value: c.Value})
	})
	bot.Form(p, "deploy", "Deploy", func(ctx context.Context, s *bot.Submission, f serviceForm) error {
		ip.ran("deploy " + f.Service + " to " + f.Env + " for " + s.Value)
		return s.Reply("deploying " + f.Service + " to " + f.Env)
	})
	return nil
}

// interactWorld runs the bot with interactPlugin and its listener on a
// real socket, at a clock the test moves.
type interactWorld struct {
	*world
	plugin *interactPlugin
	hs     *httptest.Server
	now    atomic.Int64 // unix nanoseconds of the backend's clock
	alice  *eventStream
}

func newInteractWorld(t *testing.T) *interactWorld {
	w := &interactWorld{world: newWorld(t), plugin: &interactPlugin{}}
	w.now.Store(time.Now().UnixNano())
	var handler atomic.Pointer[http.Handler]
	w.hs = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(rw, r)
	}))
	t.Cleanup(w.hs.Close)
	opts := w.options()
	opts.PublicURL = w.hs.URL + "/"
	opts.Now = func() time.Time { return time.Unix(0, w.now.Load()) }
	be := w.newBackend(opts)
	connects := make(chan bot.User, 16)
	eng := mustEngine(t, be, nil, w.plugin, &testPlugin{connects: connects})
	h := be.Interactions(eng)
	handler.Store(&h)
	runUntilCleanup(t, eng)
	select {
	case <-connects:
	case <-time.After(waitLimit):
		t.Fatal("bot did not connect")
	}
	w.alice = w.socket(w.world.alice.ID)
	return w
}

// card asks for a card as alice and returns its post.
func (w *interactWorld) card(t *testing.T) *mm.Post {
	t.Helper()
	w.say(w.ops, "", "!ask")
	return w.reply(w.ops, func(p *mm.Post) bool { return p.Props["attachments"] != nil && p.EditAt == 0 })
}

// ephemeral returns the text of alice's next ephemeral message.
func (w *interactWorld) ephemeral(t *testing.T) string {
	t.Helper()
	return w.alice.nextEphemeral().Message
}

// TestClickUpdatesPost: a click on a card's button, as alice's client
// makes it, reaches the plugin's handler through the fake server and the
// bot's listener; the handler's update replaces the post, its ephemeral
// text reaches alice alone.
func TestClickUpdatesPost(t *testing.T) {
	t.Parallel()
	w := newInteractWorld(t)
	ctx := context.Background()
	p := w.card(t)
	atts, _ := p.Attachments()
	if len(atts) != 1 || len(atts[0].Actions) != 3 || atts[0].Actions[0].Integration != nil {
		t.Fatalf("card = %+v, want 3 actions, integrations stripped by the server", atts)
	}
	resp, _, err := w.aliceC.DoPostAction(ctx, p.ID, atts[0].Actions[0].ID, "", "")
	if err != nil {
		t.Fatalf("click Approve: %v", err)
	}
	if resp.Status != "OK" || resp.TriggerID == "" {
		t.Errorf("click answer = %+v", resp)
	}
	if got := w.plugin.took(); len(got) != 1 || got[0] != "approve api by alice in ops" {
		t.Errorf("handler runs = %q, want approve api by alice in ops", got)
	}
	np, _ := w.srv.Post(p.ID)
	natts, _ := np.Attachments()
	if np.Message != "approved by @alice" || len(natts) != 1 || natts[0].Title != "deploy api: approved" || len(natts[0].Actions) != 0 {
		t.Errorf("post after the click = %q %+v, want the update without actions", np.Message, natts)
	}
	if replyTo, _ := np.Props[mmbackend.PropReplyTo].(string); replyTo == "" {
		t.Errorf("updated post props %v lost the bot's mark", np.Props)
	}
	if got := w.ephemeral(t); got != "approved, thanks" {
		t.Errorf("ephemeral = %q, want approved, thanks", got)
	}

	// The menu: the choice reaches the handler.
	p = w.card(t)
	atts, _ = p.Attachments()
	if _, _, err := w.aliceC.DoPostAction(ctx, p.ID, atts[0].Actions[1].ID, "prod", ""); err != nil {
		t.Fatalf("choose from the menu: %v", err)
	}
	if got := w.plugin.took(); len(got) != 1 || got[0] != "env prod" {
		t.Errorf("handler runs = %q, want env prod", got)
	}
}

// TestForgedOrExpiredClick: a request to the bot's action URL without a
// token the bot signed is refused (403) and runs nothing; a click on a
// button past its lifetime gets an ephemeral message that says so.
func TestForgedOrExpiredClick(t *testing.T) {
	t.Parallel()
	w := newInteractWorld(t)
	p := w.card(t)
	for _, tc := range []struct{ name, body string }{
		{"no token", `{"user_id":"` + w.world.alice.ID + `","channel_id":"` + w.ops.ID + `","post_id":"` + p.ID + `","context":{}}`},
		{"made-up token", `{"user_id":"` + w.world.alice.ID + `","channel_id":"` + w.ops.ID + `","context":{"matterbot":"v1.eyJrIjoiYSIsInAiOiJkZXBsb3kiLCJuIjoiYXBwcm92ZSJ9.AAAA"}}`},
		{"dialog with an action token", `{"state":"v1.x.y","submission":{}}`},
	} {
		path := mmbackend.ActionPath
		if strings.HasPrefix(tc.name, "dialog") {
			path = mmbackend.DialogPath
		}
		resp, err := http.Post(w.hs.URL+path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, resp.StatusCode)
		}
	}
	if got := w.plugin.took(); len(got) != 0 {
		t.Errorf("forged requests ran %q", got)
	}

	// Eight days later, the button has expired.
	w.now.Add(int64(8 * 24 * time.Hour))
	atts, _ := p.Attachments()
	if _, _, err := w.aliceC.DoPostAction(context.Background(), p.ID, atts[0].Actions[0].ID, "", ""); err != nil {
		t.Fatalf("click: %v", err)
	}
	if got := w.ephemeral(t); got != "This button has expired: run the command again for a new one." {
		t.Errorf("ephemeral = %q, want the expiry notice", got)
	}
	if got := w.plugin.took(); len(got) != 0 {
		t.Errorf("an expired click ran %q", got)
	}
	if np, _ := w.srv.Post(p.ID); np.EditAt != 0 {
		t.Errorf("an expired click edited the post")
	}
}

// TestDialogRoundTrip: a button opens a dialog in alice's client; a
// submission that fails the form's checks comes back with the problem
// under its field, a good one runs the handler.
func TestDialogRoundTrip(t *testing.T) {
	t.Parallel()
	w := newInteractWorld(t)
	ctx := context.Background()
	p := w.card(t)
	atts, _ := p.Attachments()
	if _, _, err := w.aliceC.DoPostAction(ctx, p.ID, atts[0].Actions[2].ID, "", ""); err != nil {
		t.Fatalf("click Form: %v", err)
	}
	ev := w.alice.next(mm.EventOpenDialog)
	var data struct {
		Dialog string `json:"dialog"`
	}
	var od mm.OpenDialogRequest
	if err := json.Unmarshal(ev.Data, &data); err != nil || json.Unmarshal([]byte(data.Dialog), &od) != nil {
		t.Fatalf("open_dialog %s: %v", ev.Data, err)
	}
	if od.URL != w.hs.URL+mmbackend.DialogPath || od.Dialog.Title != "Deploy" || len(od.Dialog.Elements) != 2 ||
		od.Dialog.Elements[1].Type != "select" || len(od.Dialog.Elements[1].Options) != 2 {
		t.Fatalf("dialog = %+v", od)
	}
	submit := func(fields map[string]any) *mm.SubmitDialogResponse {
		t.Helper()
		r, _, err := w.aliceC.SubmitDialog(ctx, &mm.SubmitDialogRequest{URL: od.URL, CallbackID: od.Dialog.CallbackID,
			State: od.Dialog.State, ChannelID: w.ops.ID, TeamID: w.team.ID, Submission: fields})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		return r
	}
	r := submit(map[string]any{"service": "a", "env": "qa"})
	if r.Errors["service"] != "Enter at least 2 characters." || r.Errors["env"] != "Pick one of the choices." || len(r.Errors) != 2 {
		t.Errorf("bad submission = %+v, want an error under each field", r)
	}
	if got := w.plugin.took(); len(got) != 0 {
		t.Errorf("a bad submission ran %q", got)
	}
	r = submit(map[string]any{"service": "api", "env": "prod"})
	if r.Error != "" || len(r.Errors) != 0 {
		t.Errorf("good submission = %+v, want no error", r)
	}
	if got := w.plugin.took(); len(got) != 1 || got[0] != "deploy api to prod for api" {
		t.Errorf("handler runs = %q", got)
	}
	w.replyText(w.ops, "deploying api to prod")
}
