package matterbot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/internal/playground"
	mm "github.com/matterbot/matterbot/mattermost"
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

// startFakeServer runs the fake-server command with args until its
// welcome is printed (the line after the bot config), and returns the
// output so far, the URL it printed, and a function that stops it and
// returns its exit code.
func startFakeServer(t *testing.T, args ...string) (out *notifyWriter, url string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &notifyWriter{wrote: make(chan struct{}, 1)}
	errOut := &notifyWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"fake-server", "--log-level", "error"}, args...), out, errOut)
	}()
	var code int
	stopped := false
	stop = func() int {
		if !stopped {
			cancel()
			code, stopped = <-done, true
		}
		return code
	}
	t.Cleanup(func() { stop() })
	urlRE := regexp.MustCompile(`at (http://[^ ]+) `)
	for !strings.Contains(out.String(), "run with --chat") {
		select {
		case <-out.wrote:
		case code := <-done:
			cancel()
			stopped = true
			t.Fatalf("fake-server exited early with %d: %s %s", code, out.String(), errOut.String())
		}
	}
	m := urlRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no URL in %q", out.String())
	}
	return out, m[1], stop
}

// printedConfig parses the bot config that the fake server printed.
func printedConfig(t *testing.T, out string) *config.Config {
	t.Helper()
	_, block, _ := strings.Cut(out, "bot config: save these lines as matterbot.toml")
	_, block, _ = strings.Cut(block, "\n")
	block, _, _ = strings.Cut(block, "\n\n")
	cfg, err := config.Parse("matterbot.toml", []byte(block), nil)
	if err != nil {
		t.Fatalf("the printed config %q does not parse: %v", block, err)
	}
	return cfg
}

func TestFakeServerCommand(t *testing.T) {
	out, url, stop := startFakeServer(t, "--listen", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("printed URL %s, want http://127.0.0.1:PORT", url)
	}
	// alice is a plain user of the server and the bot's admin; the
	// server's admin is another account.
	for _, want := range []string{`user  alice        password "alice-password"`, `admin sysadmin     password "sysadmin-password"`, "bot   ops-bot      token "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q does not mention %q", out.String(), want)
		}
	}
	// The printed bot config is a file matterbot run accepts, pointing at
	// this server with the bot's token.
	cfg := printedConfig(t, out.String())
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
	if alice := getMe(t, url, resp.Header.Get("Token")); alice.Roles != "system_user" {
		t.Errorf("alice's roles = %q, want system_user: a plain user", alice.Roles)
	}
	tok := regexp.MustCompile(`ops-bot +token (\w+)`).FindStringSubmatch(out.String())
	if tok == nil {
		t.Fatalf("no bot token in %q", out.String())
	}
	if got := cfg.Mattermost.Token.Reveal(); got != tok[1] {
		t.Errorf("printed config token %q, want the bot's %q", got, tok[1])
	}
	me := getMe(t, url, tok[1])
	if me.Username != "ops-bot" || !me.IsBot {
		t.Errorf("GET /users/me with the printed token = %+v, want the bot ops-bot", me)
	}
	// The playground is served where the welcome says, and offers the
	// users that log in with a password.
	if !strings.Contains(out.String(), "playground: "+url+"/playground ") {
		t.Errorf("output %q does not give the playground's address", out.String())
	}
	for path, want := range map[string]string{"/playground": "<title>matterbot playground</title>", "/playground/logins": `{"username":"alice","password":"alice-password"}`} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, want 200 with %q", path, resp.StatusCode, want)
		}
	}
	// Out of the box, buttons, dialogs and slash commands work: the
	// server calls the bot's listener, and the bot is a team admin, so
	// it may register its slash commands.
	if cfg.HTTP.Listen != config.DefaultListen || cfg.HTTP.PublicURL != "http://"+config.DefaultListen {
		t.Errorf("printed config: [http] listen %q, public_url %q; want the default listener and its URL", cfg.HTTP.Listen, cfg.HTTP.PublicURL)
	}
	c, err := mm.NewClient(url, mm.Secret(tok[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	team, _, err := c.TeamByName(context.Background(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	if m, _, err := c.TeamMember(context.Background(), team.ID, me.ID); err != nil || !strings.Contains(m.Roles, "team_admin") {
		t.Errorf("the bot's membership of team ops = %+v, %v; want a team admin", m, err)
	}
	if code := stop(); code != 0 {
		t.Errorf("fake-server exit code = %d after interrupt, want 0", code)
	}
}

// A team's own bot names itself in the command it says to run next.
func TestFakeServerWelcomeNamesProgram(t *testing.T) {
	sf, err := parseSeed("(default)", defaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	w, err := startWorld("127.0.0.1:0", sf, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.srv.Close()
	for configOut, want := range map[string]string{
		"":         "then run `ourbot run -c matterbot.toml`",
		"bot.toml": "run `ourbot run -c bot.toml`",
	} {
		var out strings.Builder
		if err := w.printWelcome(&out, "ourbot", false, configOut); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "matterbot run") {
			t.Errorf("printWelcome(ourbot, --config-out %q) = %q, want %q and no matterbot run", configOut, out.String(), want)
		}
	}
}

// getMe returns GET /users/me with token.
func getMe(t *testing.T, url, token string) mm.User {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/v4/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me mm.User
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		t.Fatalf("GET /users/me: %v", err)
	}
	return me
}

// A restarted fake server has the same world: the bot's token and the
// ids are those of the last start, so a saved config keeps working, and
// --config-out rewrites its own file.
func TestFakeServerStableAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "matterbot.toml")
	type start struct {
		cfg   *config.Config
		me    mm.User
		teams string
	}
	startOnce := func() start {
		out, url, stop := startFakeServer(t, "--listen", "127.0.0.1:0", "--config-out", path)
		defer stop()
		if want := "bot config written to " + path; !strings.Contains(out.String(), want) {
			t.Errorf("output %q does not say %q", out.String(), want)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatalf("--config-out wrote a file run rejects: %v", err)
		}
		if got := cfg.Mattermost.URL(); got != url {
			t.Errorf("--config-out server %s, want %s", got, url)
		}
		tok := cfg.Mattermost.Token.Reveal()
		me := getMe(t, url, tok)
		req, _ := http.NewRequest("GET", url+"/api/v4/users/me/teams", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var teams []mm.Team
		_ = json.NewDecoder(resp.Body).Decode(&teams)
		var ids []string
		for _, tm := range teams {
			ids = append(ids, tm.Name+"="+tm.ID)
		}
		return start{cfg, me, strings.Join(ids, ",")}
	}
	first, again := startOnce(), startOnce()
	if first.me.Username != "ops-bot" || again.me.ID != first.me.ID || again.teams != first.teams || first.teams == "" {
		t.Errorf("after a restart: bot %s %s teams %s; first start: bot %s %s teams %s; want the same ids",
			again.me.Username, again.me.ID, again.teams, first.me.Username, first.me.ID, first.teams)
	}
	if a, b := first.cfg.Mattermost.Token.Reveal(), again.cfg.Mattermost.Token.Reveal(); a != b {
		t.Errorf("bot token %q after a restart, %q before; want the same", b, a)
	}
}

func TestFakeServerConfigOutRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "matterbot.toml")
	const mine = "# my own config\nprefix = \"?\"\n"
	if err := os.WriteFile(path, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"fake-server", "--listen", "127.0.0.1:0", "--config-out", path}, &out, &errOut)
	want := "matterbot: --config-out " + path + ": the file exists and was not written by fake-server; remove it or name another file\n"
	if code != 1 || errOut.String() != want {
		t.Errorf("fake-server --config-out on a file of the user's = %d %q, want 1 %q", code, errOut.String(), want)
	}
	if b, _ := os.ReadFile(path); string(b) != mine {
		t.Errorf("the user's file was changed to %q", b)
	}
}

// Listening on all interfaces, the fake prints an address a bot can
// dial, not "[::]".
func TestFakeServerListenAll(t *testing.T) {
	out, url, stop := startFakeServer(t, "--listen", "0.0.0.0:0")
	defer stop()
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(out.String(), ", all interfaces\n") {
		t.Errorf("listening on 0.0.0.0, printed %s in %q; want http://127.0.0.1:PORT and a note", url, out.String())
	}
	cfg := printedConfig(t, out.String())
	if cfg.Mattermost.Server != "127.0.0.1" || cfg.Mattermost.URL() != url {
		t.Errorf("printed config server %q (%s), want 127.0.0.1 (%s)", cfg.Mattermost.Server, cfg.Mattermost.URL(), url)
	}
	if me := getMe(t, url, cfg.Mattermost.Token.Reveal()); me.Username != "ops-bot" {
		t.Errorf("the printed server and token reach %q, want ops-bot", me.Username)
	}
}

func TestDialURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8065", "http://127.0.0.1:8065"},
		{"http://[::]:8065", "http://127.0.0.1:8065"},
		{"http://0.0.0.0:8065", "http://127.0.0.1:8065"},
		{"http://[::1]:8065", "http://[::1]:8065"},
		{"http://192.0.2.7:8065", "http://192.0.2.7:8065"},
	}
	for _, tc := range tests {
		if got := dialURL(tc.in); got != tc.want {
			t.Errorf("dialURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
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

func TestEverydayUser(t *testing.T) {
	tests := []struct {
		name     string
		accounts []account
		want     string
	}{
		{"none", nil, ""},
		{"only bots", []account{{username: "ops-bot", bot: true}}, ""},
		{"first plain user", []account{{username: "ops-bot", bot: true}, {username: "root", admin: true}, {username: "alice"}, {username: "bob"}}, "alice"},
		{"only admins", []account{{username: "a1", admin: true}, {username: "a2", admin: true}}, "a1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := everydayUser(tc.accounts); got != tc.want {
				t.Errorf("everydayUser(%+v) = %q, want %q", tc.accounts, got, tc.want)
			}
		})
	}
}

// --server-version picks the profile the fake claims and plays; any other
// value is refused before the server starts, naming the accepted ones.
func TestFakeServerVersionFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, mmtest.CurrentVersion},
		{[]string{"--server-version", "current"}, mmtest.CurrentVersion},
		{[]string{"--server-version", "5.36"}, "5.36.1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, url, stop := startFakeServer(t, append([]string{"--listen", "127.0.0.1:0"}, tc.args...)...)
			defer stop()
			resp, err := http.Get(url + "/api/v4/system/ping")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Version-Id"); !strings.HasPrefix(got, tc.want+".") {
				t.Errorf("X-Version-Id = %q, want release %s", got, tc.want)
			}
		})
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"fake-server", "--listen", "127.0.0.1:0", "--server-version", "5.37"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "--server-version") || !strings.Contains(errOut.String(), `"current","5.36"`) || !strings.Contains(errOut.String(), "5.37") {
		t.Errorf("fake-server --server-version 5.37 = %d %q, want an error naming the flag, current, 5.36 and the value", code, errOut.String())
	}
}

// seedHelpExample returns the seed file of seedHelp: its indented lines.
func seedHelpExample(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(seedHelp, "\n") {
		if strings.HasPrefix(line, "  ") {
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		} else if line == "" {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestSeedHelpExample: the seed file that --help documents is one the
// command accepts, and it does what it says: bot creation through the API
// enabled, the bot's description set.
func TestSeedHelpExample(t *testing.T) {
	example := seedHelpExample(t)
	for _, want := range []string{"[server]", "enable_bot_account_creation", "[[teams]]", "[[users]]", "[[bots]]", "description", "[[channels]]", "mfa_secret"} {
		if !strings.Contains(example, want) {
			t.Errorf("the documented seed file lacks %q:\n%s", want, example)
		}
	}
	for _, enabled := range []bool{true, false} {
		text := example + "\n[[users]]\nusername = \"root\"\npassword = \"root-password\"\nadmin = true\n"
		if !enabled {
			text = strings.Replace(text, "enable_bot_account_creation = true", "enable_bot_account_creation = false", 1)
		}
		sf, err := parseSeed("example.toml", text)
		if err != nil {
			t.Fatalf("the documented seed file does not parse: %v\n%s", err, text)
		}
		w, err := startWorld("127.0.0.1:0", sf, "", slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("the documented seed file does not apply: %v", err)
		}
		defer w.srv.Close()
		bot, ok := w.srv.User("ops-bot")
		if !ok || bot.BotDescription != "Runs the ops commands" {
			t.Errorf("seeded bot = %+v, want the description of the seed", bot)
		}
		root, _ := w.srv.User("root")
		tok, err := w.srv.Login(root.ID)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", w.srv.URL()+"/api/v4/bots", strings.NewReader(`{"username":"made-bot"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 201, false: 403}[enabled]; resp.StatusCode != want {
			t.Errorf("enable_bot_account_creation = %v: POST /bots = %d, want %d", enabled, resp.StatusCode, want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"fake-server", "--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), seedHelp[:60]) {
		t.Errorf("fake-server --help = %d %q, want the seed format", code, out.String())
	}
}

// TestSeedDocs: docs/fake-server.md shows the seed file --help documents.
func TestSeedDocs(t *testing.T) {
	doc, err := os.ReadFile("docs/fake-server.md")
	if err != nil {
		t.Fatal(err)
	}
	if example := strings.TrimSpace(seedHelpExample(t)); !strings.Contains(string(doc), "```toml\n"+example+"\n```") {
		t.Errorf("docs/fake-server.md does not show the seed file of fake-server --help:\n%s", example)
	}
}

// The playground offers the users that can log in: with their password,
// or with their token when they have no password or need an MFA code;
// bots and users with neither are left out.
func TestSeedLogins(t *testing.T) {
	sf, err := parseSeed("logins.toml", `
[[users]]
username = "alice"
password = "alice-password"
[[users]]
username = "carol"
token = "caroltoken"
admin = true
[[users]]
username = "dave"
password = "dave-password"
token = "davetoken"
mfa_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
[[users]]
username = "erin"
password = "erin-password"
mfa_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
[[users]]
username = "frank"
[[bots]]
username = "ops-bot"
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []playground.Login{
		{Username: "alice", Password: "alice-password"},
		{Username: "carol", Token: "caroltoken", Admin: true},
		{Username: "dave", Token: "davetoken"},
	}
	if diff := cmp.Diff(want, sf.logins()); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
}
