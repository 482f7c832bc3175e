package matterbot

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// fakeServerCmd runs package mmtest's fake Mattermost server on a TCP
// address, seeded from a TOML file or with a small default world, until
// interrupted.
type fakeServerCmd struct {
	Listen   string `default:"127.0.0.1:8065" help:"Address to listen on."`
	Seed     string `help:"TOML file describing teams, users, bots and channels (default: a small demo world)." type:"path"`
	LogLevel string `default:"auto" enum:"auto,debug,info,warn,error" help:"Log level; requests are logged at debug. auto: debug, or warn with --chat."`
	Chat     bool   `help:"Talk to the bot from this terminal: each line typed is posted as the seed's admin in town-square, and the answers are printed."`
}

// seedFile is the --seed format:
//
//	[[teams]]
//	name = "ops"
//	display_name = "Ops"
//
//	[[users]]
//	username = "alice"
//	password = "alice-password"
//	admin = true
//	teams = ["ops"]
//	mfa_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" # optional: login wants a TOTP code
//
//	[[bots]]
//	username = "ops-bot"
//	display_name = "Ops Bot"
//	owner = "alice"
//	token = "..."          # optional; a random token otherwise
//	teams = ["ops"]
//
//	[[channels]]
//	team = "ops"
//	name = "deploys"
//	display_name = "Deploys"
//	type = "O"             # O public (default), P private
//	members = ["alice", "ops-bot"]
type seedFile struct {
	Teams []struct {
		Name        string `toml:"name"`
		DisplayName string `toml:"display_name"`
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

// defaultSeed is the world used without --seed.
const defaultSeed = `
[[teams]]
name = "ops"
display_name = "Ops"

[[users]]
username = "alice"
password = "alice-password"
admin = true
teams = ["ops"]

[[users]]
username = "bob"
password = "bob-password"
teams = ["ops"]

[[bots]]
username = "ops-bot"
display_name = "Ops Bot"
owner = "alice"
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
members = ["alice", "ops-bot"]
`

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

// firstAdmin returns the username of the first admin in accounts that
// is not a bot, or "" if there is none.
func firstAdmin(accounts []account) string {
	for _, a := range accounts {
		if a.admin && !a.bot {
			return a.username
		}
	}
	return ""
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
		users[b.Username] = bot.ID
		if err := join("bot "+b.Username, bot.ID, b.Teams); err != nil {
			return nil, err
		}
		tok := b.Token
		if tok == "" {
			if tok, err = srv.CreateToken(bot.ID, "seed"); err != nil {
				return nil, err
			}
		} else if err := srv.AddToken(bot.ID, tok, "seed"); err != nil {
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
	return accounts, nil
}

func (c *fakeServerCmd) Run(e *env) error {
	name, text := "(default)", defaultSeed
	if c.Seed != "" {
		b, err := os.ReadFile(c.Seed)
		if err != nil {
			return err
		}
		name, text = c.Seed, string(b)
	}
	sf, err := parseSeed(name, text)
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
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	srv, err := mmtest.Start(c.Listen, &mmtest.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	accounts, err := sf.apply(srv)
	if err != nil {
		return err
	}
	if err := printWelcome(e.stdout, srv.URL(), sf, accounts, c.Chat); err != nil {
		return err
	}
	if c.Chat {
		ch, err := newChat(srv, sf, accounts, e.stdout)
		if err != nil {
			return err
		}
		ch.run(e.ctx, e.stdin)
	}
	<-e.ctx.Done()
	logger.Info("fake server stopping")
	return nil
}

func printWelcome(w io.Writer, url string, sf *seedFile, accounts []account, chat bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "fake Mattermost server at %s (Ctrl-C stops it)\n", url)
	var teams []string
	for _, t := range sf.Teams {
		teams = append(teams, t.Name)
	}
	sort.Strings(teams)
	fmt.Fprintf(&b, "teams: %s\n", strings.Join(teams, ", "))
	for _, a := range accounts {
		switch {
		case a.bot:
			fmt.Fprintf(&b, "bot   %-12s token %s\n", a.username, a.token)
		default:
			role := "user "
			if a.admin {
				role = "admin"
			}
			fmt.Fprintf(&b, "%s %-12s password %q", role, a.username, a.password)
			if a.token != "" {
				fmt.Fprintf(&b, " token %s", a.token)
			}
			if a.mfa {
				b.WriteString(" (MFA on)")
			}
			b.WriteString("\n")
		}
	}
	if len(teams) > 0 {
		admin := firstAdmin(accounts)
		for _, a := range accounts {
			if a.bot {
				b.WriteString("\nbot config: save these lines as matterbot.toml, then run `matterbot run -c matterbot.toml`\n")
				if admin != "" {
					fmt.Fprintf(&b, "admins = [\"@%s\"]\n", admin)
				}
				fmt.Fprintf(&b, "[mattermost]\nserver = %q\nscheme = \"http\"\nport = %s\nteam = %q\ntoken = %q\n\n",
					hostOf(url), portOf(url), teams[0], a.token)
				break
			}
		}
	}
	if !chat {
		b.WriteString("run with --chat to talk to the bot from this terminal, without a Mattermost client\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hostOf and portOf split "http://host:port".
func hostOf(url string) string {
	h := strings.TrimPrefix(url, "http://")
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

func portOf(url string) string {
	h := strings.TrimPrefix(url, "http://")
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[i+1:]
	}
	return "80"
}
