package mmtest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
)

// integration is an integration's endpoint for the tests: it records each
// request's body and answers with what answer returns.
type integration struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	answer func(body map[string]any) (int, string)
}

func newIntegration(t *testing.T) *integration {
	in := &integration{answer: func(map[string]any) (int, string) { return 200, "" }}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("integration got %q (%s), want a JSON body", b, r.Header.Get("Content-Type"))
		}
		in.mu.Lock()
		in.bodies = append(in.bodies, m)
		answer := in.answer
		in.mu.Unlock()
		status, body := answer(m)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(in.Close)
	return in
}

func (in *integration) take() []map[string]any {
	in.mu.Lock()
	defer in.mu.Unlock()
	b := in.bodies
	in.bodies = nil
	return b
}

// actionPost makes a post of the bot in ~ops with a button and a select
// calling in, and returns it as stored (with the ids the server gave).
func (w *world) actionPost(t *testing.T, url string) *mattermost.Post {
	t.Helper()
	atts := []map[string]any{{"text": "deploy?", "actions": []map[string]any{
		{"type": "button", "name": "Approve", "integration": map[string]any{"url": url, "context": map[string]any{"k": "v"}}},
		{"id": "env1", "type": "select", "name": "Env", "options": []map[string]any{{"text": "Prod", "value": "prod"}},
			"integration": map[string]any{"url": url}},
		{"id": "plain", "type": "button", "name": "No integration"},
	}}}
	r := w.do(t, "POST", "/posts", w.botTok, map[string]any{"channel_id": w.ops.ID, "message": "card",
		"props": map[string]any{"attachments": atts, "from_webhook": "true"}})
	if r.status != 201 {
		t.Fatalf("POST /posts = %d %s", r.status, r.body)
	}
	var out mattermost.Post
	r.json(t, &out)
	atts2, _ := out.Attachments()
	if len(atts2) != 1 || len(atts2[0].Actions) != 3 || atts2[0].Actions[0].Integration != nil {
		t.Fatalf("posted attachments = %+v, want 3 actions without integrations", atts2)
	}
	if id := atts2[0].Actions[0].ID; !mattermost.IsValidID(id) {
		t.Errorf("the button got id %q, want a generated one (model.Post.GenerateActionIds)", id)
	}
	p, _ := w.srv.Post(out.ID)
	return p
}

// TestDoPostAction follows api4/integration_action.go doPostAction and app
// DoPostActionWithCookie.
func TestDoPostAction(t *testing.T) {
	w := newWorld(t, nil)
	in := newIntegration(t)
	p := w.actionPost(t, in.URL)
	atts, _ := p.Attachments()
	button := atts[0].Actions[0].ID
	w.takeEvents()

	// A click: the integration gets the request, its answer is applied.
	in.answer = func(map[string]any) (int, string) {
		return 200, `{"update":{"message":"approved","props":{"attachments":[{"text":"done"}]}},"ephemeral_text":"see <https://x.example/a|the log>"}`
	}
	r := w.do(t, "POST", "/posts/"+p.ID+"/actions/"+button, w.aliceTok, map[string]any{})
	expect(t, "click", r, ok(200))
	var api mattermost.PostActionAPIResponse
	r.json(t, &api)
	if api.Status != "OK" || !mattermost.IsValidID(api.TriggerID) {
		t.Errorf("answer = %+v, want OK and a client trigger id", api)
	}
	bodies := in.take()
	if len(bodies) != 1 {
		t.Fatalf("integration called %d times, want 1", len(bodies))
	}
	got := bodies[0]
	trigger, _ := got["trigger_id"].(string)
	delete(got, "trigger_id")
	want := map[string]any{"user_id": w.alice.ID, "user_name": "alice", "channel_id": w.ops.ID, "channel_name": "ops",
		"team_id": w.team.ID, "team_domain": "testteam", "post_id": p.ID, "type": "button", "data_source": "",
		"context": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("integration request (-want +got):\n%s", diff)
	}
	if raw, err := base64.StdEncoding.DecodeString(trigger); err != nil || !strings.HasPrefix(string(raw), api.TriggerID+":"+w.alice.ID+":") {
		t.Errorf("trigger id %q decodes to %q, want the client id and alice's", trigger, raw)
	}
	np, _ := w.srv.Post(p.ID)
	natts, _ := np.Attachments()
	if np.Message != "approved" || len(natts) != 1 || natts[0].Text != "done" || np.EditAt == 0 ||
		np.Props["from_webhook"] != "true" || np.Props["from_bot"] != nil {
		t.Errorf("updated post = %q %+v props %v, want the update, from_webhook kept, from_bot gone (props replaced)", np.Message, natts, np.Props)
	}
	var names []string
	for _, e := range w.takeEvents() {
		names = append(names, e.name)
		if e.name == "ephemeral_message" {
			var ep mattermost.Post
			_ = json.Unmarshal([]byte(e.data["post"].(string)), &ep)
			if e.userID != w.alice.ID || ep.Message != "see [the log](https://x.example/a)" || ep.RootID != p.ID ||
				ep.UserID != w.alice.ID || ep.Type != mattermost.PostTypeEphemeral {
				t.Errorf("ephemeral = to %s %+v, want alice's, Slack link made markdown, in the post's thread", e.userID, ep)
			}
		}
	}
	if diff := cmp.Diff([]string{"post_edited", "ephemeral_message"}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// A select: selected_option joins the context; no update keeps the post.
	in.answer = func(map[string]any) (int, string) {
		return 200, `{"ephemeral_text":"<kept>","skip_slack_parsing":true}`
	}
	// The update replaced the attachments: env1 is gone with them.
	expect(t, "removed action", w.do(t, "POST", "/posts/"+p.ID+"/actions/env1", w.bobTok, map[string]any{"selected_option": "prod"}),
		answer{404, "api.post.do_action.action_id.app_error"})
	if bodies := in.take(); len(bodies) != 0 {
		t.Errorf("integration called for an action the update removed: %v", bodies)
	}

	p2 := w.actionPost(t, in.URL)
	w.takeEvents()
	expect(t, "select", w.do(t, "POST", "/posts/"+p2.ID+"/actions/env1", w.bobTok, map[string]any{"selected_option": "prod"}), ok(200))
	bodies = in.take()
	if len(bodies) != 1 || bodies[0]["data_source"] != "" || bodies[0]["type"] != "select" ||
		!cmp.Equal(bodies[0]["context"], map[string]any{"selected_option": "prod"}) {
		t.Errorf("select request = %v, want type select and selected_option in the context", bodies)
	}
	for _, e := range w.takeEvents() {
		if e.name != "ephemeral_message" {
			t.Errorf("event %s, want only the ephemeral message", e.name)
			continue
		}
		var ep mattermost.Post
		_ = json.Unmarshal([]byte(e.data["post"].(string)), &ep)
		if ep.Message != "<kept>" || ep.Props["from_webhook"] != "true" {
			t.Errorf("ephemeral = %+v, want the text as is and the retained prop", ep)
		}
	}
	if np, _ := w.srv.Post(p2.ID); np.EditAt != 0 {
		t.Errorf("a click without update edited the post")
	}

	// Failures.
	in.answer = func(map[string]any) (int, string) { return 500, "" }
	expect(t, "integration fails", w.do(t, "POST", "/posts/"+p2.ID+"/actions/env1", w.bobTok, nil), answer{400, "api.post.do_action.action_integration.app_error"})
	in.answer = func(map[string]any) (int, string) { return 200, "not json" }
	expect(t, "integration garbles", w.do(t, "POST", "/posts/"+p2.ID+"/actions/env1", w.bobTok, nil), answer{400, "api.post.do_action.action_integration.app_error"})
	expect(t, "no integration", w.do(t, "POST", "/posts/"+p2.ID+"/actions/plain", w.bobTok, nil), answer{404, "api.post.do_action.action_id.app_error"})
	expect(t, "unknown action", w.do(t, "POST", "/posts/"+p2.ID+"/actions/nope", w.bobTok, nil), answer{404, "api.post.do_action.action_id.app_error"})
	expect(t, "unknown post", w.do(t, "POST", "/posts/"+mattermost.NewID()+"/actions/env1", w.bobTok, nil), answer{403, idPerm})
	expect(t, "no session", w.do(t, "POST", "/posts/"+p2.ID+"/actions/env1", "", nil), answer{401, "api.context.session_expired.app_error"})
	expect(t, "bad post id", w.do(t, "POST", "/posts/x/actions/env1", w.bobTok, nil), answer{400, idURLParam})
	expect(t, "cookie", w.do(t, "POST", "/posts/"+p2.ID+"/actions/env1", w.bobTok, map[string]any{"cookie": "abc"}), answer{400, "api.post.do_action.action_integration.app_error"})
	secret := w.privateChannel(t, "secret", w.bot)
	r = w.do(t, "POST", "/posts", w.botTok, map[string]any{"channel_id": secret.ID, "message": "x",
		"props": map[string]any{"attachments": []map[string]any{{"actions": []map[string]any{{"id": "b1", "type": "button", "name": "B",
			"integration": map[string]any{"url": in.URL}}}}}}})
	var sp mattermost.Post
	r.json(t, &sp)
	expect(t, "not a member", w.do(t, "POST", "/posts/"+sp.ID+"/actions/b1", w.bobTok, nil), answer{403, idPerm})
	if n := len(in.take()); n != 2 {
		t.Errorf("integration called %d times by the failures, want 2 (the failing and the garbling)", n)
	}
}

// TestDialogs follows api4/integration_action.go openDialog and
// submitDialog, app OpenInteractiveDialog and SubmitInteractiveDialog.
func TestDialogs(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	w := newWorld(t, &Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	in := newIntegration(t)
	p := w.actionPost(t, in.URL)
	atts, _ := p.Attachments()
	expect(t, "click", w.do(t, "POST", "/posts/"+p.ID+"/actions/"+atts[0].Actions[0].ID, w.aliceTok, nil), ok(200))
	trigger := in.take()[0]["trigger_id"].(string)
	w.takeEvents()

	dialog := map[string]any{"callback_id": "cb", "title": "Deploy", "state": "st", "elements": []map[string]any{
		{"display_name": "Service", "name": "service", "type": "text"}}}
	expect(t, "no url", w.do(t, "POST", "/actions/dialogs/open", "", map[string]any{"trigger_id": trigger, "dialog": dialog}),
		answer{400, "api.context.invalid_body_param.app_error"})
	expect(t, "bad trigger", w.do(t, "POST", "/actions/dialogs/open", "", map[string]any{"trigger_id": "!!", "url": in.URL, "dialog": dialog}),
		answer{400, "interactive_message.decode_trigger_id.base64_decode_failed"})
	forged := base64.StdEncoding.EncodeToString([]byte("a:" + w.bob.ID + ":1:x"))
	expect(t, "forged trigger", w.do(t, "POST", "/actions/dialogs/open", "", map[string]any{"trigger_id": forged, "url": in.URL, "dialog": dialog}),
		answer{400, "interactive_message.decode_trigger_id.expired"})
	expect(t, "open without a session", w.do(t, "POST", "/actions/dialogs/open", "", map[string]any{"trigger_id": trigger, "url": in.URL, "dialog": dialog}), ok(200))
	evs := w.takeEvents()
	if len(evs) != 1 || evs[0].name != "open_dialog" || evs[0].userID != w.alice.ID {
		t.Fatalf("events = %+v, want open_dialog to alice", evs)
	}
	var od mattermost.OpenDialogRequest
	if err := json.Unmarshal([]byte(evs[0].data["dialog"].(string)), &od); err != nil {
		t.Fatal(err)
	}
	if od.URL != in.URL || od.Dialog.CallbackID != "cb" || od.Dialog.State != "st" || len(od.Dialog.Elements) != 1 ||
		od.TriggerID == trigger || !mattermost.IsValidID(od.TriggerID) {
		t.Errorf("open_dialog = %+v, want the dialog, its URL and the client trigger id", od)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	expect(t, "expired trigger", w.do(t, "POST", "/actions/dialogs/open", "", map[string]any{"trigger_id": trigger, "url": in.URL, "dialog": dialog}),
		answer{400, "interactive_message.decode_trigger_id.expired"})

	// Submit: forwarded with the caller's id, the integration's errors back.
	in.answer = func(map[string]any) (int, string) { return 200, `{"errors":{"service":"no such service"}}` }
	sub := map[string]any{"url": in.URL, "callback_id": "cb", "state": "st", "user_id": w.bob.ID, "channel_id": w.ops.ID,
		"team_id": w.team.ID, "submission": map[string]any{"service": "nope"}}
	r := w.do(t, "POST", "/actions/dialogs/submit", w.aliceTok, sub)
	expect(t, "submit", r, ok(200))
	var sr mattermost.SubmitDialogResponse
	r.json(t, &sr)
	if diff := cmp.Diff(mattermost.SubmitDialogResponse{Errors: map[string]string{"service": "no such service"}}, sr); diff != "" {
		t.Errorf("submit answer (-want +got):\n%s", diff)
	}
	want := map[string]any{"type": "dialog_submission", "callback_id": "cb", "state": "st", "user_id": w.alice.ID,
		"channel_id": w.ops.ID, "team_id": w.team.ID, "submission": map[string]any{"service": "nope"}, "cancelled": false}
	if diff := cmp.Diff([]map[string]any{want}, in.take()); diff != "" {
		t.Errorf("forwarded submission (-want +got):\n%s", diff)
	}
	in.answer = func(map[string]any) (int, string) { return 200, "" }
	r = w.do(t, "POST", "/actions/dialogs/submit", w.aliceTok, sub)
	if expect(t, "empty answer", r, ok(200)); string(r.body) != "{}" {
		t.Errorf("empty answer = %s, want {}", r.body)
	}
	in.answer = func(map[string]any) (int, string) { return 404, "" }
	expect(t, "integration fails", w.do(t, "POST", "/actions/dialogs/submit", w.aliceTok, sub), answer{400, "api.post.do_action.action_integration.app_error"})
	secret := w.privateChannel(t, "secret", w.bob)
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want answer
	}{
		{"no url", func(m map[string]any) { delete(m, "url") }, answer{400, "api.context.invalid_body_param.app_error"}},
		{"unknown channel", func(m map[string]any) { m["channel_id"] = mattermost.NewID() }, answer{404, "app.channel.get.existing.app_error"}},
		{"not a member", func(m map[string]any) { m["channel_id"] = secret.ID }, answer{403, idPerm}},
		{"no team", func(m map[string]any) { m["team_id"] = "" }, answer{403, idPerm}},
	} {
		m := map[string]any{}
		for k, v := range sub {
			m[k] = v
		}
		tc.edit(m)
		expect(t, tc.name, w.do(t, "POST", "/actions/dialogs/submit", w.aliceTok, m), tc.want)
	}
	expect(t, "submit without a session", w.do(t, "POST", "/actions/dialogs/submit", "", sub), answer{401, "api.context.session_expired.app_error"})
}
