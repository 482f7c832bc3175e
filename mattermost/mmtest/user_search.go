package mmtest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// Limits of user searches (model.UserSearchDefaultLimit, UserSearchMaxLimit).
const (
	userSearchDefaultLimit = 100
	userSearchMaxLimit     = 1000
)

// userMatches follows the store's user search (sqlstore/user_store.go
// generateSearchQuery): every whitespace-separated word of the term is a
// case-insensitive prefix of the username, first name, last name,
// nickname or, when emails may be searched, the e-mail address. An empty
// term matches everyone.
func userMatches(u *mattermost.User, term string, emails bool) bool {
	fields := []string{u.Username, u.FirstName, u.LastName, u.Nickname}
	if emails {
		fields = append(fields, u.Email)
	}
	for _, w := range strings.Fields(strings.ToLower(strings.ReplaceAll(term, "*", ""))) {
		found := false
		for _, f := range fields {
			if strings.HasPrefix(strings.ToLower(f), w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// searchUsersBy returns the sanitized profiles of the users keep accepts
// that match term, by username, at most limit (negative: no limit); the
// inactive only with inactive. s.mu held.
func (st *state) searchUsersBy(term string, emails, inactive bool, limit int, keep func(*userRec) bool) []mattermost.User {
	var recs []*userRec
	for _, rec := range st.users {
		if rec.user.DeleteAt != 0 && !inactive || !keep(rec) || !userMatches(&rec.user, term, emails) {
			continue
		}
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].user.Username < recs[j].user.Username })
	if limit >= 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	out := make([]mattermost.User, len(recs))
	for i, rec := range recs {
		out[i] = userOut(rec, false)
	}
	return out
}

// userSearch is model.UserSearch, the fields the fake reads; group
// filters are not served.
type userSearch struct {
	Term           string `json:"term"`
	TeamID         string `json:"team_id"`
	NotInTeamID    string `json:"not_in_team_id"`
	InChannelID    string `json:"in_channel_id"`
	NotInChannelID string `json:"not_in_channel_id"`
	AllowInactive  bool   `json:"allow_inactive"`
	WithoutTeam    bool   `json:"without_team"`
	Limit          int    `json:"limit"`
}

// searchUsers is POST /users/search (api4/user.go searchUsers, app
// SearchUsers): 400 term when empty, 400 team_id for not_in_channel_id
// without team_id, 403 without read_channel on in_channel_id or
// not_in_channel_id or view_team on team_id or not_in_team_id, 400 limit
// outside 1–1000 (0 means 100). Then, the first that applies:
// without_team, in_channel_id, not_in_channel_id (team members not in
// it), not_in_team_id, else team_id ("" for everyone). Inactive accounts
// only with allow_inactive; profiles sanitized; by username.
func (q *request) searchUsers() {
	var p userSearch
	if !q.decode("props", &p) {
		return
	}
	if p.Limit == 0 {
		p.Limit = userSearchDefaultLimit
	}
	switch {
	case p.Term == "":
		q.failParam("term")
		return
	case p.TeamID == "" && p.NotInChannelID != "":
		q.failParam("team_id")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		readable := func(cid string) bool {
			ch := st.channels[cid]
			return ch != nil && st.hasChannelPermission(ch, uid, permReadChannel)
		}
		switch {
		case p.InChannelID != "" && !readable(p.InChannelID),
			p.NotInChannelID != "" && !readable(p.NotInChannelID),
			p.TeamID != "" && !st.hasTeamPermission(p.TeamID, uid, permViewTeam),
			p.NotInTeamID != "" && !st.hasTeamPermission(p.NotInTeamID, uid, permViewTeam):
			return nil, errPerm()
		case p.Limit <= 0 || p.Limit > userSearchMaxLimit:
			return nil, errParam("limit")
		}
		var keep func(*userRec) bool
		switch {
		case p.WithoutTeam:
			keep = func(rec *userRec) bool {
				for _, ms := range st.teamMembers {
					if m := ms[rec.user.ID]; m != nil && m.DeleteAt == 0 {
						return false
					}
				}
				return true
			}
		case p.InChannelID != "":
			keep = func(rec *userRec) bool { return st.isChannelMember(p.InChannelID, rec.user.ID) }
		case p.NotInChannelID != "":
			keep = func(rec *userRec) bool {
				return st.isTeamMember(p.TeamID, rec.user.ID) && !st.isChannelMember(p.NotInChannelID, rec.user.ID)
			}
		case p.NotInTeamID != "":
			keep = func(rec *userRec) bool { return !st.isTeamMember(p.NotInTeamID, rec.user.ID) }
		case p.TeamID != "":
			keep = func(rec *userRec) bool { return st.isTeamMember(p.TeamID, rec.user.ID) }
		default:
			keep = func(*userRec) bool { return true }
		}
		return st.searchUsersBy(p.Term, true, p.AllowInactive, p.Limit, keep), nil
	})
}

// userAutocomplete is model.UserAutocomplete.
type userAutocomplete struct {
	Users        []mattermost.User `json:"users"`
	OutOfChannel []mattermost.User `json:"out_of_channel,omitempty"`
}

// autocompleteUsers is GET /users/autocomplete (api4/user.go
// autocompleteUsers): name matched as in a search but never on e-mails;
// limit defaults to 100 and is capped at 1000 (a limit that is not a
// number gives 0 users, as the store's LIMIT 0 does). 403 without
// read_channel on in_channel or view_team on in_team. With in_channel (and
// in_team, else 500 api.user.autocomplete_users.missing_team_id.app_error)
// "users" are the channel's members and "out_of_channel" the team's other
// members; with in_team alone the team's members; with neither everyone.
// Active accounts only, by username.
func (q *request) autocompleteUsers() {
	v := q.r.URL.Query()
	cid, tid, name := v.Get("in_channel"), v.Get("in_team"), v.Get("name")
	limit := userSearchDefaultLimit
	if ls := v.Get("limit"); ls != "" {
		limit, _ = strconv.Atoi(ls)
		limit = min(limit, userSearchMaxLimit)
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		if cid != "" {
			if ch := st.channels[cid]; ch == nil || !st.hasChannelPermission(ch, uid, permReadChannel) {
				return nil, errPerm()
			}
		}
		if tid != "" && !st.hasTeamPermission(tid, uid, permViewTeam) {
			return nil, errPerm()
		}
		switch {
		case cid != "" && tid == "":
			return nil, apiError(http.StatusInternalServerError, "api.user.autocomplete_users.missing_team_id.app_error", "")
		case cid != "":
			return userAutocomplete{
				Users: st.searchUsersBy(name, false, false, limit, func(rec *userRec) bool { return st.isChannelMember(cid, rec.user.ID) }),
				OutOfChannel: st.searchUsersBy(name, false, false, limit, func(rec *userRec) bool {
					return st.isTeamMember(tid, rec.user.ID) && !st.isChannelMember(cid, rec.user.ID)
				}),
			}, nil
		case tid != "":
			return userAutocomplete{Users: st.searchUsersBy(name, false, false, limit,
				func(rec *userRec) bool { return st.isTeamMember(tid, rec.user.ID) })}, nil
		}
		return userAutocomplete{Users: st.searchUsersBy(name, false, false, limit, func(*userRec) bool { return true })}, nil
	})
}
