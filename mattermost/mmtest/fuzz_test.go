package mmtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

func FuzzRouterMatch(f *testing.F) {
	rt := newRouter((&Server{}).routes())
	for _, r := range rt.routes {
		f.Add(r.method, strings.ReplaceAll(strings.ReplaceAll(r.pattern, "{", "x"), "}", "y"))
	}
	f.Add("GET", "/users/me/teams/abc/channels")
	f.Add("DELETE", "//users//")
	f.Fuzz(func(t *testing.T, method, path string) {
		r, params := rt.match(method, path)
		if r == nil {
			return
		}
		if r.method != method {
			t.Fatalf("match(%q, %q) = %s route", method, path, r.method)
		}
		for name, v := range params {
			ok := paramClass(name)
			for i := 0; i < len(v); i++ {
				if !ok(v[i]) {
					t.Fatalf("match(%q): param %s = %q outside its class", path, name, v)
				}
			}
		}
	})
}

// fuzzServer is a seeded server used through ServeHTTP, no network.
func fuzzServer(f *testing.F) (s *Server, token, channelID, hookID string) {
	s = New(nil)
	f.Cleanup(s.Close)
	team, _ := s.AddTeam("fuzz", "Fuzz")
	u, _ := s.AddUser(User{Username: "fuzzer"})
	_ = s.AddTeamMember(team.ID, u.ID)
	ch, _ := s.AddChannel(team.ID, "cc", "C", mattermost.ChannelOpen)
	_ = s.AddChannelMember(ch.ID, u.ID)
	token, _ = s.Login(u.ID)
	h, _ := s.AddHook(ch.ID, u.ID, "fuzz")
	return s, token, ch.ID, h.ID
}

func FuzzCreatePost(f *testing.F) {
	s, token, channelID, _ := fuzzServer(f)
	f.Add([]byte(`{"channel_id":"` + channelID + `","message":"hi @fuzzer ~cc #tag"}`))
	f.Add([]byte(`{"channel_id":"` + channelID + `","message":"x","props":{"attachments":[{"text":"t","actions":[{"integration":{"url":"u"}}]}]}}`))
	f.Add([]byte(`{"channel_id":"` + channelID + `","root_id":"aaaaaaaaaaaaaaaaaaaaaaaaaa"}`))
	f.Add([]byte(`{"channel_id":"` + channelID + `","props":{"attachments":"nope"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v4/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case 201, 400, 403, 413:
		default:
			t.Fatalf("POST /posts %q = %d %s", body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("POST /posts %q answered invalid JSON %q", body, rec.Body)
		}
	})
}

func FuzzPostHook(f *testing.F) {
	s, _, _, hookID := fuzzServer(f)
	f.Add("application/json", `{"text":"hi","attachments":[{"title":"t"}]}`)
	f.Add("application/x-www-form-urlencoded", `payload={"text":"x","channel":"@fuzzer"}`)
	f.Add("application/json", `{"text":"x","channel":"nope"}`)
	f.Add("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--b--\r\n")
	f.Fuzz(func(t *testing.T, ct, body string) {
		req := httptest.NewRequest("POST", "/hooks/"+hookID, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("POST /hooks %q %q = %d %s", ct, body, rec.Code, rec.Body)
		}
	})
}
