package mmtest

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"sort"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// User describes an account to create through the back door.
type User struct {
	Username  string // required: 3–22 of [a-z0-9.-_], starting with a letter
	Password  string // for POST /users/login; empty means no password login
	Email     string // default "<username>@example.com"
	FirstName string
	LastName  string
	Nickname  string
	Admin     bool // system_admin: may do anything, like the real role
}

// defaultNotifyProps are the notify_props of a new account
// (model.User.SetDefaultNotifications).
func defaultNotifyProps() map[string]string {
	return map[string]string{
		"channel": "true", "comments": "never", "desktop": "mention", "desktop_sound": "true",
		"email": "true", "first_name": "false", "mention_keys": "", "push": "mention", "push_status": "away",
	}
}

// systemRoles is a user's roles field: system_user, with system_admin
// before it for an admin.
func systemRoles(admin bool) string {
	if admin {
		return "system_admin system_user"
	}
	return "system_user"
}

// createUser stores a new account. s.mu held.
func (s *Server) createUser(u User, bot bool) (*userRec, *mattermost.APIError) {
	u.Username = strings.ToLower(u.Username)
	if !isValidUsername(u.Username) {
		return nil, apiError(http.StatusBadRequest, "model.user.is_valid.username.app_error", "")
	}
	if _, dup := s.st.byUsername[u.Username]; dup {
		return nil, apiError(http.StatusBadRequest, "app.user.save.username_exists.app_error", "")
	}
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
		if bot {
			u.Email = u.Username + "@localhost"
		}
	}
	now := s.millis()
	rec := &userRec{
		user: mattermost.User{
			ID: s.entityID("user", u.Username), CreateAt: now, UpdateAt: now,
			Username: u.Username, Email: strings.ToLower(u.Email),
			FirstName: u.FirstName, LastName: u.LastName, Nickname: u.Nickname,
			Roles: systemRoles(u.Admin), NotifyProps: defaultNotifyProps(), LastPasswordUpdate: now, Locale: "en",
			Timezone: map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
			IsBot:    bot,
		},
		password: u.Password,
	}
	s.st.users[rec.user.ID] = rec
	s.st.byUsername[rec.user.Username] = rec.user.ID
	s.st.byEmail[rec.user.Email] = rec.user.ID
	s.st.statuses[rec.user.ID] = &mattermost.Status{UserID: rec.user.ID, Status: mattermost.StatusOffline}
	return rec, nil
}

// userOut is the user as the server sends it. Others' profiles are
// sanitized (model.User.SanitizeProfile): no notify_props, password or
// failed-attempt data.
func userOut(rec *userRec, self bool) mattermost.User {
	u := rec.user
	if !self {
		u.NotifyProps = nil
		u.LastPasswordUpdate = 0
		u.FailedAttempts = 0
	}
	return u
}

// maxLoginAttempts is ServiceSettings.MaximumLoginAttempts' default.
const maxLoginAttempts = 10

// newSession opens a session for userID and returns its token. s.mu held.
func (s *Server) newSession(userID, patID string) string {
	ss := &session{id: mattermost.NewID(), token: mattermost.NewID(), userID: userID, patID: patID, createAt: s.millis()}
	s.st.sessions[ss.token] = ss
	return ss.token
}

// login is POST /users/login (api4/user.go login, app/login.go): 200 with
// the user and the session token in the Token header. Any bad credential is
// masked to invalid_credentials_email_username; bots cannot log in with a
// password.
func (q *request) login() {
	var body map[string]any // non-string values are dropped, as in the server
	if !q.decode("login", &body) {
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	loginID, password, id := strings.ToLower(str("login_id")), str("password"), str("id")
	s := q.s
	s.mu.Lock()
	rec := s.st.users[id]
	if rec == nil {
		if uid, ok := s.st.byUsername[loginID]; ok {
			rec = s.st.users[uid]
		} else if uid, ok := s.st.byEmail[loginID]; ok {
			rec = s.st.users[uid]
		}
	}
	var fail *mattermost.APIError
	// app/authentication.go CheckUserPreflightAuthenticationCriteria
	// (deactivated, bot, too many attempts), then the password, whose
	// failure is counted and masked as invalid credentials.
	switch {
	case rec == nil:
		fail = apiError(http.StatusUnauthorized, "api.user.login.invalid_credentials_email_username", "")
	case rec.user.DeleteAt != 0:
		fail = apiError(http.StatusUnauthorized, "api.user.login.inactive.app_error", "")
	case rec.user.IsBot:
		fail = apiError(http.StatusUnauthorized, "api.user.login.bot_login_forbidden.app_error", "")
	case rec.user.FailedAttempts >= maxLoginAttempts:
		fail = apiError(http.StatusUnauthorized, "api.user.check_user_login_attempts.too_many.app_error", "")
	case rec.password == "" || rec.password != password:
		rec.user.FailedAttempts++
		fail = apiError(http.StatusUnauthorized, "api.user.login.invalid_credentials_email_username", "")
	default:
		fail = s.checkMFA(rec, str("token"))
	}
	if fail != nil {
		s.mu.Unlock()
		q.fail(fail)
		return
	}
	token := s.newSession(rec.user.ID, "")
	u := userOut(rec, true) // sent with the count before the reset, as recorded
	rec.user.FailedAttempts = 0
	s.mu.Unlock()
	h := q.w.Header()
	h.Set("Token", token)
	http.SetCookie(q.w, &http.Cookie{Name: "MMAUTHTOKEN", Value: token, Path: "/", HttpOnly: true})
	http.SetCookie(q.w, &http.Cookie{Name: "MMUSERID", Value: u.ID, Path: "/"})
	http.SetCookie(q.w, &http.Cookie{Name: "MMCSRF", Value: mattermost.NewID(), Path: "/"})
	q.reply(http.StatusOK, u)
}

// logout is POST /users/logout: the session dies at once.
func (q *request) logout() {
	s := q.s
	s.mu.Lock()
	delete(s.st.sessions, q.sess.token)
	s.mu.Unlock()
	s.hub.sessionRevoked(q.sess.token)
	http.SetCookie(q.w, &http.Cookie{Name: "MMAUTHTOKEN", Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	q.ok()
}

// getUser is GET /users/{user_id} and /users/me.
func (q *request) getUser() {
	id := q.userParam()
	if id == "" {
		return
	}
	q.oneUser(func(st *state) *userRec { return st.users[id] }, "app.user.missing_account.const")
}

// getUserByUsername is GET /users/username/{username}; an invalid username
// is a 400 invalid_body_param (c.RequireUsername uses SetInvalidParam).
func (q *request) getUserByUsername() {
	name := q.params["username"]
	if !isValidUsername(name) && name != "matterbot" && name != "system" {
		q.failParam("username")
		return
	}
	q.oneUser(func(st *state) *userRec { return st.users[st.byUsername[name]] }, "app.user.get_by_username.app_error")
}

// getUserByEmail is GET /users/email/{email}.
func (q *request) getUserByEmail() {
	email := strings.ToLower(q.params["email"])
	q.oneUser(func(st *state) *userRec { return st.users[st.byEmail[email]] }, "app.user.get_by_email.app_error")
}

// oneUser answers the user find returns, the whole profile when it is the
// caller's own, or 404 with the error id missing.
func (q *request) oneUser(find func(*state) *userRec, missing string) {
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		rec := find(q.s.st)
		if rec == nil {
			return nil, apiError(http.StatusNotFound, missing, "")
		}
		return userOut(rec, rec.user.ID == q.sess.userID), nil
	})
}

// readStringArray decodes a JSON array of strings (model.SortedArrayFromJSON
// / ArrayFromJSON); on failure it answers 400 naming name.
func (q *request) readStringArray(name string) ([]string, bool) {
	var ids []string
	b, err := io.ReadAll(io.LimitReader(q.r.Body, maxPayload))
	if err != nil || json.Unmarshal(b, &ids) != nil {
		q.failParam(name)
		return nil, false
	}
	return ids, true
}

// getUsersByIDs is POST /users/ids: unknown ids are left out.
func (q *request) getUsersByIDs() {
	ids, ok := q.readStringArray("user_ids")
	if !ok {
		return
	}
	if len(ids) == 0 {
		q.failParam("user_ids")
		return
	}
	q.usersOut(ids, func(st *state, id string) *userRec { return st.users[id] })
}

// getUsersByUsernames is POST /users/usernames.
func (q *request) getUsersByUsernames() {
	names, ok := q.readStringArray("usernames")
	if !ok {
		return
	}
	q.usersOut(names, func(st *state, n string) *userRec { return st.users[st.byUsername[strings.ToLower(n)]] })
}

func (q *request) usersOut(keys []string, find func(*state, string) *userRec) {
	s := q.s
	out := make([]mattermost.User, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	s.mu.Lock()
	for _, k := range keys {
		if rec := find(s.st, k); rec != nil && !seen[rec.user.ID] {
			seen[rec.user.ID] = true
			// api4/user.go getUsersByIds sanitizes every profile,
			// the caller's own included.
			out = append(out, userOut(rec, false))
		}
	}
	s.mu.Unlock()
	q.reply(http.StatusOK, out)
}

// statusOf returns userID's status, offline when unknown (app/status.go
// GetStatus). s.mu held.
func (st *state) statusOf(userID string) mattermost.Status {
	if p := st.statuses[userID]; p != nil {
		return *p
	}
	return mattermost.Status{UserID: userID, Status: mattermost.StatusOffline}
}

// setStatus records a status set by hand (manual unless online) and
// queues status_change, which the server sends to that user only
// (platform/status.go BroadcastStatus). s.mu held.
func (s *Server) setStatus(userID, status string, evs *[]event) mattermost.Status {
	st := mattermost.Status{UserID: userID, Status: status, Manual: status != mattermost.StatusOnline, LastActivityAt: s.millis()}
	s.st.statuses[userID] = &st
	*evs = append(*evs, event{name: "status_change", userID: userID, data: map[string]any{"status": status, "user_id": userID}})
	return st
}

// updateStatus is PUT /users/{user_id}/status (api4/status.go
// updateUserStatus): the body's user_id must be the URL's (400 user_id),
// the user themself or a system admin (edit_other_users) may set it, and
// the status is online, away, offline or dnd (400 status otherwise). The
// answer is the status, as GET gives it.
func (q *request) updateStatus() {
	id := q.userParam()
	if id == "" {
		return
	}
	var in mattermost.Status
	if !q.decode("status", &in) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		switch {
		case in.UserID != id:
			return nil, errParam("user_id")
		case id != q.sess.userID && !s.st.isAdmin(q.sess.userID):
			return nil, errPerm() // edit_other_users
		}
		switch in.Status {
		case mattermost.StatusOnline, mattermost.StatusAway, mattermost.StatusOffline, mattermost.StatusDND:
		default:
			return nil, errParam("status")
		}
		st := s.setStatus(id, in.Status, evs)
		s.touch()
		return st, nil
	})
}

// getStatus is GET /users/{user_id}/status.
func (q *request) getStatus() {
	id := q.userParam()
	if id == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		return q.s.st.statusOf(id), nil
	})
}

// getStatusesByIDs is POST /users/status/ids (api4/status.go
// getUserStatusesByIds): no permission needed; an empty list or an id
// that is not 26 characters is a 400 naming user_ids; an unknown user is
// offline (platform/status.go GetUserStatusesByIds). The answer is in
// the order asked, as the recorded 5.36 answers it; newer servers drop
// duplicate ids (model.SortedArrayFromJSON), and so does the fake.
func (q *request) getStatusesByIDs() {
	ids, ok := q.readStringArray("user_ids")
	if !ok {
		return
	}
	if len(ids) == 0 {
		q.failParam("user_ids")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := make([]mattermost.Status, 0, len(ids))
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if !mattermost.IsValidID(id) {
				return nil, errParam("user_ids")
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, q.s.st.statusOf(id))
		}
		return out, nil
	})
}

// setOnline marks userID online and, when that changes the status,
// broadcasts status_change to the user (app/status.go SetStatusOnline →
// BroadcastStatus). s.mu held.
func (s *Server) setOnline(userID string, evs *[]event) {
	st := s.st.statuses[userID]
	if st == nil {
		st = &mattermost.Status{UserID: userID}
		s.st.statuses[userID] = st
	}
	st.LastActivityAt = s.millis()
	if st.Status == mattermost.StatusOnline || st.Manual {
		return
	}
	st.Status = mattermost.StatusOnline
	*evs = append(*evs, event{name: "status_change", userID: userID,
		data: map[string]any{"status": mattermost.StatusOnline, "user_id": userID}})
}

// typing is POST /users/{user_id}/typing (api4/user.go publishUserTyping,
// the same in release-5.36 and today's server/channels/api4/user.go): for
// oneself, or for anyone by a system admin; the user must hold
// create_post in the channel (app HasPermissionToChannel: channel roles,
// team roles, then the user's own, and nothing for a missing channel_id).
// Neither channel_id nor parent_id is checked for form: the permission
// check answers 403 for a missing channel, and a channel that does not
// exist is allowed to system admins, whose typing then reaches nobody.
// Publishes typing to the channel without the typist.
func (q *request) typing() {
	id := q.userParam()
	if id == "" {
		return
	}
	var body struct {
		ChannelID string `json:"channel_id"`
		ParentID  string `json:"parent_id"`
	}
	if !q.decode("typing_request", &body) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		if id != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm() // manage_system
		}
		allowed := false
		switch ch := s.st.channels[body.ChannelID]; {
		case body.ChannelID == "":
		case ch != nil:
			allowed = s.st.hasChannelPermission(ch, id, permCreatePost)
		default:
			allowed = s.st.hasPermission(id, permCreatePost)
		}
		if !allowed {
			return nil, errPerm()
		}
		*evs = append(*evs, event{name: "typing", channelID: body.ChannelID, omitUsers: map[string]bool{id: true},
			data: map[string]any{"parent_id": body.ParentID, "user_id": id}})
		return statusOK{}, nil
	})
}

// createToken is POST /users/{user_id}/tokens (api4/user.go
// createUserAccessToken): by default only system admins hold
// create_user_access_token; a bot's owner may make tokens for the bot.
func (q *request) createToken() {
	id := q.userParam()
	if id == "" {
		return
	}
	var body struct {
		Description string `json:"description"`
	}
	if !q.decode("user_access_token", &body) {
		return
	}
	if body.Description == "" {
		q.failParam("description")
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		rec := s.st.users[id]
		allowed := s.st.isAdmin(q.sess.userID) || rec != nil && rec.user.IsBot && rec.ownerID == q.sess.userID
		if !allowed {
			return nil, errPerm()
		}
		if rec == nil {
			return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
		}
		return s.createPAT(id, body.Description), nil
	})
}

// createPAT stores a personal access token; s.mu held.
func (s *Server) createPAT(userID, desc string) mattermost.UserAccessToken {
	pr := &patRec{tok: mattermost.UserAccessToken{ID: mattermost.NewID(), UserID: userID, Description: desc, IsActive: true}}
	pr.token = mattermost.NewID()
	pr.tok.Token = pr.token
	s.st.pats[pr.tok.ID] = pr
	s.st.sessions[pr.token] = &session{id: mattermost.NewID(), token: pr.token, userID: userID, patID: pr.tok.ID, createAt: s.millis()}
	return pr.tok
}

// revokeToken is POST /users/tokens/revoke: sessions made from the token
// die immediately.
func (q *request) revokeToken() {
	var body struct {
		TokenID string `json:"token_id"`
	}
	if !q.decode("token_id", &body) {
		return
	}
	s := q.s
	s.mu.Lock()
	pr := s.st.pats[body.TokenID]
	if pr == nil {
		s.mu.Unlock()
		q.fail(apiError(http.StatusBadRequest, "app.user_access_token.get_by_user.app_error", ""))
		return
	}
	owner := s.st.users[pr.tok.UserID]
	if pr.tok.UserID != q.sess.userID && !s.st.isAdmin(q.sess.userID) && (owner == nil || owner.ownerID != q.sess.userID) {
		s.mu.Unlock()
		q.failPerm()
		return
	}
	delete(s.st.pats, body.TokenID)
	delete(s.st.sessions, pr.token)
	s.mu.Unlock()
	s.hub.sessionRevoked(pr.token)
	q.ok()
}

// createBot stores a bot account owned by ownerID; s.mu held.
func (s *Server) createBot(username, displayName, description, ownerID string) (*userRec, *mattermost.APIError) {
	rec, e := s.createUser(User{Username: username, FirstName: displayName}, true)
	if e != nil {
		return nil, e
	}
	rec.user.BotDescription = description
	rec.ownerID = ownerID
	rec.botName = displayName
	return rec, nil
}

// getUsers is GET /users (api4/user.go getUsers) with the filters a bot
// uses: in_team, in_channel, not_in_channel (with in_team), page and
// per_page; sorted by username.
func (q *request) getUsers() {
	v := q.r.URL.Query()
	inTeam, inChannel, notInChannel := v.Get("in_team"), v.Get("in_channel"), v.Get("not_in_channel")
	for name, id := range map[string]string{"in_team": inTeam, "in_channel": inChannel, "not_in_channel": notInChannel} {
		if id != "" && !mattermost.IsValidID(id) {
			q.failParam(name)
			return
		}
	}
	if notInChannel != "" && inTeam == "" {
		q.failParam("team_id")
		return
	}
	page, perPage := pageParams(q.r)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if ch := st.channels[inChannel]; inChannel != "" && (ch == nil || !st.canReadChannel(ch, q.sess.userID)) {
			return nil, errPerm()
		}
		if t := st.teams[inTeam]; inTeam != "" && (t == nil || !st.canSeeTeam(t, q.sess.userID)) {
			return nil, errPerm()
		}
		var recs []*userRec
		for id, rec := range st.users {
			switch {
			case inTeam != "" && !st.isTeamMember(inTeam, id),
				inChannel != "" && !st.isChannelMember(inChannel, id),
				notInChannel != "" && st.isChannelMember(notInChannel, id):
				continue
			}
			recs = append(recs, rec)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].user.Username < recs[j].user.Username })
		recs = pageOf(recs, page, perPage)
		out := make([]mattermost.User, len(recs))
		for i, rec := range recs {
			out[i] = userOut(rec, false)
		}
		return out, nil
	})
}

// createUserAPI is POST /users (api4/user.go createUser): with the default
// EnableOpenServer=false only admins create accounts; 201 with the user.
func (q *request) createUserAPI() {
	var body struct {
		Username  string `json:"username"`
		Email     string `json:"email"`
		Password  string `json:"password"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Nickname  string `json:"nickname"`
	}
	if !q.decode("user", &body) {
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		if !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		if _, dup := s.st.byEmail[strings.ToLower(body.Email)]; dup && body.Email != "" {
			return nil, apiError(http.StatusBadRequest, "app.user.save.email_exists.app_error", "")
		}
		rec, e := s.createUser(User{Username: body.Username, Email: body.Email, Password: body.Password,
			FirstName: body.FirstName, LastName: body.LastName, Nickname: body.Nickname}, false)
		if e != nil {
			return nil, e
		}
		*evs = append(*evs, newUserEvent(rec.user.ID))
		return userOut(rec, false), nil
	})
}

// updateUserActive is PUT /users/{user_id}/active (api4/user.go
// updateUserActive): admins (de)activate accounts; deactivation ends the
// account's sessions.
func (q *request) updateUserActive() {
	id := q.userParam()
	if id == "" {
		return
	}
	var body struct {
		Active *bool `json:"active"`
	}
	if !q.decode("active", &body) {
		return
	}
	if body.Active == nil {
		q.failParam("active")
		return
	}
	s := q.s
	s.mu.Lock()
	admin := s.st.isAdmin(q.sess.userID)
	rec := s.st.users[id]
	if !admin {
		s.mu.Unlock()
		q.failPerm()
		return
	}
	if rec == nil {
		s.mu.Unlock()
		q.fail(apiError(http.StatusNotFound, "app.user.missing_account.const", ""))
		return
	}
	// As DeactivateUser: DeleteAt and UpdateAt under the lock, then the
	// sessions are revoked outside it.
	now := s.millis()
	rec.user.DeleteAt, rec.user.UpdateAt = 0, now
	if !*body.Active {
		rec.user.DeleteAt = now
	}
	s.mu.Unlock()
	if !*body.Active {
		s.RevokeSessions(id)
	}
	q.ok()
}

// userPatch is the part of model.UserPatch the fake applies; other fields
// are ignored.
type userPatch struct {
	Username  *string `json:"username"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Nickname  *string `json:"nickname"`
	// Timezone replaces the whole map (model.User.Patch).
	Timezone map[string]string `json:"timezone"`
}

// patchUser is PUT /users/{user_id}/patch (api4/user.go patchUser): a user
// patches themself, or anyone with edit_other_users (system admins); a
// system admin's account only someone with manage_system. 200 with the
// user; user_updated goes out (app/user.go sendUpdatedUserEvent).
func (q *request) patchUser() {
	id := q.userParam()
	if id == "" {
		return
	}
	var patch userPatch
	if !q.decode("user", &patch) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		if id != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm() // edit_other_users
		}
		rec := s.st.users[id]
		if rec == nil {
			return nil, errParam("user_id") // the handler's GetUser failure
		}
		if s.st.isAdmin(id) && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm() // manage_system
		}
		if e := s.patchUser(rec, patch); e != nil {
			return nil, e
		}
		*evs = userUpdatedEvents(rec)
		return userOut(rec, id == q.sess.userID), nil
	})
}

// patchUser applies patch to rec (model.User.Patch, then the checks of
// app/user.go UpdateUser: a valid, unused username). s.mu held.
func (s *Server) patchUser(rec *userRec, patch userPatch) *mattermost.APIError {
	if patch.Username != nil {
		name := strings.ToLower(*patch.Username)
		if !isValidUsername(name) {
			return apiError(http.StatusBadRequest, "model.user.is_valid.username.app_error", "")
		}
		if other, taken := s.st.byUsername[name]; taken && other != rec.user.ID {
			return apiError(http.StatusBadRequest, "app.user.save.username_exists.app_error", "")
		}
		delete(s.st.byUsername, rec.user.Username)
		rec.user.Username = name
		s.st.byUsername[name] = rec.user.ID
	}
	if patch.FirstName != nil {
		rec.user.FirstName = *patch.FirstName
	}
	if patch.LastName != nil {
		rec.user.LastName = *patch.LastName
	}
	if patch.Nickname != nil {
		rec.user.Nickname = *patch.Nickname
	}
	if patch.Timezone != nil {
		rec.user.Timezone = maps.Clone(patch.Timezone)
	}
	rec.user.UpdateAt = s.millis()
	return nil
}

// userUpdatedEvents are the user_updated events of a changed account
// (app/user.go sendUpdatedUserEvent): the sanitized user to everyone but
// its owner, the whole user to the owner. The server sends admins a copy
// with the e-mail and full name even when privacy settings hide them from
// others; with the default settings (both shown) that copy is the same,
// so the fake sends one. s.mu held.
func userUpdatedEvents(rec *userRec) []event {
	return []event{
		{name: "user_updated", data: map[string]any{"user": userOut(rec, false)}, omitUsers: map[string]bool{rec.user.ID: true}},
		{name: "user_updated", data: map[string]any{"user": userOut(rec, true)}, userID: rec.user.ID},
	}
}
