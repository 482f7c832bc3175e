package mattermost

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRolesByNames(t *testing.T) {
	c, mux, _ := setup(t, nil)
	want := []*Role{
		{ID: "r1", Name: "system_user", Permissions: []string{"create_team", "view_members"}, SchemeManaged: true, BuiltIn: true},
		{ID: "r2", Name: "team_user", Permissions: []string{"join_public_channels"}},
	}
	mux.HandleFunc("POST /api/v4/roles/names", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, []any{"system_user", "team_user"})
		writeJSON(w, 200, want)
	})
	got, _, err := c.RolesByNames(t.Context(), []string{"system_user", "team_user"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RolesByNames() (-want +got):\n%s", diff)
	}
	if !got[1].Can("join_public_channels") || got[1].Can("create_post") {
		t.Errorf("Role.Can: team_user = %+v", got[1])
	}
}

func TestTeamMember(t *testing.T) {
	c, mux, _ := setup(t, nil)
	want := &TeamMember{TeamID: testTeam, UserID: bob, Roles: "team_user team_admin", SchemeUser: true, SchemeAdmin: true}
	mux.HandleFunc("GET /api/v4/teams/"+testTeam+"/members/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, want)
	})
	mux.HandleFunc("GET /api/v4/teams/"+testTeam+"/members/"+bob, func(w http.ResponseWriter, r *http.Request) {
		writeAppError(w, 404, "app.team.get_member.missing.app_error")
	})
	got, _, err := c.TeamMember(t.Context(), testTeam, "me")
	if err != nil || *got != *want {
		t.Errorf("TeamMember(me) = %+v, %v; want %+v", got, err, want)
	}
	if _, _, err := c.TeamMember(t.Context(), testTeam, bob); !errors.Is(err, ErrNotFound) {
		t.Errorf("TeamMember(not a member) error = %v, want ErrNotFound", err)
	}
}

func TestMyChannelMembers(t *testing.T) {
	c, mux, _ := setup(t, nil)
	want := []*ChannelMember{{ChannelID: "c1", UserID: bob, Roles: "channel_user", SchemeUser: true}}
	mux.HandleFunc("GET /api/v4/users/me/teams/"+testTeam+"/channels/members", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, want)
	})
	got, _, err := c.MyChannelMembers(t.Context(), testTeam)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MyChannelMembers() (-want +got):\n%s", diff)
	}
}
