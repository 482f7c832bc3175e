package mattermost

import (
	"context"
	"net/http"
	"testing"
)

const testTeam = "g4abhgi4hfb3xqdwp4ixd58t4r"

func TestTeamsRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "TeamByName", file: "teams_name.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.TeamByName(ctx, "testteam"))
		}},
		{name: "TeamByName unknown", file: "teams_name_unknown.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.TeamByName(ctx, "nosuchteam"))
		}},
		{name: "Team", file: "teams_name.json", path: "/teams/" + testTeam, method: http.MethodGet, call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.Team(ctx, testTeam))
		}},
		{name: "MyTeams", file: "users_my_teams.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.MyTeams(ctx))
		}},
	})
}

func TestAddTeamMember(t *testing.T) {
	c, mux, _ := setup(t, nil)
	want := &TeamMember{TeamID: testTeam, UserID: bob, Roles: "team_user", SchemeUser: true}
	mux.HandleFunc("POST /api/v4/teams/"+testTeam+"/members", func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, map[string]any{"team_id": testTeam, "user_id": bob})
		writeJSON(w, 201, want)
	})
	got, _, err := c.AddTeamMember(t.Context(), testTeam, bob)
	if err != nil || *got != *want {
		t.Errorf("AddTeamMember() = %+v, %v; want %+v", got, err, want)
	}
}
