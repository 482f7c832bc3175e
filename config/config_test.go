package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/matterbot/matterbot/bot"
)

// cmpConfig compares configurations by their exported content.
var cmpConfig = cmp.Options{
	cmpopts.IgnoreUnexported(Config{}),
	cmp.Comparer(func(a, b Secret) bool { return a.Reveal() == b.Reveal() }),
	cmpopts.EquateEmpty(),
}

// minimal is the smallest valid Mattermost configuration.
const minimal = `
[mattermost]
server = "chat.example.com"
team = "ops"
token = "tok"
`

// withMinimal sets what minimal sets.
func withMinimal(c *Config) {
	c.Mattermost.Server, c.Mattermost.Team, c.Mattermost.Token = "chat.example.com", "ops", NewSecret("tok")
}

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestTemplateRoundTrip(t *testing.T) {
	filled := strings.NewReplacer(
		`server = ""`, `server = "chat.example.com"`,
		`team = ""`, `team = "ops"`,
		`token = ""`, `token = "tok"`,
	).Replace(Template())
	got, err := Parse("matterbot.toml", []byte(filled), noEnv)
	if err != nil {
		t.Fatalf("Parse(template) error:\n%v", err)
	}
	want := Default()
	want.File = "matterbot.toml"
	want.Mattermost.Server = "chat.example.com"
	want.Mattermost.Team = "ops"
	want.Mattermost.Token = NewSecret("tok")
	if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
		t.Errorf("Parse(template) mismatch (-want +got):\n%s", diff)
	}

	// Unfilled, the template reports exactly the three required keys.
	_, err = Parse("matterbot.toml", []byte(Template()), noEnv)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse(unfilled template) = %v, want an ErrorList", err)
	}
	var keys []string
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	if diff := cmp.Diff([]string{"mattermost.server", "mattermost.team", "mattermost.token"}, keys); diff != "" {
		t.Errorf("unfilled template problems (-want +got):\n%s\n%v", diff, err)
	}
}

// TestTemplateHasEveryKey checks that each key of the schema appears in
// the template, set or commented out, under its table.
func TestTemplateHasEveryKey(t *testing.T) {
	header := regexp.MustCompile(`^\[\[?([a-z._]+)\]\]?$`)
	keyLine := regexp.MustCompile(`^([a-z_]+)\s*=`)
	found := map[string]bool{}
	table := ""
	for line := range strings.Lines(Template()) {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
		if m := header.FindStringSubmatch(line); m != nil {
			table = m[1] + "."
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			found[table+m[1]] = true
		}
	}
	var want []string
	for _, ev := range envVars() {
		want = append(want, displayKey(ev.path))
	}
	for _, f := range fieldsOf(reflect.TypeFor[bot.Rule]()) {
		want = append(want, "access.default."+f.name)
	}
	for _, f := range fieldsOf(reflect.TypeFor[AccessRule]()) {
		want = append(want, "access.rule."+f.name)
	}
	for _, k := range want {
		if !found[k] {
			t.Errorf("Template() does not mention %s", k)
		}
	}
}

func TestDocListsEveryEnvVar(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := regexp.MustCompile(`(?m)^//\s+(MATTERBOT_[A-Z_]+)\s+(\S+)`).FindAllSubmatch(doc, -1)
	var got, want []string
	for _, m := range listed {
		got = append(got, string(m[1])+" "+string(m[2]))
	}
	for _, ev := range envVars() {
		want = append(want, ev.name+" "+displayKey(ev.path))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go environment table (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want func(c *Config)
	}{
		{
			name: "seed keys",
			doc: `
backend = "mattermost"
prefix = "."
alt_prefixes = ["@ops-bot"]
admins = ["@alice", "@bob"]
suppress_cmd_not_found = true
divert_to_thread = ["status"]
divert_to_private = ["help"]
groupchat_nick_prefixed = true
typing_after = 2
[mattermost]
server = "chat.example.com"
teams = ["ops", "dev"]
login = "ops-bot"
password = "pw"
mfa_token = "123456"
scheme = "http"
port = 443
insecure = true
timeout = 5
dead_link_after = "20s"
cards_hook = "hookid"
allow_bots = true
allow_webhooks = true
ignore_users = ["@errbot"]
rate_limit = 2.5
max_message_runes = 4000
presence_interval = "30s"
loop_limit = 5
loop_window = 10
outbox_max_age = "15m"
catch_up = "5m"
[storage]
path = "/var/lib/matterbot/bot.db"
[log]
level = "DEBUG"
format = "json"
[http]
listen = "127.0.0.1:8080"
secret = "s3cret"
hmac = true
pprof = true
`,
			want: func(c *Config) {
				c.Prefix = "."
				c.AltPrefixes = []string{"@ops-bot"}
				c.Admins = []string{"@alice", "@bob"}
				c.SuppressCmdNotFound = true
				c.DivertToThread = []string{"status"}
				c.DivertToPrivate = []string{"help"}
				c.GroupchatNickPrefixed = true
				c.TypingAfter = 2 * time.Second
				c.Mattermost = Mattermost{Server: "chat.example.com", Teams: []string{"ops", "dev"},
					Login: "ops-bot", Password: NewSecret("pw"), MFAToken: NewSecret("123456"),
					Scheme: "http", Port: 443, Insecure: true, Timeout: 5 * time.Second, DeadLinkAfter: 20 * time.Second, CardsHook: "hookid",
					AllowBots: true, AllowWebhooks: true, IgnoreUsers: []string{"@errbot"}, RateLimit: 2.5, MaxMessageRunes: 4000,
					PresenceInterval: 30 * time.Second, LoopLimit: 5, LoopWindow: 10 * time.Second, OutboxMaxAge: 15 * time.Minute,
					CatchUp: 5 * time.Minute, UserCache: DefaultUserCache, UserCacheTTL: DefaultUserCacheTTL,
					Slash: Slash{Register: true, Response: "ephemeral"}}
				c.Storage.Path = "/var/lib/matterbot/bot.db"
				c.Log = Log{Level: "debug", Format: "json"}
				c.HTTP = HTTP{Listen: "127.0.0.1:8080", Secret: NewSecret("s3cret"), HMAC: true, PProf: true, ActionLifetime: DefaultActionLifetime}
			},
		},
		{
			name: "console needs no mattermost",
			doc:  `backend = "console"`,
			want: func(c *Config) { c.Backend = "console" },
		},
		{
			name: "timeout as a duration string",
			doc:  minimal + "timeout = \"1m30s\"\n",
			want: func(c *Config) { withMinimal(c); c.Mattermost.Timeout = 90 * time.Second },
		},
		{
			name: "typing_after as a duration string",
			doc:  "typing_after = \"1.5s\"\n" + minimal,
			want: func(c *Config) { withMinimal(c); c.TypingAfter = 1500 * time.Millisecond },
		},
		{
			name: "environment sets the engine options",
			doc:  "typing_after = 5\n" + minimal,
			env: map[string]string{
				"MATTERBOT_GROUPCHAT_NICK_PREFIXED": "true",
				"MATTERBOT_TYPING_AFTER":            "750ms",
			},
			want: func(c *Config) {
				withMinimal(c)
				c.GroupchatNickPrefixed = true
				c.TypingAfter = 750 * time.Millisecond
			},
		},
		{
			name: "environment typing_after in seconds",
			doc:  minimal,
			env:  map[string]string{"MATTERBOT_TYPING_AFTER": "3"},
			want: func(c *Config) { withMinimal(c); c.TypingAfter = 3 * time.Second },
		},
		{
			name: "relative storage path is relative to the file",
			doc:  minimal + "[storage]\npath = \"data/bot.db\"\n",
			want: func(c *Config) { withMinimal(c); c.Storage.Path = filepath.Join("etc", "data", "bot.db") },
		},
		{
			name: "access rules keep their order",
			doc: minimal + `
[access.default]
allowprivate = false
[[access.rule]]
match = "deploy*"
allowusers = ["@alice", "@ops-*"]
allowrooms = ["~ops", "~dev/*"]
[[access.rule]]
match = "admin:*"
admin_only = true
denyusers = []
`,
			want: func(c *Config) {
				withMinimal(c)
				f := false
				c.Access = Access{
					Default: bot.Rule{AllowPrivate: &f},
					Rules: []AccessRule{
						{Match: "deploy*", Rule: bot.Rule{AllowUsers: []string{"@alice", "@ops-*"}, AllowRooms: []string{"~ops", "~dev/*"}}},
						{Match: "admin:*", Rule: bot.Rule{AdminOnly: true, DenyUsers: []string{}}},
					},
				}
			},
		},
		{
			name: "environment overrides the file",
			doc:  "prefix = \"?\"\n" + minimal + "[log]\nlevel = \"warn\"\n",
			env: map[string]string{
				"MATTERBOT_PREFIX":              "!",
				"MATTERBOT_LOG_LEVEL":           "error",
				"MATTERBOT_MATTERMOST_TOKEN":    "from-env",
				"MATTERBOT_MATTERMOST_PORT":     "443",
				"MATTERBOT_MATTERMOST_TIMEOUT":  "7",
				"MATTERBOT_MATTERMOST_INSECURE": "true",
				"MATTERBOT_ADMINS":              "@alice, @bob,",
				"MATTERBOT_HTTP_LISTEN":         "", // empty: as if unset
			},
			want: func(c *Config) {
				withMinimal(c)
				c.Log.Level = "error"
				c.Mattermost.Token = NewSecret("from-env")
				c.Mattermost.Port = 443
				c.Mattermost.Timeout = 7 * time.Second
				c.Mattermost.Insecure = true
				c.Admins = []string{"@alice", "@bob"}
			},
		},
		{
			name: "environment alone fills a missing table",
			doc:  ``,
			env: map[string]string{
				"MATTERBOT_MATTERMOST_SERVER": "chat.example.com",
				"MATTERBOT_MATTERMOST_TEAM":   "ops",
				"MATTERBOT_MATTERMOST_TOKEN":  "tok",
			},
			want: withMinimal,
		},
		{
			name: "environment sets the backend options",
			doc:  minimal + "rate_limit = 5\n",
			env: map[string]string{
				"MATTERBOT_MATTERMOST_ALLOW_BOTS":        "true",
				"MATTERBOT_MATTERMOST_ALLOW_WEBHOOKS":    "1",
				"MATTERBOT_MATTERMOST_RATE_LIMIT":        "0.5",
				"MATTERBOT_MATTERMOST_MAX_MESSAGE_RUNES": "4000",
			},
			want: func(c *Config) {
				withMinimal(c)
				c.Mattermost.AllowBots, c.Mattermost.AllowWebhooks = true, true
				c.Mattermost.RateLimit, c.Mattermost.MaxMessageRunes = 0.5, 4000
			},
		},
		{
			name: "rate limit integer",
			doc:  minimal + "rate_limit = 3\n",
			want: func(c *Config) { withMinimal(c); c.Mattermost.RateLimit = 3 },
		},
		{
			name: "environment team replaces the file's teams",
			doc:  strings.Replace(minimal, `team = "ops"`, `teams = ["a", "b"]`, 1),
			env:  map[string]string{"MATTERBOT_MATTERMOST_TEAM": "ops"},
			want: withMinimal,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join("etc", "matterbot.toml")
			got, err := Parse(name, []byte(tc.doc), envOf(tc.env))
			if err != nil {
				t.Fatalf("Parse error:\n%v", err)
			}
			want := Default()
			want.File = name
			want.Storage.Path = filepath.Join("etc", "matterbot.db")
			tc.want(want)
			if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseErrors checks each kind of bad input: the message must name the
// file, the line and the key, and all problems come in one error.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want string // the whole error, one problem per line
	}{
		{
			name: "syntax error",
			doc:  "prefix = \"!\"\nadmins = [\"@a\"\n",
			want: "bot.toml:2: array is incomplete",
		},
		{
			name: "unknown keys",
			doc:  "prefx = \"!\"\n" + minimal + "[log]\nlevle = \"info\"\nLevel = \"info\"\n[nope]\nx = 1\n",
			want: "bot.toml:1: prefx: unknown key (did you mean prefix?)\n" +
				"bot.toml:8: log.levle: unknown key (did you mean level?)\n" +
				"bot.toml:9: log.Level: unknown key (did you mean level?)\n" +
				"bot.toml:10: nope: unknown key",
		},
		{
			name: "wrong types",
			doc:  minimal + "port = \"8065\"\ninsecure = 1\n[log]\nlevel = 3\n",
			want: "bot.toml:6: mattermost.port: want an integer, got a string (\"8065\")\n" +
				"bot.toml:7: mattermost.insecure: want true or false, got an integer (1)\n" +
				"bot.toml:9: log.level: want a string, got an integer (3)",
		},
		{
			name: "list where a string is wanted and the reverse",
			doc:  "admins = \"@alice\"\n" + strings.Replace(minimal, `team = "ops"`, `team = ["ops"]`, 1),
			want: "bot.toml:1: admins: want an array, got a string (\"@alice\")\n" +
				"bot.toml:5: mattermost.team: want a string, got an array",
		},
		{
			name: "missing required keys",
			doc:  "prefix = \"!\"\n[mattermost]\nport = 8065\n",
			want: "bot.toml:2: mattermost.server: missing: the Mattermost host name, such as \"chat.example.com\"\n" +
				"bot.toml:2: mattermost.team: missing: the team the bot works in (or teams = [...])\n" +
				"bot.toml:2: mattermost.token: missing: set token (or token_file), or login and password",
		},
		{
			name: "missing table",
			doc:  "prefix = \"!\"\n",
			want: "bot.toml: mattermost.server: missing: the Mattermost host name, such as \"chat.example.com\"\n" +
				"bot.toml: mattermost.team: missing: the team the bot works in (or teams = [...])\n" +
				"bot.toml: mattermost.token: missing: set token (or token_file), or login and password",
		},
		{
			name: "port zero",
			doc:  minimal + "port = 0\n",
			want: "bot.toml:6: mattermost.port: 0 is out of range (1-65535)",
		},
		{
			name: "port too large",
			doc:  minimal + "port = 65536\n",
			want: "bot.toml:6: mattermost.port: 65536 is out of range (1-65535)",
		},
		{
			name: "port beyond int",
			doc:  minimal + "port = 9223372036854775807\ntimeout = 9223372036854775807\n",
			want: "bot.toml:6: mattermost.port: 9223372036854775807 is out of range (1-65535)\n" +
				"bot.toml:7: mattermost.timeout: 9223372036854775807 seconds is too long",
		},
		{
			name: "scheme not http or https",
			doc:  minimal + "scheme = \"ftp\"\n",
			want: "bot.toml:6: mattermost.scheme: \"ftp\" is not one of \"https\", \"http\"",
		},
		{
			name: "timeout not positive",
			doc:  minimal + "timeout = 0\n",
			want: "bot.toml:6: mattermost.timeout: must be positive, got 0s",
		},
		{
			name: "timeout negative string",
			doc:  minimal + "timeout = \"-5s\"\n",
			want: "bot.toml:6: mattermost.timeout: must be positive, got -5s",
		},
		{
			name: "max message runes out of range",
			doc:  minimal + "max_message_runes = 99\n",
			want: "bot.toml:6: mattermost.max_message_runes: 99 is out of range (100-16383)",
		},
		{
			name: "max message runes above the server's limit",
			doc:  minimal + "max_message_runes = 16384\n",
			want: "bot.toml:6: mattermost.max_message_runes: 16384 is out of range (100-16383)",
		},
		{
			name: "negative presence interval",
			doc:  minimal + "presence_interval = -1\n",
			want: "bot.toml:6: mattermost.presence_interval: must not be negative, got -1s (0 turns polling off)",
		},
		{
			name: "negative loop limit",
			doc:  minimal + "loop_limit = -1\n",
			want: "bot.toml:6: mattermost.loop_limit: must not be negative, got -1 (0 turns the guard off)",
		},
		{
			name: "ignore_users without the @, and a glob",
			doc:  minimal + "ignore_users = [\"errbot\", \"@bot*\"]\n",
			want: "bot.toml:6: mattermost.ignore_users[0]: \"errbot\" is not a user name: write it with the @, as \"@errbot\"\n" +
				"bot.toml:6: mattermost.ignore_users[1]: \"@bot*\" is a glob; ignore_users are user names",
		},
		{
			name: "dead link after under a second",
			doc:  minimal + "dead_link_after = \"500ms\"\n",
			want: "bot.toml:6: mattermost.dead_link_after: must be at least 1s, got 500ms (0 turns the detection off)",
		},
		{
			name: "negative dead link after",
			doc:  minimal + "dead_link_after = -1\n",
			want: "bot.toml:6: mattermost.dead_link_after: must be at least 1s, got -1s (0 turns the detection off)",
		},
		{
			name: "negative outbox max age",
			doc:  minimal + "outbox_max_age = \"-1m\"\n",
			want: "bot.toml:6: mattermost.outbox_max_age: must not be negative, got -1m0s (0 turns the outbox off)",
		},
		{
			name: "negative catch-up",
			doc:  minimal + "catch_up = \"-1m\"\n",
			want: "bot.toml:6: mattermost.catch_up: must not be negative, got -1m0s (0 turns the catch-up off)",
		},
		{
			name: "zero loop window",
			doc:  minimal + "loop_window = 0\n",
			want: "bot.toml:6: mattermost.loop_window: must be positive, got 0s",
		},
		{
			name: "rate limit not finite, allow_bots not a bool",
			doc:  minimal + "rate_limit = inf\nallow_bots = \"yes\"\n",
			want: "bot.toml:6: mattermost.rate_limit: +Inf is not a number of requests per second (0 means no cap)\n" +
				"bot.toml:7: mattermost.allow_bots: want true or false, got a string (\"yes\")",
		},
		{
			name: "rate limit from the environment not a number",
			doc:  minimal,
			env:  map[string]string{"MATTERBOT_MATTERMOST_RATE_LIMIT": "fast"},
			want: "$MATTERBOT_MATTERMOST_RATE_LIMIT: mattermost.rate_limit: \"fast\" is not a number",
		},
		{
			name: "typing_after negative",
			doc:  "typing_after = -1\n" + minimal,
			want: "bot.toml:1: typing_after: must not be negative, got -1s (0 turns it off)",
		},
		{
			name: "typing_after not a duration",
			doc:  "typing_after = true\ngroupchat_nick_prefixed = \"yes\"\n" + minimal,
			want: "bot.toml:1: typing_after: want a number of seconds or a duration string, got a boolean (true)\n" +
				"bot.toml:2: groupchat_nick_prefixed: want true or false, got a string (\"yes\")",
		},
		{
			name: "typing_after from the environment not a duration",
			doc:  minimal,
			env:  map[string]string{"MATTERBOT_TYPING_AFTER": "soon", "MATTERBOT_GROUPCHAT_NICK_PREFIXED": "maybe"},
			want: "$MATTERBOT_GROUPCHAT_NICK_PREFIXED: groupchat_nick_prefixed: \"maybe\" is not true or false\n" +
				"$MATTERBOT_TYPING_AFTER: typing_after: \"soon\" is not a duration (want seconds, or a string such as \"1m30s\")",
		},
		{
			name: "timeout not a duration",
			doc:  minimal + "timeout = \"soon\"\n",
			want: "bot.toml:6: mattermost.timeout: \"soon\" is not a duration (want seconds, or a string such as \"1m30s\")",
		},
		{
			name: "admins without the @",
			doc:  "admins = [\n  \"@alice\",\n  \"bob\",\n  \"@\",\n  \"@ops-*\",\n]\n" + minimal,
			want: "bot.toml:3: admins[1]: \"bob\" is not a user name: write it with the @, as \"@bob\"\n" +
				"bot.toml:4: admins[2]: \"@\" is not a user name: write it with the @, as \"@\"\n" +
				"bot.toml:5: admins[3]: \"@ops-*\" is a glob; admins are user names",
		},
		{
			name: "unknown log level and format",
			doc:  minimal + "[log]\nlevel = \"verbose\"\nformat = \"xml\"\n",
			want: "bot.toml:7: log.level: \"verbose\" is not one of \"debug\", \"info\", \"warn\", \"error\"\n" +
				"bot.toml:8: log.format: \"xml\" is not one of \"text\", \"json\"",
		},
		{
			name: "token and password both set",
			doc:  minimal + "login = \"bot\"\npassword = \"pw\"\n",
			want: "bot.toml:7: mattermost.password: token and password are both set; use a token, or login and password",
		},
		{
			name: "login without password",
			doc:  "[mattermost]\nserver = \"s\"\nteam = \"t\"\nlogin = \"bot\"\n",
			want: "bot.toml:1: mattermost.password: missing: login is set, password (or password_file) must be too",
		},
		{
			name: "password without login",
			doc:  "[mattermost]\nserver = \"s\"\nteam = \"t\"\npassword = \"pw\"\n",
			want: "bot.toml:1: mattermost.login: missing: password is set, login must be too",
		},
		{
			name: "mfa with a token",
			doc:  minimal + "mfa_token = \"123\"\n",
			want: "bot.toml:6: mattermost.mfa_token: needs login and password (a token login has no MFA step)",
		},
		{
			name: "server with scheme, team and teams",
			doc:  strings.Replace(minimal, `"chat.example.com"`, `"https://chat.example.com"`, 1) + "teams = [\"a\", \"\"]\n",
			want: "bot.toml:3: mattermost.server: \"https://chat.example.com\" is not a host name (put the scheme in scheme and the port in port)\n" +
				"bot.toml:6: mattermost.teams: set team or teams, not both\n" +
				"bot.toml:6: mattermost.teams[1]: must not be empty",
		},
		{
			name: "empty prefix, bad backend, bad listen",
			doc:  "prefix = \"\"\nbackend = \"slack\"\n[http]\nlisten = \"8080\"\n",
			want: "bot.toml:1: prefix: must not be empty\n" +
				"bot.toml:2: backend: \"slack\" is not one of \"mattermost\", \"console\"\n" +
				"bot.toml:4: http.listen: \"8080\" is not an address such as \":8080\" or \"127.0.0.1:8080\"",
		},
		{
			name: "listen on every interface without a secret",
			doc:  "backend = \"console\"\n[http]\nlisten = \":8066\"\n",
			want: "bot.toml:3: http.listen: \":8066\" is reachable from other machines: set http.secret, which every webhook must then prove it knows, or listen on 127.0.0.1",
		},
		{
			name: "listen on a host name without a secret",
			doc:  "backend = \"console\"\n[http]\nlisten = \"bot.example.com:8066\"\n",
			want: "bot.toml:3: http.listen: \"bot.example.com:8066\" is reachable from other machines: set http.secret, which every webhook must then prove it knows, or listen on 127.0.0.1",
		},
		{
			name: "webhook header and hmac without a secret, bad header",
			doc:  "backend = \"console\"\n[http]\nheader = \"X Sig:\"\nhmac = true\n",
			want: "bot.toml:2: http.secret: missing: header and hmac need a secret\n" +
				"bot.toml:3: http.header: \"X Sig:\" is not a header name",
		},
		{
			name: "public url and slash commands",
			doc:  "backend = \"console\"\n[http]\npublic_url = \"bot.example.com\"\n[mattermost.slash]\ntrigger = \"/ops bot\"\ncommands = [\"\"]\nresponse = \"loud\"\n",
			want: "bot.toml:3: http.public_url: \"bot.example.com\" is not an http or https URL such as \"https://bot.example.com\"\n" +
				"bot.toml:5: mattermost.slash.trigger: \"/ops bot\" is not a trigger: one word, without the /\n" +
				"bot.toml:6: mattermost.slash.commands[0]: must not be empty\n" +
				"bot.toml:7: mattermost.slash.response: \"loud\" is not one of \"ephemeral\", \"in_channel\"",
		},
		{
			name: "access rules",
			doc: minimal + `[access.default]
match = "x"
allowusers = ["alice", "@a b", "@ops-[*"]
[[access.rule]]
allowrooms = ["", "town-square"]
[[access.rule]]
match = "[oops"
bogus = 1
admin_only = "yes"
`,
			want: "bot.toml:7: access.default.match: unknown key\n" +
				"bot.toml:8: access.default.allowusers[0]: \"alice\" is not a user name: write it with the @, as \"@alice\"\n" +
				"bot.toml:8: access.default.allowusers[1]: \"@a b\" is not a user name\n" +
				"bot.toml:8: access.default.allowusers[2]: \"@ops-[*\" is not a valid glob: syntax error in pattern\n" +
				"bot.toml:9: access.rule[0].match: missing: the command, plugin:command or glob this rule applies to\n" +
				"bot.toml:10: access.rule[0].allowrooms[0]: \"\" is not a channel: write it \"~channel\" or \"~team/channel\"\n" +
				"bot.toml:10: access.rule[0].allowrooms[1]: \"town-square\" is not a channel: write it \"~channel\" or \"~team/channel\"\n" +
				"bot.toml:12: access.rule[1].match: \"[oops\" is not a valid glob: syntax error in pattern\n" +
				"bot.toml:13: access.rule[1].bogus: unknown key\n" +
				"bot.toml:14: access.rule[1].admin_only: want true or false, got a string (\"yes\")",
		},
		{
			name: "plugins must be tables",
			doc:  minimal + "[plugins]\necho = 1\n",
			want: "bot.toml:7: plugins.echo: want a table, got an integer (1)",
		},
		{
			name: "token and token_file",
			doc:  minimal + "token_file = \"t\"\n",
			want: "bot.toml:6: mattermost.token_file: set token or token_file, not both",
		},
		{
			name: "bad environment values",
			doc:  minimal,
			env: map[string]string{
				"MATTERBOT_MATTERMOST_PORT":           "x",
				"MATTERBOT_SUPPRESS_CMD_NOT_FOUND":    "maybe",
				"MATTERBOT_MATTERMOST_SCHEME":         "gopher",
				"MATTERBOT_MATTERMOST_PASSWORD":       "pw",
				"MATTERBOT_MATTERMOST_PASSWORD_FILE":  "pwfile",
				"MATTERBOT_MATTERMOST_TOKEN_FILE_NOT": "ignored",
			},
			want: "$MATTERBOT_MATTERMOST_PASSWORD: mattermost.password: token and password are both set; use a token, or login and password\n" +
				"$MATTERBOT_MATTERMOST_PASSWORD_FILE: mattermost.password_file: set password or password_file, not both\n" +
				"$MATTERBOT_MATTERMOST_PORT: mattermost.port: \"x\" is not an integer\n" +
				"$MATTERBOT_MATTERMOST_SCHEME: mattermost.scheme: \"gopher\" is not one of \"https\", \"http\"\n" +
				"$MATTERBOT_SUPPRESS_CMD_NOT_FOUND: suppress_cmd_not_found: \"maybe\" is not true or false",
		},
		{
			name: "everything at once",
			doc: `prefix = 1
admins = ["root"]
[mattermost]
server = "chat.example.com"
scheme = "ftp"
port = 0
timeout = -1
token = "t"
password = "p"
[log]
level = "loud"
`,
			want: "bot.toml:1: prefix: want a string, got an integer (1)\n" +
				"bot.toml:2: admins[0]: \"root\" is not a user name: write it with the @, as \"@root\"\n" +
				"bot.toml:3: mattermost.team: missing: the team the bot works in (or teams = [...])\n" +
				"bot.toml:5: mattermost.scheme: \"ftp\" is not one of \"https\", \"http\"\n" +
				"bot.toml:6: mattermost.port: 0 is out of range (1-65535)\n" +
				"bot.toml:7: mattermost.timeout: must be positive, got -1s\n" +
				"bot.toml:9: mattermost.password: token and password are both set; use a token, or login and password\n" +
				"bot.toml:11: log.level: \"loud\" is not one of \"debug\", \"info\", \"warn\", \"error\"",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("bot.toml", []byte(tc.doc), envOf(tc.env))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want error\n%s", tc.doc, cfg, tc.want)
			}
			if cfg != nil {
				t.Errorf("Parse(%q) returned a config with an error", tc.doc)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != strings.Count(tc.want, "\n")+1 {
				t.Errorf("Parse error %T with %d problems, want an ErrorList of %d", err, len(list), strings.Count(tc.want, "\n")+1)
			}
		})
	}
}

func TestLogNewLogger(t *testing.T) {
	var buf strings.Builder
	l := Log{Level: "warn", Format: "json"}.NewLogger(&buf)
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.HasPrefix(got, "{") || !strings.Contains(got, `"msg":"shown"`) {
		t.Errorf("json logger at warn wrote %q", got)
	}
	buf.Reset()
	Log{Level: "debug", Format: "text"}.NewLogger(&buf).Debug("dbg")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=dbg") {
		t.Errorf("text logger at debug wrote %q", got)
	}
}

func TestParseEnvOnly(t *testing.T) {
	env := envOf(map[string]string{
		"MATTERBOT_MATTERMOST_SERVER": "chat.example.com",
		"MATTERBOT_MATTERMOST_TEAMS":  "ops,dev",
		"MATTERBOT_MATTERMOST_TOKEN":  "tok",
	})
	cfg, err := Parse("", nil, env)
	if err != nil {
		t.Fatalf("Parse from the environment alone = %v", err)
	}
	if got := cfg.Mattermost.TeamNames(); !slices.Equal(got, []string{"ops", "dev"}) || cfg.Storage.Path != "matterbot.db" {
		t.Errorf("TeamNames() = %q, Storage.Path = %q", got, cfg.Storage.Path)
	}
	_, err = Parse("", nil, envOf(map[string]string{"MATTERBOT_MATTERMOST_PORT": "0"}))
	if err == nil || !strings.Contains(err.Error(), "$MATTERBOT_MATTERMOST_PORT: mattermost.port: 0 is out of range (1-65535)") ||
		!strings.Contains(err.Error(), "mattermost.server: missing") {
		t.Errorf("Parse(env with port 0) = %v", err)
	}
}

// TestListenNeedsSecret: an HTTP listener other machines reach needs a
// webhook secret; one on the loopback interface does not.
func TestListenNeedsSecret(t *testing.T) {
	tests := []struct {
		listen string
		secret bool
		env    bool // listen comes from MATTERBOT_HTTP_LISTEN
		ok     bool
	}{
		{listen: "127.0.0.1:8066", ok: true},
		{listen: "127.0.0.2:0", ok: true},
		{listen: "[::1]:8066", ok: true},
		{listen: "localhost:8066", ok: true},
		{listen: "LocalHost:8066", ok: true},
		{listen: ":8066"},
		{listen: "0.0.0.0:8066"},
		{listen: "[::]:8066"},
		{listen: "192.0.2.10:8066"},
		{listen: "bot.example.com:8066"},
		{listen: "0.0.0.0:8066", env: true},
		{listen: ":8066", secret: true, ok: true},
		{listen: "0.0.0.0:8066", secret: true, env: true, ok: true},
	}
	for _, tc := range tests {
		doc := "backend = \"console\"\n[http]\n"
		env := map[string]string{}
		if tc.env {
			env["MATTERBOT_HTTP_LISTEN"] = tc.listen
		} else {
			doc += fmt.Sprintf("listen = %q\n", tc.listen)
		}
		if tc.secret {
			doc += "secret = \"s3cret\"\n"
		}
		cfg, err := Parse("bot.toml", []byte(doc), envOf(env))
		if tc.ok {
			if err != nil {
				t.Errorf("listen %q (secret %v, env %v): %v, want no error", tc.listen, tc.secret, tc.env, err)
			} else if cfg.HTTP.Listen != tc.listen {
				t.Errorf("listen %q: got %q", tc.listen, cfg.HTTP.Listen)
			}
			continue
		}
		where := "bot.toml:3"
		if tc.env {
			where = "$MATTERBOT_HTTP_LISTEN"
		}
		want := where + ": http.listen: " + strconv.Quote(tc.listen) +
			" is reachable from other machines: set http.secret, which every webhook must then prove it knows, or listen on 127.0.0.1"
		if err == nil || err.Error() != want {
			t.Errorf("listen %q (env %v) without a secret: error %v, want %q", tc.listen, tc.env, err, want)
		}
	}
}
