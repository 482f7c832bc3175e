package mattermost

import (
	"net/http"
	"testing"
)

func TestPing(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{Login: "alice", Password: "pw"})
	mux.HandleFunc("POST /api/v4/users/login", func(w http.ResponseWriter, r *http.Request) {
		t.Error("Ping logged in")
	})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "")
		writeJSON(w, 200, map[string]any{"status": "OK", "ActiveSearchBackend": "database"})
	})
	status, resp, err := c.Ping(t.Context())
	if err != nil || status != "OK" || resp.StatusCode != 200 {
		t.Errorf("Ping() = %q, %v, %v; want OK", status, resp, err)
	}
}

func TestPingUnhealthy(t *testing.T) {
	c, mux, _ := setup(t, &ClientOptions{MaxRetries: -1})
	mux.HandleFunc("GET /api/v4/system/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, map[string]any{"status": "UNHEALTHY"})
	})
	if _, _, err := c.Ping(t.Context()); !isClass(err, ErrServer) {
		t.Errorf("Ping() = %v, want ErrServer", err)
	}
}
