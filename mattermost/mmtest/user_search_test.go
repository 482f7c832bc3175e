package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

func usernames(t *testing.T, users []mattermost.User) []string {
	t.Helper()
	out := []string{}
	for _, u := range users {
		out = append(out, u.Username)
	}
	return out
}

// TestSearchUsers follows api4/user.go searchUsers, app SearchUsers and
// the store's user search (word prefixes of username, names, nickname,
// e-mail).
func TestSearchUsers(t *testing.T) {
	w := newWorld(t, nil)
	if _, err := w.srv.AddUser(User{Username: "carol", FirstName: "Carol", LastName: "Danvers", Nickname: "marvel"}); err != nil {
		t.Fatal(err)
	}
	gone, err := w.srv.AddUser(User{Username: "alicia"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.team.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.DeactivateUser(gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"username prefix", map[string]any{"term": "ali"}, []string{"alice"}},
		{"inactive too", map[string]any{"term": "ali", "allow_inactive": true}, []string{"alice", "alicia"}},
		{"last name", map[string]any{"term": "danv"}, []string{"carol"}},
		{"nickname and first name", map[string]any{"term": "marv car"}, []string{"carol"}},
		{"e-mail", map[string]any{"term": "bob@exa"}, []string{"bob"}},
		{"in team", map[string]any{"term": "c", "team_id": w.team.ID}, []string{}},
		{"not in team", map[string]any{"term": "c", "not_in_team_id": w.team.ID}, []string{"carol"}},
		{"without team", map[string]any{"term": "c", "without_team": true}, []string{"carol"}},
		{"in channel", map[string]any{"term": "o", "in_channel_id": w.ops.ID}, []string{"ops-bot"}},
		{"limit", map[string]any{"term": "ali", "allow_inactive": true, "limit": 1}, []string{"alice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/users/search", w.aliceTok, tc.body)
			expect(t, "search", r, ok(200))
			var got []mattermost.User
			r.json(t, &got)
			if diff := cmp.Diff(tc.want, usernames(t, got)); diff != "" {
				t.Errorf("search %v (-want +got):\n%s", tc.body, diff)
			}
			for _, u := range got {
				if u.NotifyProps != nil {
					t.Errorf("%s has notify_props: profiles are sanitized", u.Username)
				}
			}
		})
	}
	secret := w.privateChannel(t, "secret", w.root)
	other, err := w.srv.AddTeam("other", "Other")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body any
		want answer
	}{
		{"no term", map[string]any{"term": ""}, answer{400, idBodyParm}},
		{"not in channel without team", map[string]any{"term": "a", "not_in_channel_id": w.ops.ID}, answer{400, idBodyParm}},
		{"a private channel not read", map[string]any{"term": "a", "in_channel_id": secret.ID}, answer{403, idPerm}},
		{"a team not viewed", map[string]any{"term": "a", "team_id": other.ID}, answer{403, idPerm}},
		{"limit too high", map[string]any{"term": "a", "limit": 1001}, answer{400, idBodyParm}},
		{"not JSON", "nope", answer{400, idBodyParm}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "search", w.do(t, "POST", "/users/search", w.aliceTok, tc.body), tc.want)
		})
	}
}

// TestAutocompleteUsers follows api4/user.go autocompleteUsers (and the
// route order of api4: /users/autocomplete is not a user id).
func TestAutocompleteUsers(t *testing.T) {
	w := newWorld(t, nil)
	carol, err := w.srv.AddUser(User{Username: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.team.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, query string) userAutocomplete {
		t.Helper()
		r := w.do(t, "GET", "/users/autocomplete?"+query, w.aliceTok, nil)
		expect(t, "autocomplete "+query, r, ok(200))
		var ac userAutocomplete
		r.json(t, &ac)
		return ac
	}
	ac := get(t, "in_team="+w.team.ID+"&in_channel="+w.ops.ID+"&name=")
	if diff := cmp.Diff([]string{"alice", "bob", "ops-bot", "root"}, usernames(t, ac.Users)); diff != "" {
		t.Errorf("in channel (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"carol"}, usernames(t, ac.OutOfChannel)); diff != "" {
		t.Errorf("out of channel (-want +got):\n%s", diff)
	}
	if ac = get(t, "in_team="+w.team.ID+"&name=ca"); !cmp.Equal(usernames(t, ac.Users), []string{"carol"}) {
		t.Errorf("in team = %v, want carol", usernames(t, ac.Users))
	}
	if ac = get(t, "name=ro&limit=1"); !cmp.Equal(usernames(t, ac.Users), []string{"root"}) {
		t.Errorf("everyone = %v, want root", usernames(t, ac.Users))
	}
	if ac = get(t, "name=example.com"); len(ac.Users) != 0 {
		t.Errorf("by e-mail = %v, want none: autocomplete never matches e-mails", usernames(t, ac.Users))
	}
	var keys map[string]any
	w.do(t, "GET", "/users/autocomplete?in_team="+w.team.ID+"&name=al", w.aliceTok, nil).json(t, &keys)
	if _, has := keys["out_of_channel"]; has || len(keys) != 1 {
		t.Errorf("keys of %v, want users only (out_of_channel is omitted when empty)", keys)
	}
	expect(t, "in channel without team", w.do(t, "GET", "/users/autocomplete?in_channel="+w.ops.ID, w.aliceTok, nil),
		answer{500, "api.user.autocomplete_users.missing_team_id.app_error"})
	secret := w.privateChannel(t, "secret", w.root)
	expect(t, "a channel not read", w.do(t, "GET", "/users/autocomplete?in_team="+w.team.ID+"&in_channel="+secret.ID, w.aliceTok, nil), answer{403, idPerm})
}
