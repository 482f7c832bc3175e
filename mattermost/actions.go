package mattermost

import (
	"context"
	"net/http"
)

// Interactive messages and dialogs, as in the server's
// server/public/model/integration_action.go and the routes of
// server/channels/api4/integration_action.go.
//
// A post's attachment carries actions (AttachmentAction) with an
// integration URL and context. When a user clicks one, the client calls
// DoPostAction and the server POSTs a PostActionIntegrationRequest to
// the URL, with the context; the integration answers a
// PostActionIntegrationResponse (update the post, ephemeral text) and may
// open a dialog with the request's TriggerID (OpenDialog). The server
// sends the dialog to the user's clients (EventOpenDialog); a client
// submits it (SubmitDialog), and the server POSTs a SubmitDialogRequest
// to the dialog's URL and returns the integration's
// SubmitDialogResponse (per-field errors) to the client.

// Kinds of AttachmentAction (model.PostActionTypeButton, ...Select).
const (
	ActionTypeButton = "button"
	ActionTypeSelect = "select"
)

// Data sources of a select action or dialog element.
const (
	DataSourceUsers    = "users"
	DataSourceChannels = "channels"
)

// PostActionIntegrationRequest is what the server POSTs to an action's
// integration URL when a user clicks it (model.PostActionIntegrationRequest).
// For a select, Context holds "selected_option" besides the action's own
// context.
type PostActionIntegrationRequest struct {
	UserID      string         `json:"user_id"`
	UserName    string         `json:"user_name"`
	ChannelID   string         `json:"channel_id"`
	ChannelName string         `json:"channel_name"`
	TeamID      string         `json:"team_id"`
	TeamName    string         `json:"team_domain"`
	PostID      string         `json:"post_id"`
	TriggerID   string         `json:"trigger_id"`
	Type        string         `json:"type"`
	DataSource  string         `json:"data_source"`
	Context     map[string]any `json:"context,omitempty"`
}

// PostActionIntegrationResponse is the integration's answer to a click
// (model.PostActionIntegrationResponse): Update replaces the post (its
// message, and its props unless nil); EphemeralText is shown to the
// clicking user alone, with Slack's link syntax converted to markdown
// unless SkipSlackParsing.
type PostActionIntegrationResponse struct {
	Update           *Post  `json:"update"`
	EphemeralText    string `json:"ephemeral_text"`
	SkipSlackParsing bool   `json:"skip_slack_parsing"`
}

// PostActionAPIResponse is the server's answer to DoPostAction
// (model.PostActionAPIResponse).
type PostActionAPIResponse struct {
	Status    string `json:"status"`
	TriggerID string `json:"trigger_id"`
}

// Dialog is an interactive dialog (model.Dialog).
type Dialog struct {
	CallbackID       string          `json:"callback_id"`
	Title            string          `json:"title"`
	IntroductionText string          `json:"introduction_text"`
	IconURL          string          `json:"icon_url"`
	Elements         []DialogElement `json:"elements"`
	SubmitLabel      string          `json:"submit_label"`
	NotifyOnCancel   bool            `json:"notify_on_cancel"`
	State            string          `json:"state"`
}

// DialogElement is one field of a Dialog (model.DialogElement). Type is
// "text", "textarea", "select", "bool" or "radio".
type DialogElement struct {
	DisplayName string              `json:"display_name"`
	Name        string              `json:"name"`
	Type        string              `json:"type"`
	SubType     string              `json:"subtype"`
	Default     string              `json:"default"`
	Placeholder string              `json:"placeholder"`
	HelpText    string              `json:"help_text"`
	Optional    bool                `json:"optional"`
	MinLength   int                 `json:"min_length"`
	MaxLength   int                 `json:"max_length"`
	DataSource  string              `json:"data_source"`
	Options     []*AttachmentOption `json:"options"`
}

// OpenDialogRequest opens a dialog in the clients of the user a trigger
// id names (model.OpenDialogRequest): URL is where its submission goes.
type OpenDialogRequest struct {
	TriggerID string `json:"trigger_id"`
	URL       string `json:"url"`
	Dialog    Dialog `json:"dialog"`
}

// SubmitDialogRequest is a dialog's submission (model.SubmitDialogRequest):
// what a client sends to SubmitDialog (with URL, CallbackID and State
// from the dialog it was given) and what the server POSTs on to the URL
// (with Type "dialog_submission", UserID set, URL cleared). Submission
// holds the values by element name.
type SubmitDialogRequest struct {
	Type       string         `json:"type"`
	URL        string         `json:"url,omitempty"`
	CallbackID string         `json:"callback_id"`
	State      string         `json:"state"`
	UserID     string         `json:"user_id"`
	ChannelID  string         `json:"channel_id"`
	TeamID     string         `json:"team_id"`
	Submission map[string]any `json:"submission"`
	Cancelled  bool           `json:"cancelled"`
}

// SubmitDialogResponse is the integration's answer to a submission
// (model.SubmitDialogResponse): Errors by element name, or a general
// Error, keep the dialog open; the zero value closes it.
type SubmitDialogResponse struct {
	Error  string            `json:"error,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

// OpenDialog opens a dialog in the clients of the user whose click or
// slash command gave req.TriggerID. The trigger id is good for the
// server's OutgoingIntegrationRequestsTimeout (30 s by default); after
// that the server answers 400 interactive_message.decode_trigger_id.expired.
// The route needs no session, but the client sends its token anyway.
// Not retried.
// https://developers.mattermost.com/api-documentation/#/operations/OpenInteractiveDialog
func (c *Client) OpenDialog(ctx context.Context, req *OpenDialogRequest) (*Response, error) {
	return c.do(ctx, &request{method: http.MethodPost, path: "/actions/dialogs/open", route: "/api/v4/actions/dialogs/open", body: req}, &statusOK{})
}

// DoPostAction clicks the action actionID of post postID as the
// client's user (what a chat client does): the server calls the action's
// integration and answers with a trigger id. selected is the chosen
// option of a select; cookie the action's Cookie, for an ephemeral post
// the server does not store. Not retried.
// https://developers.mattermost.com/api-documentation/#/operations/DoPostAction
func (c *Client) DoPostAction(ctx context.Context, postID, actionID, selected, cookie string) (*PostActionAPIResponse, *Response, error) {
	body := struct {
		SelectedOption string `json:"selected_option,omitempty"`
		Cookie         string `json:"cookie,omitempty"`
	}{selected, cookie}
	out := new(PostActionAPIResponse)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/posts/" + pathEscape(postID) + "/actions/" + pathEscape(actionID),
		route: "/api/v4/posts/{post_id}/actions/{action_id}", body: body}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// SubmitDialog submits a dialog as the client's user (what a chat client
// does); the server forwards it to req.URL and answers with the
// integration's response. Not retried.
// https://developers.mattermost.com/api-documentation/#/operations/SubmitInteractiveDialog
func (c *Client) SubmitDialog(ctx context.Context, req *SubmitDialogRequest) (*SubmitDialogResponse, *Response, error) {
	out := new(SubmitDialogResponse)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/actions/dialogs/submit", route: "/api/v4/actions/dialogs/submit", body: req}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}
