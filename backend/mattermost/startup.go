package mattermost

import (
	"fmt"

	"github.com/matterbot/matterbot/bot"
)

// startupErr returns a *bot.StartupError with the formatted reason and
// the cause, for a failure to connect that the operator must fix.
func startupErr(cause error, format string, args ...any) error {
	return &bot.StartupError{Reason: fmt.Sprintf(format, args...), Err: cause}
}
