package mmtest

import (
	"net/http"

	"github.com/matterbot/matterbot/mattermost"
)

// updateChannel is PUT /channels/{channel_id}, the full update
// (api4/channel.go updateChannel). The body is a channel whose id must be
// the URL's (400 channel_id). Unlike the patch, the header and the
// purpose are always replaced, so a body without purpose clears it; the
// display name and the name only when the body has them. Checks in the
// server's order: 404 unknown channel; the properties permission of a
// public or private channel (403); for a direct or group channel only
// membership (403 api.channel.patch_update_channel.forbidden.app_error)
// and only the header may change (400
// api.channel.update_channel.update_direct_or_group_messages_not_allowed.app_error);
// archived (400 api.channel.update_channel.deleted.app_error); another
// type (400 api.channel.update_channel.typechange.app_error); renaming
// town-square (400 api.channel.update_channel.tried.app_error); then the
// model checks of app UpdateChannel. channel_updated goes to the channel;
// when the body's display name differs from the old one (an empty one
// included, as the server compares them) a system_displayname_change post
// follows (app/channel.go PostUpdateChannelDisplayNameMessage). No header
// or purpose post: only the patch makes those. The answer is the updated
// channel.
func (q *request) updateChannel() {
	id := q.idParam("channel_id")
	if id == "" {
		return
	}
	var body mattermost.Channel
	if !q.decode("channel", &body) {
		return
	}
	if body.ID != id {
		q.failParam("channel_id")
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		st := s.st
		ch := st.channels[id]
		if ch == nil {
			return nil, apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
		}
		switch ch.Type {
		case mattermost.ChannelOpen, mattermost.ChannelPrivate:
			perm := "manage_public_channel_properties"
			if ch.Type == mattermost.ChannelPrivate {
				perm = "manage_private_channel_properties"
			}
			if !st.hasChannelPermission(ch, q.sess.userID, perm) {
				return nil, errPerm()
			}
		default:
			if !st.isChannelMember(ch.ID, q.sess.userID) {
				return nil, apiError(http.StatusForbidden, "api.channel.patch_update_channel.forbidden.app_error", "")
			}
			if body.Name != "" && body.Name != ch.Name || body.DisplayName != "" && body.DisplayName != ch.DisplayName ||
				body.Purpose != ch.Purpose {
				return nil, apiError(http.StatusBadRequest, "api.channel.update_channel.update_direct_or_group_messages_not_allowed.app_error", "")
			}
		}
		switch {
		case ch.DeleteAt > 0:
			return nil, apiError(http.StatusBadRequest, "api.channel.update_channel.deleted.app_error", "")
		case body.Type != "" && body.Type != ch.Type:
			return nil, apiError(http.StatusBadRequest, "api.channel.update_channel.typechange.app_error", "")
		case ch.Name == "town-square" && body.Name != "" && body.Name != ch.Name:
			return nil, apiError(http.StatusBadRequest, "api.channel.update_channel.tried.app_error", "town-square")
		}
		next := *ch
		next.Header, next.Purpose = body.Header, body.Purpose
		if body.DisplayName != "" {
			next.DisplayName = body.DisplayName
		}
		if body.Name != "" {
			next.Name = body.Name
		}
		if body.GroupConstrained != nil {
			v := *body.GroupConstrained
			next.GroupConstrained = &v
		}
		// model.Channel.IsValid, in its order, for what may have changed.
		if ch.Type == mattermost.ChannelOpen || ch.Type == mattermost.ChannelPrivate {
			if e := checkChannelDisplayName(next.DisplayName); e != nil {
				return nil, e
			}
			if e := checkChannelName(next.Name); e != nil {
				return nil, e
			}
		}
		if e := checkChannelHeader(next.Header); e != nil {
			return nil, e
		}
		if e := checkChannelPurpose(next.Purpose); e != nil {
			return nil, e
		}
		if next.Name != ch.Name {
			if _, dup := st.channelByName[ch.TeamID+"/"+next.Name]; dup {
				// The same id as the patch's duplicate name; the current
				// store answers app.channel.update.bad_id instead.
				return nil, apiError(http.StatusBadRequest, "store.sql_channel.save_channel.exists.app_error", "")
			}
			delete(st.channelByName, ch.TeamID+"/"+ch.Name)
			st.channelByName[ch.TeamID+"/"+next.Name] = ch.ID
		}
		oldDisplay := ch.DisplayName
		next.UpdateAt = s.millis()
		*ch = next
		out := next
		*evs = append(*evs, event{name: "channel_updated", channelID: ch.ID, data: map[string]any{"channel": jsonString(&out)}})
		if oldDisplay != body.DisplayName {
			actor := st.users[q.sess.userID].user.Username
			s.systemPost(ch, q.sess.userID, "system_displayname_change",
				actor+" updated the channel display name from: "+oldDisplay+" to: "+body.DisplayName,
				map[string]any{"username": actor, "old_displayname": oldDisplay, "new_displayname": body.DisplayName}, evs)
		}
		s.touch()
		return out, nil
	})
}
