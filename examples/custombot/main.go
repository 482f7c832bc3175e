// Command ourbot is a team's own bot built on matterbot: the built-in
// plugins and the team's oncall plugin, with every matterbot subcommand
// (run, console, demo, check, init, ...).
//
//	go build -o ourbot . && ./ourbot demo
package main

import (
	"github.com/matterbot/matterbot"
	"github.com/matterbot/matterbot/plugins"

	"example.com/ourbot/oncall"
)

func main() {
	matterbot.Main(append(plugins.Builtin(), &oncall.Plugin{})...)
}
