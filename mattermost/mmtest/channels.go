package mmtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// createChannel stores an O or P channel; creatorID (may be "") becomes
// its first member, with channel_admin. s.mu held.
func (s *Server) createChannel(teamID, name, displayName, typ, creatorID string) (*mattermost.Channel, *mattermost.APIError) {
	// Checks in the order of model.Channel.IsValid.
	if e := checkChannelDisplayName(displayName); e != nil {
		return nil, e
	}
	if e := checkChannelName(name); e != nil {
		return nil, e
	}
	if typ != mattermost.ChannelOpen && typ != mattermost.ChannelPrivate {
		return nil, apiError(http.StatusBadRequest, "model.channel.is_valid.type.app_error", "")
	}
	if s.st.teams[teamID] == nil {
		return nil, apiError(http.StatusNotFound, "app.team.get.find.app_error", "")
	}
	key := teamID + "/" + name
	if _, dup := s.st.channelByName[key]; dup {
		return nil, apiError(http.StatusBadRequest, "store.sql_channel.save_channel.exists.app_error", "")
	}
	now := s.millis()
	ch := &mattermost.Channel{ID: s.entityID("channel", teamID, name), CreateAt: now, UpdateAt: now, TeamID: teamID, Type: typ,
		DisplayName: displayName, Name: name, CreatorID: creatorID}
	s.st.channels[ch.ID] = ch
	s.st.channelByName[key] = ch.ID
	s.st.members[ch.ID] = make(map[string]*mattermost.ChannelMember)
	if creatorID != "" {
		m := s.newMember(ch, creatorID)
		m.Roles, m.SchemeAdmin = "channel_user channel_admin", true
	}
	s.touch()
	return ch, nil
}

// The field checks of model.Channel.IsValid, shared by createChannel and
// patchChannel.

func checkChannelDisplayName(v string) *mattermost.APIError {
	if runeLen(v) > 64 || strings.TrimSpace(v) == "" {
		return apiError(http.StatusBadRequest, "model.channel.is_valid.display_name.app_error", "")
	}
	return nil
}

func checkChannelName(v string) *mattermost.APIError {
	if !isValidChannelName(v) {
		return apiError(http.StatusBadRequest, "model.channel.is_valid.2_or_more.app_error", "")
	}
	return nil
}

func checkChannelHeader(v string) *mattermost.APIError {
	if runeLen(v) > 1024 {
		return apiError(http.StatusBadRequest, "model.channel.is_valid.header.app_error", "")
	}
	return nil
}

func checkChannelPurpose(v string) *mattermost.APIError {
	if runeLen(v) > 250 {
		return apiError(http.StatusBadRequest, "model.channel.is_valid.purpose.app_error", "")
	}
	return nil
}

// newMember stores a membership without events. s.mu held.
func (s *Server) newMember(ch *mattermost.Channel, userID string) *mattermost.ChannelMember {
	m := &mattermost.ChannelMember{ChannelID: ch.ID, UserID: userID, Roles: "channel_user", SchemeUser: true,
		LastUpdateAt: s.millis(),
		NotifyProps: map[string]string{"desktop": "default", "email": "default", "ignore_channel_mentions": "default",
			"mark_unread": "all", "push": "default"}}
	s.st.members[ch.ID][userID] = m
	return m
}

// addChannelMember adds userID and publishes user_added to the channel
// (app/channel.go AddChannelMember → postJoin...; the event carries
// user_id and team_id). An existing member is returned as is. s.mu held.
func (s *Server) addChannelMember(ch *mattermost.Channel, userID string, evs *[]event) (*mattermost.ChannelMember, bool) {
	if m := s.st.members[ch.ID][userID]; m != nil {
		return m, false
	}
	m := s.newMember(ch, userID)
	*evs = append(*evs, event{name: "user_added", channelID: ch.ID, data: map[string]any{"team_id": ch.TeamID, "user_id": userID}})
	s.touch()
	return m, true
}

// dmName is model.GetDMNameFromIds: the two ids sorted, joined by "__".
func dmName(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "__" + b
}

// gmName is model.GetGroupNameFromUserIds: hex SHA-1 of the sorted ids.
func gmName(ids []string) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	h := sha1.New()
	for _, id := range sorted {
		h.Write([]byte(id))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// directChannel returns the DM of a and b, creating it (creator creatorID)
// and publishing direct_added when new (app/channel.go
// GetOrCreateDirectChannel). s.mu held.
func (s *Server) directChannel(a, b, creatorID string, evs *[]event) (*mattermost.Channel, *mattermost.APIError) {
	if s.st.users[a] == nil || s.st.users[b] == nil {
		return nil, apiError(http.StatusBadRequest, "api.channel.create_direct_channel.invalid_user.app_error", "")
	}
	name := dmName(a, b)
	if id, ok := s.st.channelByName["/"+name]; ok {
		return s.st.channels[id], nil
	}
	now := s.millis()
	ch := &mattermost.Channel{ID: s.entityID("channel", "", name), CreateAt: now, UpdateAt: now, Type: mattermost.ChannelDirect,
		Name: name, CreatorID: creatorID, Shared: new(bool)}
	s.st.channels[ch.ID] = ch
	s.st.channelByName["/"+name] = ch.ID
	s.st.members[ch.ID] = make(map[string]*mattermost.ChannelMember)
	s.newMember(ch, a)
	s.newMember(ch, b)
	other := b
	if creatorID == b {
		other = a
	}
	*evs = append(*evs, event{name: "direct_added", channelID: ch.ID, data: map[string]any{"creator_id": creatorID, "teammate_id": other}})
	s.touch()
	return ch, nil
}

// groupChannel returns the GM of ids (3 to 8 distinct users), creating it
// and publishing group_added when new (app/channel.go CreateGroupChannel).
// Its display name is the sorted usernames joined by ", ". s.mu held.
func (s *Server) groupChannel(ids []string, evs *[]event) (*mattermost.Channel, *mattermost.APIError) {
	uniq := make([]string, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) < 3 || len(uniq) > 8 {
		return nil, apiError(http.StatusBadRequest, "api.channel.create_group.bad_size.app_error", "")
	}
	names := make([]string, 0, len(uniq))
	for _, id := range uniq {
		u := s.st.users[id]
		if u == nil {
			return nil, errParam("user_ids")
		}
		names = append(names, u.user.Username)
	}
	name := gmName(uniq)
	if id, ok := s.st.channelByName["/"+name]; ok {
		return s.st.channels[id], nil
	}
	sort.Strings(names)
	now := s.millis()
	ch := &mattermost.Channel{ID: s.entityID("channel", "", name), CreateAt: now, UpdateAt: now, Type: mattermost.ChannelGroup,
		Name: name, DisplayName: strings.Join(names, ", ")}
	s.st.channels[ch.ID] = ch
	s.st.channelByName["/"+name] = ch.ID
	s.st.members[ch.ID] = make(map[string]*mattermost.ChannelMember)
	for _, id := range uniq {
		s.newMember(ch, id)
	}
	*evs = append(*evs, event{name: "group_added", channelID: ch.ID, data: map[string]any{"teammate_ids": jsonString(uniq)}})
	s.touch()
	return ch, nil
}

// createChannelAPI is POST /channels (api4/channel.go createChannel): 201.
// Team members hold create_public_channel / create_private_channel.
func (q *request) createChannelAPI() {
	var body mattermost.Channel
	if !q.decode("channel", &body) {
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		if !s.st.isAdmin(q.sess.userID) && !s.st.isTeamMember(body.TeamID, q.sess.userID) {
			return nil, errPerm()
		}
		ch, e := s.createChannel(body.TeamID, body.Name, body.DisplayName, body.Type, q.sess.userID)
		if e != nil {
			return nil, e
		}
		ch.Purpose, ch.Header = body.Purpose, body.Header
		// app/channel.go CreateChannelWithUser: channel_created goes to the
		// creator only.
		*evs = append(*evs, event{name: "channel_created", userID: q.sess.userID, data: map[string]any{"channel_id": ch.ID, "team_id": ch.TeamID}})
		return *ch, nil
	})
}

// readChannel loads channel_id and checks read access (404
// app.channel.get.existing.app_error when unknown, 403 when not
// readable), then answers 200 with what f returns for the channel. f
// runs with s.mu held, as in locked.
func (q *request) readChannel(f func(ch *mattermost.Channel) (any, *mattermost.APIError)) {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		ch := st.channels[id]
		if ch == nil {
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		}
		if !st.canReadChannel(ch, q.sess.userID) {
			return nil, errPerm()
		}
		return f(ch)
	})
}

// getChannel is GET /channels/{channel_id}.
func (q *request) getChannel() {
	q.readChannel(func(ch *mattermost.Channel) (any, *mattermost.APIError) { return *ch, nil })
}

// getChannelByName is GET /teams/{team_id}/channels/name/{channel_name}.
func (q *request) getChannelByName() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	q.channelByName(func(st *state) (string, bool) { return tid, true })
}

// getChannelByTeamAndName is
// GET /teams/name/{team_name}/channels/name/{channel_name}.
func (q *request) getChannelByTeamAndName() {
	tname := q.params["team_name"]
	q.channelByName(func(st *state) (string, bool) {
		id, ok := st.teamByName[tname]
		return id, ok
	})
}

// channelByName follows api4/channel.go getChannelByName: a private
// channel the caller cannot read is reported missing (404), not forbidden,
// so its existence does not leak; a public channel of a team the caller is
// not on is a 403; archived channels need include_deleted.
func (q *request) channelByName(team func(*state) (string, bool)) {
	name := q.params["channel_name"]
	inclDeleted, _ := strconv.ParseBool(q.r.URL.Query().Get("include_deleted"))
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		tid, ok := team(st)
		if !ok {
			return nil, apiError(http.StatusNotFound, "app.team.get_by_name.missing.app_error", "")
		}
		ch := st.channels[st.channelByName[tid+"/"+name]]
		if ch == nil || ch.DeleteAt != 0 && !inclDeleted ||
			ch.Type != mattermost.ChannelOpen && !st.canReadChannel(ch, q.sess.userID) {
			return nil, apiError(http.StatusNotFound, "app.channel.get_by_name.missing.app_error", "")
		}
		if !st.canReadChannel(ch, q.sess.userID) { // public, but not on the team
			return nil, errPerm()
		}
		return *ch, nil
	})
}

// canManageChannel: members hold manage_{public,private}_channel_properties
// and _members by default (channel_user role); admins always.
func (st *state) canManageChannel(ch *mattermost.Channel, userID string) bool {
	if st.isAdmin(userID) {
		return true
	}
	if ch.Type != mattermost.ChannelOpen && ch.Type != mattermost.ChannelPrivate {
		return false
	}
	return st.isChannelMember(ch.ID, userID)
}

// patchChannel is PUT /channels/{channel_id}/patch (api4/channel.go
// patchChannel): broadcasts channel_updated (channel as a JSON string) and
// a system post for a changed header, purpose or display name
// (app/channel.go PostUpdateChannelHeaderMessage and friends).
func (q *request) patchChannel() {
	var patch struct {
		Name        *string `json:"name"`
		DisplayName *string `json:"display_name"`
		Purpose     *string `json:"purpose"`
		Header      *string `json:"header"`
	}
	id := q.idParam("channel_id")
	if id == "" || !q.decode("channel", &patch) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		ch := s.st.channels[id]
		switch {
		case ch == nil:
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		case !s.st.canManageChannel(ch, q.sess.userID):
			return nil, errPerm()
		case ch.DeleteAt != 0:
			return nil, apiError(http.StatusBadRequest, "api.channel.delete_channel.deleted.app_error", "")
		}
		next := *ch
		if patch.Name != nil && *patch.Name != ch.Name {
			if e := checkChannelName(*patch.Name); e != nil {
				return nil, e
			}
			if _, dup := s.st.channelByName[ch.TeamID+"/"+*patch.Name]; dup {
				return nil, apiError(http.StatusBadRequest, "store.sql_channel.save_channel.exists.app_error", "")
			}
			next.Name = *patch.Name
		}
		// The first bad field answers, in this order.
		for _, f := range []struct {
			patch *string
			field *string
			check func(string) *mattermost.APIError
		}{
			{patch.DisplayName, &next.DisplayName, checkChannelDisplayName},
			{patch.Header, &next.Header, checkChannelHeader},
			{patch.Purpose, &next.Purpose, checkChannelPurpose},
		} {
			if f.patch == nil {
				continue
			}
			if e := f.check(*f.patch); e != nil {
				return nil, e
			}
			*f.field = *f.patch
		}
		old := *ch
		next.UpdateAt = s.millis()
		if next.Name != old.Name {
			delete(s.st.channelByName, ch.TeamID+"/"+old.Name)
			s.st.channelByName[ch.TeamID+"/"+next.Name] = ch.ID
		}
		*ch = next
		out := next
		*evs = append(*evs, event{name: "channel_updated", channelID: ch.ID, data: map[string]any{"channel": jsonString(&out)}})
		actor := s.st.users[q.sess.userID].user.Username
		changed := func(typ, what, from, to, oldKey, newKey string) {
			if from == to {
				return
			}
			msg := actor + " updated the channel " + what + " to: " + to
			if from != "" {
				msg = actor + " updated the channel " + what + " from: " + from + " to: " + to
			}
			if to == "" {
				msg = actor + " removed the channel " + what + " (was: " + from + ")"
			}
			s.systemPost(ch, q.sess.userID, typ, msg, map[string]any{"username": actor, oldKey: from, newKey: to}, evs)
		}
		changed("system_displayname_change", "display name", old.DisplayName, next.DisplayName, "old_displayname", "new_displayname")
		changed("system_header_change", "header", old.Header, next.Header, "old_header", "new_header")
		changed("system_purpose_change", "purpose", old.Purpose, next.Purpose, "old_purpose", "new_purpose")
		s.touch()
		return out, nil
	})
}

// deleteChannel is DELETE /channels/{channel_id}: archives it (delete_at)
// and publishes channel_deleted to the team (app/channel.go DeleteChannel).
func (q *request) deleteChannel() {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		ch := s.st.channels[id]
		switch {
		case ch == nil:
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		case ch.Type == mattermost.ChannelDirect || ch.Type == mattermost.ChannelGroup:
			return nil, apiError(http.StatusBadRequest, "api.channel.delete_channel.type.invalid", "")
		case !s.st.canManageChannel(ch, q.sess.userID):
			return nil, errPerm()
		case ch.Name == "town-square":
			return nil, apiError(http.StatusBadRequest, "api.channel.delete_channel.cannot.app_error", "town-square")
		case ch.DeleteAt != 0:
			return nil, apiError(http.StatusBadRequest, "api.channel.delete_channel.deleted.app_error", "")
		}
		actor := s.st.users[q.sess.userID].user.Username
		s.systemPost(ch, q.sess.userID, "system_channel_deleted", actor+" archived the channel", map[string]any{"username": actor}, evs)
		now := s.millis()
		ch.DeleteAt, ch.UpdateAt = now, now
		*evs = append(*evs, event{name: "channel_deleted", teamID: ch.TeamID, data: map[string]any{"channel_id": ch.ID, "delete_at": now}})
		s.touch()
		return statusOK{}, nil
	})
}

// createDirect is POST /channels/direct: exactly two user ids, one of them
// the caller's unless an admin; 201 with the new or existing channel.
func (q *request) createDirect() {
	ids, ok := q.readStringArray("user_ids")
	if !ok {
		return
	}
	if len(ids) != 2 {
		q.failParam("user_ids")
		return
	}
	if !allValidIDs(ids) {
		q.failParam("user_id")
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		if ids[0] != q.sess.userID && ids[1] != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		return copyOf(s.directChannel(ids[0], ids[1], q.sess.userID, evs))
	})
}

// allValidIDs reports whether every one of ids is a valid id
// (model.IsValidId).
func allValidIDs(ids []string) bool {
	for _, id := range ids {
		if !mattermost.IsValidID(id) {
			return false
		}
	}
	return true
}

// createGroup is POST /channels/group: the caller is added when missing
// (api4/channel.go createGroupChannel); 201.
func (q *request) createGroup() {
	ids, ok := q.readStringArray("user_ids")
	if !ok {
		return
	}
	if !allValidIDs(ids) {
		q.failParam("user_id")
		return
	}
	ids = append(ids, q.sess.userID)
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		return copyOf(q.s.groupChannel(ids, evs))
	})
}

// getChannelMembers is GET /channels/{channel_id}/members (paged).
func (q *request) getChannelMembers() {
	page, perPage := pageParams(q.r)
	q.readChannel(func(ch *mattermost.Channel) (any, *mattermost.APIError) {
		ms := q.s.st.members[ch.ID]
		out := make([]mattermost.ChannelMember, 0, len(ms))
		for _, m := range ms {
			out = append(out, *m)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
		return pageOf(out, page, perPage), nil
	})
}

// getChannelMember is GET /channels/{channel_id}/members/{user_id}.
func (q *request) getChannelMember() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	q.readChannel(func(ch *mattermost.Channel) (any, *mattermost.APIError) {
		m := q.s.st.members[ch.ID][uid]
		if m == nil {
			return nil, apiError(http.StatusNotFound, "app.channel.get_member.missing.app_error", "")
		}
		return *m, nil
	})
}

// addChannelMemberAPI is POST /channels/{channel_id}/members
// (api4/channel.go addChannelMember): 201 with the membership. The body is
// read as a JSON object, any decoding error reading as an empty one
// (model.StringInterfaceFromJson). 5.36 adds the one user_id; today's
// server adds user_ids when given, else user_id. A system post "X added
// to the channel by Y." or "X joined the channel." follows each new
// membership.
func (q *request) addChannelMemberAPI() {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	var props map[string]any
	_ = json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, maxPayload)).Decode(&props)
	s := q.s
	var uids []string
	if s.is536() {
		// release-5.36 api4/channel.go addChannelMember reads only
		// user_id: a body with user_ids alone is a 400.
		uid, _ := props["user_id"].(string)
		if !mattermost.IsValidID(uid) {
			q.failParam("user_id")
			return
		}
		uids = []string{uid}
	} else if list, ok := props["user_ids"].([]any); ok {
		// server/channels/api4/channel.go addChannelMember: user_ids wins
		// over user_id. (It also caps the list at maxListSize.)
		for _, v := range list {
			uid, ok := v.(string)
			if !ok || !mattermost.IsValidID(uid) {
				q.failParam("user_id in user_ids")
				return
			}
			uids = append(uids, uid)
		}
	} else {
		uid, _ := props["user_id"].(string)
		if !mattermost.IsValidID(uid) {
			q.failParam("user_id or user_ids")
			return
		}
		uids = []string{uid}
	}
	rootID, _ := props["post_root_id"].(string)
	if rootID != "" && !mattermost.IsValidID(rootID) {
		q.failParam("post_root_id")
		return
	}
	actor := q.sess.userID
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		if rootID != "" {
			// GetSinglePost, then the root must be in the channel.
			if root := s.st.posts[rootID]; root == nil || root.DeleteAt != 0 {
				return nil, apiError(http.StatusNotFound, "app.post.get.app_error", "")
			} else if root.ChannelID != id {
				return nil, errParam("post_root_id")
			}
		}
		ch := s.st.channels[id]
		if ch == nil {
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		}
		if ch.Type == mattermost.ChannelDirect || ch.Type == mattermost.ChannelGroup {
			return nil, apiError(http.StatusBadRequest, "api.channel.add_user_to_channel.type.app_error", "")
		}
		if s.is536() {
			m, e := s.addMemberBy(ch, uids[0], actor, evs)
			if e != nil {
				return nil, e
			}
			return *m, nil
		}
		// Today's server: a private channel needs
		// manage_private_channel_members even to add oneself; each user
		// is then added in turn, an error skipping the user; only when
		// none is added is the last error the answer.
		if ch.Type == mattermost.ChannelPrivate && !s.st.hasChannelPermission(ch, actor, "manage_private_channel_members") {
			return nil, errPerm()
		}
		var added []mattermost.ChannelMember
		var last *mattermost.APIError
		for _, uid := range uids {
			m, e := s.addMemberBy(ch, uid, actor, evs)
			if e != nil {
				last = e
				continue
			}
			added = append(added, *m)
		}
		if len(added) == 0 {
			return nil, last
		}
		// Another user's last_viewed_at and last_update_at are hidden
		// (model.ChannelMember.SanitizeForCurrentUser).
		out := make([]map[string]any, len(added))
		for i, m := range added {
			var v map[string]any
			b, _ := json.Marshal(m)
			_ = json.Unmarshal(b, &v)
			if m.UserID != actor {
				delete(v, "last_viewed_at")
				delete(v, "last_update_at")
			}
			out[i] = v
		}
		if uid, ok := props["user_id"]; ok && len(added) == 1 && added[0].UserID == uid {
			return out[0], nil
		}
		return out, nil
	})
}

// addMemberBy adds userID to ch for actor (addChannelMember's checks):
// joining a public channel oneself needs the team's join_public_channels,
// adding anyone else manage_{public,private}_channel_members in the
// channel, as does joining a private one; a user already in the channel is
// answered as is. It posts the system message of a new membership. s.mu
// held.
func (s *Server) addMemberBy(ch *mattermost.Channel, userID, actor string, evs *[]event) (*mattermost.ChannelMember, *mattermost.APIError) {
	self := userID == actor
	existing := s.st.members[ch.ID][userID] != nil
	allowed := true
	switch {
	case self && existing:
	case ch.Type == mattermost.ChannelOpen && self:
		allowed = s.st.hasTeamPermission(ch.TeamID, actor, permJoinPublicChannels)
	case ch.Type == mattermost.ChannelOpen:
		allowed = s.st.hasChannelPermission(ch, actor, "manage_public_channel_members")
	default:
		allowed = s.st.hasChannelPermission(ch, actor, "manage_private_channel_members")
	}
	switch {
	case !allowed:
		return nil, errPerm()
	case existing:
		return s.st.members[ch.ID][userID], nil
	case ch.DeleteAt != 0:
		return nil, apiError(http.StatusBadRequest, "api.channel.add_user_to_channel.deleted.app_error", "")
	case s.st.users[userID] == nil:
		return nil, apiError(http.StatusNotFound, "app.user.missing_account.const", "")
	case !s.st.isTeamMember(ch.TeamID, userID): // app/channel.go addUserToChannel
		return nil, apiError(http.StatusNotFound, "app.team.get_member.missing.app_error", "")
	}
	m, _ := s.addChannelMember(ch, userID, evs)
	name := s.st.users[userID].user.Username
	if self {
		s.systemPost(ch, userID, "system_join_channel", name+" joined the channel.", map[string]any{"username": name}, evs)
	} else {
		by := s.st.users[actor].user.Username
		s.systemPost(ch, actor, "system_add_to_channel", name+" added to the channel by "+by+".",
			map[string]any{"addedUserId": userID, "addedUsername": name, "userId": actor, "username": by}, evs)
	}
	return m, nil
}

// removeChannelMember is DELETE /channels/{channel_id}/members/{user_id}
// (app/channel.go RemoveUserFromChannel): user_removed to the channel and
// to the removed user, plus a system post.
func (q *request) removeChannelMember() {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	uid := q.userParam()
	if uid == "" {
		return
	}
	s := q.s
	actor := q.sess.userID
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		ch := s.st.channels[id]
		switch {
		case ch == nil:
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		case ch.Type == mattermost.ChannelDirect:
			return nil, apiError(http.StatusBadRequest, "api.channel.remove_user_from_channel.direct.app_error", "")
		case ch.Type == mattermost.ChannelGroup && uid != actor:
			return nil, errPerm()
		case uid != actor && !s.st.canManageChannel(ch, actor):
			return nil, errPerm()
		case ch.Name == "town-square":
			return nil, apiError(http.StatusBadRequest, "api.channel.remove.default.app_error", "town-square")
		case s.st.members[ch.ID][uid] == nil:
			return nil, apiError(http.StatusNotFound, "app.channel.get_member.missing.app_error", "")
		}
		delete(s.st.members[ch.ID], uid)
		name := s.st.users[uid].user.Username
		*evs = append(*evs,
			event{name: "user_removed", channelID: ch.ID, data: map[string]any{"user_id": uid, "remover_id": actor}},
			event{name: "user_removed", userID: uid, data: map[string]any{"channel_id": ch.ID, "remover_id": actor}})
		if uid == actor {
			s.systemPost(ch, uid, "system_leave_channel", name+" left the channel.", map[string]any{"username": name}, evs)
		} else {
			s.systemPost(ch, actor, "system_remove_from_channel", name+" removed from the channel.",
				map[string]any{"removedUserId": uid, "removedUsername": name}, evs)
		}
		s.touch()
		return statusOK{}, nil
	})
}

// viewChannel is POST /channels/members/{user_id}/view: marks the channel
// read and publishes channel_viewed to the user.
func (q *request) viewChannel() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	var body struct {
		ChannelID     string `json:"channel_id"`
		PrevChannelID string `json:"prev_channel_id"`
	}
	if !q.decode("channel_view", &body) {
		return
	}
	if uid != q.sess.userID {
		q.failPerm()
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		times := map[string]int64{}
		if ch := s.st.channels[body.ChannelID]; ch != nil {
			if m := s.st.members[ch.ID][uid]; m != nil {
				s.markViewed(ch, m, evs)
				times[ch.ID] = m.LastViewedAt
			}
		}
		return map[string]any{"status": "OK", "last_viewed_at_times": times}, nil
	})
}

// markViewed updates the member's counters and publishes channel_viewed to
// the user (app/channel.go MarkChannelsAsViewed). s.mu held.
func (s *Server) markViewed(ch *mattermost.Channel, m *mattermost.ChannelMember, evs *[]event) {
	now := s.millis()
	m.LastViewedAt, m.LastUpdateAt = now, now
	m.MsgCount, m.MsgCountRoot, m.MentionCount, m.MentionCountRoot = ch.TotalMsgCount, ch.TotalMsgCountRoot, 0, 0
	*evs = append(*evs, event{name: "channel_viewed", userID: m.UserID, data: map[string]any{"channel_id": ch.ID}})
}

// userChannels lists the channels of userID in teamID plus all its DMs and
// GMs, sorted by display name (store GetChannels). s.mu held.
func (s *Server) userChannels(userID, teamID string, inclDeleted bool) []*mattermost.Channel {
	var out []*mattermost.Channel
	for cid, ms := range s.st.members {
		if ms[userID] == nil {
			continue
		}
		ch := s.st.channels[cid]
		if ch.TeamID != teamID && ch.TeamID != "" || ch.DeleteAt != 0 && !inclDeleted {
			continue
		}
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DisplayName != out[j].DisplayName {
			return out[i].DisplayName < out[j].DisplayName
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// getUserChannels is GET /users/{user_id}/teams/{team_id}/channels.
func (q *request) getUserChannels() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	inclDeleted, _ := strconv.ParseBool(q.r.URL.Query().Get("include_deleted"))
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		if uid != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		chs := s.userChannels(uid, tid, inclDeleted)
		out := make([]mattermost.Channel, len(chs))
		for i, ch := range chs {
			out[i] = *ch
		}
		return out, nil
	})
}

// getUserChannelMembers is GET /users/{user_id}/teams/{team_id}/channels/members.
func (q *request) getUserChannelMembers() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		if uid != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		chs := s.userChannels(uid, tid, false)
		out := make([]mattermost.ChannelMember, len(chs))
		for i, ch := range chs {
			out[i] = *s.st.members[ch.ID][uid]
		}
		return out, nil
	})
}

// pageParams reads page and per_page as web/params.go does: page defaults
// to 0, per_page to 60 and is capped at 200.
func pageParams(r *http.Request) (page, perPage int) {
	v := r.URL.Query()
	page, _ = strconv.Atoi(v.Get("page"))
	if page < 0 {
		page = 0
	}
	perPage = 60
	if p, err := strconv.Atoi(v.Get("per_page")); err == nil && p >= 0 {
		perPage = min(p, 200)
	}
	return page, perPage
}

func pageOf[T any](xs []T, page, perPage int) []T {
	start := page * perPage
	if start >= len(xs) || perPage == 0 {
		return []T{}
	}
	return xs[start:min(start+perPage, len(xs))]
}

// getTeamChannels is GET /teams/{team_id}/channels: the team's public,
// live channels, paged, sorted by name (api4/channel.go
// getPublicChannelsForTeam).
func (q *request) getTeamChannels() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	page, perPage := pageParams(q.r)
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		if !s.st.isTeamMember(tid, q.sess.userID) && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		var chs []mattermost.Channel
		for _, ch := range s.st.channels {
			if ch.TeamID == tid && ch.Type == mattermost.ChannelOpen && ch.DeleteAt == 0 {
				chs = append(chs, *ch)
			}
		}
		sort.Slice(chs, func(i, j int) bool { return chs[i].Name < chs[j].Name })
		return pageOf(chs, page, perPage), nil
	})
}

// getAllUserChannels is GET /users/{user_id}/channels, added in server 6.1
// (api4/channel.go getChannelsForUser): the user's channels in every team
// plus its direct and group channels, for the user or an admin
// (SessionHasPermissionToUser) only, ordered by id (store
// GetChannelsByUser). include_deleted adds archived channels, those
// archived at or after last_delete_at when it is set; a negative
// last_delete_at is a 400. The server streams the list: it writes "["
// before reading the first page, so a user in no channel at all, for
// which the store answers not found, gets 200 and "[" followed by the
// error's JSON, which is not valid JSON. The fake answers the same.
func (q *request) getAllUserChannels() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	v := q.r.URL.Query()
	lastDeleteAt, err := strconv.ParseInt(v.Get("last_delete_at"), 10, 64)
	if err != nil {
		lastDeleteAt = 0
	}
	inclDeleted, _ := strconv.ParseBool(v.Get("include_deleted"))
	s := q.s
	var out []mattermost.Channel
	s.mu.Lock()
	allowed := uid == q.sess.userID || s.st.isAdmin(q.sess.userID)
	if allowed && lastDeleteAt >= 0 {
		for cid, ms := range s.st.members {
			ch := s.st.channels[cid]
			if ms[uid] == nil || ch == nil {
				continue
			}
			if ch.DeleteAt != 0 && (!inclDeleted || lastDeleteAt != 0 && ch.DeleteAt < lastDeleteAt) {
				continue
			}
			out = append(out, *ch)
		}
	}
	s.mu.Unlock()
	// The permission is checked before last_delete_at, as in the server.
	if !allowed {
		q.failPerm()
		return
	}
	if lastDeleteAt < 0 {
		q.failURLParam("last_delete_at")
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) == 0 {
		e := apiError(http.StatusNotFound, "app.channel.get_channels.not_found.app_error", "")
		e.RequestID = q.id
		b, _ := json.Marshal(e)
		q.replyRaw(http.StatusOK, append([]byte("["), b...))
		return
	}
	q.reply(http.StatusOK, out)
}
