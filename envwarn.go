package matterbot

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"

	"github.com/matterbot/matterbot/config"
)

// warnUnknownEnv writes a warning for each MATTERBOT_* variable of the
// environment that names no configuration key, if the subcommand reads the
// configuration: a misspelt MATTERBOT_MATTERMOST_TOKN would otherwise be
// ignored in silence, and the bot would start with the file's token.
func (e *env) warnUnknownEnv(kctx *kong.Context) {
	cmd := kctx.Selected()
	if cmd == nil {
		return
	}
	switch cmd.Name {
	case "run", "check", "console":
	default:
		return
	}
	for _, w := range config.UnknownEnv(os.Environ(), benchTokenEnv) {
		fmt.Fprintf(e.stderr, "%s: warning: %s\n", e.name, w)
	}
}
