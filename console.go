package matterbot

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/matterbot/matterbot/backend/console"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/storage/bolt"
)

// consoleCmd runs the bot in the terminal, with the command's plugins: the
// way to try the bot, and to develop plugins, without a server.
type consoleCmd struct {
	As      string `help:"Speak as this user; the first user is a bot admin." default:"@you" placeholder:"@USER"`
	Room    string `help:"Start in this room." default:"~town-square" placeholder:"~ROOM"`
	Prefix  string `help:"Command prefix (default: the config file's, or \"!\")." placeholder:"PREFIX"`
	Config  string `short:"c" help:"Read the prefix, admins, access rules and plugin settings from this file." type:"path" placeholder:"FILE"`
	History string `help:"History file; \"-\" keeps none (default ~/.matterbot_history)." placeholder:"FILE"`
	Log     string `help:"Write the bot's logs to this file (default: no logs)." type:"path" placeholder:"FILE"`
	Storage string `help:"Keep the plugins' data in this bbolt file across runs (default: in memory, lost on exit)." type:"path" placeholder:"FILE"`
}

func (c *consoleCmd) Run(e *env) error {
	cfg := config.Default()
	if c.Config != "" {
		var err error
		if cfg, err = config.Load(c.Config); err != nil {
			return err
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if c.Log != "" {
		f, err := os.OpenFile(c.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("console: log file: %w", err)
		}
		defer f.Close()
		logger = cfg.Log.NewLogger(f)
	}
	be, err := console.New(&console.Options{
		Input:       e.stdin,
		Output:      e.stdout,
		User:        c.As,
		Room:        c.Room,
		HistoryFile: c.History,
		Logger:      logger,
	})
	if err != nil {
		return err
	}
	var storage bot.Storage // nil: the engine's in-memory default
	if c.Storage != "" {
		st, err := bolt.Open(c.Storage, &bolt.Options{Logger: logger})
		if err != nil {
			return err
		}
		defer st.Close()
		storage = st
	}
	// The same engine options as run, so that the console behaves as the
	// bot will; the prefix may be overridden, and the user the console
	// starts as is an admin, so that admin commands can be tried (/as
	// switches to someone who is not).
	opts := e.engineOptions(cfg, storage, logger)
	if c.Prefix != "" {
		opts.Prefix = c.Prefix
	}
	as := "@" + strings.ToLower(strings.TrimPrefix(c.As, "@"))
	if !slices.ContainsFunc(opts.Admins, func(a string) bool { return strings.EqualFold(a, as) }) {
		opts.Admins = append(slices.Clip(opts.Admins), as)
	}
	plugins, _ := e.execPlugins(cfg, logger)
	eng, err := bot.New(be, opts, plugins...)
	if err != nil {
		return err
	}
	if err := eng.Run(e.ctx); err != nil && !errors.Is(err, console.ErrQuit) {
		return err
	}
	return nil
}
