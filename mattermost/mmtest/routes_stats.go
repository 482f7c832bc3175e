package mmtest

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/matterbot/matterbot/mattermost"
)

// Permissions of the read-only routes below, named as the server names
// them (server/public/model/permission.go).
const (
	permReadChannel       = "read_channel"
	permViewTeam          = "view_team"
	permListTeamChannels  = "list_team_channels"
	permManageSystem      = "manage_system"
	permEditOtherUsers    = "edit_other_users"
	permManageTeam        = "manage_team"
	permInviteUser        = "invite_user"
	permListPublicTeams   = "list_public_teams"
	permListPrivateTeams  = "list_private_teams"
	permReadOtherUsersTms = "read_other_users_teams"
)

// channelStats is model.ChannelStats: the 5.36 model
// (model/channel_stats.go) has the first four fields, today's
// (server/public/model/channel_stats.go) adds files_count, sent by the
// current profile only.
type channelStats struct {
	ChannelID       string `json:"channel_id"`
	MemberCount     int64  `json:"member_count"`
	GuestCount      int64  `json:"guest_count"`
	PinnedPostCount int64  `json:"pinnedpost_count"`
	FilesCount      *int64 `json:"files_count,omitempty"`
}

// getChannelStats is GET /channels/{channel_id}/stats (api4/channel.go
// getChannelStats): read_channel on the channel, which a team member who
// has not joined a public channel lacks, and an unknown channel is a 403
// too (SessionHasPermissionToChannel finds no channel). member_count
// counts active accounts only (store GetMemberCount joins Users on
// DeleteAt = 0); exclude_files_count=true gives files_count -1 (current
// profile).
func (q *request) getChannelStats() {
	exclFiles, _ := strconv.ParseBool(q.r.URL.Query().Get("exclude_files_count"))
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		ch := st.readableChannel(id, q.sess.userID)
		if ch == nil {
			return nil, errPerm()
		}
		out := channelStats{ChannelID: id}
		for uid := range st.members[id] {
			if u := st.users[uid]; u != nil && u.user.DeleteAt == 0 {
				out.MemberCount++
			}
		}
		var files int64
		for _, pid := range st.channelPosts[id] {
			p := st.posts[pid]
			if p.DeleteAt != 0 {
				continue
			}
			if p.IsPinned {
				out.PinnedPostCount++
			}
			for _, fid := range p.FileIDs {
				if f := st.files[fid]; f != nil && f.info.DeleteAt == 0 {
					files++
				}
			}
		}
		if !s.is536() {
			if exclFiles {
				files = -1
			}
			out.FilesCount = &files
		}
		return out, nil
	})
}

// teamStats is model.TeamStats.
type teamStats struct {
	TeamID            string `json:"team_id"`
	TotalMemberCount  int64  `json:"total_member_count"`
	ActiveMemberCount int64  `json:"active_member_count"`
}

// getTeamStats is GET /teams/{team_id}/stats (api4/team.go getTeamStats):
// view_team (a member, or an admin), else 403, an unknown team included.
// total_member_count counts the memberships not left (store
// GetTotalMemberCount), active_member_count those of active accounts
// (GetActiveMemberCount adds Users.DeleteAt = 0).
func (q *request) getTeamStats() {
	id := q.idParam("team_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		if st.teams[id] == nil || !st.hasTeamPermission(id, q.sess.userID, permViewTeam) {
			return nil, errPerm()
		}
		out := teamStats{TeamID: id}
		for uid, m := range st.teamMembers[id] {
			if m.DeleteAt != 0 || st.users[uid] == nil {
				continue
			}
			out.TotalMemberCount++
			if st.users[uid].user.DeleteAt == 0 {
				out.ActiveMemberCount++
			}
		}
		return out, nil
	})
}

// getPinnedPosts is GET /channels/{channel_id}/pinned (api4/channel.go
// getPinnedPosts): 404 for an unknown channel (GetChannel), 403 when the
// caller may not read it (SessionHasPermissionToReadChannel: members, and
// team members for a public channel). The list holds the live pinned
// posts oldest first, as store GetPinnedPosts orders them (CreateAt ASC).
func (q *request) getPinnedPosts() {
	s := q.s
	q.readChannel(func(ch *mattermost.Channel) (any, *mattermost.APIError) {
		list := newPostList()
		for _, pid := range s.st.channelPosts[ch.ID] {
			if p := s.st.posts[pid]; p.IsPinned && p.DeleteAt == 0 {
				s.addToList(list, p, true)
			}
		}
		return s.postListOut(list), nil
	})
}

// getChannelTimezones is GET /channels/{channel_id}/timezones
// (api4/channel.go getChannelMembersTimezones → app
// GetChannelMembersTimezones): read_channel, else 403; the members'
// preferred timezones (the automatic one when useAutomaticTimezone is
// "true", else the manual one), members with neither set left out,
// duplicates removed. The fake sorts them; the server keeps the store's
// order.
func (q *request) getChannelTimezones() {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		ch := st.readableChannel(id, q.sess.userID)
		if ch == nil {
			return nil, errPerm()
		}
		seen := map[string]bool{}
		out := []string{}
		for uid := range st.members[id] {
			u := st.users[uid]
			if u == nil {
				continue
			}
			tz := u.user.Timezone
			if tz["automaticTimezone"] == "" && tz["manualTimezone"] == "" {
				continue
			}
			pref := tz["manualTimezone"]
			if tz["useAutomaticTimezone"] == "true" {
				pref = tz["automaticTimezone"]
			}
			if !seen[pref] {
				seen[pref] = true
				out = append(out, pref)
			}
		}
		sort.Strings(out)
		return out, nil
	})
}
