package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSearchPosts follows api4/post.go searchPostsInTeam and searchPosts
// for the subset the fake serves (see searchPostsInTeam's comment).
func TestSearchPosts(t *testing.T) {
	w := newWorld(t, nil)
	deploy := w.post(t, w.aliceTok, w.ops.ID, "Deploy the #release now")
	rollback := w.post(t, w.bobTok, w.ops.ID, "rollback the deploy, it broke")
	lunch := w.post(t, w.bobTok, w.ops.ID, "lunch?")
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	private := w.post(t, w.bobTok, dm.ID, "deploying tonight")
	secret := w.privateChannel(t, "secret", w.bob)
	w.post(t, w.bobTok, secret.ID, "deploy secret")
	gone := w.post(t, w.aliceTok, w.ops.ID, "deploy gone")
	if r := w.do(t, "DELETE", "/posts/"+gone.ID, w.aliceTok, nil); r.status != 200 {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	path := "/teams/" + w.team.ID + "/posts/search"
	for _, tc := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"a word, newest first", map[string]any{"terms": "deploy"}, []string{rollback.ID, deploy.ID}},
		{"prefix", map[string]any{"terms": "deploy*"}, []string{private.ID, rollback.ID, deploy.ID}},
		{"all words", map[string]any{"terms": "deploy rollback"}, []string{rollback.ID}},
		{"any word", map[string]any{"terms": "lunch rollback", "is_or_search": true}, []string{lunch.ID, rollback.ID}},
		{"excluded", map[string]any{"terms": "deploy -rollback"}, []string{deploy.ID}},
		{"phrase", map[string]any{"terms": `"the deploy"`}, []string{rollback.ID}},
		{"hashtag", map[string]any{"terms": "#release"}, []string{deploy.ID}},
		{"from", map[string]any{"terms": "from:bob deploy*"}, []string{private.ID, rollback.ID}},
		{"in", map[string]any{"terms": "in:ops deploy*"}, []string{rollback.ID, deploy.ID}},
		{"paged", map[string]any{"terms": "deploy*", "page": 1, "per_page": 2}, []string{deploy.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", path, w.aliceTok, tc.body)
			expect(t, "search", r, ok(200))
			var res postSearchResults
			r.json(t, &res)
			if diff := cmp.Diff(tc.want, res.Order); diff != "" {
				t.Errorf("search %v order (-want +got):\n%s", tc.body, diff)
			}
			if len(res.Posts) != len(res.Order) {
				t.Errorf("%d posts for %d in order", len(res.Posts), len(res.Order))
			}
		})
	}
	var raw map[string]any
	w.do(t, "POST", path, w.aliceTok, map[string]any{"terms": "deploy"}).json(t, &raw)
	if m, has := raw["matches"]; !has || m != nil {
		t.Errorf("matches = %v (present %v), want null as the database search sends it", m, has)
	}
	other, err := w.srv.AddTeam("other", "Other")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "no terms", w.do(t, "POST", path, w.aliceTok, map[string]any{"terms": ""}), answer{400, idBodyParm})
	expect(t, "a body that is not JSON", w.do(t, "POST", path, w.aliceTok, "nope"), answer{400, "api.post.search_posts.invalid_body.app_error"})
	expect(t, "another team", w.do(t, "POST", "/teams/"+other.ID+"/posts/search", w.aliceTok, map[string]any{"terms": "x"}), answer{403, idPerm})
}
