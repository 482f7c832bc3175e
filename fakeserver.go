package matterbot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/internal/playground"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// fakeServerCmd runs package mmtest's fake Mattermost server on a TCP
// address, seeded from a TOML file or with a small default world, until
// interrupted.
type fakeServerCmd struct {
	Listen   string `default:"127.0.0.1:8065" help:"Address to listen on."`
	Seed     string `help:"TOML file describing the server, teams, users, bots and channels, in the format shown above (default: a small demo world)." type:"path"`
	LogLevel string `default:"auto" enum:"auto,debug,info,warn,error" help:"Log level; requests are logged at debug. auto: debug, or warn with --chat."`
	// ServerVersion is mmtest.Options.ServerVersion.
	ServerVersion string `name:"server-version" default:"current" enum:"current,5.36" help:"Server version to claim and behave like: current (today's server) or 5.36 (the 5.36.1 server the recorded exchanges come from)."`
	Chat          bool   `help:"Talk to the bot from this terminal: each line typed is posted as the seed's first plain user in town-square, and the answers are printed."`
	// ConfigOut overwrites only a file it wrote itself: see writeConfig.
	ConfigOut string `name:"config-out" type:"path" placeholder:"FILE" help:"Write the bot's configuration to FILE (a file an earlier --config-out wrote is overwritten, any other is refused). Ids and tokens are the same on every start, so it stays valid."`
}

// seedFile is the --seed format, documented in seedHelp.
type seedFile struct {
	Server struct {
		EnableBotAccountCreation bool `toml:"enable_bot_account_creation"`
	} `toml:"server"`
	Teams []struct {
		Name        string   `toml:"name"`
		DisplayName string   `toml:"display_name"`
		Admins      []string `toml:"admins"`
	} `toml:"teams"`
	Users []struct {
		Username  string   `toml:"username"`
		Password  string   `toml:"password"`
		Email     string   `toml:"email"`
		Admin     bool     `toml:"admin"`
		Token     string   `toml:"token"`
		Teams     []string `toml:"teams"`
		MFASecret string   `toml:"mfa_secret"`
	} `toml:"users"`
	Bots []struct {
		Username    string   `toml:"username"`
		DisplayName string   `toml:"display_name"`
		Description string   `toml:"description"`
		Owner       string   `toml:"owner"`
		Token       string   `toml:"token"`
		Teams       []string `toml:"teams"`
	} `toml:"bots"`
	Channels []struct {
		Team        string   `toml:"team"`
		Name        string   `toml:"name"`
		DisplayName string   `toml:"display_name"`
		Type        string   `toml:"type"`
		Members     []string `toml:"members"`
	} `toml:"channels"`
}

// defaultSeed is the world used without --seed. alice, the everyday
// user, is a plain user of the server (and the bot's admin in the
// printed config); sysadmin is the server's administrator, so that the
// server refuses alice what it would refuse her on a real one.
const defaultSeed = `
[[teams]]
name = "ops"
display_name = "Ops"
admins = ["ops-bot"]

[[users]]
username = "alice"
password = "alice-password"
teams = ["ops"]

[[users]]
username = "bob"
password = "bob-password"
teams = ["ops"]

[[users]]
username = "sysadmin"
password = "sysadmin-password"
admin = true
teams = ["ops"]

[[bots]]
username = "ops-bot"
display_name = "Ops Bot"
owner = "sysadmin"
teams = ["ops"]

[[channels]]
team = "ops"
name = "deploys"
display_name = "Deploys"
members = ["alice", "bob", "ops-bot"]

[[channels]]
team = "ops"
name = "alerts"
display_name = "Alerts"
members = ["alice", "ops-bot"]

[[channels]]
team = "ops"
name = "admins"
display_name = "Admins"
type = "P"
members = ["alice", "sysadmin", "ops-bot"]
`

// seedHelp documents the --seed format: the detailed help of
// fake-server, and docs/fake-server.md.
const seedHelp = `The seed file (--seed FILE) describes the world the server starts with, in
TOML. Every table is optional; an unknown key is an error. Without --seed the
server starts with a small demo world: team ops; users alice and bob (plain
users) and sysadmin (a system admin); bot ops-bot, an admin of team ops (so
that it may register its slash commands); channels deploys, alerts and the
private admins.

  [server]
  enable_bot_account_creation = true  # POST /bots may create bots; default false

  [[teams]]
  name = "ops"                        # required
  display_name = "Ops"                # default: the name
  admins = ["ops-bot"]                # team admins, among its members: users and bots below

  [[users]]
  username = "alice"                  # required: 3-22 of a-z 0-9 . - _, from a letter
  password = "alice-password"         # for POST /users/login; none: no password login
  email = "alice@example.com"         # default: <username>@example.com
  admin = false                       # true: a system admin of the server
  token = "alicetoken"                # a personal access token; default: none
  teams = ["ops"]                     # joined with their town-square and off-topic
  mfa_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" # base32; login wants a TOTP code

  [[bots]]
  username = "ops-bot"                # required
  display_name = "Ops Bot"
  description = "Runs the ops commands"
  owner = "alice"                     # a user above; default: none
  token = "opsbottoken"               # default: derived from the username
  teams = ["ops"]

  [[channels]]
  team = "ops"                        # required: a team above
  name = "deploys"                    # required
  display_name = "Deploys"            # default: the name
  type = "O"                          # O public (default), P private
  members = ["alice", "ops-bot"]      # users and bots above

Ids derive from names and bots' default tokens from their usernames, so a
world seeded again has the same ids and tokens and a saved bot configuration
keeps working.`

// Help is fake-server's detailed help: the seed file format.
func (c *fakeServerCmd) Help() string { return seedHelp }

// parseSeed decodes a seed file; name is used in errors. Unknown keys are
// errors, so a typo does not go unnoticed.
func parseSeed(name, text string) (*seedFile, error) {
	var sf seedFile
	dec := toml.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		var missing *toml.StrictMissingError
		if errors.As(err, &missing) {
			keys := make([]string, len(missing.Errors))
			for i, e := range missing.Errors {
				keys[i] = strings.Join(e.Key(), ".")
			}
			return nil, fmt.Errorf("seed %s: unknown keys %s", name, strings.Join(keys, ", "))
		}
		return nil, fmt.Errorf("seed %s: %w", name, err)
	}
	return &sf, nil
}

// account is what the command prints for one seeded account.
type account struct {
	username, password, token string
	bot, admin, mfa           bool
}

// everydayUser returns the username of the account a person uses day to
// day: the first user that is neither a bot nor a system admin, else the
// first user that is not a bot, else "". It is the bot's admin in the
// printed config and the one the chat posts as.
func everydayUser(accounts []account) string {
	first := ""
	for _, a := range accounts {
		switch {
		case a.bot:
		case !a.admin:
			return a.username
		case first == "":
			first = a.username
		}
	}
	return first
}

// stableToken is the token a seeded bot gets when the seed names none:
// derived from its name, so that it is the same on every start of the
// fake server and a saved config keeps working. Anyone can derive it:
// the fake server is for demos and tests, never for secrets.
func stableToken(username string) string {
	sum := sha256.Sum256([]byte("matterbot fake-server token\x00" + username))
	return hex.EncodeToString(sum[:])[:26]
}

// apply builds the seeded world in srv and returns the accounts to print.
func (sf *seedFile) apply(srv *mmtest.Server) ([]account, error) {
	teams := map[string]string{}
	users := map[string]string{}
	var accounts []account
	for _, t := range sf.Teams {
		team, err := srv.AddTeam(t.Name, t.DisplayName)
		if err != nil {
			return nil, err
		}
		teams[t.Name] = team.ID
	}
	join := func(who, userID string, names []string) error {
		for _, n := range names {
			id, ok := teams[n]
			if !ok {
				return fmt.Errorf("seed: %s: unknown team %q", who, n)
			}
			if err := srv.AddTeamMember(id, userID); err != nil {
				return err
			}
		}
		return nil
	}
	for _, u := range sf.Users {
		usr, err := srv.AddUser(mmtest.User{Username: u.Username, Password: u.Password, Email: u.Email, Admin: u.Admin})
		if err != nil {
			return nil, err
		}
		users[u.Username] = usr.ID
		if err := join("user "+u.Username, usr.ID, u.Teams); err != nil {
			return nil, err
		}
		a := account{username: u.Username, password: u.Password, admin: u.Admin, mfa: u.MFASecret != ""}
		if a.mfa {
			if err := srv.EnableMFA(usr.ID, u.MFASecret); err != nil {
				return nil, fmt.Errorf("seed: user %s: %w", u.Username, err)
			}
		}
		if u.Token != "" {
			if err := srv.AddToken(usr.ID, u.Token, "seed"); err != nil {
				return nil, err
			}
			a.token = u.Token
		}
		accounts = append(accounts, a)
	}
	for _, b := range sf.Bots {
		owner := ""
		if b.Owner != "" {
			id, ok := users[b.Owner]
			if !ok {
				return nil, fmt.Errorf("seed: bot %s: unknown owner %q", b.Username, b.Owner)
			}
			owner = id
		}
		bot, err := srv.AddBot(b.Username, b.DisplayName, owner)
		if err != nil {
			return nil, err
		}
		if b.Description != "" {
			if err := srv.SetBotDescription(bot.ID, b.Description); err != nil {
				return nil, fmt.Errorf("seed: bot %s: %w", b.Username, err)
			}
		}
		users[b.Username] = bot.ID
		if err := join("bot "+b.Username, bot.ID, b.Teams); err != nil {
			return nil, err
		}
		tok := b.Token
		if tok == "" {
			tok = stableToken(b.Username)
		}
		if err := srv.AddToken(bot.ID, tok, "seed"); err != nil {
			return nil, err
		}
		accounts = append(accounts, account{username: b.Username, token: tok, bot: true})
	}
	for _, c := range sf.Channels {
		tid, ok := teams[c.Team]
		if !ok {
			return nil, fmt.Errorf("seed: channel %s: unknown team %q", c.Name, c.Team)
		}
		typ := c.Type
		if typ == "" {
			typ = "O"
		}
		display := c.DisplayName
		if display == "" {
			display = c.Name
		}
		ch, err := srv.AddChannel(tid, c.Name, display, typ)
		if err != nil {
			return nil, err
		}
		for _, m := range c.Members {
			uid, ok := users[m]
			if !ok {
				return nil, fmt.Errorf("seed: channel %s: unknown member %q", c.Name, m)
			}
			if err := srv.AddChannelMember(ch.ID, uid); err != nil {
				return nil, err
			}
		}
	}
	// Team admins last, once the members have joined: a bot that is
	// one may register its slash commands, as on a real server where an
	// admin made it one.
	for _, t := range sf.Teams {
		for _, a := range t.Admins {
			uid, ok := users[a]
			if !ok {
				return nil, fmt.Errorf("seed: team %s: unknown admin %q", t.Name, a)
			}
			if err := srv.SetTeamAdmin(teams[t.Name], uid, true); err != nil {
				return nil, fmt.Errorf("seed: team %s: admin %s: not a member of the team", t.Name, a)
			}
		}
	}
	return accounts, nil
}

func (c *fakeServerCmd) Run(e *env) error {
	sf, err := loadSeed(c.Seed)
	if err != nil {
		return err
	}
	var level slog.Level
	switch {
	case c.LogLevel != "auto":
	case c.Chat:
		c.LogLevel = "warn" // request logs would bury the conversation
	default:
		c.LogLevel = "debug"
	}
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if c.ConfigOut != "" {
		if err := checkConfigOut(c.ConfigOut); err != nil { // before the server starts
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	w, err := startWorld(c.Listen, sf, c.ServerVersion, logger)
	if err != nil {
		return err
	}
	defer w.srv.Close()
	if c.ConfigOut != "" {
		if err := w.writeConfig(c.ConfigOut); err != nil {
			return err
		}
	}
	if err := w.printWelcome(e.stdout, e.name, c.Chat, c.ConfigOut); err != nil {
		return err
	}
	if c.Chat {
		ch, err := newChat(w.srv, sf, w.accounts, e.stdout)
		if err != nil {
			return err
		}
		ch.run(e.ctx, e.stdin)
	}
	<-e.ctx.Done()
	logger.Info("fake server stopping")
	return nil
}

// logins returns the accounts the playground offers: the users that log
// in with a password, or else have a token. A user with MFA needs a
// code the page cannot make: it is offered with its token only.
func (sf *seedFile) logins() []playground.Login {
	var out []playground.Login
	for _, u := range sf.Users {
		l := playground.Login{Username: u.Username, Admin: u.Admin}
		switch {
		case u.Password != "" && u.MFASecret == "":
			l.Password = u.Password
		case u.Token != "":
			l.Token = u.Token
		default:
			continue
		}
		out = append(out, l)
	}
	return out
}

// loadSeed reads the seed file path, or the default world for "".
func loadSeed(path string) (*seedFile, error) {
	if path == "" {
		return parseSeed("(default)", defaultSeed)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseSeed(path, string(b))
}

// world is a fake server listening, with a seeded world.
type world struct {
	srv      *mmtest.Server
	seed     *seedFile
	accounts []account
	// url is where a bot on this machine reaches the server: the
	// listening URL, with 127.0.0.1 for an unspecified address (a
	// server listening on 0.0.0.0 or [::] is reached on the loopback
	// too).
	url string
}

// startWorld starts a fake server on addr, claiming the server version
// version ("" for the current one), and seeds it. Ids of the seeded
// accounts, teams and channels, and the bots' tokens, are the same on
// every start, so that a saved config keeps working. The caller must
// close w.srv.
func startWorld(addr string, sf *seedFile, version string, logger *slog.Logger) (*world, error) {
	srv, err := mmtest.Start(addr, &mmtest.Options{Logger: logger, StableIDs: true, ServerVersion: version,
		EnableBotAccountCreation: sf.Server.EnableBotAccountCreation, WebApp: playground.Handler(sf.logins())})
	if err != nil {
		return nil, err
	}
	accounts, err := sf.apply(srv)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &world{srv: srv, seed: sf, accounts: accounts, url: dialURL(srv.URL())}, nil
}

// dialURL returns the URL "http://host:port" with a loopback host in
// place of an unspecified one ("0.0.0.0", "[::]"): a bot cannot dial
// those, and run rejects them as server names.
func dialURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// bot returns the first seeded bot, and false when there is none.
func (w *world) bot() (account, bool) {
	for _, a := range w.accounts {
		if a.bot {
			return a, true
		}
	}
	return account{}, false
}

// botConfig returns the configuration lines for the first bot of the
// world (admins, the [mattermost] table, then the [http] table: the bot's
// listener on listen, which is also the address the fake server calls
// for buttons, dialogs and slash commands), and false when the world has
// no bot or no team.
func (w *world) botConfig(listen string) (string, bool) {
	b, ok := w.bot()
	if !ok || len(w.seed.Teams) == 0 {
		return "", false
	}
	u, err := url.Parse(w.url)
	if err != nil {
		return "", false
	}
	var s strings.Builder
	if user := everydayUser(w.accounts); user != "" {
		fmt.Fprintf(&s, "admins = [\"@%s\"]\n", user)
	}
	fmt.Fprintf(&s, "[mattermost]\nserver = %q\nscheme = \"http\"\nport = %s\nteam = %q\ntoken = %q\n",
		u.Hostname(), u.Port(), w.teamNames()[0], b.token)
	// The fake calls the loopback, as a server whose
	// AllowedUntrustedInternalConnections lists it.
	fmt.Fprintf(&s, "[http]\nlisten = %q\npublic_url = %q\n", listen, "http://"+listen)
	return s.String(), true
}

// teamNames returns the world's team names, sorted.
func (w *world) teamNames() []string {
	var teams []string
	for _, t := range w.seed.Teams {
		teams = append(teams, t.Name)
	}
	sort.Strings(teams)
	return teams
}

// configOutMarker starts every file --config-out writes: --config-out
// overwrites a file that starts with it, and refuses any other.
const configOutMarker = "# Written by matterbot fake-server --config-out"

// writeConfig writes the bot's configuration to path for --config-out.
// It overwrites a file it wrote before (one that starts with
// configOutMarker), so that the same command can be run again after a
// restart, and refuses to overwrite any other file.
func (w *world) writeConfig(path string) error {
	text, ok := w.botConfig(config.DefaultListen)
	if !ok {
		return fmt.Errorf("--config-out: the seed has no bot or no team to write a configuration for")
	}
	if err := checkConfigOut(path); err != nil {
		return err
	}
	text = configOutMarker + "; it rewrites this file.\n" +
		"# The fake server's ids and tokens are the same on every start: the file stays valid.\n" + text
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil { // it holds a token
		return fmt.Errorf("--config-out: %w", err)
	}
	return nil
}

// checkConfigOut returns an error if --config-out may not write path: a
// file that exists and was not written by --config-out.
func checkConfigOut(path string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--config-out: %w", err)
	case !bytes.HasPrefix(old, []byte(configOutMarker)):
		return &cliError{fmt.Sprintf("--config-out %s: the file exists and was not written by fake-server; remove it or name another file", path), fs.ErrExist}
	}
	return nil
}

// printWelcome prints the server's URL, the accounts and the bot's
// configuration (or where it was written), naming the program name in
// the command to run next.
func (w *world) printWelcome(out io.Writer, name string, chat bool, configOut string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "fake Mattermost server at %s (Ctrl-C stops it)\n", w.url)
	fmt.Fprintf(&b, "playground: %s%s (chat with the bot in a browser, as any of the users below)\n", w.url, playground.Path)
	if w.url != w.srv.URL() {
		fmt.Fprintf(&b, "listening on %s, all interfaces\n", strings.TrimPrefix(w.srv.URL(), "http://"))
	}
	fmt.Fprintf(&b, "teams: %s\n", strings.Join(w.teamNames(), ", "))
	writeAccounts(&b, w.accounts)
	if text, ok := w.botConfig(config.DefaultListen); ok {
		if configOut != "" {
			fmt.Fprintf(&b, "\nbot config written to %s: run `%s run -c %s`\n\n", configOut, name, configOut)
		} else {
			fmt.Fprintf(&b, "\nbot config: save these lines as matterbot.toml, then run `%s run -c matterbot.toml`\n%s\n", name, text)
		}
	}
	if !chat {
		b.WriteString("run with --chat to talk to the bot from this terminal, without a Mattermost client\n")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// writeAccounts writes one line per account: role, name, password or
// token.
func writeAccounts(b *strings.Builder, accounts []account) {
	for _, a := range accounts {
		switch {
		case a.bot:
			fmt.Fprintf(b, "bot   %-12s token %s\n", a.username, a.token)
		default:
			role := "user "
			if a.admin {
				role = "admin"
			}
			fmt.Fprintf(b, "%s %-12s password %q", role, a.username, a.password)
			if a.token != "" {
				fmt.Fprintf(b, " token %s", a.token)
			}
			if a.mfa {
				b.WriteString(" (MFA on)")
			}
			b.WriteString("\n")
		}
	}
}
