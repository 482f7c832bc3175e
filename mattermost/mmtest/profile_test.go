package mmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
)

// profiles are the server versions the fake plays, with the release
// each claims.
var profiles = []struct{ name, release string }{
	{VersionCurrent, CurrentVersion},
	{Version536, "5.36.1"},
}

// TestServerVersionClaimed: X-Version-Id, the WebSocket hello and the
// WebSocket ping reply name the release the profile claims; the default
// is the current profile.
func TestServerVersionClaimed(t *testing.T) {
	for _, p := range append(profiles, struct{ name, release string }{"", CurrentVersion}) {
		t.Run("profile "+p.name, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: p.name})
			wantID := p.release + "..482d74aa791d53ed59a63fb53a266ea0.false"
			r := w.do(t, "GET", "/users/me", w.aliceTok, nil)
			if got := r.header.Get("X-Version-Id"); got != wantID {
				t.Errorf("X-Version-Id = %q, want %q", got, wantID)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			wsURL := "ws" + strings.TrimPrefix(w.srv.URL(), "http") + "/api/v4/websocket"
			c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.aliceTok}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			read := func() map[string]any {
				t.Helper()
				_, b, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				var f map[string]any
				if err := json.Unmarshal(b, &f); err != nil {
					t.Fatalf("frame %s: %v", b, err)
				}
				return f
			}
			hello := read()
			if v := hello["data"].(map[string]any)["server_version"]; v != wantID {
				t.Errorf("hello server_version = %v, want %q", v, wantID)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"seq":1,"action":"ping"}`)); err != nil {
				t.Fatal(err)
			}
			for {
				f := read()
				if f["seq_reply"] == nil {
					continue // status_change and the like
				}
				if v := f["data"].(map[string]any)["version"]; v != p.release {
					t.Errorf("ping reply version = %v, want %q", v, p.release)
				}
				break
			}
		})
	}
}

// TestServerVersionUnknown: any other profile name is refused, naming the
// accepted ones.
func TestServerVersionUnknown(t *testing.T) {
	for _, v := range []string{"5.36.1", "9.11.0", "Current", "latest"} {
		_, err := Start("127.0.0.1:0", &Options{ServerVersion: v})
		if err == nil || !strings.Contains(err.Error(), `"current" or "5.36"`) || !strings.Contains(err.Error(), v) {
			t.Errorf("Start with ServerVersion %q: err = %v, want one naming it and the accepted values", v, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New with ServerVersion %q did not panic", v)
				}
			}()
			New(&Options{ServerVersion: v})
		}()
	}
}

// TestPingProfiles: GET /system/ping answers the field set of each
// version's getSystemPing (release-5.36 api4/system.go; today's
// server/channels/api4/system.go), with the health keys that
// get_server_status adds.
func TestPingProfiles(t *testing.T) {
	base536 := map[string]any{
		"status": "OK", "AndroidLatestVersion": "", "AndroidMinVersion": "",
		"DesktopLatestVersion": "", "DesktopMinVersion": "", "IosLatestVersion": "", "IosMinVersion": "",
	}
	baseCur := map[string]any{
		"status": "OK", "AndroidLatestVersion": "", "AndroidMinVersion": "",
		"IosLatestVersion": "", "IosMinVersion": "", "ActiveSearchBackend": "database",
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		profile, query, who string
		want                map[string]any
		health              bool
	}{
		{Version536, "", "", base536, false},
		{Version536, "?get_server_status=1", "", with(base536, "database_status", "OK", "filestore_status", "OK"), true},
		{Version536, "?get_server_status=true", "root", with(base536, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "", "", baseCur, false},
		{VersionCurrent, "?get_server_status=1", "", baseCur, false},
		{VersionCurrent, "?get_server_status=true", "", with(baseCur, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "?get_server_status=true", "alice", with(baseCur, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "?get_server_status=true", "root", with(baseCur, "database_status", "OK", "filestore_status", "OK", "root_status", false), true},
	}
	for _, tc := range tests {
		t.Run(tc.profile+tc.query+" "+tc.who, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: tc.profile})
			tok := map[string]string{"alice": w.aliceTok, "root": w.rootTok}[tc.who]
			r := w.do(t, "GET", "/system/ping"+tc.query, tok, nil)
			if r.status != 200 {
				t.Fatalf("ping = %d %s", r.status, r.body)
			}
			var got map[string]any
			r.json(t, &got)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ping body (-want +got):\n%s", d)
			}
			if h := r.header.Get("database_status"); (h == "OK") != tc.health {
				t.Errorf("database_status header = %q, want it set: %v", h, tc.health)
			}
		})
	}
}

// TestThreadOrderProfiles: GET /posts/{id}/thread lists the requested
// post, then the thread as the store returns it. 5.36 (release-5.36
// store/sqlstore/post_store.go Get) lists the requested post again among
// the thread; today's server (server/channels/store/sqlstore/post_store.go
// Get, api4/post.go getPostThread) skips it, and sorts, filters and pages
// by direction, fromCreateAt, fromPost and perPage.
func TestThreadOrderProfiles(t *testing.T) {
	type thread struct {
		w            *world
		root, r1, r2 string
		createdRoot  int64
		alias        map[string]string
	}
	setup := func(t *testing.T, profile string) thread {
		w := newWorld(t, &Options{ServerVersion: profile})
		root, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "root"})
		if err != nil {
			t.Fatal(err)
		}
		r1, err := w.srv.CreatePost(w.bob.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "one", RootID: root.ID})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "two", RootID: root.ID})
		if err != nil {
			t.Fatal(err)
		}
		return thread{w: w, root: root.ID, r1: r1.ID, r2: r2.ID, createdRoot: root.CreateAt,
			alias: map[string]string{root.ID: "root", r1.ID: "r1", r2.ID: "r2"}}
	}
	tests := []struct {
		profile, of, query string
		want               []string // order, by alias
		hasNext            string   // "", "true", "false": has_next
	}{
		{Version536, "root", "", []string{"root", "root", "r1", "r2"}, ""},
		{Version536, "r1", "", []string{"r1", "root", "r1", "r2"}, ""},
		{Version536, "r2", "?direction=sideways&perPage=x", []string{"r2", "root", "r1", "r2"}, ""},
		{VersionCurrent, "root", "", []string{"root", "r1", "r2"}, ""},
		{VersionCurrent, "r1", "", []string{"r1", "root", "r2"}, ""},
		{VersionCurrent, "root", "?direction=up", []string{"root", "r2", "r1"}, ""},
		{VersionCurrent, "r2", "?direction=down", []string{"r2", "root", "r1"}, ""},
		{VersionCurrent, "root", "?direction=down&perPage=1", []string{"root"}, "true"},
		{VersionCurrent, "root", "?direction=down&perPage=2&fromCreateAt=ROOT", []string{"root", "r1", "r2"}, "false"},
		{VersionCurrent, "r2", "?direction=up&fromCreateAt=ROOT", []string{"r2"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.profile+" "+tc.of+tc.query, func(t *testing.T) {
			th := setup(t, tc.profile)
			id := map[string]string{"root": th.root, "r1": th.r1, "r2": th.r2}[tc.of]
			q := strings.ReplaceAll(tc.query, "ROOT", strconv.FormatInt(th.createdRoot, 10))
			r := th.w.do(t, "GET", "/posts/"+id+"/thread"+q, th.w.aliceTok, nil)
			if r.status != 200 {
				t.Fatalf("thread = %d %s", r.status, r.body)
			}
			var got struct {
				Order   []string        `json:"order"`
				Posts   map[string]any  `json:"posts"`
				HasNext json.RawMessage `json:"has_next"`
			}
			r.json(t, &got)
			var order []string
			for _, o := range got.Order {
				order = append(order, th.alias[o])
			}
			if d := cmp.Diff(tc.want, order); d != "" {
				t.Errorf("order (-want +got):\n%s", d)
			}
			if string(got.HasNext) != tc.hasNext {
				t.Errorf("has_next = %s, want %q", got.HasNext, tc.hasNext)
			}
			for _, o := range got.Order {
				if got.Posts[o] == nil {
					t.Errorf("order names %s, missing from posts", th.alias[o])
				}
			}
		})
	}

	// Today's server checks the paging parameters; 5.36 has none.
	th := setup(t, VersionCurrent)
	for _, q := range []struct{ query, param string }{
		{"?direction=sideways", "direction"},
		{"?perPage=201", "perPage"},
		{"?perPage=many", "perPage"},
		{"?fromCreateAt=yesterday", "fromCreateAt"},
		{"?fromPost=" + th.r1, "if fromPost is set, then fromCreatAt must also be set"},
	} {
		r := th.w.do(t, "GET", "/posts/"+th.root+"/thread"+q.query, th.w.aliceTok, nil)
		var e mattermost.APIError
		_ = json.Unmarshal(r.body, &e)
		if r.status != 400 || e.ID != "api.context.invalid_body_param.app_error" || !strings.Contains(e.Message, q.param) {
			t.Errorf("thread%s = %d %s, want 400 invalid_body_param naming %q", q.query, r.status, r.body, q.param)
		}
	}
}
