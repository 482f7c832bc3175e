package mmtest

import (
	"net/http"
	"time"
)

// newEventHub builds the WebSocket hub. Until the hub of ws*.go is wired in,
// events go nowhere and upgrades are refused.
func (s *Server) newEventHub(o WebSocketOptions) eventHub {
	_ = o
	return nopHub{}
}

// nopHub drops events and refuses WebSocket upgrades.
type nopHub struct{}

func (nopHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "mmtest: websocket not available", http.StatusNotImplemented)
}
func (nopHub) publish(event)         {}
func (nopHub) dropAll()              {}
func (nopHub) dropUser(string)       {}
func (nopHub) refuseNew(time.Time)   {}
func (nopHub) restart()              {}
func (nopHub) sessionRevoked(string) {}
func (nopHub) Close()                {}
