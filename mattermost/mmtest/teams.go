package mmtest

import (
	"net/http"
	"sort"

	"github.com/matterbot/matterbot/mattermost"
)

// createTeam stores a team with its default channels town-square and
// off-topic (app/team.go CreateTeam → createDefaultChannels). s.mu held.
func (s *Server) createTeam(name, displayName string) (*mattermost.Team, *mattermost.APIError) {
	if !isValidChannelName(name) || len(name) < 2 {
		return nil, errParam("name")
	}
	if _, dup := s.st.teamByName[name]; dup {
		return nil, apiError(http.StatusBadRequest, "store.sql_team.save_team.existing.app_error", "")
	}
	if displayName == "" {
		displayName = name
	}
	now := s.millis()
	t := &mattermost.Team{ID: s.entityID("team", name), CreateAt: now, UpdateAt: now, Name: name, DisplayName: displayName,
		Type: mattermost.TeamOpen, InviteID: mattermost.NewID()}
	s.st.teams[t.ID] = t
	s.st.teamByName[name] = t.ID
	s.st.teamMembers[t.ID] = make(map[string]*mattermost.TeamMember)
	for _, c := range [][2]string{{"town-square", "Town Square"}, {"off-topic", "Off-Topic"}} {
		if _, e := s.createChannel(t.ID, c[0], c[1], mattermost.ChannelOpen, ""); e != nil {
			return nil, e
		}
	}
	return t, nil
}

// addTeamMember adds userID to the team and to its default channels
// (app/team.go JoinUserToTeam → JoinDefaultChannels), publishing
// added_to_team to the user. s.mu held.
func (s *Server) addTeamMember(teamID, userID string, evs *[]event) (*mattermost.TeamMember, *mattermost.APIError) {
	if s.st.teams[teamID] == nil {
		return nil, apiError(http.StatusNotFound, "app.team.get.find.app_error", "")
	}
	if s.st.users[userID] == nil {
		return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
	}
	if m := s.st.teamMembers[teamID][userID]; m != nil && m.DeleteAt == 0 {
		return m, nil
	}
	m := &mattermost.TeamMember{TeamID: teamID, UserID: userID, Roles: "team_user", SchemeUser: true}
	s.st.teamMembers[teamID][userID] = m
	*evs = append(*evs, event{name: "added_to_team", userID: userID, data: map[string]any{"team_id": teamID, "user_id": userID}})
	for _, name := range []string{"town-square", "off-topic"} {
		if ch := s.st.channels[s.st.channelByName[teamID+"/"+name]]; ch != nil {
			s.addChannelMember(ch, userID, evs)
		}
	}
	s.touch()
	return m, nil
}

// canSeeTeam: members and admins see a team; others see open teams
// (api4/team.go getTeam: view_team or an open invite).
func (st *state) canSeeTeam(t *mattermost.Team, userID string) bool {
	return st.isAdmin(userID) || st.isTeamMember(t.ID, userID) || t.AllowOpenInvite
}

// getTeam is GET /teams/{team_id}.
func (q *request) getTeam() {
	id := q.idParam("team_id")
	if id == "" {
		return
	}
	q.teamOut(func(st *state) *mattermost.Team { return st.teams[id] }, "app.team.get.find.app_error")
}

// getTeamByName is GET /teams/name/{team_name}.
func (q *request) getTeamByName() {
	name := q.params["team_name"]
	q.teamOut(func(st *state) *mattermost.Team { return st.teams[st.teamByName[name]] }, "app.team.get_by_name.missing.app_error")
}

// teamOut answers the team find returns: 404 with the error id missing
// when there is none, 403 when the caller may not see it.
func (q *request) teamOut(find func(*state) *mattermost.Team, missing string) {
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		t := find(q.s.st)
		switch {
		case t == nil:
			return nil, apiError(http.StatusNotFound, missing, "")
		case !q.s.st.canSeeTeam(t, q.sess.userID):
			return nil, errPerm()
		}
		return *t, nil
	})
}

// getUserTeams is GET /users/{user_id}/teams: only oneself, or an admin.
func (q *request) getUserTeams() {
	id := q.userParam()
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		if id != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		out := []mattermost.Team{}
		for tid, ms := range s.st.teamMembers {
			if m := ms[id]; m != nil && m.DeleteAt == 0 {
				out = append(out, *s.st.teams[tid])
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, nil
	})
}

// getTeamMember is GET /teams/{team_id}/members/{user_id}.
func (q *request) getTeamMember() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	uid := q.userParam()
	if uid == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		t := st.teams[tid]
		m := st.teamMembers[tid][uid]
		switch {
		case t == nil || !st.canSeeTeam(t, q.sess.userID):
			return nil, errPerm()
		case m == nil || m.DeleteAt != 0:
			return nil, apiError(http.StatusNotFound, "app.team.get_member.missing.app_error", "")
		}
		return *m, nil
	})
}

// addTeamMemberAPI is POST /teams/{team_id}/members: 201 TeamMember. Admins
// add anyone; a user may join an open team (api4/team.go addTeamMember).
func (q *request) addTeamMemberAPI() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	var body struct {
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	if !q.decode("team_member", &body) {
		return
	}
	if body.TeamID != tid {
		q.failParam("team_id")
		return
	}
	if !mattermost.IsValidID(body.UserID) {
		q.failParam("user_id")
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		t := s.st.teams[tid]
		allowed := s.st.isAdmin(q.sess.userID) ||
			t != nil && hasRole(teamRoles(s.st, tid, q.sess.userID), "team_admin") ||
			t != nil && body.UserID == q.sess.userID && t.AllowOpenInvite
		if !allowed {
			return nil, errPerm()
		}
		return copyOf(s.addTeamMember(tid, body.UserID, evs))
	})
}

func teamRoles(st *state, teamID, userID string) string {
	if m := st.teamMembers[teamID][userID]; m != nil && m.DeleteAt == 0 {
		return m.Roles
	}
	return ""
}
