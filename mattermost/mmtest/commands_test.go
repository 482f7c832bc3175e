package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestCommands follows api4/command.go createCommand, listCommands,
// getCommand and deleteCommand with app CreateCommand and
// ListAllCommands / ListAutocompleteCommands.
func TestCommands(t *testing.T) {
	w := newWorld(t, nil)
	cmd := map[string]any{"team_id": w.team.ID, "trigger": "Deploy", "url": "http://127.0.0.1:9/deploy", "method": "P",
		"auto_complete": true, "auto_complete_desc": "ship it"}
	expect(t, "create as a user", w.do(t, "POST", "/commands", w.aliceTok, cmd), answer{403, idPerm})
	r := w.do(t, "POST", "/commands", w.rootTok, cmd)
	expect(t, "create as an admin", r, ok(201))
	var c command
	r.json(t, &c)
	if c.Trigger != "deploy" || c.CreatorID != w.root.ID || !mattermost.IsValidID(c.ID) || len(c.Token) != 26 || c.CreateAt == 0 {
		t.Errorf("created = %+v, want trigger deploy by root with an id and a token", c)
	}
	hidden := map[string]any{"team_id": w.team.ID, "trigger": "hidden", "url": "https://example.com/h", "method": "G"}
	expect(t, "create a second", w.do(t, "POST", "/commands", w.rootTok, hidden), ok(201))
	for _, tc := range []struct {
		name string
		body map[string]any
		want answer
	}{
		{"taken trigger", map[string]any{"team_id": w.team.ID, "trigger": "deploy", "url": "http://x.example/", "method": "P"}, answer{400, "api.command.duplicate_trigger.app_error"}},
		{"built-in trigger", map[string]any{"team_id": w.team.ID, "trigger": "away", "url": "http://x.example/", "method": "P"}, answer{400, "api.command.duplicate_trigger.app_error"}},
		{"no URL", map[string]any{"team_id": w.team.ID, "trigger": "x", "method": "P"}, answer{400, "model.command.is_valid.url.app_error"}},
		{"not HTTP", map[string]any{"team_id": w.team.ID, "trigger": "x", "url": "ftp://x.example/", "method": "P"}, answer{400, "model.command.is_valid.url_http.app_error"}},
		{"bad method", map[string]any{"team_id": w.team.ID, "trigger": "x", "url": "http://x.example/", "method": "PUT"}, answer{400, "model.command.is_valid.method.app_error"}},
		{"slash in trigger", map[string]any{"team_id": w.team.ID, "trigger": "/x", "url": "http://x.example/", "method": "P"}, answer{400, "model.command.is_valid.trigger.app_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "POST /commands", w.do(t, "POST", "/commands", w.rootTok, tc.body), tc.want)
		})
	}

	triggers := func(t *testing.T, path, token string) ([]string, []command) {
		t.Helper()
		r := w.do(t, "GET", path, token, nil)
		expect(t, path, r, ok(200))
		var cs []command
		r.json(t, &cs)
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Trigger)
		}
		return out, cs
	}
	builtins := []string{"away", "dnd", "me", "offline", "online", "shrug"}
	got, _ := triggers(t, "/commands?team_id="+w.team.ID, w.aliceTok)
	if diff := cmp.Diff(append(builtins, "deploy"), got); diff != "" {
		t.Errorf("a user's list: built-ins and autocomplete commands (-want +got):\n%s", diff)
	}
	got, cs := triggers(t, "/commands?team_id="+w.team.ID, w.rootTok)
	if diff := cmp.Diff(append(builtins, "deploy", "hidden"), got); diff != "" {
		t.Errorf("an admin's list (-want +got):\n%s", diff)
	}
	if last := cs[len(cs)-1]; last.Token != "" || last.URL != "" || last.CreatorID != "" {
		t.Errorf("listed command %+v is not sanitized", last)
	}
	_, cs = triggers(t, "/commands?team_id="+w.team.ID+"&custom_only=true", w.rootTok)
	if len(cs) != 2 || cs[0].URL == "" {
		t.Errorf("custom_only = %+v, want the two commands whole", cs)
	}
	expect(t, "custom_only as a user", w.do(t, "GET", "/commands?team_id="+w.team.ID+"&custom_only=true", w.aliceTok, nil), answer{403, idPerm})
	expect(t, "list without team", w.do(t, "GET", "/commands", w.aliceTok, nil), answer{400, idBodyParm})

	expect(t, "get as its creator", w.do(t, "GET", "/commands/"+c.ID, w.rootTok, nil), ok(200))
	expect(t, "get as a user", w.do(t, "GET", "/commands/"+c.ID, w.aliceTok, nil), answer{404, "store.sql_command.save.get.app_error"})
	expect(t, "delete as a user", w.do(t, "DELETE", "/commands/"+c.ID, w.aliceTok, nil), answer{404, "store.sql_command.save.get.app_error"})
	expect(t, "delete", w.do(t, "DELETE", "/commands/"+c.ID, w.rootTok, nil), ok(200))
	expect(t, "get deleted", w.do(t, "GET", "/commands/"+c.ID, w.rootTok, nil), answer{404, "store.sql_command.save.get.app_error"})
}

// TestExecuteCommand follows api4/command.go executeCommand and app
// ExecuteCommand: built-ins run, a custom command fails as an unreachable
// URL does, others are not found.
func TestExecuteCommand(t *testing.T) {
	w := newWorld(t, nil)
	cmd := map[string]any{"team_id": w.team.ID, "trigger": "deploy", "url": "http://127.0.0.1:9/deploy", "method": "P"}
	if r := w.do(t, "POST", "/commands", w.rootTok, cmd); r.status != 201 {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	exec := func(token, channelID, command string) result {
		return w.do(t, "POST", "/commands/execute", token, map[string]string{"channel_id": channelID, "command": command})
	}

	r := exec(w.aliceTok, w.ops.ID, "/me waves")
	expect(t, "/me", r, ok(200))
	var resp commandResponse
	r.json(t, &resp)
	if resp.ResponseType != "in_channel" || resp.Text != "*waves*" || resp.Type != "me" {
		t.Errorf("/me response = %+v", resp)
	}
	posts := w.srv.Posts(w.ops.ID)
	if last := posts[len(posts)-1]; last.UserID != w.alice.ID || last.Type != "me" || last.Message != "*waves*" {
		t.Errorf("/me post = %+v", last)
	}
	r = exec(w.aliceTok, w.ops.ID, "/shrug ok")
	r.json(t, &resp)
	if resp.Text != `ok ¯\\\_(ツ)\_/¯` {
		t.Errorf("/shrug text = %q", resp.Text)
	}

	w.takeEvents()
	r = exec(w.aliceTok, w.ops.ID, "/AWAY")
	expect(t, "/away", r, ok(200))
	r.json(t, &resp)
	if resp.ResponseType != "ephemeral" || resp.Text != "You are now away" {
		t.Errorf("/away response = %+v", resp)
	}
	var st mattermost.Status
	w.do(t, "GET", "/users/me/status", w.aliceTok, nil).json(t, &st)
	if st.Status != mattermost.StatusAway || !st.Manual {
		t.Errorf("status after /away = %+v, want away, manual", st)
	}
	var ephemeral bool
	for _, e := range w.takeEvents() {
		ephemeral = ephemeral || e.name == "ephemeral_message" && e.userID == w.alice.ID
	}
	if !ephemeral {
		t.Error("/away sent no ephemeral_message to alice")
	}

	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	secret := w.privateChannel(t, "secret", w.bob)
	for _, tc := range []struct {
		name, channel, command string
		want                   answer
	}{
		{"custom command", w.ops.ID, "/deploy now", answer{500, "api.command.execute_command.failed.app_error"}},
		{"unknown", w.ops.ID, "/nope", answer{404, "api.command.execute_command.not_found.app_error"}},
		{"no slash", w.ops.ID, "away", answer{400, "api.command.execute_command.start.app_error"}},
		{"bad channel", "x", "/away", answer{400, "api.command.execute_command.start.app_error"}},
		{"a channel not joined", secret.ID, "/away", answer{403, idPerm}},
		{"a DM without team", dm.ID, "/away", answer{403, idPerm}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.command, exec(w.aliceTok, tc.channel, tc.command), tc.want)
		})
	}
	r = w.do(t, "POST", "/commands/execute", w.aliceTok, map[string]string{"channel_id": dm.ID, "team_id": w.team.ID, "command": "/online"})
	expect(t, "a DM with the caller's team", r, ok(200))
	var e mattermost.APIError
	exec(w.aliceTok, w.ops.ID, "/deploy").json(t, &e)
	if e.Message != "Command with a trigger of 'deploy' failed." {
		t.Errorf("message = %q, want the trigger named", e.Message)
	}
}
