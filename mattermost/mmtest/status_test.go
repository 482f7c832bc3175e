package mmtest

import (
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// PUT /users/{user_id}/status, as api4/status.go updateUserStatus.
func TestUpdateStatus(t *testing.T) {
	w := newWorld(t, nil)
	body := func(userID, status string) map[string]any {
		return map[string]any{"user_id": userID, "status": status}
	}
	tests := []struct {
		name       string
		path, tok  string
		body       any
		wantStatus int
		wantID     string // error id, or "" for a 200 with the status
		wantParam  string
	}{
		{"self, away", "/users/" + w.alice.ID + "/status", w.aliceTok, body(w.alice.ID, "away"), 200, "", ""},
		{"me, dnd", "/users/me/status", w.aliceTok, body(w.alice.ID, "dnd"), 200, "", ""},
		{"admin for another", "/users/" + w.bob.ID + "/status", w.rootTok, body(w.bob.ID, "offline"), 200, "", ""},
		{"another user", "/users/" + w.bob.ID + "/status", w.aliceTok, body(w.bob.ID, "away"), 403, "api.context.permissions.app_error", ""},
		{"user_id differs from the URL", "/users/" + w.alice.ID + "/status", w.aliceTok, body(w.bob.ID, "away"), 400, "api.context.invalid_body_param.app_error", "user_id"},
		{"unknown status", "/users/" + w.alice.ID + "/status", w.aliceTok, body(w.alice.ID, "busy"), 400, "api.context.invalid_body_param.app_error", "status"},
		{"not JSON", "/users/" + w.alice.ID + "/status", w.aliceTok, "{", 400, "api.context.invalid_body_param.app_error", "status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.takeEvents()
			r := w.do(t, "PUT", tc.path, tc.tok, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("PUT %s = %d %s, want %d", tc.path, r.status, r.body, tc.wantStatus)
			}
			if tc.wantID != "" {
				var e mattermost.APIError
				r.json(t, &e)
				if e.ID != tc.wantID || !strings.Contains(e.Message, tc.wantParam) {
					t.Errorf("error = %s, want id %s naming %q", r.body, tc.wantID, tc.wantParam)
				}
				if evs := w.takeEvents(); len(evs) != 0 {
					t.Errorf("a refused update published %d events", len(evs))
				}
				return
			}
			var st mattermost.Status
			r.json(t, &st)
			in := tc.body.(map[string]any)
			if st.UserID != in["user_id"] || st.Status != in["status"] {
				t.Errorf("answer = %+v, want %v", st, in)
			}
			// The status is kept, and status_change goes to that user only.
			got := w.do(t, "GET", "/users/"+st.UserID+"/status", w.bobTok, nil)
			var again mattermost.Status
			got.json(t, &again)
			if again.Status != st.Status {
				t.Errorf("GET status after PUT = %q, want %q", again.Status, st.Status)
			}
			evs := w.takeEvents()
			if len(evs) != 1 || evs[0].name != "status_change" || evs[0].userID != st.UserID || evs[0].data["status"] != st.Status {
				t.Errorf("events = %+v, want one status_change to %s", evs, st.UserID)
			}
		})
	}
}
