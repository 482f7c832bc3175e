package mmtest

import (
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

func TestPatchUser(t *testing.T) {
	tests := []struct {
		name     string
		token    func(w *world) string
		target   func(w *world) string
		body     any
		status   int
		errID    string
		username string // want, on success
	}{
		{name: "self", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return "me" },
			body: map[string]string{"username": "Alice2"}, status: 200, username: "alice2"},
		{name: "admin renames another", token: func(w *world) string { return w.rootTok }, target: func(w *world) string { return w.bob.ID },
			body: map[string]string{"username": "bobby"}, status: 200, username: "bobby"},
		{name: "admin renames itself", token: func(w *world) string { return w.rootTok }, target: func(w *world) string { return w.root.ID },
			body: map[string]string{"username": "boss"}, status: 200, username: "boss"},
		{name: "user renames another", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return w.bob.ID },
			body: map[string]string{"username": "bobby"}, status: 403, errID: "api.context.permissions.app_error"},
		{name: "user renames an admin", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return w.root.ID },
			body: map[string]string{"username": "x-root"}, status: 403, errID: "api.context.permissions.app_error"},
		{name: "username taken", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return "me" },
			body: map[string]string{"username": "bob"}, status: 400, errID: "app.user.save.username_exists.app_error"},
		{name: "username invalid", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return "me" },
			body: map[string]string{"username": "no spaces"}, status: 400, errID: "model.user.is_valid.username.app_error"},
		{name: "body not an object", token: func(w *world) string { return w.aliceTok }, target: func(w *world) string { return "me" },
			body: []string{"x"}, status: 400, errID: "api.context.invalid_body_param.app_error"},
		{name: "bad user id", token: func(w *world) string { return w.rootTok }, target: func(w *world) string { return "nope" },
			body: map[string]string{"username": "x"}, status: 400, errID: "api.context.invalid_url_param.app_error"},
		{name: "unknown user", token: func(w *world) string { return w.rootTok }, target: func(w *world) string { return mattermost.NewID() },
			body: map[string]string{"username": "x"}, status: 400, errID: "api.context.invalid_body_param.app_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			r := w.do(t, "PUT", "/users/"+tc.target(w)+"/patch", tc.token(w), tc.body)
			if r.status != tc.status {
				t.Fatalf("PUT patch = %d %s, want %d", r.status, r.body, tc.status)
			}
			evs := w.takeEvents()
			if tc.status != 200 {
				if got := errID(t, r); got != tc.errID {
					t.Errorf("error id = %q, want %q", got, tc.errID)
				}
				if len(evs) != 0 {
					t.Errorf("failed patch published %d events, want none", len(evs))
				}
				return
			}
			var u mattermost.User
			r.json(t, &u)
			if u.Username != tc.username {
				t.Errorf("patched username = %q, want %q", u.Username, tc.username)
			}
			if got, ok := w.srv.User(tc.username); !ok || got.ID != u.ID {
				t.Errorf("User(%q) = %v, %v; want the patched user", tc.username, got, ok)
			}
			// Sanitized to everyone but the owner; whole to the owner.
			if len(evs) != 2 {
				t.Fatalf("published %d events, want 2 user_updated", len(evs))
			}
			others, owner := evs[0], evs[1]
			ou, _ := others.data["user"].(mattermost.User)
			wu, _ := owner.data["user"].(mattermost.User)
			if others.name != "user_updated" || others.userID != "" || !others.omitUsers[u.ID] || ou.Username != tc.username || ou.NotifyProps != nil {
				t.Errorf("broadcast event = %+v, want sanitized user_updated to all but %s", others, u.ID)
			}
			if owner.name != "user_updated" || owner.userID != u.ID || wu.Username != tc.username || wu.NotifyProps == nil {
				t.Errorf("owner event = %+v, want the whole user to %s", owner, u.ID)
			}
		})
	}
}

func TestRenameUserBackDoor(t *testing.T) {
	w := newWorld(t, nil)
	u, err := w.srv.RenameUser(w.root.ID, "chief")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != w.root.ID || u.Username != "chief" || u.Roles != w.root.Roles {
		t.Errorf("RenameUser = %+v, want root renamed chief with its roles", u)
	}
	if _, ok := w.srv.User("root"); ok {
		t.Error("old username still resolves")
	}
	if evs := w.takeEvents(); len(evs) != 2 || evs[0].name != "user_updated" {
		t.Errorf("events = %+v, want two user_updated", evs)
	}
	// The session still works under the new name.
	if r := w.do(t, "GET", "/users/username/chief", w.rootTok, nil); r.status != 200 {
		t.Errorf("GET by new name = %d %s", r.status, r.body)
	}
	if _, err := w.srv.RenameUser(w.root.ID, "alice"); err == nil {
		t.Error("RenameUser to a taken name succeeded")
	}
	if _, err := w.srv.RenameUser(mattermost.NewID(), "x"); err == nil {
		t.Error("RenameUser of an unknown user succeeded")
	}
}

func TestSetSystemAdmin(t *testing.T) {
	w := newWorld(t, nil)
	body := map[string]any{"user_id": w.alice.ID, "post": map[string]string{"channel_id": w.ops.ID, "message": "psst"}}
	if r := w.do(t, "POST", "/posts/ephemeral", w.botTok, body); r.status != 403 {
		t.Fatalf("bot ephemeral before = %d, want 403", r.status)
	}
	if err := w.srv.SetSystemAdmin(w.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/posts/ephemeral", w.botTok, body); r.status != 201 {
		t.Errorf("bot ephemeral as admin = %d %s, want 201", r.status, r.body)
	}
	if err := w.srv.SetSystemAdmin(w.bot.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/posts/ephemeral", w.botTok, body); r.status != 403 {
		t.Errorf("bot ephemeral after = %d, want 403", r.status)
	}
	if err := w.srv.SetSystemAdmin(mattermost.NewID(), true); err == nil {
		t.Error("SetSystemAdmin of an unknown user succeeded")
	}
}
