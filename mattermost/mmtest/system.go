package mmtest

import "net/http"

// ping is GET /system/ping (api4/system.go getSystemPing): no session
// needed; the fake sends the status and the one config-ish field clients
// look at.
func (q *request) ping() {
	q.reply(http.StatusOK, map[string]any{"status": "OK", "ActiveSearchBackend": "database"})
}
