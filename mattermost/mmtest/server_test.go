package mmtest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// world is a seeded server: team "testteam" with public channel "ops",
// users alice and bob, admin root, a bot with a token.
type world struct {
	srv                   *Server
	team                  *mattermost.Team
	ops                   *mattermost.Channel
	alice, bob, root, bot *mattermost.User
	aliceTok, bobTok      string
	rootTok, botTok       string

	mu     sync.Mutex
	events []event
}

func newWorld(t testing.TB, opts *Options) *world {
	t.Helper()
	w := &world{}
	srv := New(opts)
	srv.onPublish = func(e event) {
		w.mu.Lock()
		w.events = append(w.events, e)
		w.mu.Unlock()
	}
	s, err := startServer(srv, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	w.srv = s
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.team, err = s.AddTeam("testteam", "Test Team")
	must(err)
	w.alice, err = s.AddUser(User{Username: "alice", Password: "alice-pw"})
	must(err)
	w.bob, err = s.AddUser(User{Username: "bob", Password: "bob-pw"})
	must(err)
	w.root, err = s.AddUser(User{Username: "root", Password: "root-pw", Admin: true})
	must(err)
	w.bot, err = s.AddBot("ops-bot", "Ops Bot", w.root.ID)
	must(err)
	for _, u := range []*mattermost.User{w.alice, w.bob, w.root, w.bot} {
		must(s.AddTeamMember(w.team.ID, u.ID))
	}
	w.ops, err = s.AddChannel(w.team.ID, "ops", "ops", mattermost.ChannelOpen)
	must(err)
	for _, u := range []*mattermost.User{w.alice, w.bob, w.root, w.bot} {
		must(s.AddChannelMember(w.ops.ID, u.ID))
	}
	w.aliceTok, err = s.Login(w.alice.ID)
	must(err)
	w.bobTok, err = s.Login(w.bob.ID)
	must(err)
	w.rootTok, err = s.Login(w.root.ID)
	must(err)
	w.botTok, err = s.CreateToken(w.bot.ID, "test")
	must(err)
	w.takeEvents()
	return w
}

// takeEvents returns and forgets the events published so far.
func (w *world) takeEvents() []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	evs := w.events
	w.events = nil
	return evs
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request to the API (path under /api/v4 unless it starts with
// /hooks) with token as Bearer (none if "").
func (w *world) do(t testing.TB, method, path, token string, body any) result {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = strings.NewReader(string(b))
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(js))
	}
	url := w.srv.URL() + "/api/v4" + path
	if strings.HasPrefix(path, "/hooks/") && !strings.HasPrefix(path, "/hooks/incoming") {
		url = w.srv.URL() + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestSmoke(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do(t, "GET", "/users/me", w.aliceTok, nil)
	if r.status != 200 {
		t.Fatalf("GET /users/me = %d %s", r.status, r.body)
	}
	var me mattermost.User
	r.json(t, &me)
	if me.Username != "alice" {
		t.Errorf("me = %q, want alice", me.Username)
	}
	r = w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "hi @bob"})
	if r.status != 201 {
		t.Fatalf("POST /posts = %d %s", r.status, r.body)
	}
	posts := w.srv.Posts(w.ops.ID)
	if len(posts) != 1 || posts[0].Message != "hi @bob" {
		t.Errorf("Posts = %v", posts)
	}
}

func TestRequestLogRedactsHookIDs(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newWorld(t, &Options{Logger: logger})
	h, _ := w.srv.AddHook(w.ops.ID, w.root.ID, "x")
	w.do(t, "POST", "/hooks/"+h.ID, "", map[string]string{"text": "hi"})
	w.do(t, "GET", "/users/me", w.aliceTok, nil)
	mu.Lock()
	logged := buf.String()
	mu.Unlock()
	if strings.Contains(logged, h.ID) || strings.Contains(logged, w.aliceTok) {
		t.Errorf("request log shows a hook id or token:\n%s", logged)
	}
	if !strings.Contains(logged, "path=/hooks/[REDACTED]") || !strings.Contains(logged, "path=/api/v4/users/me") {
		t.Errorf("request log lacks the requests:\n%s", logged)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStatusOKBody: a locked handler answering statusOK{} writes the
// same bytes as ok, api4 ReturnStatusOK's body.
func TestStatusOKBody(t *testing.T) {
	var b strings.Builder
	if err := writeJSONBody(&b, statusOK{}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), `{"status":"OK"}`; got != want {
		t.Errorf("writeJSONBody(statusOK{}) = %q, want %q", got, want)
	}
}

// Options.WebApp serves what is neither the API nor a webhook, as a real
// server serves its web app; without it those paths are 404.
func TestWebApp(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "app "+r.URL.Path) })
	for _, tc := range []struct {
		name     string
		app      http.Handler
		path     string
		status   int
		contains string
	}{
		{"page", app, "/playground", 200, "app /playground"},
		{"root", app, "/", 200, "app /"},
		{"api", app, "/api/v4/system/ping", 200, `"status":"OK"`},
		{"unknown api route", app, "/api/v4/nothing", 404, "api.context.404.app_error"},
		{"no app", nil, "/playground", 404, "404 page not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(&Options{WebApp: tc.app})
			defer s.Close()
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("GET %s = %d %q, want %d with %q", tc.path, rec.Code, rec.Body.String(), tc.status, tc.contains)
			}
		})
	}
}
