package mattermost

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestWebhooksRecorded(t *testing.T) {
	runRecorded(t, []recordedCase{
		{name: "PostWebhook", file: "hook_post.json", raw: true, path: "/hooks/6rftrngwbjb6dcfrwc9r1hdepc",
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				r, err := c.PostWebhook(ctx, "6rftrngwbjb6dcfrwc9r1hdepc", &WebhookMessage{
					Text: "from hook", Attachments: []*Attachment{{Title: "card", Text: "body"}}})
				return nil, r, err
			},
			// Attachments are typed: every field the server knows is sent.
			wantBody: map[string]any{"text": "from hook", "attachments": []any{map[string]any{
				"id": 0.0, "fallback": "", "color": "", "pretext": "", "author_name": "", "author_link": "", "author_icon": "",
				"title": "card", "title_link": "", "text": "body", "fields": nil, "image_url": "", "thumb_url": "",
				"footer": "", "footer_icon": "", "ts": nil}}}},
		{name: "PostWebhook unknown", file: "hook_post_unknown.json", raw: true, path: "/hooks/nosuchhook", wantBody: map[string]any{"text": "x"},
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				r, err := c.PostWebhook(ctx, "nosuchhook", &WebhookMessage{Text: "x"})
				return nil, r, err
			}},
		{name: "CreateIncomingWebhook", file: "hook_create.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateIncomingWebhook(ctx, &IncomingWebhook{ChannelID: opsChannel, DisplayName: "cards"}))
		}},
		{name: "CreateIncomingWebhook forbidden", file: "hook_create_as_user.json", call: func(ctx context.Context, c *Client) (any, *Response, error) {
			return wrap(c.CreateIncomingWebhook(ctx, &IncomingWebhook{ChannelID: opsChannel, DisplayName: "cards"}))
		}},
	})
}

// TestPostWebhookHidesHookID: the hook id is a credential; an error names
// the request without it.
func TestPostWebhookHidesHookID(t *testing.T) {
	c, mux, _ := setup(t, nil)
	mux.HandleFunc("POST /hooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeRecorded(w, loadRecorded(t, "hook_post_unknown.json"))
	})
	_, err := c.PostWebhook(t.Context(), "s3cr3thook", &WebhookMessage{Text: "x"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.ID != "web.incoming_webhook.invalid.app_error" {
		t.Fatalf("PostWebhook() = %v, want the server's 400", err)
	}
	if strings.Contains(err.Error(), "s3cr3thook") || apiErr.Path != baseURLPath+"/hooks/[REDACTED]" {
		t.Errorf("error %q (path %q) shows the hook id", err, apiErr.Path)
	}
}

func TestWebhookArguments(t *testing.T) {
	c, _, _ := setup(t, nil)
	if _, err := c.PostWebhook(t.Context(), "", &WebhookMessage{Text: "x"}); err == nil {
		t.Error("PostWebhook with no id = nil error")
	}
	if _, err := c.PostWebhook(t.Context(), "h", nil); err == nil {
		t.Error("PostWebhook(nil) = nil error")
	}
	if _, _, err := c.CreateIncomingWebhook(t.Context(), nil); err == nil {
		t.Error("CreateIncomingWebhook(nil) = nil error")
	}
}
