package mattermost

import (
	"context"
	"strings"

	mm "github.com/matterbot/matterbot/mattermost"
)

// Mattermost links "~name" to the channel of that name in the team of the
// channel the post is in, and knows no other form. Plugins speak in the
// bot's addresses ("~team/name", what bot.Room.String returns) and hold
// channel ids; linkChannels rewrites both into what the server renders.

// linkChannels rewrites, in text about to be posted in dest, the channel
// references the server would not link:
//
//	~team/name   → ~name when team is dest's team, else a markdown link
//	               [~name](<site>/team/channels/name)
//	~<id>        → the same, for a channel id
//
// References to unknown channels, and anything inside code, are left as
// they are. Resolving goes through the directory (cached).
func (b *Backend) linkChannels(ctx context.Context, text string, dest *mm.Channel) string {
	if strings.IndexByte(text, '~') < 0 {
		return text
	}
	var out strings.Builder
	done := 0 // text[:done] is in out
	proseLines(text, func(ls int, line string) {
		for _, ref := range channelTokens(line, false) {
			start, end := ls+ref.start, ls+ref.end
			if repl, ok := b.channelLink(ctx, text[start+1:end], dest); ok {
				out.WriteString(text[done:start])
				out.WriteString(repl)
				done = end
			}
		}
	})
	if done == 0 {
		return text
	}
	out.WriteString(text[done:])
	return out.String()
}

// span is a byte range of a line.
type span struct{ start, end int }

// channelTokens returns the spans of "~ref" in a line outside inline
// code, where ref is "team/name" or a 26-character id, or with plain also
// a bare "name"; a "~" must not follow a name character.
func channelTokens(line string, plain bool) []span {
	var refs []span
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '`':
			i = skipCodeSpan(line, i) - 1
		case c == '~' && (i == 0 || !isChannelByte(line[i-1])):
			j := i + 1
			slash := -1
			for j < len(line) && (isChannelByte(line[j]) || line[j] == '/' && slash < 0) {
				if line[j] == '/' {
					slash = j
				}
				j++
			}
			ref := line[i+1 : j]
			if slash > i+1 && slash < j-1 || slash < 0 && (mm.IsValidID(ref) || plain && ref != "") {
				refs = append(refs, span{i, j})
			}
			i = j - 1
		}
	}
	return refs
}

// skipCodeSpan returns the index just past the inline code span that
// starts at line[i], a backtick: up to the same run of backticks, or,
// when the run is not closed on the line, just past the run (a lone run
// of backticks is plain text).
func skipCodeSpan(line string, i int) int {
	n := 1
	for i+n < len(line) && line[i+n] == '`' {
		n++
	}
	closing := strings.Index(line[i+n:], line[i:i+n])
	if closing < 0 {
		return i + n
	}
	return i + n + closing + n
}

func isChannelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// channelLink returns the replacement of the reference ref ("team/name"
// or an id, without the ~) in a post in dest.
func (b *Backend) channelLink(ctx context.Context, ref string, dest *mm.Channel) (string, bool) {
	ch, team, err := b.dir.channelRef(ctx, ref)
	if err != nil {
		return "", false // not a channel the bot can see; DMs and groups have no ~name
	}
	if dest != nil && dest.TeamID == ch.TeamID {
		return "~" + ch.Name, true
	}
	return "[~" + ch.Name + "](" + b.url + "/" + team.Name + "/channels/" + ch.Name + ")", true
}
