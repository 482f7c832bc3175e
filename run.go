package matterbot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/internal/metrics"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/storage/bolt"
)

// runCmd runs the bot against a Mattermost server until interrupted.
type runCmd struct {
	Config string `short:"c" default:"matterbot.toml" type:"path" help:"Configuration file; MATTERBOT_* variables override it." placeholder:"FILE"`
}

func (c *runCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if configNotFound(err) {
		return &cliError{fmt.Sprintf("configuration file %s not found: name one with -c FILE (see config/matterbot.example.toml)", c.Config), err}
	}
	if err != nil {
		return err
	}
	if cfg.Backend != "mattermost" {
		return fmt.Errorf("backend %q: run serves Mattermost; try `%s console`", cfg.Backend, e.name)
	}
	// SIGHUP from here on reloads the configuration, once the engine
	// runs (see reload.go); [log] level and format may change then.
	hup, release := e.hangup.take()
	defer release()
	logs := newLogSwitch(e.stderr, cfg.Log)
	logger := logs.logger
	// One line when the shutdown starts, naming why ("received
	// terminated"), before anything stops: the engine runs under ctx,
	// which is cancelled only once the line is written.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(e.ctx))
	defer cancel(nil)
	stopLog := context.AfterFunc(e.ctx, func() {
		logger.Info("shutting down", "reason", context.Cause(e.ctx))
		cancel(context.Cause(e.ctx))
	})
	defer stopLog()
	// The metrics are served on the HTTP listener: without one, nothing
	// observes.
	var m *metrics.Metrics
	bopts := e.backendOptions(cfg.Mattermost, logger)
	if cfg.HTTP.Listen != "" {
		m = metrics.New(e.version)
		bopts.Observer = m
	}
	store, err := bolt.Open(cfg.Storage.Path, &bolt.Options{Logger: logger})
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &cliError{fmt.Sprintf("cannot open the storage file %s: %v", pe.Path, pe.Err), err}
	}
	if err != nil {
		return err
	}
	defer store.Close() // after the engine has stopped
	bopts.Store = store.Store(backendStore)
	bopts.Slash.URL = slashURL(cfg, logger)
	interactOptions(cfg.HTTP, &bopts)
	be, err := mmbackend.New(bopts)
	if err != nil {
		return err
	}
	eopts := e.engineOptions(cfg, store, logger)
	if m != nil {
		eopts.Observer = m
	}
	plugins, _ := e.execPlugins(cfg, logger)
	eng, err := bot.New(be, eopts, plugins...)
	if err != nil {
		return err
	}
	reload := &reloader{path: c.Config, cur: cfg, eng: eng, logs: logs,
		options: func(cfg *config.Config) *bot.Options { return e.engineOptions(cfg, store, logger) }}
	defer reload.watch(ctx, hup)()
	if cfg.HTTP.Listen == "" {
		// Run returns nil once the context is cancelled (SIGINT,
		// SIGTERM), after the handlers have stopped.
		return eng.Run(ctx)
	}
	mux := httpHandler(eng, cfg.HTTP)
	if cfg.HTTP.PProf {
		logger.Info("profiler served", "path", "/debug/pprof/")
	}
	m.Engine(eng)
	mux.Handle("/metrics", getOnly(m.Handler()))
	mux.Handle(mmbackend.SlashPath, be.SlashHandler())
	mountInteractions(mux, be, eng)
	// Mount other handlers on mux here, before warnShadowed.
	warnShadowed(mux, eng, logger)
	return serveHTTP(ctx, eng, cfg.HTTP.Listen, mux, logger)
}

// backendOptions is BackendOptions adjusted by Command.Backend.
func (e *env) backendOptions(m config.Mattermost, logger *slog.Logger) mmbackend.Options {
	o := BackendOptions(m, logger)
	if e.backend != nil {
		e.backend(&o)
	}
	return o
}

// EngineOptions maps a configuration's engine keys (prefixes, admins,
// access rules, plugin tables, ...) onto the engine's options, with store
// for the plugins' data (nil: in memory) and logger for the engine's log
// (nil: discarded). This is the mapping every subcommand uses; a program
// that assembles its own bot calls it rather than copying it.
func EngineOptions(cfg *config.Config, store bot.Storage, logger *slog.Logger) *bot.Options {
	return &bot.Options{
		Prefix:                 cfg.Prefix,
		AltPrefixes:            cfg.AltPrefixes,
		SuppressUnknownCommand: cfg.SuppressCmdNotFound,
		Admins:                 cfg.Admins,
		ACLs:                   cfg.Access.ACLs(),
		DefaultACL:             cfg.Access.Default,
		DivertToThread:         cfg.DivertToThread,
		DivertToPrivate:        cfg.DivertToPrivate,
		PrefixRoomReplies:      cfg.GroupchatNickPrefixed,
		TypingAfter:            cfg.TypingAfter,
		Storage:                store,
		WebhookAuth:            cfg.HTTP.WebhookAuth(),
		PluginConfig:           cfg.PluginTables(),
		Version:                Version(),
		Logger:                 logger,
	}
}

// BackendOptions maps a configuration's [mattermost] table onto the
// Mattermost backend's options, logging to logger (nil: discarded). The
// file and the options give some zero values different meanings (in the
// file, presence_interval = 0, loop_limit = 0, outbox_max_age = 0,
// dead_link_after = 0 and catch_up = 0 turn the feature off, and
// user_cache_ttl = 0 never expires; in the options, zero means the
// default): this is the
// one place that translates them. The backend's Store is not in the file:
// run gives it a store of its own in [storage].
func BackendOptions(m config.Mattermost, logger *slog.Logger) mmbackend.Options {
	// The file's 0 turns polling, the loop guard and the outbox off; the
	// backend's zero means its default, and negative off. A rate limit
	// of 0 means no cap in both; the backend reads a negative one as 0.
	presence, loops, outbox := m.PresenceInterval, m.LoopLimit, m.OutboxMaxAge
	if presence == 0 {
		presence = -1
	}
	if loops == 0 {
		loops = -1
	}
	if outbox == 0 {
		outbox = -1
	}
	deadLink, catchUp := m.DeadLinkAfter, m.CatchUp
	if deadLink == 0 {
		deadLink = -1
	}
	if catchUp == 0 {
		catchUp = -1
	}
	userTTL := m.UserCacheTTL
	if userTTL == 0 {
		userTTL = -1
	}
	return mmbackend.Options{
		Server:           m.Server,
		Scheme:           m.Scheme,
		Port:             m.Port,
		Teams:            m.TeamNames(),
		Token:            mm.Secret(m.Token.Reveal()),
		Login:            m.Login,
		Password:         mm.Secret(m.Password.Reveal()),
		MFAToken:         mm.Secret(m.MFAToken.Reveal()),
		Insecure:         m.Insecure,
		Timeout:          m.Timeout,
		CardsHook:        m.CardsHook,
		AllowBots:        m.AllowBots,
		AllowWebhooks:    m.AllowWebhooks,
		IgnoreUsers:      m.IgnoreUsers,
		RateLimit:        max(m.RateLimit, 0),
		MaxMessageRunes:  m.MaxMessageRunes,
		PresenceInterval: presence,
		LoopLimit:        loops,
		LoopWindow:       m.LoopWindow,
		OutboxMaxAge:     outbox,
		CatchUp:          catchUp,
		UserCache:        m.UserCache,
		UserCacheTTL:     userTTL,
		Slash: mmbackend.SlashOptions{
			NoRegister: !m.Slash.Register,
			Trigger:    m.Slash.Trigger,
			Commands:   m.Slash.Commands,
			InChannel:  m.Slash.Response == "in_channel",
		},
		WebSocket: mm.WebSocketOptions{DeadLinkAfter: deadLink},
		Logger:    logger,
	}
}

// slashURL returns where the server is to call the bot's slash commands:
// [http] public_url plus mmbackend.SlashPath, or "" (no slash commands)
// when there is no public address or no listener, which it logs.
func slashURL(cfg *config.Config, logger *slog.Logger) string {
	switch {
	case !cfg.Mattermost.Slash.Register:
		return ""
	case cfg.HTTP.PublicURL == "":
		logger.Info("slash commands not registered: set [http] public_url, the bot's address as the server reaches it")
		return ""
	case cfg.HTTP.Listen == "":
		logger.Warn("slash commands not registered: [http] listen is off, so nothing would serve them")
		return ""
	}
	return strings.TrimSuffix(cfg.HTTP.PublicURL, "/") + mmbackend.SlashPath
}

// backendStore is the name of the Mattermost backend's store in the
// bot's storage (mmbackend.Options.Store): what it keeps across
// restarts, such as the replies of its outbox. No plugin has the name
// (a plugin's name has no ':'), nor a plugin's timers ("NAME:timers").
const backendStore = "backend:mattermost"

// engineOptions is EngineOptions with the command's version.
func (e *env) engineOptions(cfg *config.Config, store bot.Storage, logger *slog.Logger) *bot.Options {
	opts := EngineOptions(cfg, store, logger)
	opts.Version = e.version
	return opts
}
