package mmtest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestPreferences follows api4/preference.go and app/preference.go: save,
// read all, by category, by name, delete; the events; the checks.
func TestPreferences(t *testing.T) {
	w := newWorld(t, nil)
	me := w.alice.ID
	prefs := []preference{
		{UserID: me, Category: "display_settings", Name: "use_military_time", Value: "true"},
		{UserID: me, Category: "direct_channel_show", Name: w.bob.ID, Value: "true"},
	}
	expect(t, "save", w.do(t, "PUT", "/users/me/preferences", w.aliceTok, prefs), ok(200))
	var names []string
	for _, e := range w.takeEvents() {
		if e.userID == me {
			names = append(names, e.name)
		}
	}
	if diff := cmp.Diff([]string{"sidebar_category_updated", "preferences_changed"}, names); diff != "" {
		t.Errorf("events to alice (-want +got):\n%s", diff)
	}

	var got []preference
	w.do(t, "GET", "/users/me/preferences", w.aliceTok, nil).json(t, &got)
	if diff := cmp.Diff([]preference{prefs[1], prefs[0]}, got); diff != "" {
		t.Errorf("all, by category (-want +got):\n%s", diff)
	}
	w.do(t, "GET", "/users/"+me+"/preferences/display_settings", w.aliceTok, nil).json(t, &got)
	if diff := cmp.Diff([]preference{prefs[0]}, got); diff != "" {
		t.Errorf("by category (-want +got):\n%s", diff)
	}
	var one preference
	w.do(t, "GET", "/users/me/preferences/display_settings/name/use_military_time", w.aliceTok, nil).json(t, &one)
	if one != prefs[0] {
		t.Errorf("by name = %+v, want %+v", one, prefs[0])
	}
	expect(t, "delete", w.do(t, "POST", "/users/me/preferences/delete", w.aliceTok, prefs[:1]), ok(200))
	expect(t, "an empty category", w.do(t, "GET", "/users/me/preferences/display_settings", w.aliceTok, nil),
		answer{404, "api.preference.preferences_category.get.app_error"})
	expect(t, "an unknown name", w.do(t, "GET", "/users/me/preferences/display_settings/name/use_military_time", w.aliceTok, nil),
		answer{400, "app.preference.get.app_error"})

	post := w.post(t, w.bobTok, w.ops.ID, "flag me")
	secret := w.privateChannel(t, "secret", w.bob)
	hidden := w.post(t, w.bobTok, secret.ID, "not for alice")
	for _, tc := range []struct {
		name string
		path string
		body any
		want answer
	}{
		{"another user's", "/users/" + w.bob.ID + "/preferences", nil, answer{403, idPerm}},
		{"another user_id in the body", "/users/me/preferences", []preference{{UserID: w.bob.ID, Category: "c", Name: "n"}}, answer{403, "api.preference.update_preferences.set.app_error"}},
		{"no category", "/users/me/preferences", []preference{{UserID: me, Name: "n"}}, answer{400, "model.preference.is_valid.category.app_error"}},
		{"too long a name", "/users/me/preferences", []preference{{UserID: me, Category: "c", Name: strings.Repeat("n", 33)}}, answer{400, "model.preference.is_valid.name.app_error"}},
		{"too long a value", "/users/me/preferences", []preference{{UserID: me, Category: "c", Name: "n", Value: strings.Repeat("v", 2001)}}, answer{400, "model.preference.is_valid.value.app_error"}},
		{"not a list", "/users/me/preferences", map[string]string{}, answer{400, idBodyParm}},
		{"flag a post", "/users/me/preferences", []preference{{UserID: me, Category: "flagged_post", Name: post.ID, Value: "true"}}, ok(200)},
		{"flag an unknown post", "/users/me/preferences", []preference{{UserID: me, Category: "flagged_post", Name: mattermost.NewID(), Value: "true"}}, answer{400, idBodyParm}},
		{"flag an unreadable post", "/users/me/preferences", []preference{{UserID: me, Category: "flagged_post", Name: hidden.ID, Value: "true"}}, answer{403, idPerm}},
		{"delete another user_id", "/users/me/preferences/delete", []preference{{UserID: w.bob.ID, Category: "c", Name: "n"}}, answer{403, "api.preference.delete_preferences.delete.app_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "PUT"
			switch {
			case tc.body == nil:
				method = "GET"
			case strings.HasSuffix(tc.path, "/delete"):
				method = "POST"
			}
			expect(t, method+" "+tc.path, w.do(t, method, tc.path, w.aliceTok, tc.body), tc.want)
		})
	}
	// None of the refused lists was saved.
	w.do(t, "GET", "/users/me/preferences", w.aliceTok, nil).json(t, &got)
	if len(got) != 2 || got[1].Category != "flagged_post" {
		t.Errorf("after the refusals = %+v, want direct_channel_show and the flag", got)
	}
}
