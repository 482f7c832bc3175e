// Package about is the built-in plugin that tells about the bot: "!about",
// "!version", "!status" and "!uptime".
package about

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the about plugin. The zero value is ready to use.
type Plugin struct {
	engine *bot.Engine
}

// Name returns "about".
func (*Plugin) Name() string { return "about" }

// Setup declares the commands.
func (a *Plugin) Setup(p *bot.Plugin) error {
	a.engine = p.Engine()
	p.Describe("tells about the bot")
	p.Command("about", a.about).Help("what this bot is")
	p.Command("version", a.version).Help("the bot's version")
	p.Command("status", a.status).Help("plugins and work in progress")
	p.Command("uptime", a.uptime).Help("how long the bot has been running")
	return nil
}

func (a *Plugin) about(ctx context.Context, req *bot.Request) error {
	return req.Replyf("I am @%s, a matterbot %s chat-ops bot. Type `%shelp` for my commands.",
		a.engine.Self().Username, a.engine.Version(), a.engine.Prefix())
}

func (a *Plugin) version(ctx context.Context, req *bot.Request) error {
	return req.Replyf("matterbot %s (%s)", a.engine.Version(), runtime.Version())
}

func (a *Plugin) status(ctx context.Context, req *bot.Request) error {
	s := a.engine.Stats()
	return req.Card(bot.Card{
		Title: "Status",
		Color: "good",
		Fields: []bot.Field{
			{Title: "Plugins", Value: fmt.Sprintf("%d of %d active", s.Active, s.Plugins), Short: true},
			{Title: "Uptime", Value: uptime(s.Started), Short: true},
			{Title: "Running", Value: fmt.Sprint(s.Running), Short: true},
			{Title: "Queued", Value: fmt.Sprint(s.Queued), Short: true},
		},
	})
}

func (a *Plugin) uptime(ctx context.Context, req *bot.Request) error {
	s := a.engine.Stats()
	return req.Replyf("Up %s, since %s.", uptime(s.Started), s.Started.UTC().Format(time.RFC3339))
}

// uptime returns the time since start, to the second.
func uptime(start time.Time) string {
	return time.Since(start).Truncate(time.Second).String()
}
