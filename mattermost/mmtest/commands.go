package mmtest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// Permissions of custom slash commands, as named in 5.36 (model/role.go
// gives them to team and system admins; current servers call the first
// manage_own_slash_commands).
const (
	permManageSlashCommands       = "manage_slash_commands"
	permManageOthersSlashCommands = "manage_others_slash_commands"
)

// command is model.Command.
type command struct {
	ID               string `json:"id"`
	Token            string `json:"token"`
	CreateAt         int64  `json:"create_at"`
	UpdateAt         int64  `json:"update_at"`
	DeleteAt         int64  `json:"delete_at"`
	CreatorID        string `json:"creator_id"`
	TeamID           string `json:"team_id"`
	Trigger          string `json:"trigger"`
	Method           string `json:"method"`
	Username         string `json:"username"`
	IconURL          string `json:"icon_url"`
	AutoComplete     bool   `json:"auto_complete"`
	AutoCompleteDesc string `json:"auto_complete_desc"`
	AutoCompleteHint string `json:"auto_complete_hint"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description"`
	URL              string `json:"url"`
	PluginID         string `json:"plugin_id"`
}

// sanitized is model.Command.Sanitize: what a list shows of a custom
// command.
func (c command) sanitized() command {
	c.Token, c.CreatorID, c.Method, c.URL, c.Username, c.IconURL = "", "", "", "", "", ""
	return c
}

// commandRec is a stored custom command.
type commandRec struct {
	cmd command
}

// builtinCommand is one of the server's own slash commands that the fake
// runs. run returns the command response, changing what it changes
// (s.mu held).
type builtinCommand struct {
	cmd command
	run func(s *Server, userID, message string, evs *[]event) commandResponse
}

// builtinCommands are the built-in commands the fake serves (a subset of
// app/slashcommands: the status ones, /me and /shrug), with the English
// texts of server/i18n/en.json.
var builtinCommands = []builtinCommand{
	{cmd: command{Trigger: "away", AutoComplete: true, AutoCompleteDesc: "Set your status away", DisplayName: "away"},
		run: statusCommand(mattermost.StatusAway, "You are now away")},
	{cmd: command{Trigger: "dnd", AutoComplete: true, AutoCompleteDesc: "Do not disturb disables desktop and mobile push notifications.", DisplayName: "dnd"},
		run: statusCommand(mattermost.StatusDND, "Do Not Disturb is enabled. You will not receive desktop or mobile push notifications until Do Not Disturb is turned off.")},
	{cmd: command{Trigger: "me", AutoComplete: true, AutoCompleteDesc: "Do an action", AutoCompleteHint: "[message]", DisplayName: "me"},
		run: func(_ *Server, _, message string, _ *[]event) commandResponse {
			return commandResponse{ResponseType: "in_channel", Type: "me", Text: "*" + message + "*"}
		}},
	{cmd: command{Trigger: "offline", AutoComplete: true, AutoCompleteDesc: "Set your status offline", DisplayName: "offline"},
		run: statusCommand(mattermost.StatusOffline, "You are now offline")},
	{cmd: command{Trigger: "online", AutoComplete: true, AutoCompleteDesc: "Set your status online", DisplayName: "online"},
		run: statusCommand(mattermost.StatusOnline, "You are now online")},
	{cmd: command{Trigger: "shrug", AutoComplete: true, AutoCompleteDesc: `Adds ¯\_(ツ)_/¯ to your message`, AutoCompleteHint: "[message]", DisplayName: "shrug"},
		run: func(_ *Server, _, message string, _ *[]event) commandResponse {
			text := `¯\\\_(ツ)\_/¯`
			if message != "" {
				text = message + " " + text
			}
			return commandResponse{ResponseType: "in_channel", Text: text}
		}},
}

// statusCommand sets the caller's status by hand and answers text to them
// alone (app/slashcommands/command_away.go and its siblings).
func statusCommand(status, text string) func(*Server, string, string, *[]event) commandResponse {
	return func(s *Server, userID, _ string, evs *[]event) commandResponse {
		s.setStatus(userID, status, evs)
		return commandResponse{ResponseType: "ephemeral", Text: text}
	}
}

// builtinTriggers are every built-in trigger of a current server; a
// custom command may not take one (app CreateCommand).
var builtinTriggers = strings.Fields(`away code collapse dnd echo expand groupmsg header help invite
	invite_people join kick leave logout me msg mute offline online open purpose remove rename search
	settings shortcuts shrug status`)

// commandResponse is model.CommandResponse.
type commandResponse struct {
	ResponseType     string            `json:"response_type"`
	Text             string            `json:"text"`
	Username         string            `json:"username"`
	ChannelID        string            `json:"channel_id"`
	IconURL          string            `json:"icon_url"`
	Type             string            `json:"type"`
	Props            map[string]any    `json:"props"`
	GotoLocation     string            `json:"goto_location"`
	TriggerID        string            `json:"trigger_id"`
	SkipSlackParsing bool              `json:"skip_slack_parsing"`
	Attachments      []any             `json:"attachments"`
	ExtraResponses   []commandResponse `json:"extra_responses"`
}

// checkCommand is model.Command.IsValid for what a client sets. s.mu
// held.
func checkCommand(c *command) *mattermost.APIError {
	bad := func(what string) *mattermost.APIError {
		return apiError(http.StatusBadRequest, "model.command.is_valid."+what+".app_error", "")
	}
	switch {
	case !mattermost.IsValidID(c.CreatorID):
		return bad("user_id")
	case !mattermost.IsValidID(c.TeamID):
		return bad("team_id")
	case c.Trigger == "" || len(c.Trigger) > 128 || strings.HasPrefix(c.Trigger, "/") || strings.Contains(c.Trigger, " "):
		return bad("trigger")
	case c.URL == "" || len(c.URL) > 1024:
		return bad("url")
	}
	if u, err := url.Parse(c.URL); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return bad("url_http")
	}
	switch {
	case c.Method != "P" && c.Method != "G":
		return bad("method")
	case len(c.DisplayName) > 64:
		return bad("display_name")
	case len(c.Description) > 128:
		return bad("description")
	}
	return nil
}

// teamCommands returns the team's live custom commands by trigger. s.mu
// held.
func (st *state) teamCommands(teamID string) []command {
	var out []command
	for _, c := range st.commands {
		if c.cmd.TeamID == teamID && c.cmd.DeleteAt == 0 {
			out = append(out, c.cmd)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Trigger < out[j].Trigger })
	return out
}

// createCommand is POST /commands (api4/command.go createCommand, app
// CreateCommand): manage_slash_commands on the command's team (team and
// system admins), else 403; creator_id another user's needs
// manage_others_slash_commands (403) and an existing user (404); the
// trigger is lowercased and may be neither a team command's nor a
// built-in's (400 api.command.duplicate_trigger.app_error); then the
// checks of model.Command.IsValid (400 model.command.is_valid.*). 201 with
// the command and its new token.
func (q *request) createCommand() {
	var c command
	if !q.decode("command", &c) {
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		uid := q.sess.userID
		if !st.hasTeamPermission(c.TeamID, uid, permManageSlashCommands) {
			return nil, errPerm()
		}
		if c.CreatorID != "" && c.CreatorID != uid {
			if !st.hasTeamPermission(c.TeamID, uid, permManageOthersSlashCommands) {
				return nil, errPerm()
			}
			if st.users[c.CreatorID] == nil {
				return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
			}
			uid = c.CreatorID
		}
		c.CreatorID = uid
		c.Trigger = strings.ToLower(c.Trigger)
		for _, tc := range st.teamCommands(c.TeamID) {
			if tc.Trigger == c.Trigger {
				return nil, apiError(http.StatusBadRequest, "api.command.duplicate_trigger.app_error", "")
			}
		}
		for _, b := range builtinTriggers {
			if b == c.Trigger {
				return nil, apiError(http.StatusBadRequest, "api.command.duplicate_trigger.app_error", "")
			}
		}
		if e := checkCommand(&c); e != nil {
			return nil, e
		}
		now := s.millis()
		c.ID, c.Token, c.CreateAt, c.UpdateAt, c.DeleteAt, c.PluginID = mattermost.NewID(), mattermost.NewID(), now, now, 0, ""
		if st.commands == nil {
			st.commands = map[string]*commandRec{}
		}
		st.commands[c.ID] = &commandRec{cmd: c}
		s.touch()
		return c, nil
	})
}

// listCommands is GET /commands?team_id= (api4/command.go listCommands):
// 400 team_id when missing, 403 without view_team. custom_only=true (which
// needs manage_slash_commands, 403) lists the team's custom commands
// whole; otherwise the built-in commands with autocomplete, then the
// team's custom commands sanitized (app ListAllCommands) for a caller with
// manage_slash_commands, or only those with auto_complete (app
// ListAutocompleteCommands) for the others. The fake's built-ins are the
// ones it runs (see builtinCommands), by trigger.
func (q *request) listCommands() {
	v := q.r.URL.Query()
	customOnly, _ := strconv.ParseBool(v.Get("custom_only"))
	tid := v.Get("team_id")
	if tid == "" {
		q.failParam("team_id")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		if !st.hasTeamPermission(tid, uid, permViewTeam) {
			return nil, errPerm()
		}
		manage := st.hasTeamPermission(tid, uid, permManageSlashCommands)
		out := []command{}
		if customOnly {
			if !manage {
				return nil, errPerm()
			}
			return append(out, st.teamCommands(tid)...), nil
		}
		for _, b := range builtinCommands {
			out = append(out, b.cmd)
		}
		for _, c := range st.teamCommands(tid) {
			if manage || c.AutoComplete {
				out = append(out, c.sanitized())
			}
		}
		return out, nil
	})
}

// commandForManage loads command_id for a caller who may manage it
// (api4/command.go getCommand and deleteCommand): an unknown command, one
// of a team where the caller lacks view_team (get) or
// manage_slash_commands, and another's command without
// manage_others_slash_commands are all 404 store.sql_command.save.get.app_error
// for get, so its existence does not leak; delete answers 403 for the
// last. s.mu held.
func (st *state) commandForManage(id, userID string, forDelete bool) (*commandRec, *mattermost.APIError) {
	notFound := apiError(http.StatusNotFound, "store.sql_command.save.get.app_error", "")
	c := st.commands[id]
	if c == nil || c.cmd.DeleteAt != 0 {
		return nil, notFound
	}
	if !forDelete && !st.hasTeamPermission(c.cmd.TeamID, userID, permViewTeam) ||
		!st.hasTeamPermission(c.cmd.TeamID, userID, permManageSlashCommands) {
		return nil, notFound
	}
	if userID != c.cmd.CreatorID && !st.hasTeamPermission(c.cmd.TeamID, userID, permManageOthersSlashCommands) {
		if forDelete {
			return nil, errPerm()
		}
		return nil, notFound
	}
	return c, nil
}

// getCommand is GET /commands/{command_id}.
func (q *request) getCommand() {
	id := q.idParam("command_id")
	if id == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		c, e := q.s.st.commandForManage(id, q.sess.userID, false)
		if e != nil {
			return nil, e
		}
		return c.cmd, nil
	})
}

// deleteCommand is DELETE /commands/{command_id}: soft delete,
// {"status":"OK"}.
func (q *request) deleteCommand() {
	id := q.idParam("command_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		c, e := s.st.commandForManage(id, q.sess.userID, true)
		if e != nil {
			return nil, e
		}
		now := s.millis()
		c.cmd.DeleteAt, c.cmd.UpdateAt = now, now
		s.touch()
		return statusOK{}, nil
	})
}
