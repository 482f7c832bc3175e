package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// ChannelPatch is a partial update of a channel: nil fields are left as
// they are.
type ChannelPatch struct {
	Name        *string `json:"name,omitempty"`
	DisplayName *string `json:"display_name,omitempty"`
	Header      *string `json:"header,omitempty"`
	Purpose     *string `json:"purpose,omitempty"`
}

// Channel returns the channel with the given id (403 when it is private and
// we are not a member).
// https://developers.mattermost.com/api-documentation/#/operations/GetChannel
func (c *Client) Channel(ctx context.Context, channelID string) (*Channel, *Response, error) {
	return c.getChannel(ctx, "/channels/"+pathEscape(channelID), "/api/v4/channels/{channel_id}")
}

// ChannelByName returns the channel with the given name in a team (404
// app.channel.get_by_name.missing.app_error when unknown, or private and
// not ours).
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelByName
func (c *Client) ChannelByName(ctx context.Context, teamID, name string) (*Channel, *Response, error) {
	return c.getChannel(ctx, "/teams/"+pathEscape(teamID)+"/channels/name/"+pathEscape(name), "/api/v4/teams/{team_id}/channels/name/{channel_name}")
}

// ChannelByTeamNameAndName returns a channel by team name and channel name,
// in one call.
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelByNameForTeamName
func (c *Client) ChannelByTeamNameAndName(ctx context.Context, teamName, channelName string) (*Channel, *Response, error) {
	return c.getChannel(ctx, "/teams/name/"+pathEscape(teamName)+"/channels/name/"+pathEscape(channelName),
		"/api/v4/teams/name/{team_name}/channels/name/{channel_name}")
}

func (c *Client) getChannel(ctx context.Context, path, route string) (*Channel, *Response, error) {
	ch := new(Channel)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: path, route: route, idempotent: true}, ch)
	if err != nil {
		return nil, r, err
	}
	return ch, r, nil
}

// MyChannels returns the channels we are a member of in a team, plus our
// direct and group channels.
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelsForTeamForUser
func (c *Client) MyChannels(ctx context.Context, teamID string) ([]*Channel, *Response, error) {
	var chs []*Channel
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/me/teams/" + pathEscape(teamID) + "/channels", route: "/api/v4/users/me/teams/{team_id}/channels", idempotent: true}, &chs)
	if err != nil {
		return nil, r, err
	}
	return chs, r, nil
}

// MyChannelsFunc is MyChannels passing each channel to f rather than
// returning them all: the answer is decoded as it arrives, one channel
// at a time, so that a client in thousands of channels never holds them
// all at once (ten thousand channels are about 4 MB of JSON, and more
// decoded). f must not keep ch, which is reused. An answer broken or
// cut short is an error after f has seen the channels before the break.
func (c *Client) MyChannelsFunc(ctx context.Context, teamID string, f func(ch *Channel)) (*Response, error) {
	return c.channelsFunc(ctx, &request{method: http.MethodGet, path: "/users/me/teams/" + pathEscape(teamID) + "/channels",
		route: "/api/v4/users/me/teams/{team_id}/channels", idempotent: true, stream: true}, f)
}

// channelsFunc sends rq, a streamed GET of a list of channels, and
// decodes its answer as it comes, within the client's timeout.
func (c *Client) channelsFunc(ctx context.Context, rq *request, f func(ch *Channel)) (*Response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	r, err := c.do(ctx, rq, nil)
	if err != nil {
		return r, err
	}
	defer r.Body.Close()
	if err := eachChannel(r.Body, f); err != nil {
		return r, fmt.Errorf("mattermost: %s %s: decode answer: %w", rq.method, rq.path, err)
	}
	return r, nil
}

// MyChannelMembers returns our memberships of the channels of a team
// (and of our direct and group channels), with their roles.
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelMembersForUser
func (c *Client) MyChannelMembers(ctx context.Context, teamID string) ([]*ChannelMember, *Response, error) {
	var ms []*ChannelMember
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/me/teams/" + pathEscape(teamID) + "/channels/members", route: "/api/v4/users/me/teams/{team_id}/channels/members", idempotent: true}, &ms)
	if err != nil {
		return nil, r, err
	}
	return ms, r, nil
}

// AllMyChannels returns the channels we are a member of in every team,
// plus our direct and group channels, in one call: a user in no team
// can list its direct channels this way. Servers before 6.1 lack the
// route and answer 404 (an error matching ErrNotFound); use MyChannels
// per team there.
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelsForUser
func (c *Client) AllMyChannels(ctx context.Context) ([]*Channel, *Response, error) {
	var b []byte
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/users/me/channels", route: "/api/v4/users/me/channels", idempotent: true}, &b)
	if err != nil {
		return nil, r, err
	}
	chs, err := decodeStreamedChannels(b)
	if err != nil {
		return nil, r, fmt.Errorf("mattermost: GET /users/me/channels: decode answer: %w", err)
	}
	return chs, r, nil
}

// AllMyChannelsFunc is AllMyChannels passing each channel to f, as
// MyChannelsFunc does.
func (c *Client) AllMyChannelsFunc(ctx context.Context, f func(ch *Channel)) (*Response, error) {
	return c.channelsFunc(ctx, &request{method: http.MethodGet, path: "/users/me/channels", route: "/api/v4/users/me/channels",
		idempotent: true, stream: true}, f)
}

// eachChannel decodes a JSON array of channels (or null) as it reads
// it, one element at a time into one Channel, which it passes to f after
// each. The answer of GET /users/{user_id}/channels for a user in no
// channel, "[" and the store's not-found error (see
// decodeStreamedChannels), is an empty list.
func eachChannel(r io.Reader, f func(*Channel)) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	switch {
	case err != nil:
		return err
	case tok == nil:
		return nil // null
	case tok != json.Delim('['):
		return fmt.Errorf("want an array of channels, got %v", tok)
	}
	var (
		ch    Channel
		first = true
	)
	for dec.More() {
		ch = Channel{}
		if first {
			first = false
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			var e APIError
			if json.Unmarshal(raw, &e) == nil && e.ID == "app.channel.get_channels.not_found.app_error" {
				return nil
			}
			if err := json.Unmarshal(raw, &ch); err != nil {
				return err
			}
		} else if err := dec.Decode(&ch); err != nil {
			return err
		}
		f(&ch)
	}
	_, err = dec.Token() // the closing ]
	return err
}

// decodeStreamedChannels decodes the answer of GET
// /users/{user_id}/channels, which the server streams (api4/channel.go
// getChannelsForUser): for a user in no channel it has written "[" with
// a 200 before the store says "not found", so the body is "[" and that
// error's JSON. That answer is an empty list; any other broken body is
// an error.
func decodeStreamedChannels(b []byte) ([]*Channel, error) {
	var chs []*Channel
	err := json.Unmarshal(b, &chs)
	if err == nil {
		if chs == nil { // "null"
			chs = []*Channel{}
		}
		return chs, nil
	}
	if len(b) > 0 && b[0] == '[' {
		var e APIError
		if json.NewDecoder(bytes.NewReader(b[1:])).Decode(&e) == nil && e.ID == "app.channel.get_channels.not_found.app_error" {
			return []*Channel{}, nil
		}
	}
	return nil, err
}

// CreateChannel creates a public (ChannelOpen) or private (ChannelPrivate)
// channel from TeamID, Name, DisplayName, Type, Purpose and Header of ch.
// It is not retried: a retried create would fail with "name taken".
// https://developers.mattermost.com/api-documentation/#/operations/CreateChannel
func (c *Client) CreateChannel(ctx context.Context, ch *Channel) (*Channel, *Response, error) {
	if ch == nil {
		return nil, nil, fmt.Errorf("mattermost: create channel: nil channel")
	}
	body := struct {
		TeamID      string `json:"team_id"`
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Type        string `json:"type"`
		Purpose     string `json:"purpose,omitempty"`
		Header      string `json:"header,omitempty"`
	}{ch.TeamID, ch.Name, ch.DisplayName, ch.Type, ch.Purpose, ch.Header}
	out := new(Channel)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/channels", route: "/api/v4/channels", body: body}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// PatchChannel changes the fields of a channel that are set in patch.
// https://developers.mattermost.com/api-documentation/#/operations/PatchChannel
func (c *Client) PatchChannel(ctx context.Context, channelID string, patch *ChannelPatch) (*Channel, *Response, error) {
	if patch == nil {
		patch = &ChannelPatch{}
	}
	ch := new(Channel)
	r, err := c.do(ctx, &request{method: http.MethodPut, path: "/channels/" + pathEscape(channelID) + "/patch", route: "/api/v4/channels/{channel_id}/patch", body: patch, idempotent: true}, ch)
	if err != nil {
		return nil, r, err
	}
	return ch, r, nil
}

// SetChannelHeader sets a channel's header (at most 1024 runes).
func (c *Client) SetChannelHeader(ctx context.Context, channelID, header string) (*Channel, *Response, error) {
	return c.PatchChannel(ctx, channelID, &ChannelPatch{Header: &header})
}

// SetChannelPurpose sets a channel's purpose (at most 250 runes).
func (c *Client) SetChannelPurpose(ctx context.Context, channelID, purpose string) (*Channel, *Response, error) {
	return c.PatchChannel(ctx, channelID, &ChannelPatch{Purpose: &purpose})
}

// CreateDirectChannel returns the direct channel between two users (one of
// them us), creating it if needed; the same id twice is a DM with oneself.
// https://developers.mattermost.com/api-documentation/#/operations/CreateDirectChannel
func (c *Client) CreateDirectChannel(ctx context.Context, userID1, userID2 string) (*Channel, *Response, error) {
	ch := new(Channel)
	// The server answers the existing channel on a repeat: safe to retry.
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/channels/direct", route: "/api/v4/channels/direct", body: []string{userID1, userID2}, idempotent: true}, ch)
	if err != nil {
		return nil, r, err
	}
	return ch, r, nil
}

// CreateGroupChannel returns the group channel of 3 to 8 users, creating it
// if needed.
// https://developers.mattermost.com/api-documentation/#/operations/CreateGroupChannel
func (c *Client) CreateGroupChannel(ctx context.Context, userIDs []string) (*Channel, *Response, error) {
	if userIDs == nil {
		userIDs = []string{}
	}
	ch := new(Channel)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/channels/group", route: "/api/v4/channels/group", body: userIDs, idempotent: true}, ch)
	if err != nil {
		return nil, r, err
	}
	return ch, r, nil
}

// ChannelMember returns a user's membership of a channel; userID "me" means
// us.
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelMember
func (c *Client) ChannelMember(ctx context.Context, channelID, userID string) (*ChannelMember, *Response, error) {
	m := new(ChannelMember)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/channels/" + pathEscape(channelID) + "/members/" + pathEscape(userID), route: "/api/v4/channels/{channel_id}/members/{user_id}", idempotent: true}, m)
	if err != nil {
		return nil, r, err
	}
	return m, r, nil
}

// ChannelMembers returns one page (0-based) of a channel's memberships;
// perPage 0 means the server's default (60, at most 200). A page
// shorter than perPage is the last. Reading a private channel's members
// needs membership (403 otherwise).
// https://developers.mattermost.com/api-documentation/#/operations/GetChannelMembers
func (c *Client) ChannelMembers(ctx context.Context, channelID string, page, perPage int) ([]*ChannelMember, *Response, error) {
	var ms []*ChannelMember
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/channels/" + pathEscape(channelID) + "/members", route: "/api/v4/channels/{channel_id}/members",
		query: pageQuery(page, perPage), idempotent: true}, &ms)
	if err != nil {
		return nil, r, err
	}
	return ms, r, nil
}

// AddChannelMember adds a user to a channel; with our own id it joins a
// public channel.
// https://developers.mattermost.com/api-documentation/#/operations/AddChannelMember
func (c *Client) AddChannelMember(ctx context.Context, channelID, userID string) (*ChannelMember, *Response, error) {
	m := new(ChannelMember)
	// Adding an existing member answers the membership: safe to retry.
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/channels/" + pathEscape(channelID) + "/members", route: "/api/v4/channels/{channel_id}/members",
		body: map[string]string{"user_id": userID}, idempotent: true}, m)
	if err != nil {
		return nil, r, err
	}
	return m, r, nil
}

// RemoveChannelMember removes a user from a channel; with our own id it
// leaves the channel.
// https://developers.mattermost.com/api-documentation/#/operations/RemoveUserFromChannel
func (c *Client) RemoveChannelMember(ctx context.Context, channelID, userID string) (*Response, error) {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/channels/" + pathEscape(channelID) + "/members/" + pathEscape(userID), route: "/api/v4/channels/{channel_id}/members/{user_id}", idempotent: true}, &statusOK{})
}
