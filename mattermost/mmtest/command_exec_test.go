package mmtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// commandEndpoint is a command's URL for tests: it hands each request to
// the test and answers what the test sends back.
type commandEndpoint struct {
	reqs    chan *http.Request // with the form parsed
	answers chan func(http.ResponseWriter)
	srv     *httptest.Server
}

func newCommandEndpoint(t *testing.T) *commandEndpoint {
	ce := &commandEndpoint{reqs: make(chan *http.Request, 1), answers: make(chan func(http.ResponseWriter), 1)}
	ce.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		ce.reqs <- r
		(<-ce.answers)(w)
	}))
	t.Cleanup(ce.srv.Close)
	return ce
}

// answer queues the answer to the next request.
func (ce *commandEndpoint) answer(status int, contentType, body string) {
	ce.answers <- func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// TestExecuteCustomCommand follows app/command.go
// tryExecuteCustomCommand, DoCommandRequest, HandleCommandResponse and
// HandleCommandResponsePost: the fake calls the command's URL with the
// server's form and headers and applies the answer as the caller's
// posts, from_webhook.
func TestExecuteCustomCommand(t *testing.T) {
	w := newWorld(t, nil)
	ce := newCommandEndpoint(t)
	var c command
	r := w.do(t, "POST", "/commands", w.rootTok, map[string]any{"team_id": w.team.ID, "trigger": "ops", "url": ce.srv.URL + "/slash?x=1", "method": "P"})
	expect(t, "create", r, ok(201))
	r.json(t, &c)

	ce.answer(200, "application/json", `{"response_type":"in_channel","text":"deployed","props":{"k":"v"},
		"extra_responses":[{"text":"only you see this"}],"goto_location":"https://example.com/x"}`)
	w.takeEvents()
	r = w.do(t, "POST", "/commands/execute", w.aliceTok, map[string]string{"channel_id": w.ops.ID, "command": "/OPS deploy @bob ~" + w.ops.Name})
	expect(t, "execute", r, ok(200))
	req := <-ce.reqs
	if req.Method != "POST" || req.URL.Path != "/slash" || req.URL.RawQuery != "x=1" {
		t.Errorf("request = %s %s", req.Method, req.URL)
	}
	for h, want := range map[string]string{"Authorization": "Token " + c.Token, "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	f := req.PostForm
	want := url.Values{
		"token": {c.Token}, "team_id": {w.team.ID}, "team_domain": {w.team.Name}, "channel_id": {w.ops.ID},
		"channel_name": {w.ops.Name}, "user_id": {w.alice.ID}, "user_name": {w.alice.Username},
		"command": {"/ops"}, "text": {"deploy @bob ~" + w.ops.Name}, "root_id": {""},
		"user_mentions": {"bob"}, "user_mentions_ids": {w.bob.ID},
		"channel_mentions": {w.ops.Name}, "channel_mentions_ids": {w.ops.ID},
		"trigger_id": f["trigger_id"], "response_url": f["response_url"],
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(f.Get("response_url"), w.srv.URL()+"/hooks/commands/") || f.Get("trigger_id") == "" {
		t.Errorf("response_url %q, trigger_id %q", f.Get("response_url"), f.Get("trigger_id"))
	}
	var resp commandResponse
	r.json(t, &resp)
	if resp.Text != "deployed" || resp.GotoLocation != "https://example.com/x" || !mattermost.IsValidID(resp.TriggerID) {
		t.Errorf("execute answered %+v, want the response with the client's trigger id", resp)
	}
	posts := w.srv.Posts(w.ops.ID)
	last := posts[len(posts)-1]
	if last.UserID != w.alice.ID || last.Message != "deployed" || last.Props["from_webhook"] != "true" || last.Props["k"] != "v" {
		t.Errorf("in_channel post = %+v, want alice's, from_webhook, with the props", last)
	}
	var ephemeral string
	for _, e := range w.takeEvents() {
		if e.name == "ephemeral_message" && e.userID == w.alice.ID {
			ephemeral, _ = e.data["post"].(string)
		}
	}
	if !strings.Contains(ephemeral, "only you see this") {
		t.Errorf("extra response: ephemeral post %q", ephemeral)
	}

	// Later answers through the response_url, as plain text or JSON.
	hook := strings.TrimPrefix(f.Get("response_url"), w.srv.URL())
	expect(t, "response_url, JSON", w.do(t, "POST", hook, "", map[string]string{"response_type": "in_channel", "text": "done"}), ok(200))
	posts = w.srv.Posts(w.ops.ID)
	if last := posts[len(posts)-1]; last.Message != "done" || last.UserID != w.alice.ID {
		t.Errorf("response_url post = %+v", last)
	}
	for range 4 {
		w.do(t, "POST", hook, "", map[string]string{"text": "more"})
	}
	expect(t, "response_url, sixth use", w.do(t, "POST", hook, "", map[string]string{"text": "more"}), answer{400, "app.command_webhook.try_use.invalid"})
	expect(t, "unknown response_url", w.do(t, "POST", "/hooks/commands/"+mattermost.NewID(), "", map[string]string{"text": "x"}), answer{404, "app.command_webhook.get.missing"})

	for _, tc := range []struct {
		name              string
		status            int
		contentType, body string
		want              answer
		text              string
	}{
		{"plain text", 200, "text/plain", "hello", ok(200), "hello"},
		{"error status", 503, "text/plain", "down", answer{500, "api.command.execute_command.failed_resp.app_error"}, ""},
		{"bad JSON", 200, "application/json", "{", answer{500, "api.command.execute_command.failed.app_error"}, ""},
		{"null", 200, "application/json", "null", answer{500, "api.command.execute_command.failed_empty.app_error"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ce.answer(tc.status, tc.contentType, tc.body)
			r := w.do(t, "POST", "/commands/execute", w.aliceTok, map[string]string{"channel_id": w.ops.ID, "command": "/ops"})
			<-ce.reqs
			expect(t, "execute", r, tc.want)
			if tc.text != "" {
				var resp commandResponse
				r.json(t, &resp)
				if resp.Text != tc.text || resp.ResponseType != "" {
					t.Errorf("response = %+v, want text %q", resp, tc.text)
				}
			}
		})
	}

	// A GET command gets the form in its query.
	c.Method = "G"
	expect(t, "update to GET", w.do(t, "PUT", "/commands/"+c.ID, w.rootTok, c), ok(200))
	ce.answer(200, "application/json", `{"text":"got"}`)
	expect(t, "execute GET", w.do(t, "POST", "/commands/execute", w.aliceTok, map[string]string{"channel_id": w.ops.ID, "command": "/ops a b"}), ok(200))
	req = <-ce.reqs
	if q := req.URL.Query(); req.Method != "GET" || q.Get("x") != "1" || q.Get("text") != "a b" || q.Get("token") != c.Token {
		t.Errorf("GET request = %s %s", req.Method, req.URL)
	}
}

// TestUpdateCommand follows api4/command.go updateCommand and app
// UpdateCommand.
func TestUpdateCommand(t *testing.T) {
	w := newWorld(t, nil)
	var c, other command
	w.do(t, "POST", "/commands", w.rootTok, map[string]any{"team_id": w.team.ID, "trigger": "ops", "url": "http://127.0.0.1:9/a", "method": "P"}).json(t, &c)
	w.do(t, "POST", "/commands", w.rootTok, map[string]any{"team_id": w.team.ID, "trigger": "other", "url": "http://127.0.0.1:9/b", "method": "P"}).json(t, &other)

	upd := c
	upd.Trigger, upd.URL, upd.AutoComplete, upd.AutoCompleteHint, upd.Token, upd.CreatorID = "OPS2", "http://127.0.0.1:9/new", true, "[command]", "forged", w.alice.ID
	r := w.do(t, "PUT", "/commands/"+c.ID, w.rootTok, upd)
	expect(t, "update", r, ok(200))
	var got command
	r.json(t, &got)
	if got.Trigger != "ops2" || got.URL != "http://127.0.0.1:9/new" || !got.AutoComplete || got.Token != c.Token || got.CreatorID != w.root.ID || got.UpdateAt < c.UpdateAt {
		t.Errorf("updated = %+v, want the new trigger and URL, the old token and creator", got)
	}
	mismatch := upd
	mismatch.TeamID = mattermost.NewID()
	dup := upd
	dup.Trigger = "other"
	builtin := upd
	builtin.Trigger = "shrug"
	for _, tc := range []struct {
		name, path, token string
		body              any
		want              answer
	}{
		{"id mismatch", "/commands/" + other.ID, w.rootTok, upd, answer{400, idBodyParm}},
		{"unknown", "/commands/" + mattermost.NewID(), w.rootTok, map[string]any{"id": "x"}, answer{400, idBodyParm}},
		{"team mismatch", "/commands/" + c.ID, w.rootTok, mismatch, answer{400, "api.command.team_mismatch.app_error"}},
		{"a user", "/commands/" + c.ID, w.aliceTok, upd, answer{404, "store.sql_command.save.get.app_error"}},
		{"taken trigger", "/commands/" + c.ID, w.rootTok, dup, answer{400, "api.command.duplicate_trigger.app_error"}},
		{"built-in trigger", "/commands/" + c.ID, w.rootTok, builtin, answer{400, "api.command.duplicate_trigger.app_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "PUT", w.do(t, "PUT", tc.path, tc.token, tc.body), tc.want)
		})
	}
}

// TestCommandHookLifetime: a response_url is found while its CreateAt >
// now - model.CommandWebhookLifetime (store CommandWebhook().Get): it
// takes an answer a millisecond before its 30 minutes, and at 30
// minutes it is a 404 app.command_webhook.get.missing.
func TestCommandHookLifetime(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Unix(1_800_000_000, 0)
	)
	w := newWorld(t, &Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	setNow := func(ms int64) { mu.Lock(); now = time.UnixMilli(ms); mu.Unlock() }
	ce := newCommandEndpoint(t)
	expect(t, "create", w.do(t, "POST", "/commands", w.rootTok, map[string]any{"team_id": w.team.ID, "trigger": "ops", "url": ce.srv.URL, "method": "P"}), ok(201))
	// run runs /ops and returns its response_url's path and creation
	// time (the fake's clock only moves forward, a millisecond per
	// stamp while it stands still: each check gets a run of its own).
	run := func() (string, int64) {
		ce.answer(200, "application/json", `{}`)
		expect(t, "execute", w.do(t, "POST", "/commands/execute", w.aliceTok, map[string]string{"channel_id": w.ops.ID, "command": "/ops"}), ok(200))
		hook := strings.TrimPrefix((<-ce.reqs).PostForm.Get("response_url"), w.srv.URL())
		w.srv.mu.Lock()
		defer w.srv.mu.Unlock()
		return hook, w.srv.st.cmdHooks[strings.TrimPrefix(hook, "/hooks/commands/")].createAt
	}
	hook, created := run()
	setNow(created + commandHookLifetime - 1)
	expect(t, "a millisecond before 30 minutes", w.do(t, "POST", hook, "", map[string]string{"text": "in time"}), ok(200))
	hook, created = run()
	setNow(created + commandHookLifetime)
	expect(t, "at 30 minutes", w.do(t, "POST", hook, "", map[string]string{"text": "too late"}), answer{404, "app.command_webhook.get.missing"})
}
