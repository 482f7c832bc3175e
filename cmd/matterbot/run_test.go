package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/config"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// runWorld is a fake server with a team, alice, the bot "opsbot" and a
// channel ~ops, and a configuration file for the bot without its token.
type runWorld struct {
	srv    *mmtest.Server
	ops    *mm.Channel
	alice  *mm.Client
	bot    *mm.User
	token  string
	config string // path
}

func newRunWorld(t *testing.T) *runWorld {
	t.Helper()
	w := &runWorld{srv: mmtest.NewServer(t, nil)}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := w.srv.AddTeam("ops-team", "Ops")
	check(err)
	alice, err := w.srv.AddUser(mmtest.User{Username: "alice"})
	check(err)
	w.bot, err = w.srv.AddBot("opsbot", "Ops Bot", alice.ID)
	check(err)
	check(w.srv.AddTeamMember(team.ID, alice.ID))
	check(w.srv.AddTeamMember(team.ID, w.bot.ID))
	w.ops, err = w.srv.AddChannel(team.ID, "ops", "Ops", mm.ChannelOpen)
	check(err)
	check(w.srv.AddChannelMember(w.ops.ID, alice.ID))
	check(w.srv.AddChannelMember(w.ops.ID, w.bot.ID))
	w.token, err = w.srv.CreateToken(w.bot.ID, "run test")
	check(err)
	tok, err := w.srv.Login(alice.ID)
	check(err)
	w.alice, err = w.srv.Client(tok)
	check(err)

	u, err := url.Parse(w.srv.URL())
	check(err)
	dir := t.TempDir()
	w.config = filepath.Join(dir, "matterbot.toml")
	cfg := fmt.Sprintf(`prefix = "!"
admins = ["@alice"]

[mattermost]
server = %q
scheme = "http"
port = %s
team = "ops-team"
`, u.Hostname(), u.Port())
	check(os.WriteFile(w.config, []byte(cfg), 0o600))
	return w
}

func TestRunServesUntilCancelled(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token) // the token comes from the environment

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	errOut := &notifyWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", w.config}, &out, errOut) }()

	// The engine logs "connected" once the WebSocket said hello.
	deadline := time.After(30 * time.Second)
	for !strings.Contains(errOut.String(), "msg=connected") {
		select {
		case <-errOut.wrote:
		case code := <-done:
			t.Fatalf("run exited with %d before connecting; stderr:\n%s", code, errOut.String())
		case <-deadline:
			t.Fatalf("bot did not connect; stderr:\n%s", errOut.String())
		}
	}

	if _, _, err := w.alice.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!echo hello run"}); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if _, err := w.srv.WaitForPost(wctx, w.ops.ID, func(p *mm.Post) bool {
		return p.UserID == w.bot.ID && p.Message == "hello run"
	}); err != nil {
		t.Fatalf("no echo: %v; stderr:\n%s", err, errOut.String())
	}

	cancel() // what SIGINT and SIGTERM do in main
	if code := <-done; code != 0 {
		t.Errorf("run exit code after cancel = %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if strings.Contains(errOut.String(), w.token) {
		t.Error("the token appears in the logs")
	}
}

func TestRunStartupErrors(t *testing.T) {
	w := newRunWorld(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{
			name: "bad token",
			env:  map[string]string{"MATTERBOT_MATTERMOST_TOKEN": "nosuchtokennosuchtoken1234"},
			want: "rejected the token",
		},
		{
			name: "unknown team",
			env:  map[string]string{"MATTERBOT_MATTERMOST_TOKEN": w.token, "MATTERBOT_MATTERMOST_TEAM": "nope"},
			want: `team "nope" not found`,
		},
		{
			name: "no config file",
			args: []string{"run", "-c", filepath.Join(t.TempDir(), "missing.toml")},
			want: "missing.toml",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := tc.args
			if args == nil {
				args = []string{"run", "-c", w.config}
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut)
			if code != 1 {
				t.Errorf("run(%q) = %d, want 1; stderr:\n%s", args, code, errOut.String())
			}
			last := lastLine(errOut.String())
			if !strings.HasPrefix(last, "matterbot: ") || !strings.Contains(last, tc.want) {
				t.Errorf("run(%q) last stderr line = %q, want a matterbot: line with %q", args, last, tc.want)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRunServesWebhooks(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "\n[http]\nlisten = \"127.0.0.1:0\"\n"...)
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut := &notifyWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", w.config}, io.Discard, errOut) }()
	addrRE := regexp.MustCompile(`msg="webhook server listening" addr=(\S+)`)
	deadline := time.After(30 * time.Second)
	for !strings.Contains(errOut.String(), "msg=connected") || addrRE.FindStringSubmatch(errOut.String()) == nil {
		select {
		case <-errOut.wrote:
		case code := <-done:
			t.Fatalf("run exited with %d; stderr:\n%s", code, errOut.String())
		case <-deadline:
			t.Fatalf("no webhook server or no connection; stderr:\n%s", errOut.String())
		}
	}
	addr := addrRE.FindStringSubmatch(errOut.String())[1]
	resp, err := http.Post("http://"+addr+"/no/such/hook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST to an undeclared webhook = %d, want 404", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exit code = %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Error("webhook server still answering after run returned")
	}
}

func TestBackendOptions(t *testing.T) {
	tests := []struct {
		name string
		in   config.Mattermost
		want mmbackend.Options
	}{
		{
			name: "defaults",
			in:   config.Default().Mattermost,
			want: mmbackend.Options{Scheme: "https", Port: 8065, Timeout: 30 * time.Second,
				RateLimit: config.DefaultRateLimit, MaxMessageRunes: config.DefaultMessageRunes},
		},
		{
			name: "every backend option",
			in: config.Mattermost{Server: "chat.example.com", Team: "ops", Token: config.NewSecret("tok"),
				Scheme: "http", Port: 80, Timeout: time.Second, CardsHook: "hook",
				AllowBots: true, AllowWebhooks: true, RateLimit: 2.5, MaxMessageRunes: 4000},
			want: mmbackend.Options{Server: "chat.example.com", Teams: []string{"ops"}, Token: "tok",
				Scheme: "http", Port: 80, Timeout: time.Second, CardsHook: "hook",
				AllowBots: true, AllowWebhooks: true, RateLimit: 2.5, MaxMessageRunes: 4000},
		},
		{
			name: "rate limit zero means no cap",
			in:   config.Mattermost{RateLimit: 0},
			want: mmbackend.Options{RateLimit: -1},
		},
		{
			name: "rate limit negative means no cap",
			in:   config.Mattermost{RateLimit: -3},
			want: mmbackend.Options{RateLimit: -1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backendOptions(tc.in, nil)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(mmbackend.Options{}, "WebSocket", "HTTPClient")); diff != "" {
				t.Errorf("backendOptions(%+v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
