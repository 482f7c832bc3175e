package matterbot

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
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
// Its HTTP listener takes a free port: the tests run bots in parallel,
// and the default port would be one for all.
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
	// A socket whose token the server does not know is closed after
	// AuthTimeout (5 s on a real server): short here, so that a bot whose
	// token is revoked learns it at once. The bot's own sockets
	// authenticate on the upgrade and never wait for it.
	w := &runWorld{srv: mmtest.NewServer(t, &mmtest.Options{
		WebSocket: mmtest.WebSocketOptions{AuthTimeout: 50 * time.Millisecond},
	})}
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

[http]
listen = "127.0.0.1:0"

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

// TestRunStartupErrors checks that every way the bot can fail to start
// ends with exit code 1 and exactly one line that says what to fix,
// without the package prefixes of the layers it went through.
func TestRunStartupErrors(t *testing.T) {
	w := newRunWorld(t)
	if _, err := w.srv.AddTeam("lonely", "Lonely"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.AddUser(mmtest.User{Username: "carol", Password: "carol-password"}); err != nil {
		t.Fatal(err)
	}
	dave, err := w.srv.AddUser(mmtest.User{Username: "dave", Password: "dave-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.EnableMFA(dave.ID, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	site := w.srv.URL()
	port := site[strings.LastIndex(site, ":")+1:]

	// A port where nothing listens: listen, note the port, close.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	mutePort := muteServer(t)

	// A TLS server whose certificate nobody trusts.
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	tlsPort := tlsSrv.URL[strings.LastIndex(tlsSrv.URL, ":")+1:]

	// A web server that is not Mattermost: an HTML page for every path.
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<!doctype html><html><body><h1>Not Found</h1></body></html>")
	}))
	t.Cleanup(web.Close)
	webPort := web.URL[strings.LastIndex(web.URL, ":")+1:]

	// An address in use, for the HTTP listener.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() }) // the subtests run after this function returns
	takenAddr := taken.Addr().String()

	token := fmt.Sprintf("token = %q\n", w.token)
	tests := []struct {
		name   string
		config string // the file, with $PORT replaced by the fake's port
		want   string // the "matterbot: " lines of stderr: one, or one per config problem
		is     func(error) bool
	}{
		{
			name:   "bad token",
			is:     func(err error) bool { return errors.Is(err, mm.ErrUnauthorized) },
			config: "server = \"127.0.0.1\"\nport = $PORT\ntoken = \"nosuchtokennosuchtoken1234\"\n",
			want:   "matterbot: " + site + " rejected the token: check that it is valid and not revoked",
		},
		{
			name:   "bad password",
			is:     func(err error) bool { return errors.Is(err, mm.ErrUnauthorized) },
			config: "server = \"127.0.0.1\"\nport = $PORT\nlogin = \"carol\"\npassword = \"wrong\"\n",
			want:   "matterbot: " + site + ` rejected the login "carol": check the login, password and MFA code`,
		},
		{
			name:   "no MFA code",
			config: "server = \"127.0.0.1\"\nport = $PORT\nlogin = \"dave\"\npassword = \"dave-password\"\n",
			want:   "matterbot: " + site + ` wants an MFA code for "dave": set mfa_token, or use an access token`,
			is:     func(err error) bool { return errors.Is(err, mm.ErrUnauthorized) },
		},
		{
			name:   "unknown team",
			is:     func(err error) bool { return errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) },
			config: "server = \"127.0.0.1\"\nport = $PORT\n" + token + "team = \"nope\"\n",
			want:   `matterbot: team "nope" not found on ` + site + ", or opsbot is not a member of it",
		},
		{
			// The server hides a team from a user outside it, so this
			// reads as the unknown team does.
			name:   "team without the bot",
			is:     func(err error) bool { return errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) },
			config: "server = \"127.0.0.1\"\nport = $PORT\n" + token + "team = \"lonely\"\n",
			want:   `matterbot: team "lonely" not found on ` + site + ", or opsbot is not a member of it",
		},
		{
			name:   "unreachable server",
			is:     func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) },
			config: fmt.Sprintf("server = \"127.0.0.1\"\nport = %d\n", closedPort) + token,
			want:   fmt.Sprintf("matterbot: cannot reach http://127.0.0.1:%d: connection refused", closedPort),
		},
		{
			name:   "plain HTTP server on https",
			is:     func(err error) bool { return errors.Is(err, http.ErrSchemeMismatch) },
			config: "server = \"127.0.0.1\"\nport = $PORT\nscheme = \"https\"\n" + token,
			want:   "matterbot: https://127.0.0.1:" + port + ` does not speak TLS; set scheme = "http" or the right port`,
		},
		{
			name:   "untrusted certificate",
			is:     func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) },
			config: "server = \"127.0.0.1\"\nport = " + tlsPort + "\nscheme = \"https\"\n" + token,
			want:   "matterbot: TLS certificate of " + tlsSrv.URL + " not trusted (x509: certificate signed by unknown authority); for a self-signed certificate set insecure = true",
		},
		{
			name:   "a web server, not Mattermost",
			is:     func(err error) bool { var nm *mm.NotMattermostError; return errors.As(err, &nm) },
			config: "server = \"127.0.0.1\"\nport = " + webPort + "\n" + token,
			want:   "matterbot: " + web.URL + " is not a Mattermost server (/api/v4/users/me answered 404 Not Found, text/html, no X-Version-Id): check the server, port and scheme",
		},
		{
			name:   "http on a TLS port",
			is:     func(err error) bool { return err != nil },
			config: "server = \"127.0.0.1\"\nport = " + tlsPort + "\nscheme = \"http\"\n" + token,
			want:   "matterbot: http://127.0.0.1:" + tlsPort + ` is a TLS port: set scheme = "https"`,
		},
		{
			name:   "timeout",
			is:     func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			config: fmt.Sprintf("server = \"127.0.0.1\"\nport = %d\ntimeout = \"100ms\"\n", mutePort) + token,
			want:   fmt.Sprintf("matterbot: http://127.0.0.1:%d did not answer within 100ms (timeout)", mutePort),
		},
		{
			name:   "bad config file",
			is:     func(err error) bool { var l config.ErrorList; return errors.As(err, &l) },
			config: "server = \"127.0.0.1\"\nport = \"eighty\"\n" + token,
			want:   `matterbot: $FILE:6: mattermost.port: want an integer, got a string ("eighty")`,
		},
		{
			name:   "another backend",
			config: "backend = \"console\"\n[mattermost]\nserver = \"127.0.0.1\"\nport = $PORT\n" + token,
			want:   "matterbot: backend \"console\": run serves Mattermost; try `matterbot console`",
			is:     func(err error) bool { return err != nil },
		},
		{
			name:   "webhook address taken",
			config: "server = \"127.0.0.1\"\nport = $PORT\nteam = \"ops-team\"\n" + token + "[http]\nlisten = \"" + takenAddr + "\"\n",
			want:   "matterbot: cannot listen on " + takenAddr + ` ([http] listen): address already in use; choose another port, or listen = "" to turn the listener off`,
			is:     func(err error) bool { return errors.Is(err, syscall.EADDRINUSE) },
		},
		{
			name:   "listener open to the network without a secret",
			config: "server = \"127.0.0.1\"\nport = $PORT\nteam = \"ops-team\"\n" + token + "[http]\nlisten = \"0.0.0.0:0\"\n",
			want:   `matterbot: $FILE:9: http.listen: "0.0.0.0:0" is reachable from other machines: set http.secret, which every webhook must then prove it knows, or listen on 127.0.0.1`,
			is:     func(err error) bool { var l config.ErrorList; return errors.As(err, &l) && len(l) == 1 },
		},
		{
			name:   "storage directory missing",
			config: "server = \"127.0.0.1\"\nport = $PORT\nteam = \"ops-team\"\n" + token + "[storage]\npath = \"$DIR/no/such/dir/bot.db\"\n",
			want:   "matterbot: cannot open the storage file $DIR/no/such/dir/bot.db: no such file or directory",
			is:     func(err error) bool { return errors.Is(err, fs.ErrNotExist) },
		},
		{
			name:   "two problems in the file",
			config: "server = \"127.0.0.1\"\nport = \"eighty\"\ntimeout = \"soon\"\n" + token,
			want: `matterbot: $FILE:6: mattermost.port: want an integer, got a string ("eighty")` + "\n" +
				`matterbot: $FILE:7: mattermost.timeout: "soon" is not a duration (want seconds, or a string such as "1m30s")`,
			is: func(err error) bool { var l config.ErrorList; return errors.As(err, &l) && len(l) == 2 },
		},
		{
			name:   "token file missing",
			config: "server = \"127.0.0.1\"\nport = $PORT\ntoken_file = \"$DIR/no-token\"\n",
			want:   "matterbot: $FILE:7: mattermost.token_file: open $DIR/no-token: no such file or directory",
			is: func(err error) bool {
				var l config.ErrorList
				return errors.Is(err, fs.ErrNotExist) && errors.As(err, &l)
			},
		},
		{
			name: "no config file",
			is:   func(err error) bool { return errors.Is(err, fs.ErrNotExist) },
			want: "matterbot: configuration file $FILE not found: name one with -c FILE (see config/matterbot.example.toml)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "matterbot.toml")
			if tc.config != "" {
				// The case's [mattermost] keys, with the defaults it
				// lacks first, then its other tables.
				cfg := tc.config
				if !strings.Contains(cfg, "[mattermost]") {
					cfg = "[mattermost]\n" + cfg
				}
				var defaults string
				if !strings.Contains(cfg, "scheme =") {
					defaults += "scheme = \"http\"\n"
				}
				if !strings.Contains(cfg, "team =") {
					defaults += "team = \"ops-team\"\n"
				}
				cfg = "prefix = \"!\"\n" + strings.Replace(cfg, "[mattermost]\n", "[mattermost]\n"+defaults, 1)
				cfg = strings.ReplaceAll(cfg, "$PORT", port)
				if !strings.Contains(cfg, "[http]") {
					cfg += "[http]\nlisten = \"127.0.0.1:0\"\n"
				}
				if !strings.Contains(cfg, "[storage]") {
					cfg += fmt.Sprintf("[storage]\npath = %q\n", filepath.Join(dir, "bot.db"))
				}
				cfg = strings.ReplaceAll(cfg, "$DIR", dir)
				if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// What run does, in two steps, to check the error as well as
			// its line (TestRunExitCode checks the rest of run's path).
			var errOut bytes.Buffer
			err := (&runCmd{Config: file}).Run(testEnv(context.Background(), io.Discard, &errOut))
			if err == nil {
				t.Fatalf("runCmd.Run() = nil, want an error; stderr:\n%s", errOut.String())
			}
			if !tc.is(err) {
				t.Errorf("runCmd.Run() = %#v; its chain lacks the expected cause", err)
			}
			printError(&errOut, "matterbot", err)
			var lines []string
			for _, l := range strings.Split(strings.TrimRight(errOut.String(), "\n"), "\n") {
				if !strings.HasPrefix(l, "time=") { // the log
					lines = append(lines, l)
				}
			}
			// Connect first, plugins after: a bot that cannot start
			// activates none, and its error is the one line.
			if strings.Contains(errOut.String(), "plugin activated") {
				t.Errorf("plugins were activated before the startup failed:\n%s", errOut.String())
			}
			want := strings.Split(strings.NewReplacer("$FILE", file, "$DIR", dir).Replace(tc.want), "\n")
			if diff := cmp.Diff(want, lines); diff != "" {
				t.Errorf("stderr less the log (-want +got):\n%s\nstderr:\n%s", diff, errOut.String())
			}
		})
	}
}

// TestRunExitCode checks that run prints a failure to start as
// TestRunStartupErrors expects and exits with 1.
func TestRunExitCode(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", "nosuchtokennosuchtoken1234")
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"run", "-c", w.config}, io.Discard, &errOut); code != 1 {
		t.Errorf("run with a bad token = %d, want 1; stderr:\n%s", code, errOut.String())
	}
	want := "matterbot: " + w.srv.URL() + " rejected the token: check that it is valid and not revoked"
	if got := lastLine(errOut.String()); got != want {
		t.Errorf("run with a bad token: last stderr line = %q, want %q", got, want)
	}
}

// muteServer listens on 127.0.0.1, accepts connections and never answers
// them; it returns the port.
func muteServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 64) // held open until cleanup
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			default:
				c.Close()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRunServesWebhooks(t *testing.T) {
	w := newRunWorld(t)
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut := &notifyWriter{wrote: make(chan struct{}, 1)}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", w.config}, io.Discard, errOut) }()
	addrRE := regexp.MustCompile(`msg="http server listening" addr=(\S+)`)
	deadline := time.After(30 * time.Second)
	for !strings.Contains(errOut.String(), "msg=connected") || addrRE.FindStringSubmatch(errOut.String()) == nil {
		select {
		case <-errOut.wrote:
		case code := <-done:
			t.Fatalf("run exited with %d; stderr:\n%s", code, errOut.String())
		case <-deadline:
			t.Fatalf("no HTTP listener or no connection; stderr:\n%s", errOut.String())
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
		t.Error("HTTP listener still answering after run returned")
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
				// The file's defaults are the client's and the backend's:
				// config may not import them (DESIGN.md), so this pins them.
				// No client-side rate cap by default: 0.
				MaxMessageRunes:  mm.PostMessageMaxRunes,
				PresenceInterval: mmbackend.DefaultPresenceInterval,
				LoopLimit:        mmbackend.DefaultLoopLimit, LoopWindow: mmbackend.DefaultLoopWindow,
				OutboxMaxAge: mmbackend.DefaultOutboxMaxAge, CatchUp: mmbackend.DefaultCatchUp,
				UserCache: mmbackend.DefaultUserCache, UserCacheTTL: mmbackend.DefaultUserCacheTTL,
				WebSocket: mm.WebSocketOptions{DeadLinkAfter: mm.DefaultDeadLinkAfter}},
		},
		{
			name: "every backend option",
			in: config.Mattermost{Server: "chat.example.com", Team: "ops", Token: config.NewSecret("tok"),
				Scheme: "http", Port: 80, Timeout: time.Second, CardsHook: "hook",
				AllowBots: true, AllowWebhooks: true, RateLimit: 2.5, MaxMessageRunes: 4000,
				PresenceInterval: 5 * time.Second, LoopLimit: 3, LoopWindow: 10 * time.Second,
				IgnoreUsers: []string{"@errbot"}, OutboxMaxAge: 15 * time.Minute, DeadLinkAfter: 20 * time.Second,
				CatchUp: 5 * time.Minute, UserCache: 500, UserCacheTTL: time.Minute,
				Slash: config.Slash{Trigger: "ops", Commands: []string{"deploy"}, Response: "in_channel"}},
			want: mmbackend.Options{Server: "chat.example.com", Teams: []string{"ops"}, Token: "tok",
				Scheme: "http", Port: 80, Timeout: time.Second, CardsHook: "hook",
				AllowBots: true, AllowWebhooks: true, RateLimit: 2.5, MaxMessageRunes: 4000,
				PresenceInterval: 5 * time.Second, LoopLimit: 3, LoopWindow: 10 * time.Second,
				IgnoreUsers: []string{"@errbot"}, OutboxMaxAge: 15 * time.Minute, CatchUp: 5 * time.Minute,
				UserCache: 500, UserCacheTTL: time.Minute,
				WebSocket: mm.WebSocketOptions{DeadLinkAfter: 20 * time.Second},
				Slash:     mmbackend.SlashOptions{NoRegister: true, Trigger: "ops", Commands: []string{"deploy"}, InChannel: true}},
		},
		{
			name: "zero presence interval, loop limit, outbox max age, dead link after and catch-up mean off; zero user cache TTL, never",
			in:   config.Mattermost{RateLimit: 1, LoopWindow: time.Second},
			want: mmbackend.Options{RateLimit: 1, PresenceInterval: -1, LoopLimit: -1, LoopWindow: time.Second, OutboxMaxAge: -1,
				CatchUp: -1, UserCacheTTL: -1, WebSocket: mm.WebSocketOptions{DeadLinkAfter: -1}, Slash: mmbackend.SlashOptions{NoRegister: true}},
		},
		{
			name: "rate limit zero means no cap",
			in: config.Mattermost{RateLimit: 0, PresenceInterval: time.Minute, LoopLimit: 1, OutboxMaxAge: time.Hour, DeadLinkAfter: time.Second,
				CatchUp: time.Minute},
			want: mmbackend.Options{RateLimit: 0, PresenceInterval: time.Minute, LoopLimit: 1, OutboxMaxAge: time.Hour, CatchUp: time.Minute,
				UserCacheTTL: -1, WebSocket: mm.WebSocketOptions{DeadLinkAfter: time.Second}, Slash: mmbackend.SlashOptions{NoRegister: true}},
		},
		{
			name: "rate limit negative means no cap",
			in: config.Mattermost{RateLimit: -3, PresenceInterval: time.Minute, LoopLimit: 1, OutboxMaxAge: time.Hour, DeadLinkAfter: time.Second,
				CatchUp: time.Minute},
			want: mmbackend.Options{RateLimit: 0, PresenceInterval: time.Minute, LoopLimit: 1, OutboxMaxAge: time.Hour, CatchUp: time.Minute,
				UserCacheTTL: -1, WebSocket: mm.WebSocketOptions{DeadLinkAfter: time.Second}, Slash: mmbackend.SlashOptions{NoRegister: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := BackendOptions(tc.in, nil)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(mmbackend.Options{}, "HTTPClient")); diff != "" {
				t.Errorf("BackendOptions(%+v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestRunUnknownAdmin: an admin the server does not know (renamed while
// the bot was down) does not stop run: it says so in the log, at error
// level, and answers commands.
func TestRunUnknownAdmin(t *testing.T) {
	w := newRunWorld(t)
	w.editConfig(t, `admins = ["@alice"]`, `admins = ["@alice", "@nobody"]`)
	b := launchRun(t, w)
	b.waitLog(t, `level=ERROR msg="name not resolved: fix the configuration" problem="admin @nobody: no such user on the server: not an admin"`)
	b.waitLog(t, `msg=connected`)
	if got := w.reply(t, w.say(t, "!echo up")); got != "up" {
		t.Errorf("reply = %q, want up", got)
	}
}
