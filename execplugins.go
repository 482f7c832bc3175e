package matterbot

import (
	"fmt"
	"log/slog"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/execplugin"
)

// execPlugins loads the exec plugins of cfg's [exec] table and returns
// the command's plugins with them (and the exec host, which adds
// "plugin reload"), or the command's plugins alone when [exec] names no
// directory. Each exec plugin that did not load is logged, one error
// line naming its file, and the bot goes on without it; failed lists
// those errors.
func (e *env) execPlugins(cfg *config.Config, logger *slog.Logger) (plugins []bot.Setuper, failed []error) {
	if len(cfg.Exec.Dirs) == 0 {
		return e.plugins, nil
	}
	names := make([]string, len(e.plugins))
	for i, p := range e.plugins {
		names[i] = bot.PluginName(p)
	}
	m := cfg.Mattermost
	h := execplugin.NewHost(&execplugin.Options{
		Dirs:         cfg.Exec.Dirs,
		WorkDir:      cfg.Exec.WorkDir,
		AllowToken:   cfg.Exec.AllowToken,
		Token:        m.Token.Reveal(),
		ServerURL:    fmt.Sprintf("%s://%s:%d", m.Scheme, m.Server, m.Port),
		ErrbotRunner: cfg.Exec.ErrbotRunner,
		Watch:        cfg.Exec.Watch,
		Logger:       logger,
	})
	loaded, err := h.Load(names)
	if err != nil {
		failed = unjoin(err)
		for _, f := range failed {
			logger.Error("exec plugin not loaded", "err", f)
		}
	}
	return append(append([]bot.Setuper(nil), e.plugins...), loaded...), failed
}

// unjoin returns the errors errors.Join joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
