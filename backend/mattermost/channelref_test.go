package mattermost

import (
	"testing"

	mm "github.com/matterbot/matterbot/mattermost"
)

func TestLinkChannels(t *testing.T) {
	b := &Backend{dir: newDirectory(newFakeLookup(), aliceID, dirOptions{}), url: "https://chat.example.com"}
	inTeam := &mm.Channel{ID: opsID, TeamID: teamID, Type: mm.ChannelOpen, Name: "ops"}
	direct := &mm.Channel{ID: dmID, Type: mm.ChannelDirect}
	link := "[~secret](https://chat.example.com/testteam/channels/secret)"
	tests := []struct {
		name string
		text string
		dest *mm.Channel
		want string
	}{
		{"same team", "see ~testteam/secret now", inTeam, "see ~secret now"},
		{"other team or DM", "see ~testteam/secret.", direct, "see " + link + "."},
		{"channel id", "in ~" + secretID + "!", inTeam, "in ~secret!"},
		{"two", "~testteam/ops and ~testteam/secret", inTeam, "~ops and ~secret"},
		{"plain name left", "see ~ops", direct, "see ~ops"},
		{"unknown left", "~nope/ops ~testteam/nope ~abcdefghijklmnopqrstuvwxyz", inTeam, "~nope/ops ~testteam/nope ~abcdefghijklmnopqrstuvwxyz"},
		{"DM id left", "~" + dmID, inTeam, "~" + dmID},
		{"inside a word", "a~testteam/ops", inTeam, "a~testteam/ops"},
		{"inline code", "`~testteam/ops` ~testteam/ops", inTeam, "`~testteam/ops` ~ops"},
		{"double backticks", "``a ` ~testteam/ops`` x", inTeam, "``a ` ~testteam/ops`` x"},
		{"fence", "```\n~testteam/ops\n```\n~testteam/ops", inTeam, "```\n~testteam/ops\n```\n~ops"},
		{"no tilde", "plain text", inTeam, "plain text"},
		{"half refs", "~/ops ~testteam/ ~", inTeam, "~/ops ~testteam/ ~"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.linkChannels(t.Context(), tc.text, tc.dest); got != tc.want {
				t.Errorf("linkChannels(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func FuzzChannelRefs(f *testing.F) {
	for _, s := range []string{"~a/b", "`~a/b` ~c/d", "``x`~a/b", "~" + opsID, "~~a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, plain := range []bool{false, true} {
			last := -1
			for _, r := range channelTokens(line, plain) {
				if r.start <= last || r.end > len(line) || r.start+1 >= r.end || line[r.start] != '~' {
					t.Fatalf("channelTokens(%q, %v) gave bad span %v", line, plain, r)
				}
				last = r.end - 1
			}
		}
	})
}
