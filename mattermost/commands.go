package mattermost

import (
	"context"
	"net/http"
	"net/url"
)

// Command is a slash command (model.Command). A custom command, made
// through the API, has a URL the server calls when someone runs it, with
// Token in the request; the server makes the token, which only those who
// may manage the team's commands can read.
type Command struct {
	ID               string `json:"id"`
	Token            string `json:"token"`
	CreateAt         int64  `json:"create_at"`
	UpdateAt         int64  `json:"update_at"`
	DeleteAt         int64  `json:"delete_at"`
	CreatorID        string `json:"creator_id"`
	TeamID           string `json:"team_id"`
	Trigger          string `json:"trigger"` // without the slash, lower case
	Method           string `json:"method"`  // CommandMethodPost or CommandMethodGet
	Username         string `json:"username"`
	IconURL          string `json:"icon_url"`
	AutoComplete     bool   `json:"auto_complete"`
	AutoCompleteDesc string `json:"auto_complete_desc"`
	AutoCompleteHint string `json:"auto_complete_hint"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description"`
	URL              string `json:"url"`
	PluginID         string `json:"plugin_id,omitempty"`
}

// The methods a custom command's URL is called with (Command.Method).
const (
	CommandMethodPost = "P"
	CommandMethodGet  = "G"
)

// CommandResponse is what a command's URL answers
// (model.CommandResponse), as JSON: text shown to the caller alone
// (ResponseType CommandResponseEphemeral, the default) or posted in the
// channel (CommandResponseInChannel), with more in ExtraResponses.
// GotoLocation makes the caller's client open a URL.
type CommandResponse struct {
	ResponseType     string             `json:"response_type,omitempty"`
	Text             string             `json:"text,omitempty"`
	Username         string             `json:"username,omitempty"`
	ChannelID        string             `json:"channel_id,omitempty"`
	IconURL          string             `json:"icon_url,omitempty"`
	Type             string             `json:"type,omitempty"`
	Props            map[string]any     `json:"props,omitempty"`
	GotoLocation     string             `json:"goto_location,omitempty"`
	TriggerID        string             `json:"trigger_id,omitempty"`
	SkipSlackParsing bool               `json:"skip_slack_parsing,omitempty"`
	Attachments      []any              `json:"attachments,omitempty"`
	ExtraResponses   []*CommandResponse `json:"extra_responses,omitempty"`
}

// The response types of a CommandResponse.
const (
	CommandResponseEphemeral = "ephemeral"
	CommandResponseInChannel = "in_channel"
)

// CreateCommand creates a custom slash command on cmd.TeamID; the server
// sets its id and token (it needs manage_slash_commands on the team: 403
// otherwise, and 400 api.command.duplicate_trigger.app_error when the
// trigger is taken, by another command or a built-in).
// https://developers.mattermost.com/api-documentation/#/operations/CreateCommand
func (c *Client) CreateCommand(ctx context.Context, cmd *Command) (*Command, *Response, error) {
	out := new(Command)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/commands", route: "/api/v4/commands", body: cmd}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// UpdateCommand replaces the custom command cmd.ID with cmd; the server
// keeps its id, token, team, creator and creation time.
// https://developers.mattermost.com/api-documentation/#/operations/UpdateCommand
func (c *Client) UpdateCommand(ctx context.Context, cmd *Command) (*Command, *Response, error) {
	out := new(Command)
	r, err := c.do(ctx, &request{method: http.MethodPut, path: "/commands/" + pathEscape(cmd.ID), route: "/api/v4/commands/{command_id}", body: cmd, idempotent: true}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// TeamCommands returns the custom slash commands of a team, whole (with
// their tokens and URLs): GET /commands?team_id=&custom_only=true, which
// needs manage_slash_commands on the team.
// https://developers.mattermost.com/api-documentation/#/operations/ListCommands
func (c *Client) TeamCommands(ctx context.Context, teamID string) ([]*Command, *Response, error) {
	var out []*Command
	q := url.Values{"team_id": {teamID}, "custom_only": {"true"}}
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/commands", route: "/api/v4/commands", query: q, idempotent: true}, &out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// DeleteCommand deletes a custom slash command.
// https://developers.mattermost.com/api-documentation/#/operations/DeleteCommand
func (c *Client) DeleteCommand(ctx context.Context, commandID string) (*Response, error) {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/commands/" + pathEscape(commandID), route: "/api/v4/commands/{command_id}", idempotent: true}, nil)
}

// ExecuteCommand runs a slash command ("/away", "/deploy api") in a
// channel as the client's user, as the web app does when someone types
// it; teamID is needed in a direct or group channel, rootID runs it in a
// thread. It returns the command's response, which the server has
// already applied (posted, or shown to the user alone).
// https://developers.mattermost.com/api-documentation/#/operations/ExecuteCommand
func (c *Client) ExecuteCommand(ctx context.Context, channelID, teamID, rootID, command string) (*CommandResponse, *Response, error) {
	out := new(CommandResponse)
	body := map[string]string{"channel_id": channelID, "team_id": teamID, "root_id": rootID, "command": command}
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/commands/execute", route: "/api/v4/commands/execute", body: body}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}
