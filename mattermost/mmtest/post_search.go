package mmtest

import (
	"net/http"
	"sort"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// searchTerm is one word or phrase of a post search.
type searchTerm struct {
	text    string // lowercase; a phrase keeps its spaces
	phrase  bool   // "quoted words": a substring of the message
	prefix  bool   // word*: a prefix of a word
	hashtag bool   // #tag: one of the post's hashtags
	exclude bool   // -word: must not match
}

// postQuery is a parsed search: terms plus from: and in: filters.
type postQuery struct {
	terms []searchTerm
	from  []string // usernames
	in    []string // channel names
}

// parsePostSearch reads the subset of model.ParseSearchParams the fake
// serves: words, "quoted phrases", word* prefixes, #hashtags, -excluded
// words, from:username and in:channel-name (with or without ~). on:,
// before: and after: are not served and are searched as words.
func parsePostSearch(terms string) postQuery {
	var q postQuery
	var words []string
	for rest := strings.TrimSpace(terms); rest != ""; rest = strings.TrimSpace(rest) {
		neg := strings.HasPrefix(rest, "-\"")
		if strings.HasPrefix(rest, "\"") || neg {
			start := 1
			if neg {
				start = 2
			}
			if end := strings.Index(rest[start:], "\""); end >= 0 {
				q.terms = append(q.terms, searchTerm{text: strings.ToLower(rest[start : start+end]), phrase: true, exclude: neg})
				rest = rest[start+end+1:]
				continue
			}
		}
		i := strings.IndexAny(rest, " \t\n")
		if i < 0 {
			i = len(rest)
		}
		words = append(words, rest[:i])
		rest = rest[i:]
	}
	for _, w := range words {
		lw := strings.ToLower(w)
		switch {
		case strings.HasPrefix(lw, "from:") && len(lw) > 5:
			q.from = append(q.from, strings.TrimPrefix(lw[5:], "@"))
			continue
		case strings.HasPrefix(lw, "in:") && len(lw) > 3:
			q.in = append(q.in, strings.TrimPrefix(lw[3:], "~"))
			continue
		}
		t := searchTerm{}
		if strings.HasPrefix(lw, "-") && len(lw) > 1 {
			t.exclude, lw = true, lw[1:]
		}
		if strings.HasPrefix(lw, "#") && len(lw) > 1 {
			t.hashtag = true
		} else {
			lw = strings.Trim(lw, ".,;:!?()[]{}'\"")
			if strings.HasSuffix(lw, "*") {
				t.prefix, lw = true, strings.TrimRight(lw, "*")
			}
		}
		if lw == "" {
			continue
		}
		t.text = lw
		q.terms = append(q.terms, t)
	}
	return q
}

// matches reports whether p's message satisfies t.
func (t searchTerm) matches(p *mattermost.Post) bool {
	msg := strings.ToLower(p.Message)
	switch {
	case t.phrase:
		return strings.Contains(msg, t.text)
	case t.hashtag:
		for _, h := range strings.Fields(strings.ToLower(p.Hashtags)) {
			if h == t.text {
				return true
			}
		}
		return false
	}
	for _, w := range searchWords(msg) {
		if w == t.text || t.prefix && strings.HasPrefix(w, t.text) {
			return true
		}
	}
	return false
}

// postSearchResults is model.PostSearchResults: a post list and the
// matches, null from the database search.
type postSearchResults struct {
	mattermost.PostList
	Matches map[string][]string `json:"matches"`
}

// searchPostsInTeam is POST /teams/{team_id}/posts/search (api4/post.go
// searchPostsInTeam → searchPosts → app SearchPostsForUser): view_team,
// else 403; a body that is not JSON is a 400
// api.post.search_posts.invalid_body.app_error, empty terms a 400 terms.
// The fake serves a subset of the database search: the words of terms
// (all of them, or any with is_or_search) against the words of the
// message, "phrases", word*, #hashtags, -excluded words, from:user and
// in:channel; PostgreSQL's stemming and on:/before:/after: are not
// served. Searched: the live, non-system posts of the channels the
// caller belongs to in the team, and of their direct and group channels;
// archived channels only with include_deleted_channels. Newest first,
// page and per_page (default 60).
func (q *request) searchPostsInTeam() {
	tid := q.idParam("team_id")
	if tid == "" {
		return
	}
	s := q.s
	s.mu.Lock()
	ok := s.st.hasTeamPermission(tid, q.sess.userID, permViewTeam)
	s.mu.Unlock()
	if !ok {
		q.failPerm()
		return
	}
	var params struct {
		Terms                  *string `json:"terms"`
		IsOrSearch             *bool   `json:"is_or_search"`
		IncludeDeletedChannels *bool   `json:"include_deleted_channels"`
		Page                   *int    `json:"page"`
		PerPage                *int    `json:"per_page"`
	}
	if err := decodeJSON(q, &params); err != nil {
		q.fail(apiError(http.StatusBadRequest, "api.post.search_posts.invalid_body.app_error", ""))
		return
	}
	if params.Terms == nil || *params.Terms == "" {
		q.failParam("terms")
		return
	}
	orSearch := params.IsOrSearch != nil && *params.IsOrSearch
	inclDeleted := params.IncludeDeletedChannels != nil && *params.IncludeDeletedChannels
	page, perPage := 0, 60
	if params.Page != nil {
		page = max(*params.Page, 0)
	}
	if params.PerPage != nil {
		perPage = max(*params.PerPage, 0)
	}
	pq := parsePostSearch(*params.Terms)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		uid := q.sess.userID
		var hits []*mattermost.Post
		for cid, ms := range st.members {
			ch := st.channels[cid]
			if ms[uid] == nil || ch == nil || ch.TeamID != tid && ch.TeamID != "" || ch.DeleteAt != 0 && !inclDeleted {
				continue
			}
			if len(pq.in) > 0 && !containsFold(pq.in, ch.Name) {
				continue
			}
			for _, pid := range st.channelPosts[cid] {
				p := st.posts[pid]
				if p.DeleteAt != 0 || strings.HasPrefix(p.Type, mattermost.PostSystemPrefix) {
					continue
				}
				if len(pq.from) > 0 {
					if u := st.users[p.UserID]; u == nil || !containsFold(pq.from, u.user.Username) {
						continue
					}
				}
				if postMatches(p, pq.terms, orSearch) {
					hits = append(hits, p)
				}
			}
		}
		sort.Slice(hits, func(i, j int) bool {
			if hits[i].CreateAt != hits[j].CreateAt {
				return hits[i].CreateAt > hits[j].CreateAt
			}
			return hits[i].ID > hits[j].ID
		})
		res := postSearchResults{PostList: *newPostList()}
		for _, p := range pageOf(hits, page, perPage) {
			s.addToList(&res.PostList, p, true)
		}
		return res, nil
	})
}

// postMatches applies the search terms to p: excluded terms must all
// miss; of the others all must match, or one with orSearch. A search of
// filters alone (from:, in:) matches every post.
func postMatches(p *mattermost.Post, terms []searchTerm, orSearch bool) bool {
	anyHit, all, n := false, true, 0
	for _, t := range terms {
		hit := t.matches(p)
		if t.exclude {
			if hit {
				return false
			}
			continue
		}
		n++
		anyHit = anyHit || hit
		all = all && hit
	}
	if n == 0 {
		return true
	}
	if orSearch {
		return anyHit
	}
	return all
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
