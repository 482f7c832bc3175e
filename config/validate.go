package config

import (
	"math"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// validate checks the decoded configuration for missing keys and
// impossible values, adding one problem per finding. A key that already
// failed to decode gets no second problem (a team of the wrong type is not
// also "missing").
func (d *decoder) validate(cfg *Config) {
	decoded := len(d.errs)
	defer func() {
		bad := make(map[string]bool, decoded)
		for _, e := range d.errs[:decoded] {
			bad[e.Key] = true
		}
		kept := d.errs[:decoded]
		for _, e := range d.errs[decoded:] {
			if !bad[e.Key] {
				kept = append(kept, e)
			}
		}
		d.errs = kept
	}()
	oneOf(d, []string{"backend"}, cfg.Backend, "mattermost", "console")
	if cfg.Prefix == "" {
		d.problem([]string{"prefix"}, nil, "must not be empty")
	}
	d.nonEmpty([]string{"alt_prefixes"}, cfg.AltPrefixes)
	d.users([]string{"admins"}, cfg.Admins)
	for i, a := range cfg.Admins {
		if strings.ContainsAny(a, `*?[\`) {
			d.problem([]string{"admins", index(i)}, nil, "%q is a glob; admins are user names", a)
		}
	}
	d.nonEmpty([]string{"divert_to_thread"}, cfg.DivertToThread)
	d.nonEmpty([]string{"divert_to_private"}, cfg.DivertToPrivate)
	if cfg.TypingAfter < 0 {
		d.problem([]string{"typing_after"}, nil, "must not be negative, got %v (0 turns it off)", cfg.TypingAfter)
	}
	d.mattermost(&cfg.Mattermost, cfg.Backend == "mattermost")
	d.access(&cfg.Access)
	d.nonEmpty([]string{"exec", "dirs"}, cfg.Exec.Dirs)
	d.nonEmpty([]string{"exec", "allow_token"}, cfg.Exec.AllowToken)
	d.nonEmpty([]string{"exec", "errbot_runner"}, cfg.Exec.ErrbotRunner)
	if cfg.Storage.Path == "" {
		d.problem([]string{"storage", "path"}, nil, "must not be empty")
	}
	cfg.Log.Level = strings.ToLower(cfg.Log.Level)
	oneOf(d, []string{"log", "level"}, cfg.Log.Level, "debug", "info", "warn", "error")
	oneOf(d, []string{"log", "format"}, cfg.Log.Format, "text", "json")
	if l := cfg.HTTP.Listen; l != "" {
		host, port, err := net.SplitHostPort(l)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		switch {
		case err != nil:
			d.problem([]string{"http", "listen"}, err, "%q is not an address such as \":8080\" or \"127.0.0.1:8080\"", l)
		case !loopback(host) && cfg.HTTP.Secret.IsZero():
			d.problem([]string{"http", "listen"}, nil, "%q is reachable from other machines: set http.secret, which every webhook must then prove it knows, or listen on 127.0.0.1", l)
		}
	}
	if cfg.HTTP.Secret.IsZero() && (cfg.HTTP.Header != "" || cfg.HTTP.HMAC) {
		d.problem([]string{"http", "secret"}, nil, "missing: header and hmac need a secret")
	}
	if u := cfg.HTTP.PublicURL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "http" && pu.Scheme != "https" || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" {
			d.problem([]string{"http", "public_url"}, err, "%q is not an http or https URL such as \"https://bot.example.com\"", u)
		}
	}
	if cfg.HTTP.ActionLifetime < 0 {
		d.problem([]string{"http", "action_lifetime"}, nil, "must not be negative, got %v (0: buttons never expire)", cfg.HTTP.ActionLifetime)
	}
	if h := cfg.HTTP.Header; h != "" && strings.ContainsAny(h, " \t\r\n:") {
		d.problem([]string{"http", "header"}, nil, "%q is not a header name", h)
	}
}

// validTrigger reports whether t can be a slash command's trigger
// (model.Command.IsValid): one word of at most 128 bytes, without the
// leading slash.
func validTrigger(t string) bool {
	return len(t) <= 128 && !strings.HasPrefix(t, "/") && !strings.ContainsAny(t, " \t\r\n")
}

// loopback reports whether a listen address's host is reached from the
// same machine only: "localhost" or a loopback IP. An empty host (all
// interfaces) or another name is not.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) mattermost(m *Mattermost, required bool) {
	key := func(k string) []string { return []string{"mattermost", k} }
	if strings.Contains(m.Server, "/") || strings.Contains(m.Server, ":") && net.ParseIP(m.Server) == nil {
		d.problem(key("server"), nil, "%q is not a host name (put the scheme in scheme and the port in port)", m.Server)
	}
	if m.Team != "" && len(m.Teams) > 0 {
		d.problem(key("teams"), nil, "set team or teams, not both")
	}
	d.nonEmpty(key("teams"), m.Teams)
	oneOf(d, key("scheme"), m.Scheme, "https", "http")
	if m.Port < 1 || m.Port > 65535 {
		d.problem(key("port"), nil, "%d is out of range (1-65535)", m.Port)
	}
	if m.Timeout <= 0 {
		d.problem(key("timeout"), nil, "must be positive, got %v", m.Timeout)
	}
	d.users(key("ignore_users"), m.IgnoreUsers)
	for i, u := range m.IgnoreUsers {
		if strings.ContainsAny(u, `*?[\`) {
			d.problem(sub(key("ignore_users"), index(i)), nil, "%q is a glob; ignore_users are user names", u)
		}
	}
	if math.IsNaN(m.RateLimit) || math.IsInf(m.RateLimit, 0) {
		d.problem(key("rate_limit"), nil, "%v is not a number of requests per second (0 means no cap)", m.RateLimit)
	}
	if m.PresenceInterval < 0 {
		d.problem(key("presence_interval"), nil, "must not be negative, got %v (0 turns polling off)", m.PresenceInterval)
	}
	if m.LoopLimit < 0 {
		d.problem(key("loop_limit"), nil, "must not be negative, got %d (0 turns the guard off)", m.LoopLimit)
	}
	if m.LoopWindow <= 0 {
		d.problem(key("loop_window"), nil, "must be positive, got %v", m.LoopWindow)
	}
	if m.DeadLinkAfter < 0 || m.DeadLinkAfter > 0 && m.DeadLinkAfter < time.Second {
		d.problem(key("dead_link_after"), nil, "must be at least 1s, got %v (0 turns the detection off)", m.DeadLinkAfter)
	}
	if m.OutboxMaxAge < 0 {
		d.problem(key("outbox_max_age"), nil, "must not be negative, got %v (0 turns the outbox off)", m.OutboxMaxAge)
	}
	if m.CatchUp < 0 {
		d.problem(key("catch_up"), nil, "must not be negative, got %v (0 turns the catch-up off)", m.CatchUp)
	}
	if m.UserCache < 1 {
		d.problem(key("user_cache"), nil, "must be at least 1, got %d", m.UserCache)
	}
	if m.UserCacheTTL < 0 {
		d.problem(key("user_cache_ttl"), nil, "must not be negative, got %v (0 never expires)", m.UserCacheTTL)
	}
	if m.MaxMessageRunes < MinMessageRunes || m.MaxMessageRunes > DefaultMessageRunes {
		d.problem(key("max_message_runes"), nil, "%d is out of range (%d-%d)", m.MaxMessageRunes, MinMessageRunes, DefaultMessageRunes)
	}
	oneOf(d, []string{"mattermost", "slash", "response"}, m.Slash.Response, "ephemeral", "in_channel")
	if t := m.Slash.Trigger; t != "" && !validTrigger(t) {
		d.problem([]string{"mattermost", "slash", "trigger"}, nil, "%q is not a trigger: one word, without the /", t)
	}
	d.nonEmpty([]string{"mattermost", "slash", "commands"}, m.Slash.Commands)
	// A token_file or password_file that failed to read has been reported;
	// it still counts as set here, so nothing is reported missing twice.
	token := !m.Token.IsZero() || m.TokenFile != ""
	password := !m.Password.IsZero() || m.PasswordFile != ""
	switch {
	case token && password:
		d.problem(key("password"), nil, "token and password are both set; use a token, or login and password")
	case password && m.Login == "":
		d.problem(key("login"), nil, "missing: password is set, login must be too")
	case m.Login != "" && !password:
		d.problem(key("password"), nil, "missing: login is set, password (or password_file) must be too")
	}
	if !m.MFAToken.IsZero() && m.Login == "" {
		d.problem(key("mfa_token"), nil, "needs login and password (a token login has no MFA step)")
	}
	if !required {
		return
	}
	if m.Server == "" {
		d.problem(key("server"), nil, "missing: the Mattermost host name, such as \"chat.example.com\"")
	}
	if m.Team == "" && len(m.Teams) == 0 {
		d.problem(key("team"), nil, "missing: the team the bot works in (or teams = [...])")
	}
	if !token && m.Login == "" && !password {
		d.problem(key("token"), nil, "missing: set token (or token_file), or login and password")
	}
}

func (d *decoder) access(a *Access) {
	d.rule([]string{"access", "default"}, &a.Default)
	for i := range a.Rules {
		p := []string{"access", "rule", index(i)}
		r := &a.Rules[i]
		if r.Match == "" {
			d.problem(sub(p, "match"), nil, "missing: the command, plugin:command or glob this rule applies to")
		} else if err := validGlob(r.Match); err != nil {
			d.problem(sub(p, "match"), err, "%q is not a valid glob: %v", r.Match, err)
		}
		d.rule(p, &r.Rule)
	}
}

func (d *decoder) rule(p []string, r *bot.Rule) {
	d.users(sub(p, "allowusers"), r.AllowUsers)
	d.users(sub(p, "denyusers"), r.DenyUsers)
	d.rooms(sub(p, "allowrooms"), r.AllowRooms)
	d.rooms(sub(p, "denyrooms"), r.DenyRooms)
	for _, k := range []struct {
		key  string
		list []string
	}{{"allowteams", r.AllowTeams}, {"denyteams", r.DenyTeams}} {
		for i, t := range k.list {
			if t == "" || strings.ContainsAny(t, "@~/ ") || validGlob(t) != nil {
				d.problem(sub(p, k.key, index(i)), nil, "%q is not a team: write its name, such as \"ops\", or a glob such as \"dev-*\"", t)
			}
		}
	}
	for _, k := range []struct {
		key  string
		list []string
	}{{"allowroles", r.AllowRoles}, {"denyroles", r.DenyRoles}} {
		for i, role := range k.list {
			oneOf(d, sub(p, k.key, index(i)), role, bot.RoleSystemAdmin, bot.RoleTeamAdmin, bot.RoleChannelAdmin, bot.RoleGuest)
		}
	}
	for i, kind := range r.AllowKinds {
		oneOf(d, sub(p, "allowkinds", index(i)), kind, bot.RoomChannel, bot.RoomGroup, bot.RoomDirect)
	}
}

// users checks a list of user names: each needs the @, as in Errbot, and
// may be a glob ("@ops-*").
func (d *decoder) users(p []string, names []string) {
	for i, n := range names {
		a, err := bot.ParseAddress(n)
		switch {
		case err != nil && strings.HasPrefix(n, "@") && len(n) > 1:
			d.problem(sub(p, index(i)), err, "%q is not a user name", n)
		case err != nil || a.User == "":
			d.problem(sub(p, index(i)), err, "%q is not a user name: write it with the @, as \"@%s\"", n, strings.TrimLeft(n, "@~"))
		default:
			if err := validGlob(n); err != nil {
				d.problem(sub(p, index(i)), err, "%q is not a valid glob: %v", n, err)
			}
		}
	}
}

// rooms checks a list of channel names: "~name" or "~team/name", globs
// allowed.
func (d *decoder) rooms(p []string, names []string) {
	for i, n := range names {
		a, err := bot.ParseAddress(n)
		switch {
		case err != nil || a.Room == "":
			d.problem(sub(p, index(i)), err, "%q is not a channel: write it \"~channel\" or \"~team/channel\"", n)
		default:
			if err := validGlob(n); err != nil {
				d.problem(sub(p, index(i)), err, "%q is not a valid glob: %v", n, err)
			}
		}
	}
}

// validGlob checks the syntax of a path.Match pattern.
func validGlob(g string) error {
	_, err := path.Match(g, "")
	return err
}

// nonEmpty checks that no element of a list is an empty string.
func (d *decoder) nonEmpty(p []string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			d.problem(sub(p, index(i)), nil, "must not be empty")
		}
	}
}

func oneOf(d *decoder, p []string, v string, allowed ...string) {
	if slices.Contains(allowed, v) {
		return
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	d.problem(p, nil, "%q is not one of %s", v, strings.Join(quoted, ", "))
}
