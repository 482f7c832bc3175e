package mmtest

import "net/http"

// ping is GET /system/ping (getSystemPing): no session needed. The
// ClientRequirements versions are "" (their default), the goroutine
// health check always passes, and the file store and database are
// healthy.
func (q *request) ping() {
	full := q.r.FormValue("get_server_status")
	if q.s.is536() {
		// release-5.36 api4/system.go getSystemPing: a map[string]string
		// of the status and the six ClientRequirements versions, desktop
		// ones included; any get_server_status value adds the health keys.
		s := map[string]string{
			"status":               "OK",
			"AndroidLatestVersion": "", "AndroidMinVersion": "",
			"DesktopLatestVersion": "", "DesktopMinVersion": "",
			"IosLatestVersion": "", "IosMinVersion": "",
		}
		if full != "" {
			s["database_status"], s["filestore_status"] = "OK", "OK"
			q.healthHeaders()
		}
		q.reply(http.StatusOK, s)
		return
	}
	// server/channels/api4/system.go getSystemPing: the desktop versions
	// are gone, ActiveSearchBackend is always there ("database" without
	// Elasticsearch or Bleve), and only get_server_status=true adds the
	// health keys, with root_status for a system admin.
	s := map[string]any{
		"status":               "OK",
		"AndroidLatestVersion": "", "AndroidMinVersion": "",
		"IosLatestVersion": "", "IosMinVersion": "",
		"ActiveSearchBackend": "database",
	}
	if full == "true" {
		s["database_status"], s["filestore_status"] = "OK", "OK"
		q.healthHeaders()
		if q.sess != nil {
			q.s.mu.Lock()
			admin := q.s.st.isAdmin(q.sess.userID)
			q.s.mu.Unlock()
			if admin {
				s["root_status"] = false // the fake does not run as root
			}
		}
	}
	q.reply(http.StatusOK, s)
}

// healthHeaders sets the headers the enhanced ping adds.
func (q *request) healthHeaders() {
	h := q.w.Header()
	h.Set("status", "OK")
	h.Set("database_status", "OK")
	h.Set("filestore_status", "OK")
}
