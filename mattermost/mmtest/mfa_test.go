package mmtest

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA1 key of RFC 6238's test vectors, "12345678901234567890".
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// TestMFACodeRFC6238 checks MFACode against RFC 6238 Appendix B (SHA1;
// the RFC gives 8 digits, the server uses the last 6).
func TestMFACodeRFC6238(t *testing.T) {
	tests := []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tc := range tests {
		got, err := MFACode(rfcSecret, time.Unix(tc.unix, 0))
		if want := tc.want[2:]; err != nil || got != want {
			t.Errorf("MFACode(rfc, %d) = %q, %v, want %q", tc.unix, got, err, want)
		}
	}
}

func TestLoginMFA(t *testing.T) {
	now := time.Unix(1111111111, 0) // code 050471; step 37037037
	w := newWorld(t, &Options{Now: func() time.Time { return now }})
	s := w.srv
	u, err := s.AddUser(User{Username: "carol", Password: "carol-pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableMFA(u.ID, rfcSecret); err != nil {
		t.Fatal(err)
	}
	code := func(d time.Duration) string {
		c, err := MFACode(rfcSecret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	login := func(body map[string]string) result {
		t.Helper()
		return w.do(t, "POST", "/users/login", "", body)
	}
	wrong := "123456"
	if wrong == code(0) || wrong == code(-30*time.Second) || wrong == code(30*time.Second) {
		t.Fatal("the wrong code is right")
	}

	// The steps run in order on one server: reuse depends on the ones
	// before.
	steps := []struct {
		name         string
		password     string
		token        *string // nil: no "token" key
		wantStatus   int
		wantID       string
		wantAttempts int // failed attempts after the step
	}{
		{"no code", "carol-pw", nil, 401, "mfa.validate_token.authenticate.app_error", 0},
		{"empty code", "carol-pw", ptr(""), 401, "mfa.validate_token.authenticate.app_error", 0},
		{"not digits", "carol-pw", ptr("abcdef"), 401, "mfa.validate_token.authenticate.app_error", 1},
		{"too short", "carol-pw", ptr("12345"), 401, "mfa.validate_token.authenticate.app_error", 2},
		{"wrong code", "carol-pw", ptr(wrong), 401, "api.user.check_user_mfa.bad_code.app_error", 3},
		{"scratch code", "carol-pw", ptr("12345678"), 401, "api.user.check_user_mfa.bad_code.app_error", 4},
		{"two steps old", "carol-pw", ptr(code(-60 * time.Second)), 401, "api.user.check_user_mfa.bad_code.app_error", 5},
		{"wrong password, right code", "nope", ptr(code(0)), 401, "api.user.login.invalid_credentials_email_username", 6},
		{"right code", "carol-pw", ptr(code(0)), 200, "", 0},
		{"same code again", "carol-pw", ptr(code(0)), 401, "api.user.check_user_mfa.bad_code.app_error", 1},
		{"one step old", "carol-pw", ptr(code(-30 * time.Second)), 200, "", 0},
		{"one step early, spaces around", "carol-pw", ptr(" " + code(30*time.Second) + " "), 200, "", 0},
		{"two steps early", "carol-pw", ptr(code(60 * time.Second)), 401, "api.user.check_user_mfa.bad_code.app_error", 1},
	}
	for _, st := range steps {
		body := map[string]string{"login_id": "carol", "password": st.password}
		if st.token != nil {
			body["token"] = *st.token
		}
		r := login(body)
		if id := errID(t, r); r.status != st.wantStatus || id != st.wantID {
			t.Errorf("%s: login = %d %q, want %d %q", st.name, r.status, id, st.wantStatus, st.wantID)
		}
		if st.wantStatus == 200 && r.header.Get("Token") == "" {
			t.Errorf("%s: login succeeded without a Token header", st.name)
		}
		if got, _ := s.User("carol"); got.FailedAttempts != st.wantAttempts {
			t.Errorf("%s: failed attempts = %d, want %d", st.name, got.FailedAttempts, st.wantAttempts)
		}
	}

	// The next step: the code of the step two before is out of the window.
	now = now.Add(30 * time.Second)
	if r := login(map[string]string{"login_id": "carol", "password": "carol-pw", "token": code(-60 * time.Second)}); r.status != 401 || errID(t, r) != "api.user.check_user_mfa.bad_code.app_error" {
		t.Errorf("a code two steps old after the clock moved = %d %q, want 401 bad_code", r.status, errID(t, r))
	}
	// The current step's code was taken as "one step early" above.
	if r := login(map[string]string{"login_id": "carol", "password": "carol-pw", "token": code(0)}); r.status != 401 || errID(t, r) != "api.user.check_user_mfa.bad_code.app_error" {
		t.Errorf("a code used one step early, again = %d %q, want 401 bad_code", r.status, errID(t, r))
	}
	if r := login(map[string]string{"login_id": "carol", "password": "carol-pw", "token": code(30 * time.Second)}); r.status != 200 {
		t.Errorf("the next step's code after the clock moved = %d, want 200", r.status)
	}

	if err := s.DisableMFA(u.ID); err != nil {
		t.Fatal(err)
	}
	if r := login(map[string]string{"login_id": "carol", "password": "carol-pw"}); r.status != 200 {
		t.Errorf("login without code after DisableMFA = %d %q, want 200", r.status, errID(t, r))
	}
}

func TestMFAActive(t *testing.T) {
	w := newWorld(t, nil)
	s := w.srv
	u, err := s.AddUser(User{Username: "carol", Password: "carol-pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableMFA(u.ID, "not base32!"); err == nil {
		t.Error("EnableMFA with a bad secret = nil, want an error")
	}
	if err := s.EnableMFA("nosuchuser", rfcSecret); err == nil {
		t.Error("EnableMFA for no user = nil, want an error")
	}
	if err := s.EnableMFA(u.ID, rfcSecret); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User("carol"); !got.MFAActive {
		t.Error("mfa_active after EnableMFA = false, want true")
	}
	// An admin sees the most of a user; the secret must still be left out.
	r := w.do(t, "GET", "/users/"+u.ID, w.rootTok, nil)
	if r.status != 200 {
		t.Fatalf("GET /users/{id} as admin = %d %s, want 200", r.status, r.body)
	}
	if strings.Contains(string(r.body), rfcSecret) {
		t.Errorf("the MFA secret is in a user's JSON: %s", r.body)
	}
}

func ptr(s string) *string { return &s }
