package main

import (
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/plugins/about"
	"github.com/matterbot/matterbot/plugins/admin"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/plugins/help"
	"github.com/matterbot/matterbot/plugins/whoami"
)

// builtinPlugins returns new values of the built-in plugins, for any
// backend.
func builtinPlugins() []bot.Setuper {
	return []bot.Setuper{&help.Plugin{}, &about.Plugin{}, echo.Plugin{}, whoami.Plugin{}, &admin.Plugin{}}
}
