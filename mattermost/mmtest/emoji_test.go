package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestEmoji follows api4/emoji.go: list (sort name), get by id and by
// name, search and autocomplete, with their 400s and 404s.
func TestEmoji(t *testing.T) {
	w := newWorld(t, nil)
	party, err := w.srv.AddEmoji("party_parrot", w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.AddEmoji("ship-it", w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.AddEmoji("party_parrot", w.bob.ID); err == nil {
		t.Error("AddEmoji took a name in use")
	}
	if _, err := w.srv.AddEmoji("bad name", w.bob.ID); err == nil {
		t.Error("AddEmoji took a name with a space")
	}
	names := func(r result) []string {
		var es []mattermost.Emoji
		r.json(t, &es)
		out := []string{}
		for _, e := range es {
			out = append(out, e.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"list, by creation", "GET", "/emoji", nil, []string{"party_parrot", "ship-it"}},
		{"list by name, paged", "GET", "/emoji?sort=name&page=1&per_page=1", nil, []string{"ship-it"}},
		{"search", "POST", "/emoji/search", map[string]any{"term": "parrot"}, []string{"party_parrot"}},
		{"search, prefix only", "POST", "/emoji/search", map[string]any{"term": "parrot", "prefix_only": true}, []string{}},
		{"autocomplete", "GET", "/emoji/autocomplete?name=sh", nil, []string{"ship-it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, tc.method, tc.path, w.bobTok, tc.body)
			expect(t, tc.path, r, ok(200))
			if diff := cmp.Diff(tc.want, names(r)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.path, diff)
			}
		})
	}
	var got mattermost.Emoji
	w.do(t, "GET", "/emoji/"+party.ID, w.bobTok, nil).json(t, &got)
	if got != *party {
		t.Errorf("by id = %+v, want %+v", got, *party)
	}
	w.do(t, "GET", "/emoji/name/party_parrot", w.bobTok, nil).json(t, &got)
	if got != *party {
		t.Errorf("by name = %+v, want %+v", got, *party)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               answer
	}{
		{"unknown id", "GET", "/emoji/" + mattermost.NewID(), nil, answer{404, "app.emoji.get.no_result"}},
		{"bad id", "GET", "/emoji/abc", nil, answer{400, idURLParam}},
		{"unknown name", "GET", "/emoji/name/smile", nil, answer{404, "app.emoji.get_by_name.no_result"}},
		{"bad sort", "GET", "/emoji?sort=size", nil, answer{400, idURLParam}},
		{"search without term", "POST", "/emoji/search", map[string]any{}, answer{400, idBodyParm}},
		{"autocomplete without name", "GET", "/emoji/autocomplete", nil, answer{400, idURLParam}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.path, w.do(t, tc.method, tc.path, w.bobTok, tc.body), tc.want)
		})
	}
}
