package mmtest

import (
	"net/http"
	"sort"
	"strings"
	"unicode"

	"github.com/matterbot/matterbot/mattermost"
)

// channelSearchLimit is model.ChannelSearchDefaultLimit (autocomplete);
// the team search stops at 100 (store SearchInTeam).
const (
	channelSearchLimit     = 50
	channelTeamSearchLimit = 100
)

// channelMatches approximates the store's channel search
// (sqlstore/channel_store.go buildLIKEClause and buildFulltextClause,
// joined by UNION): the whole term is a case-insensitive prefix of the
// name, display name or purpose, or every word of the term is a prefix of
// a word of those fields. PostgreSQL's stemming is not reproduced. An
// empty term matches every channel.
func channelMatches(ch *mattermost.Channel, term string) bool {
	term = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(term, "*", "")))
	if term == "" {
		return true
	}
	fields := []string{ch.Name, ch.DisplayName, ch.Purpose}
	for _, f := range fields {
		if strings.HasPrefix(strings.ToLower(f), term) {
			return true
		}
	}
	var words []string
	for _, f := range fields {
		words = append(words, searchWords(f)...)
	}
	for _, tw := range searchWords(term) {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, tw) {
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

// searchWords splits s into lowercase runs of letters and digits, as a
// full-text parser does.
func searchWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// sortByDisplayName orders channels as ORDER BY DisplayName does under a
// PostgreSQL en_US collation (case aside first), the name breaking ties
// so the fake's answers are stable.
func sortByDisplayName(chs []mattermost.Channel) {
	sort.Slice(chs, func(i, j int) bool {
		return collateLess(chs[i].DisplayName, chs[j].DisplayName, chs[i].Name, chs[j].Name)
	})
}

// collateLess compares a and b ignoring case, then exactly, then the
// tie-breakers c and d.
func collateLess(a, b, c, d string) bool {
	if la, lb := strings.ToLower(a), strings.ToLower(b); la != lb {
		return la < lb
	}
	if a != b {
		return a < b
	}
	return c < d
}

// teamChannels returns copies of the channels of teamID that keep says
// to keep, archived ones only with archived. s.mu held.
func (st *state) teamChannels(teamID string, archived bool, keep func(*mattermost.Channel) bool) []mattermost.Channel {
	out := []mattermost.Channel{}
	for _, ch := range st.channels {
		if ch.TeamID == teamID && (ch.DeleteAt == 0 || archived) && keep(ch) {
			out = append(out, *ch)
		}
	}
	sortByDisplayName(out)
	return out
}

// getPrivateChannelsForTeam is GET /teams/{team_id}/channels/private
// (api4/channel.go getPrivateChannelsForTeam): manage_system only (403
// otherwise); the team's live private channels by display name, paged.
func (q *request) getPrivateChannelsForTeam() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	page, perPage := pageParams(q.r)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.hasPermission(q.sess.userID, permManageSystem) {
			return nil, errPerm()
		}
		chs := st.teamChannels(tid, false, func(ch *mattermost.Channel) bool { return ch.Type == mattermost.ChannelPrivate })
		return pageOf(chs, page, perPage), nil
	})
}

// searchChannelsForTeam is POST /teams/{team_id}/channels/search
// (api4/channel.go searchChannelsForTeam) with a model.ChannelSearch body
// ({"term": ...}). With list_team_channels (team members) it searches
// the team's public channels (app SearchChannels); without it a caller
// who is no team member gets the 404 of GetTeamMember
// (app.team.get_member.missing.app_error), and a member whose role lost
// the permission searches the channels they belong to
// (SearchChannelsForUser). Archived channels are searched when
// TeamSettings.ExperimentalViewArchivedChannels is on: its default is off
// in 5.36 (model/config.go) and on today
// (server/public/model/config.go), so the current profile includes them.
// At most 100, by display name.
func (q *request) searchChannelsForTeam() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	var body struct {
		Term string `json:"term"`
	}
	if !q.decode("channel_search", &body) {
		return
	}
	archived := q.s.viewArchived()
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		var chs []mattermost.Channel
		if st.hasTeamPermission(tid, uid, permListTeamChannels) {
			chs = st.teamChannels(tid, archived, func(ch *mattermost.Channel) bool {
				return ch.Type == mattermost.ChannelOpen && channelMatches(ch, body.Term)
			})
		} else {
			if !st.isTeamMember(tid, uid) {
				return nil, apiError(http.StatusNotFound, "app.team.get_member.missing.app_error", "")
			}
			chs = st.teamChannels(tid, archived, func(ch *mattermost.Channel) bool {
				return st.isChannelMember(ch.ID, uid) && channelMatches(ch, body.Term)
			})
		}
		return chs[:min(len(chs), channelTeamSearchLimit)], nil
	})
}

// autocompleteChannelsForTeam is GET
// /teams/{team_id}/channels/autocomplete?name= (api4/channel.go
// autocompleteChannelsForTeam): list_team_channels, else 403; at most 50
// channels matching name, by display name. 5.36's store
// AutocompleteInTeam (store/sqlstore/channel_store.go) returns public
// channels only; today's (server/channels/store/sqlstore/channel_store.go)
// also the private channels the caller is a member of, and archived
// channels as searchChannelsForTeam does.
func (q *request) autocompleteChannelsForTeam() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	name := q.r.URL.Query().Get("name")
	withPrivate, archived := !q.s.is536(), q.s.viewArchived()
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		if !st.hasTeamPermission(tid, uid, permListTeamChannels) {
			return nil, errPerm()
		}
		chs := st.teamChannels(tid, archived, func(ch *mattermost.Channel) bool {
			visible := ch.Type == mattermost.ChannelOpen ||
				withPrivate && ch.Type == mattermost.ChannelPrivate && st.isChannelMember(ch.ID, uid)
			return visible && channelMatches(ch, name)
		})
		return chs[:min(len(chs), channelSearchLimit)], nil
	})
}

// viewArchived is TeamSettings.ExperimentalViewArchivedChannels: off by
// default in 5.36, on today.
func (s *Server) viewArchived() bool { return !s.is536() }
