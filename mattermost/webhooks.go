package mattermost

import (
	"context"
	"errors"
	"net/http"
)

// WebhookMessage is the payload of an incoming webhook (model.IncomingWebhookRequest).
// At least one of Text and Attachments is required. Channel (a channel name,
// or "@username" for a DM) overrides the hook's channel unless the hook is
// locked; Username and IconURL are honoured only when the server enables
// overrides.
type WebhookMessage struct {
	Text        string         `json:"text,omitempty"`
	Channel     string         `json:"channel,omitempty"`
	Username    string         `json:"username,omitempty"`
	IconURL     string         `json:"icon_url,omitempty"`
	IconEmoji   string         `json:"icon_emoji,omitempty"`
	Attachments []*Attachment  `json:"attachments,omitempty"`
	Props       map[string]any `json:"props,omitempty"`
	Type        string         `json:"type,omitempty"`
}

// hookPathShown replaces the hook id in logs and errors: whoever knows it
// can post.
const hookPathShown = "/hooks/" + redacted

// PostWebhook posts msg through the incoming webhook hookID
// (POST <site>/hooks/{id}, outside /api/v4; no token needed). The server
// answers 200 with the text "ok". Not retried: the server does not
// de-duplicate webhook posts. The hook id never appears in logs or errors.
// https://developers.mattermost.com/integrate/webhooks/incoming/
func (c *Client) PostWebhook(ctx context.Context, hookID string, msg *WebhookMessage) (*Response, error) {
	if hookID == "" {
		return nil, errors.New("mattermost: post webhook: empty hook id")
	}
	if msg == nil {
		return nil, errors.New("mattermost: post webhook: nil message")
	}
	return c.do(ctx, &request{method: http.MethodPost, path: "/hooks/" + pathEscape(hookID), route: "/hooks/{hook_id}", raw: true, body: msg,
		anonymous: true, logPath: c.server.Path + hookPathShown}, nil)
}

// CreateIncomingWebhook creates an incoming webhook for ChannelID of hook
// (with DisplayName, Description, Username, IconURL, ChannelLocked). By
// default only admins may (403 otherwise).
// https://developers.mattermost.com/api-documentation/#/operations/CreateIncomingWebhook
func (c *Client) CreateIncomingWebhook(ctx context.Context, hook *IncomingWebhook) (*IncomingWebhook, *Response, error) {
	if hook == nil {
		return nil, nil, errors.New("mattermost: create incoming webhook: nil hook")
	}
	body := struct {
		ChannelID     string `json:"channel_id"`
		DisplayName   string `json:"display_name,omitempty"`
		Description   string `json:"description,omitempty"`
		Username      string `json:"username,omitempty"`
		IconURL       string `json:"icon_url,omitempty"`
		ChannelLocked bool   `json:"channel_locked,omitempty"`
	}{hook.ChannelID, hook.DisplayName, hook.Description, hook.Username, hook.IconURL, hook.ChannelLocked}
	out := new(IncomingWebhook)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/hooks/incoming", route: "/api/v4/hooks/incoming", body: body}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}
