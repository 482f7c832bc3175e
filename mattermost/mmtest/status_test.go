package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestStatusesByIDs: POST /users/status/ids as api4/status.go
// getUserStatusesByIds answers it.
func TestStatusesByIDs(t *testing.T) {
	w := newWorld(t, nil)
	if err := w.srv.SetStatus(w.bob.ID, mattermost.StatusDND); err != nil {
		t.Fatal(err)
	}
	unknown := mattermost.NewID()
	r := w.do(t, "POST", "/users/status/ids", w.aliceTok, []string{w.bob.ID, unknown, w.bob.ID})
	var got []mattermost.Status
	r.json(t, &got)
	want := map[string]string{w.bob.ID: mattermost.StatusDND, unknown: mattermost.StatusOffline}
	seen := map[string]string{}
	for _, s := range got {
		seen[s.UserID] = s.Status
	}
	if r.status != 200 || len(got) != 2 {
		t.Errorf("POST /users/status/ids = %d %s, want 200 and two statuses (the duplicate dropped)", r.status, r.body)
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name  string
		body  any
		token string
		want  int
		id    string
	}{
		{"empty list", []string{}, w.aliceTok, 400, "api.context.invalid_body_param.app_error"},
		{"bad id", []string{"short"}, w.aliceTok, 400, "api.context.invalid_body_param.app_error"},
		{"not a list", `{"user_ids":[]}`, w.aliceTok, 400, "api.context.invalid_body_param.app_error"},
		{"no session", []string{w.bob.ID}, "", 401, "api.context.session_expired.app_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/users/status/ids", tc.token, tc.body)
			if r.status != tc.want || errID(t, r) != tc.id {
				t.Errorf("POST /users/status/ids %v = %d %s, want %d %s", tc.body, r.status, r.body, tc.want, tc.id)
			}
		})
	}
}
