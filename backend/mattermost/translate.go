package mattermost

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// translator turns posts into bot.Messages: it decides which posts the
// engine sees and resolves their sender, room and team through the
// directory.
type translator struct {
	dir         *directory
	self        string // the bot's user id
	defaultTeam string // id of the first configured team; "" for none
	// served holds the ids of the configured teams: posts in the
	// channels of other teams are not the bot's business. nil (no team
	// configured, so every team the bot is in) serves all.
	served        map[string]bool
	site          string // the server's site URL, for permalinks; "" makes none
	allowBots     bool
	allowWebhooks bool
	ignored       map[string]bool // ids of the users of Options.IgnoreUsers
}

// incoming is a post with what its event says about its channel. A post
// read over REST (catch-up) has only the post; the rest is looked up.
type incoming struct {
	post        *mm.Post
	channelType string // mm.ChannelOpen... or "" when unknown
	channelName string
	teamID      string
	mentions    []string // ids the server says the post mentions
	caughtUp    bool     // read by a catch-up, not pushed live (bot.Message.CaughtUp)
	// sender, when set, is the post's sender as a lookup just gave it:
	// not asked of the directory again.
	sender *mm.User
	// handled, when set, is the post's catch-up position, taken when it
	// started waiting for its sender (see Backend.waits).
	handled func(complete bool)
}

// fromEvent returns the incoming post of a posted event.
func fromEvent(p *mm.PostedEvent) incoming {
	return incoming{post: p.Post, channelType: p.ChannelType, channelName: p.ChannelName, teamID: p.TeamID, mentions: p.Mentions}
}

// Reasons skip gives.
const (
	skipOwn     = "own post"
	skipSystem  = "system post"
	skipDeleted = "deleted"
	skipWebhook = "webhook post"
	skipPeer    = "another matterbot's post (props." + PropReplyTo + ")"
	skipBot     = "bot account's post (props.from_bot)"
	skipIgnored = "a user of ignore_users"
)

// skip reports why a post is not for the engine, or "" if it is. The
// reason goes to the logs.
func (t *translator) skip(p *mm.Post) string {
	switch {
	case p.UserID == t.self:
		return skipOwn
	case t.ignored[p.UserID]:
		return skipIgnored
	case p.IsSystem():
		return skipSystem
	case p.DeleteAt > 0:
		return skipDeleted
	case !t.allowWebhooks && fromWebhook(p):
		return skipWebhook
	case !t.allowBots && marked(p):
		return skipPeer
	case !t.allowBots && propTrue(p.Props, "from_bot"):
		return skipBot
	}
	return ""
}

// fromWebhook reports whether an incoming webhook or a server plugin
// made the post.
func fromWebhook(p *mm.Post) bool {
	return propTrue(p.Props, "from_webhook") || propTrue(p.Props, "from_plugin")
}

// marked reports whether a matterbot made the post (see PropReplyTo).
func marked(p *mm.Post) bool {
	_, ok := p.Props[PropReplyTo]
	return ok
}

// fromProgram reports whether a post the engine is to see was made by a
// program rather than a person: a bot account, a matterbot on a user
// account, a webhook or a plugin. Only such posts are let in on purpose
// (AllowBots, AllowWebhooks), and only they are counted by the loop
// guard.
func fromProgram(p *mm.Post, m *bot.Message) bool {
	return m.From.Bot || marked(p) || propTrue(p.Props, "from_bot") || fromWebhook(p)
}

// propTrue reports whether props[key] is true; the server writes "true"
// as a string (from_bot, from_webhook), plugins sometimes as a boolean.
func propTrue(props map[string]any, key string) bool {
	switch v := props[key].(type) {
	case string:
		return v == "true"
	case bool:
		return v
	}
	return false
}

// message turns in into a bot.Message. It returns nil, nil for a post the
// engine must not see (see skip), and an error when the sender or the
// channel cannot be resolved.
func (t *translator) message(ctx context.Context, in incoming) (*bot.Message, error) {
	p := in.post
	if p == nil || t.skip(p) != "" {
		return nil, nil
	}
	sender := in.sender
	if sender == nil {
		var err error
		if sender, err = t.dir.user(ctx, p.UserID); err != nil {
			return nil, fmt.Errorf("sender %s of post %s: %w", p.UserID, p.ID, err)
		}
	}
	if sender.IsBot && !t.allowBots {
		return nil, nil
	}
	room, typ, teamID, err := t.room(ctx, p.ChannelID, in)
	if err != nil {
		return nil, fmt.Errorf("channel of post %s: %w", p.ID, err)
	}
	if teamID != "" && t.served != nil && !t.served[teamID] {
		return nil, nil // a team the configuration leaves out
	}
	m := &bot.Message{
		ID:        p.ID,
		Permalink: t.permalink(ctx, room.Team, p.ID),
		From:      botUser(sender),
		Room:      room,
		ThreadID:  p.RootID,
		Direct:    typ == mm.ChannelDirect,
		Text:      p.Message,
		Mentions:  mentions(p.Message),
		Files:     files(p),
		CaughtUp:  in.caughtUp,
	}
	m.RoomMentions = t.roomMentions(ctx, p, teamID)
	if p.CreateAt > 0 {
		m.Time = time.UnixMilli(p.CreateAt)
	}
	// The server also counts mentions the text does not spell, such as
	// the user's mention keys: trust it about the bot itself.
	if slices.Contains(in.mentions, t.self) {
		if me, err := t.dir.user(ctx, t.self); err == nil && !slices.Contains(m.Mentions, strings.ToLower(me.Username)) {
			m.Mentions = append(m.Mentions, strings.ToLower(me.Username))
		}
	}
	return m, nil
}

// room resolves the room of a post, its channel type and the id of its
// team ("" for a direct or group channel). The posted event names the
// channel, so a message in a channel not yet cached costs no REST call;
// a post without an event is looked up.
func (t *translator) room(ctx context.Context, channelID string, in incoming) (room bot.Room, typ, teamID string, err error) {
	name, typ, teamID := in.channelName, in.channelType, in.teamID
	if ch := t.dir.cachedChannel(channelID); ch != nil || name == "" || typ == "" {
		if ch == nil {
			if ch, err = t.dir.channel(ctx, channelID); err != nil {
				return bot.Room{}, "", "", err
			}
		}
		name, typ, teamID = ch.Name, ch.Type, ch.TeamID
	}
	r := bot.Room{ID: channelID, Name: name, Kind: roomKind(typ)}
	if teamID != "" {
		team, err := t.dir.team(ctx, teamID)
		if err != nil {
			return bot.Room{}, "", "", fmt.Errorf("team %s: %w", teamID, err)
		}
		r.Team = team.Name
	}
	return r, typ, teamID, nil
}

// roomKind returns the bot.Room kind of a channel type.
func roomKind(typ string) string {
	switch typ {
	case mm.ChannelDirect:
		return bot.RoomDirect
	case mm.ChannelGroup:
		return bot.RoomGroup
	case mm.ChannelOpen, mm.ChannelPrivate:
		return bot.RoomChannel
	}
	return ""
}

// permalink returns the web app's link to a post, built as the seed
// builds it: {site}/{team}/pl/{post id}, with the name of the team of
// the post's channel, or for direct and group messages (which have no
// team) the default team's. A bot in no team links through
// {site}/_redirect/pl/{post id}, which the web app redirects to the
// viewer's own team (webapp root.tsx, route "/_redirect/pl/:postid").
func (t *translator) permalink(ctx context.Context, team, postID string) string {
	if t.site == "" || postID == "" {
		return ""
	}
	if team == "" && t.defaultTeam != "" {
		// Cached since connect: no REST call.
		if dt, err := t.dir.team(ctx, t.defaultTeam); err == nil {
			team = dt.Name
		}
	}
	if team == "" {
		team = "_redirect"
	}
	return t.site + "/" + url.PathEscape(team) + "/pl/" + url.PathEscape(postID)
}

// botUser converts a server user.
func botUser(u *mm.User) bot.User {
	full := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if full == "" {
		full = u.Nickname
	}
	return bot.User{ID: u.ID, Username: u.Username, FullName: full, Bot: u.IsBot}
}

// files lists a post's attachments. The server puts their details in the
// post's metadata; a file it did not describe is listed by id alone.
func files(p *mm.Post) []bot.FileRef {
	if len(p.FileIDs) == 0 {
		return nil
	}
	refs := make([]bot.FileRef, 0, len(p.FileIDs))
	for _, id := range p.FileIDs {
		ref := bot.FileRef{ID: id}
		if p.Metadata != nil {
			for _, fi := range p.Metadata.Files {
				if fi != nil && fi.ID == id {
					ref = bot.FileRef{ID: id, Name: fi.Name, Size: fi.Size, MIME: fi.MimeType}
					break
				}
			}
		}
		refs = append(refs, ref)
	}
	return refs
}

// mentions returns the usernames mentioned in text ("@alice"), lowercased
// and without duplicates, in order of appearance. Like the server
// (model.PossibleAtMentions), it takes a name as the letters, digits and
// ".-_" after an @ that does not follow a word character, minus trailing
// dots; like it (app/notification.go, removeCodeFromMessage), it skips
// code blocks and inline code, so "`@alice`" mentions nobody. It does not
// check that the users exist.
func mentions(text string) []string {
	if strings.IndexByte(text, '@') < 0 {
		return nil
	}
	var out []string
	proseLines(text, func(_ int, line string) {
		for i := 0; i < len(line); i++ {
			if line[i] == '`' {
				i = skipCodeSpan(line, i) - 1
				continue
			}
			if line[i] != '@' || (i > 0 && isNameByte(line[i-1])) {
				continue
			}
			j := i + 1
			for j < len(line) && isNameByte(line[j]) {
				j++
			}
			name := strings.ToLower(strings.TrimRight(line[i+1:j], "."))
			i = j - 1
			if name != "" && isLetterOrDigit(name[0]) && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	})
	return out
}

func isNameByte(c byte) bool {
	return isLetterOrDigit(c) || c == '.' || c == '-' || c == '_'
}

func isLetterOrDigit(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
