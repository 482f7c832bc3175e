package mmtest

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/matterbot/matterbot/mattermost"
)

// sanitizedTeam is a copy of t as the caller may see it (app/team.go
// SanitizeTeam): whole for manage_team on the team; the invite id kept for
// invite_user (team members); e-mail and invite id blanked for the rest.
// s.mu held.
func (st *state) sanitizedTeam(t *mattermost.Team, userID string) mattermost.Team {
	out := *t
	if st.hasTeamPermission(t.ID, userID, permManageTeam) {
		return out
	}
	out.Email = ""
	if !st.hasTeamPermission(t.ID, userID, permInviteUser) {
		out.InviteID = ""
	}
	return out
}

// teamsWithCount is model.TeamsWithCount.
type teamsWithCount struct {
	Teams      []mattermost.Team `json:"teams"`
	TotalCount int64             `json:"total_count"`
}

// getAllTeams is GET /teams (api4/team.go getAllTeams): the teams the
// caller may list, by display name, paged: every team with
// list_private_teams and list_public_teams (admins), only teams with an
// open invite with list_public_teams alone (plain users: a team without
// allow_open_invite is not listed, even the caller's own), 403
// api.team.get_all_teams.insufficient_permissions with neither.
// include_total_count=true answers {"teams", "total_count"}. Teams are
// sanitized for the caller.
func (q *request) getAllTeams() {
	page, perPage := pageParams(q.r)
	withCount, _ := strconv.ParseBool(q.r.URL.Query().Get("include_total_count"))
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		listPrivate := st.hasPermission(uid, permListPrivateTeams)
		listPublic := st.hasPermission(uid, permListPublicTeams)
		if !listPrivate && !listPublic {
			return nil, apiError(http.StatusForbidden, "api.team.get_all_teams.insufficient_permissions", "")
		}
		var teams []*mattermost.Team
		for _, t := range st.teams {
			if listPrivate && listPublic || listPublic && t.AllowOpenInvite || listPrivate && !t.AllowOpenInvite {
				teams = append(teams, t)
			}
		}
		sort.Slice(teams, func(i, j int) bool {
			return collateLess(teams[i].DisplayName, teams[j].DisplayName, teams[i].Name, teams[j].Name)
		})
		total := len(teams)
		out := []mattermost.Team{}
		for _, t := range pageOf(teams, page, perPage) {
			out = append(out, st.sanitizedTeam(t, uid))
		}
		if withCount {
			return teamsWithCount{Teams: out, TotalCount: int64(total)}, nil
		}
		return out, nil
	})
}

// getTeamMembers is GET /teams/{team_id}/members (api4/team.go
// getTeamMembers): view_team, else 403; the memberships not left, by user
// id (store GetMembers), or by username with sort=Username;
// exclude_deleted_users=true leaves out deactivated accounts. Paged.
func (q *request) getTeamMembers() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	v := q.r.URL.Query()
	byName := v.Get("sort") == "Username"
	exclDeleted, _ := strconv.ParseBool(v.Get("exclude_deleted_users"))
	page, perPage := pageParams(q.r)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.hasTeamPermission(tid, q.sess.userID, permViewTeam) {
			return nil, errPerm()
		}
		out := []mattermost.TeamMember{}
		for uid, m := range st.teamMembers[tid] {
			u := st.users[uid]
			if m.DeleteAt != 0 || u == nil || exclDeleted && u.user.DeleteAt != 0 {
				continue
			}
			out = append(out, *m)
		}
		key := func(m mattermost.TeamMember) string {
			if byName {
				return st.users[m.UserID].user.Username
			}
			return m.UserID
		}
		sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
		return pageOf(out, page, perPage), nil
	})
}

// getTeamMembersForUser is GET /users/{user_id}/teams/members
// (api4/team.go getTeamMembersForUser): the user themself, someone with
// edit_other_users or read_other_users_teams (admins), else 403; every
// membership of the user, those left included (GetTeamMembersForUser with
// includeDeleted), by team id.
func (q *request) getTeamMembersForUser() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.canActForUser(q.sess.userID, uid) && !st.hasPermission(q.sess.userID, permReadOtherUsersTms) {
			return nil, errPerm()
		}
		out := []mattermost.TeamMember{}
		for _, ms := range st.teamMembers {
			if m := ms[uid]; m != nil {
				out = append(out, *m)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].TeamID < out[j].TeamID })
		return out, nil
	})
}

// canActForUser follows app SessionHasPermissionToUser: oneself, or
// edit_other_users. s.mu held.
func (st *state) canActForUser(sessUserID, userID string) bool {
	return sessUserID == userID || st.hasPermission(sessUserID, permEditOtherUsers)
}

// teamUnread is model.TeamUnread: 5.36's model/team_member.go has the
// first five fields; today's server/public/model/team_member.go adds the
// thread counts, sent by the current profile as zeros (the fake has no
// collapsed threads).
type teamUnread struct {
	TeamID                   string `json:"team_id"`
	MsgCount                 int64  `json:"msg_count"`
	MentionCount             int64  `json:"mention_count"`
	MentionCountRoot         int64  `json:"mention_count_root"`
	MsgCountRoot             int64  `json:"msg_count_root"`
	ThreadCount              *int64 `json:"thread_count,omitempty"`
	ThreadMentionCount       *int64 `json:"thread_mention_count,omitempty"`
	ThreadUrgentMentionCount *int64 `json:"thread_urgent_mention_count,omitempty"`
}

// getTeamsUnreadForUser is GET /users/{user_id}/teams/unread
// (api4/team.go getTeamsUnreadForUser → app GetTeamsUnreadForUser): the
// user themself or manage_system, else 403. One entry per team in which
// the user has a live channel (direct and group channels have no team and
// are left out; so is exclude_team), summing per channel the messages
// not viewed and the mentions; a channel whose mark_unread is "mention"
// adds its mentions only. By team id.
func (q *request) getTeamsUnreadForUser() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	exclude := q.r.URL.Query().Get("exclude_team")
	threads := !q.s.is536()
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if q.sess.userID != uid && !st.hasPermission(q.sess.userID, permManageSystem) {
			return nil, errPerm()
		}
		byTeam := st.teamUnreads(uid, func(tid string) bool { return tid != exclude })
		out := []teamUnread{}
		for _, tu := range byTeam {
			out = append(out, tu.withThreads(threads))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].TeamID < out[j].TeamID })
		return out, nil
	})
}

// teamUnreads sums, per team keep accepts, the unread messages and
// mentions of userID's live channels there (store
// GetChannelUnreadsForAllTeams and app GetTeamsUnreadForUser / GetTeamUnread):
// a channel whose mark_unread is "mention" adds its mentions only; direct
// and group channels have no team. s.mu held.
func (st *state) teamUnreads(userID string, keep func(teamID string) bool) map[string]*teamUnread {
	byTeam := map[string]*teamUnread{}
	for cid, ms := range st.members {
		m, ch := ms[userID], st.channels[cid]
		if m == nil || ch == nil || ch.TeamID == "" || !keep(ch.TeamID) || ch.DeleteAt != 0 {
			continue
		}
		tu := byTeam[ch.TeamID]
		if tu == nil {
			tu = &teamUnread{TeamID: ch.TeamID}
			byTeam[ch.TeamID] = tu
		}
		tu.MentionCount += m.MentionCount
		tu.MentionCountRoot += m.MentionCountRoot
		if m.NotifyProps["mark_unread"] != "mention" {
			tu.MsgCount += ch.TotalMsgCount - m.MsgCount
			tu.MsgCountRoot += ch.TotalMsgCountRoot - m.MsgCountRoot
		}
	}
	return byTeam
}

// withThreads returns tu with the thread counts set to zero when the
// model has them (threads), absent otherwise.
func (tu teamUnread) withThreads(threads bool) teamUnread {
	if threads {
		var a, b, c int64
		tu.ThreadCount, tu.ThreadMentionCount, tu.ThreadUrgentMentionCount = &a, &b, &c
	}
	return tu
}

// getTeamUnread is GET /users/{user_id}/teams/{team_id}/unread
// (api4/team.go getTeamUnread, app GetTeamUnread): the user themself or
// edit_other_users, else 403; view_team on the team, else 403; the team's
// unread counts, zero when the user has no channel there.
func (q *request) getTeamUnread() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	threads := !q.s.is536()
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.canActForUser(q.sess.userID, uid) || !st.hasTeamPermission(tid, q.sess.userID, permViewTeam) {
			return nil, errPerm()
		}
		tu := st.teamUnreads(uid, func(id string) bool { return id == tid })[tid]
		if tu == nil {
			tu = &teamUnread{TeamID: tid}
		}
		return tu.withThreads(threads), nil
	})
}

// getTeamMembersByIDs is POST /teams/{team_id}/members/ids (api4/team.go
// getTeamMembersByIds): a JSON list of user ids (400 user_ids when it is
// not one or is empty); view_team, else 403; the memberships not left of
// those users, by user id.
func (q *request) getTeamMembersByIDs() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	ids, ok := q.readStringArray("user_ids")
	if !ok {
		return
	}
	if len(ids) == 0 {
		q.failParam("user_ids")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.hasTeamPermission(tid, q.sess.userID, permViewTeam) {
			return nil, errPerm()
		}
		out := []mattermost.TeamMember{}
		seen := map[string]bool{}
		for _, id := range ids {
			if m := st.teamMembers[tid][id]; m != nil && m.DeleteAt == 0 && !seen[id] {
				seen[id] = true
				out = append(out, *m)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
		return out, nil
	})
}

// getChannelMembersByIDs is POST /channels/{channel_id}/members/ids
// (api4/channel.go getChannelMembersByIds): a JSON list of user ids (400
// user_ids when empty; a body that is not a list is the 400
// api.payload.parse_error of model.SortedArrayFromJSON); read_channel,
// else 403; the memberships of those users, by user id.
func (q *request) getChannelMembersByIDs() {
	cid := q.idParam("channel_id")
	if cid == "" {
		return
	}
	var ids []string
	if err := decodeJSON(q, &ids); err != nil {
		q.fail(apiError(http.StatusBadRequest, "api.payload.parse_error", ""))
		return
	}
	if len(ids) == 0 {
		q.failParam("user_ids")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		ch := st.readableChannel(cid, q.sess.userID)
		if ch == nil {
			return nil, errPerm()
		}
		out := []mattermost.ChannelMember{}
		seen := map[string]bool{}
		for _, id := range ids {
			if m := st.members[cid][id]; m != nil && !seen[id] {
				seen[id] = true
				out = append(out, *m)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
		return out, nil
	})
}
