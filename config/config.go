package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/matterbot/matterbot/bot"
)

// Config is a whole matterbot configuration. Load returns it filled from
// the file, the environment and the defaults, and validated. The toml tags
// are the keys of the file.
type Config struct {
	// Backend is the chat backend: "mattermost" (default) or "console".
	Backend string `toml:"backend"`
	// Prefix starts a command: "!status". Default "!".
	Prefix string `toml:"prefix"`
	// AltPrefixes also address the bot, such as "@ops-bot". Default none.
	AltPrefixes []string `toml:"alt_prefixes"`
	// SuppressCmdNotFound stops the bot from answering unknown commands.
	SuppressCmdNotFound bool `toml:"suppress_cmd_not_found"`
	// Admins are the bot administrators, as "@name".
	Admins []string `toml:"admins"`
	// DivertToThread lists commands whose replies always go to a thread.
	DivertToThread []string `toml:"divert_to_thread"`
	// DivertToPrivate lists commands whose replies always go to a DM.
	DivertToPrivate []string `toml:"divert_to_private"`
	// GroupchatNickPrefixed starts text replies in channels (not in
	// direct messages) with "@user: ", the author's handle, as Errbot's
	// GROUPCHAT_NICK_PREFIXED does (bot.Options.PrefixRoomReplies).
	// Default false.
	GroupchatNickPrefixed bool `toml:"groupchat_nick_prefixed"`
	// TypingAfter shows the typing indicator while a command has run
	// this long, until it returns (bot.Options.TypingAfter). The file
	// gives seconds or a duration string such as "1.5s". Default
	// DefaultTypingAfter (2s), so that people see the bot at work on a
	// slow command; 0 turns it off.
	TypingAfter time.Duration `toml:"typing_after"`

	// Mattermost is the [mattermost] table: server and login.
	Mattermost Mattermost `toml:"mattermost"`
	// Access is the [access] table: who may run which command.
	Access Access `toml:"access,noenv"`
	// Storage is the [storage] table: where plugins keep their data.
	Storage Storage `toml:"storage"`
	// Log is the [log] table.
	Log Log `toml:"log"`
	// HTTP is the [http] table: the HTTP listener for plugin webhooks
	// and the operations endpoints.
	HTTP HTTP `toml:"http"`
	// Exec is the [exec] table: plugins in any language, run as child
	// processes (docs/exec-plugins.md).
	Exec Exec `toml:"exec"`

	// File is the path the configuration was read from; "" for Default.
	File string `toml:"-"`

	// plugins holds each [plugins.NAME] table undecoded, for PluginConfig.
	plugins map[string]map[string]any
	// origins locates every key, for PluginConfig's errors.
	origins map[string]origin
}

// Mattermost is the [mattermost] table: how to reach and log into the
// server. The keys are those of Errbot's Mattermost backend (BOT_IDENTITY).
type Mattermost struct {
	// Server is the host name, without scheme or port. Required.
	Server string `toml:"server"`
	// Team is the team the bot works in. Required unless Teams is set.
	Team string `toml:"team"`
	// Teams replaces Team for a bot in several teams.
	Teams []string `toml:"teams"`
	// Token is a bot or personal access token. Set Token, or Login and
	// Password, not both.
	Token Secret `toml:"token"`
	// TokenFile names a file holding the token (trailing newline trimmed);
	// after Load, Token holds its content.
	TokenFile string `toml:"token_file"`
	// Login is the user name or e-mail to log in with a password.
	Login string `toml:"login"`
	// Password goes with Login.
	Password Secret `toml:"password"`
	// PasswordFile names a file holding the password; after Load,
	// Password holds its content.
	PasswordFile string `toml:"password_file"`
	// MFAToken is the one-time code for a login with multi-factor auth.
	MFAToken Secret `toml:"mfa_token"`
	// Scheme is "https" (default) or "http".
	Scheme string `toml:"scheme"`
	// Port is the server's port. Default 8065, as in Errbot's backend.
	Port int `toml:"port"`
	// Insecure skips TLS certificate verification (self-signed
	// certificates only). Default false.
	Insecure bool `toml:"insecure"`
	// Timeout bounds each request to the server. The file gives seconds
	// (or a duration string such as "1m"). Default 30s.
	Timeout time.Duration `toml:"timeout"`
	// DeadLinkAfter is how long the bot's WebSocket may receive nothing
	// before the bot takes the connection for dead and reconnects: it
	// finds a half-open link (a NAT, proxy or VPN that silently dropped
	// the connection) within this time, pinging after half of it. The
	// file gives seconds or a duration string. Default 10s; at least 1s;
	// 0 turns it off (the bot's 30 s keepalive then finds such a link in
	// up to 40 s).
	DeadLinkAfter time.Duration `toml:"dead_link_after"`
	// CardsHook is the id of an incoming webhook used to post cards, as
	// in Errbot's backend. Optional.
	CardsHook string `toml:"cards_hook"`
	// AllowBots lets other bots' posts reach the commands: those of bot
	// accounts and those of other matterbots, whatever their account
	// (every post a matterbot makes is marked). Default false, so that
	// two bots never answer each other in a loop.
	AllowBots bool `toml:"allow_bots"`
	// AllowWebhooks lets posts made by incoming webhooks and server
	// plugins reach the commands. Default false.
	AllowWebhooks bool `toml:"allow_webhooks"`
	// IgnoreUsers names users ("@errbot") whose posts the bot never
	// sees: a third-party bot or a script on an ordinary user account,
	// which nothing tells from a person. Default: none.
	IgnoreUsers []string `toml:"ignore_users"`
	// RateLimit, when positive, caps the requests per second the bot
	// sends to the server. Default 0: no cap; the bot paces itself by
	// what the server says (its X-Ratelimit-* headers and 429
	// Retry-After). A stock Mattermost does not rate-limit (its
	// RateLimitSettings.Enable is false); a cap is for a server that
	// limits without saying so. Negative means no cap too.
	RateLimit float64 `toml:"rate_limit"`
	// MaxMessageRunes is the longest post the bot sends; longer replies
	// are split. Default 16383, the server's limit; at least
	// MinMessageRunes (a part must hold a reopened code fence and some
	// text).
	MaxMessageRunes int `toml:"max_message_runes"`
	// PresenceInterval is how often the bot asks the server for the
	// status of the people it has met, so that plugins hear their
	// presence changes (the server sends status events only to the user
	// concerned). The file gives seconds or a duration string. Default
	// 60s; 0 turns polling off.
	PresenceInterval time.Duration `toml:"presence_interval"`
	// LoopLimit is how many exchanges with one program in one channel,
	// within LoopWindow, make the bot stop answering that program there
	// for LoopWindow: a guard against a bot or webhook let in by
	// AllowBots or AllowWebhooks that answers the bot back. People are
	// never counted. Default 20; 0 turns the guard off.
	LoopLimit int `toml:"loop_limit"`
	// LoopWindow is the span of LoopLimit. Default 60s; positive.
	LoopWindow time.Duration `toml:"loop_window"`
	// OutboxMaxAge is how long a reply the server could not take (down,
	// answering 429 or 5xx, or the bot stopping) is kept in the store and sent
	// again when the server answers, oldest first, also after a
	// restart; older ones are dropped with a log line. The file gives
	// seconds or a duration string. Default 1h; 0 turns the outbox off.
	OutboxMaxAge time.Duration `toml:"outbox_max_age"`
	// CatchUp is how far back the bot looks, when it starts, for the
	// commands posted while it was stopped, in every channel it serves
	// (from where it stopped, saved in [storage]), and after a WebSocket
	// reconnection that could not resume; it answers each once, oldest
	// first. Older commands are skipped with one log line. The file
	// gives seconds or a duration string. Default 15m; 0 turns the
	// catch-up at start off (and the limit after a reconnection).
	CatchUp time.Duration `toml:"catch_up"`
	// UserCache is how many users the bot keeps in memory (about 250
	// bytes each), the least recently seen forgotten first: on a big
	// server, the people who used the bot lately. A sender it does not
	// hold costs a lookup, made in the background, several senders a
	// request. Default 5000; at least 1.
	UserCache int `toml:"user_cache"`
	// UserCacheTTL is how long the bot trusts what it holds of a user
	// (the server's events keep it current meanwhile) before asking
	// again. The file gives seconds or a duration string. Default 1h; 0
	// never asks again.
	UserCacheTTL time.Duration `toml:"user_cache_ttl"`
	// Slash is the [mattermost.slash] table: the bot's own slash
	// commands.
	Slash Slash `toml:"slash"`
}

// Slash is the [mattermost.slash] table: the slash commands the bot
// registers on the teams it serves, through the API, pointing at its HTTP
// listener as the server reaches it (HTTP.PublicURL). A slash command
// runs the same plugin command as the prefixed message, with the same
// arguments, access rules and help: "/matterbot deploy api prod" is
// "!deploy api prod".
type Slash struct {
	// Register makes the bot create (or update, never duplicate) its
	// slash commands on each team it serves when it starts. It needs
	// [http] public_url and the bot's permission to manage slash
	// commands on the team (a team admin). Default true; false leaves
	// the team's commands alone (the bot answers none).
	Register bool `toml:"register"`
	// Trigger is the word of the bot's umbrella command: "/TRIGGER
	// COMMAND ARGS" runs any command. Default: the bot's username.
	Trigger string `toml:"trigger"`
	// Commands lists plugin commands that also get a trigger of their
	// own: "deploy" registers "/deploy" for "!deploy". A word the server
	// has built in ("/help", "/echo", "/status") cannot be one. Default
	// none.
	Commands []string `toml:"commands"`
	// Response is how a command's replies are shown: "ephemeral" (the
	// default: to the caller alone) or "in_channel" (a post everyone in
	// the channel sees).
	Response string `toml:"response"`
}

// Bounds of Mattermost.MaxMessageRunes. DefaultMessageRunes is
// mattermost.PostMessageMaxRunes, repeated because config imports only
// bot (DESIGN.md); the matterbot package's TestBackendOptions pins the two.
const (
	MinMessageRunes     = 100
	DefaultMessageRunes = 16383 // the server's limit, model.PostMessageMaxRunesV2
)

// Defaults of Mattermost.PresenceInterval, LoopLimit, LoopWindow,
// OutboxMaxAge, DeadLinkAfter, CatchUp, UserCache and UserCacheTTL: those of the Mattermost backend and
// client, repeated for the same reason and pinned by the same test.
// Mattermost.RateLimit defaults to 0, no cap.
const (
	DefaultPresenceInterval = time.Minute
	DefaultLoopLimit        = 20
	DefaultLoopWindow       = time.Minute
	DefaultOutboxMaxAge     = time.Hour
	DefaultDeadLinkAfter    = 10 * time.Second
	DefaultCatchUp          = 15 * time.Minute
	DefaultUserCache        = 5000
	DefaultUserCacheTTL     = time.Hour
)

// DefaultTypingAfter is the default of Config.TypingAfter.
const DefaultTypingAfter = 2 * time.Second

// URL returns the server's base URL, such as "https://chat.example.com:8065".
func (m Mattermost) URL() string {
	return m.Scheme + "://" + net.JoinHostPort(m.Server, strconv.Itoa(m.Port))
}

// TeamNames returns Teams, or Team alone.
func (m Mattermost) TeamNames() []string {
	if len(m.Teams) > 0 {
		return slices.Clone(m.Teams)
	}
	if m.Team == "" {
		return nil
	}
	return []string{m.Team}
}

// Access holds the access rules: Errbot's ACCESS_CONTROLS (Rules) and
// ACCESS_CONTROLS_DEFAULT (Default). The rules are bot.Rule, so the file
// has exactly the engine's fields. The engine tries Rules in order; the
// first whose Match matches the command decides; with none, Default does.
type Access struct {
	// Default applies to commands no rule matches ([access.default]).
	Default bot.Rule `toml:"default"`
	// Rules are the [[access.rule]] tables, in file order.
	Rules []AccessRule `toml:"rule"`
}

// AccessRule is one [[access.rule]] table: which commands, and the rule.
type AccessRule struct {
	// Match selects commands: "deploy", "plugin:command", or globs such as
	// "admin:*" or "*:deploy*" (path.Match syntax, case-insensitive).
	// Required.
	Match string `toml:"match"`
	bot.Rule
}

// ACLs returns the rules as the engine takes them (bot.Options.ACLs).
func (a Access) ACLs() []bot.ACL {
	acls := make([]bot.ACL, len(a.Rules))
	for i, r := range a.Rules {
		acls[i] = bot.ACL{Pattern: r.Match, Rule: r.Rule}
	}
	return acls
}

// Storage is the [storage] table.
type Storage struct {
	// Path is the bbolt database file. Default "matterbot.db", relative
	// to the configuration file's directory.
	Path string `toml:"path"`
}

// Exec is the [exec] table: where exec plugins are, and what they may
// have (docs/exec-plugins.md §1). Relative paths are relative to the
// configuration file's directory, and may name environment variables
// as storage.path does.
type Exec struct {
	// Dirs are the plugin directories: each subdirectory holds a plugin.
	// Default none.
	Dirs []string `toml:"dirs"`
	// WorkDir, when set, runs each plugin in WorkDir/NAME; by default a
	// plugin runs in its own directory.
	WorkDir string `toml:"work_dir"`
	// AllowToken lists the plugins that get the bot's token when their
	// manifest asks for it.
	AllowToken []string `toml:"allow_token"`
	// Watch reloads a plugin when its files change. Default true.
	Watch bool `toml:"watch"`
	// ErrbotRunner is the command that runs Errbot plugins (a directory
	// with a .plug file): the program and its arguments. Default none:
	// such directories are skipped.
	ErrbotRunner []string `toml:"errbot_runner"`
}

// Log is the [log] table.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `toml:"level"`
	// Format is "text" (default) or "json".
	Format string `toml:"format"`
}

// SlogLevel returns Level as a slog.Level (info when unknown).
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// NewLogger returns a logger writing to w in Format at Level.
func (l Log) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.SlogLevel()}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// HTTP is the [http] table: the one HTTP listener of the bot, for the
// plugins' webhooks and the operations endpoints (/healthz, /readyz).
type HTTP struct {
	// Listen is the address to listen on, such as "127.0.0.1:8066" or
	// ":8066". Default DefaultListen, on the loopback interface only;
	// "" turns the listener off. An address other interfaces reach
	// needs Secret, so that webhooks are never open to the network
	// unchecked.
	Listen string `toml:"listen"`
	// Secret, when set, is checked on every webhook request that does not
	// declare its own (bot.Options.WebhookAuth). Default "": no check.
	Secret Secret `toml:"secret"`
	// Header carries the secret, or with HMAC the signature. Default
	// "X-Webhook-Secret", or "X-Hub-Signature-256" with HMAC.
	Header string `toml:"header"`
	// HMAC makes Header carry the hex HMAC-SHA256 of the body keyed with
	// Secret ("sha256=…", GitHub's style) instead of the secret itself.
	HMAC bool `toml:"hmac"`
	// PublicURL is the listener's address as the Mattermost server
	// reaches it, such as "https://bot.example.com" (a reverse proxy) or
	// "http://10.0.0.5:8066": the base of the URLs the bot gives the
	// server to call back, for its slash commands and interactive
	// messages. Default "": the bot registers no slash commands.
	PublicURL string `toml:"public_url"`
	// ActionSecret is the key that signs the buttons, menus and dialogs
	// the bot sends, so that the listener refuses a click that does not
	// come from a message of this bot. Default "": a key is generated
	// once and kept in the bot's storage (one log line says so).
	ActionSecret Secret `toml:"action_secret"`
	// ActionLifetime is how long buttons, menus and dialogs work after
	// they are sent; a later click is answered that the button expired.
	// Default DefaultActionLifetime (7 days); 0: they never expire.
	ActionLifetime time.Duration `toml:"action_lifetime"`
	// PProf serves Go's profiler (net/http/pprof) under /debug/pprof/ on
	// the listener. Default false: 404 there.
	PProf bool `toml:"pprof"`
}

// DefaultActionLifetime is the default of HTTP.ActionLifetime.
const DefaultActionLifetime = 7 * 24 * time.Hour

// DefaultListen is the default of HTTP.Listen: port 8066, next to
// Mattermost's 8065, on the loopback interface.
const DefaultListen = "127.0.0.1:8066"

// WebhookAuth returns the engine's global webhook check
// (bot.Options.WebhookAuth) for this table.
func (h HTTP) WebhookAuth() bot.WebhookAuth {
	return bot.WebhookAuth{Secret: h.Secret.Reveal(), Header: h.Header, HMAC: h.HMAC}
}

// Default returns a configuration holding every default and nothing else.
// It is valid for the console backend; the Mattermost backend also needs
// the server, team and credentials.
func Default() *Config {
	return &Config{
		Backend:     "mattermost",
		Prefix:      "!",
		TypingAfter: DefaultTypingAfter,
		Mattermost: Mattermost{Scheme: "https", Port: 8065, Timeout: 30 * time.Second,
			MaxMessageRunes:  DefaultMessageRunes,
			PresenceInterval: DefaultPresenceInterval, LoopLimit: DefaultLoopLimit, LoopWindow: DefaultLoopWindow,
			OutboxMaxAge: DefaultOutboxMaxAge, DeadLinkAfter: DefaultDeadLinkAfter, CatchUp: DefaultCatchUp,
			UserCache: DefaultUserCache, UserCacheTTL: DefaultUserCacheTTL,
			Slash: Slash{Register: true, Response: "ephemeral"}},
		Storage: Storage{Path: "matterbot.db"},
		Log:     Log{Level: "info", Format: "text"},
		HTTP:    HTTP{Listen: DefaultListen, ActionLifetime: DefaultActionLifetime},
		Exec:    Exec{Watch: true},
	}
}

// Load reads the TOML file at path, applies environment overrides from the
// process environment (see the package doc), reads token_file and
// password_file, and validates the result. A problem with the content is
// returned as an ErrorList holding every problem found, each naming the
// file, line and key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse is Load for a document already in memory. name is the file name
// used in messages, and its directory is the base of relative paths.
// lookupEnv supplies environment overrides (os.LookupEnv, or nil for none).
// Parse("", nil, os.LookupEnv) configures the bot from the environment
// alone, as a container might.
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		return nil, syntaxError(name, err)
	}
	if tree == nil {
		tree = map[string]any{}
	}
	d := &decoder{file: name, origins: positions(data)}
	if lookupEnv != nil {
		d.applyEnv(tree, lookupEnv)
	}

	cfg := Default()
	cfg.File = name
	cfg.origins = d.origins
	plugins, hasPlugins := tree["plugins"]
	delete(tree, "plugins")
	d.value(nil, tree, reflect.ValueOf(cfg).Elem())
	if hasPlugins {
		cfg.plugins = d.pluginTables(plugins)
	}
	d.readSecrets(cfg, filepath.Dir(name), lookupEnv)
	if p, err := expandPath(cfg.Storage.Path, lookupEnv); err != nil {
		d.problem([]string{"storage", "path"}, err, "%v", err)
	} else {
		cfg.Storage.Path = p
	}
	d.execPaths(&cfg.Exec, filepath.Dir(name), lookupEnv)
	d.validate(cfg)
	if cfg.Storage.Path != "" && !filepath.IsAbs(cfg.Storage.Path) {
		cfg.Storage.Path = filepath.Join(filepath.Dir(name), cfg.Storage.Path)
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// syntaxError turns a go-toml error into an ErrorList of one.
func syntaxError(name string, err error) error {
	e := &Error{File: name, Msg: err.Error(), Err: err}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		e.Line, _ = de.Position()
		e.Key = displayKey(de.Key())
		e.Msg = strings.TrimPrefix(err.Error(), "toml: ")
	}
	return ErrorList{e}
}

// pluginTables checks that [plugins] holds only tables and keeps them.
func (d *decoder) pluginTables(v any) map[string]map[string]any {
	path := []string{"plugins"}
	m, ok := v.(map[string]any)
	if !ok {
		d.typeProblem(path, "a table of [plugins.NAME] tables", v)
		return nil
	}
	out := make(map[string]map[string]any, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		t, ok := m[name].(map[string]any)
		if !ok {
			d.typeProblem(sub(path, name), "a table", m[name])
			continue
		}
		out[name] = t
	}
	return out
}

// Plugins returns the names of the [plugins.NAME] tables, sorted.
func (c *Config) Plugins() []string {
	return slices.Sorted(maps.Keys(c.plugins))
}

// PluginConfig decodes the [plugins.NAME] table into v, a pointer to the
// plugin's own configuration type (a struct whose fields carry toml tags,
// or are matched by name ignoring case). Fields already set in v are
// defaults that the table overrides. Decoding is strict: unknown keys and
// wrong types are reported together as an ErrorList, each with file:line.
// A missing table leaves v unchanged and returns nil.
func (c *Config) PluginConfig(name string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: PluginConfig(%q) needs a non-nil pointer, got %T", name, v)
	}
	t, ok := c.plugins[name]
	if !ok {
		return nil
	}
	d := &decoder{file: c.File, origins: c.origins}
	d.value([]string{"plugins", name}, t, rv.Elem())
	return d.errs.err()
}

// PluginTable is one [plugins.NAME] table, kept undecoded. Decode decodes
// it strictly with file:line errors (see Config.PluginConfig); MarshalJSON
// gives its content as JSON, for code that decodes configuration through
// encoding/json, as bot.Plugin.Config does.
type PluginTable struct {
	cfg  *Config
	name string
}

// Decode is cfg.PluginConfig(name, v).
func (t PluginTable) Decode(v any) error { return t.cfg.PluginConfig(t.name, v) }

// MarshalJSON encodes the table's keys and values as a JSON object.
func (t PluginTable) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.cfg.plugins[t.name])
}

// PluginTables returns every [plugins.NAME] table by plugin name, as
// PluginTable values: the form bot.Options.PluginConfig takes.
func (c *Config) PluginTables() map[string]any {
	out := make(map[string]any, len(c.plugins))
	for name := range c.plugins {
		out[name] = PluginTable{cfg: c, name: name}
	}
	return out
}

// maxSecretFile bounds what token_file and password_file may hold, so a
// mistaken path (a log, /dev/zero) fails instead of filling memory.
const maxSecretFile = 64 << 10

// readSecrets replaces token_file and password_file by their content,
// after expanding the variables in their paths (see expandPath).
func (d *decoder) readSecrets(cfg *Config, dir string, lookupEnv func(string) (string, bool)) {
	mm := &cfg.Mattermost
	for _, s := range []struct {
		key, fileKey string
		file         string
		dst          *Secret
	}{
		{"token", "token_file", mm.TokenFile, &mm.Token},
		{"password", "password_file", mm.PasswordFile, &mm.Password},
	} {
		if s.file == "" {
			continue
		}
		path := []string{"mattermost", s.fileKey}
		if !s.dst.IsZero() {
			d.problem(path, nil, "set %s or %s, not both", s.key, s.fileKey)
			continue
		}
		name, err := expandPath(s.file, lookupEnv)
		if err != nil {
			d.problem(path, err, "%v", err)
			continue
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		b, err := readLimited(name, maxSecretFile)
		if err != nil {
			d.problem(path, err, "%v", err)
			continue
		}
		b = bytes.TrimRight(b, "\r\n") // editors end files with a newline
		if len(b) == 0 {
			d.problem(path, nil, "file %s is empty", name)
			continue
		}
		*s.dst = NewSecret(string(b))
	}
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("file %s is larger than %d bytes", name, limit)
	}
	return b, nil
}
