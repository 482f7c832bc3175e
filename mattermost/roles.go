package mattermost

import (
	"context"
	"net/http"
)

// Role is a named set of permissions (model.Role). The Roles fields of a
// [User], a [TeamMember] and a [ChannelMember] name roles, space-separated;
// a user may do what any role of its channel membership, of its team
// membership or of its own grants.
type Role struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"` // system_user, team_admin, channel_user, ...
	DisplayName   string   `json:"display_name"`
	Description   string   `json:"description"`
	CreateAt      int64    `json:"create_at"`
	UpdateAt      int64    `json:"update_at"`
	DeleteAt      int64    `json:"delete_at"`
	Permissions   []string `json:"permissions"` // create_post, join_public_channels, ...
	SchemeManaged bool     `json:"scheme_managed"`
	BuiltIn       bool     `json:"built_in"`
}

// Can reports whether the role grants permission.
func (r *Role) Can(permission string) bool {
	for _, p := range r.Permissions {
		if p == permission {
			return true
		}
	}
	return false
}

// RolesByNames returns the roles with the given names, such as the
// fields of a user's, team member's or channel member's Roles; unknown
// names are left out. Any logged-in user may read roles.
// https://developers.mattermost.com/api-documentation/#/operations/GetRolesByNames
func (c *Client) RolesByNames(ctx context.Context, names []string) ([]*Role, *Response, error) {
	var roles []*Role
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/roles/names", route: "/api/v4/roles/names", body: names, idempotent: true}, &roles)
	if err != nil {
		return nil, r, err
	}
	return roles, r, nil
}
