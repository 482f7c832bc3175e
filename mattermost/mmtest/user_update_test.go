package mmtest

import (
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// TestUpdateUser follows api4/user.go updateUser (the Go sample bot's
// client.UpdateUser): the whole profile replaced, the checks, the
// permissions.
func TestUpdateUser(t *testing.T) {
	w := newWorld(t, nil)
	var me mattermost.User
	w.do(t, "GET", "/users/me", w.aliceTok, nil).json(t, &me)
	me.FirstName, me.LastName, me.Nickname = "Alice", "Liddell", ""
	r := w.do(t, "PUT", "/users/"+me.ID, w.aliceTok, me)
	expect(t, "update oneself", r, ok(200))
	var got mattermost.User
	r.json(t, &got)
	if got.FirstName != "Alice" || got.LastName != "Liddell" || got.Roles != "system_user" || got.Email != me.Email {
		t.Errorf("updated = %+v", got)
	}
	var updated bool
	for _, e := range w.takeEvents() {
		updated = updated || e.name == "user_updated"
	}
	if !updated {
		t.Error("no user_updated event")
	}

	withRoles := me
	withRoles.Roles = "system_admin system_user"
	w.do(t, "PUT", "/users/me", w.aliceTok, withRoles).json(t, &got)
	if got.Roles != "system_user" {
		t.Errorf("roles after a PUT = %q, want them unchanged", got.Roles)
	}
	newMail := me
	newMail.Email = "alice@new.example"
	expect(t, "own e-mail without password", w.do(t, "PUT", "/users/me", w.aliceTok, newMail), answer{400, idBodyParm})
	withPassword := map[string]any{"id": me.ID, "username": "alice", "email": "alice@new.example", "password": "alice-pw"}
	expect(t, "own e-mail with password", w.do(t, "PUT", "/users/me", w.aliceTok, withPassword), ok(200))

	var root mattermost.User
	w.do(t, "GET", "/users/"+w.root.ID, w.rootTok, nil).json(t, &root)
	bob := map[string]any{"id": w.bob.ID, "username": "bob", "email": "bob@example.com"}
	for _, tc := range []struct {
		name, path, token string
		body              any
		want              answer
	}{
		{"id mismatch", "/users/" + w.bob.ID, w.aliceTok, map[string]any{"id": me.ID}, answer{400, idBodyParm}},
		{"another user", "/users/" + w.bob.ID, w.aliceTok, bob, answer{403, idPerm}},
		{"another user as an admin", "/users/" + w.bob.ID, w.rootTok, bob, ok(200)},
		{"taken username", "/users/" + w.bob.ID, w.rootTok, map[string]any{"id": w.bob.ID, "username": "root", "email": "bob@example.com"}, answer{400, "app.user.save.username_exists.app_error"}},
		{"taken e-mail", "/users/" + w.bob.ID, w.rootTok, map[string]any{"id": w.bob.ID, "username": "bob", "email": "root@example.com"}, answer{400, "app.user.save.email_exists.app_error"}},
		{"no e-mail", "/users/" + w.bob.ID, w.rootTok, map[string]any{"id": w.bob.ID, "username": "bob"}, answer{400, "model.user.is_valid.email.app_error"}},
		{"a bot, by an admin", "/users/" + w.bot.ID, w.rootTok, map[string]any{"id": w.bot.ID, "username": "ops-bot", "email": "ops-bot@localhost", "first_name": "Ops"}, ok(200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "PUT "+tc.path, w.do(t, "PUT", tc.path, tc.token, tc.body), tc.want)
		})
	}
}
