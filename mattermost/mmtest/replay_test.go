package mmtest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// recording is one REST exchange recorded from a real server
// (testdata/recorded/README.md).
type recording struct {
	Request struct {
		Auth   string          `json:"auth"`
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

// replay is a server seeded with the state the recordings were made in,
// and the map from the recorded ids to the fake's.
type replay struct {
	srv    *Server
	events chan event        // every published event, in order
	ids    map[string]string // recorded id or placeholder → fake id
	tokens map[string]string // caller name → token
	pw     map[string]string // username → password
}

// Recorded ids of the real server's objects (see the recordings' bodies).
const (
	recAlice   = "t7boqukfst88jmcu3mgp8jtrme"
	recBob     = "tyer6idrmintxmut89i49pydjh"
	recErrbot  = "ky11cff8hbnqpqyn486m1u1mth"
	recAdmin   = "jgjux68grjye3jr6e3azqjatrc"
	recBot     = "6is3m41xxb8p9gkg474uqxtqaa"
	recTeam    = "g4abhgi4hfb3xqdwp4ixd58t4r"
	recOps     = "eofczhjqg7d4pd5iz5pcjmmjfo"
	recPub     = "188iztdi8fg6pytd39mjid798c"
	recPriv    = "njewd7y1zjga9p8reqjdecqzhy"
	recDM      = "5g5stom4x3f8ikrcy6huy6wpnw"
	recGM      = "8r9k3ddu1jfkdjjs4cdbzk7bio"
	recRoot    = "g77s5139uin4tcxikynebsumua"
	recFilePst = "7ky7uqpxuidstmodde7rrpro6o"
	recFile    = "f9srhq8qipgouctf4qqm61x5ie"
)

// newReplay starts a server playing the 5.36 profile, the recordings'
// version, whatever opts says of ServerVersion.
func newReplay(t *testing.T, name string, opts *Options) *replay {
	t.Helper()
	rp := &replay{events: make(chan event, 1024), ids: map[string]string{}, tokens: map[string]string{}, pw: map[string]string{}}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.ServerVersion = Version536
	s := New(&o)
	s.onPublish = func(e event) {
		select {
		case rp.events <- e:
		default: // a test that does not read events
		}
	}
	if _, err := startServer(s, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rp.srv = s
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := s.AddTeam("testteam", "Test Team")
	must(err)
	rp.ids[recTeam] = team.ID
	users := map[string]*mattermost.User{}
	for _, u := range []struct {
		rec, name string
		admin     bool
	}{{recAlice, "alice", false}, {recBob, "bob", false}, {recErrbot, "errbot", false}, {recAdmin, "sysadmin", true}} {
		rp.pw[u.name] = u.name + "-pw"
		usr, err := s.AddUser(User{Username: u.name, Password: rp.pw[u.name], Admin: u.admin})
		must(err)
		users[u.name] = usr
		rp.ids[u.rec] = usr.ID
		must(s.AddTeamMember(team.ID, usr.ID))
		tok, err := s.Login(usr.ID)
		must(err)
		rp.tokens[u.name] = tok
	}
	bot, err := s.AddBot("matterbot-bot", "matterbot-bot", users["sysadmin"].ID)
	must(err)
	s.mu.Lock()
	s.st.users[bot.ID].user.BotDescription = "realmm bot"
	s.mu.Unlock()
	rp.ids[recBot] = bot.ID
	must(s.AddTeamMember(team.ID, bot.ID))
	rp.tokens["bot"], err = s.CreateToken(bot.ID, "replay")
	must(err)

	ops, err := s.AddChannel(team.ID, "ops", "ops", mattermost.ChannelOpen)
	must(err)
	rp.ids[recOps] = ops.ID
	for _, u := range users {
		must(s.AddChannelMember(ops.ID, u.ID))
	}
	must(s.AddChannelMember(ops.ID, bot.ID))
	s.mu.Lock()
	// The channels channel_create_* made; those two cases make them.
	pubName, privName := "pub-2bb163d2", "priv-dbe463ed"
	if strings.HasPrefix(name, "channel_create_") {
		pubName, privName = "pub-seed", "priv-seed"
	}
	pub, _ := s.createChannel(team.ID, pubName, "Pub", mattermost.ChannelOpen, users["bob"].ID)
	priv, _ := s.createChannel(team.ID, privName, "Priv", mattermost.ChannelPrivate, users["bob"].ID)
	s.mu.Unlock()
	if name == "channel_member_remove" { // recorded right after channel_member_add
		must(s.AddChannelMember(pub.ID, users["alice"].ID))
	}
	rp.ids[recPub], rp.ids[recPriv] = pub.ID, priv.ID
	dm, err := s.DirectChannel(users["bob"].ID, users["alice"].ID)
	must(err)
	rp.ids[recDM] = dm.ID
	gm, err := s.GroupChannel(users["alice"].ID, users["bob"].ID, users["errbot"].ID)
	must(err)
	rp.ids[recGM] = gm.ID

	root, err := s.CreatePost(users["bob"].ID, mattermost.Post{ChannelID: ops.ID, Message: "hello @alice ~ops"})
	must(err)
	rp.ids[recRoot] = root.ID
	if name != "post_create_in_thread" { // that case makes this reply
		_, err = s.CreatePost(users["alice"].ID, mattermost.Post{ChannelID: ops.ID, Message: "reply", RootID: root.ID})
		must(err)
	}
	if name != "ws_reaction_added" {
		s.mu.Lock()
		now := s.millis()
		s.st.reactions[root.ID] = append(s.st.reactions[root.ID], &mattermost.Reaction{UserID: users["bob"].ID, PostID: root.ID, EmojiName: "thumbsup", CreateAt: now, UpdateAt: now})
		s.st.posts[root.ID].HasReactions = true
		s.mu.Unlock()
	}

	// A file uploaded by bob and attached to a post, as files_* and
	// post_thread saw them; a second, unattached file for post_with_file.
	fileID := rp.upload(t, rp.tokens["bob"], ops.ID, "report.txt", "hello file\n")
	rp.ids["<file_id>"] = fileID
	rp.ids[recFile] = fileID
	fp, err := s.CreatePost(users["bob"].ID, mattermost.Post{ChannelID: ops.ID, Message: "see file", FileIDs: []string{fileID}})
	must(err)
	rp.ids[recFilePst] = fp.ID

	hook, err := s.AddHook(ops.ID, users["sysadmin"].ID, "cards")
	must(err)
	rp.ids["<hook_id>"] = hook.ID
	rp.ids["<unknown>"] = mattermost.NewID()
	for len(rp.events) > 0 { // forget the seeding's events
		<-rp.events
	}
	switch name {
	case "users_my_channels": // recorded after channel_patch
		s.mu.Lock()
		s.st.channels[ops.ID].Header = "ops header"
		s.mu.Unlock()
	case "login_ok", "users_me": // recorded after login_bad_password
		rp.send(t, "POST", "/users/login", "", []byte(`{"login_id":"alice","password":"wrong"}`))
	}
	return rp
}

// upload sends a one-file multipart upload and returns the file id.
func (rp *replay) upload(t *testing.T, token, channelID, name, content string) string {
	t.Helper()
	status, body := rp.send(t, "POST", "/files", token, multipartBody(t, channelID, name, content))
	if status != http.StatusCreated {
		t.Fatalf("upload %s = %d %s", name, status, body)
	}
	var r mattermost.FileUploadResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.FileInfos) != 1 {
		t.Fatalf("upload answer %s: %v", body, err)
	}
	return r.FileInfos[0].ID
}

type mpBody struct {
	ct   string
	data []byte
}

func multipartBody(t *testing.T, channelID, name, content string) mpBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("channel_id", channelID); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("files", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	return mpBody{ct: mw.FormDataContentType(), data: buf.Bytes()}
}

func (rp *replay) send(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	resp := rp.do(t, method, path, token, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (rp *replay) do(t *testing.T, method, path, token string, body any) *http.Response {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case mpBody:
		rd, ct = bytes.NewReader(b.data), b.ct
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	}
	url := rp.srv.URL() + "/api/v4" + path
	if strings.HasPrefix(path, "/hooks/") && path != "/hooks/incoming" {
		url = rp.srv.URL() + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// mapIDs replaces the recorded ids in s with the fake's.
func (rp *replay) mapIDs(s string) string {
	for rec, id := range rp.ids {
		s = strings.ReplaceAll(s, rec, id)
	}
	return s
}

// callers says who made each recorded request; the recordings name only
// the kind of auth.
var callers = map[string]string{
	"bot_users_me": "bot", "post_as_bot_with_attachment": "bot", "post_ephemeral_as_bot": "bot",
	"post_ephemeral_as_admin": "sysadmin", "hook_create": "sysadmin",
	"post_create": "bob", "post_create_dm": "bob", "channel_create_private": "bob", "channel_create_public": "bob",
	"channel_direct": "bob", "channel_direct_again": "bob", "channel_direct_new": "bob", "channel_group": "bob",
	"channel_member_add": "bob", "channel_member_remove": "bob", "channel_patch": "bob",
	"post_patch": "bob", "post_delete": "bob", "reaction_add": "bob", "reaction_remove": "bob",
	"files_upload": "bob", "post_with_file": "bob", "typing_rest": "bob", "post_ephemeral_as_user": "bob",
}

// TestReplayRecorded replays every REST exchange recorded from a real
// server against the fake, seeded with equivalent state, and compares the
// status, the error id, the important headers and the JSON field set.
func TestReplayRecorded(t *testing.T) {
	files, err := filepath.Glob("testdata/recorded/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if strings.HasPrefix(name, "ws_") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var rec recording
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatalf("decode %s: %v", f, err)
			}
			replayOne(t, name, &rec)
		})
	}
	if n < 50 {
		t.Errorf("replayed %d recordings, want all of them (>= 50)", n)
	}
}

func replayOne(t *testing.T, name string, rec *recording) {
	var opts *Options
	if name == "rate_limited_429" {
		opts = &Options{RateLimit: &RateLimit{PerSec: 2, MaxBurst: 3}}
	}
	rp := newReplay(t, name, opts)
	caller := callers[name]
	if caller == "" {
		caller = "alice"
	}
	token := rp.tokens[caller]
	switch {
	case rec.Request.Auth == "none":
		token = ""
	case name == "users_me_bad_token":
		token = mattermost.NewID()
	}
	path := rp.mapIDs(rec.Request.Path)
	var body any
	switch {
	case name == "files_upload":
		body = multipartBody(t, rp.ids[recOps], "report.txt", "hello file\n")
	case len(rec.Request.Body) > 0 && string(rec.Request.Body) != "null":
		js := rp.mapIDs(string(rec.Request.Body))
		if name == "login_ok" {
			js = strings.Replace(js, "<token>", rp.pw["alice"], 1)
		}
		body = []byte(js)
	}
	if name == "post_with_file" {
		// The recorded file was attached by this very request: attach a
		// fresh one the same way.
		fid := rp.upload(t, token, rp.ids[recOps], "report.txt", "hello file\n")
		body = []byte(strings.ReplaceAll(string(body.([]byte)), rp.ids[recFile], fid))
	}
	if name == "post_pending_second" {
		// The first request of the pair made the post.
		rp.send(t, rec.Request.Method, path, token, body)
	}
	var resp *http.Response
	if name == "rate_limited_429" {
		for range 8 {
			resp = rp.do(t, rec.Request.Method, path, token, body)
			if resp.StatusCode == http.StatusTooManyRequests {
				break
			}
			resp.Body.Close()
		}
	} else {
		resp = rp.do(t, rec.Request.Method, path, token, body)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != rec.Response.Status {
		t.Fatalf("%s %s = %d %s, want %d", rec.Request.Method, path, resp.StatusCode, got, rec.Response.Status)
	}
	checkHeaders(t, rec, resp)

	var want any
	if err := json.Unmarshal(rec.Response.Body, &want); err != nil {
		t.Fatalf("recorded body: %v", err)
	}
	if s, ok := want.(string); ok {
		// A non-JSON answer (text, file bytes), or an error body the
		// recorder kept as text.
		var inner any
		if json.Unmarshal([]byte(s), &inner) != nil {
			if string(got) != s {
				t.Errorf("body = %q, want %q", got, s)
			}
			return
		}
		want = inner
	}
	var gotV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	if wm, ok := want.(map[string]any); ok && wm["status_code"] != nil {
		gm, _ := gotV.(map[string]any)
		if gm["id"] != wm["id"] || gm["message"] != wm["message"] || gm["status_code"] != wm["status_code"] {
			t.Errorf("error = %v %q %q, want %v %q %q", gm["status_code"], gm["id"], gm["message"], wm["status_code"], wm["id"], wm["message"])
		}
		if rid, _ := gm["request_id"].(string); wm["request_id"] != nil && rid != resp.Header.Get("X-Request-Id") {
			t.Errorf("request_id = %q, want the X-Request-Id %q", rid, resp.Header.Get("X-Request-Id"))
		}
	}
	var diffs []string
	diffShape("", want, gotV, &diffs)
	for _, d := range diffs {
		if !allowedDiff[name+" "+d] && !allowedDiff["* "+d] {
			t.Errorf("field set: %s", d)
		}
	}
	checkValues(t, rp, "", want, gotV)
	if !orderUnseeded[name] {
		checkOrder(t, rp, want, gotV)
	}
}

// orderUnseeded lists the recordings whose post list the replay's world
// cannot reproduce: the recorded since= window held 14 posts that earlier
// recording sessions made, the replay seeds 3.
var orderUnseeded = map[string]bool{"channel_posts_since": true}

// checkOrder compares a post list's order, recorded ids mapped; an id the
// replay does not know (a post the seeding made) must match by position
// only.
func checkOrder(t *testing.T, rp *replay, want, got any) {
	t.Helper()
	w, _ := want.(map[string]any)
	g, _ := got.(map[string]any)
	wo, ok := w["order"].([]any)
	if !ok {
		return
	}
	gotOrder, _ := g["order"].([]any)
	if len(gotOrder) != len(wo) {
		t.Errorf("order = %v, want %d ids like %v", gotOrder, len(wo), wo)
		return
	}
	for i, id := range wo {
		if mapped, known := rp.ids[id.(string)]; known && gotOrder[i] != mapped {
			t.Errorf("order[%d] = %v, want %v (recorded %v)", i, gotOrder[i], mapped, id)
		}
	}
}

// allowedDiff lists known, deliberate differences from the 5.36 server,
// as "<case> <diff>" ("*" for every case).
var allowedDiff = map[string]bool{}

func checkHeaders(t *testing.T, rec *recording, resp *http.Response) {
	t.Helper()
	for k, v := range rec.Response.Headers {
		got := resp.Header.Get(k)
		switch k {
		case "X-Request-Id":
			if !mattermost.IsValidID(got) {
				t.Errorf("X-Request-Id = %q, want an id", got)
			}
		case "Token":
			if !mattermost.IsValidID(got) {
				t.Errorf("Token header = %q, want a token", got)
			}
		case "X-Version-Id":
			if got != v {
				t.Errorf("X-Version-Id = %q, want %q", got, v)
			}
		case "Content-Type", "Content-Disposition", "Content-Length", "Retry-After",
			"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Content-Type-Options", "Set-Cookie":
			if got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
	}
}

// opaque keys hold maps whose content depends on state, not on the shape of
// the answer: only their JSON type is compared.
var opaque = map[string]bool{"props": true, "metadata": true}

// optional keys are omitempty on the server: present or not depending on
// the data.
var optional = map[string]bool{"file_ids": true, "has_reactions": true}

// diffShape reports keys missing or extra in got compared with want,
// recursively. Maps keyed by ids (PostList.posts) and array elements are
// merged first, so their shapes compare as one.
func diffShape(path string, want, got any, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, path+": got "+jsonType(got)+", want object")
			return
		}
		if idKeyed(w) || idKeyed(g) {
			diffShape(path+".<id>", mergeValues(w), mergeValues(g), out)
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG && !optional[k]:
				*out = append(*out, "missing "+path+"."+k)
			case !inW && !optional[k]:
				*out = append(*out, "extra "+path+"."+k)
			case inW && inG:
				if opaque[k] {
					if jsonType(wv) != jsonType(gv) {
						*out = append(*out, path+"."+k+": got "+jsonType(gv)+", want "+jsonType(wv))
					}
					continue
				}
				diffShape(path+"."+k, wv, gv, out)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, path+": got "+jsonType(got)+", want array")
			return
		}
		if len(w) > 0 && len(g) > 0 {
			diffShape(path+"[]", mergeArray(w), mergeArray(g), out)
		}
	default:
		if jsonType(want) != jsonType(got) {
			*out = append(*out, path+": got "+jsonType(got)+", want "+jsonType(want))
		}
	}
}

func idKeyed(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if !mattermost.IsValidID(k) {
			return false
		}
	}
	return true
}

func mergeValues(m map[string]any) any {
	vs := make([]any, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return mergeArray(vs)
}

// mergeArray merges objects into one with the union of their keys;
// otherwise it returns the first element.
func mergeArray(xs []any) any {
	if len(xs) == 0 {
		return nil
	}
	if _, ok := xs[0].(map[string]any); !ok {
		return xs[0]
	}
	out := map[string]any{}
	for _, x := range xs {
		if m, ok := x.(map[string]any); ok {
			for k, v := range m {
				if _, seen := out[k]; !seen || v != nil {
					out[k] = v
				}
			}
		}
	}
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// stable keys have values that do not depend on ids or clocks, or that are
// ids the replay maps; they must be equal.
var stable = map[string]bool{
	"username": true, "message": true, "type": true, "display_name": true, "header": true, "purpose": true,
	"emoji_name": true, "status": true, "roles": true, "is_bot": true, "email": true, "extension": true,
	"size": true, "mime_type": true, "team_id": true, "channel_id": true, "user_id": true, "root_id": true,
	"parent_id": true, "reply_count": true, "is_pinned": true, "channel_locked": true, "allow_open_invite": true,
}

// checkValues compares the stable values of the top-level object (and of
// the elements of a top-level array), mapping recorded ids.
func checkValues(t *testing.T, rp *replay, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			t.Errorf("%s: %d elements, want %d", path, len(g), len(w))
			return
		}
		for i := range w {
			checkValues(t, rp, path+"[]", w[i], g[i])
		}
	case map[string]any:
		g, _ := got.(map[string]any)
		if _, isErr := w["status_code"]; isErr {
			return
		}
		for k, wv := range w {
			if !stable[k] {
				continue
			}
			if s, ok := wv.(string); ok && len(s) == 26 {
				id, known := rp.ids[s]
				if !known {
					continue
				}
				wv = id
			}
			if !jsonEqual(wv, g[k]) {
				t.Errorf("%s.%s = %v, want %v", path, k, g[k], wv)
			}
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
