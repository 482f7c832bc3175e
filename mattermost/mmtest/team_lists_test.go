package mmtest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestGetAllTeams follows api4/team.go getAllTeams and app SanitizeTeam:
// plain users list open-invite teams only; admins every team, whole.
func TestGetAllTeams(t *testing.T) {
	w := newWorld(t, nil)
	open, err := w.srv.AddTeam("aaa-open", "Open House")
	if err != nil {
		t.Fatal(err)
	}
	w.srv.mu.Lock()
	w.srv.st.teams[open.ID].AllowOpenInvite = true
	w.srv.st.teams[open.ID].Email = "owner@example.com"
	w.srv.mu.Unlock()

	names := func(r result) []string {
		var ts []mattermost.Team
		r.json(t, &ts)
		out := []string{}
		for _, tm := range ts {
			out = append(out, tm.Name)
		}
		return out
	}
	r := w.do(t, "GET", "/teams", w.aliceTok, nil)
	expect(t, "teams as a user", r, ok(200))
	// testteam (alice's own) has no open invite: not listed.
	if diff := cmp.Diff([]string{"aaa-open"}, names(r)); diff != "" {
		t.Errorf("teams as a user (-want +got):\n%s", diff)
	}
	var ts []mattermost.Team
	r.json(t, &ts)
	if ts[0].Email != "" || ts[0].InviteID != "" {
		t.Errorf("a non-member sees email %q invite id %q, want both blank", ts[0].Email, ts[0].InviteID)
	}
	r = w.do(t, "GET", "/teams", w.rootTok, nil)
	if diff := cmp.Diff([]string{"aaa-open", "testteam"}, names(r)); diff != "" {
		t.Errorf("teams as an admin, by display name (-want +got):\n%s", diff)
	}
	r.json(t, &ts)
	if ts[0].Email != "owner@example.com" || ts[0].InviteID == "" {
		t.Errorf("an admin sees email %q invite id %q, want them", ts[0].Email, ts[0].InviteID)
	}
	var withCount teamsWithCount
	w.do(t, "GET", "/teams?include_total_count=true&per_page=1", w.rootTok, nil).json(t, &withCount)
	if withCount.TotalCount != 2 || len(withCount.Teams) != 1 {
		t.Errorf("include_total_count = %d teams of %d, want 1 of 2", len(withCount.Teams), withCount.TotalCount)
	}
	if err := w.srv.SetRolePermissions("system_user"); err != nil {
		t.Fatal(err)
	}
	expect(t, "teams without list permissions", w.do(t, "GET", "/teams", w.aliceTok, nil), answer{403, "api.team.get_all_teams.insufficient_permissions"})
}

// TestGetTeamMembers follows api4/team.go getTeamMembers and store
// GetMembers (by user id; sort=Username; exclude_deleted_users).
func TestGetTeamMembers(t *testing.T) {
	w := newWorld(t, nil)
	if err := w.srv.DeactivateUser(w.bob.ID); err != nil {
		t.Fatal(err)
	}
	users := func(r result) []string {
		var ms []mattermost.TeamMember
		r.json(t, &ms)
		out := []string{}
		for _, m := range ms {
			out = append(out, m.UserID)
		}
		return out
	}
	byID := []string{w.alice.ID, w.bob.ID, w.root.ID, w.bot.ID}
	slices.Sort(byID)
	path := "/teams/" + w.team.ID + "/members"
	r := w.do(t, "GET", path, w.aliceTok, nil)
	expect(t, "team members", r, ok(200))
	if diff := cmp.Diff(byID, users(r)); diff != "" {
		t.Errorf("members by id (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{w.alice.ID, w.bot.ID, w.root.ID}, users(w.do(t, "GET", path+"?sort=Username&exclude_deleted_users=true", w.aliceTok, nil))); diff != "" {
		t.Errorf("active members by username (-want +got):\n%s", diff)
	}
	if got := users(w.do(t, "GET", path+"?page=1&per_page=3", w.aliceTok, nil)); len(got) != 1 {
		t.Errorf("page 1 of 3 = %v, want one member", got)
	}
	other, err := w.srv.AddTeam("other", "Other")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "members of another team", w.do(t, "GET", "/teams/"+other.ID+"/members", w.aliceTok, nil), answer{403, idPerm})
}

// TestTeamMembersForUser follows api4/team.go getTeamMembersForUser: the
// user's memberships, for the user or an admin.
func TestTeamMembersForUser(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do(t, "GET", "/users/me/teams/members", w.aliceTok, nil)
	expect(t, "my team members", r, ok(200))
	var ms []mattermost.TeamMember
	r.json(t, &ms)
	if len(ms) != 1 || ms[0].TeamID != w.team.ID || ms[0].UserID != w.alice.ID || ms[0].Roles != "team_user" {
		t.Errorf("my memberships = %+v, want the one of testteam", ms)
	}
	expect(t, "another's memberships", w.do(t, "GET", "/users/"+w.bob.ID+"/teams/members", w.aliceTok, nil), answer{403, idPerm})
	expect(t, "another's memberships as an admin", w.do(t, "GET", "/users/"+w.bob.ID+"/teams/members", w.rootTok, nil), ok(200))
}

// TestTeamsUnread follows app GetTeamsUnreadForUser: per team, messages
// not viewed and mentions of the user's channels; DMs left out.
func TestTeamsUnread(t *testing.T) {
	for _, version := range []string{Version536, VersionCurrent} {
		t.Run("version "+version, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: version})
			dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			w.post(t, w.bobTok, w.ops.ID, "one")
			w.post(t, w.bobTok, w.ops.ID, "two")
			w.post(t, w.bobTok, dm.ID, "private")
			r := w.do(t, "GET", "/users/me/teams/unread", w.aliceTok, nil)
			expect(t, "unread", r, ok(200))
			var got []map[string]any
			r.json(t, &got)
			want := map[string]any{"team_id": w.team.ID, "msg_count": 2.0, "mention_count": 0.0, "mention_count_root": 0.0, "msg_count_root": 2.0}
			if version != Version536 {
				want["thread_count"], want["thread_mention_count"], want["thread_urgent_mention_count"] = 0.0, 0.0, 0.0
			}
			if diff := cmp.Diff([]map[string]any{want}, got); diff != "" {
				t.Errorf("unread (-want +got):\n%s", diff)
			}
			if r := w.do(t, "GET", "/users/me/teams/unread?exclude_team="+w.team.ID, w.aliceTok, nil); string(r.body) != "[]" {
				t.Errorf("unread excluding the team = %s, want []", r.body)
			}
			expect(t, "another's unread", w.do(t, "GET", "/users/"+w.bob.ID+"/teams/unread", w.aliceTok, nil), answer{403, idPerm})
			expect(t, "another's unread as an admin", w.do(t, "GET", "/users/"+w.bob.ID+"/teams/unread", w.rootTok, nil), ok(200))
		})
	}
}
