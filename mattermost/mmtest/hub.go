package mmtest

import (
	"errors"
	"net/http"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// newEventHub builds the WebSocket hub (ws_hub.go) wired to the server's
// state: sessions authenticate sockets, memberships decide delivery.
func (s *Server) newEventHub(o WebSocketOptions) eventHub {
	return wsHubAdapter{newHub(hubOptions{
		Authenticate: func(token string) (string, bool) {
			ss := s.session(token)
			if ss == nil {
				return "", false
			}
			return ss.userID, true
		},
		IsChannelMember: func(channelID, userID string) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.st.isChannelMember(channelID, userID)
		},
		IsTeamMember: func(teamID, userID string) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.st.isTeamMember(teamID, userID)
		},
		OnTyping:      s.wsTyping,
		OnConnect:     s.wsConnected,
		OnDisconnect:  s.wsDisconnected,
		GetStatuses:   s.wsStatuses,
		ServerVersion: s.verID,
		// release-5.36 app/web_hub.go looks the connection up on a
		// resume; today's server/channels/app/platform/web_hub.go removes
		// it (RemoveInactiveByConnectionID).
		KeepOnBadResume: s.is536(),
		Logger:          s.logger,
		AuthTimeout:     o.AuthTimeout,
		PingInterval:    o.PingInterval,
		PongWait:        o.PongWait,
		ReapAfter:       o.ReapInactiveAfter,
	})}
}

// wsTyping is the user_typing action (wsapi/user.go userTyping): the user
// must be allowed to post in the channel; the typing event goes through
// publish like the REST one.
func (s *Server) wsTyping(userID, channelID, parentID string) error {
	s.mu.Lock()
	ch := s.st.channels[channelID]
	ok := ch != nil && s.st.canPost(ch, userID)
	s.mu.Unlock()
	if !ok {
		return errors.New("no create_post permission")
	}
	s.publish([]event{{name: "typing", channelID: channelID, omitUsers: map[string]bool{userID: true},
		data: map[string]any{"parent_id": parentID, "user_id": userID}}})
	return nil
}

// wsConnected sets the user online when a socket authenticates
// (platform/web_conn.go NewWebConn → SetStatusOnline), which publishes
// status_change to the user when the status changes, as recorded in
// ws_hello_header_auth.
func (s *Server) wsConnected(userID string) {
	var evs []event
	s.mu.Lock()
	s.setOnline(userID, &evs)
	s.mu.Unlock()
	s.publish(evs)
}

// wsDisconnected sets the user offline when its last socket ends
// (platform/web_hub.go, unregister → QueueSetStatusOffline).
func (s *Server) wsDisconnected(userID string) {
	var evs []event
	s.mu.Lock()
	if st := s.st.statuses[userID]; st != nil && !st.Manual && st.Status != mattermost.StatusOffline {
		st.Status = mattermost.StatusOffline
		evs = append(evs, event{name: "status_change", userID: userID,
			data: map[string]any{"status": mattermost.StatusOffline, "user_id": userID}})
	}
	s.mu.Unlock()
	s.publish(evs)
}

// wsStatuses answers get_statuses (ids nil: every known status) and
// get_statuses_by_ids.
func (s *Server) wsStatuses(ids []string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string)
	if ids == nil {
		for id, st := range s.st.statuses {
			if st.Status != mattermost.StatusOffline {
				out[id] = st.Status
			}
		}
		return out
	}
	for _, id := range ids {
		out[id] = s.st.statusOf(id).Status
	}
	return out
}

// wsHubAdapter turns the server's events into the hub's.
type wsHubAdapter struct{ h *hub }

func (a wsHubAdapter) publish(e event) {
	a.h.Publish(wsEvent{Event: e.name, Data: e.data, Broadcast: wsBroadcast{
		UserID: e.userID, ChannelID: e.channelID, TeamID: e.teamID, OmitUsers: e.omitUsers}})
}
func (a wsHubAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }
func (a wsHubAdapter) dropAll()                                         { a.h.DropAll() }
func (a wsHubAdapter) dropUser(userID string)                           { a.h.DropUser(userID) }
func (a wsHubAdapter) refuseNew(d time.Duration)                        { a.h.RefuseNew(d) }
func (a wsHubAdapter) restart()                                         { a.h.Restart() }
func (a wsHubAdapter) sessionRevoked(token string)                      { a.h.SessionRevoked(token) }
func (a wsHubAdapter) Close()                                           { a.h.Close() }
