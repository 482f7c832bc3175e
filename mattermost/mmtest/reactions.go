package mmtest

import (
	"net/http"

	"github.com/matterbot/matterbot/mattermost"
)

// isValidEmojiName follows the emoji_name route pattern and
// model.EmojiNameMaxLength (64).
func isValidEmojiName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	ok := paramClass("emoji_name")
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// canReact: add_reaction / remove_reaction are channel permissions, held by
// members (and admins).
func (st *state) canReact(p *mattermost.Post, userID string) bool {
	return p != nil && (st.isAdmin(userID) || st.isChannelMember(p.ChannelID, userID))
}

// saveReaction is POST /reactions (api4/reaction.go saveReaction). It
// answers 200, not 201, in both the 5.36 recording and current source.
// Publishes reaction_added with the reaction as a JSON string.
func (q *request) saveReaction() {
	var r mattermost.Reaction
	if !q.decode("reaction", &r) {
		return
	}
	if !mattermost.IsValidID(r.UserID) || !mattermost.IsValidID(r.PostID) || !isValidEmojiName(r.EmojiName) {
		q.fail(apiError(http.StatusBadRequest, "api.reaction.save_reaction.invalid.app_error", ""))
		return
	}
	if r.UserID != q.sess.userID {
		q.fail(apiError(http.StatusForbidden, "api.reaction.save_reaction.user_id.app_error", ""))
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		p := s.st.posts[r.PostID]
		if !s.st.canReact(p, r.UserID) || p.DeleteAt != 0 {
			return nil, errPerm()
		}
		for _, old := range s.st.reactions[p.ID] {
			if old.UserID == r.UserID && old.EmojiName == r.EmojiName {
				return *old, nil
			}
		}
		now := s.millis()
		nr := &mattermost.Reaction{UserID: r.UserID, PostID: p.ID, EmojiName: r.EmojiName, CreateAt: now, UpdateAt: now}
		s.st.reactions[p.ID] = append(s.st.reactions[p.ID], nr)
		p.HasReactions = true
		p.UpdateAt = now
		out := *nr
		s.touch()
		*evs = append(*evs, event{name: "reaction_added", channelID: p.ChannelID, data: map[string]any{"reaction": jsonString(&out)}})
		return out, nil
	})
}

// deleteReaction is DELETE /users/{user_id}/posts/{post_id}/reactions/{emoji_name}:
// removing another user's reaction needs remove_others_reactions (admins).
// reaction_removed carries the reaction with create_at 0, as recorded.
func (q *request) deleteReaction() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	pid := q.idParam("post_id")
	if pid == "" {
		return
	}
	emoji := q.params["emoji_name"]
	if !isValidEmojiName(emoji) {
		q.failURLParam("emoji_name")
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		p := s.st.posts[pid]
		if !s.st.canReact(p, q.sess.userID) || uid != q.sess.userID && !s.st.isAdmin(q.sess.userID) {
			return nil, errPerm()
		}
		rs := s.st.reactions[pid]
		for i, r := range rs {
			if r.UserID != uid || r.EmojiName != emoji {
				continue
			}
			s.st.reactions[pid] = append(rs[:i:i], rs[i+1:]...)
			now := s.millis()
			p.HasReactions = len(s.st.reactions[pid]) > 0
			p.UpdateAt = now
			gone := mattermost.Reaction{UserID: uid, PostID: pid, EmojiName: emoji, UpdateAt: now}
			*evs = append(*evs, event{name: "reaction_removed", channelID: p.ChannelID, data: map[string]any{"reaction": jsonString(&gone)}})
			s.touch()
			break
		}
		return statusOK{}, nil
	})
}

// getReactions is GET /posts/{post_id}/reactions.
func (q *request) getReactions() {
	q.readPost(func(p *mattermost.Post, _ *[]event) (any, *mattermost.APIError) {
		out := []mattermost.Reaction{}
		for _, r := range q.s.st.reactions[p.ID] {
			out = append(out, *r)
		}
		return out, nil
	})
}
