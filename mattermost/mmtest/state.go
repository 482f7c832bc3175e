package mmtest

import (
	"unicode/utf8"

	"github.com/matterbot/matterbot/mattermost"
)

// state is everything the server stores. All fields are guarded by
// Server.mu; values handed out of the package are copies.
type state struct {
	users      map[string]*userRec
	byUsername map[string]string // username → user id
	byEmail    map[string]string // email → user id

	teams       map[string]*mattermost.Team
	teamByName  map[string]string                            // name → team id
	teamMembers map[string]map[string]*mattermost.TeamMember // team id → user id →

	channels      map[string]*mattermost.Channel
	channelByName map[string]string                               // team id + "/" + name → channel id ("" team for D/G)
	members       map[string]map[string]*mattermost.ChannelMember // channel id → user id →

	posts        map[string]*mattermost.Post
	channelPosts map[string][]string // channel id → post ids in creation order
	allPosts     []string            // every post id in creation order
	replies      map[string][]string // root id → reply ids in creation order
	reactions    map[string][]*mattermost.Reaction
	pending      map[string]pendingRec // pending_post_id →

	files    map[string]*fileRec
	statuses map[string]*mattermost.Status

	sessions map[string]*session // token → session
	pats     map[string]*patRec  // token id → personal access token
	hooks    map[string]*mattermost.IncomingWebhook
	roles    map[string]*mattermost.Role // name → role (roles.go)

	// Made on first use by their files.
	prefs    map[string]map[prefKey]string // user id → preferences (preferences.go)
	emojis   map[string]*emojiRec          // id → custom emoji (emoji.go)
	commands map[string]*commandRec        // id → slash command (commands.go)
	cmdHooks map[string]*commandHook       // id → a command run's response_url (command_exec.go)

	lastMillis int64
}

// pendingRec remembers which post a pending_post_id made, and when.
type pendingRec struct {
	postID string
	at     int64 // ms
}

// pendingTTL is how long a pending_post_id is remembered
// (app/post.go PendingPostIDsCacheTTL, 30 s).
const pendingTTL = 30_000

type userRec struct {
	user     mattermost.User
	password string
	ownerID  string  // bots: who owns it
	botName  string  // bots: display name
	mfa      *mfaRec // nil: MFA off (mfa.go)
}

type fileRec struct {
	info mattermost.FileInfo
	data []byte
}

type patRec struct {
	tok   mattermost.UserAccessToken // Token holds the secret
	token string
}

// session is a login session or a personal access token in use
// (model.Session).
type session struct {
	id       string
	token    string
	userID   string
	patID    string // set for personal access tokens
	oauth    bool
	createAt int64
}

func newState() *state {
	return &state{
		users:         make(map[string]*userRec),
		byUsername:    make(map[string]string),
		byEmail:       make(map[string]string),
		teams:         make(map[string]*mattermost.Team),
		teamByName:    make(map[string]string),
		teamMembers:   make(map[string]map[string]*mattermost.TeamMember),
		channels:      make(map[string]*mattermost.Channel),
		channelByName: make(map[string]string),
		members:       make(map[string]map[string]*mattermost.ChannelMember),
		posts:         make(map[string]*mattermost.Post),
		channelPosts:  make(map[string][]string),
		replies:       make(map[string][]string),
		reactions:     make(map[string][]*mattermost.Reaction),
		pending:       make(map[string]pendingRec),
		files:         make(map[string]*fileRec),
		statuses:      make(map[string]*mattermost.Status),
		sessions:      make(map[string]*session),
		pats:          make(map[string]*patRec),
		hooks:         make(map[string]*mattermost.IncomingWebhook),
	}
}

// millis returns the current time in ms, strictly increasing so that
// update_at comparisons (GET posts?since=) and creation order agree.
// Call with s.mu held.
func (s *Server) millis() int64 {
	ms := s.now().UnixMilli()
	if ms <= s.st.lastMillis {
		ms = s.st.lastMillis + 1
	}
	s.st.lastMillis = ms
	return ms
}

// touch wakes everyone waiting for a state change. Call with s.mu held.
func (s *Server) touch() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// session returns the live session for token, or nil.
func (s *Server) session(token string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.st.sessions[token]
	if ss == nil {
		return nil
	}
	if u := s.st.users[ss.userID]; u == nil || u.user.DeleteAt != 0 {
		return nil
	}
	c := *ss
	return &c
}

// isAdmin reports whether userID has the system_admin role. s.mu held.
func (st *state) isAdmin(userID string) bool {
	u := st.users[userID]
	return u != nil && hasRole(u.user.Roles, "system_admin")
}

func hasRole(roles, role string) bool {
	for len(roles) > 0 {
		i := 0
		for i < len(roles) && roles[i] != ' ' {
			i++
		}
		if roles[:i] == role {
			return true
		}
		if i == len(roles) {
			break
		}
		roles = roles[i+1:]
	}
	return false
}

func (st *state) isTeamMember(teamID, userID string) bool {
	m := st.teamMembers[teamID][userID]
	return m != nil && m.DeleteAt == 0
}

func (st *state) isChannelMember(channelID, userID string) bool {
	return st.members[channelID][userID] != nil
}

// canReadChannel follows app SessionHasPermissionToReadChannel: members
// read; team members also read public channels; admins read everything.
func (st *state) canReadChannel(ch *mattermost.Channel, userID string) bool {
	if st.isAdmin(userID) || st.isChannelMember(ch.ID, userID) {
		return true
	}
	return ch.Type == mattermost.ChannelOpen && st.isTeamMember(ch.TeamID, userID)
}

// canPost follows api4/post_utils.go userCreatePostPermissionCheckWithContext:
// create_post on the channel (a member by channel_user, an admin), or
// create_post_public on the team for a public channel. No default role
// of a person grants create_post_public (only team_post_all_public and
// system_post_all_public do, model/role.go MakeDefaultRoles), so a team
// member who has not joined a public channel may not post in it.
func (st *state) canPost(ch *mattermost.Channel, userID string) bool {
	if st.hasChannelPermission(ch, userID, permCreatePost) {
		return true
	}
	return ch.Type == mattermost.ChannelOpen && st.hasTeamPermission(ch.TeamID, userID, permCreatePostPublic)
}

// isValidUsername follows model.IsValidUsername (server/public/model/user.go)
// with the 3–22 length of the 5.x releases the recordings come from:
// lowercase letters, digits, '.', '-', '_', starting with a letter, and not
// a restricted name.
func isValidUsername(s string) bool {
	if len(s) < 3 || len(s) > 22 {
		return false
	}
	if s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	switch s {
	case "all", "channel", "matterbot", "system", "here":
		return false
	}
	return true
}

// isValidChannelName follows model.IsValidChannelIdentifier: 2–64
// characters of [a-z0-9_-], starting and ending with a letter or digit.
func isValidChannelName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return alnum(s[0]) && alnum(s[len(s)-1])
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
