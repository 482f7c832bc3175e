package mmtest

import (
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// TestMembersByIDs follows api4/team.go getTeamMembersByIds and
// api4/channel.go getChannelMembersByIds.
func TestMembersByIDs(t *testing.T) {
	w := newWorld(t, nil)
	outsider, err := w.srv.AddUser(User{Username: "outsider"})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{w.bob.ID, outsider.ID, w.alice.ID}
	var tms []mattermost.TeamMember
	r := w.do(t, "POST", "/teams/"+w.team.ID+"/members/ids", w.aliceTok, ids)
	expect(t, "team members by ids", r, ok(200))
	r.json(t, &tms)
	if len(tms) != 2 || tms[0].UserID > tms[1].UserID {
		t.Errorf("team members = %+v, want alice and bob by id", tms)
	}
	var cms []mattermost.ChannelMember
	r = w.do(t, "POST", "/channels/"+w.ops.ID+"/members/ids", w.aliceTok, ids)
	expect(t, "channel members by ids", r, ok(200))
	r.json(t, &cms)
	if len(cms) != 2 {
		t.Errorf("channel members = %+v, want alice and bob", cms)
	}
	other, err := w.srv.AddTeam("other", "Other")
	if err != nil {
		t.Fatal(err)
	}
	secret := w.privateChannel(t, "secret", w.root)
	for _, tc := range []struct {
		name, path string
		body       any
		want       answer
	}{
		{"team: empty", "/teams/" + w.team.ID + "/members/ids", []string{}, answer{400, idBodyParm}},
		{"team: not a list", "/teams/" + w.team.ID + "/members/ids", "nope", answer{400, idBodyParm}},
		{"team: not viewed", "/teams/" + other.ID + "/members/ids", ids, answer{403, idPerm}},
		{"channel: empty", "/channels/" + w.ops.ID + "/members/ids", []string{}, answer{400, idBodyParm}},
		{"channel: not a list", "/channels/" + w.ops.ID + "/members/ids", "nope", answer{400, "api.payload.parse_error"}},
		{"channel: not read", "/channels/" + secret.ID + "/members/ids", ids, answer{403, idPerm}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.path, w.do(t, "POST", tc.path, w.aliceTok, tc.body), tc.want)
		})
	}
}

// TestTeamUnread follows app GetTeamUnread.
func TestTeamUnread(t *testing.T) {
	w := newWorld(t, &Options{ServerVersion: Version536})
	w.post(t, w.bobTok, w.ops.ID, "one")
	r := w.do(t, "GET", "/users/me/teams/"+w.team.ID+"/unread", w.aliceTok, nil)
	expect(t, "team unread", r, ok(200))
	if want := `{"team_id":"` + w.team.ID + `","msg_count":1,"mention_count":0,"mention_count_root":0,"msg_count_root":1}`; string(r.body) != want {
		t.Errorf("team unread = %s, want %s", r.body, want)
	}
	other, err := w.srv.AddTeam("other", "Other")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "another user's", w.do(t, "GET", "/users/"+w.bob.ID+"/teams/"+w.team.ID+"/unread", w.aliceTok, nil), answer{403, idPerm})
	expect(t, "a team not viewed", w.do(t, "GET", "/users/me/teams/"+other.ID+"/unread", w.aliceTok, nil), answer{403, idPerm})
	r = w.do(t, "GET", "/users/"+w.alice.ID+"/teams/"+other.ID+"/unread", w.rootTok, nil)
	if want := `{"team_id":"` + other.ID + `","msg_count":0,"mention_count":0,"mention_count_root":0,"msg_count_root":0}`; string(r.body) != want {
		t.Errorf("unread of a team without channels = %s, want zeros", r.body)
	}
}
