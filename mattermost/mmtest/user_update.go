package mmtest

import (
	"maps"
	"net/http"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// updateUserBody is the part of model.User that PUT /users/{user_id}
// replaces; the rest (roles, password, auth data, MFA, timestamps) is kept
// from the stored account, as store Update does for an update that is not
// trusted.
type updateUserBody struct {
	ID          string            `json:"id"`
	Username    string            `json:"username"`
	Email       string            `json:"email"`
	Password    string            `json:"password"`
	Nickname    string            `json:"nickname"`
	FirstName   string            `json:"first_name"`
	LastName    string            `json:"last_name"`
	Position    string            `json:"position"`
	Locale      string            `json:"locale"`
	Props       map[string]string `json:"props"`
	NotifyProps map[string]string `json:"notify_props"`
	Timezone    map[string]string `json:"timezone"`
}

// updateUser is PUT /users/{user_id}, the full update (api4/user.go
// updateUser, app UpdateUser): the body's id must be the URL's (400
// user_id); the user themself, edit_other_users, or the owner of a bot
// (SessionHasPermissionToUserOrBot), else 403; 404 for an unknown
// account; a system admin's account only with manage_system (403); a user
// changing their own e-mail must give their password (400 password). The
// username, e-mail, names, nickname, position, locale, props, notify
// props and timezone are replaced (an omitted one is cleared, except the
// locale, notify props and timezone, which keep their value when empty),
// checked as model.User.IsValid does, a taken username or e-mail being a
// 400. user_updated goes out; the answer is the user.
func (q *request) updateUser() {
	id := q.userParam()
	if id == "" {
		return
	}
	var body updateUserBody
	if !q.decode("user", &body) {
		return
	}
	if body.ID != id {
		q.failParam("user_id")
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		st := s.st
		uid := q.sess.userID
		rec := st.users[id]
		ownsBot := rec != nil && rec.user.IsBot && rec.ownerID == uid && st.hasPermission(uid, permManageBots)
		if !st.canActForUser(uid, id) && !ownsBot {
			return nil, errPerm()
		}
		if rec == nil {
			return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
		}
		if st.isAdmin(id) && !st.hasPermission(uid, permManageSystem) {
			return nil, errPerm()
		}
		name, email := strings.ToLower(body.Username), strings.ToLower(body.Email)
		if email != "" && email != rec.user.Email && uid == id && (rec.password == "" || body.Password != rec.password) {
			return nil, errParam("password")
		}
		switch {
		case !isValidUsername(name):
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.username.app_error", "")
		case !strings.Contains(email, "@") || len(email) > 128:
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.email.app_error", "")
		case runeLen(body.Nickname) > 64:
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.nickname.app_error", "")
		case runeLen(body.Position) > 128:
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.position.app_error", "")
		case runeLen(body.FirstName) > 64:
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.first_name.app_error", "")
		case runeLen(body.LastName) > 64:
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.last_name.app_error", "")
		}
		if other, taken := st.byUsername[name]; taken && other != id {
			return nil, apiError(http.StatusBadRequest, "app.user.save.username_exists.app_error", "")
		}
		if other, taken := st.byEmail[email]; taken && other != id {
			return nil, apiError(http.StatusBadRequest, "app.user.save.email_exists.app_error", "")
		}
		delete(st.byUsername, rec.user.Username)
		delete(st.byEmail, rec.user.Email)
		u := &rec.user
		u.Username, u.Email = name, email
		u.Nickname, u.FirstName, u.LastName, u.Position = body.Nickname, body.FirstName, body.LastName, body.Position
		u.Props = maps.Clone(body.Props)
		if body.Locale != "" {
			u.Locale = body.Locale
		}
		if body.NotifyProps != nil {
			u.NotifyProps = maps.Clone(body.NotifyProps)
		}
		if body.Timezone != nil {
			u.Timezone = maps.Clone(body.Timezone)
		}
		if u.IsBot {
			rec.botName = u.FirstName
		}
		u.UpdateAt = s.millis()
		st.byUsername[name] = id
		st.byEmail[email] = id
		*evs = userUpdatedEvents(rec)
		s.touch()
		return userOut(rec, id == uid), nil
	})
}
