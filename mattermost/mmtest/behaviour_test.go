package mmtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// errID returns the AppError id of an answer, "" if it has none.
func errID(t *testing.T, r result) string {
	t.Helper()
	if r.status < 400 {
		return ""
	}
	var e mattermost.APIError
	_ = jsonUnmarshal(r.body, &e)
	return e.ID
}

func TestAuth(t *testing.T) {
	w := newWorld(t, nil)
	me := func(t *testing.T, mod func(*http.Request)) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", w.srv.URL()+"/api/v4/users/me", nil)
		mod(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u mattermost.User
		var e mattermost.APIError
		b := readAll(t, resp)
		_ = jsonUnmarshal(b, &u)
		_ = jsonUnmarshal(b, &e)
		if resp.StatusCode != 200 {
			return resp.StatusCode, e.ID
		}
		return resp.StatusCode, u.Username
	}
	cookie := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: tok}) }
	}
	header := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", v) }
	}
	both := func(a, b func(*http.Request)) func(*http.Request) {
		return func(r *http.Request) { a(r); b(r) }
	}
	tests := []struct {
		name       string
		mod        func(*http.Request)
		wantStatus int
		want       string // username, or error id
	}{
		{"bearer", header("Bearer " + w.aliceTok), 200, "alice"},
		{"bearer lowercase", header("bearer " + w.aliceTok), 200, "alice"},
		{"token scheme", header("Token " + w.bobTok), 200, "bob"},
		{"cookie", cookie(w.aliceTok), 200, "alice"},
		{"cookie wins over bearer", both(cookie(w.aliceTok), header("Bearer "+w.bobTok)), 200, "alice"},
		{"stale cookie wins over good bearer", both(cookie("stale"), header("Bearer "+w.bobTok)), 401, "api.context.session_expired.app_error"},
		{"no token", func(*http.Request) {}, 401, "api.context.session_expired.app_error"},
		{"bad token", header("Bearer nope"), 401, "api.context.session_expired.app_error"},
		{"session token in query", func(r *http.Request) { r.URL.RawQuery = "access_token=" + w.aliceTok }, 401, "api.context.token_provided.app_error"},
		{"bot token", header("Bearer " + w.botTok), 200, "ops-bot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, got := me(t, tc.mod)
			if status != tc.wantStatus || got != tc.want {
				t.Errorf("GET /users/me = %d %q, want %d %q", status, got, tc.wantStatus, tc.want)
			}
		})
	}

	t.Run("bad token ignored where no session is needed", func(t *testing.T) {
		if r := w.do(t, "GET", "/system/ping", "nope", nil); r.status != 200 {
			t.Errorf("GET /system/ping with a bad token = %d, want 200", r.status)
		}
	})
	t.Run("logout kills the session", func(t *testing.T) {
		tok, _ := w.srv.Login(w.alice.ID)
		if r := w.do(t, "POST", "/users/logout", tok, nil); r.status != 200 || string(r.body) != `{"status":"OK"}` {
			t.Fatalf("logout = %d %s", r.status, r.body)
		}
		if r := w.do(t, "GET", "/users/me", tok, nil); r.status != 401 {
			t.Errorf("GET /users/me after logout = %d, want 401", r.status)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		tok, _ := w.srv.CreateToken(w.bob.ID, "x")
		w.srv.RevokeToken(tok)
		if r := w.do(t, "GET", "/users/me", tok, nil); r.status != 401 || errID(t, r) != "api.context.session_expired.app_error" {
			t.Errorf("GET /users/me with a revoked token = %d %s, want 401", r.status, r.body)
		}
	})
	t.Run("token created and revoked through the API", func(t *testing.T) {
		r := w.do(t, "POST", "/users/"+w.bot.ID+"/tokens", w.rootTok, map[string]string{"description": "ci"})
		var tok mattermost.UserAccessToken
		r.json(t, &tok)
		if r.status != 200 || tok.Token == "" {
			t.Fatalf("create token = %d %s", r.status, r.body)
		}
		if r := w.do(t, "GET", "/users/me", tok.Token, nil); r.status != 200 {
			t.Fatalf("GET /users/me with the new token = %d", r.status)
		}
		if r := w.do(t, "POST", "/users/"+w.bot.ID+"/tokens", w.aliceTok, map[string]string{"description": "x"}); r.status != 403 {
			t.Errorf("plain user creates a token for someone else's bot = %d, want 403", r.status)
		}
		if r := w.do(t, "POST", "/users/tokens/revoke", w.rootTok, map[string]string{"token_id": tok.ID}); r.status != 200 {
			t.Fatalf("revoke = %d %s", r.status, r.body)
		}
		if r := w.do(t, "GET", "/users/me", tok.Token, nil); r.status != 401 {
			t.Errorf("GET /users/me with a revoked token = %d, want 401", r.status)
		}
	})
}

func TestLogin(t *testing.T) {
	w := newWorld(t, nil)
	tests := []struct {
		name, login, password string
		wantStatus            int
		wantID                string
	}{
		{"by username", "alice", "alice-pw", 200, ""},
		{"by email, any case", "ALICE@example.com", "alice-pw", 200, ""},
		{"wrong password", "alice", "nope", 401, "api.user.login.invalid_credentials_email_username"},
		{"unknown user", "nobody", "x", 401, "api.user.login.invalid_credentials_email_username"},
		{"bot", "ops-bot", "", 401, "api.user.login.bot_login_forbidden.app_error"},
	}
	t.Run("locked after 10 failures", func(t *testing.T) {
		if _, err := w.srv.AddUser(User{Username: "carol", Password: "carol-pw"}); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			w.do(t, "POST", "/users/login", "", map[string]string{"login_id": "carol", "password": "nope"})
		}
		r := w.do(t, "POST", "/users/login", "", map[string]string{"login_id": "carol", "password": "carol-pw"})
		if r.status != 401 || errID(t, r) != "api.user.check_user_login_attempts.too_many.app_error" {
			t.Errorf("login after 10 failures = %d %s, want 401 too_many", r.status, r.body)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/users/login", "", map[string]string{"login_id": tc.login, "password": tc.password})
			if r.status != tc.wantStatus || errID(t, r) != tc.wantID {
				t.Fatalf("login(%q) = %d %s, want %d %q", tc.login, r.status, r.body, tc.wantStatus, tc.wantID)
			}
			if tc.wantStatus != 200 {
				return
			}
			tok := r.header.Get("Token")
			if me := w.do(t, "GET", "/users/me", tok, nil); me.status != 200 {
				t.Errorf("GET /users/me with the Token header's token = %d", me.status)
			}
		})
	}
}

func TestCreatePostRules(t *testing.T) {
	w := newWorld(t, nil)
	s := w.srv
	outsider, _ := s.AddUser(User{Username: "outsider"})
	outsiderTok, _ := s.Login(outsider.ID)
	quiet, _ := s.AddChannel(w.team.ID, "quiet", "Quiet", mattermost.ChannelOpen)
	secret, _ := s.AddChannel(w.team.ID, "secret", "Secret", mattermost.ChannelPrivate)
	archived, _ := s.AddChannel(w.team.ID, "old", "Old", mattermost.ChannelOpen)
	_ = s.AddChannelMember(archived.ID, w.alice.ID)
	if r := w.do(t, "DELETE", "/channels/"+archived.ID, w.rootTok, nil); r.status != 200 {
		t.Fatalf("archive = %d %s", r.status, r.body)
	}
	root, _ := s.CreatePost(w.bob.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "root"})
	reply, _ := s.CreatePost(w.bob.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "reply", RootID: root.ID})
	other, _ := s.CreatePost(w.bob.ID, mattermost.Post{ChannelID: quiet.ID, Message: "elsewhere"})
	tests := []struct {
		name       string
		token      string
		post       map[string]any
		wantStatus int
		wantID     string
	}{
		{"member", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "hi"}, 201, ""},
		// team_user lacks create_post_public (model/role.go).
		{"team member into public channel not joined", w.aliceTok, map[string]any{"channel_id": quiet.ID, "message": "hi"}, 403, "api.context.permissions.app_error"},
		{"team member into private channel", w.aliceTok, map[string]any{"channel_id": secret.ID, "message": "hi"}, 403, "api.context.permissions.app_error"},
		{"not on the team", outsiderTok, map[string]any{"channel_id": w.ops.ID, "message": "hi"}, 403, "api.context.permissions.app_error"},
		{"unknown channel", w.aliceTok, map[string]any{"channel_id": mattermost.NewID(), "message": "hi"}, 403, "api.context.permissions.app_error"},
		{"archived channel", w.aliceTok, map[string]any{"channel_id": archived.ID, "message": "hi"}, 400, "api.post.create_post.can_not_post_to_deleted.error"},
		{"max runes", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": strings.Repeat("é", 16383)}, 201, ""},
		{"too many runes", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": strings.Repeat("é", 16384)}, 400, "model.post.is_valid.msg.app_error"},
		{"reply", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "r", "root_id": root.ID}, 201, ""},
		{"reply to a reply", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "r", "root_id": reply.ID}, 400, "api.post.create_post.root_id.app_error"},
		{"root in another channel", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "r", "root_id": other.ID}, 400, "api.post.create_post.root_id.app_error"},
		{"system type", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "x", "type": "system_join_channel"}, 400, "api.context.invalid_param.app_error"},
		// The file is dropped, the post made (TestPostDropsUnattachableFiles).
		{"unknown file", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "x", "file_ids": []string{mattermost.NewID()}}, 201, ""},
		{"body too large", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "x", "props": map[string]any{"k": strings.Repeat("a", 300001)}}, 413, "api.context.request_body_too_large.app_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/posts", tc.token, tc.post)
			if r.status != tc.wantStatus || errID(t, r) != tc.wantID {
				t.Errorf("POST /posts = %d %.200s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantID)
			}
		})
	}
}

func TestBotPostIsMarked(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do(t, "POST", "/posts", w.botTok, map[string]any{"channel_id": w.ops.ID, "message": "beep"})
	var p mattermost.Post
	r.json(t, &p)
	if p.Props["from_bot"] != "true" {
		t.Errorf("bot post props = %v, want from_bot \"true\"", p.Props)
	}
}

func TestPendingPostRetryAfterDroppedAnswer(t *testing.T) {
	w := newWorld(t, nil)
	c, err := mattermost.NewClient(w.srv.URL(), mattermost.Secret(w.aliceTok), &mattermost.ClientOptions{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.srv.DropNextResponses(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: w.ops.ID, Message: "exactly once", PendingPostID: w.alice.ID + ":1"})
	if err != nil {
		t.Fatalf("CreatePost after a dropped answer: %v", err)
	}
	posts := w.srv.Posts(w.ops.ID)
	if len(posts) != 1 || posts[0].ID != p.ID {
		t.Errorf("posts = %d (first %v), want exactly the one post %s", len(posts), posts, p.ID)
	}
	n := 0
	for _, e := range w.takeEvents() {
		if e.name == "posted" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d posted events, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	w := newWorld(t, nil)
	w.srv.FailNext(2, http.StatusServiceUnavailable)
	for i := range 2 {
		r := w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "x"})
		if r.status != 503 || errID(t, r) != "mmtest.fault.app_error" {
			t.Errorf("request %d = %d %s, want 503 mmtest.fault.app_error", i, r.status, r.body)
		}
	}
	if n := len(w.srv.Posts(w.ops.ID)); n != 0 {
		t.Errorf("failed requests made %d posts, want 0", n)
	}
	if r := w.do(t, "GET", "/users/me", w.aliceTok, nil); r.status != 200 {
		t.Errorf("third request = %d, want 200", r.status)
	}
	w.srv.FailNext(1, http.StatusTooManyRequests)
	r := w.do(t, "GET", "/users/me", w.aliceTok, nil)
	if r.status != 429 || string(r.body) != "limit exceeded\n" || r.header.Get("Retry-After") != "1" {
		t.Errorf("429 fault = %d %q Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
	}
}

func TestRateLimiter(t *testing.T) {
	// GCRA of throttled with PerSec 2, MaxBurst 3: four requests pass, the
	// fifth is refused with the headers recorded from a real server.
	now := time.Unix(1000, 0)
	s := New(&Options{RateLimit: &RateLimit{PerSec: 2, MaxBurst: 3}, Now: func() time.Time { return now }})
	defer s.Close()
	type want struct {
		status                      int
		remaining, reset, retryAfer string
	}
	steps := []struct {
		advance time.Duration
		want    want
	}{
		{0, want{200, "3", "1", ""}},
		{0, want{200, "2", "1", ""}},
		{0, want{200, "1", "2", ""}},
		{0, want{200, "0", "2", ""}},
		{0, want{429, "0", "2", "1"}},
		{500 * time.Millisecond, want{200, "0", "2", ""}},
		{2 * time.Second, want{200, "3", "1", ""}},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		rec := httptestRecorder(s, "GET", "/api/v4/system/ping")
		got := want{rec.Code, rec.Header().Get("X-Ratelimit-Remaining"), rec.Header().Get("X-Ratelimit-Reset"), rec.Header().Get("Retry-After")}
		if got != st.want || rec.Header().Get("X-Ratelimit-Limit") != "4" {
			t.Errorf("request %d = %+v limit %s, want %+v limit 4", i, got, rec.Header().Get("X-Ratelimit-Limit"), st.want)
		}
	}
}

func TestUnknownRoute(t *testing.T) {
	w := newWorld(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/no/such/route"},
		{"DELETE", "/users/me"}, // known path, other method: the catch-all answers
		{"GET", "/users/bad!id"},
	} {
		r := w.do(t, tc.method, tc.path, w.aliceTok, nil)
		if r.status != 404 || errID(t, r) != "api.context.404.app_error" {
			t.Errorf("%s %s = %d %s, want 404 api.context.404.app_error", tc.method, tc.path, r.status, r.body)
		}
	}
	if r := w.do(t, "GET", "/users/abc", w.aliceTok, nil); r.status != 400 || errID(t, r) != "api.context.invalid_url_param.app_error" {
		t.Errorf("GET /users/abc = %d %s, want 400 invalid_url_param", r.status, r.body)
	}
}

func TestChannelVisibility(t *testing.T) {
	w := newWorld(t, nil)
	secret, _ := w.srv.AddChannel(w.team.ID, "secret", "Secret", mattermost.ChannelPrivate)
	_ = w.srv.AddChannelMember(secret.ID, w.bob.ID)
	outsider, _ := w.srv.AddUser(User{Username: "outsider"})
	outsiderTok, _ := w.srv.Login(outsider.ID)
	tests := []struct {
		name, path, token string
		wantStatus        int
		wantID            string
	}{
		{"private by name, not a member", "/teams/" + w.team.ID + "/channels/name/secret", w.aliceTok, 404, "app.channel.get_by_name.missing.app_error"},
		{"private by team name, not a member", "/teams/name/testteam/channels/name/secret", w.aliceTok, 404, "app.channel.get_by_name.missing.app_error"},
		{"private by name, member", "/teams/name/testteam/channels/name/secret", w.bobTok, 200, ""},
		{"private by id, not a member", "/channels/" + secret.ID, w.aliceTok, 403, "api.context.permissions.app_error"},
		{"unknown id", "/channels/" + mattermost.NewID(), w.aliceTok, 404, "app.channel.get.existing.app_error"},
		{"unknown team", "/teams/name/nope/channels/name/ops", w.aliceTok, 404, "app.team.get_by_name.missing.app_error"},
		{"public, not on the team", "/teams/name/testteam/channels/name/ops", outsiderTok, 403, "api.context.permissions.app_error"},
		{"member not found", "/channels/" + w.ops.ID + "/members/" + mattermost.NewID(), w.aliceTok, 404, "app.channel.get_member.missing.app_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "GET", tc.path, tc.token, nil)
			if r.status != tc.wantStatus || errID(t, r) != tc.wantID {
				t.Errorf("GET %s = %d %s, want %d %q", tc.path, r.status, r.body, tc.wantStatus, tc.wantID)
			}
		})
	}
}

func TestDirectAndGroupChannels(t *testing.T) {
	w := newWorld(t, nil)
	r1 := w.do(t, "POST", "/channels/direct", w.aliceTok, []string{w.alice.ID, w.bob.ID})
	r2 := w.do(t, "POST", "/channels/direct", w.bobTok, []string{w.alice.ID, w.bob.ID})
	var c1, c2 mattermost.Channel
	r1.json(t, &c1)
	r2.json(t, &c2)
	if r1.status != 201 || r2.status != 201 || c1.ID != c2.ID {
		t.Fatalf("DM twice = %d %s / %d %s, want 201 and the same channel", r1.status, c1.ID, r2.status, c2.ID)
	}
	if want := dmName(w.alice.ID, w.bob.ID); c1.Name != want || c1.Type != "D" || c1.TeamID != "" {
		t.Errorf("DM = %q %q team %q, want %q D and no team", c1.Name, c1.Type, c1.TeamID, want)
	}
	if r := w.do(t, "POST", "/channels/direct", w.rootTok, []string{w.alice.ID}); r.status != 400 {
		t.Errorf("DM with one id = %d, want 400", r.status)
	}
	if r := w.do(t, "POST", "/channels/direct", w.aliceTok, []string{w.bob.ID, w.root.ID}); r.status != 403 {
		t.Errorf("DM of two others by a plain user = %d, want 403", r.status)
	}
	r := w.do(t, "POST", "/channels/group", w.aliceTok, []string{w.bob.ID, w.root.ID})
	var g mattermost.Channel
	r.json(t, &g)
	if r.status != 201 || g.Type != "G" || g.DisplayName != "alice, bob, root" || g.Name != gmName([]string{w.alice.ID, w.bob.ID, w.root.ID}) {
		t.Errorf("GM = %d %+v", r.status, g)
	}
	if r := w.do(t, "POST", "/channels/group", w.aliceTok, []string{w.bob.ID}); r.status != 400 || errID(t, r) != "api.channel.create_group.bad_size.app_error" {
		t.Errorf("GM of two = %d %s, want 400 bad_size", r.status, r.body)
	}
}

func TestChannelPostsPaging(t *testing.T) {
	w := newWorld(t, nil)
	var ids []string // oldest first
	for i := range 5 {
		p, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	mid, _ := w.srv.Post(ids[2])
	q := "/channels/" + w.ops.ID + "/posts"
	tests := []struct {
		name, query string
		want        []string // order, newest first
	}{
		{"first page", "?per_page=2", []string{ids[4], ids[3]}},
		{"second page", "?page=1&per_page=2", []string{ids[2], ids[1]}},
		{"before", "?before=" + ids[3] + "&per_page=2", []string{ids[2], ids[1]}},
		{"after", "?after=" + ids[1] + "&per_page=2", []string{ids[3], ids[2]}},
		{"since wins over after", fmt.Sprintf("?since=%d&after=%s", mid.UpdateAt, ids[0]), []string{ids[4], ids[3]}},
		{"after wins over before", "?after=" + ids[3] + "&before=" + ids[1], []string{ids[4]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "GET", q+tc.query, w.aliceTok, nil)
			var l mattermost.PostList
			r.json(t, &l)
			if fmt.Sprint(l.Order) != fmt.Sprint(tc.want) {
				t.Errorf("GET %s order = %v, want %v", tc.query, l.Order, tc.want)
			}
		})
	}
	// since includes edited and deleted posts.
	if r := w.do(t, "DELETE", "/posts/"+ids[0], w.aliceTok, nil); r.status != 200 {
		t.Fatalf("delete = %d", r.status)
	}
	r := w.do(t, "GET", fmt.Sprintf("%s?since=%d", q, mid.UpdateAt), w.aliceTok, nil)
	var l mattermost.PostList
	r.json(t, &l)
	if p := l.Posts[ids[0]]; p == nil || p.DeleteAt == 0 {
		t.Errorf("since after a delete: deleted post %v, want it with delete_at set", p)
	}
	if r := w.do(t, "GET", "/posts/"+ids[0], w.aliceTok, nil); r.status != 404 {
		t.Errorf("GET deleted post = %d, want 404", r.status)
	}
	if r := w.do(t, "DELETE", "/posts/"+ids[0], w.aliceTok, nil); r.status != 403 {
		t.Errorf("DELETE a deleted post = %d, want 403 (the server's permission error)", r.status)
	}
	if r := w.do(t, "DELETE", "/posts/"+ids[1], w.bobTok, nil); r.status != 403 {
		t.Errorf("DELETE someone else's post = %d, want 403", r.status)
	}
	if r := w.do(t, "PUT", "/posts/"+ids[1]+"/patch", w.bobTok, map[string]string{"message": "x"}); r.status != 403 {
		t.Errorf("patch someone else's post = %d, want 403", r.status)
	}
}

func TestWaitForPost(t *testing.T) {
	w := newWorld(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan *mattermost.Post, 1)
	go func() {
		p, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mattermost.Post) bool { return p.Message == "two" })
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	for _, m := range []string{"one", "two"} {
		if r := w.do(t, "POST", "/posts", w.bobTok, map[string]any{"channel_id": w.ops.ID, "message": m}); r.status != 201 {
			t.Fatalf("post = %d", r.status)
		}
	}
	if p := <-done; p == nil || p.Message != "two" || p.UserID != w.bob.ID {
		t.Errorf("WaitForPost = %+v, want bob's \"two\"", p)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := w.srv.WaitForPost(short, w.ops.ID, func(p *mattermost.Post) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitForPost on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestHookPost(t *testing.T) {
	w := newWorld(t, nil)
	h, err := w.srv.AddHook(w.ops.ID, w.root.ID, "alerts")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ct, body string
		wantStatus     int
		wantID         string
	}{
		{"json", "application/json", `{"text":"disk full"}`, 200, ""},
		{"form payload", "application/x-www-form-urlencoded", "payload=%7B%22text%22%3A%22form%22%7D", 200, ""},
		{"no text", "application/json", `{}`, 400, "web.incoming_webhook.text.app_error"},
		{"garbage", "application/json", `{`, 400, "web.incoming_webhook.parse.app_error"},
		{"to a user", "application/json", `{"text":"psst","channel":"@alice"}`, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(w.srv.URL()+"/hooks/"+h.ID, tc.ct, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			resp.Body.Close()
			var e mattermost.APIError
			_ = jsonUnmarshal(b, &e)
			if resp.StatusCode != tc.wantStatus || e.ID != tc.wantID {
				t.Errorf("POST /hooks = %d %s, want %d %q", resp.StatusCode, b, tc.wantStatus, tc.wantID)
			}
			if tc.wantStatus == 200 && (string(b) != "ok" || resp.Header.Get("Content-Type") != "text/plain") {
				t.Errorf("POST /hooks answer = %q %q, want text/plain ok", resp.Header.Get("Content-Type"), b)
			}
		})
	}
	posts := w.srv.Posts(w.ops.ID)
	if len(posts) != 2 || posts[0].Props["from_webhook"] != "true" || posts[0].Props["override_username"] != "webhook" {
		t.Errorf("hook posts = %+v", posts)
	}
}

func TestReactionsAndFiles(t *testing.T) {
	w := newWorld(t, nil)
	c, _ := w.srv.Client(w.aliceTok)
	ctx := t.Context()
	fi, _, err := c.UploadFile(ctx, w.ops.ID, "notes.txt", strings.NewReader("some notes"))
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	p, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: w.ops.ID, Message: "file", FileIDs: []string{fi.ID}})
	if err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	if p.Metadata == nil || len(p.Metadata.Files) != 1 || p.Metadata.Files[0].PostID != p.ID {
		t.Errorf("post metadata = %+v, want the file attached", p.Metadata)
	}
	rc, _, err := c.DownloadFile(ctx, fi.ID)
	if err != nil {
		t.Fatalf("DownloadFile: %v", err)
	}
	b := readAllRC(t, rc)
	if string(b) != "some notes" {
		t.Errorf("download = %q", b)
	}
	if _, _, err := c.AddReaction(ctx, p.ID, "tada"); err != nil {
		t.Fatalf("AddReaction: %v", err)
	}
	if rs := w.srv.Reactions(p.ID); len(rs) != 1 || rs[0].EmojiName != "tada" {
		t.Errorf("reactions = %+v", rs)
	}
	got, _ := w.srv.Post(p.ID)
	if !got.HasReactions || got.UpdateAt <= p.UpdateAt {
		t.Errorf("after a reaction has_reactions=%v update_at %d (was %d), want true and bumped", got.HasReactions, got.UpdateAt, p.UpdateAt)
	}
	if _, err := c.RemoveReaction(ctx, p.ID, "tada"); err != nil {
		t.Fatalf("RemoveReaction: %v", err)
	}
	if rs := w.srv.Reactions(p.ID); len(rs) != 0 {
		t.Errorf("reactions after removal = %+v", rs)
	}
	r := w.do(t, "POST", "/reactions", w.aliceTok, map[string]string{"user_id": w.bob.ID, "post_id": p.ID, "emoji_name": "x"})
	if r.status != 403 || errID(t, r) != "api.reaction.save_reaction.user_id.app_error" {
		t.Errorf("reaction for someone else = %d %s", r.status, r.body)
	}
}

func TestPendingPostIDExpires(t *testing.T) {
	now := time.Unix(5000, 0)
	s := New(&Options{Now: func() time.Time { return now }})
	defer s.Close()
	team, _ := s.AddTeam("t1", "T")
	u, _ := s.AddUser(User{Username: "carol"})
	_ = s.AddTeamMember(team.ID, u.ID)
	ch, _ := s.Channel(team.ID, "town-square")
	post := func() string {
		p, err := s.CreatePost(u.ID, mattermost.Post{ChannelID: ch.ID, Message: "m", PendingPostID: u.ID + ":1"})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	first := post()
	now = now.Add(29 * time.Second)
	if again := post(); again != first {
		t.Errorf("same pending_post_id after 29s made post %s, want the first %s", again, first)
	}
	now = now.Add(2 * time.Second)
	if later := post(); later == first {
		t.Errorf("same pending_post_id after 31s returned the first post, want a new one")
	}
}

// TestPendingPostIDNotStored: the answer to POST /posts carries the
// pending_post_id, later reads do not: it is no column of the Posts table
// (recorded channel_posts_since.json answers "" for a post made with one).
func TestPendingPostIDNotStored(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "m", "pending_post_id": w.alice.ID + ":7"})
	var made mattermost.Post
	r.json(t, &made)
	if made.PendingPostID != w.alice.ID+":7" {
		t.Errorf("created post pending_post_id = %q, want %q", made.PendingPostID, w.alice.ID+":7")
	}
	for _, path := range []string{"/posts/" + made.ID, "/channels/" + w.ops.ID + "/posts?since=1"} {
		r := w.do(t, "GET", path, w.aliceTok, nil)
		if body := string(r.body); strings.Contains(body, ":7") || !strings.Contains(body, `"pending_post_id":""`) {
			t.Errorf("GET %s = %s, want pending_post_id \"\"", path, r.body)
		}
	}
}

// TestPendingPostIDSharedCache: the server's cache of pending_post_ids is
// keyed by the id alone (app/post.go deduplicateCreatePost): another user
// sending the same id gets the post made, when it may read it, and a new
// post of its own when it may not (GetPostIfAuthorized answers 403).
func TestPendingPostIDSharedCache(t *testing.T) {
	w := newWorld(t, nil)
	secret, err := w.srv.AddChannel(w.team.ID, "secret", "secret", mattermost.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{w.alice.ID} {
		if err := w.srv.AddChannelMember(secret.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	create := func(userID, channelID, pending string) string {
		t.Helper()
		p, err := w.srv.CreatePost(userID, mattermost.Post{ChannelID: channelID, Message: "m", PendingPostID: pending})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	first := create(w.alice.ID, w.ops.ID, "shared:1")
	if got := create(w.bob.ID, w.ops.ID, "shared:1"); got != first {
		t.Errorf("bob's post with alice's pending_post_id in a channel he reads = %s, want alice's %s", got, first)
	}
	hidden := create(w.alice.ID, secret.ID, "shared:2")
	if got := create(w.bob.ID, w.ops.ID, "shared:2"); got == hidden {
		t.Errorf("bob's post with the pending_post_id of a post he may not read returned it (%s), want a new post", got)
	}
}

func TestDeactivateUser(t *testing.T) {
	w := newWorld(t, nil)
	if err := w.srv.DeactivateUser(w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "GET", "/users/me", w.bobTok, nil); r.status != 401 {
		t.Errorf("GET /users/me as a deactivated user = %d, want 401", r.status)
	}
	r := w.do(t, "POST", "/users/login", "", map[string]string{"login_id": "bob", "password": "bob-pw"})
	if r.status != 401 || errID(t, r) != "api.user.login.inactive.app_error" {
		t.Errorf("login as a deactivated user = %d %s", r.status, r.body)
	}
}

func TestAddChannelMember(t *testing.T) {
	w := newWorld(t, nil)
	s := w.srv
	outsider, _ := s.AddUser(User{Username: "outsider"})
	pub, _ := s.AddChannel(w.team.ID, "pub", "Pub", mattermost.ChannelOpen)
	priv, _ := s.AddChannel(w.team.ID, "priv", "Priv", mattermost.ChannelPrivate)
	_ = s.AddChannelMember(priv.ID, w.bob.ID)
	dm, _ := s.DirectChannel(w.alice.ID, w.bob.ID)
	tests := []struct {
		name, channel, token, user string
		wantStatus                 int
		wantID                     string
	}{
		{"join a public channel", pub.ID, w.aliceTok, w.alice.ID, 201, ""},
		{"join again", pub.ID, w.aliceTok, w.alice.ID, 201, ""},
		{"member adds another", pub.ID, w.aliceTok, w.bob.ID, 201, ""},
		{"join a private channel", priv.ID, w.aliceTok, w.alice.ID, 403, "api.context.permissions.app_error"},
		{"private member adds another", priv.ID, w.bobTok, w.alice.ID, 201, ""},
		{"user not on the team", pub.ID, w.aliceTok, outsider.ID, 404, "app.team.get_member.missing.app_error"},
		{"DM", dm.ID, w.aliceTok, w.root.ID, 400, "api.channel.add_user_to_channel.type.app_error"},
		{"unknown channel", mattermost.NewID(), w.aliceTok, w.alice.ID, 404, "app.channel.get.existing.app_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(t, "POST", "/channels/"+tc.channel+"/members", tc.token, map[string]string{"user_id": tc.user})
			if r.status != tc.wantStatus || errID(t, r) != tc.wantID {
				t.Errorf("add member = %d %s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantID)
			}
		})
	}
	joins := 0
	for _, p := range s.Posts(pub.ID) {
		if p.Type == "system_join_channel" {
			joins++
		}
	}
	if joins != 1 {
		t.Errorf("%d join system posts, want 1 (joining again posts nothing)", joins)
	}
	if r := w.do(t, "DELETE", "/channels/"+pub.ID+"/members/"+w.bob.ID, w.aliceTok, nil); r.status != 200 {
		t.Errorf("member removes another = %d %s", r.status, r.body)
	}
	ts, _ := s.Channel(w.team.ID, "town-square")
	if r := w.do(t, "DELETE", "/channels/"+ts.ID+"/members/"+w.alice.ID, w.aliceTok, nil); r.status != 400 || errID(t, r) != "api.channel.remove.default.app_error" {
		t.Errorf("leave town-square = %d %s, want 400 remove.default", r.status, r.body)
	}
}

func TestIncludeDeletedPosts(t *testing.T) {
	w := newWorld(t, nil)
	p, _ := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "gone"})
	if r := w.do(t, "DELETE", "/posts/"+p.ID, w.aliceTok, nil); r.status != 200 {
		t.Fatalf("delete = %d", r.status)
	}
	q := "/channels/" + w.ops.ID + "/posts?include_deleted=true"
	if r := w.do(t, "GET", q, w.aliceTok, nil); r.status != 403 {
		t.Errorf("include_deleted as a plain user = %d, want 403", r.status)
	}
	r := w.do(t, "GET", q, w.rootTok, nil)
	var l mattermost.PostList
	r.json(t, &l)
	if len(l.Order) != 1 || l.Order[0] != p.ID {
		t.Errorf("include_deleted as an admin: order %v, want the deleted post", l.Order)
	}
}

func TestListUsersAndChannels(t *testing.T) {
	w := newWorld(t, nil)
	quiet, _ := w.srv.AddChannel(w.team.ID, "quiet", "Quiet", mattermost.ChannelOpen)
	_ = w.srv.AddChannelMember(quiet.ID, w.bob.ID)
	names := func(r result) string {
		var us []mattermost.User
		r.json(t, &us)
		var n []string
		for _, u := range us {
			n = append(n, u.Username)
		}
		return strings.Join(n, ",")
	}
	tests := []struct{ query, want string }{
		{"in_channel=" + quiet.ID, "bob"},
		{"in_team=" + w.team.ID + "&not_in_channel=" + quiet.ID, "alice,ops-bot,root"},
		{"in_team=" + w.team.ID + "&per_page=2&page=1", "ops-bot,root"},
	}
	for _, tc := range tests {
		if got := names(w.do(t, "GET", "/users?"+tc.query, w.aliceTok, nil)); got != tc.want {
			t.Errorf("GET /users?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
	r := w.do(t, "GET", "/teams/"+w.team.ID+"/channels", w.aliceTok, nil)
	var chs []mattermost.Channel
	r.json(t, &chs)
	var got []string
	for _, c := range chs {
		got = append(got, c.Name)
	}
	if want := "off-topic,ops,quiet,town-square"; strings.Join(got, ",") != want {
		t.Errorf("GET /teams/{id}/channels = %v, want %s", got, want)
	}
}

func TestConcurrentPosting(t *testing.T) {
	w := newWorld(t, nil)
	const writers, each = 6, 25
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() {
		_, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mattermost.Post) bool { return p.Message == "last" })
		waited <- err
	}()
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			tok := []string{w.aliceTok, w.bobTok, w.botTok}[i%3]
			c, err := w.srv.Client(tok)
			if err != nil {
				errs <- err
				return
			}
			for j := range each {
				if _, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: w.ops.ID, Message: fmt.Sprint(i, "-", j)}); err != nil {
					errs <- err
					return
				}
				if _, _, err := c.ChannelPosts(ctx, w.ops.ID, 0, 10); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "last"}); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if n := len(w.srv.Posts(w.ops.ID)); n != writers*each+1 {
		t.Errorf("%d posts, want %d", n, writers*each+1)
	}
}

func TestHashtags(t *testing.T) {
	tests := []struct{ in, want string }{
		{"deploy #prod now", "#prod"},
		{"(#release-1.2), ##hot! #a #1x #ok.", "#release-1.2 #hot #ok"},
		{"no tags here", ""},
		{"#über #日本", "#über #日本"},
	}
	for _, tc := range tests {
		if got := hashtags(tc.in); got != tc.want {
			t.Errorf("hashtags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestChannelNames(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"ops", true}, {"a", false}, {"ab", true}, {"dev_ops-1", true}, {"-ops", false},
		{"ops_", false}, {"Ops", false}, {strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false},
	}
	for _, tc := range tests {
		if got := isValidChannelName(tc.name); got != tc.want {
			t.Errorf("isValidChannelName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEditHistoryAndPins(t *testing.T) {
	w := newWorld(t, nil)
	p, _ := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "v1"})
	if r := w.do(t, "PUT", "/posts/"+p.ID+"/patch", w.aliceTok, map[string]string{"message": "v2"}); r.status != 200 {
		t.Fatalf("patch = %d", r.status)
	}
	r := w.do(t, "GET", fmt.Sprintf("/channels/%s/posts?since=%d", w.ops.ID, p.CreateAt-1), w.aliceTok, nil)
	var l mattermost.PostList
	r.json(t, &l)
	var copies int
	for _, q := range l.Posts {
		if q.OriginalID == p.ID && q.DeleteAt != 0 {
			copies++
		}
	}
	if copies != 1 || l.Posts[p.ID] == nil || l.Posts[p.ID].Message != "v2" {
		t.Errorf("since after an edit: %d deleted copies, post %+v; want 1 copy and the post at v2", copies, l.Posts[p.ID])
	}
	if n := len(w.srv.Posts(w.ops.ID)); n != 1 {
		t.Errorf("Posts after an edit = %d, want 1 (the copy is deleted)", n)
	}
	if r := w.do(t, "POST", "/posts/"+p.ID+"/pin", w.bobTok, nil); r.status != 200 {
		t.Fatalf("pin = %d %s", r.status, r.body)
	}
	if got, _ := w.srv.Post(p.ID); !got.IsPinned {
		t.Errorf("after pin, is_pinned = false")
	}
}

func TestCreateAndDeactivateUserAPI(t *testing.T) {
	w := newWorld(t, nil)
	body := map[string]string{"username": "dave", "email": "dave@example.com", "password": "dave-pw"}
	if r := w.do(t, "POST", "/users", w.aliceTok, body); r.status != 403 {
		t.Errorf("plain user creates a user = %d, want 403", r.status)
	}
	r := w.do(t, "POST", "/users", w.rootTok, body)
	var u mattermost.User
	r.json(t, &u)
	if r.status != 201 || u.Username != "dave" {
		t.Fatalf("admin creates dave = %d %s", r.status, r.body)
	}
	if r := w.do(t, "POST", "/users", w.rootTok, map[string]string{"username": "dave", "email": "d2@example.com"}); r.status != 400 || errID(t, r) != "app.user.save.username_exists.app_error" {
		t.Errorf("duplicate username = %d %s", r.status, r.body)
	}
	if r := w.do(t, "POST", "/users", w.rootTok, map[string]string{"username": "matterbot"}); r.status != 400 || errID(t, r) != "model.user.is_valid.username.app_error" {
		t.Errorf("reserved username = %d %s", r.status, r.body)
	}
	login := w.do(t, "POST", "/users/login", "", map[string]string{"login_id": "dave", "password": "dave-pw"})
	tok := login.header.Get("Token")
	if login.status != 200 || tok == "" {
		t.Fatalf("dave logs in = %d, Token %q, want 200 and a token", login.status, tok)
	}
	if r := w.do(t, "PUT", "/users/"+u.ID+"/active", w.rootTok, map[string]bool{"active": false}); r.status != 200 {
		t.Fatalf("deactivate = %d %s", r.status, r.body)
	}
	if r := w.do(t, "GET", "/users/me", tok, nil); r.status != 401 {
		t.Errorf("deactivated user's session = %d, want 401", r.status)
	}
}
