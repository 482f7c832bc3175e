// Package release is an example plugin with buttons, a menu, a dialog
// and a slash command: a release waits on a card until someone approves
// it.
//
//	!release api 1.4.2
//
// posts a card with three actions: Approve (bot admins only), a menu of
// environments, and Schedule…, which opens a dialog asking when and why.
// A click updates the card in place (who approved, where it goes) and
// answers the clicking user alone. The plugin releases nothing itself:
// Releaser does the work.
//
// As a slash command (with [mattermost.slash] commands = ["release"]),
// /release api 1.4.2 posts the same card in the channel, for others to
// approve, and /release schedule api 1.4.2 opens the dialog at once.
//
// On Mattermost the buttons and slash commands need the bot's public
// address ([http] public_url), which the server calls when someone
// clicks.
package release

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/matterbot/matterbot/bot"
)

// Releaser ships version of service to env. It should honour ctx.
type Releaser func(ctx context.Context, service, version, env string) error

// Plugin is the release plugin.
type Plugin struct {
	// Releaser does the releases. Nil means releases succeed at once,
	// which is only good for a demo.
	Releaser Releaser

	mu  sync.Mutex
	env map[string]string // release ("api 1.4.2") → chosen environment
}

// Environments are the choices of the card's menu.
var Environments = []bot.Option{{Text: "Staging", Value: "staging"}, {Text: "Production", Value: "prod"}}

type releaseArgs struct {
	Service string `arg:"" help:"the service to release"`
	Version string `arg:"" help:"its version"`
}

// scheduleForm is the dialog of the Schedule… button.
type scheduleForm struct {
	When  string `label:"When" placeholder:"tonight 22:00" min:"3" max:"40"`
	Env   string `label:"Environment" options:"Staging=staging,Production=prod" default:"staging"`
	Notes string `label:"Notes" textarea:"" optional:"" help:"shown on the card"`
}

// Name returns the plugin's name, "release".
func (r *Plugin) Name() string { return "release" }

// Setup declares the command, the click handlers and the dialog.
func (r *Plugin) Setup(p *bot.Plugin) error {
	p.Describe("releases that wait for an approval, on a card with buttons")
	bot.Command(p, "release", r.release).Help("ask for the approval of a release, on a card with buttons")
	bot.Command(p, "release schedule", r.scheduleCmd).Help("schedule a release in a dialog (a slash command opens it at once)")
	p.OnClick("approve", r.approve).AdminOnly()
	p.OnClick("env", r.chooseEnv)
	p.OnClick("schedule", r.schedule)
	bot.Form(p, "schedule", "Schedule a release", r.scheduled)
	return nil
}

// card is the release's card, with its actions while it waits.
func card(release, env, status string, waiting bool) *bot.Card {
	c := &bot.Card{Title: "Release " + release, Color: "warning",
		Fields: []bot.Field{{Title: "Environment", Value: env, Short: true}, {Title: "Status", Value: status, Short: true}}}
	if waiting {
		c.Actions = []bot.Action{
			bot.Button("Approve", "approve", release).Styled("primary"),
			bot.Menu("Environment", "env", Environments...).WithValue(release).WithDefault(env),
			bot.Button("Schedule…", "schedule", release),
		}
	} else {
		c.Color = "good"
	}
	return c
}

func (r *Plugin) release(ctx context.Context, req *bot.Request, a releaseArgs) error {
	rel := a.Service + " " + a.Version
	c := card(rel, r.envOf(rel), "waiting for approval", true)
	if req.Message.Slash {
		// A slash command's replies are shown to its caller alone, and
		// an approval is for others to give: the card goes to the
		// channel, as the bot's post, when the bot may post there.
		out := bot.Outgoing{Card: c, ThreadID: req.Message.ThreadID}
		if err := req.Plugin.Send(ctx, "~"+req.Message.Room.ID, out); err == nil {
			return nil
		}
	}
	return req.Card(*c)
}

// scheduleCmd opens the Schedule dialog when run as a slash command,
// which gives it a trigger id; a message cannot open a dialog, so then
// it posts the card, whose Schedule… button does.
func (r *Plugin) scheduleCmd(ctx context.Context, req *bot.Request, a releaseArgs) error {
	rel := a.Service + " " + a.Version
	if req.Message.TriggerID == "" {
		c := card(rel, r.envOf(rel), "waiting for approval", true)
		c.Summary = "Click **Schedule…** to pick a time (`/release schedule` opens the dialog at once)."
		return req.Card(*c)
	}
	return req.OpenDialog("schedule", r.scheduleDialog(rel))
}

func (r *Plugin) envOf(release string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.env[release]; e != "" {
		return e
	}
	return "staging"
}

func (r *Plugin) approve(ctx context.Context, c *bot.Click) error {
	env := r.envOf(c.Value)
	service, version, _ := strings.Cut(c.Value, " ")
	if r.Releaser != nil {
		if err := r.Releaser(ctx, service, version, env); err != nil {
			return fmt.Errorf("release %s to %s: %w", c.Value, env, err)
		}
	}
	c.Ephemeral("Released " + c.Value + " to " + env + ".")
	return c.Update("", card(c.Value, env, "released, approved by "+c.User.String(), false))
}

func (r *Plugin) chooseEnv(ctx context.Context, c *bot.Click) error {
	r.mu.Lock()
	if r.env == nil {
		r.env = map[string]string{}
	}
	r.env[c.Value] = c.Selected
	r.mu.Unlock()
	return c.Update("", card(c.Value, c.Selected, "waiting for approval", true))
}

func (r *Plugin) schedule(ctx context.Context, c *bot.Click) error {
	return c.OpenDialog("schedule", r.scheduleDialog(c.Value))
}

// scheduleDialog is the Schedule dialog of release.
func (r *Plugin) scheduleDialog(release string) bot.DialogOptions {
	return bot.DialogOptions{Value: release, Intro: "When should **" + release + "** go out?",
		SubmitLabel: "Schedule", Defaults: scheduleForm{Env: r.envOf(release)}}
}

func (r *Plugin) scheduled(ctx context.Context, s *bot.Submission, f scheduleForm) error {
	if strings.EqualFold(f.When, "never") {
		return bot.FieldErrors{"when": "pick a time, or close the dialog"}
	}
	text := fmt.Sprintf("%s will go to %s %s (scheduled by %s).", s.Value, f.Env, f.When, s.User)
	if f.Notes != "" {
		text += "\n> " + f.Notes
	}
	return s.Reply(text)
}
