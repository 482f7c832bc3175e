package mmtest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/matterbot/matterbot/mattermost"
)

// postOpts says how a post came to be.
type postOpts struct {
	setOnline   bool   // the posted event's set_online
	markOnline  bool   // mark the author online (api4 createPost with set_online)
	markViewed  bool   // a user post (not webhook, not system) marks the channel read
	senderName  string // posted event's sender_name; default "@username"
	allowSystem bool   // system_* types are allowed (server-made posts)
}

// propsMaxRunes is model.PostPropsMaxRunes.
const propsMaxRunes = 800000

// createPost validates and stores p as a new post in the order of
// app/post.go CreatePostAsUser → CreatePost and model.Post.IsValid, and
// queues the events the server publishes. The caller has checked the
// permission to post. s.mu held.
//
// For a new post it also returns the post as sent to clients, encoded: the
// posted event carries it and POST /posts answers it, so it is encoded once.
func (s *Server) createPost(p *mattermost.Post, o postOpts, evs *[]event) (*mattermost.Post, []byte, *mattermost.APIError) {
	ch := s.st.channels[p.ChannelID]
	if ch == nil {
		return nil, nil, apiError(http.StatusBadRequest, "model.post.is_valid.channel_id.app_error", "")
	}
	if ch.DeleteAt != 0 {
		return nil, nil, apiError(http.StatusBadRequest, "api.post.create_post.can_not_post_to_deleted.error", "")
	}
	author := s.st.users[p.UserID]
	if author == nil {
		return nil, nil, apiError(http.StatusBadRequest, "app.user.missing_account.const", "")
	}
	// A pending_post_id seen before returns the post it made, without a new
	// event (app/post.go CreatePost → deduplicateCreatePost). The server's
	// cache (seenPendingPostIdsCache) is keyed by the id alone, whoever
	// sends it; a post the sender may not read is ignored and a new one
	// made (GetPostIfAuthorized answering 403).
	if p.PendingPostID != "" {
		if pr, ok := s.st.pending[p.PendingPostID]; ok && s.now().UnixMilli()-pr.at < pendingTTL {
			if old := s.st.posts[pr.postID]; old != nil && s.st.channels[old.ChannelID] != nil &&
				s.st.canReadChannel(s.st.channels[old.ChannelID], p.UserID) {
				if o.markViewed {
					if m := s.st.members[ch.ID][p.UserID]; m != nil {
						s.markViewed(ch, m, evs)
					}
				}
				return old, nil, nil
			}
		}
	}
	if !o.allowSystem && strings.HasPrefix(p.Type, mattermost.PostSystemPrefix) {
		return nil, nil, apiError(http.StatusBadRequest, "api.context.invalid_param.app_error", "post.type")
	}
	var root *mattermost.Post
	if p.RootID != "" {
		root = s.st.posts[p.RootID]
		if root == nil || root.ChannelID != p.ChannelID || root.RootID != "" || root.DeleteAt != 0 {
			return nil, nil, apiError(http.StatusBadRequest, "api.post.create_post.root_id.app_error", "")
		}
	}
	if runeLen(p.Message) > mattermost.PostMessageMaxRunes {
		return nil, nil, apiError(http.StatusBadRequest, "model.post.is_valid.msg.app_error", "")
	}
	if len(p.FileIDs) > mattermost.PostFileIDsMax {
		return nil, nil, apiError(http.StatusBadRequest, "model.post.is_valid.file_ids.app_error", "")
	}
	props := make(map[string]any, len(p.Props)+2)
	for k, v := range p.Props {
		props[k] = v
	}
	if raw, ok := props["attachments"]; ok {
		atts, err := normalizeAttachments(raw)
		if err != nil {
			return nil, nil, errParam("props.attachments")
		}
		generateActionIDs(atts) // model.Post.PreCommit
		props["attachments"] = atts
	}
	if b, _ := json.Marshal(props); runeLen(string(b)) > propsMaxRunes {
		return nil, nil, apiError(http.StatusBadRequest, "model.post.is_valid.props.app_error", "")
	}
	// A file that cannot be attached (unknown, another user's, already on
	// a post, or named twice) is dropped and the post made without it:
	// app/post.go attachFilesToPost, in release-5.36 and today's
	// server/channels/app/post.go alike, skips a file whose store
	// AttachToPost (UPDATE FileInfo ... WHERE PostId = '' AND CreatorId =
	// the poster) changes no row, then overwrites the post with the files
	// it attached.
	var attached []string
	for _, fid := range p.FileIDs {
		if f := s.st.files[fid]; f != nil && f.info.UserID == p.UserID && f.info.PostID == "" && !slices.Contains(attached, fid) {
			attached = append(attached, fid)
		}
	}
	if author.user.IsBot {
		props["from_bot"] = "true" // app/post.go CreatePost
	}
	if cm := s.channelMentions(ch, p.Message); cm != nil {
		props["channel_mentions"] = cm // app/post.go FillInPostProps
	}
	now := s.millis()
	np := &mattermost.Post{
		ID: mattermost.NewID(), CreateAt: now, UpdateAt: now, UserID: p.UserID, ChannelID: p.ChannelID,
		RootID: p.RootID, ParentID: p.RootID, Message: p.Message, Type: p.Type, Props: props,
		Hashtags: hashtags(p.Message), PendingPostID: p.PendingPostID,
	}
	if len(attached) > 0 {
		np.FileIDs = attached
		for _, fid := range attached {
			f := s.st.files[fid]
			f.info.PostID = np.ID // channel_id is the upload's: "" on 5.36
		}
	}
	if len(attached) != len(p.FileIDs) {
		np.UpdateAt = s.millis() // the store's Overwrite stamps update_at
	}
	s.st.posts[np.ID] = np
	s.st.channelPosts[ch.ID] = append(s.st.channelPosts[ch.ID], np.ID)
	s.st.allPosts = append(s.st.allPosts, np.ID)
	if p.PendingPostID != "" {
		s.st.pending[p.PendingPostID] = pendingRec{postID: np.ID, at: s.now().UnixMilli()}
	}
	ch.TotalMsgCount++
	ch.LastPostAt = now
	if root != nil {
		s.st.replies[root.ID] = append(s.st.replies[root.ID], np.ID)
		root.ReplyCount++
		root.LastReplyAt = now
		root.UpdateAt = now // the store bumps the root with each reply
		np.ReplyCount = root.ReplyCount
	} else {
		ch.TotalMsgCountRoot++ // last_root_post_at is left 0: 5.36 does not send it
	}

	out := s.postOut(np)
	postJSON, err := json.Marshal(&out)
	if err != nil {
		return nil, nil, apiError(http.StatusInternalServerError, "api.marshal_error", "")
	}
	// The answer and the posted event carry the pending_post_id; the
	// stored post does not (it is no column of the Posts table): every
	// later read answers "" (recorded channel_posts_since.json).
	np.PendingPostID = ""
	data := map[string]any{
		"post":                 string(postJSON),
		"channel_type":         ch.Type,
		"channel_name":         ch.Name,
		"channel_display_name": ch.DisplayName,
		"sender_name":          "@" + author.user.Username,
		"team_id":              ch.TeamID,
		"set_online":           o.setOnline,
	}
	if ch.Type == mattermost.ChannelDirect {
		data["channel_display_name"] = "@" + author.user.Username
	}
	if o.senderName != "" {
		data["sender_name"] = o.senderName
	}
	if ids := s.mentions(ch, np); len(ids) > 0 {
		data["mentions"] = jsonString(ids)
	}
	for _, fid := range np.FileIDs {
		if strings.HasPrefix(s.st.files[fid].info.MimeType, "image/") {
			data["image"] = "true"
		} else {
			data["otherFile"] = "true"
		}
	}
	*evs = append(*evs, event{name: "posted", channelID: ch.ID, data: data})
	if o.markViewed {
		if m := s.st.members[ch.ID][p.UserID]; m != nil {
			s.markViewed(ch, m, evs)
		}
	}
	if o.markOnline {
		s.setOnline(p.UserID, evs)
	}
	s.touch()
	return np, postJSON, nil
}

// systemPost stores a server-made post (type system_*) from userID, with
// sender_name "System". s.mu held.
func (s *Server) systemPost(ch *mattermost.Channel, userID, typ, msg string, props map[string]any, evs *[]event) {
	_, _, _ = s.createPost(&mattermost.Post{ChannelID: ch.ID, UserID: userID, Type: typ, Message: msg, Props: props},
		postOpts{setOnline: true, senderName: "System", allowSystem: true}, evs)
}

// normalizeAttachments re-encodes props.attachments through the model so
// every field the server sends is present (model.MessageAttachment), as the
// server's own decode-and-store does.
func normalizeAttachments(raw any) ([]*mattermost.Attachment, error) {
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var atts []*mattermost.Attachment
	if err := json.Unmarshal(b, &atts); err != nil {
		return nil, err
	}
	return atts, nil
}

// postOut is the post as sent to clients (app PreparePostForClient):
// metadata filled (files, reactions, an embed for attachments), interactive
// action integrations stripped (model.Post.StripActionIntegrations).
// s.mu held.
func (s *Server) postOut(p *mattermost.Post) mattermost.Post {
	out := *p
	md := &mattermost.PostMetadata{}
	if atts, ok := p.Props["attachments"].([]*mattermost.Attachment); ok {
		if len(atts) > 0 {
			md.Embeds = []*mattermost.PostEmbed{{Type: "message_attachment"}}
		}
		stripped := make([]*mattermost.Attachment, len(atts))
		changed := false
		for i, a := range atts {
			stripped[i] = a
			for j, act := range a.Actions {
				if act.Integration == nil {
					continue
				}
				if !changed {
					props := make(map[string]any, len(p.Props))
					for k, v := range p.Props {
						props[k] = v
					}
					out.Props = props
					changed = true
				}
				ca := *a
				ca.Actions = append([]*mattermost.AttachmentAction(nil), a.Actions...)
				cact := *act
				cact.Integration = nil
				ca.Actions[j] = &cact
				stripped[i] = &ca
				a = &ca
			}
		}
		if changed {
			out.Props["attachments"] = stripped
		}
	}
	for _, fid := range p.FileIDs {
		if f := s.st.files[fid]; f != nil {
			fi := f.info
			md.Files = append(md.Files, &fi)
		}
	}
	for _, r := range s.st.reactions[p.ID] {
		rc := *r
		md.Reactions = append(md.Reactions, &rc)
	}
	out.Metadata = md
	if out.Props == nil {
		out.Props = map[string]any{}
	}
	return out
}

// mentions returns the ids of channel members mentioned by p, as the
// posted event's "mentions" (app/notification.go SendNotifications): @name
// of a member, everyone for @channel/@all/@here, the other user of a DM,
// and the added user of a system_add_to_channel post. The author is never
// mentioned. s.mu held.
func (s *Server) mentions(ch *mattermost.Channel, p *mattermost.Post) []string {
	set := map[string]bool{}
	members := s.st.members[ch.ID]
	switch {
	case ch.Type == mattermost.ChannelDirect:
		for uid := range members {
			set[uid] = true
		}
	case p.Type == "system_add_to_channel":
		if id, ok := p.Props["addedUserId"].(string); ok {
			set[id] = true
		}
	default:
		for _, w := range wordsAfter(p.Message, '@') {
			switch w {
			case "channel", "all", "here":
				for uid := range members {
					set[uid] = true
				}
				continue
			}
			if uid, ok := s.st.byUsername[w]; ok && members[uid] != nil {
				set[uid] = true
			}
		}
	}
	delete(set, p.UserID)
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// channelMentions builds props.channel_mentions for ~name references to
// public channels of the post's team (app/post.go FillInPostProps).
func (s *Server) channelMentions(ch *mattermost.Channel, msg string) map[string]any {
	if ch.TeamID == "" {
		return nil
	}
	var out map[string]any
	team := s.st.teams[ch.TeamID]
	for _, w := range wordsAfter(msg, '~') {
		c := s.st.channels[s.st.channelByName[ch.TeamID+"/"+w]]
		if c == nil || c.Type != mattermost.ChannelOpen || c.DeleteAt != 0 {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[w] = map[string]any{"display_name": c.DisplayName, "team_name": team.Name}
	}
	return out
}

// wordsAfter returns the lowercase names that follow mark in msg
// ([a-z0-9.-_], trailing dots dropped).
func wordsAfter(msg string, mark byte) []string {
	var out []string
	for i := 0; i < len(msg); i++ {
		if msg[i] != mark || i > 0 && isNameByte(msg[i-1]) {
			continue
		}
		j := i + 1
		for j < len(msg) && isNameByte(lower(msg[j])) {
			j++
		}
		w := strings.TrimRight(strings.ToLower(msg[i+1:j]), ".")
		if w != "" {
			out = append(out, w)
		}
		i = j - 1
	}
	return out
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// hashtags is model.ParseHashtags (server/public/model/utils.go): each
// word, stripped of leading punctuation (but not '#') and trailing
// punctuation, with "##..." reduced to "#", is a hashtag when it is '#', a
// letter, then letters, digits, '-', '_' or '.', ending in a letter or
// digit. The list is space-separated and cut to fit 1000 bytes.
func hashtags(msg string) string {
	isLD := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	var b strings.Builder
	for _, w := range strings.Fields(msg) {
		w = strings.TrimLeftFunc(w, func(r rune) bool { return !isLD(r) && r != '#' })
		w = strings.TrimRightFunc(w, func(r rune) bool { return !isLD(r) })
		if strings.HasPrefix(w, "##") {
			w = "#" + strings.TrimLeft(w, "#")
		}
		if !validHashtag(w) {
			continue
		}
		if b.Len()+1+len(w) > 999 {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

func validHashtag(w string) bool {
	rs := []rune(w)
	if len(rs) < 3 || rs[0] != '#' || !unicode.IsLetter(rs[1]) {
		return false
	}
	last := rs[len(rs)-1]
	if !unicode.IsLetter(last) && !unicode.IsDigit(last) {
		return false
	}
	for _, r := range rs[2:] {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

// createPostAPI is POST /posts (api4/post.go createPost): 201 with the
// post. A repeated pending_post_id returns the first post again; the
// server then sends it without metadata and with pending_post_id "" (as
// recorded from 5.36).
func (q *request) createPostAPI() {
	var p mattermost.Post
	if !q.decode("post", &p) {
		return
	}
	setOnline := true
	if v := q.r.URL.Query().Get("set_online"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			setOnline = b
		}
	}
	p.UserID = q.sess.userID
	s := q.s
	var evs []event
	s.mu.Lock()
	ch := s.st.channels[p.ChannelID]
	if ch == nil || !s.st.canPost(ch, q.sess.userID) {
		s.mu.Unlock()
		q.failPerm()
		return
	}
	if len(p.FileIDs) > 0 && !s.st.isChannelMember(ch.ID, q.sess.userID) && !s.st.isAdmin(q.sess.userID) {
		s.mu.Unlock()
		q.failPerm() // upload_file is a channel permission
		return
	}
	np, js, e := s.createPost(&p, postOpts{setOnline: setOnline, markOnline: setOnline, markViewed: true}, &evs)
	var dup mattermost.Post
	if np != nil && js == nil {
		dup = s.postOut(np)
		dup.Metadata, dup.PendingPostID = nil, ""
	}
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	s.publish(evs)
	if js == nil {
		q.reply(http.StatusCreated, dup)
		return
	}
	q.replyRaw(http.StatusCreated, js)
}

// readPost loads post_id and checks the caller may read its channel
// (404 app.post.get.app_error when unknown or deleted, 403 otherwise),
// then answers 200 with what f returns for the post. f runs with s.mu
// held and may queue events, as in locked.
func (q *request) readPost(f func(p *mattermost.Post, evs *[]event) (any, *mattermost.APIError)) {
	id := q.idParam("post_id")
	if id == "" {
		return
	}
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		st := q.s.st
		p := st.posts[id]
		if p == nil || p.DeleteAt != 0 {
			return nil, apiError(http.StatusNotFound, "app.post.get.app_error", "")
		}
		if !st.canReadChannel(st.channels[p.ChannelID], q.sess.userID) {
			return nil, errPerm()
		}
		return f(p, evs)
	})
}

// getPost is GET /posts/{post_id}.
func (q *request) getPost() {
	q.readPost(func(p *mattermost.Post, _ *[]event) (any, *mattermost.APIError) { return q.s.postOut(p), nil })
}

// patchPost is PUT /posts/{post_id}/patch (api4/post.go patchPost): only
// the author (edit_post) or an admin (edit_others_posts); an unknown post
// is reported as a permission error, as the server does. A changed message
// sets edit_at. Publishes post_edited.
func (q *request) patchPost() {
	id := q.idParam("post_id")
	if id == "" {
		return
	}
	var patch struct {
		Message      *string         `json:"message"`
		IsPinned     *bool           `json:"is_pinned"`
		FileIDs      *[]string       `json:"file_ids"`
		HasReactions *bool           `json:"has_reactions"`
		Props        *map[string]any `json:"props"`
	}
	if !q.decode("post", &patch) {
		return
	}
	q.editPost(id, patch.Message, patch.IsPinned, patch.Props, patch.FileIDs)
}

// updatePost is PUT /posts/{post_id}: the body is a whole post whose id
// must match.
func (q *request) updatePost() {
	id := q.idParam("post_id")
	if id == "" {
		return
	}
	var p mattermost.Post
	if !q.decode("post", &p) {
		return
	}
	if p.ID != id {
		q.failParam("id")
		return
	}
	var props *map[string]any
	if p.Props != nil {
		props = &p.Props
	}
	q.editPost(id, &p.Message, &p.IsPinned, props, &p.FileIDs)
}

// editPost applies the fields that are not nil to post id, for patchPost
// and updatePost; post_edited follows.
func (q *request) editPost(id string, msg *string, pinned *bool, props *map[string]any, fileIDs *[]string) {
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		p := s.st.posts[id]
		if p == nil || p.DeleteAt != 0 || !s.st.canChangePost(p, q.sess.userID) {
			return nil, errPerm()
		}
		return s.updatePostLocked(p, msg, pinned, props, fileIDs, true, evs)
	})
}

// updatePostLocked applies the fields that are not nil to p (app/post.go
// UpdatePost) and queues post_edited. With keepServerProps (a client's
// edit, safeUpdate) the server-set props survive new props; without (an
// integration's update of its post, DoPostActionWithCookie), new props
// replace the old ones whole. s.mu held.
func (s *Server) updatePostLocked(p *mattermost.Post, msg *string, pinned *bool, props *map[string]any, fileIDs *[]string,
	keepServerProps bool, evs *[]event) (mattermost.Post, *mattermost.APIError) {
	if s.st.channels[p.ChannelID].DeleteAt != 0 {
		return mattermost.Post{}, apiError(http.StatusBadRequest, "api.post.update_post.find.app_error", "")
	}
	next := *p
	if msg != nil && *msg != p.Message {
		if runeLen(*msg) > mattermost.PostMessageMaxRunes {
			return mattermost.Post{}, apiError(http.StatusBadRequest, "model.post.is_valid.msg.app_error", "")
		}
		next.Message = *msg
		next.Hashtags = hashtags(*msg)
	}
	if pinned != nil {
		next.IsPinned = *pinned
	}
	if props != nil {
		np := make(map[string]any, len(*props))
		for k, v := range *props {
			np[k] = v
		}
		if raw, ok := np["attachments"]; ok {
			atts, err := normalizeAttachments(raw)
			if err != nil {
				return mattermost.Post{}, errParam("props.attachments")
			}
			generateActionIDs(atts)
			np["attachments"] = atts
		}
		if keepServerProps {
			// Server-set props survive a client patch.
			for _, k := range []string{"from_bot", "from_webhook", "override_username", "override_icon_url"} {
				if v, ok := p.Props[k]; ok {
					np[k] = v
				}
			}
		}
		next.Props = np
	}
	if fileIDs != nil && len(*fileIDs) > mattermost.PostFileIDsMax {
		return mattermost.Post{}, apiError(http.StatusBadRequest, "model.post.is_valid.file_ids.app_error", "")
	}
	now := s.millis()
	next.UpdateAt = now
	if next.Message != p.Message {
		next.EditAt = now
		// The store keeps the old version as a deleted copy pointing at
		// the post (sqlstore/post_store.go Update: edit history); since=
		// queries return it, as recorded in channel_posts_since.
		old := *p
		old.ID, old.OriginalID, old.DeleteAt, old.UpdateAt = mattermost.NewID(), p.ID, now, now
		s.st.posts[old.ID] = &old
		s.st.channelPosts[p.ChannelID] = append(s.st.channelPosts[p.ChannelID], old.ID)
		s.st.allPosts = append(s.st.allPosts, old.ID)
	}
	next.PendingPostID = ""
	*p = next
	out := s.postOut(p)
	*evs = append(*evs, event{name: "post_edited", channelID: p.ChannelID, data: map[string]any{"post": jsonString(&out)}})
	s.touch()
	return out, nil
}

// deletePost is DELETE /posts/{post_id} (api4/post.go deletePost,
// app/post.go DeletePost): only the author (a member) or an admin; soft delete of the post and, for a root, its
// replies; post_deleted carries the post as it was before.
func (q *request) deletePost() {
	id := q.idParam("post_id")
	if id == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		p := s.st.posts[id]
		// An unknown post is a permission error too (api4/post.go deletePost).
		if p == nil || p.DeleteAt != 0 || !s.st.canChangePost(p, q.sess.userID) {
			return nil, errPerm()
		}
		s.deletePostLocked(p, q.sess.userID, evs)
		return statusOK{}, nil
	})
}

// canChangePost: edit_post / delete_post are channel permissions of the
// author (a member); edit_others_posts / delete_others_posts belong to
// admins (api4/post.go postPatchChecks, deletePost).
func (st *state) canChangePost(p *mattermost.Post, userID string) bool {
	if st.isAdmin(userID) {
		return true
	}
	return p.UserID == userID && st.isChannelMember(p.ChannelID, userID)
}

// deletePostLocked soft-deletes p (and its replies) for deleterID. The
// store marks each with props.deleteBy (store/sqlstore/post_store.go
// Delete, in release-5.36 and today alike), as channel_posts_since.json
// shows. s.mu held.
func (s *Server) deletePostLocked(p *mattermost.Post, deleterID string, evs *[]event) {
	before := s.postOut(p)
	now := s.millis()
	markDeleted := func(x *mattermost.Post) {
		x.DeleteAt, x.UpdateAt = now, now
		props := make(map[string]any, len(x.Props)+1)
		for k, v := range x.Props {
			props[k] = v
		}
		props["deleteBy"] = deleterID
		x.Props = props
	}
	markDeleted(p)
	if p.RootID == "" {
		for _, rid := range s.st.replies[p.ID] {
			if r := s.st.posts[rid]; r != nil && r.DeleteAt == 0 {
				markDeleted(r)
			}
		}
	} else if root := s.st.posts[p.RootID]; root != nil && root.ReplyCount > 0 {
		root.ReplyCount--
		root.UpdateAt = now
	}
	*evs = append(*evs, event{name: "post_deleted", channelID: p.ChannelID, data: map[string]any{"post": jsonString(&before)}})
	s.touch()
}

// getThread is GET /posts/{post_id}/thread (api4/post.go getPostThread,
// app GetPostThread, store/sqlstore/post_store.go Get): the requested post
// first, then the root and its live replies in the order the store
// returns them, which the fake takes to be the order they were made in.
func (q *request) getThread() {
	s := q.s
	var opts threadOpts
	if !s.is536() {
		if !mattermost.IsValidID(q.params["post_id"]) {
			q.failURLParam("post_id") // c.RequirePostId comes first
			return
		}
		if !q.threadOptions(&opts) {
			return
		}
	}
	q.readPost(func(p *mattermost.Post, _ *[]event) (any, *mattermost.APIError) {
		root := p
		if p.RootID != "" {
			root = s.st.posts[p.RootID]
		}
		var thread []*mattermost.Post
		for _, id := range append([]string{root.ID}, s.st.replies[root.ID]...) {
			if x := s.st.posts[id]; x != nil && x.DeleteAt == 0 {
				thread = append(thread, x)
			}
		}
		list := newPostList()
		s.addToList(list, p, true)
		if s.is536() {
			// release-5.36 store/sqlstore/post_store.go Get: the requested
			// post, then every row of the thread, the requested one again,
			// with no ORDER BY; as recorded in post_thread.json.
			for _, x := range thread {
				s.addToList(list, x, true)
			}
			return s.postListOut(list), nil
		}
		// server/channels/store/sqlstore/post_store.go Get: the rows are
		// sorted only when direction is given, filtered by fromCreateAt
		// (and fromPost), cut to perPage+1, and the requested post is
		// skipped rather than listed twice.
		switch opts.direction {
		case "down":
			slices.SortFunc(thread, func(a, b *mattermost.Post) int {
				return cmp.Or(cmp.Compare(a.CreateAt, b.CreateAt), strings.Compare(a.ID, b.ID))
			})
		case "up":
			slices.SortFunc(thread, func(a, b *mattermost.Post) int {
				return cmp.Or(cmp.Compare(b.CreateAt, a.CreateAt), strings.Compare(b.ID, a.ID))
			})
		}
		if opts.fromCreateAt != 0 {
			thread = slices.DeleteFunc(thread, func(x *mattermost.Post) bool {
				if opts.direction == "down" {
					return !(x.CreateAt > opts.fromCreateAt || opts.fromPost != "" && x.CreateAt == opts.fromCreateAt && x.ID > opts.fromPost)
				}
				return !(x.CreateAt < opts.fromCreateAt || opts.fromPost != "" && x.CreateAt == opts.fromCreateAt && x.ID < opts.fromPost)
			})
		}
		if opts.perPage != 0 {
			hasNext := len(thread) >= opts.perPage+1 && opts.perPage+1 > 0
			if hasNext {
				thread = thread[:opts.perPage]
			}
			list.HasNext = &hasNext
		}
		for _, x := range thread {
			if x.ID != p.ID {
				s.addToList(list, x, true)
			}
		}
		return s.postListOut(list), nil
	})
}

// threadOpts are the paging parameters of GET /posts/{post_id}/thread on
// today's server.
type threadOpts struct {
	perPage      int    // 0: every post
	fromCreateAt int64  // 0: from the start
	fromPost     string // with fromCreateAt, breaks create_at ties
	direction    string // "", "up" (newest first) or "down" (oldest first)
}

// threadOptions reads the query parameters as
// server/channels/api4/post.go getPostThread checks them, answering 400
// invalid_body_param for a bad one. perPage 0 (the default) means every
// post, for mobile clients that predate paging.
func (q *request) threadOptions(o *threadOpts) bool {
	v := q.r.URL.Query()
	if s := v.Get("perPage"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n > 200 { // web.PerPageMaximum
			q.failParam("perPage")
			return false
		}
		o.perPage = n
	}
	if s := v.Get("fromCreateAt"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			q.failParam("fromCreateAt")
			return false
		}
		o.fromCreateAt = n
	}
	o.fromPost = v.Get("fromPost")
	if o.fromPost != "" && o.fromCreateAt == 0 {
		q.failParam("if fromPost is set, then fromCreatAt must also be set") // sic
		return false
	}
	if d := v.Get("direction"); d != "" {
		if d != "up" && d != "down" {
			q.failParam("direction")
			return false
		}
		o.direction = d
	}
	return true
}

func newPostList() *mattermost.PostList {
	return &mattermost.PostList{Order: []string{}, Posts: map[string]*mattermost.Post{}}
}

// postListToday is model.PostList as today's server encodes it
// (server/public/model/post_list.go): first_inaccessible_post_time is
// sent even when 0. 5.36's PostList has no such field.
type postListToday struct {
	*mattermost.PostList
	FirstInaccessiblePostTime int64 `json:"first_inaccessible_post_time"`
}

// postListOut is l as the profile's server encodes a post list answer.
func (s *Server) postListOut(l *mattermost.PostList) any {
	if s.is536() {
		return l
	}
	return postListToday{PostList: l, FirstInaccessiblePostTime: l.FirstInaccessiblePostTime}
}

// addToList puts p into the list's posts map and, if ordered, its order.
// s.mu held.
func (s *Server) addToList(l *mattermost.PostList, p *mattermost.Post, ordered bool) {
	out := s.postOut(p)
	if out.DeleteAt != 0 {
		// Deleted posts keep their place (since= queries) but lose their
		// content, as the recordings show.
		out.Message, out.FileIDs, out.ReplyCount = "", nil, 0
	}
	l.Posts[p.ID] = &out
	if ordered {
		l.Order = append(l.Order, p.ID)
	}
}

// SincePostsLimit is the most posts GET /channels/{channel_id}/posts?since=
// returns: the server's query limits them (sqlstore/post_store.go
// GetPostsSince, LIMIT 1000), and a client must page to read more.
const SincePostsLimit = 1000

// getChannelPosts is GET /channels/{channel_id}/posts (api4/post.go
// getPostsForChannel): since > after > before > page/per_page.
func (q *request) getChannelPosts() {
	v := q.r.URL.Query()
	after, before := v.Get("after"), v.Get("before")
	if after != "" && !mattermost.IsValidID(after) {
		q.failParam("after")
		return
	}
	if before != "" && !mattermost.IsValidID(before) {
		q.failParam("before")
		return
	}
	var since int64
	if sv := v.Get("since"); sv != "" {
		var err error
		if since, err = strconv.ParseInt(sv, 10, 64); err != nil {
			q.failParam("since")
			return
		}
	}
	page, perPage := pageParams(q.r)
	inclDeleted, _ := strconv.ParseBool(v.Get("include_deleted"))
	if inclDeleted {
		q.s.mu.Lock()
		admin := q.s.st.isAdmin(q.sess.userID)
		q.s.mu.Unlock()
		if !admin { // read_deleted_posts is a system admin permission
			q.failPerm()
			return
		}
	}
	s := q.s
	q.readChannel(func(ch *mattermost.Channel) (any, *mattermost.APIError) {
		ids := s.st.channelPosts[ch.ID]
		list := newPostList()
		if since > 0 {
			// At most SincePostsLimit posts, as the server's query
			// limits them (sqlstore/post_store.go GetPostsSince: LIMIT
			// 1000, in no stated order): here the newest, so that a
			// client that reads one answer as complete misses the
			// oldest, as it may on a real server.
			n := 0
			for i := len(ids) - 1; i >= 0 && n < SincePostsLimit; i-- {
				if p := s.st.posts[ids[i]]; p.UpdateAt > since {
					s.addToList(list, p, true)
					n++
				}
			}
			return s.postListOut(list), nil
		}
		// Live posts (all of them for an admin's include_deleted), newest first.
		live := make([]*mattermost.Post, 0, len(ids))
		for i := len(ids) - 1; i >= 0; i-- {
			if p := s.st.posts[ids[i]]; p.DeleteAt == 0 || inclDeleted {
				live = append(live, p)
			}
		}
		idx := func(id string) int {
			for i, p := range live {
				if p.ID == id {
					return i
				}
			}
			return -1
		}
		var sel []*mattermost.Post
		var newerAt, olderAt int // live indexes bounding the selection
		switch {
		case after != "":
			// Posts newer than after, the closest ones first in paging terms.
			i := idx(after)
			if i < 0 {
				i = 0
			}
			end := i - page*perPage
			start := max(end-perPage, 0)
			if end > 0 {
				sel = live[start:end]
			}
			newerAt, olderAt = start-1, end
		case before != "":
			i := idx(before)
			start := i + 1 + page*perPage
			if i < 0 {
				start = len(live)
			}
			end := min(start+perPage, len(live))
			if start < end {
				sel = live[start:end]
			}
			newerAt, olderAt = start-1, end
		default:
			start := min(page*perPage, len(live))
			end := min(start+perPage, len(live))
			sel = live[start:end]
			newerAt, olderAt = start-1, end
		}
		for _, p := range sel {
			s.addToList(list, p, true)
			if p.RootID != "" {
				if _, ok := list.Posts[p.RootID]; !ok {
					if r := s.st.posts[p.RootID]; r != nil && r.DeleteAt == 0 {
						s.addToList(list, r, false)
					}
				}
			}
		}
		if newerAt >= 0 && newerAt < len(live) && len(sel) > 0 {
			list.NextPostID = live[newerAt].ID
		}
		if olderAt >= 0 && olderAt < len(live) {
			list.PrevPostID = live[olderAt].ID
		}
		return s.postListOut(list), nil
	})
}

// getPostsByIDs is POST /posts/ids: readable posts; unknown ones left out.
func (q *request) getPostsByIDs() {
	ids, ok := q.readStringArray("post_ids")
	if !ok {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := []mattermost.Post{}
		for _, id := range ids {
			p := s.st.posts[id]
			if p == nil || p.DeleteAt != 0 {
				continue
			}
			if !s.st.canReadChannel(s.st.channels[p.ChannelID], q.sess.userID) {
				return nil, errPerm()
			}
			out = append(out, s.postOut(p))
		}
		return out, nil
	})
}

// createEphemeral is POST /posts/ephemeral (api4/post.go
// createEphemeralPost): needs create_post_ephemeral, which only system
// admins hold by default (bots get 403, as recorded). The post is not
// stored; the target user gets an ephemeral_message event.
func (q *request) createEphemeral() {
	var body struct {
		UserID string           `json:"user_id"`
		Post   *mattermost.Post `json:"post"`
	}
	if !q.decode("body", &body) {
		return
	}
	if body.UserID == "" {
		q.failParam("user_id")
		return
	}
	if body.Post == nil {
		q.failParam("post")
		return
	}
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		if !s.st.hasPermission(q.sess.userID, permCreatePostEphemeral) {
			return nil, errPerm()
		}
		p := *body.Post
		p.ID = mattermost.NewID()
		p.UserID = q.sess.userID
		p.CreateAt = s.millis()
		p.UpdateAt = 0
		p.Type = mattermost.PostTypeEphemeral
		p.ParentID = p.RootID
		if p.Props == nil {
			p.Props = map[string]any{}
		}
		out := s.postOut(&p)
		*evs = append(*evs, event{name: "ephemeral_message", userID: body.UserID, channelID: p.ChannelID,
			data: map[string]any{"post": jsonString(&out)}})
		return out, nil
	})
}

// getPostFileInfos is GET /posts/{post_id}/files/info.
func (q *request) getPostFileInfos() {
	q.readPost(func(p *mattermost.Post, _ *[]event) (any, *mattermost.APIError) {
		out := []mattermost.FileInfo{}
		for _, fid := range p.FileIDs {
			if f := q.s.st.files[fid]; f != nil {
				out = append(out, f.info)
			}
		}
		return out, nil
	})
}

// pinPost is POST /posts/{post_id}/pin and unpinPost /unpin (api4/post.go
// saveIsPinnedPost): whoever reads the channel may pin; post_edited follows.
func (q *request) pinPost()   { q.setPinned(true) }
func (q *request) unpinPost() { q.setPinned(false) }

func (q *request) setPinned(pinned bool) {
	s := q.s
	q.readPost(func(p *mattermost.Post, evs *[]event) (any, *mattermost.APIError) {
		if p.IsPinned != pinned {
			p.IsPinned = pinned
			p.UpdateAt = s.millis()
			out := s.postOut(p)
			*evs = append(*evs, event{name: "post_edited", channelID: p.ChannelID, data: map[string]any{"post": jsonString(&out)}})
			s.touch()
		}
		return statusOK{}, nil
	})
}
