// Package oncall is a team's own plugin: who is on call, from the
// rotation in the configuration, with an override that admins set and
// the bot remembers across restarts.
//
//	[plugins.oncall]
//	rotation = ["@alice", "@bob"]   # one person a week, in order
package oncall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Config is the [plugins.oncall] table.
type Config struct {
	// Rotation is who is on call, one person a week from the first week
	// of 1970 on, in order.
	Rotation []string `json:"rotation"`
}

// Plugin is the oncall plugin.
type Plugin struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	cfg   Config
	store bot.Store
}

// Name returns "oncall".
func (*Plugin) Name() string { return "oncall" }

// overrideKey is where the admins' override is stored.
const overrideKey = "override"

type setArgs struct {
	Who string `arg:"" help:"who takes over, e.g. @bob"`
}

// Setup reads the configuration and declares the commands.
func (o *Plugin) Setup(p *bot.Plugin) error {
	if err := p.Config(&o.cfg); err != nil {
		return err
	}
	o.store = p.Store()
	p.Describe("who is on call")
	p.Command("oncall", o.who).Help("who is on call now")
	bot.Command(p, "oncall set", o.set).Help("hand the pager to someone until `oncall clear`").AdminOnly()
	p.Command("oncall clear", o.clear).Help("back to the rotation").AdminOnly()
	return nil
}

func (o *Plugin) who(ctx context.Context, req *bot.Request) error {
	who, err := o.store.Get(ctx, overrideKey)
	switch {
	case err == nil:
		return req.Reply(fmt.Sprintf("%s is on call (override).", who))
	case !errors.Is(err, bot.ErrNotFound):
		return err
	case len(o.cfg.Rotation) == 0:
		return req.Reply("Nobody: set a rotation in [plugins.oncall].")
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	week := now().Unix() / (7 * 24 * 3600)
	return req.Reply(fmt.Sprintf("%s is on call this week.", o.cfg.Rotation[week%int64(len(o.cfg.Rotation))]))
}

func (o *Plugin) set(ctx context.Context, req *bot.Request, a setArgs) error {
	if err := o.store.Set(ctx, overrideKey, []byte(a.Who)); err != nil {
		return err
	}
	return req.Reply(fmt.Sprintf("%s has the pager.", a.Who))
}

func (o *Plugin) clear(ctx context.Context, req *bot.Request) error {
	if err := o.store.Delete(ctx, overrideKey); err != nil {
		return err
	}
	return req.Reply("Back to the rotation.")
}
