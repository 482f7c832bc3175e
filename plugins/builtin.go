package plugins

import (
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/plugins/about"
	"github.com/matterbot/matterbot/plugins/admin"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/plugins/help"
	"github.com/matterbot/matterbot/plugins/whoami"
)

// Builtin returns a new value of every built-in plugin, ready for bot.New:
// help, about, echo, whoami and admin. Leave one out with
// bot.Options.Inactive, or pick the packages one by one.
func Builtin() []bot.Setuper {
	return []bot.Setuper{&help.Plugin{}, &about.Plugin{}, echo.Plugin{}, whoami.Plugin{}, &admin.Plugin{}}
}
