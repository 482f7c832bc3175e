package mmtest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestChannelStats follows api4/channel.go getChannelStats: read_channel
// (a member, an admin; not a team member outside a public channel, not
// for an unknown channel), active members only, pinned posts counted,
// files_count in the current profile only.
func TestChannelStats(t *testing.T) {
	for _, version := range []string{Version536, VersionCurrent} {
		t.Run("version "+version, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: version})
			p := w.post(t, w.aliceTok, w.ops.ID, "pin me")
			w.post(t, w.aliceTok, w.ops.ID, "not pinned")
			if r := w.do(t, "POST", "/posts/"+p.ID+"/pin", w.aliceTok, nil); r.status != 200 {
				t.Fatalf("pin = %d %s", r.status, r.body)
			}
			if err := w.srv.DeactivateUser(w.bob.ID); err != nil {
				t.Fatal(err)
			}
			lonely, err := w.srv.AddChannel(w.team.ID, "lonely", "Lonely", mattermost.ChannelOpen)
			if err != nil {
				t.Fatal(err)
			}

			r := w.do(t, "GET", "/channels/"+w.ops.ID+"/stats", w.aliceTok, nil)
			expect(t, "stats of ~ops", r, ok(200))
			var got map[string]any
			r.json(t, &got)
			// alice, root, the bot: bob is deactivated.
			want := map[string]any{"channel_id": w.ops.ID, "member_count": 3.0, "guest_count": 0.0, "pinnedpost_count": 1.0}
			if version != Version536 {
				want["files_count"] = 0.0
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if version != Version536 {
				r = w.do(t, "GET", "/channels/"+w.ops.ID+"/stats?exclude_files_count=true", w.aliceTok, nil)
				r.json(t, &got)
				if got["files_count"] != -1.0 {
					t.Errorf("files_count with exclude_files_count = %v, want -1", got["files_count"])
				}
			}
			expect(t, "stats as a team member outside the channel", w.do(t, "GET", "/channels/"+lonely.ID+"/stats", w.aliceTok, nil), answer{403, idPerm})
			expect(t, "stats as an admin outside the channel", w.do(t, "GET", "/channels/"+lonely.ID+"/stats", w.rootTok, nil), ok(200))
			expect(t, "stats of an unknown channel", w.do(t, "GET", "/channels/"+mattermost.NewID()+"/stats", w.rootTok, nil), answer{403, idPerm})
			expect(t, "stats of a bad id", w.do(t, "GET", "/channels/nope/stats", w.rootTok, nil), answer{400, idURLParam})
		})
	}
}

// TestTeamStats follows api4/team.go getTeamStats and the store's
// GetTotalMemberCount / GetActiveMemberCount.
func TestTeamStats(t *testing.T) {
	w := newWorld(t, nil)
	if err := w.srv.DeactivateUser(w.bob.ID); err != nil {
		t.Fatal(err)
	}
	r := w.do(t, "GET", "/teams/"+w.team.ID+"/stats", w.aliceTok, nil)
	expect(t, "team stats", r, ok(200))
	var got teamStats
	r.json(t, &got)
	if want := (teamStats{TeamID: w.team.ID, TotalMemberCount: 4, ActiveMemberCount: 3}); got != want {
		t.Errorf("team stats = %+v, want %+v", got, want)
	}
	outsider, err := w.srv.AddUser(User{Username: "outsider"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.srv.Login(outsider.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "team stats by a non-member", w.do(t, "GET", "/teams/"+w.team.ID+"/stats", tok, nil), answer{403, idPerm})
	expect(t, "stats of an unknown team", w.do(t, "GET", "/teams/"+mattermost.NewID()+"/stats", w.aliceTok, nil), answer{403, idPerm})
}

// TestPinnedPosts follows api4/channel.go getPinnedPosts and store
// GetPinnedPosts (oldest first).
func TestPinnedPosts(t *testing.T) {
	w := newWorld(t, nil)
	first := w.post(t, w.aliceTok, w.ops.ID, "first")
	w.post(t, w.aliceTok, w.ops.ID, "between")
	second := w.post(t, w.bobTok, w.ops.ID, "second")
	gone := w.post(t, w.bobTok, w.ops.ID, "deleted")
	for _, id := range []string{second.ID, first.ID, gone.ID} {
		if r := w.do(t, "POST", "/posts/"+id+"/pin", w.aliceTok, nil); r.status != 200 {
			t.Fatalf("pin = %d %s", r.status, r.body)
		}
	}
	if r := w.do(t, "DELETE", "/posts/"+gone.ID, w.bobTok, nil); r.status != 200 {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	r := w.do(t, "GET", "/channels/"+w.ops.ID+"/pinned", w.bobTok, nil)
	expect(t, "pinned", r, ok(200))
	var list mattermost.PostList
	r.json(t, &list)
	if diff := cmp.Diff([]string{first.ID, second.ID}, list.Order); diff != "" {
		t.Errorf("pinned order (-want +got):\n%s", diff)
	}
	if p := list.Posts[first.ID]; p == nil || !p.IsPinned {
		t.Errorf("pinned post %v not pinned", p)
	}
	secret := w.privateChannel(t, "secret", w.alice)
	expect(t, "pinned of a private channel by a non-member", w.do(t, "GET", "/channels/"+secret.ID+"/pinned", w.bobTok, nil), answer{403, idPerm})
	expect(t, "pinned of an unknown channel", w.do(t, "GET", "/channels/"+mattermost.NewID()+"/pinned", w.bobTok, nil), answer{404, "app.channel.get.existing.app_error"})
}

// TestChannelTimezones follows app GetChannelMembersTimezones: the
// preferred zone of each member who set one, without duplicates.
func TestChannelTimezones(t *testing.T) {
	w := newWorld(t, nil)
	set := func(token, user string, tz map[string]string) {
		t.Helper()
		if r := w.do(t, "PUT", "/users/"+user+"/patch", token, map[string]any{"timezone": tz}); r.status != 200 {
			t.Fatalf("patch timezone = %d %s", r.status, r.body)
		}
	}
	r := w.do(t, "GET", "/channels/"+w.ops.ID+"/timezones", w.aliceTok, nil)
	expect(t, "timezones, none set", r, ok(200))
	if string(r.body) != "[]" {
		t.Errorf("timezones, none set = %s, want []", r.body)
	}
	set(w.aliceTok, w.alice.ID, map[string]string{"useAutomaticTimezone": "true", "automaticTimezone": "Europe/Paris", "manualTimezone": "Asia/Tokyo"})
	set(w.bobTok, w.bob.ID, map[string]string{"useAutomaticTimezone": "false", "automaticTimezone": "Europe/Paris", "manualTimezone": "Asia/Tokyo"})
	set(w.rootTok, w.root.ID, map[string]string{"useAutomaticTimezone": "true", "automaticTimezone": "Europe/Paris"})
	var got []string
	w.do(t, "GET", "/channels/"+w.ops.ID+"/timezones", w.aliceTok, nil).json(t, &got)
	slices.Sort(got)
	if diff := cmp.Diff([]string{"Asia/Tokyo", "Europe/Paris"}, got); diff != "" {
		t.Errorf("timezones (-want +got):\n%s", diff)
	}
	lonely, err := w.srv.AddChannel(w.team.ID, "lonely", "Lonely", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "timezones outside the channel", w.do(t, "GET", "/channels/"+lonely.ID+"/timezones", w.aliceTok, nil), answer{403, idPerm})
}
