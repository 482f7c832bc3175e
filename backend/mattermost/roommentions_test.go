package mattermost

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

func TestRoomRefs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "none", in: "hello @alice"},
		{name: "plain", in: "see ~ops, then ~Dev.", want: []string{"ops", "dev"}},
		{name: "team", in: "~other/ops and ~ops", want: []string{"other/ops", "ops"}},
		{name: "id", in: "~" + opsID, want: []string{opsID}},
		{name: "duplicates", in: "~ops ~OPS ~ops", want: []string{"ops"}},
		{name: "inline code", in: "`~hidden` ~shown ``a ~x` b``", want: []string{"shown"}},
		{name: "fence", in: "~a\n```\n~b\n```\n~c", want: []string{"a", "c"}},
		{name: "not after a name", in: "a~b x~/y ~ ~/home", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, roomRefs(tc.in)); diff != "" {
				t.Errorf("roomRefs(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestRoomMentions(t *testing.T) {
	const otherTeamID, otherOpsID = "o4abhgi4hfb3xqdwp4ixd58t4r", "o5abhgi4hfb3xqdwp4ixd58t4r"
	ops := bot.Room{ID: opsID, Name: "ops", Team: "testteam", Kind: bot.RoomChannel}
	secret := bot.Room{ID: secretID, Name: "secret", Team: "testteam", Kind: bot.RoomChannel}
	otherOps := bot.Room{ID: otherOpsID, Name: "ops", Team: "other", Kind: bot.RoomChannel}
	listed := map[string]any{"ops": map[string]any{"display_name": "Ops", "team_name": "testteam"}}
	tests := []struct {
		name        string
		text        string
		props       map[string]any
		channelID   string
		defaultTeam string
		want        []bot.Room
		maxCalls    int // REST lookups allowed, with a cold cache
	}{
		{name: "listed by the server", text: "hello ~ops", props: map[string]any{"channel_mentions": listed},
			channelID: opsID, want: []bot.Room{ops}, maxCalls: 2},
		{name: "listed with an id", text: "~secret", channelID: opsID, want: []bot.Room{secret}, maxCalls: 2,
			props: map[string]any{"channel_mentions": map[string]any{"secret": map[string]any{"id": secretID, "team_name": "testteam"}}}},
		{name: "listed without a team (old server)", text: "~ops", channelID: opsID, want: []bot.Room{ops}, maxCalls: 2,
			props: map[string]any{"channel_mentions": map[string]any{"ops": map[string]any{"display_name": "Ops"}}}},
		{name: "not listed by the server is no channel", text: "~secret ~nope", props: map[string]any{"channel_mentions": listed},
			channelID: opsID, maxCalls: 1},
		{name: "no prop: looked up in the channel's team", text: "~secret and ~ops, ~nope", channelID: opsID,
			want: []bot.Room{secret, ops}, maxCalls: 4},
		{name: "team and name", text: "~other/ops then ~testteam/ops", channelID: opsID,
			props: map[string]any{"channel_mentions": listed}, want: []bot.Room{otherOps, ops}, maxCalls: 5},
		{name: "id", text: "~" + otherOpsID, channelID: opsID, want: []bot.Room{otherOps}, maxCalls: 3},
		{name: "direct message uses the default team", text: "~ops", channelID: dmID, defaultTeam: teamID,
			want: []bot.Room{ops}, maxCalls: 3},
		{name: "direct message without a team", text: "~ops", channelID: dmID, maxCalls: 1},
		{name: "code is not a mention", text: "`~ops`\n```\n~ops\n```", channelID: opsID, maxCalls: 1},
		{name: "dm and group channels have no name", text: "~" + dmID, channelID: opsID, maxCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeLookup()
			api.teams[otherTeamID] = &mm.Team{ID: otherTeamID, Name: "other"}
			api.channels[otherOpsID] = &mm.Channel{ID: otherOpsID, TeamID: otherTeamID, Type: "O", Name: "ops"}
			tr := &translator{dir: newDirectory(api, aliceID, dirOptions{}), self: aliceID, defaultTeam: tc.defaultTeam}
			p := &mm.Post{ID: "p", UserID: bobID, ChannelID: tc.channelID, Message: tc.text, Props: tc.props}
			got, err := tr.message(t.Context(), incoming{post: p})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.RoomMentions); diff != "" {
				t.Errorf("RoomMentions of %q mismatch (-want +got):\n%s", tc.text, diff)
			}
			// The sender and the post's channel cost a call each.
			if n := api.count() - 2; n > tc.maxCalls {
				t.Errorf("%d lookups for the mentions, want at most %d", n, tc.maxCalls)
			}
			// Known now: a second message costs no REST call at all.
			before := api.count()
			p.ID = "p2"
			again, err := tr.message(t.Context(), incoming{post: p})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, again.RoomMentions); diff != "" {
				t.Errorf("second RoomMentions mismatch (-want +got):\n%s", diff)
			}
			if len(tc.want) > 0 && len(tc.want) == len(roomRefs(tc.text)) && api.count() != before {
				t.Errorf("second message made %d lookups, want 0", api.count()-before)
			}
		})
	}
}

func TestRoomMentionsBounded(t *testing.T) {
	api := newFakeLookup()
	tr := &translator{dir: newDirectory(api, aliceID, dirOptions{}), self: aliceID}
	text := ""
	for i := range 3 * maxRoomMentions {
		text += " ~x" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	p := &mm.Post{ID: "p", UserID: bobID, ChannelID: opsID, Message: text}
	if _, err := tr.message(t.Context(), incoming{post: p}); err != nil {
		t.Fatal(err)
	}
	// Sender, channel, team, then one lookup per resolved reference.
	if n, limit := api.count(), 3+maxRoomMentions; n > limit {
		t.Errorf("%d lookups for %d unknown references, want at most %d", n, 3*maxRoomMentions, limit)
	}
}

func FuzzRoomRefs(f *testing.F) {
	for _, s := range []string{"~ops", "~a/b ~c", "`~x` ~y", "```\n~z\n```\n~w", "~~a", "a~b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		refs := roomRefs(text)
		seen := map[string]bool{}
		for _, r := range refs {
			if r == "" || seen[r] {
				t.Fatalf("roomRefs(%q) = %q: empty or repeated reference", text, refs)
			}
			seen[r] = true
		}
	})
}
