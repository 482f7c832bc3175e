package matterbot

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// notifyWriter collects output and signals each write.
type notifyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // size 1: a pending signal is enough
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestFakeServerCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"fake-server", "--listen", "127.0.0.1:0", "--log-level", "error"}, out, &errOut)
	}()
	urlRE := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
	var url string
	for url == "" {
		select {
		case <-out.wrote:
			if m := urlRE.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "bot config") {
				url = m[1]
			}
		case code := <-done:
			t.Fatalf("fake-server exited early with %d: %s %s", code, out.String(), errOut.String())
		}
	}
	for _, want := range []string{"admin alice", `password "alice-password"`, "bot   ops-bot      token "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q does not mention %q", out.String(), want)
		}
	}
	// The printed bot config is a file matterbot run accepts, pointing at
	// this server with the bot's token.
	_, block, _ := strings.Cut(out.String(), "bot config: save these lines as matterbot.toml")
	_, block, _ = strings.Cut(block, "\n")
	block, _, _ = strings.Cut(block, "\n\n")
	cfg, err := config.Parse("matterbot.toml", []byte(block), nil)
	if err != nil {
		t.Fatalf("the printed config %q does not parse: %v", block, err)
	}
	if got := cfg.Mattermost.URL(); got != url || len(cfg.Admins) != 1 || cfg.Admins[0] != "@alice" {
		t.Errorf("printed config: server %s, admins %q; want %s and @alice", got, cfg.Admins, url)
	}
	body := strings.NewReader(`{"login_id":"alice","password":"alice-password"}`)
	resp, err := http.Post(url+"/api/v4/users/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Token") == "" {
		t.Errorf("login as alice = %d token %q, want 200 and a token", resp.StatusCode, resp.Header.Get("Token"))
	}
	tok := regexp.MustCompile(`ops-bot +token (\w+)`).FindStringSubmatch(out.String())
	if tok == nil {
		t.Fatalf("no bot token in %q", out.String())
	}
	if got := cfg.Mattermost.Token.Reveal(); got != tok[1] {
		t.Errorf("printed config token %q, want the bot's %q", got, tok[1])
	}
	req, _ := http.NewRequest("GET", url+"/api/v4/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok[1])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Username string `json:"username"`
		IsBot    bool   `json:"is_bot"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.Username != "ops-bot" || !me.IsBot {
		t.Errorf("GET /users/me with the printed token = %+v, want the bot ops-bot", me)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("fake-server exit code = %d after interrupt, want 0 (stderr %s)", code, errOut.String())
	}
}

func TestParseSeed(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"default", defaultSeed, ""},
		{"unknown key", "[[teams]]\nname = \"x\"\ncolour = \"red\"\n", "unknown keys teams.colour"},
		{"syntax", "[[teams]\n", "seed t.toml"},
		{"unknown team", "[[users]]\nusername = \"carol\"\nteams = [\"nope\"]\n", `unknown team "nope"`},
		{"reserved username", "[[bots]]\nusername = \"matterbot\"\n", "model.user.is_valid.username.app_error"},
		{"unknown member", "[[teams]]\nname = \"ops\"\n[[channels]]\nteam = \"ops\"\nname = \"cc\"\nmembers = [\"zed\"]\n", `unknown member "zed"`},
		{"fixed token", "[[bots]]\nusername = \"ops-bot\"\ntoken = \"fixedtoken\"\n", ""},
		{"MFA", "[[users]]\nusername = \"carol\"\npassword = \"pw\"\nmfa_secret = \"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"\n", ""},
		{"bad MFA secret", "[[users]]\nusername = \"carol\"\nmfa_secret = \"not base32!\"\n", `seed: user carol: mmtest: enable MFA: secret "not base32!" is not base32`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sf, err := parseSeed("t.toml", tc.text)
			if err == nil {
				srv := mmtest.New(nil)
				_, err = sf.apply(srv)
				srv.Close()
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("seed(%q) error = %v, want %q", tc.name, err, tc.wantErr)
			}
		})
	}
}

func TestFakeServerSeedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.toml")
	if err := os.WriteFile(path, []byte("[[teams]]\nname = \"x\"\ncolour = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"fake-server", "--listen", "127.0.0.1:0", "--seed", path}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "unknown keys teams.colour") {
		t.Errorf("fake-server with a bad seed = %d %q, want 1 and the unknown key named", code, errOut.String())
	}
}

func FuzzParseSeed(f *testing.F) {
	f.Add(defaultSeed)
	f.Add("[[teams]]\nname = \"ops\"\n[[channels]]\nteam = \"ops\"\nname = \"a\"\ntype = \"P\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		sf, err := parseSeed("fuzz", text)
		if err != nil {
			return
		}
		srv := mmtest.New(nil)
		defer srv.Close()
		_, _ = sf.apply(srv) // must not panic; errors are fine
	})
}

func TestSeedMFA(t *testing.T) {
	sf, err := parseSeed("t.toml", "[[users]]\nusername = \"carol\"\npassword = \"pw\"\nmfa_secret = \"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"\n")
	if err != nil {
		t.Fatal(err)
	}
	srv := mmtest.New(nil)
	defer srv.Close()
	accounts, err := sf.apply(srv)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := srv.User("carol"); !ok || !u.MFAActive {
		t.Errorf("carol after the seed: %+v, %v; want MFA active", u, ok)
	}
	if len(accounts) != 1 || !accounts[0].mfa {
		t.Errorf("accounts = %+v, want carol with MFA", accounts)
	}
}

func TestFirstAdmin(t *testing.T) {
	tests := []struct {
		name     string
		accounts []account
		want     string
	}{
		{"none", nil, ""},
		{"no admin", []account{{username: "alice"}}, ""},
		{"bot admin skipped", []account{{username: "ops-bot", bot: true, admin: true}, {username: "alice"}, {username: "root", admin: true}}, "root"},
		{"first of two", []account{{username: "a1", admin: true}, {username: "a2", admin: true}}, "a1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstAdmin(tc.accounts); got != tc.want {
				t.Errorf("firstAdmin(%+v) = %q, want %q", tc.accounts, got, tc.want)
			}
		})
	}
}
