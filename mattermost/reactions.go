package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// AddReaction reacts to a post with an emoji, as ourselves. emoji is the
// name without colons ("thumbsup"); surrounding colons are removed.
// Reacting twice is harmless, so the call is retried.
// https://developers.mattermost.com/api-documentation/#/operations/SaveReaction
func (c *Client) AddReaction(ctx context.Context, postID, emoji string) (*Reaction, *Response, error) {
	uid, err := c.selfID(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("mattermost: add reaction: find our user id: %w", err)
	}
	body := map[string]string{"user_id": uid, "post_id": postID, "emoji_name": strings.Trim(emoji, ":")}
	re := new(Reaction)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/reactions", route: "/api/v4/reactions", body: body, idempotent: true}, re)
	if err != nil {
		return nil, r, err
	}
	return re, r, nil
}

// RemoveReaction removes our emoji reaction from a post.
// https://developers.mattermost.com/api-documentation/#/operations/DeleteReaction
func (c *Client) RemoveReaction(ctx context.Context, postID, emoji string) (*Response, error) {
	uid, err := c.selfID(ctx)
	if err != nil {
		return nil, fmt.Errorf("mattermost: remove reaction: find our user id: %w", err)
	}
	path := "/users/" + pathEscape(uid) + "/posts/" + pathEscape(postID) + "/reactions/" + pathEscape(strings.Trim(emoji, ":"))
	return c.do(ctx, &request{method: http.MethodDelete, path: path, route: "/api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}",
		idempotent: true}, &statusOK{})
}

// Reactions returns the reactions on a post.
// https://developers.mattermost.com/api-documentation/#/operations/GetReactions
func (c *Client) Reactions(ctx context.Context, postID string) ([]*Reaction, *Response, error) {
	var rs []*Reaction
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/posts/" + pathEscape(postID) + "/reactions", route: "/api/v4/posts/{post_id}/reactions", idempotent: true}, &rs)
	if err != nil {
		return nil, r, err
	}
	return rs, r, nil
}
