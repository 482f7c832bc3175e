package mmtest

import (
	"encoding/base32"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/matterbot/matterbot/mattermost"
)

// Multi-factor authentication, as the server does it: TOTP (RFC 6238)
// with 30-second steps, 6 digits and HMAC-SHA1, a code accepted one step
// early or late, and never twice (server/platform/shared/mfa/mfa.go,
// which uses dgoogauth with WindowSize 3 and DisallowReuse). The check
// runs after the password's (app/authentication.go
// CheckPasswordAndAllCriteria, CheckUserMfa), and the login handler lets
// both MFA error ids through its masking (api4/user.go login).

// mfaRec is a user's MFA state; nil in userRec means MFA is off.
type mfaRec struct {
	secret string  // base32, as model.User.MfaSecret
	used   []int64 // time steps whose code was accepted (DisallowReuse)
}

// mfaStep is the TOTP time step (30 s, RFC 6238's default and the server's).
const mfaStep = 30

// EnableMFA turns multi-factor authentication on for the user with the
// given TOTP secret (base32, as an authenticator app takes it; the server
// makes 32 characters from 20 random bytes). From then on POST
// /users/login needs the current code in "token". The user's mfa_active
// becomes true. Codes are checked against Options.Now.
func (s *Server) EnableMFA(userID, secret string) error {
	if _, err := base32.StdEncoding.DecodeString(secret); err != nil || secret == "" {
		return fmt.Errorf("mmtest: enable MFA: secret %q is not base32", secret)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.users[userID]
	if rec == nil {
		return fmt.Errorf("mmtest: enable MFA: no user %s", userID)
	}
	rec.mfa = &mfaRec{secret: secret}
	rec.user.MFAActive = true
	return nil
}

// DisableMFA turns multi-factor authentication off for the user.
func (s *Server) DisableMFA(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.users[userID]
	if rec == nil {
		return fmt.Errorf("mmtest: disable MFA: no user %s", userID)
	}
	rec.mfa = nil
	rec.user.MFAActive = false
	return nil
}

// checkMFA is app/authentication.go CheckUserMfa for a login whose
// password was right: nil when the user has no MFA or code is good. A
// code that is not 6 digits (none at all, the client's way to ask whether
// MFA is on) is mfa.validate_token.authenticate.app_error; a wrong,
// stale or reused one is api.user.check_user_mfa.bad_code.app_error.
// Both are 401 (authenticateUser sets the status). A non-empty code that
// fails counts as a failed attempt, as a wrong password does. s.mu held.
func (s *Server) checkMFA(rec *userRec, code string) *mattermost.APIError {
	m := rec.mfa
	if m == nil {
		return nil
	}
	fail := func(id string) *mattermost.APIError {
		if code != "" {
			rec.user.FailedAttempts++
		}
		return apiError(http.StatusUnauthorized, id, "")
	}
	code = strings.TrimSpace(code)
	// dgoogauth's Authenticate: 6 digits, or 8 for a scratch code (the
	// server keeps none, so those never match).
	switch {
	case len(code) == 8 && code[0] >= '1' && code[0] <= '9':
		if _, err := strconv.Atoi(code); err == nil {
			return fail("api.user.check_user_mfa.bad_code.app_error")
		}
		return fail("mfa.validate_token.authenticate.app_error")
	case len(code) != 6:
		return fail("mfa.validate_token.authenticate.app_error")
	}
	if _, err := strconv.Atoi(code); err != nil {
		return fail("mfa.validate_token.authenticate.app_error")
	}
	now := s.now().Unix() / mfaStep
	for step := now - 1; step <= now+1; step++ {
		ok, err := hotp.ValidateCustom(code, uint64(step), m.secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil || !ok {
			continue
		}
		if slices.Contains(m.used, step) {
			return fail("api.user.check_user_mfa.bad_code.app_error")
		}
		// Keep the steps still inside the window, as DisallowReuse does.
		m.used = slices.DeleteFunc(append(m.used, step), func(t int64) bool { return t < now-1 })
		return nil
	}
	return fail("api.user.check_user_mfa.bad_code.app_error")
}

// MFACode returns the code an authenticator app shows at t for the
// base32 secret: what a user types at the login, for tests to send.
func MFACode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: mfaStep, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
