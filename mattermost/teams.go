package mattermost

import (
	"context"
	"net/http"
)

// Team returns the team with the given id.
// https://developers.mattermost.com/api-documentation/#/operations/GetTeam
func (c *Client) Team(ctx context.Context, teamID string) (*Team, *Response, error) {
	t := new(Team)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/teams/" + pathEscape(teamID), route: "/api/v4/teams/{team_id}", idempotent: true}, t)
	if err != nil {
		return nil, r, err
	}
	return t, r, nil
}

// TeamByName returns the team with the given name (its URL slug; 404
// app.team.get_by_name.missing.app_error when unknown).
// https://developers.mattermost.com/api-documentation/#/operations/GetTeamByName
func (c *Client) TeamByName(ctx context.Context, name string) (*Team, *Response, error) {
	t := new(Team)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/teams/name/" + pathEscape(name), route: "/api/v4/teams/name/{team_name}", idempotent: true}, t)
	if err != nil {
		return nil, r, err
	}
	return t, r, nil
}

// MyTeams returns the teams we are a member of.
// https://developers.mattermost.com/api-documentation/#/operations/GetTeamsForUser
func (c *Client) MyTeams(ctx context.Context) ([]*Team, *Response, error) {
	var ts []*Team
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/me/teams", route: "/api/v4/users/me/teams", idempotent: true}, &ts)
	if err != nil {
		return nil, r, err
	}
	return ts, r, nil
}

// TeamMember returns a user's membership of a team, with its roles (404
// app.team.get_member.missing.app_error when the user is not a member).
// userID may be "me".
// https://developers.mattermost.com/api-documentation/#/operations/GetTeamMember
func (c *Client) TeamMember(ctx context.Context, teamID, userID string) (*TeamMember, *Response, error) {
	m := new(TeamMember)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/teams/" + pathEscape(teamID) + "/members/" + pathEscape(userID), route: "/api/v4/teams/{team_id}/members/{user_id}", idempotent: true}, m)
	if err != nil {
		return nil, r, err
	}
	return m, r, nil
}

// AddTeamMember adds a user (or bot) to a team.
// https://developers.mattermost.com/api-documentation/#/operations/AddTeamMember
func (c *Client) AddTeamMember(ctx context.Context, teamID, userID string) (*TeamMember, *Response, error) {
	m := new(TeamMember)
	body := map[string]string{"team_id": teamID, "user_id": userID}
	// Adding an existing member answers the membership: safe to retry.
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/teams/" + pathEscape(teamID) + "/members", route: "/api/v4/teams/{team_id}/members", body: body, idempotent: true}, m)
	if err != nil {
		return nil, r, err
	}
	return m, r, nil
}
