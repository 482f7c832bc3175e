package mmtest

import (
	"bytes"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestAllUserChannels: GET /users/{user_id}/channels as server 6.1 and
// later answer it (api4/channel.go getChannelsForUser), and the 404 of
// older servers.
func TestAllUserChannels(t *testing.T) {
	w := newWorld(t, nil) // the current profile
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := w.srv.AddChannel(w.team.ID, "gone", "Gone", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(gone.ID, w.alice.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "DELETE", "/channels/"+gone.ID, w.rootTok, nil); r.status != 200 {
		t.Fatalf("archive ~gone = %d %s", r.status, r.body)
	}
	var archived mattermost.Channel
	w.do(t, "GET", "/channels/"+gone.ID, w.rootTok, nil).json(t, &archived)

	// alice's channels in the team, from the per-team listing.
	var teamChs []mattermost.Channel
	w.do(t, "GET", "/users/me/teams/"+w.team.ID+"/channels", w.aliceTok, nil).json(t, &teamChs)
	var live []string
	for _, ch := range teamChs {
		live = append(live, ch.ID)
	}
	slices.Sort(live)
	if !slices.Contains(live, dm.ID) || !slices.Contains(live, w.ops.ID) {
		t.Fatalf("alice's channels %v lack the DM %s or ~ops %s", live, dm.ID, w.ops.ID)
	}
	withGone := append(slices.Clone(live), gone.ID)
	slices.Sort(withGone)

	ids := func(t *testing.T, r result) []string {
		t.Helper()
		var chs []mattermost.Channel
		r.json(t, &chs)
		out := []string{}
		for _, ch := range chs {
			out = append(out, ch.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name, path, token string
		want              []string
	}{
		{"me", "/users/me/channels", w.aliceTok, live},
		{"by id", "/users/" + w.alice.ID + "/channels", w.aliceTok, live},
		{"an admin for another", "/users/" + w.alice.ID + "/channels", w.rootTok, live},
		{"archived too", "/users/me/channels?include_deleted=true", w.aliceTok, withGone},
		{"archived since", "/users/me/channels?include_deleted=true&last_delete_at=" + strconv.FormatInt(archived.DeleteAt, 10), w.aliceTok, withGone},
		{"archived before", "/users/me/channels?include_deleted=true&last_delete_at=" + strconv.FormatInt(archived.DeleteAt+1, 10), w.aliceTok, live},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "GET", tc.path, tc.token, nil)
			if r.status != 200 {
				t.Fatalf("GET %s = %d %s, want 200", tc.path, r.status, r.body)
			}
			if diff := cmp.Diff(tc.want, ids(t, r)); diff != "" {
				t.Errorf("GET %s ids, in id order (-want +got):\n%s", tc.path, diff)
			}
		})
	}

	for _, tc := range []struct {
		name, path, token string
		wantStatus        int
		wantID            string
	}{
		{"another user's", "/users/" + w.bob.ID + "/channels", w.aliceTok, 403, "api.context.permissions.app_error"},
		{"negative last_delete_at", "/users/me/channels?last_delete_at=-1", w.aliceTok, 400, "api.context.invalid_url_param.app_error"},
		{"another user's, negative last_delete_at", "/users/" + w.bob.ID + "/channels?last_delete_at=-1", w.aliceTok, 403, "api.context.permissions.app_error"},
		{"no session", "/users/me/channels", "", 401, "api.context.session_expired.app_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "GET", tc.path, tc.token, nil)
			if r.status != tc.wantStatus || errID(t, r) != tc.wantID {
				t.Errorf("GET %s = %d %s, want %d %s", tc.path, r.status, r.body, tc.wantStatus, tc.wantID)
			}
		})
	}

	t.Run("in no channel", func(t *testing.T) {
		// The server has written "[" before it learns there is nothing.
		lone, err := w.srv.AddUser(User{Username: "lone"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := w.srv.Login(lone.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := w.do(t, "GET", "/users/me/channels", tok, nil)
		var e mattermost.APIError
		if r.status != 200 || !bytes.HasPrefix(r.body, []byte("[{")) || jsonUnmarshal(r.body[1:], &e) != nil ||
			e.ID != "app.channel.get_channels.not_found.app_error" || e.StatusCode != 404 {
			t.Errorf("GET /users/me/channels in no channel = %d %s, want 200 and \"[\" before the not_found error", r.status, r.body)
		}
	})

	t.Run("5.36 profile, before 6.1", func(t *testing.T) {
		old := newWorld(t, &Options{ServerVersion: Version536})
		r := old.do(t, "GET", "/users/me/channels", old.aliceTok, nil)
		if r.status != 404 || errID(t, r) != "api.context.404.app_error" {
			t.Errorf("GET /users/me/channels on 5.36.1 = %d %s, want 404 api.context.404.app_error", r.status, r.body)
		}
	})
}

func TestVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		version, min string
		want         bool
	}{
		{"5.36.1", "", true},
		{"5.36.1", "6.1", false},
		{"6.1.0", "6.1", true},
		{"6.0.9", "6.1", false},
		{"10.0", "6.1", true},
		{"6.10", "6.9", true},
		{"dev", "6.1", false},
	} {
		if got := versionAtLeast(tc.version, tc.min); got != tc.want {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", tc.version, tc.min, got, tc.want)
		}
	}
}
