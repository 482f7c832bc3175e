package mmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
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

// forEachProfile runs f once per profile, as a subtest named after it.
func forEachProfile(t *testing.T, f func(t *testing.T, w *world)) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) { f(t, newWorld(t, &Options{ServerVersion: p.name})) })
	}
}

// TestTypingPermissionFirst: POST /users/{id}/typing checks no field of
// its body; the permission checks answer (api4/user.go publishUserTyping,
// app HasPermissionToChannel, in release-5.36 and today alike). A missing
// channel is 403 for everyone, as recorded from 5.36 and in today's
// source; a channel that does not exist is allowed to system admins.
func TestTypingPermissionFirst(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		tests := []struct {
			name, token, user string
			body              map[string]any
			want              int
		}{
			{"no channel", w.aliceTok, w.alice.ID, map[string]any{}, 403},
			{"no channel, admin", w.rootTok, w.root.ID, map[string]any{}, 403},
			{"malformed channel", w.aliceTok, w.alice.ID, map[string]any{"channel_id": "nope"}, 403},
			{"unknown channel", w.aliceTok, w.alice.ID, map[string]any{"channel_id": mattermost.NewID()}, 403},
			{"unknown channel, admin", w.rootTok, w.root.ID, map[string]any{"channel_id": mattermost.NewID()}, 200},
			{"member", w.aliceTok, w.alice.ID, map[string]any{"channel_id": w.ops.ID}, 200},
			{"malformed parent", w.aliceTok, w.alice.ID, map[string]any{"channel_id": w.ops.ID, "parent_id": "junk"}, 200},
			{"for another user", w.bobTok, w.alice.ID, map[string]any{"channel_id": w.ops.ID}, 403},
			{"for another user, admin", w.rootTok, w.alice.ID, map[string]any{"channel_id": w.ops.ID}, 200},
		}
		for _, tc := range tests {
			r := w.do(t, "POST", "/users/"+tc.user+"/typing", tc.token, tc.body)
			wantID := ""
			if tc.want == 403 {
				wantID = "api.context.permissions.app_error"
			}
			if r.status != tc.want || errID(t, r) != wantID {
				t.Errorf("%s: typing = %d %s, want %d %s", tc.name, r.status, r.body, tc.want, wantID)
			}
		}
	})
}

// upload sends body as a multipart upload built by parts (name, file
// name or "" for a value, content) and returns the answer.
func (w *world) upload(t *testing.T, token string, parts ...[3]string) result {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p[1] == "" {
			pw, err = mw.CreateFormField(p[0])
		} else {
			pw, err = mw.CreateFormFile(p[0], p[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(pw, p[2])
	}
	_ = mw.Close()
	req, err := http.NewRequest("POST", w.srv.URL()+"/api/v4/files", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestUploadMultipart: POST /files as api4/file.go uploadFileMultipart
// reads it (release-5.36 and today alike): no file at all is a 201 with
// empty lists, as recorded from 5.36; client_ids must match the files;
// a file before channel_id is the legacy buffered form.
func TestUploadMultipart(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		ch := [3]string{"channel_id", "", w.ops.ID}
		file := func(name string) [3]string { return [3]string{"files", name, "data of " + name} }
		id := func(v string) [3]string { return [3]string{"client_ids", "", v} }
		type answer struct {
			FileInfos []struct {
				Name string `json:"name"`
			} `json:"file_infos"`
			ClientIDs []string `json:"client_ids"`
		}
		tests := []struct {
			name    string
			token   string
			parts   [][3]string
			status  int
			errID   string
			files   []string
			ids     []string
			idsNull bool
		}{
			{"no files", w.aliceTok, [][3]string{ch}, 201, "", nil, []string{}, false},
			{"nothing at all", w.aliceTok, nil, 201, "", nil, []string{}, false},
			{"no files, not a member", w.aliceTok, [][3]string{{"channel_id", "", mattermost.NewID()}}, 201, "", nil, []string{}, false},
			{"one file", w.aliceTok, [][3]string{ch, file("a.txt")}, 201, "", []string{"a.txt"}, []string{}, false},
			{"client ids", w.aliceTok, [][3]string{ch, id("c1"), id("c2"), file("a.txt"), file("b.txt")}, 201, "", []string{"a.txt", "b.txt"}, []string{"c1", "c2"}, false},
			{"client ids, no files", w.aliceTok, [][3]string{ch, id("c1")}, 400, "api.file.upload_file.incorrect_number_of_client_ids.app_error", nil, nil, false},
			{"too few client ids", w.aliceTok, [][3]string{ch, id("c1"), file("a.txt"), file("b.txt")}, 400, "api.context.invalid_body_param.app_error", nil, nil, false},
			{"client id after the files", w.aliceTok, [][3]string{ch, file("a.txt"), id("c1")}, 400, "api.context.invalid_body_param.app_error", nil, nil, false},
			{"unknown field", w.aliceTok, [][3]string{ch, {"colour", "", "red"}}, 400, "api.context.invalid_body_param.app_error", nil, nil, false},
			{"two channels", w.aliceTok, [][3]string{ch, {"channel_id", "", mattermost.NewID()}}, 400, "api.file.upload_file.multiple_channel_ids.app_error", nil, nil, false},
			{"malformed channel", w.aliceTok, [][3]string{{"channel_id", "", "nope"}, file("a.txt")}, 400, "api.context.invalid_url_param.app_error", nil, nil, false},
			{"not a member", w.aliceTok, [][3]string{{"channel_id", "", mattermost.NewID()}, file("a.txt")}, 403, "api.context.permissions.app_error", nil, nil, false},
			{"legacy: file first", w.aliceTok, [][3]string{file("a.txt"), {"other", "x.bin", "skipped"}, ch, {"colour", "", "ignored"}}, 201, "", []string{"a.txt"}, []string{}, false},
			{"legacy: no channel", w.aliceTok, [][3]string{file("a.txt")}, 400, "api.context.invalid_body_param.app_error", nil, nil, false},
			{"legacy: client ids", w.aliceTok, [][3]string{id("c1"), file("a.txt"), ch}, 201, "", []string{"a.txt"}, []string{"c1"}, false},
			{"legacy: wrong count", w.aliceTok, [][3]string{id("c1"), file("a.txt"), file("b.txt"), ch}, 400, "api.file.upload_file.incorrect_number_of_client_ids.app_error", nil, nil, false},
		}
		for _, tc := range tests {
			r := w.upload(t, tc.token, tc.parts...)
			if r.status != tc.status || errID(t, r) != tc.errID {
				t.Errorf("%s: upload = %d %s, want %d %q", tc.name, r.status, r.body, tc.status, tc.errID)
				continue
			}
			if r.status != 201 {
				continue
			}
			var a answer
			r.json(t, &a)
			var names []string
			for _, f := range a.FileInfos {
				names = append(names, f.Name)
			}
			if d := cmp.Diff(tc.files, names); d != "" || !cmp.Equal(tc.ids, a.ClientIDs) {
				t.Errorf("%s: upload = %s, want files %v and client_ids %v", tc.name, r.body, tc.files, tc.ids)
			}
		}
		// A raw body: channel_id and filename are URL parameters, checked
		// in that order; without client_id, client_ids is null.
		for _, tc := range []struct{ query, want string }{
			{"?filename=a.txt", "invalid_url_param channel_id"},
			{"?channel_id=" + w.ops.ID, "invalid_url_param filename"},
			{"", "invalid_url_param channel_id"},
		} {
			r := w.do(t, "POST", "/files"+tc.query, w.aliceTok, "raw")
			var e mattermost.APIError
			_ = json.Unmarshal(r.body, &e)
			if r.status != 400 || "api.context."+strings.Fields(tc.want)[0]+".app_error" != e.ID || !strings.Contains(e.Message, strings.Fields(tc.want)[1]) {
				t.Errorf("raw upload%s = %d %s, want 400 %s", tc.query, r.status, r.body, tc.want)
			}
		}
		r := w.do(t, "POST", "/files?channel_id="+w.ops.ID+"&filename=a.txt", w.aliceTok, "raw")
		if r.status != 201 || !strings.Contains(string(r.body), `"client_ids":null`) {
			t.Errorf("raw upload = %d %s, want 201 with client_ids null", r.status, r.body)
		}
	})
}

// TestPostDropsUnattachableFiles: a post whose file_ids name files that
// cannot be attached (unknown, another user's, already on a post, named
// twice) is made with the others (app/post.go attachFilesToPost, store
// AttachToPost, in release-5.36 and today alike).
func TestPostDropsUnattachableFiles(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		fileID := func(tok, name string) string {
			r := w.upload(t, tok, [3]string{"channel_id", "", w.ops.ID}, [3]string{"files", name, "x"})
			var a mattermost.FileUploadResponse
			r.json(t, &a)
			if r.status != 201 || len(a.FileInfos) != 1 {
				t.Fatalf("upload %s = %d %s", name, r.status, r.body)
			}
			return a.FileInfos[0].ID
		}
		mine, bobs, used := fileID(w.aliceTok, "mine.txt"), fileID(w.bobTok, "bobs.txt"), fileID(w.aliceTok, "used.txt")
		if r := w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "first", "file_ids": []string{used}}); r.status != 201 {
			t.Fatalf("post = %d %s", r.status, r.body)
		}
		w.takeEvents()
		r := w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "files",
			"file_ids": []string{mattermost.NewID(), bobs, mine, used, mine}})
		if r.status != 201 {
			t.Fatalf("post = %d %s, want 201", r.status, r.body)
		}
		var p mattermost.Post
		r.json(t, &p)
		if d := cmp.Diff([]string{mine}, []string(p.FileIDs)); d != "" {
			t.Errorf("answered file_ids (-want +got):\n%s", d)
		}
		if p.Metadata == nil || len(p.Metadata.Files) != 1 || p.Metadata.Files[0].ID != mine {
			t.Errorf("answered metadata.files = %+v, want only %s", p.Metadata, mine)
		}
		if p.UpdateAt <= p.CreateAt {
			t.Errorf("update_at %d, want after create_at %d: the store overwrote the post", p.UpdateAt, p.CreateAt)
		}
		got := w.do(t, "GET", "/posts/"+p.ID, w.aliceTok, nil)
		var stored mattermost.Post
		got.json(t, &stored)
		if d := cmp.Diff([]string{mine}, []string(stored.FileIDs)); d != "" {
			t.Errorf("stored file_ids (-want +got):\n%s", d)
		}
		for _, e := range w.takeEvents() {
			if e.name == "posted" && !strings.Contains(e.data["post"].(string), mine) || strings.Contains(fmt.Sprint(e.data["post"]), bobs) {
				t.Errorf("posted event %v, want the post with %s only", e.data, mine)
			}
		}
		// Nothing attachable: a post without files.
		r = w.do(t, "POST", "/posts", w.aliceTok, map[string]any{"channel_id": w.ops.ID, "message": "none", "file_ids": []string{bobs}})
		if r.status != 201 || strings.Contains(string(r.body), `"file_ids"`) {
			t.Errorf("post with only another's file = %d %s, want 201 without file_ids", r.status, r.body)
		}
	})
}

// TestAddChannelMembersProfiles: POST /channels/{id}/members reads only
// user_id on 5.36 (release-5.36 api4/channel.go addChannelMember), and
// user_ids, else user_id, today (server/channels/api4/channel.go
// addChannelMember), answering a list unless the body named the one
// user_id added, with another user's read timestamps hidden.
func TestAddChannelMembersProfiles(t *testing.T) {
	type want struct {
		status int
		param  string   // the invalid param named, for a 400
		errID  string   // the error id, for another failure
		users  []string // the members answered, by name; nil for an object
		object string   // the member answered as an object, by name
	}
	tests := []struct {
		profile, name string
		body          func(ids map[string]string) map[string]any
		want          want
	}{
		{Version536, "user_ids", func(ids map[string]string) map[string]any { return map[string]any{"user_ids": []string{ids["bob"]}} },
			want{status: 400, param: "user_id"}},
		{Version536, "user_id", func(ids map[string]string) map[string]any { return map[string]any{"user_id": ids["bob"]} },
			want{status: 201, object: "bob"}},
		{Version536, "user_id and user_ids", func(ids map[string]string) map[string]any {
			return map[string]any{"user_id": ids["bob"], "user_ids": []string{ids["carol"]}}
		}, want{status: 201, object: "bob"}},
		{VersionCurrent, "user_ids", func(ids map[string]string) map[string]any {
			return map[string]any{"user_ids": []string{ids["bob"], ids["carol"]}}
		}, want{status: 201, users: []string{"bob", "carol"}}},
		{VersionCurrent, "one of user_ids", func(ids map[string]string) map[string]any { return map[string]any{"user_ids": []string{ids["bob"]}} },
			want{status: 201, users: []string{"bob"}}},
		{VersionCurrent, "user_id", func(ids map[string]string) map[string]any { return map[string]any{"user_id": ids["bob"]} },
			want{status: 201, object: "bob"}},
		{VersionCurrent, "user_ids win", func(ids map[string]string) map[string]any {
			return map[string]any{"user_id": ids["bob"], "user_ids": []string{ids["carol"]}}
		}, want{status: 201, users: []string{"carol"}}},
		{VersionCurrent, "a bad id in user_ids", func(ids map[string]string) map[string]any {
			return map[string]any{"user_ids": []string{ids["bob"], "nope"}}
		},
			want{status: 400, param: "user_id in user_ids"}},
		{VersionCurrent, "neither", func(map[string]string) map[string]any { return map[string]any{} },
			want{status: 400, param: "user_id or user_ids"}},
		{VersionCurrent, "an unknown user skipped", func(ids map[string]string) map[string]any {
			return map[string]any{"user_ids": []string{mattermost.NewID(), ids["bob"]}}
		}, want{status: 201, users: []string{"bob"}}},
		{VersionCurrent, "only unknown users", func(map[string]string) map[string]any {
			return map[string]any{"user_ids": []string{mattermost.NewID()}}
		}, want{status: 404, errID: "app.user.missing_account.const"}},
	}
	for _, tc := range tests {
		t.Run(tc.profile+" "+tc.name, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: tc.profile})
			carol, err := w.srv.AddUser(User{Username: "carol"})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.srv.AddTeamMember(w.team.ID, carol.ID); err != nil {
				t.Fatal(err)
			}
			quiet, err := w.srv.AddChannel(w.team.ID, "quiet", "Quiet", mattermost.ChannelOpen)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.srv.AddChannelMember(quiet.ID, w.alice.ID); err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{"alice": w.alice.ID, "bob": w.bob.ID, "carol": carol.ID}
			names := map[string]string{w.alice.ID: "alice", w.bob.ID: "bob", carol.ID: "carol"}
			r := w.do(t, "POST", "/channels/"+quiet.ID+"/members", w.aliceTok, tc.body(ids))
			if r.status != tc.want.status {
				t.Fatalf("add = %d %s, want %d", r.status, r.body, tc.want.status)
			}
			switch {
			case tc.want.status == 400:
				var e mattermost.APIError
				r.json(t, &e)
				if e.ID != "api.context.invalid_body_param.app_error" || e.Message != "Invalid or missing "+tc.want.param+" in request body." {
					t.Errorf("add = %s, want invalid_body_param %q", r.body, tc.want.param)
				}
				return
			case tc.want.status != 201:
				if id := errID(t, r); id != tc.want.errID {
					t.Errorf("add error = %s, want %s", r.body, tc.want.errID)
				}
				return
			}
			var members []map[string]any
			if tc.want.object != "" {
				var m map[string]any
				r.json(t, &m)
				members = []map[string]any{m}
				if names[m["user_id"].(string)] != tc.want.object {
					t.Errorf("add = %s, want %s's membership as an object", r.body, tc.want.object)
				}
			} else {
				if !strings.HasPrefix(string(r.body), "[") {
					t.Fatalf("add = %s, want a list", r.body)
				}
				r.json(t, &members)
				var got []string
				for _, m := range members {
					got = append(got, names[m["user_id"].(string)])
				}
				if d := cmp.Diff(tc.want.users, got); d != "" {
					t.Errorf("members added (-want +got):\n%s", d)
				}
			}
			for _, m := range members {
				_, hasViewed := m["last_viewed_at"]
				if hidden := tc.profile == VersionCurrent; hasViewed == hidden {
					t.Errorf("another user's membership %v: last_viewed_at shown %v, want %v", m, hasViewed, !hidden)
				}
			}
		})
	}
}

// TestResumeAfterBadSequenceProfiles: after a resume refused for its
// sequence_number, 5.36 (release-5.36 app/web_hub.go only looks the
// connection up) still resumes the connection on a good try, with the
// events missed meanwhile; today's hub (server/channels/app/platform/
// web_hub.go, RemoveInactiveByConnectionID) has lost it and greets the
// good try with a fresh hello.
func TestResumeAfterBadSequenceProfiles(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: p.name})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dial := func(query string) *websocket.Conn {
				t.Helper()
				wsURL := "ws" + strings.TrimPrefix(w.srv.URL(), "http") + "/api/v4/websocket" + query
				c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.aliceTok}}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.CloseNow() })
				return c
			}
			read := func(c *websocket.Conn) (map[string]any, error) {
				_, b, err := c.Read(ctx)
				if err != nil {
					return nil, err
				}
				var f map[string]any
				return f, json.Unmarshal(b, &f)
			}
			c := dial("")
			hello, err := read(c)
			if err != nil || hello["event"] != "hello" {
				t.Fatalf("first frame = %v, %v; want hello", hello, err)
			}
			cid := hello["data"].(map[string]any)["connection_id"].(string)
			if f, err := read(c); err != nil || f["seq"] != 1.0 {
				t.Fatalf("second frame = %v, %v; want seq 1", f, err)
			}
			w.srv.DropWebSockets()
			if r := w.do(t, "POST", "/posts", w.bobTok, map[string]any{"channel_id": w.ops.ID, "message": "while away"}); r.status != 201 {
				t.Fatalf("post = %d %s", r.status, r.body)
			}
			bad := dial("?connection_id=" + cid + "&sequence_number=two")
			if f, err := read(bad); err == nil {
				t.Fatalf("resume with a bad sequence number got %v, want the socket closed", f)
			}
			good := dial("?connection_id=" + cid + "&sequence_number=2")
			f, err := read(good)
			if err != nil {
				t.Fatal(err)
			}
			if p.name == Version536 {
				// The missed events follow on: alice's status_change
				// (offline), then bob's post.
				if f["event"] == "hello" || f["seq"] != 2.0 {
					t.Fatalf("first frame of the good resume = %v, want the missed events from seq 2", f)
				}
				for f["event"] != "posted" {
					if f, err = read(good); err != nil {
						t.Fatalf("reading the missed events: %v", err)
					}
				}
				return
			}
			if f["event"] != "hello" || f["data"].(map[string]any)["connection_id"] == cid {
				t.Errorf("first frame of the good resume = %v, want a hello with a new connection id", f)
			}
		})
	}
}

// TestDeletedPostsNameTheirDeleter: a deleted post and its replies carry
// props.deleteBy, the deleter (store/sqlstore/post_store.go Delete, in
// release-5.36 and today alike), as the 5.36 since= page recorded in
// channel_posts_since.json shows.
func TestDeletedPostsNameTheirDeleter(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		root, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "root"})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := w.srv.CreatePost(w.bob.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "reply", RootID: root.ID})
		if err != nil {
			t.Fatal(err)
		}
		if r := w.do(t, "DELETE", "/posts/"+root.ID, w.rootTok, nil); r.status != 200 {
			t.Fatalf("delete = %d %s", r.status, r.body)
		}
		r := w.do(t, "GET", "/channels/"+w.ops.ID+"/posts?since="+strconv.FormatInt(root.CreateAt-1, 10), w.aliceTok, nil)
		var l mattermost.PostList
		r.json(t, &l)
		for _, id := range []string{root.ID, reply.ID} {
			p := l.Posts[id]
			if p == nil || p.DeleteAt == 0 || p.Props["deleteBy"] != w.root.ID {
				t.Errorf("since= page has %+v for %s, want it deleted with props.deleteBy %s", p, id, w.root.ID)
			}
		}
	})
}

// TestPostListFieldsProfiles: today's model.PostList
// (server/public/model/post_list.go) always sends
// first_inaccessible_post_time; 5.36's has no such field, as the recorded
// channel_posts_page.json shows.
func TestPostListFieldsProfiles(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		root, err := w.srv.CreatePost(w.alice.ID, mattermost.Post{ChannelID: w.ops.ID, Message: "root", IsPinned: true})
		if err != nil {
			t.Fatal(err)
		}
		if r := w.do(t, "POST", "/posts/"+root.ID+"/pin", w.aliceTok, nil); r.status != 200 {
			t.Fatalf("pin = %d %s", r.status, r.body)
		}
		for _, path := range []string{"/channels/" + w.ops.ID + "/posts", "/posts/" + root.ID + "/thread", "/channels/" + w.ops.ID + "/pinned"} {
			r := w.do(t, "GET", path, w.aliceTok, nil)
			var got map[string]any
			r.json(t, &got)
			v, ok := got["first_inaccessible_post_time"]
			if w.srv.is536() == ok || ok && v != 0.0 {
				t.Errorf("GET %s: first_inaccessible_post_time = %v (sent %v), want it sent as 0 only today", path, v, ok)
			}
			if len(got["order"].([]any)) == 0 {
				t.Errorf("GET %s: empty order", path)
			}
		}
	})
}

// TestFileChannelProfiles: today's upload stores the file's channel
// (server/channels/app/file.go uploadFileTask.init); 5.36's left
// channel_id "" (files_upload.json, files_info.json).
func TestFileChannelProfiles(t *testing.T) {
	forEachProfile(t, func(t *testing.T, w *world) {
		want := w.ops.ID
		if w.srv.is536() {
			want = ""
		}
		r := w.upload(t, w.aliceTok, [3]string{"channel_id", "", w.ops.ID}, [3]string{"files", "a.txt", "x"})
		var a mattermost.FileUploadResponse
		r.json(t, &a)
		if len(a.FileInfos) != 1 || a.FileInfos[0].ChannelID != want {
			t.Fatalf("upload = %s, want channel_id %q", r.body, want)
		}
		var fi mattermost.FileInfo
		w.do(t, "GET", "/files/"+a.FileInfos[0].ID+"/info", w.aliceTok, nil).json(t, &fi)
		if fi.ChannelID != want {
			t.Errorf("file info channel_id = %q, want %q", fi.ChannelID, want)
		}
	})
}
