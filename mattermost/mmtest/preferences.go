package mmtest

import (
	"net/http"
	"sort"
	"unicode/utf8"

	"github.com/matterbot/matterbot/mattermost"
)

// preference is model.Preference.
type preference struct {
	UserID   string `json:"user_id"`
	Category string `json:"category"`
	Name     string `json:"name"`
	Value    string `json:"value"`
}

// prefKey identifies a stored preference of a user.
type prefKey struct{ category, name string }

// preferenceValueMaxRunes is model.PreferenceValueMaxRunes.
const preferenceValueMaxRunes = 2000

// checkPreference is model.Preference.IsValid for the categories the fake
// treats alike (the theme category's JSON check is not made).
func checkPreference(p preference) *mattermost.APIError {
	switch {
	case !mattermost.IsValidID(p.UserID):
		return apiError(http.StatusBadRequest, "model.preference.is_valid.id.app_error", "")
	case p.Category == "" || len(p.Category) > 32:
		return apiError(http.StatusBadRequest, "model.preference.is_valid.category.app_error", "")
	case len(p.Name) > 32:
		return apiError(http.StatusBadRequest, "model.preference.is_valid.name.app_error", "")
	case utf8.RuneCountInString(p.Value) > preferenceValueMaxRunes:
		return apiError(http.StatusBadRequest, "model.preference.is_valid.value.app_error", "")
	}
	return nil
}

// userPrefs returns userID's preferences keep accepts, by category then
// name (the store has no order; the fake's is stable). s.mu held.
func (st *state) userPrefs(userID string, keep func(prefKey) bool) []preference {
	out := []preference{}
	for k, v := range st.prefs[userID] {
		if keep(k) {
			out = append(out, preference{UserID: userID, Category: k.category, Name: k.name, Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// prefsUser checks the user_id parameter and that the caller may act for
// that user (SessionHasPermissionToUser: oneself or edit_other_users, else
// 403), answering the error itself; it returns "" then.
func (q *request) prefsUser() string {
	uid := q.userParam()
	if uid == "" {
		return ""
	}
	s := q.s
	s.mu.Lock()
	ok := s.st.canActForUser(q.sess.userID, uid)
	s.mu.Unlock()
	if !ok {
		q.failPerm()
		return ""
	}
	return uid
}

// getPreferences is GET /users/{user_id}/preferences (api4/preference.go
// getPreferences). The fake stores what clients save; it seeds none (the
// server saves a few of its own, for the tutorial and the sidebar).
func (q *request) getPreferences() {
	uid := q.prefsUser()
	if uid == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		return q.s.st.userPrefs(uid, func(prefKey) bool { return true }), nil
	})
}

// getPreferencesByCategory is GET /users/{user_id}/preferences/{category}:
// 404 api.preference.preferences_category.get.app_error when the category
// is empty (app GetPreferenceByCategoryForUser).
func (q *request) getPreferencesByCategory() {
	uid := q.prefsUser()
	if uid == "" {
		return
	}
	cat := q.params["category"]
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := q.s.st.userPrefs(uid, func(k prefKey) bool { return k.category == cat })
		if len(out) == 0 {
			return nil, apiError(http.StatusNotFound, "api.preference.preferences_category.get.app_error", "")
		}
		return out, nil
	})
}

// getPreferenceByName is
// GET /users/{user_id}/preferences/{category}/name/{preference_name}: the
// preference, or 400 app.preference.get.app_error (app
// GetPreferenceByCategoryAndNameForUser wraps the store's not-found as a
// bad request).
func (q *request) getPreferenceByName() {
	uid := q.prefsUser()
	if uid == "" {
		return
	}
	k := prefKey{q.params["category"], q.params["preference_name"]}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		v, ok := q.s.st.prefs[uid][k]
		if !ok {
			return nil, apiError(http.StatusBadRequest, "app.preference.get.app_error", "")
		}
		return preference{UserID: uid, Category: k.category, Name: k.name, Value: v}, nil
	})
}

// updatePreferences is PUT /users/{user_id}/preferences
// (api4/preference.go updatePreferences → app UpdatePreferences): a list
// of preferences, 400 preferences when the body is not one; a
// flagged_post preference names a post (400 preference.name when unknown,
// 403 without read_channel on its channel); every user_id must be the
// URL's (403 api.preference.update_preferences.set.app_error); each is
// checked as model.Preference.IsValid does, and none is saved when one is
// bad. sidebar_category_updated then preferences_changed (the list as a
// JSON string) go to the user. {"status":"OK"}.
func (q *request) updatePreferences() {
	uid := q.prefsUser()
	if uid == "" {
		return
	}
	var prefs []preference
	if !q.decode("preferences", &prefs) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		st := s.st
		for _, p := range prefs {
			if p.Category != "flagged_post" {
				continue
			}
			post := st.posts[p.Name]
			if post == nil || post.DeleteAt != 0 {
				return nil, errParam("preference.name")
			}
			if st.readableChannel(post.ChannelID, q.sess.userID) == nil {
				return nil, errPerm()
			}
		}
		for _, p := range prefs {
			if p.UserID != uid {
				return nil, apiError(http.StatusForbidden, "api.preference.update_preferences.set.app_error", "")
			}
		}
		for _, p := range prefs {
			if e := checkPreference(p); e != nil {
				return nil, e
			}
		}
		if st.prefs == nil {
			st.prefs = map[string]map[prefKey]string{}
		}
		if st.prefs[uid] == nil {
			st.prefs[uid] = map[prefKey]string{}
		}
		for _, p := range prefs {
			st.prefs[uid][prefKey{p.Category, p.Name}] = p.Value
		}
		*evs = append(*evs,
			event{name: "sidebar_category_updated", userID: uid, data: map[string]any{}},
			event{name: "preferences_changed", userID: uid, data: map[string]any{"preferences": jsonString(prefs)}})
		s.touch()
		return statusOK{}, nil
	})
}

// deletePreferences is POST /users/{user_id}/preferences/delete (app
// DeletePreferences): every user_id must be the URL's (403
// api.preference.delete_preferences.delete.app_error); unknown ones are
// ignored. sidebar_category_updated and preferences_deleted follow.
func (q *request) deletePreferences() {
	uid := q.prefsUser()
	if uid == "" {
		return
	}
	var prefs []preference
	if !q.decode("preferences", &prefs) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		for _, p := range prefs {
			if p.UserID != uid {
				return nil, apiError(http.StatusForbidden, "api.preference.delete_preferences.delete.app_error", "")
			}
		}
		for _, p := range prefs {
			delete(s.st.prefs[uid], prefKey{p.Category, p.Name})
		}
		*evs = append(*evs,
			event{name: "sidebar_category_updated", userID: uid, data: map[string]any{}},
			event{name: "preferences_deleted", userID: uid, data: map[string]any{"preferences": jsonString(prefs)}})
		s.touch()
		return statusOK{}, nil
	})
}
