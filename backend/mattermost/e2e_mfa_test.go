package mattermost_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// mfaSecret is alice's TOTP secret in the MFA tests (base32 of 20 bytes).
const mfaSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// TestMFALogin logs the bot in as a user with MFA on: the current code
// gets it in; no code, a wrong code or a spent one is one clear error
// after one login request, never a loop.
func TestMFALogin(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0) // the fake's clock: codes are deterministic
	code := func(d time.Duration) mm.Secret {
		c, err := mmtest.MFACode(mfaSecret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return mm.Secret(c)
	}
	tests := []struct {
		name  string
		code  mm.Secret
		spent bool   // someone logged in with the code first
		want  string // "" for a connected bot
	}{
		{name: "current code", code: code(0)},
		{name: "code of the last step", code: code(-30 * time.Second)},
		{name: "no code", want: `wants an MFA code for "alice": set mfa_token, or use an access token`},
		{name: "wrong code", code: "000000", want: `rejected the MFA code for "alice": a code is good once, for about 30 seconds`},
		{name: "stale code", code: code(-90 * time.Second), want: `rejected the MFA code for "alice"`},
		{name: "spent code", code: code(0), spent: true, want: `rejected the MFA code for "alice"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, &mmtest.Options{Now: func() time.Time { return now }})
			if err := w.srv.EnableMFA(w.alice.ID, mfaSecret); err != nil {
				t.Fatal(err)
			}
			if tc.spent {
				c, err := w.srv.Client("")
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := c.Login(context.Background(), "alice", "alice-password", tc.code); err != nil {
					t.Fatalf("first login with the code: %v", err)
				}
			}
			opts, ct := w.countedOptions()
			opts.Token, opts.Login, opts.Password, opts.MFAToken = "", "alice", "alice-password", tc.code
			if tc.want == "" {
				r := w.start(opts) // fails the test unless connected
				if self := r.be.Client().UserID(); self != w.alice.ID {
					t.Errorf("logged in as %q, want alice %q", self, w.alice.ID)
				}
				return
			}

			be := mustBackend(t, opts)
			eng := mustEngine(t, be, nil, echo.Plugin{})
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			err := eng.Run(ctx)
			var se *bot.StartupError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Reason, w.srv.URL()+" ") || !strings.Contains(se.Reason, tc.want) {
				t.Fatalf("Run = %v; want a StartupError with %q", err, tc.want)
			}
			var ae *mm.APIError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || !errors.Is(err, mm.ErrUnauthorized) {
				t.Errorf("Run = %#v; want it to wrap the server's 401", err)
			}
			ct.mu.Lock()
			logins, all := ct.paths["POST /api/v4/users/login"], len(ct.paths)
			ct.mu.Unlock()
			if logins != 1 || all != 1 {
				t.Errorf("requests = %v; want one login and nothing else", ct.paths)
			}
		})
	}
}
