package mattermost

import (
	"context"
	"slices"
	"strings"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// maxRoomMentions bounds the channel references of one message that are
// resolved, so that a message full of "~word" cannot cost the hot path
// more than a few lookups.
const maxRoomMentions = 16

// roomRefs returns the channel references of text ("name", "team/name" or
// a channel id, without the ~), lowercased, without duplicates, in order
// of appearance, skipping code blocks and inline code as the server's
// markdown renderer does.
func roomRefs(text string) []string {
	if strings.IndexByte(text, '~') < 0 {
		return nil
	}
	var refs []string
	proseLines(text, func(_ int, line string) {
		for _, s := range channelTokens(line, true) {
			ref := strings.ToLower(line[s.start+1 : s.end])
			if !slices.Contains(refs, ref) {
				refs = append(refs, ref)
			}
		}
	})
	return refs
}

// proseLines calls fn with each line of text (and its offset in text)
// that is not inside a fenced code block nor a fence delimiter; inline
// code within a line is left to the caller (see skipCodeSpan).
func proseLines(text string, fn func(offset int, line string)) {
	var state *fence
	ls := 0
	for line := range strings.Lines(text) {
		next, delim := fenceLine(line, state, 0)
		if state == nil && !delim {
			fn(ls, line)
		}
		state, ls = next, ls+len(line)
	}
}

// roomMentions resolves the channels a post mentions. The server lists
// the channels of the post's team that the text names and that the
// poster may read (older servers: the public ones) in
// props.channel_mentions, keyed by name, with the team's name and, on
// newer servers, the channel's id (app/post.go FillInPostProps). A name
// it lists costs no guess, and a plain name it does not list is not a
// channel it links. Without the prop (a server that does not fill it, or
// a post it filled nothing for), plain names are looked up in the team of
// the post's channel, or else the default team. "~team/name" and channel
// ids are always looked up. Lookups go through the directory, so a known
// channel costs no REST call; references that resolve to nothing are
// dropped.
func (t *translator) roomMentions(ctx context.Context, p *mm.Post, teamID string) []bot.Room {
	refs := roomRefs(p.Message)
	if len(refs) == 0 {
		return nil
	}
	listed, hasProp := p.Props["channel_mentions"].(map[string]any)
	if teamID == "" {
		teamID = t.defaultTeam
	}
	var rooms []bot.Room
	for i, ref := range refs {
		if i == maxRoomMentions {
			break
		}
		// A plain name may stand for an id or a team's name that the
		// prop gives, or else for a channel in the team of teamID.
		named := strings.Contains(ref, "/")
		var id, teamName string
		switch {
		case named:
		case hasProp:
			v, ok := listed[ref].(map[string]any)
			if !ok {
				continue
			}
			id, _ = v["id"].(string)
			teamName, _ = v["team_name"].(string)
		case mm.IsValidID(ref):
			id = ref
		}
		var ch *mm.Channel
		var team *mm.Team
		var err error
		switch {
		case named:
			ch, team, err = t.dir.channelRef(ctx, ref)
		case mm.IsValidID(id):
			ch, team, err = t.dir.channelRef(ctx, id)
		case teamName != "":
			ch, team, err = t.dir.teamChannel(ctx, teamName, ref)
		case teamID != "":
			if team, err = t.dir.team(ctx, teamID); err == nil {
				ch, err = t.dir.channelByName(ctx, team.ID, ref)
			}
		default:
			continue
		}
		if err != nil || ch == nil || team == nil {
			continue // not a channel the bot can see: plain text
		}
		rooms = append(rooms, bot.Room{ID: ch.ID, Name: ch.Name, Team: team.Name, Kind: roomKind(ch.Type)})
	}
	return rooms
}
