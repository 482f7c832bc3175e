package mmtest

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// FailNext makes the next n API requests (REST and webhooks, not WebSocket
// upgrades) fail with status without taking effect. A 429 is answered like
// the rate limiter does (plain-text "limit exceeded", Retry-After: 1);
// any other status gets an AppError body with id "mmtest.fault.app_error".
// n <= 0 cancels pending failures.
func (s *Server) FailNext(n, status int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failN, s.failStatus = max(n, 0), status
}

// SetLatency delays every later request by d before it is handled (0 turns
// it off). The delay ends early if the client gives up.
func (s *Server) SetLatency(d time.Duration) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.latency = d
}

// DropNextResponses makes the next n API requests take effect normally and
// then lose their answer: the server closes the connection without writing
// a response, as when a proxy or the network fails after the server
// committed. Use it to test retries with pending_post_id.
func (s *Server) DropNextResponses(n int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.dropN = max(n, 0)
}

// applyFaults applies latency and FailNext; it returns false when it wrote
// the answer itself.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) bool {
	if isWebSocketPath(r.URL.Path) {
		return true
	}
	s.faultMu.Lock()
	lat := s.latency
	fail := 0
	if s.failN > 0 {
		s.failN--
		fail = s.failStatus
	}
	s.faultMu.Unlock()
	if lat > 0 {
		if err := sleepCtx(r.Context(), lat); err != nil {
			return false
		}
	}
	if fail == 0 {
		return true
	}
	if fail == http.StatusTooManyRequests {
		h := w.Header()
		h.Set("Retry-After", "1")
		h.Set("X-Ratelimit-Limit", "1")
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", "1")
		http.Error(w, "limit exceeded", http.StatusTooManyRequests)
		return false
	}
	id := mattermost.NewID()
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("X-Version-Id", s.verID)
	writeError(w, id, apiError(fail, "mmtest.fault.app_error", ""))
	return false
}

func isWebSocketPath(p string) bool {
	return p == "/api/v4/websocket" || p == "/api/v4/websocket/"
}

// takeDrop reports whether this request's answer is to be dropped.
func (s *Server) takeDrop(r *http.Request) bool {
	if isWebSocketPath(r.URL.Path) {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.dropN == 0 {
		return false
	}
	s.dropN--
	return true
}

// droppingWriter swallows the answer; drop then closes the connection so
// the client sees the request fail after the server acted on it.
type droppingWriter struct {
	orig http.ResponseWriter
	h    http.Header
}

func (d *droppingWriter) Header() http.Header {
	if d.h == nil {
		d.h = make(http.Header)
	}
	return d.h
}
func (d *droppingWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (d *droppingWriter) WriteHeader(int)             {}

func (d *droppingWriter) drop() {
	conn, _, err := http.NewResponseController(d.orig).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a recorder): the best we can do is an
		// empty 502 so the client still sees a failure.
		http.Error(d.orig, strings.TrimSpace("mmtest: response dropped"), http.StatusBadGateway)
		return
	}
	_ = conn.Close() // the point is to break it
}
