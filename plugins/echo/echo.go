// Package echo is the built-in echo plugin: "!echo hello" answers "hello".
// It is the smallest useful plugin, and a check that the bot is alive.
package echo

import (
	"context"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the echo plugin. The zero value is ready to use.
type Plugin struct{}

// Name returns "echo".
func (Plugin) Name() string { return "echo" }

// Setup declares the echo command.
func (Plugin) Setup(p *bot.Plugin) error {
	p.Describe("repeats what you say")
	p.Command("echo", func(ctx context.Context, req *bot.Request) error {
		if req.Args == "" {
			return bot.Usagef("nothing to echo")
		}
		return req.Reply(req.Args)
	}).Usage("<text>").Help("repeat the text")
	return nil
}
