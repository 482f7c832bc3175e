// Command matterbot is a chat-ops bot for Mattermost, with the built-in
// plugins. A team's own bot is this file with its own plugins added: see
// package matterbot.
package main

import (
	"github.com/matterbot/matterbot"
	"github.com/matterbot/matterbot/plugins"
)

func main() {
	matterbot.Main(plugins.Builtin()...)
}
