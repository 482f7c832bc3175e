package mmtest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// createHook stores an incoming webhook posting into channelID as userID.
// s.mu held.
func (s *Server) createHook(channelID, userID, displayName, description string) (*mattermost.IncomingWebhook, *mattermost.APIError) {
	ch := s.st.channels[channelID]
	if ch == nil || ch.TeamID == "" {
		return nil, errParam("channel_id")
	}
	if s.st.users[userID] == nil {
		return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
	}
	now := s.millis()
	h := &mattermost.IncomingWebhook{ID: mattermost.NewID(), CreateAt: now, UpdateAt: now, UserID: userID,
		ChannelID: channelID, TeamID: ch.TeamID, DisplayName: displayName, Description: description}
	s.st.hooks[h.ID] = h
	return h, nil
}

// createHookAPI is POST /hooks/incoming (api4/webhook.go createIncomingHook):
// needs manage_incoming_webhooks on the channel's team, by the team
// membership's roles or the user's (team_admin, system_admin; plain users
// lack it: 403, recorded), so never in a direct or group channel, which
// has no team; and, for a channel that is not public, read_channel on it.
func (q *request) createHookAPI() {
	var body mattermost.IncomingWebhook
	if !q.decode("incoming_webhook", &body) {
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(*[]event) (any, *mattermost.APIError) {
		ch := s.st.channels[body.ChannelID]
		if ch == nil { // app/channel.go GetChannel
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		}
		if !s.st.hasTeamPermission(ch.TeamID, q.sess.userID, permManageIncomingHooks) {
			return nil, errPerm()
		}
		if ch.Type != mattermost.ChannelOpen && !s.st.canReadChannel(ch, q.sess.userID) {
			return nil, errPerm()
		}
		h, e := s.createHook(body.ChannelID, q.sess.userID, body.DisplayName, body.Description)
		if e != nil {
			return nil, e
		}
		h.Username, h.IconURL, h.ChannelLocked = body.Username, body.IconURL, body.ChannelLocked
		return *h, nil
	})
}

// hookPayload is model.IncomingWebhookRequest.
type hookPayload struct {
	Text        string           `json:"text"`
	Username    string           `json:"username"`
	IconURL     string           `json:"icon_url"`
	ChannelName string           `json:"channel"`
	Props       map[string]any   `json:"props"`
	Attachments []map[string]any `json:"attachments"`
	Type        string           `json:"type"`
	IconEmoji   string           `json:"icon_emoji"`
}

// postHook is POST /hooks/{hook_id} (web/webhook.go incomingWebhook,
// app/webhook.go HandleIncomingWebhook): JSON, form payload= or multipart;
// answers 200 text/plain "ok". The post gets from_webhook, override_username
// ("webhook" unless the payload names one) and webhook_display_name; with
// attachments its type is slack_attachment.
func (q *request) postHook() {
	id := q.params["hook_id"]
	var payload hookPayload
	ct, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	var raw []byte
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := q.r.ParseForm(); err == nil {
			raw = []byte(q.r.PostFormValue("payload"))
		}
	case "multipart/form-data":
		if err := q.r.ParseMultipartForm(1 << 20); err == nil {
			raw = []byte(q.r.FormValue("payload"))
			if len(raw) == 0 {
				m := map[string]string{}
				for k, v := range q.r.MultipartForm.Value {
					if len(v) > 0 {
						m[k] = v[0]
					}
				}
				raw, _ = json.Marshal(m)
			}
		}
	default:
		raw, _ = io.ReadAll(io.LimitReader(q.r.Body, maxPayload))
	}
	s := q.s
	s.mu.Lock()
	h := s.st.hooks[id]
	s.mu.Unlock()
	if h == nil {
		q.fail(apiError(http.StatusBadRequest, "web.incoming_webhook.invalid.app_error", ""))
		return
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		q.fail(apiError(http.StatusBadRequest, "web.incoming_webhook.parse.app_error", ""))
		return
	}
	if payload.Text == "" && len(payload.Attachments) == 0 {
		q.fail(apiError(http.StatusBadRequest, "web.incoming_webhook.text.app_error", ""))
		return
	}
	var evs []event
	s.mu.Lock()
	h = s.st.hooks[id]
	channelID := h.ChannelID
	if payload.ChannelName != "" && !h.ChannelLocked {
		var ch *mattermost.Channel
		if name, ok := strings.CutPrefix(payload.ChannelName, "@"); ok {
			if uid, ok := s.st.byUsername[name]; ok {
				ch, _ = s.directChannel(h.UserID, uid, h.UserID, &evs)
			}
		} else {
			ch = s.st.channels[s.st.channelByName[h.TeamID+"/"+payload.ChannelName]]
		}
		if ch == nil {
			s.mu.Unlock()
			q.fail(apiError(http.StatusBadRequest, "web.incoming_webhook.channel.app_error", ""))
			return
		}
		channelID = ch.ID
	}
	props := map[string]any{}
	for k, v := range payload.Props {
		props[k] = v
	}
	override := "webhook"
	if h.Username != "" {
		override = h.Username
	}
	if payload.Username != "" {
		override = payload.Username
	}
	props["from_webhook"] = "true"
	props["override_username"] = override
	props["webhook_display_name"] = h.DisplayName
	if icon := payload.IconURL; icon != "" {
		props["override_icon_url"] = icon
	}
	typ := payload.Type
	if len(payload.Attachments) > 0 {
		props["attachments"] = payload.Attachments
		typ = mattermost.PostTypeAttachment
	}
	_, _, e := s.createPost(&mattermost.Post{ChannelID: channelID, UserID: h.UserID, Message: payload.Text, Type: typ, Props: props},
		postOpts{setOnline: true, senderName: override}, &evs)
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	s.publish(evs)
	q.w.Header().Set("Content-Type", "text/plain")
	q.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(q.w, "ok")
}
