package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Login logs in with a username or email and a password (and an MFA code
// when the account has MFA; pass "" otherwise), and makes the session token
// from the answer's Token header the client's token. A bot account cannot
// log in with a password; it uses an access token.
// https://developers.mattermost.com/api-documentation/#/operations/Login
func (c *Client) Login(ctx context.Context, loginID string, password, mfaToken Secret) (*User, *Response, error) {
	// The handler decodes a map[string]string, so every value is a string.
	body := map[string]string{"login_id": loginID, "password": string(password)}
	if mfaToken != "" {
		body["token"] = string(mfaToken)
	}
	u := new(User)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/users/login", route: "/api/v4/users/login", body: body, anonymous: true, identify: true}, u)
	if err != nil {
		return nil, r, err
	}
	tok := Secret(r.Header.Get("Token"))
	if tok == "" {
		return nil, r, errors.New("mattermost: POST /api/v4/users/login: answer has no Token header")
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	c.setUserID(u.ID)
	return u, r, nil
}

// Logout revokes the session and forgets the client's token. With password
// credentials configured, the next call logs in again.
// https://developers.mattermost.com/api-documentation/#/operations/Logout
func (c *Client) Logout(ctx context.Context) (*Response, error) {
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/users/logout", route: "/api/v4/users/logout"}, nil)
	if err == nil {
		c.SetToken("")
	}
	return r, err
}

// Me returns the user the client is authenticated as; it is the canonical
// "is my token alive" call. It also makes [Client.UserID] known.
// https://developers.mattermost.com/api-documentation/#/operations/GetUser
func (c *Client) Me(ctx context.Context) (*User, *Response, error) {
	u := new(User)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/me", route: "/api/v4/users/me", idempotent: true, identify: true}, u)
	if err != nil {
		return nil, r, err
	}
	c.setUserID(u.ID)
	return u, r, nil
}

// User returns the user with the given id (404 app.user.missing_account.const
// when unknown).
// https://developers.mattermost.com/api-documentation/#/operations/GetUser
func (c *Client) User(ctx context.Context, userID string) (*User, *Response, error) {
	u := new(User)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/" + pathEscape(userID), route: "/api/v4/users/{user_id}", idempotent: true}, u)
	if err != nil {
		return nil, r, err
	}
	return u, r, nil
}

// UserByUsername returns the user with the given username, without "@"
// (404 app.user.get_by_username.app_error when unknown).
// https://developers.mattermost.com/api-documentation/#/operations/GetUserByUsername
func (c *Client) UserByUsername(ctx context.Context, username string) (*User, *Response, error) {
	u := new(User)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/username/" + pathEscape(username), route: "/api/v4/users/username/{username}", idempotent: true}, u)
	if err != nil {
		return nil, r, err
	}
	return u, r, nil
}

// UsersByIDs returns the users with the given ids, in no particular order;
// unknown ids are left out.
// https://developers.mattermost.com/api-documentation/#/operations/GetUsersByIds
func (c *Client) UsersByIDs(ctx context.Context, userIDs []string) ([]*User, *Response, error) {
	if userIDs == nil {
		userIDs = []string{}
	}
	var us []*User
	// A read sent as POST: safe to retry.
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/users/ids", route: "/api/v4/users/ids", body: userIDs, idempotent: true}, &us)
	if err != nil {
		return nil, r, err
	}
	return us, r, nil
}

// UserStatus returns a user's presence.
// https://developers.mattermost.com/api-documentation/#/operations/GetUserStatus
func (c *Client) UserStatus(ctx context.Context, userID string) (*Status, *Response, error) {
	s := new(Status)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/" + pathEscape(userID) + "/status", route: "/api/v4/users/{user_id}/status", idempotent: true}, s)
	if err != nil {
		return nil, r, err
	}
	return s, r, nil
}

// UpdateUserStatus sets a user's presence (StatusOnline, StatusAway,
// StatusOffline or StatusDND) and returns it: one's own, or anyone's with
// edit_other_users.
// https://developers.mattermost.com/api-documentation/#/operations/UpdateUserStatus
func (c *Client) UpdateUserStatus(ctx context.Context, userID, status string) (*Status, *Response, error) {
	s := new(Status)
	body := Status{UserID: userID, Status: status}
	r, err := c.do(ctx, &request{method: http.MethodPut, path: "/users/" + pathEscape(userID) + "/status", route: "/api/v4/users/{user_id}/status", body: body, idempotent: true}, s)
	if err != nil {
		return nil, r, err
	}
	return s, r, nil
}

// UserStatuses returns the presence of the given users.
// https://developers.mattermost.com/api-documentation/#/operations/GetUsersStatusesByIds
func (c *Client) UserStatuses(ctx context.Context, userIDs []string) ([]*Status, *Response, error) {
	if userIDs == nil {
		userIDs = []string{}
	}
	var ss []*Status
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/users/status/ids", route: "/api/v4/users/status/ids", body: userIDs, idempotent: true}, &ss)
	if err != nil {
		return nil, r, err
	}
	return ss, r, nil
}

// Typing shows "… is typing" in a channel (or in the thread of parentID
// when non-empty) to the other members, as ourselves.
// https://developers.mattermost.com/api-documentation/#/operations/PublishUserTyping
func (c *Client) Typing(ctx context.Context, channelID, parentID string) (*Response, error) {
	uid, err := c.selfID(ctx)
	if err != nil {
		return nil, fmt.Errorf("mattermost: typing: find our user id: %w", err)
	}
	body := map[string]string{"channel_id": channelID}
	if parentID != "" {
		body["parent_id"] = parentID
	}
	// Repeating a typing notice is harmless: retry it.
	return c.do(ctx, &request{method: http.MethodPost, path: "/users/" + pathEscape(uid) + "/typing", route: "/api/v4/users/{user_id}/typing", body: body, idempotent: true}, nil)
}
