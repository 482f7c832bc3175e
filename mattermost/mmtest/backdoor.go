package mmtest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/matterbot/matterbot/mattermost"
)

// The back door: seeding and inspection without HTTP. Every method returns
// copies; changes go through the same code as the REST API, so they publish
// the same WebSocket events.

// AddTeam creates an open team with its default channels town-square and
// off-topic.
func (s *Server) AddTeam(name, displayName string) (*mattermost.Team, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.createTeam(name, displayName)
	if e != nil {
		return nil, fmt.Errorf("mmtest: add team %q: %w", name, e)
	}
	c := *t
	return &c, nil
}

// AddUser creates a user account.
func (s *Server) AddUser(u User) (*mattermost.User, error) {
	s.mu.Lock()
	rec, e := s.createUser(u, false)
	if e != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("mmtest: add user %q: %w", u.Username, e)
	}
	c := userOut(rec, true)
	s.mu.Unlock()
	s.publish([]event{newUserEvent(c.ID)})
	return &c, nil
}

// RenameUser changes a user's username as PUT /users/{id}/patch would,
// publishing user_updated to everyone. The id, roles, sessions and tokens
// stay.
func (s *Server) RenameUser(userID, username string) (*mattermost.User, error) {
	s.mu.Lock()
	rec := s.st.users[userID]
	if rec == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("mmtest: rename: no user %s", userID)
	}
	if e := s.patchUser(rec, userPatch{Username: &username}); e != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("mmtest: rename %s to %q: %w", userID, username, e)
	}
	c := userOut(rec, true)
	evs := userUpdatedEvents(rec)
	s.mu.Unlock()
	s.publish(evs)
	return &c, nil
}

// SetSystemAdmin gives a user (or bot) the system_admin role, or takes it
// away, as the System Console would. A bot with the role may do what an
// admin may, such as post ephemeral messages.
func (s *Server) SetSystemAdmin(userID string, admin bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.users[userID]
	if rec == nil {
		return fmt.Errorf("mmtest: set system admin: no user %s", userID)
	}
	rec.user.Roles, rec.user.UpdateAt = systemRoles(admin), s.millis()
	return nil
}

// newUserEvent is new_user, sent to everyone when an account is made
// (app/user.go createUserOrGuest).
func newUserEvent(userID string) event {
	return event{name: "new_user", data: map[string]any{"user_id": userID}}
}

// SetStatus sets a user's status ("online", "away", "dnd", "offline") as
// if the user chose it (manual), publishing status_change to the user.
func (s *Server) SetStatus(userID, status string) error {
	switch status {
	case mattermost.StatusOnline, mattermost.StatusAway, mattermost.StatusDND, mattermost.StatusOffline:
	default:
		return fmt.Errorf("mmtest: set status of %s: unknown status %q", userID, status)
	}
	var evs []event
	s.mu.Lock()
	if s.st.users[userID] == nil {
		s.mu.Unlock()
		return fmt.Errorf("mmtest: set status: no user %s", userID)
	}
	s.setStatus(userID, status, &evs)
	s.mu.Unlock()
	s.publish(evs)
	return nil
}

// AddBot creates a bot account owned by ownerID (may be ""). Bots cannot
// log in with a password: give them a token with CreateToken.
func (s *Server) AddBot(username, displayName, ownerID string) (*mattermost.User, error) {
	s.mu.Lock()
	rec, e := s.createBot(username, displayName, "", ownerID)
	if e != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("mmtest: add bot %q: %w", username, e)
	}
	c := userOut(rec, true)
	s.mu.Unlock()
	s.publish([]event{newUserEvent(c.ID)})
	return &c, nil
}

// AddTeamMember adds a user to a team and to its default channels,
// publishing the events the server would.
func (s *Server) AddTeamMember(teamID, userID string) error {
	var evs []event
	s.mu.Lock()
	_, e := s.addTeamMember(teamID, userID, &evs)
	s.mu.Unlock()
	if e != nil {
		return fmt.Errorf("mmtest: add user %s to team %s: %w", userID, teamID, e)
	}
	s.publish(evs)
	return nil
}

// AddChannel creates a public ("O") or private ("P") channel in a team,
// with no members.
func (s *Server) AddChannel(teamID, name, displayName, typ string) (*mattermost.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, e := s.createChannel(teamID, name, displayName, typ, "")
	if e != nil {
		return nil, fmt.Errorf("mmtest: add channel %q: %w", name, e)
	}
	c := *ch
	return &c, nil
}

// AddChannelMember adds a user to an O or P channel (publishing
// user_added, without the system post). The user must be on the team.
func (s *Server) AddChannelMember(channelID, userID string) error {
	var evs []event
	s.mu.Lock()
	ch := s.st.channels[channelID]
	var err error
	switch {
	case ch == nil:
		err = fmt.Errorf("mmtest: add member to channel %s: no such channel", channelID)
	case s.st.users[userID] == nil:
		err = fmt.Errorf("mmtest: add member %s: no such user", userID)
	case ch.TeamID != "" && !s.st.isTeamMember(ch.TeamID, userID):
		err = fmt.Errorf("mmtest: add member %s to channel %s: not on team %s", userID, channelID, ch.TeamID)
	default:
		s.addChannelMember(ch, userID, &evs)
	}
	s.mu.Unlock()
	s.publish(evs)
	return err
}

// DirectChannel returns the DM channel of two users, creating it.
func (s *Server) DirectChannel(userA, userB string) (*mattermost.Channel, error) {
	var evs []event
	s.mu.Lock()
	ch, e := s.directChannel(userA, userB, userA, &evs)
	var c mattermost.Channel
	if ch != nil {
		c = *ch
	}
	s.mu.Unlock()
	if e != nil {
		return nil, fmt.Errorf("mmtest: direct channel: %w", e)
	}
	s.publish(evs)
	return &c, nil
}

// GroupChannel returns the group channel of 3 to 8 users, creating it.
func (s *Server) GroupChannel(userIDs ...string) (*mattermost.Channel, error) {
	var evs []event
	s.mu.Lock()
	ch, e := s.groupChannel(userIDs, &evs)
	var c mattermost.Channel
	if ch != nil {
		c = *ch
	}
	s.mu.Unlock()
	if e != nil {
		return nil, fmt.Errorf("mmtest: group channel: %w", e)
	}
	s.publish(evs)
	return &c, nil
}

// CreateToken creates a personal access token for a user or bot and
// returns the secret to send as "Authorization: Bearer".
func (s *Server) CreateToken(userID, description string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.users[userID] == nil {
		return "", fmt.Errorf("mmtest: create token: no user %s", userID)
	}
	return s.createPAT(userID, description).Token, nil
}

// AddToken registers token as a personal access token of userID, so a
// demo or a config file can use a token known in advance. It fails if the
// token is empty or already in use.
func (s *Server) AddToken(userID, token, description string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.st.users[userID] == nil:
		return fmt.Errorf("mmtest: add token: no user %s", userID)
	case token == "":
		return fmt.Errorf("mmtest: add token for %s: empty token", userID)
	case s.st.sessions[token] != nil:
		return fmt.Errorf("mmtest: add token for %s: token already in use", userID)
	}
	pr := &patRec{tok: mattermost.UserAccessToken{ID: mattermost.NewID(), UserID: userID, Description: description, IsActive: true, Token: token}, token: token}
	s.st.pats[pr.tok.ID] = pr
	s.st.sessions[token] = &session{id: mattermost.NewID(), token: token, userID: userID, patID: pr.tok.ID, createAt: s.millis()}
	return nil
}

// Login opens a session for a (non-bot) user without a password and
// returns its token, as POST /users/login would.
func (s *Server) Login(userID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.users[userID]
	if rec == nil || rec.user.IsBot {
		return "", fmt.Errorf("mmtest: login: no user %s that may log in", userID)
	}
	return s.newSession(userID, ""), nil
}

// Sessions returns how many sessions userID has: one per login, and one
// per personal access token.
func (s *Server) Sessions(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.st.sessions {
		if ss.userID == userID {
			n++
		}
	}
	return n
}

// RevokeToken ends the session or personal access token at once: later
// requests with it get 401 api.context.session_expired.app_error and open
// WebSockets stop receiving events.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	if ss := s.st.sessions[token]; ss != nil {
		delete(s.st.pats, ss.patID)
		delete(s.st.sessions, token)
	}
	s.mu.Unlock()
	s.hub.sessionRevoked(token)
}

// DeactivateUser deactivates an account (delete_at set): its sessions and
// tokens stop working at once, as after PUT /users/{id}/active false.
func (s *Server) DeactivateUser(userID string) error {
	s.mu.Lock()
	rec := s.st.users[userID]
	if rec == nil {
		s.mu.Unlock()
		return fmt.Errorf("mmtest: deactivate: no user %s", userID)
	}
	now := s.millis()
	rec.user.DeleteAt, rec.user.UpdateAt = now, now
	s.mu.Unlock()
	s.RevokeSessions(userID)
	return nil
}

// RevokeSessions ends every session and token of a user.
func (s *Server) RevokeSessions(userID string) {
	var tokens []string
	s.mu.Lock()
	for tok, ss := range s.st.sessions {
		if ss.userID == userID {
			tokens = append(tokens, tok)
			delete(s.st.pats, ss.patID)
			delete(s.st.sessions, tok)
		}
	}
	s.mu.Unlock()
	for _, t := range tokens {
		s.hub.sessionRevoked(t)
	}
}

// CreatePost posts p as userID, as POST /posts would (validation, events),
// except that the permission check is skipped. p.ChannelID is required;
// RootID, FileIDs, Props and PendingPostID are honoured.
func (s *Server) CreatePost(userID string, p mattermost.Post) (*mattermost.Post, error) {
	p.UserID = userID
	var evs []event
	s.mu.Lock()
	np, _, e := s.createPost(&p, postOpts{setOnline: true, markOnline: true, markViewed: true}, &evs)
	var out mattermost.Post
	if np != nil {
		out = s.postOut(np)
	}
	s.mu.Unlock()
	if e != nil {
		return nil, fmt.Errorf("mmtest: create post: %w", e)
	}
	s.publish(evs)
	return &out, nil
}

// Posts returns the live (not deleted) posts of a channel, oldest first,
// replies included.
func (s *Server) Posts(channelID string) []*mattermost.Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*mattermost.Post
	for _, id := range s.st.channelPosts[channelID] {
		if p := s.st.posts[id]; p.DeleteAt == 0 {
			c := s.postOut(p)
			out = append(out, &c)
		}
	}
	return out
}

// Post returns a post by id, deleted or not.
func (s *Server) Post(id string) (*mattermost.Post, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.posts[id]
	if p == nil {
		return nil, false
	}
	c := s.postOut(p)
	return &c, true
}

// WaitForPost returns the first live post, oldest first, of channelID (""
// for any channel) for which match returns true, waiting for new posts
// until ctx ends. match nil accepts any post. It is woken by state changes,
// never polls.
func (s *Server) WaitForPost(ctx context.Context, channelID string, match func(*mattermost.Post) bool) (*mattermost.Post, error) {
	next := 0
	for {
		s.mu.Lock()
		ids := s.st.allPosts
		if channelID != "" {
			ids = s.st.channelPosts[channelID]
		}
		for ; next < len(ids); next++ {
			p := s.st.posts[ids[next]]
			if p.DeleteAt != 0 {
				continue
			}
			c := s.postOut(p)
			if match == nil || match(&c) {
				s.mu.Unlock()
				return &c, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("mmtest: wait for post in channel %q: %w", channelID, ctx.Err())
		}
	}
}

// Reactions returns the reactions on a post.
func (s *Server) Reactions(postID string) []mattermost.Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mattermost.Reaction
	for _, r := range s.st.reactions[postID] {
		out = append(out, *r)
	}
	return out
}

// AddHook creates an incoming webhook posting into channelID as userID;
// POST /hooks/{id} then posts there.
func (s *Server) AddHook(channelID, userID, displayName string) (*mattermost.IncomingWebhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, e := s.createHook(channelID, userID, displayName, "")
	if e != nil {
		return nil, fmt.Errorf("mmtest: add hook: %w", e)
	}
	c := *h
	return &c, nil
}

// Team returns the team with the given name.
func (s *Server) Team(name string) (*mattermost.Team, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.teams[s.st.teamByName[name]]
	if t == nil {
		return nil, false
	}
	c := *t
	return &c, true
}

// User returns the user (or bot) with the given username.
func (s *Server) User(username string) (*mattermost.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.users[s.st.byUsername[username]]
	if rec == nil {
		return nil, false
	}
	c := userOut(rec, true)
	return &c, true
}

// Channel returns the channel of a team by name.
func (s *Server) Channel(teamID, name string) (*mattermost.Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.channels[s.st.channelByName[teamID+"/"+name]]
	if ch == nil {
		return nil, false
	}
	c := *ch
	return &c, true
}

// SetBotDescription sets the description of bot botID, as PUT
// /bots/{id} would (at most 1024 characters), and publishes the
// user_updated events the server would.
func (s *Server) SetBotDescription(botID, description string) error {
	s.mu.Lock()
	rec, e := s.st.botRec(botID, true)
	if e == nil && runeLen(description) > 1024 {
		e = apiError(http.StatusBadRequest, "model.bot.is_valid.description.app_error", "")
	}
	if e != nil {
		s.mu.Unlock()
		return fmt.Errorf("mmtest: set description of bot %s: %w", botID, e)
	}
	rec.user.BotDescription = description
	rec.user.UpdateAt = s.millis()
	evs := userUpdatedEvents(rec)
	s.touch()
	s.mu.Unlock()
	s.publish(evs)
	return nil
}
