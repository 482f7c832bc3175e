package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// channelNames decodes a channel list answer into its names.
func channelNames(t *testing.T, r result) []string {
	t.Helper()
	var chs []mattermost.Channel
	r.json(t, &chs)
	out := []string{}
	for _, ch := range chs {
		out = append(out, ch.Name)
	}
	return out
}

// searchWorld adds to w: public ~release-notes ("Release Notes", purpose
// "weekly builds"), public ~random, private ~release-secret with alice,
// and an archived public ~old-release.
func searchWorld(t *testing.T, w *world) {
	t.Helper()
	notes, err := w.srv.AddChannel(w.team.ID, "release-notes", "Release Notes", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(notes.ID, w.alice.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "PUT", "/channels/"+notes.ID+"/patch", w.aliceTok, map[string]string{"purpose": "weekly builds"}); r.status != 200 {
		t.Fatalf("patch = %d %s", r.status, r.body)
	}
	if _, err := w.srv.AddChannel(w.team.ID, "random", "Random", mattermost.ChannelOpen); err != nil {
		t.Fatal(err)
	}
	w.privateChannel(t, "release-secret", w.alice)
	old, err := w.srv.AddChannel(w.team.ID, "old-release", "Old Release", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "DELETE", "/channels/"+old.ID, w.rootTok, nil); r.status != 200 {
		t.Fatalf("archive = %d %s", r.status, r.body)
	}
}

// TestSearchChannelsForTeam follows api4/channel.go searchChannelsForTeam
// (app SearchChannels: public channels of the team), in the 5.36 profile
// (archived channels not searched).
func TestSearchChannelsForTeam(t *testing.T) {
	w := newWorld(t, &Options{ServerVersion: Version536})
	searchWorld(t, w)
	path := "/teams/" + w.team.ID + "/channels/search"
	for _, tc := range []struct {
		name, term string
		want       []string
	}{
		{"prefix of the name", "release", []string{"release-notes"}},
		{"a word of the display name", "notes", []string{"release-notes"}},
		{"a word of the purpose", "week", []string{"release-notes"}},
		{"case", "RANDOM", []string{"random"}},
		{"every word", "release weekly", []string{"release-notes"}},
		{"no match", "zebra", []string{}},
		{"empty term: all public, by display name", "", []string{"off-topic", "ops", "random", "release-notes", "town-square"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", path, w.aliceTok, map[string]string{"term": tc.term})
			expect(t, "search", r, ok(200))
			got := channelNames(t, r)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", tc.term, diff)
			}
		})
	}
	outsider, err := w.srv.AddUser(User{Username: "outsider"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.srv.Login(outsider.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "search by a non-member", w.do(t, "POST", path, tok, map[string]string{"term": "r"}), answer{404, "app.team.get_member.missing.app_error"})
	expect(t, "search with a bad body", w.do(t, "POST", path, w.aliceTok, "nope"), answer{400, idBodyParm})

	// A member whose role lost list_team_channels searches their own
	// channels (app SearchChannelsForUser), the private ones included.
	if err := w.srv.SetRolePermissions("team_user", permViewTeam); err != nil {
		t.Fatal(err)
	}
	got := channelNames(t, w.do(t, "POST", path, w.aliceTok, map[string]string{"term": "release"}))
	if diff := cmp.Diff([]string{"release-notes", "release-secret"}, got); diff != "" {
		t.Errorf("search without list_team_channels (-want +got):\n%s", diff)
	}

	// Today's default, ExperimentalViewArchivedChannels on: archived
	// channels are found too.
	cur := newWorld(t, nil)
	searchWorld(t, cur)
	got = channelNames(t, cur.do(t, "POST", "/teams/"+cur.team.ID+"/channels/search", cur.aliceTok, map[string]string{"term": "release"}))
	if diff := cmp.Diff([]string{"old-release", "release-notes"}, got); diff != "" {
		t.Errorf("search, current profile (-want +got):\n%s", diff)
	}
}

// TestAutocompleteChannelsForTeam follows api4/channel.go
// autocompleteChannelsForTeam and store AutocompleteInTeam: public
// channels on 5.36; today the caller's private ones and archived ones too.
func TestAutocompleteChannelsForTeam(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{Version536, []string{"release-notes"}},
		{VersionCurrent, []string{"old-release", "release-notes", "release-secret"}},
	} {
		t.Run("version "+tc.version, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: tc.version})
			searchWorld(t, w)
			path := "/teams/" + w.team.ID + "/channels/autocomplete?name=rel"
			r := w.do(t, "GET", path, w.aliceTok, nil)
			expect(t, "autocomplete", r, ok(200))
			if diff := cmp.Diff(tc.want, channelNames(t, r)); diff != "" {
				t.Errorf("autocomplete as alice (-want +got):\n%s", diff)
			}
			// bob is not in ~release-secret.
			want := tc.want[:len(tc.want)-1]
			if tc.version == Version536 {
				want = tc.want
			}
			if diff := cmp.Diff(want, channelNames(t, w.do(t, "GET", path, w.bobTok, nil))); diff != "" {
				t.Errorf("autocomplete as bob (-want +got):\n%s", diff)
			}
			other, err := w.srv.AddTeam("other", "Other")
			if err != nil {
				t.Fatal(err)
			}
			expect(t, "autocomplete in another team", w.do(t, "GET", "/teams/"+other.ID+"/channels/autocomplete?name=x", w.aliceTok, nil), answer{403, idPerm})
		})
	}
}

// TestPrivateChannelsForTeam follows api4/channel.go
// getPrivateChannelsForTeam: manage_system only.
func TestPrivateChannelsForTeam(t *testing.T) {
	w := newWorld(t, nil)
	searchWorld(t, w)
	path := "/teams/" + w.team.ID + "/channels/private"
	expect(t, "private channels as a member", w.do(t, "GET", path, w.aliceTok, nil), answer{403, idPerm})
	r := w.do(t, "GET", path, w.rootTok, nil)
	expect(t, "private channels as an admin", r, ok(200))
	if diff := cmp.Diff([]string{"release-secret"}, channelNames(t, r)); diff != "" {
		t.Errorf("private channels (-want +got):\n%s", diff)
	}
	if got := channelNames(t, w.do(t, "GET", path+"?page=1&per_page=1", w.rootTok, nil)); len(got) != 0 {
		t.Errorf("page 1 = %v, want none", got)
	}
}
