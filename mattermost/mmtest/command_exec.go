package mmtest

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/matterbot/matterbot/mattermost"
)

// Running custom commands: the fake calls the command's URL as the server
// does (app/command.go tryExecuteCustomCommand, DoCommandRequest) and
// applies the answer (HandleCommandResponse, HandleCommandResponsePost,
// CreateCommandPost); later answers come through the run's response_url
// (CreateCommandWebhook, HandleCommandWebhook).

// commandTimeout is ServiceSettings.OutgoingIntegrationRequestsTimeout's
// default: how long the server waits for a command's URL.
const commandTimeout = 30 * time.Second

// maxCommandResponse is app.MaxIntegrationResponseSize: the part of a
// command's answer the server reads.
const maxCommandResponse = 1 << 20

// commandHookUses and commandHookLifetime bound a response_url: five
// answers (store CommandWebhook().TryUse(id, 5)) within 30 minutes
// (model.CommandWebhookLifetime).
const (
	commandHookUses     = 5
	commandHookLifetime = 30 * 60 * 1000 // ms
)

// commandHook is model.CommandWebhook: the response_url of one run of a
// custom command, which answers as the command's user in its channel.
type commandHook struct {
	id, commandID, userID, channelID, rootID string
	createAt                                 int64
	uses                                     int
}

// commandCall is a run of a custom command on its way to the command's
// URL.
type commandCall struct {
	cmd                       command
	userID, channelID, rootID string
	teamID                    string
	form                      url.Values
	clientTriggerID           string
}

// executeCommand is POST /commands/execute (api4/command.go
// executeCommand, app ExecuteCommand). Body model.CommandArgs
// (channel_id, team_id, root_id, command). A command that is not "/" and
// a word, or a bad channel id, is a 400
// api.command.execute_command.start.app_error; no create_post in the
// channel (an unknown one included) a 403; an archived channel a 400
// api.command.execute_command.deleted.error. In a direct or group channel
// team_id must be a team of the caller (else 403); elsewhere it is the
// channel's. Then:
//   - a custom command of the team (custom commands override built-ins):
//     the fake calls its URL as the server does (see callCommand) and
//     applies the answer (see commandResponse); the answer is the
//     model.CommandResponse, with the client's trigger_id;
//   - a built-in the fake runs (/away, /dnd, /offline, /online, /me,
//     /shrug): its response, posted in the channel for in_channel (as the
//     caller, with posted) or sent to the caller alone as an ephemeral
//     message, and answered as the model.CommandResponse;
//   - anything else: 404 api.command.execute_command.not_found.app_error.
func (q *request) executeCommand() {
	var args struct {
		ChannelID string `json:"channel_id"`
		TeamID    string `json:"team_id"`
		RootID    string `json:"root_id"`
		Command   string `json:"command"`
	}
	if !q.decode("command_args", &args) {
		return
	}
	if len(args.Command) <= 1 || !strings.HasPrefix(args.Command, "/") || !mattermost.IsValidID(args.ChannelID) {
		q.fail(apiError(http.StatusBadRequest, "api.command.execute_command.start.app_error", ""))
		return
	}
	trigger, message := args.Command, ""
	if i := strings.IndexFunc(args.Command, unicode.IsSpace); i >= 0 {
		trigger, message = args.Command[:i], args.Command[i+1:]
	}
	trigger = strings.TrimPrefix(strings.ToLower(trigger), "/")
	s := q.s
	var (
		evs  []event
		out  any
		call *commandCall
	)
	s.mu.Lock()
	e := func() *mattermost.APIError {
		st := s.st
		uid := q.sess.userID
		ch := st.channels[args.ChannelID]
		if ch == nil || !st.hasChannelPermission(ch, uid, permCreatePost) {
			return errPerm()
		}
		if ch.DeleteAt != 0 {
			return apiError(http.StatusBadRequest, "api.command.execute_command.deleted.error", "")
		}
		teamID := ch.TeamID
		if ch.Type == mattermost.ChannelDirect || ch.Type == mattermost.ChannelGroup {
			teamID = args.TeamID
			if !st.isTeamMember(teamID, uid) && !st.hasPermission(uid, permCreatePost) {
				return errPerm()
			}
		}
		for _, c := range st.teamCommands(teamID) {
			if c.Trigger == trigger {
				call = s.commandCall(c, uid, ch, teamID, args.RootID, message)
				return nil
			}
		}
		for _, b := range builtinCommands {
			if b.cmd.Trigger != trigger {
				continue
			}
			resp := b.run(s, uid, message, &evs)
			s.commandResponsePost(ch, uid, args.RootID, resp, false, &evs)
			out = resp
			return nil
		}
		return apiError(http.StatusNotFound, "api.command.execute_command.not_found.app_error", trigger)
	}()
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	if call == nil {
		s.publish(evs)
		q.reply(http.StatusOK, out)
		return
	}
	resp, e := s.callCommand(q.r.Context(), call)
	if e != nil {
		q.fail(e)
		return
	}
	s.mu.Lock()
	e = s.commandResponse(call.cmd, call.userID, call.channelID, call.rootID, resp, &evs)
	s.mu.Unlock()
	s.publish(evs) // what was posted stays posted, as on the server
	if e != nil {
		q.fail(e)
		return
	}
	resp.TriggerID = call.clientTriggerID
	q.reply(http.StatusOK, resp)
}

// commandCall prepares the request tryExecuteCustomCommand sends for a
// run of c by userID in ch, and the run's response_url. s.mu held.
func (s *Server) commandCall(c command, userID string, ch *mattermost.Channel, teamID, rootID, message string) *commandCall {
	st := s.st
	teamName := ""
	if t := st.teams[teamID]; t != nil {
		teamName = t.Name
	}
	userName := ""
	if u := st.users[userID]; u != nil {
		userName = u.user.Username
	}
	clientTrigger, trigger := s.triggerID(userID)
	p := url.Values{}
	p.Set("token", c.Token)
	p.Set("team_id", c.TeamID)
	p.Set("team_domain", teamName)
	p.Set("channel_id", ch.ID)
	p.Set("channel_name", ch.Name)
	p.Set("user_id", userID)
	p.Set("user_name", userName)
	p.Set("command", "/"+c.Trigger)
	p.Set("text", message)
	p.Set("trigger_id", trigger)
	p.Set("root_id", rootID)
	s.commandMentions(p, teamID, message)
	now := s.millis()
	h := &commandHook{id: mattermost.NewID(), commandID: c.ID, userID: userID, channelID: ch.ID, rootID: rootID, createAt: now}
	if st.cmdHooks == nil {
		st.cmdHooks = map[string]*commandHook{}
	}
	st.cmdHooks[h.id] = h
	// The server uses its SiteURL; the fake's is its own address.
	p.Set("response_url", s.URL()+"/hooks/commands/"+h.id)
	return &commandCall{cmd: c, userID: userID, channelID: ch.ID, rootID: rootID, teamID: teamID, form: p, clientTriggerID: clientTrigger}
}

// triggerID returns a new trigger id for userID in the two forms of
// model.GenerateTriggerId: the client's (an id) and the one a command or
// action receives, signed, which POST /actions/dialogs/open takes (see
// newTriggerID).
func (s *Server) triggerID(userID string) (client, full string) {
	return s.newTriggerID(userID)
}

var (
	// atMention is app/command.go atMentionRegexp.
	atMention = regexp.MustCompile(`\B@[[:alnum:]][[:alnum:]\.\-_:]*`)
	// tildeMention is model.ChannelMentions' pattern.
	tildeMention = regexp.MustCompile(`\B~[a-zA-Z0-9\-\_]+`)
)

// commandMentions adds the mention maps tryExecuteCustomCommand sends:
// user_mentions and user_mentions_ids for the @names of the team's
// members (MentionsToTeamMembers, trailing ".-_" trimmed as there), and
// channel_mentions and channel_mentions_ids for the ~names of the
// team's public channels (MentionsToPublicChannels). s.mu held.
func (s *Server) commandMentions(p url.Values, teamID, message string) {
	st := s.st
	seen := map[string]bool{}
	for _, m := range atMention.FindAllString(message, -1) {
		name := strings.ToLower(m[1:])
		for name != "" && !seen[name] {
			if id, ok := st.byUsername[name]; ok {
				seen[name] = true
				if st.isTeamMember(teamID, id) {
					p.Add("user_mentions", name)
					p.Add("user_mentions_ids", id)
				}
				break
			}
			if !strings.ContainsAny(name[len(name)-1:], ".-_") {
				break
			}
			name = name[:len(name)-1]
		}
	}
	seen = map[string]bool{}
	for _, m := range tildeMention.FindAllString(message, -1) {
		name := m[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		ch := st.channels[st.channelByName[teamID+"/"+name]]
		if ch != nil && ch.Type == mattermost.ChannelOpen && ch.DeleteAt == 0 {
			p.Add("channel_mentions", name)
			p.Add("channel_mentions_ids", ch.ID)
		}
	}
}

// callCommand calls the command's URL as DoCommandRequest does: a POST
// of the form (application/x-www-form-urlencoded), or for method "G" a
// GET with the form in the query, with "Accept: application/json" and
// "Authorization: Token <the command's token>", for at most
// commandTimeout. An unreachable URL is a 500
// api.command.execute_command.failed.app_error, an answer other than 200
// a 500 api.command.execute_command.failed_resp.app_error, an empty one
// api.command.execute_command.failed_empty.app_error. The answer is read
// as model.CommandResponseFromHTTPBody does: JSON when its Content-Type
// says so, else plain text for an ephemeral response.
//
// Unlike a default server, the fake calls loopback and private addresses
// (the server refuses them unless listed in
// ServiceSettings.AllowedUntrustedInternalConnections).
func (s *Server) callCommand(ctx context.Context, c *commandCall) (*commandResponse, *mattermost.APIError) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commandTimeout)
	defer cancel()
	failed := apiError(http.StatusInternalServerError, "api.command.execute_command.failed.app_error", c.cmd.Trigger)
	var (
		req *http.Request
		err error
	)
	if c.cmd.Method == "G" {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.cmd.URL, nil)
		if err == nil {
			if req.URL.RawQuery != "" {
				req.URL.RawQuery += "&"
			}
			req.URL.RawQuery += c.form.Encode()
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.cmd.URL, strings.NewReader(c.form.Encode()))
	}
	if err != nil {
		return nil, failed
	}
	req.Header.Set("Accept", "application/json")
	if c.cmd.Token != "" {
		req.Header.Set("Authorization", "Token "+c.cmd.Token)
	}
	if c.cmd.Method != "G" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.logger.Debug("command request failed", "trigger", c.cmd.Trigger, "err", err)
		return nil, failed
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCommandResponse))
	if err != nil {
		return nil, failed
	}
	if resp.StatusCode != http.StatusOK {
		e := apiError(http.StatusInternalServerError, "api.command.execute_command.failed_resp.app_error", c.cmd.Trigger)
		e.Message = strings.ReplaceAll(e.Message, "{{.Status}}", resp.Status)
		return nil, e
	}
	out, ok := parseCommandResponse(resp.Header.Get("Content-Type"), body)
	if !ok {
		return nil, failed
	}
	if out == nil {
		return nil, apiError(http.StatusInternalServerError, "api.command.execute_command.failed_empty.app_error", c.cmd.Trigger)
	}
	return out, nil
}

// parseCommandResponse is model.CommandResponseFromHTTPBody: JSON for an
// application/json Content-Type (ok false when it does not decode), else
// the body as the text.
func parseCommandResponse(contentType string, body []byte) (*commandResponse, bool) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		var r *commandResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, false
		}
		return r, true
	}
	return &commandResponse{Text: string(body)}, true
}

// commandResponse applies a custom command's answer as
// HandleCommandResponse does: the response, then each of its
// extra_responses, through commandResponsePost as a non-built-in
// command's (from_webhook). A response naming a channel_id the user is
// not a member of is refused (api.command.command_post.forbidden); any
// refusal makes the whole a 500
// api.command.execute_command.create_post_failed.app_error once the
// others are posted. s.mu held.
func (s *Server) commandResponse(c command, userID, channelID, rootID string, resp *commandResponse, evs *[]event) *mattermost.APIError {
	var failed bool
	for _, r := range append([]*commandResponse{resp}, resp.extra()...) {
		target := channelID
		if r.ChannelID != "" {
			if !s.st.isChannelMember(r.ChannelID, userID) {
				failed = true
				continue
			}
			target = r.ChannelID
		}
		ch := s.st.channels[target]
		if ch == nil {
			failed = true
			continue
		}
		if !s.commandResponsePost(ch, userID, rootID, *r, true, evs) {
			failed = true
		}
	}
	if failed {
		return apiError(http.StatusInternalServerError, "api.command.execute_command.create_post_failed.app_error", c.Trigger)
	}
	return nil
}

// extra returns the extra responses that are there.
func (r *commandResponse) extra() []*commandResponse {
	var out []*commandResponse
	for i := range r.ExtraResponses {
		out = append(out, &r.ExtraResponses[i])
	}
	return out
}

// commandResponsePost delivers one response as HandleCommandResponsePost
// and CreateCommandPost do: the post is the caller's (user_id), in the
// command's channel and thread; a custom command's (fromWebhook) carries
// from_webhook "true" (the fake keeps EnablePostUsernameOverride and
// EnablePostIconOverride off, their defaults, so no override_* props);
// attachments go to props.attachments with type slack_attachment
// (model.ParseMessageAttachment). in_channel creates the post, with its
// posted event; ephemeral (or no type) with text or attachments sends it
// to the caller alone as an ephemeral_message event. It reports false
// when the post could not be made. s.mu held.
func (s *Server) commandResponsePost(ch *mattermost.Channel, userID, rootID string, resp commandResponse, fromWebhook bool, evs *[]event) bool {
	props := map[string]any{}
	for k, v := range resp.Props {
		props[k] = v
	}
	if fromWebhook {
		props["from_webhook"] = "true"
	}
	typ := resp.Type
	if len(resp.Attachments) > 0 {
		props["attachments"] = resp.Attachments
		if typ == "" {
			typ = mattermost.PostTypeAttachment
		}
	}
	if len(props) == 0 {
		props = nil
	}
	p := &mattermost.Post{ChannelID: ch.ID, UserID: userID, RootID: rootID, Type: typ, Message: resp.Text, Props: props}
	ok := true
	switch {
	case resp.ResponseType == "in_channel":
		_, _, e := s.createPost(p, postOpts{setOnline: true, markViewed: !fromWebhook}, evs)
		ok = e == nil
	case resp.Text != "" || len(resp.Attachments) > 0:
		p.ID, p.CreateAt, p.Type, p.ParentID = mattermost.NewID(), s.millis(), mattermost.PostTypeEphemeral, rootID
		out := s.postOut(p)
		*evs = append(*evs, event{name: "ephemeral_message", userID: userID, channelID: ch.ID,
			data: map[string]any{"post": jsonString(&out)}})
	}
	s.touch()
	return ok
}

// postCommandHook is POST /hooks/commands/{id} (web/webhook.go
// commandWebhook, app HandleCommandWebhook): a later answer of a command
// run, through its response_url, applied like the first (commandResponse)
// as the run's user in its channel and thread. The body is a
// model.CommandResponse, JSON or plain text by its Content-Type (400
// app.command_webhook.handle_command_webhook.parse when it does not
// decode); an unknown or expired hook is a 404
// app.command_webhook.get.missing, a sixth use a 400
// app.command_webhook.try_use.invalid. 200 "ok".
func (q *request) postCommandHook() {
	id := q.params["hook_id"]
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, maxPayload))
	if err != nil {
		q.fail(apiError(http.StatusBadRequest, "app.command_webhook.handle_command_webhook.parse", ""))
		return
	}
	resp, ok := parseCommandResponse(q.r.Header.Get("Content-Type"), body)
	if !ok || resp == nil {
		q.fail(apiError(http.StatusBadRequest, "app.command_webhook.handle_command_webhook.parse", ""))
		return
	}
	s := q.s
	var evs []event
	s.mu.Lock()
	e := func() *mattermost.APIError {
		h := s.st.cmdHooks[id]
		// Found while CreateAt > now - CommandWebhookLifetime.
		if h == nil || s.millis()-h.createAt >= commandHookLifetime {
			return apiError(http.StatusNotFound, "app.command_webhook.get.missing", "")
		}
		rec := s.st.commands[h.commandID]
		if rec == nil || rec.cmd.DeleteAt != 0 {
			return apiError(http.StatusNotFound, "store.sql_command.save.get.app_error", "")
		}
		if h.uses >= commandHookUses {
			return apiError(http.StatusBadRequest, "app.command_webhook.try_use.invalid", "")
		}
		h.uses++
		return s.commandResponse(rec.cmd, h.userID, h.channelID, h.rootID, resp, &evs)
	}()
	s.mu.Unlock()
	s.publish(evs)
	if e != nil {
		q.fail(e)
		return
	}
	q.w.Header().Set("Content-Type", "text/plain")
	q.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(q.w, "ok")
}

// updateCommand is PUT /commands/{command_id} (api4/command.go
// updateCommand, app UpdateCommand): the body's id must be the path's
// (400 invalid_body_param command); an unknown command is a 404; the
// body's team_id must be the command's (400
// api.command.team_mismatch.app_error); without manage_slash_commands on
// the team the command is not found (404, so its existence does not
// leak); another's command needs manage_others_slash_commands (403).
// The command keeps its id, token, creation time, creator and team; the
// trigger is lowercased and checked for uniqueness, then the rest as
// model.Command.IsValid. 200 with the command.
func (q *request) updateCommand() {
	id := q.idParam("command_id")
	if id == "" {
		return
	}
	var c command
	if !q.decode("command", &c) {
		return
	}
	if c.ID != id {
		q.failParam("command")
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		uid := q.sess.userID
		old := st.commands[id]
		if old == nil || old.cmd.DeleteAt != 0 {
			return nil, apiError(http.StatusNotFound, "store.sql_command.save.get.app_error", "")
		}
		if c.TeamID != old.cmd.TeamID {
			return nil, apiError(http.StatusBadRequest, "api.command.team_mismatch.app_error", "")
		}
		if !st.hasTeamPermission(old.cmd.TeamID, uid, permManageSlashCommands) {
			return nil, apiError(http.StatusNotFound, "store.sql_command.save.get.app_error", "")
		}
		if uid != old.cmd.CreatorID && !st.hasTeamPermission(old.cmd.TeamID, uid, permManageOthersSlashCommands) {
			return nil, errPerm()
		}
		c.Trigger = strings.ToLower(c.Trigger)
		c.ID, c.Token, c.CreateAt, c.DeleteAt = old.cmd.ID, old.cmd.Token, old.cmd.CreateAt, old.cmd.DeleteAt
		c.CreatorID, c.PluginID, c.TeamID = old.cmd.CreatorID, old.cmd.PluginID, old.cmd.TeamID
		c.UpdateAt = s.millis()
		for _, tc := range st.teamCommands(c.TeamID) {
			if tc.ID != c.ID && tc.Trigger == c.Trigger {
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
		old.cmd = c
		s.touch()
		return c, nil
	})
}
