package mmtest

import (
	"encoding/json"
	"net/http"
	"time"
)

// event is a WebSocket event as the REST side produces it; the hub turns it
// into frames. Broadcast scope follows model.WebsocketBroadcast: userID only
// that user; channelID members of the channel; teamID members of the team;
// none of them everyone. omitUsers are skipped.
type event struct {
	name      string
	data      map[string]any
	userID    string
	channelID string
	teamID    string
	omitUsers map[string]bool
}

// eventHub is what the server needs of the WebSocket hub.
type eventHub interface {
	http.Handler
	publish(event)
	dropAll()
	dropUser(userID string)
	refuseNew(d time.Duration)
	restart()
	sessionRevoked(token string)
	Close()
}

// publish hands evs to the hub, in order. Call it without s.mu held: the hub
// calls back into the server (membership checks).
func (s *Server) publish(evs []event) {
	for _, e := range evs {
		if f := s.onPublish; f != nil {
			f(e)
		}
		s.hub.publish(e)
	}
}

// jsonString encodes v the way the server embeds objects in event data: as
// a JSON string (post, reaction, channel, mentions...).
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// DropWebSockets closes every WebSocket connection abruptly. Clients may
// resume (connection_id + sequence_number) while their dead queue lasts.
func (s *Server) DropWebSockets() { s.hub.dropAll() }

// DropWebSocket closes the WebSocket connections of one user.
func (s *Server) DropWebSocket(userID string) { s.hub.dropUser(userID) }

// RefuseWebSockets makes WebSocket upgrades fail with 503 for d, as while
// a server is down. Open sockets are not touched.
func (s *Server) RefuseWebSockets(d time.Duration) { s.hub.refuseNew(d) }

// RestartWebSockets simulates a server restart for the WebSocket side: all
// sockets close and their resume state is lost, so reconnecting clients get
// a fresh hello with a new connection id.
func (s *Server) RestartWebSockets() { s.hub.restart() }
