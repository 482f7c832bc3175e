package matterbot

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, w *runWorld) // before the check
		wantCode int
		want     []string // lines of the report, in order
		wantErr  string   // in stderr
	}{
		{
			name:     "good",
			wantCode: 0,
			want: []string{
				"ok    configuration {config}: valid",
				"ok    logged in to {url} as @opsbot, a bot account",
				"ok    admins and access rules: the server knows every person and room they name",
				"note  may not post ephemeral messages (create_post_ephemeral, a system admin's by default): they go as direct messages",
				"ok    team ops-team: a member (roles: team_user)",
				"ok    team ops-team: may post in 3 channels: ~off-topic, ~ops, ~town-square",
				"ok    team ops-team: may join public channels",
				"note  team ops-team: may not create incoming webhooks (manage_incoming_webhooks, a team admin's by default)",
				"0 problems, 2 notes",
			},
		},
		{
			name: "system admin bot",
			setup: func(t *testing.T, w *runWorld) {
				if err := w.srv.SetSystemAdmin(w.bot.ID, true); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{
				"ok    may post ephemeral messages",
				"ok    team ops-team: may create incoming webhooks",
				"0 problems, 0 notes",
			},
		},
		{
			name:     "bad token",
			setup:    func(t *testing.T, w *runWorld) { t.Setenv("MATTERBOT_MATTERMOST_TOKEN", "nosuchtokennosuchtokennosu") },
			wantCode: 1,
			want: []string{
				"ok    configuration {config}: valid",
				"FAIL  {url} rejected the token: check that it is valid and not revoked",
				"1 problem, 0 notes",
			},
			wantErr: "matterbot: check found 1 problem\n",
		},
		{
			name:     "unknown team",
			setup:    func(t *testing.T, w *runWorld) { t.Setenv("MATTERBOT_MATTERMOST_TEAM", "dev-team") },
			wantCode: 1,
			want:     []string{`FAIL  team "dev-team" not found on {url}, or opsbot is not a member of it`, "1 problem, 0 notes"},
		},
		{
			name: "channel where the bot may not post",
			setup: func(t *testing.T, w *runWorld) {
				// A read-only channel, as the System Console makes one.
				if err := w.srv.SetRolePermissions("channel_user", "read_channel"); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: 1,
			want: []string{
				"FAIL  team ops-team: may not post in ~off-topic (no create_post in the roles channel_user, team_user, system_user)",
				"FAIL  team ops-team: may not post in ~ops (no create_post in the roles channel_user, team_user, system_user)",
				"FAIL  team ops-team: may not post in ~town-square (no create_post in the roles channel_user, team_user, system_user)",
				"3 problems, 2 notes",
			},
			wantErr: "matterbot: check found 3 problems\n",
		},
		{
			name: "team without join_public_channels",
			setup: func(t *testing.T, w *runWorld) {
				if err := w.srv.SetRolePermissions("team_user", "view_team"); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"note  team ops-team: may not join public channels (join_public_channels): add the bot to channels by hand"},
		},
		{
			name:     "unknown plugin table",
			setup:    func(t *testing.T, w *runWorld) { appendConfig(t, w, "\n[plugins.eho]\ngreeting = \"hi\"\n") },
			wantCode: 1,
			want: []string{
				"ok    configuration {config}: valid",
				"FAIL  {config}:13: plugins.eho: no plugin eho in this bot; did you mean [plugins.echo]?",
				"ok    logged in to {url} as @opsbot, a bot account",
			},
		},
		{
			name: "unknown admin",
			setup: func(t *testing.T, w *runWorld) {
				w.editConfig(t, `admins = ["@alice"]`, `admins = ["@alice", "@nobody"]`)
			},
			wantCode: 1,
			want: []string{
				"ok    logged in to {url} as @opsbot, a bot account",
				"FAIL  admin @nobody: no such user on the server: not an admin",
				"1 problem, 2 notes",
			},
		},
		{
			name:     "invalid file",
			setup:    func(t *testing.T, w *runWorld) { appendConfig(t, w, "timeout = 0\n") },
			wantCode: 1,
			wantErr:  "matterbot: {config}:12: mattermost.timeout: must be positive, got 0s\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newRunWorld(t)
			t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			expand := strings.NewReplacer("{config}", w.config, "{url}", w.srv.URL()).Replace
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"check", "-c", w.config}, &out, &errOut)
			if code != tc.wantCode {
				t.Errorf("check exit code = %d, want %d\nstdout:\n%sstderr:\n%s", code, tc.wantCode, out.String(), errOut.String())
			}
			lines := strings.Split(out.String(), "\n")
			i := 0
			for _, want := range tc.want {
				want = expand(want)
				for i < len(lines) && lines[i] != want {
					i++
				}
				if i == len(lines) {
					t.Errorf("report lacks, in order, the line\n%s\nreport:\n%s", want, out.String())
					break
				}
			}
			if tc.wantErr != "" && errOut.String() != expand(tc.wantErr) {
				t.Errorf("stderr = %q, want %q", errOut.String(), expand(tc.wantErr))
			}
			if tc.wantErr == "" && errOut.Len() > 0 && tc.wantCode == 0 {
				t.Errorf("stderr = %q, want nothing", errOut.String())
			}
		})
	}
}

// TestCheckPluginsNotActivated: check reads the configuration but starts
// no plugin: nothing is posted, and the bot never connects its WebSocket.
func TestCheckPluginsNotActivated(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
	var out bytes.Buffer
	if code := run(context.Background(), []string{"check", "-c", w.config}, &out, &out); code != 0 {
		t.Fatalf("check = %d:\n%s", code, out.String())
	}
	if posts := w.srv.Posts(w.ops.ID); len(posts) != 0 {
		t.Errorf("check posted %d posts, first %q", len(posts), posts[0].Message)
	}
	if st, _, err := w.alice.UserStatus(context.Background(), w.bot.ID); err != nil || st.Status == mm.StatusOnline {
		t.Errorf("bot status after check = %+v, %v; want not online (no WebSocket)", st, err)
	}
}

// TestCheckPasswordLogin: a login with a password works, and check logs
// out, leaving no session behind.
func TestCheckPasswordLogin(t *testing.T) {
	w := newRunWorld(t)
	carol, err := w.srv.AddUser(mmtest.User{Username: "carol", Password: "carol-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.ops.TeamID, carol.ID); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MATTERBOT_MATTERMOST_LOGIN", "carol")
	t.Setenv("MATTERBOT_MATTERMOST_PASSWORD", "carol-password")
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", "")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"check", "-c", w.config}, &out, &out); code != 0 {
		t.Fatalf("check = %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "as @carol, a user account") {
		t.Errorf("report:\n%s\nwant carol's login", out.String())
	}
	if after := w.srv.Sessions(carol.ID); after != 0 {
		t.Errorf("carol has %d sessions after check, want 0", after)
	}
}

// TestPasswordLoginBadTeam: check and run both close the session their
// password login opened when they fail after the login (an unknown team).
func TestPasswordLoginBadTeam(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"check", `FAIL  team "no-such-team" not found`},
		{"run", `team "no-such-team" not found`},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			w := newRunWorld(t)
			carol, err := w.srv.AddUser(mmtest.User{Username: "carol", Password: "carol-password"})
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("MATTERBOT_MATTERMOST_LOGIN", "carol")
			t.Setenv("MATTERBOT_MATTERMOST_PASSWORD", "carol-password")
			t.Setenv("MATTERBOT_MATTERMOST_TOKEN", "")
			t.Setenv("MATTERBOT_MATTERMOST_TEAM", "no-such-team")
			var out bytes.Buffer
			if code := run(context.Background(), []string{tc.cmd, "-c", w.config}, &out, &out); code != 1 {
				t.Fatalf("%s = %d, want 1:\n%s", tc.cmd, code, out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output:\n%s\nwant the unknown team", out.String())
			}
			if after := w.srv.Sessions(carol.ID); after != 0 {
				t.Errorf("carol has %d sessions after a failed %s, want 0", after, tc.cmd)
			}
		})
	}
}

func TestCheckMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.toml")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "-c", missing}, &out, &errOut)
	want := "matterbot: configuration file " + missing + " not found: name one with -c FILE, or write one with `matterbot init`\n"
	if code != 1 || errOut.String() != want {
		t.Errorf("check -c missing = %d, %q; want 1, %q", code, errOut.String(), want)
	}
}

// appendConfig adds text to the world's configuration file.
func appendConfig(t *testing.T, w *runWorld, text string) {
	t.Helper()
	f, err := os.OpenFile(w.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// countingTransport counts the requests it passes on.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestCommandBackendHook: Command.Backend adjusts the backend's options
// run and check build (here an HTTP client of the team's own).
func TestCommandBackendHook(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
	tr := &countingTransport{}
	var out bytes.Buffer
	c := &Command{Name: "matterbot", Stdout: &out, Stderr: &out,
		Backend: func(o *mmbackend.Options) { o.HTTPClient = &http.Client{Transport: tr} }}
	if code := c.Run(context.Background(), []string{"check", "-c", w.config}); code != 0 {
		t.Fatalf("check = %d:\n%s", code, out.String())
	}
	if tr.n.Load() == 0 {
		t.Error("check made no request through the client Command.Backend set")
	}
}
