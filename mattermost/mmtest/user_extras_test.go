package mmtest

import (
	"bytes"
	"image/png"
	"net/http"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// TestProfileImage follows api4/user.go getProfileImage: a PNG with the
// cache headers and an ETag of last_picture_update, 304 for a matching
// If-None-Match, 404 for an unknown user.
func TestProfileImage(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do(t, "GET", "/users/"+w.bob.ID+"/image", w.aliceTok, nil)
	expect(t, "image", r, ok(200))
	if ct, cc, et := r.header.Get("Content-Type"), r.header.Get("Cache-Control"), r.header.Get("ETag"); ct != "image/png" || cc != "max-age=86400, private" || et != "0" {
		t.Errorf("headers = %q %q %q, want image/png, max-age=86400, private, ETag 0", ct, cc, et)
	}
	img, err := png.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("body is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Errorf("image is %v, want 128×128", b)
	}
	if again := w.do(t, "GET", "/users/"+w.bob.ID+"/image", w.rootTok, nil); !bytes.Equal(again.body, r.body) {
		t.Error("the default image changed between two requests")
	}
	if other := w.do(t, "GET", "/users/me/image", w.aliceTok, nil); bytes.Equal(other.body, r.body) {
		t.Error("alice and bob have the same default image")
	}

	req, _ := http.NewRequest("GET", w.srv.URL()+"/api/v4/users/"+w.bob.ID+"/image", nil)
	req.Header.Set("Authorization", "Bearer "+w.aliceTok)
	req.Header.Set("If-None-Match", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: 0 = %d, want 304", resp.StatusCode)
	}
	expect(t, "image of nobody", w.do(t, "GET", "/users/"+mattermost.NewID()+"/image", w.aliceTok, nil), answer{404, "app.user.missing_account.const"})
	expect(t, "image without a session", w.do(t, "GET", "/users/"+w.bob.ID+"/image", "", nil), answer{401, "api.context.session_expired.app_error"})
}

// TestSessions follows api4/user.go getSessions: the user's sessions,
// personal access tokens in use included, tokens blanked; only for the
// user or an admin.
func TestSessions(t *testing.T) {
	w := newWorld(t, nil)
	if _, err := w.srv.Login(w.alice.ID); err != nil {
		t.Fatal(err)
	}
	r := w.do(t, "GET", "/users/me/sessions", w.aliceTok, nil)
	expect(t, "my sessions", r, ok(200))
	var ss []sessionOut
	r.json(t, &ss)
	if len(ss) != 2 {
		t.Fatalf("alice has %d sessions, want 2", len(ss))
	}
	for _, s := range ss {
		if s.Token != "" || s.UserID != w.alice.ID || s.Roles != "system_user" || s.ExpiresAt <= s.CreateAt || s.Props["is_guest"] != "false" {
			t.Errorf("session %+v: want no token, alice's, system_user, expiring after creation, is_guest false", s)
		}
	}
	var bot []sessionOut
	w.do(t, "GET", "/users/"+w.bot.ID+"/sessions", w.rootTok, nil).json(t, &bot)
	if len(bot) != 1 || bot[0].Props["type"] != "UserAccessToken" || bot[0].Props["is_bot"] != "true" {
		t.Errorf("the bot's sessions = %+v, want its token's", bot)
	}
	expect(t, "another's sessions", w.do(t, "GET", "/users/"+w.bob.ID+"/sessions", w.aliceTok, nil), answer{403, idPerm})
}
