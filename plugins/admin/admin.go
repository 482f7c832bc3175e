// Package admin is the built-in plugin for managing plugins at run time,
// for bot admins only: "!plugin list", "!plugin activate <name>",
// "!plugin deactivate <name>" and "!plugin config <name>"; and for
// the access rules "!acl why <command> [@user]".
package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the admin plugin. The zero value is ready to use.
type Plugin struct {
	engine *bot.Engine
}

// Name returns "admin".
func (*Plugin) Name() string { return "admin" }

type nameArg struct {
	Plugin string `arg:"" help:"plugin name"`
}

// Setup declares the plugin management commands, all admin-only.
func (a *Plugin) Setup(p *bot.Plugin) error {
	a.engine = p.Engine()
	p.Describe("manages plugins at run time")
	p.Command("plugin list", a.list).Help("list the plugins and their state").AdminOnly()
	bot.Command(p, "plugin activate", a.activate).Help("activate a plugin").AdminOnly()
	bot.Command(p, "plugin deactivate", a.deactivate).Help("deactivate a plugin").AdminOnly()
	bot.Command(p, "plugin config", a.config).Help("show a plugin's configuration (secrets hidden)").AdminOnly()
	p.Command("acl why", a.why).Usage("<command> [@user]").
		Help("tell which access rule lets a user (you by default) run a command here, or refuses it, and why").AdminOnly()
	return nil
}

// why explains the access decision for a command, a user and the room
// the question is asked in.
func (a *Plugin) why(ctx context.Context, req *bot.Request) error {
	words, err := req.Words()
	if err != nil {
		return err
	}
	u := req.Message.From
	if n := len(words); n > 1 && strings.HasPrefix(words[n-1], "@") {
		if u, err = a.engine.User(ctx, words[n-1]); err != nil {
			return bot.Usagef("no user %s", words[n-1])
		}
		words = words[:n-1]
	}
	if len(words) == 0 {
		return bot.Usagef("which command?")
	}
	text, err := a.engine.Explain(ctx, strings.Join(words, " "), u, req.Message.Room, req.Message.Direct)
	if errors.Is(err, bot.ErrUnknown) {
		return bot.Usagef("no command %q", strings.Join(words, " "))
	}
	if err != nil {
		return err
	}
	return req.Reply(text)
}

func (a *Plugin) list(ctx context.Context, req *bot.Request) error {
	var b strings.Builder
	for _, pi := range a.engine.Plugins() {
		state := "inactive"
		switch {
		case pi.Active:
			state = "active"
		case len(pi.Missing) > 0:
			state = "inactive: needs " + strings.Join(pi.Missing, ", ") + " in [plugins." + pi.Name + "]"
		}
		fmt.Fprintf(&b, "• **%s** (%s)", pi.Name, state)
		if pi.Description != "" {
			fmt.Fprintf(&b, " — %s", pi.Description)
		}
		b.WriteByte('\n')
	}
	return req.Reply(strings.TrimSuffix(b.String(), "\n"))
}

// known turns ErrNoPlugin into a usage error that names the plugins.
func (a *Plugin) known(name string, err error) error {
	if errors.Is(err, bot.ErrNoPlugin) {
		var names []string
		for _, pi := range a.engine.Plugins() {
			names = append(names, pi.Name)
		}
		return bot.Usagef("no plugin %q; the plugins are %s", name, strings.Join(names, ", "))
	}
	return err
}

func (a *Plugin) activate(ctx context.Context, req *bot.Request, n nameArg) error {
	err := a.engine.Activate(ctx, n.Plugin)
	if mc := (*bot.MissingConfigError)(nil); errors.As(err, &mc) {
		return bot.UserErrorf("plugin %s needs %s in [plugins.%s]", mc.Plugin, strings.Join(mc.Keys, ", "), mc.Plugin)
	}
	if err != nil {
		return a.known(n.Plugin, err)
	}
	return req.Replyf("Plugin %s is active.", n.Plugin)
}

func (a *Plugin) deactivate(ctx context.Context, req *bot.Request, n nameArg) error {
	if n.Plugin == a.Name() {
		return bot.UserErrorf("the admin plugin cannot deactivate itself")
	}
	if err := a.engine.Deactivate(ctx, n.Plugin); err != nil {
		return a.known(n.Plugin, err)
	}
	return req.Replyf("Plugin %s is inactive.", n.Plugin)
}

func (a *Plugin) config(ctx context.Context, req *bot.Request, n nameArg) error {
	cfg, err := a.engine.PluginConfig(n.Plugin)
	if err != nil {
		return a.known(n.Plugin, err)
	}
	return req.Replyf("```json\n%s\n```", cfg)
}
