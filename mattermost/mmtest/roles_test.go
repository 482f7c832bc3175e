package mmtest

import (
	"slices"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

func TestRolesByNames(t *testing.T) {
	w := newWorld(t, nil)
	tests := []struct {
		name       string
		body       any
		token      string
		wantStatus int
		wantNames  []string
	}{
		{name: "known and unknown", body: []string{"system_user", "nope", "channel_user", " ", "system_user"}, token: w.botTok,
			wantStatus: 200, wantNames: []string{"system_user", "channel_user"}},
		{name: "only unknown", body: []string{"nope"}, token: w.aliceTok, wantStatus: 200, wantNames: []string{}},
		{name: "empty list", body: []string{}, token: w.aliceTok, wantStatus: 400},
		{name: "not a list", body: `{"a":1}`, token: w.aliceTok, wantStatus: 400},
		{name: "invalid name", body: []string{"Team-User"}, token: w.aliceTok, wantStatus: 400},
		{name: "no session", body: []string{"system_user"}, wantStatus: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/roles/names", tc.token, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("POST /roles/names = %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			if tc.wantStatus != 200 {
				return
			}
			var roles []mattermost.Role
			r.json(t, &roles)
			names := []string{}
			for _, role := range roles {
				names = append(names, role.Name)
				if len(role.ID) != 26 || !role.BuiltIn || role.CreateAt == 0 {
					t.Errorf("role %+v: want an id, built_in and create_at", role)
				}
			}
			if !slices.Equal(names, tc.wantNames) {
				t.Errorf("role names = %q, want %q", names, tc.wantNames)
			}
		})
	}
}

// TestDefaultRolePermissions pins what the fake's role table says to what
// the fake enforces, and both to the defaults of the server.
func TestDefaultRolePermissions(t *testing.T) {
	w := newWorld(t, nil)
	c, err := w.srv.Client(w.botTok)
	if err != nil {
		t.Fatal(err)
	}
	roles, _, err := c.RolesByNames(t.Context(), []string{"system_user", "system_admin", "team_user", "team_admin", "channel_user"})
	if err != nil {
		t.Fatal(err)
	}
	can := map[string]map[string]bool{}
	for _, r := range roles {
		can[r.Name] = map[string]bool{}
		for _, p := range r.Permissions {
			can[r.Name][p] = true
		}
	}
	// The server's display names are translation ids (model/role.go).
	wantNames := map[string]string{
		"system_user":  "authentication.roles.global_user.name",
		"system_admin": "authentication.roles.global_admin.name",
		"team_user":    "authentication.roles.team_user.name",
		"team_admin":   "authentication.roles.team_admin.name",
		"channel_user": "authentication.roles.channel_user.name",
	}
	for _, r := range roles {
		if want := wantNames[r.Name]; r.DisplayName != want {
			t.Errorf("%s: display_name %q, want %q", r.Name, r.DisplayName, want)
		}
	}
	for _, tc := range []struct {
		role, perm string
		want       bool
	}{
		{"channel_user", "create_post", true},
		{"team_user", "join_public_channels", true},
		{"team_admin", "manage_incoming_webhooks", true},
		{"system_admin", "create_post_ephemeral", true},
		{"system_admin", "create_post", true},
		{"system_admin", "manage_incoming_webhooks", true},
		{"system_user", "create_post_ephemeral", false},
		{"system_user", "create_post", false},
		{"team_user", "manage_incoming_webhooks", false},
	} {
		if got := can[tc.role][tc.perm]; got != tc.want {
			t.Errorf("%s has %s: %v, want %v", tc.role, tc.perm, got, tc.want)
		}
	}
}

func TestSetRolePermissions(t *testing.T) {
	w := newWorld(t, nil)
	post := map[string]any{"channel_id": w.ops.ID, "message": "hi"}
	ephemeral := map[string]any{"user_id": w.alice.ID, "post": post}
	hook := map[string]any{"channel_id": w.ops.ID}

	// Read-only channels: members lose create_post; admins keep it.
	if err := w.srv.SetRolePermissions("channel_user", "read_channel"); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/posts", w.botTok, post); r.status != 403 {
		t.Errorf("member post without create_post = %d %s, want 403", r.status, r.body)
	}
	if r := w.do(t, "POST", "/posts", w.rootTok, post); r.status != 201 {
		t.Errorf("admin post = %d %s, want 201", r.status, r.body)
	}
	var roles []mattermost.Role
	w.do(t, "POST", "/roles/names", w.botTok, []string{"channel_user"}).json(t, &roles)
	if len(roles) != 1 || !slices.Equal(roles[0].Permissions, []string{"read_channel"}) {
		t.Errorf("channel_user after SetRolePermissions = %+v", roles)
	}

	// Ephemeral posts for every user, hooks for team members.
	if r := w.do(t, "POST", "/posts/ephemeral", w.botTok, ephemeral); r.status != 403 {
		t.Fatalf("bot ephemeral before = %d, want 403", r.status)
	}
	if r := w.do(t, "POST", "/hooks/incoming", w.aliceTok, hook); r.status != 403 {
		t.Fatalf("alice hook before = %d, want 403", r.status)
	}
	if err := w.srv.SetRolePermissions("system_user", "create_post_ephemeral"); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.SetRolePermissions("team_user", "manage_incoming_webhooks"); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/posts/ephemeral", w.botTok, ephemeral); r.status != 201 {
		t.Errorf("bot ephemeral with the permission = %d %s, want 201", r.status, r.body)
	}
	if r := w.do(t, "POST", "/hooks/incoming", w.aliceTok, hook); r.status != 201 {
		t.Errorf("alice hook with the permission = %d %s, want 201", r.status, r.body)
	}

	// team_user without join_public_channels: no joining.
	town, err := w.srv.AddChannel(w.team.ID, "town", "Town", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/channels/"+town.ID+"/members", w.bobTok, map[string]string{"user_id": w.bob.ID}); r.status != 403 {
		t.Errorf("join without join_public_channels = %d %s, want 403", r.status, r.body)
	}

	// Posting in a public channel not joined takes create_post_public,
	// which team_user lacks by default.
	townPost := map[string]any{"channel_id": town.ID, "message": "hi"}
	if r := w.do(t, "POST", "/posts", w.bobTok, townPost); r.status != 403 {
		t.Errorf("post in a channel not joined = %d %s, want 403", r.status, r.body)
	}
	if err := w.srv.SetRolePermissions("team_user", "create_post_public"); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "POST", "/posts", w.bobTok, townPost); r.status != 201 {
		t.Errorf("post in a channel not joined with create_post_public = %d %s, want 201", r.status, r.body)
	}

	if err := w.srv.SetRolePermissions("no_such_role"); err == nil {
		t.Error("SetRolePermissions of an unknown role succeeded")
	}
}

// TestCreateHookPermissions: incoming webhooks take
// manage_incoming_webhooks on the channel's team, not on the channel,
// and read access to a channel that is not public (api4/webhook.go
// createIncomingHook); a direct channel has no team, an unknown one is
// not found.
func TestCreateHookPermissions(t *testing.T) {
	w := newWorld(t, nil)
	secret, err := w.srv.AddChannel(w.team.ID, "secret", "Secret", mattermost.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := w.srv.DirectChannel(w.root.ID, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	hook := func(tok string, ch *mattermost.Channel) int {
		t.Helper()
		return w.do(t, "POST", "/hooks/incoming", tok, map[string]any{"channel_id": ch.ID}).status
	}

	if got := hook(w.rootTok, &mattermost.Channel{ID: mattermost.NewID()}); got != 404 {
		t.Errorf("hook in an unknown channel = %d, want 404", got)
	}
	if got := hook(w.rootTok, dm); got != 403 {
		t.Errorf("admin's hook in a direct channel = %d, want 403", got)
	}
	if got := hook(w.rootTok, secret); got != 201 {
		t.Errorf("admin's hook in a private channel = %d, want 201", got)
	}
	// Channel roles do not count.
	if err := w.srv.SetRolePermissions("channel_user", "read_channel", "create_post", "manage_incoming_webhooks"); err != nil {
		t.Fatal(err)
	}
	if got := hook(w.aliceTok, w.ops); got != 403 {
		t.Errorf("hook with the permission on the channel only = %d, want 403", got)
	}
	if err := w.srv.SetRolePermissions("team_user", "manage_incoming_webhooks"); err != nil {
		t.Fatal(err)
	}
	if got := hook(w.aliceTok, secret); got != 403 {
		t.Errorf("hook in a private channel alice cannot read = %d, want 403", got)
	}
	if err := w.srv.AddChannelMember(secret.ID, w.alice.ID); err != nil {
		t.Fatal(err)
	}
	if got := hook(w.aliceTok, secret); got != 201 {
		t.Errorf("hook in a private channel alice is in = %d, want 201", got)
	}
}
