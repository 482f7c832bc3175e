// Package config loads matterbot's configuration: one TOML file, overridden
// by environment variables, validated, with every problem reported at once
// as file:line: key: message.
//
//	cfg, err := config.Load("matterbot.toml")
//	if err != nil {
//		return err // an ErrorList: one line per problem
//	}
//	logger := cfg.Log.NewLogger(os.Stderr)
//	token := mattermost.Secret(cfg.Mattermost.Token.Reveal())
//	client, err := mattermost.NewClient(cfg.Mattermost.URL(), token, &mattermost.ClientOptions{
//		Timeout: cfg.Mattermost.Timeout, Insecure: cfg.Mattermost.Insecure, Logger: logger})
//
// The keys are those of Errbot's Mattermost backend (server, team, token or
// login and password, scheme, port, insecure, timeout, cards_hook) and of
// Errbot's config.py (admins, prefix, access rules...). Template returns a
// commented file with every key and its default; `matterbot init` writes it.
//
// # Errors
//
// Load and Parse return an ErrorList holding every problem found: syntax
// errors (the parse stops there), unknown keys, values of the wrong type,
// missing keys and impossible values (port 0, scheme "ftp", admins without
// the @, a token and a password both set, ...). Each *Error names the file,
// the line of the key (or of its table, for a missing key) and the key:
//
//	matterbot.toml:7: mattermost.port: 0 is out of range (1-65535)
//	matterbot.toml:3: admins[1]: "bob" is not a user name: write it with the @, as "@bob"
//	$MATTERBOT_MATTERMOST_PORT: mattermost.port: "x" is not an integer
//
// # Required keys
//
// With backend = "mattermost" (the default), [mattermost] needs server,
// team (or teams), and either token (or token_file) or login and password
// (or password_file). A team is required even for a bot that only answers
// direct messages: Mattermost resolves channel names within a team
// (~town-square is per team), and Errbot's backend requires one too.
// With backend = "console" nothing is required.
//
// # Other bots, loops and rate limits
//
// Every post matterbot makes carries the prop matterbot_reply_to (the id of
// the post it answers), and the bot ignores the posts so marked, those of
// bot accounts and those of webhooks unless allow_bots or allow_webhooks
// lets them in, saying so once per bot in its log; people's posts are
// always answered, however fast they come (but for the users listed in
// ignore_users: a third-party bot on a user account). The bots and
// webhooks let in are watched by a loop guard: after loop_limit exchanges
// with one of them in a channel within loop_window, the bot stops
// answering it there for loop_window.
//
// rate_limit = 0 (the default) puts no cap of the bot's own on its
// requests: it keeps to what the server says (X-Ratelimit-* headers, 429
// Retry-After). A stock Mattermost does not rate-limit; a positive
// rate_limit is for a server that limits without saying so.
//
// # HTTP listener
//
// [http] listen is the bot's one HTTP listener: the plugins' webhooks and
// the operations endpoints (/healthz, /readyz). It is on by default, on
// DefaultListen (127.0.0.1:8066: port 8066, next to Mattermost's 8065,
// reached from the same machine only); listen = "" turns it off. An
// address other machines reach (":8066", "0.0.0.0:8066", a host name or
// another IP) is refused unless [http] secret is set, so that webhooks
// are never open to the network unchecked. pprof = true adds Go's
// profiler under /debug/pprof/. public_url is the listener's address as
// the Mattermost server reaches it (a reverse proxy, another host): the
// base of the URLs the bot registers for its slash commands
// ([mattermost.slash]) and interactive messages. action_secret signs the
// buttons, menus and dialogs (default: a key generated once and kept in
// the storage), action_lifetime is how long they work (default 7 days, 0
// forever).
//
// # Environment
//
// A non-empty environment variable overrides the key it names; an empty one
// counts as unset. The name is MATTERBOT_ followed by the dotted key in
// upper case with "." replaced by "_". Lists are comma-separated; booleans
// are parsed by strconv.ParseBool; timeout, dead_link_after, typing_after,
// presence_interval, loop_window, outbox_max_age, catch_up and user_cache_ttl take seconds
// or a duration string. A variable for token, password or team removes token_file,
// password_file or teams from the file (and the other way round), so the
// environment wins instead of causing a "not both" error. The variables:
//
//	MATTERBOT_BACKEND                      backend
//	MATTERBOT_PREFIX                       prefix
//	MATTERBOT_ALT_PREFIXES                 alt_prefixes (list)
//	MATTERBOT_SUPPRESS_CMD_NOT_FOUND       suppress_cmd_not_found
//	MATTERBOT_ADMINS                       admins (list)
//	MATTERBOT_DIVERT_TO_THREAD             divert_to_thread (list)
//	MATTERBOT_DIVERT_TO_PRIVATE            divert_to_private (list)
//	MATTERBOT_GROUPCHAT_NICK_PREFIXED      groupchat_nick_prefixed
//	MATTERBOT_TYPING_AFTER                 typing_after
//	MATTERBOT_MATTERMOST_SERVER            mattermost.server
//	MATTERBOT_MATTERMOST_TEAM              mattermost.team
//	MATTERBOT_MATTERMOST_TEAMS             mattermost.teams (list)
//	MATTERBOT_MATTERMOST_TOKEN             mattermost.token
//	MATTERBOT_MATTERMOST_TOKEN_FILE        mattermost.token_file
//	MATTERBOT_MATTERMOST_LOGIN             mattermost.login
//	MATTERBOT_MATTERMOST_PASSWORD          mattermost.password
//	MATTERBOT_MATTERMOST_PASSWORD_FILE     mattermost.password_file
//	MATTERBOT_MATTERMOST_MFA_TOKEN         mattermost.mfa_token
//	MATTERBOT_MATTERMOST_SCHEME            mattermost.scheme
//	MATTERBOT_MATTERMOST_PORT              mattermost.port
//	MATTERBOT_MATTERMOST_INSECURE          mattermost.insecure
//	MATTERBOT_MATTERMOST_TIMEOUT           mattermost.timeout
//	MATTERBOT_MATTERMOST_DEAD_LINK_AFTER   mattermost.dead_link_after
//	MATTERBOT_MATTERMOST_CARDS_HOOK        mattermost.cards_hook
//	MATTERBOT_MATTERMOST_ALLOW_BOTS        mattermost.allow_bots
//	MATTERBOT_MATTERMOST_ALLOW_WEBHOOKS    mattermost.allow_webhooks
//	MATTERBOT_MATTERMOST_IGNORE_USERS      mattermost.ignore_users (list)
//	MATTERBOT_MATTERMOST_RATE_LIMIT        mattermost.rate_limit
//	MATTERBOT_MATTERMOST_MAX_MESSAGE_RUNES mattermost.max_message_runes
//	MATTERBOT_MATTERMOST_PRESENCE_INTERVAL mattermost.presence_interval
//	MATTERBOT_MATTERMOST_LOOP_LIMIT        mattermost.loop_limit
//	MATTERBOT_MATTERMOST_LOOP_WINDOW       mattermost.loop_window
//	MATTERBOT_MATTERMOST_OUTBOX_MAX_AGE    mattermost.outbox_max_age
//	MATTERBOT_MATTERMOST_CATCH_UP          mattermost.catch_up
//	MATTERBOT_MATTERMOST_USER_CACHE        mattermost.user_cache
//	MATTERBOT_MATTERMOST_USER_CACHE_TTL    mattermost.user_cache_ttl
//	MATTERBOT_MATTERMOST_SLASH_REGISTER    mattermost.slash.register
//	MATTERBOT_MATTERMOST_SLASH_TRIGGER     mattermost.slash.trigger
//	MATTERBOT_MATTERMOST_SLASH_COMMANDS    mattermost.slash.commands (list)
//	MATTERBOT_MATTERMOST_SLASH_RESPONSE    mattermost.slash.response
//	MATTERBOT_STORAGE_PATH                 storage.path
//	MATTERBOT_LOG_LEVEL                    log.level
//	MATTERBOT_LOG_FORMAT                   log.format
//	MATTERBOT_HTTP_LISTEN                  http.listen
//	MATTERBOT_HTTP_SECRET                  http.secret
//	MATTERBOT_HTTP_HEADER                  http.header
//	MATTERBOT_HTTP_HMAC                    http.hmac
//	MATTERBOT_HTTP_PUBLIC_URL              http.public_url
//	MATTERBOT_HTTP_ACTION_SECRET           http.action_secret
//	MATTERBOT_HTTP_ACTION_LIFETIME         http.action_lifetime
//	MATTERBOT_HTTP_PPROF                   http.pprof
//	MATTERBOT_EXEC_DIRS                    exec.dirs (list)
//	MATTERBOT_EXEC_WORK_DIR                exec.work_dir
//	MATTERBOT_EXEC_ALLOW_TOKEN             exec.allow_token (list)
//	MATTERBOT_EXEC_WATCH                   exec.watch
//	MATTERBOT_EXEC_ERRBOT_RUNNER           exec.errbot_runner (list)
//
// The access rules (an ordered list of tables) and the plugin tables (free
// form, and plugin names may hold "_") have no variables. A MATTERBOT_
// variable that names no key is ignored; UnknownEnv lists such variables,
// with the name probably meant, and the matterbot command warns about each
// when it starts.
//
// # Secrets
//
// Tokens and passwords are a Secret, whose String, GoString, LogValue and
// MarshalText print "[REDACTED]"; Reveal gives the value. token_file and
// password_file read a secret from a file (relative paths are relative to
// the configuration file's directory, as is storage.path); trailing
// newlines are trimmed, and an unreadable or empty file is an error naming
// it.
//
// # Paths
//
// token_file, password_file and storage.path, in the file or in their
// variables, may name environment variables as $NAME or ${NAME} ($$ is a
// dollar sign), so that a service manager's directories can be used:
//
//	token_file = "${CREDENTIALS_DIRECTORY}/token"   # systemd LoadCredential=token:...
//	path = "${STATE_DIRECTORY}/matterbot.db"         # systemd StateDirectory=
//
// A variable that is unset or empty is an error naming it, rather than an
// empty string that would turn "${CREDENTIALS_DIRECTORY}/token" into
// "/token".
//
// # Plugins
//
// Each [plugins.NAME] table is kept undecoded until the plugin asks for it
// with PluginConfig, which decodes it strictly into the plugin's own type
// and reports unknown keys and wrong types with file:line like the rest.
// UnknownPlugins reports the tables that name no plugin of the program,
// with the name probably meant (matterbot check uses it).
// Which of a plugin's keys are required the plugin knows, not this
// package: package bot does not activate a plugin whose required keys
// (required:"" fields) are missing (bot.Plugin.Config), and also warns,
// without file:line, of tables for plugins it does not have.
//
// # Why go-toml
//
// The loader parses with github.com/pelletier/go-toml/v2 rather than
// BurntSushi/toml: reporting every problem with its line needs the position
// of every key, which go-toml's unstable.Parser exposes and BurntSushi/toml
// v1.6.0 keeps private. Values are decoded by this package's own decoder,
// which, unlike a library decoder, goes on after the first wrong type.
package config
