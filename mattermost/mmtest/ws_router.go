package mmtest

import (
	"errors"
	"strings"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// route handles one client request as WebSocketRouter.ServeWebSocket does
// (server/channels/app/platform/websocket_router.go), in its order: plugin
// actions are ignored, then missing action, bad seq, the authentication
// challenge, the session check, and the action handlers
// (server/channels/wsapi). Replies to an unregistered (unauthenticated)
// socket are dropped by reply, so such a socket never gets an answer.
func (h *hub) route(s *wsSocket, req wsRequest) {
	conn := s.conn
	if strings.HasPrefix(req.Action, "custom_") {
		return // for plugins only (readPump)
	}
	if req.Action == "" {
		h.reply(conn, fail(req.Seq, errNoAction()))
		return
	}
	if req.Seq <= 0 {
		h.reply(conn, fail(req.Seq, errBadSeq()))
		return
	}
	if req.Action == "authentication_challenge" {
		h.challenge(s, req)
		return
	}
	h.mu.Lock()
	authed := conn.registered && !conn.revoked
	userID := conn.userID
	h.mu.Unlock()
	if !authed {
		h.reply(conn, fail(req.Seq, errNotAuthenticated()))
		return
	}
	data, appErr := h.action(userID, req)
	if appErr != nil {
		h.reply(conn, fail(req.Seq, appErr))
		return
	}
	h.reply(conn, wsResponse{Status: "OK", SeqReply: req.Seq, Data: data})
}

func fail(seq int64, e *wsAppError) wsResponse {
	return wsResponse{Status: "FAIL", SeqReply: seq, Error: e}
}

// challenge is the authentication_challenge action. A socket that already
// has a live session ignores it; a missing or bad token closes the socket
// with no reply; a good one registers the connection, queues its hello and
// then the OK reply, so hello arrives first (recorded/ws_auth_challenge_*).
// A socket whose session was revoked may authenticate again, as the real
// one may once IsAuthenticated has cleared its token.
func (h *hub) challenge(s *wsSocket, req wsRequest) {
	conn := s.conn
	h.mu.Lock()
	authed := conn.registered && !conn.revoked
	h.mu.Unlock()
	if authed {
		return
	}
	token, ok := req.Data["token"].(string)
	if !ok {
		s.stop()
		return
	}
	userID, ok := h.opts.Authenticate(token)
	if !ok {
		s.stop()
		return
	}
	h.mu.Lock()
	if conn.removed || h.closed {
		h.mu.Unlock()
		return
	}
	if !conn.registered {
		conn.userID, conn.token = userID, token
		h.register(conn)
	} else {
		if conn.userID != userID {
			if m := h.byUser[conn.userID]; m != nil {
				delete(m, conn)
				if len(m) == 0 {
					delete(h.byUser, conn.userID)
				}
			}
			conn.userID = userID
			h.indexUser(conn)
		}
		conn.token, conn.revoked = token, false
		if hello, err := conn.helloEvent(); err == nil {
			h.enqueue(conn, hello)
		}
	}
	h.mu.Unlock()
	h.reply(conn, wsResponse{Status: "OK", SeqReply: req.Seq})
	if h.opts.OnConnect != nil {
		h.opts.OnConnect(userID)
	}
}

// action runs the handler of an authenticated request and returns the
// reply's data or error.
func (h *hub) action(userID string, req wsRequest) (map[string]any, *wsAppError) {
	switch req.Action {
	case "ping": // wsapi/system.go ping
		return map[string]any{
			"text":        "pong",
			"version":     h.version,
			"server_time": time.Now().UnixMilli(),
			"node_id":     "",
		}, nil
	case "posted_notify_ack": // wsapi/system.go: counted, nothing else
		return nil, nil
	case "user_typing":
		return nil, h.userTyping(userID, req)
	case "user_update_active_status": // wsapi/user.go; status is not changed
		if _, ok := req.Data["user_is_active"].(bool); !ok {
			return nil, errInvalidParam("user_is_active")
		}
		return nil, nil
	case "get_statuses": // wsapi/status.go
		return h.statuses(nil), nil
	case "get_statuses_by_ids":
		ids := stringsOf(req.Data["user_ids"])
		if len(ids) == 0 {
			return nil, errInvalidParam("user_ids")
		}
		return h.statuses(ids), nil
	default:
		return nil, errBadAction()
	}
}

// userTyping is wsapi/user.go userTyping: channel_id must be a well-formed
// id the user may post in; the typing event goes to the channel, omitting
// the typist (app.PublishUserTyping).
func (h *hub) userTyping(userID string, req wsRequest) *wsAppError {
	channelID, ok := req.Data["channel_id"].(string)
	if !ok || !mattermost.IsValidID(channelID) {
		return errInvalidParam("channel_id")
	}
	parentID, _ := req.Data["parent_id"].(string)
	if h.opts.OnTyping != nil {
		if err := h.opts.OnTyping(userID, channelID, parentID); err != nil {
			var ae *wsAppError
			if errors.As(err, &ae) {
				return ae
			}
			return errInvalidParam("channel_id")
		}
		return nil
	}
	if !h.isMember(&wsBroadcast{ChannelID: channelID}, userID) {
		return errInvalidParam("channel_id")
	}
	h.Publish(wsEvent{
		Event:     "typing",
		Data:      map[string]any{"parent_id": parentID, "user_id": userID},
		Broadcast: wsBroadcast{ChannelID: channelID, OmitUsers: map[string]bool{userID: true}},
	})
	return nil
}

// statuses is GetStatusesByIds: users without a status are "offline". nil
// ids asks for every known status (get_statuses).
func (h *hub) statuses(ids []string) map[string]any {
	var got map[string]string
	if h.opts.GetStatuses != nil {
		got = h.opts.GetStatuses(ids)
	}
	if ids == nil {
		out := make(map[string]any, len(got))
		for id, st := range got {
			out[id] = st
		}
		return out
	}
	out := make(map[string]any, len(ids))
	for _, id := range ids {
		if st, ok := got[id]; ok {
			out[id] = st
		} else {
			out[id] = "offline"
		}
	}
	return out
}

// stringsOf is model.ArrayFromInterface: the strings of a JSON array,
// skipping other values.
func stringsOf(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
