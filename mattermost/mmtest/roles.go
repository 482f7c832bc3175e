package mmtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// Permissions the fake checks through the role table, named as the server
// names them (server/public/model/permission.go).
const (
	permCreatePost          = "create_post"
	permCreatePostPublic    = "create_post_public"
	permCreatePostEphemeral = "create_post_ephemeral"
	permManageIncomingHooks = "manage_incoming_webhooks"
	permJoinPublicChannels  = "join_public_channels"
)

// defaultPermissions are the permissions of the built-in roles a fresh
// server has, after model/role.go MakeDefaultRoles and the permission
// migrations of the 5.x releases (app/permissions_migrations.go), abridged
// to the permissions of what the fake serves. system_admin holds every
// permission the others do, and the system-wide ones.
func defaultPermissions() map[string][]string {
	channelUser := []string{
		"read_channel", "add_reaction", "remove_reaction", "manage_public_channel_members",
		"upload_file", "get_public_link", permCreatePost, "use_channel_mentions", "use_slash_commands",
		"manage_public_channel_properties", "delete_public_channel", "manage_private_channel_properties",
		"delete_private_channel", "manage_private_channel_members", "delete_post", "edit_post",
	}
	channelAdmin := []string{"manage_channel_roles", "use_group_mentions"}
	teamUser := []string{
		"list_team_channels", permJoinPublicChannels, "read_public_channel", "view_team",
		"create_public_channel", "create_private_channel", "invite_user", "add_user_to_team",
	}
	teamAdmin := []string{
		"edit_others_posts", "remove_user_from_team", "manage_team", "import_team", "manage_team_roles",
		"manage_channel_roles", "manage_others_incoming_webhooks", "manage_others_outgoing_webhooks",
		"manage_slash_commands", "manage_others_slash_commands", permManageIncomingHooks,
		"manage_outgoing_webhooks", "convert_public_channel_to_private", "convert_private_channel_to_public",
		"delete_post", "delete_others_posts",
	}
	systemUser := []string{
		"list_public_teams", "join_public_teams", "create_direct_channel", "create_group_channel",
		"view_members", "create_team", "create_emojis", "delete_emojis",
	}
	admin := []string{
		permCreatePostEphemeral, permCreatePostPublic, "manage_system", "manage_bots", "manage_others_bots",
		"create_bot", "read_bots", "read_others_bots", "create_user_access_token", "read_user_access_token",
		"revoke_user_access_token", "edit_other_users", "read_deleted_posts", "manage_roles",
		"list_private_teams", "read_other_users_teams",
	}
	for _, l := range [][]string{channelUser, channelAdmin, teamUser, teamAdmin, systemUser} {
		for _, p := range l {
			if !slices.Contains(admin, p) {
				admin = append(admin, p)
			}
		}
	}
	return map[string][]string{
		"system_user":              systemUser,
		"system_admin":             admin,
		"system_post_all":          {permCreatePost, "use_channel_mentions"},
		"system_post_all_public":   {permCreatePostPublic, "use_channel_mentions"},
		"system_user_access_token": {"create_user_access_token", "read_user_access_token", "revoke_user_access_token"},
		"team_user":                teamUser,
		"team_admin":               teamAdmin,
		"team_post_all":            {permCreatePost, "use_channel_mentions"},
		"team_post_all_public":     {permCreatePostPublic, "use_channel_mentions"},
		"channel_user":             channelUser,
		"channel_admin":            channelAdmin,
	}
}

// newRoles makes the built-in roles. s.mu held.
func (s *Server) newRoles() map[string]*mattermost.Role {
	now := s.millis()
	roles := make(map[string]*mattermost.Role)
	for name, perms := range defaultPermissions() {
		scheme := !strings.Contains(name, "_post_all") && name != "system_user_access_token"
		// The server's translation ids name the two system roles
		// global_user and global_admin (model/role.go MakeDefaultRoles).
		key := name
		switch name {
		case "system_user":
			key = "global_user"
		case "system_admin":
			key = "global_admin"
		}
		roles[name] = &mattermost.Role{
			ID: s.entityID("role", name), Name: name,
			DisplayName: "authentication.roles." + key + ".name",
			Description: "authentication.roles." + key + ".description",
			CreateAt:    now, UpdateAt: now, Permissions: perms,
			SchemeManaged: scheme, BuiltIn: true,
		}
	}
	return roles
}

// SetRolePermissions replaces the permissions of a built-in role, as the
// System Console's permission pages do: SetRolePermissions("channel_user",
// ...) without "create_post" makes channels read-only for their members.
// The fake checks posting, ephemeral posts, incoming-webhook creation and
// joining public channels against the roles; its other checks follow the
// default roles whatever the table says.
func (s *Server) SetRolePermissions(role string, permissions ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.roles[role]
	if r == nil {
		return fmt.Errorf("mmtest: set role permissions: no role %q", role)
	}
	r.Permissions, r.UpdateAt = slices.Clone(permissions), s.millis()
	return nil
}

// rolesGrant reports whether one of the space-separated roles grants
// permission (app/authorization.go RolesGrantPermission). s.mu held.
func (st *state) rolesGrant(roles, permission string) bool {
	for _, name := range strings.Fields(roles) {
		if r := st.roles[name]; r != nil && r.DeleteAt == 0 && slices.Contains(r.Permissions, permission) {
			return true
		}
	}
	return false
}

// hasPermission follows app/authorization.go SessionHasPermissionTo: the
// user's own roles. s.mu held.
func (st *state) hasPermission(userID, permission string) bool {
	u := st.users[userID]
	return u != nil && st.rolesGrant(u.user.Roles, permission)
}

// hasTeamPermission follows SessionHasPermissionToTeam: the roles of the
// team membership, then the user's; no team ("", a direct or group
// channel's) grants nothing. s.mu held.
func (st *state) hasTeamPermission(teamID, userID, permission string) bool {
	if teamID == "" {
		return false
	}
	if m := st.teamMembers[teamID][userID]; m != nil && m.DeleteAt == 0 && st.rolesGrant(m.Roles, permission) {
		return true
	}
	return st.hasPermission(userID, permission)
}

// readableChannel returns the channel with the given id if userID may
// read it (read_channel), and nil if there is none or it may not: the
// server answers both with a 403.
func (st *state) readableChannel(id, userID string) *mattermost.Channel {
	if ch := st.channels[id]; ch != nil && st.hasChannelPermission(ch, userID, permReadChannel) {
		return ch
	}
	return nil
}

// hasChannelPermission follows SessionHasPermissionToChannel: the roles of
// the channel membership, then the team's (for a team channel), then the
// user's. s.mu held.
func (st *state) hasChannelPermission(ch *mattermost.Channel, userID, permission string) bool {
	if m := st.members[ch.ID][userID]; m != nil && st.rolesGrant(m.Roles, permission) {
		return true
	}
	if ch.TeamID != "" {
		return st.hasTeamPermission(ch.TeamID, userID, permission)
	}
	return st.hasPermission(userID, permission)
}

// getRolesByNames is POST /roles/names (api4/role.go getRolesByNames):
// any session may read roles; an empty list or an invalid name is a 400,
// blank names are skipped, unknown ones left out.
func (q *request) getRolesByNames() {
	names, ok := q.readStringArray("rolenames")
	if !ok {
		return
	}
	if len(names) == 0 {
		q.failParam("rolenames")
		return
	}
	var clean []string
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			continue
		}
		if !isValidRoleName(n) { // model.CleanRoleNames
			q.failParam("rolename")
			return
		}
		if !slices.Contains(clean, n) {
			clean = append(clean, n)
		}
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := []mattermost.Role{}
		for _, n := range clean {
			if r := s.st.roles[n]; r != nil {
				c := *r
				c.Permissions = slices.Clone(r.Permissions)
				out = append(out, c)
			}
		}
		return out, nil
	})
}

// isValidRoleName follows model.IsValidRoleName: 1-64 characters of
// [a-z0-9_].
func isValidRoleName(s string) bool {
	return s != "" && len(s) <= 64 && strings.TrimLeft(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}
