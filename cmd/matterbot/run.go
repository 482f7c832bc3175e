package main

import (
	"fmt"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/storage/bolt"
)

// runCmd runs the bot against a Mattermost server until interrupted.
type runCmd struct {
	Config string `short:"c" default:"matterbot.toml" type:"path" help:"Configuration file; MATTERBOT_* variables override it." placeholder:"FILE"`
}

func (c *runCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return err
	}
	if cfg.Backend != "mattermost" {
		return fmt.Errorf("run: backend %q: run serves Mattermost; try `matterbot console`", cfg.Backend)
	}
	logger := cfg.Log.NewLogger(e.stderr)
	m := cfg.Mattermost
	be, err := mmbackend.New(mmbackend.Options{
		Server:    m.Server,
		Scheme:    m.Scheme,
		Port:      m.Port,
		Teams:     m.TeamNames(),
		Token:     mm.Secret(m.Token.Reveal()),
		Login:     m.Login,
		Password:  mm.Secret(m.Password.Reveal()),
		MFAToken:  mm.Secret(m.MFAToken.Reveal()),
		Insecure:  m.Insecure,
		Timeout:   m.Timeout,
		CardsHook: m.CardsHook,
		Logger:    logger,
	})
	if err != nil {
		return err
	}
	store, err := bolt.Open(cfg.Storage.Path, &bolt.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close() // after the engine has stopped
	eng, err := bot.New(be, &bot.Options{
		Prefix:                 cfg.Prefix,
		AltPrefixes:            cfg.AltPrefixes,
		SuppressUnknownCommand: cfg.SuppressCmdNotFound,
		Admins:                 cfg.Admins,
		ACLs:                   cfg.Access.ACLs(),
		DefaultACL:             cfg.Access.Default,
		DivertToThread:         cfg.DivertToThread,
		DivertToPrivate:        cfg.DivertToPrivate,
		Storage:                store,
		PluginConfig:           cfg.PluginTables(),
		Version:                version,
		Logger:                 logger,
	}, builtinPlugins()...)
	if err != nil {
		return err
	}
	// Run returns nil once the context is cancelled (SIGINT, SIGTERM),
	// after the handlers have stopped.
	return eng.Run(e.ctx)
}
