// Package deploy is an example plugin, written the way a team would write
// its own: typed arguments, an admin-only subcommand, a confirmation
// question, storage, a listener, a schedule, a webhook and its own
// configuration section. It deploys nothing itself; the Deployer
// function does the work, and a deploy system may report finished
// deploys to the webhook POST /deploy/done.
//
// Its section of the configuration file:
//
//	[plugins.deploy]
//	services = ["api", "web"]
//	room = "~ops"                # where deploys are announced, every minute
//	webhook_secret = "…"         # the key of the X-Hub-Signature-256 HMAC
//
// And in Go:
//
//	e, err := bot.New(backend, &bot.Options{
//		Admins:       []string{"@alice"},
//		PluginConfig: cfg.PluginTables(), // or map[string]any{"deploy": map[string]any{"services": ...}}
//	}, &deploy.Plugin{Deployer: myDeployer})
package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Config is the plugin's configuration ([plugins.deploy] in the config
// file).
type Config struct {
	// Services are the services that may be deployed.
	Services []string `json:"services"`
	// Room is where finished deploys are announced: "~ops".
	Room string `json:"room"`
	// Token is for the deploy system; it is never shown.
	Token string `json:"token" secret:""`
	// WebhookSecret is the key of the HMAC-SHA256 that the deploy system
	// signs its reports with, in the X-Hub-Signature-256 header. Empty:
	// the engine's Options.WebhookAuth applies.
	WebhookSecret string `json:"webhook_secret" secret:""`
}

// Deployer deploys ref of service to env. It should honour ctx.
type Deployer func(ctx context.Context, service, env, ref string) error

// Plugin is the deploy plugin.
type Plugin struct {
	// Deployer does the deploys. Nil means deploys succeed at once, which
	// is only good for a demo.
	Deployer Deployer
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	cfg    Config
	store  bot.Store
	plugin *bot.Plugin
}

// Name returns "deploy".
func (*Plugin) Name() string { return "deploy" }

// Record is what the plugin stores about the last deploy of a service to
// an environment, under "last/<service>/<env>".
type Record struct {
	Ref       string    `json:"ref"`
	Previous  string    `json:"previous,omitempty"`
	By        string    `json:"by"` // username at the time
	ByID      string    `json:"by_id"`
	At        time.Time `json:"at"`
	Announced bool      `json:"announced"`
}

type deployArgs struct {
	Service string `arg:"" help:"service to deploy"`
	Env     string `arg:"" enum:"staging,prod" help:"where to deploy"`
	Ref     string `default:"main" help:"git ref to deploy"`
	Force   bool   `short:"f" help:"do not ask for confirmation in prod"`
}

type statusArgs struct {
	Service string `arg:"" optional:"" help:"only this service"`
}

type rollbackArgs struct {
	Service string `arg:""`
	Env     string `arg:"" enum:"staging,prod"`
}

// Setup is the plugin's table of contents.
func (d *Plugin) Setup(p *bot.Plugin) error {
	if err := p.Config(&d.cfg); err != nil {
		return err
	}
	if len(d.cfg.Services) == 0 {
		return errors.New("config: no services")
	}
	d.store, d.plugin = p.Store(), p
	p.Describe("deploys services")
	bot.Command(p, "deploy", d.deploy).Help("deploy a service; prod asks for confirmation").
		Timeout(10 * time.Minute).NoAnswer("No answer: deploy cancelled.")
	bot.Command(p, "deploy status", d.status).Help("the last deploy of each service")
	bot.Command(p, "deploy rollback", d.rollback).Help("go back to the previous ref").AdminOnly().InThread()
	p.Listen(`(?i)\bwhat(?:'s| is) (?:on|in) (staging|prod)\b`, d.whatsOn)
	p.Every(time.Minute, d.announce)
	hook := bot.Webhook(p, "POST /deploy/done", d.done)
	if d.cfg.WebhookSecret != "" {
		hook.HMAC("", d.cfg.WebhookSecret)
	}
	return nil
}

func (d *Plugin) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Plugin) checkService(s string) error {
	if !slices.Contains(d.cfg.Services, s) {
		return bot.Usagef("unknown service %q; known: %s", s, strings.Join(d.cfg.Services, ", "))
	}
	return nil
}

func key(service, env string) string { return "last/" + service + "/" + env }

func (d *Plugin) deploy(ctx context.Context, req *bot.Request, a deployArgs) error {
	if err := d.checkService(a.Service); err != nil {
		return err
	}
	if a.Env == "prod" && !a.Force {
		answer, err := req.Ask(ctx, fmt.Sprintf("Deploy %s@%s to **prod**? (yes/no)", a.Service, a.Ref))
		if err != nil {
			return err
		}
		if !strings.EqualFold(strings.TrimSpace(answer.Text), "yes") {
			return req.Reply("Deploy cancelled.")
		}
	}
	if err := req.Replyf("Deploying %s@%s to %s…", a.Service, a.Ref, a.Env); err != nil {
		return err
	}
	if d.Deployer != nil {
		if err := d.Deployer(ctx, a.Service, a.Env, a.Ref); err != nil {
			return fmt.Errorf("deploy %s to %s: %w", a.Service, a.Env, err)
		}
	}
	from := req.Message.From
	err := bot.UpdateJSON(ctx, d.store, key(a.Service, a.Env), func(r Record, _ bool) (Record, error) {
		return Record{Ref: a.Ref, Previous: r.Ref, By: from.Username, ByID: from.ID, At: d.now()}, nil
	})
	if err != nil {
		return err
	}
	return req.Card(bot.Card{
		Title: fmt.Sprintf("%s deployed to %s", a.Service, a.Env),
		Color: "good",
		Fields: []bot.Field{
			{Title: "ref", Value: a.Ref, Short: true},
			{Title: "by", Value: from.String(), Short: true},
		},
	})
}

func (d *Plugin) status(ctx context.Context, req *bot.Request, a statusArgs) error {
	services := d.cfg.Services
	if a.Service != "" {
		if err := d.checkService(a.Service); err != nil {
			return err
		}
		services = []string{a.Service}
	}
	var lines []string
	for _, s := range services {
		for _, env := range []string{"staging", "prod"} {
			r, err := bot.GetJSON[Record](ctx, d.store, key(s, env))
			switch {
			case errors.Is(err, bot.ErrNotFound):
				continue
			case err != nil:
				return err
			}
			lines = append(lines, fmt.Sprintf("• %s/%s: `%s` by @%s at %s", s, env, r.Ref, r.By, r.At.UTC().Format(time.DateTime)))
		}
	}
	if len(lines) == 0 {
		return req.Reply("Nothing deployed yet.")
	}
	return req.Reply(strings.Join(lines, "\n"))
}

func (d *Plugin) rollback(ctx context.Context, req *bot.Request, a rollbackArgs) error {
	if err := d.checkService(a.Service); err != nil {
		return err
	}
	var to string
	err := bot.UpdateJSON(ctx, d.store, key(a.Service, a.Env), func(r Record, exists bool) (Record, error) {
		if !exists || r.Previous == "" {
			return r, bot.UserErrorf("no earlier deploy of %s to %s", a.Service, a.Env)
		}
		to = r.Previous
		return Record{Ref: r.Previous, By: req.Message.From.Username, ByID: req.Message.From.ID, At: d.now()}, nil
	})
	if err != nil {
		return err
	}
	if d.Deployer != nil {
		if err := d.Deployer(ctx, a.Service, a.Env, to); err != nil {
			return fmt.Errorf("roll back %s in %s: %w", a.Service, a.Env, err)
		}
	}
	return req.Replyf("Rolled %s in %s back to `%s`.", a.Service, a.Env, to)
}

func (d *Plugin) whatsOn(ctx context.Context, req *bot.Request) error {
	env := strings.ToLower(req.Match[1])
	var parts []string
	for _, s := range d.cfg.Services {
		if r, err := bot.GetJSON[Record](ctx, d.store, key(s, env)); err == nil {
			parts = append(parts, s+"@"+r.Ref)
		}
	}
	if len(parts) == 0 {
		return req.Replyf("Nothing is deployed to %s.", env)
	}
	return req.Replyf("On %s: %s.", env, strings.Join(parts, ", "))
}

// Done is what the deploy system posts to /deploy/done when a deploy it
// ran has finished, as JSON or as a form.
type Done struct {
	Service string `json:"service"`
	Env     string `json:"env"`
	Ref     string `json:"ref"`
	Status  string `json:"status"` // "ok" or "failed"
	By      string `json:"by"`     // username, without the @
}

// done records a finished deploy reported by the deploy system; the next
// announce posts it. A failed deploy is reported to the room at once.
func (d *Plugin) done(ctx context.Context, req *bot.WebhookRequest, r Done) error {
	refuse := func(format string, args ...any) error {
		return &bot.HTTPError{Code: http.StatusUnprocessableEntity, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case !slices.Contains(d.cfg.Services, r.Service):
		return refuse("unknown service %q", r.Service)
	case r.Env != "staging" && r.Env != "prod":
		return refuse("env %q is not one of staging, prod", r.Env)
	case r.Ref == "" || r.By == "":
		return refuse("ref and by are required")
	}
	switch r.Status {
	case "ok":
		return bot.UpdateJSON(ctx, d.store, key(r.Service, r.Env), func(old Record, _ bool) (Record, error) {
			return Record{Ref: r.Ref, Previous: old.Ref, By: r.By, At: d.now()}, nil
		})
	case "failed":
		if d.cfg.Room == "" {
			return nil
		}
		text := fmt.Sprintf("Deploy of %s@%s to %s failed.", r.Service, r.Ref, r.Env)
		return d.plugin.Send(ctx, d.cfg.Room, bot.Outgoing{Text: text})
	}
	return refuse("status %q is not one of ok, failed", r.Status)
}

// announce posts each deploy not yet announced to the configured room. It
// runs every minute while the plugin is active.
func (d *Plugin) announce(ctx context.Context) error {
	if d.cfg.Room == "" {
		return nil
	}
	keys, err := d.store.Keys(ctx, "last/")
	if err != nil {
		return err
	}
	for _, k := range keys {
		var news *Record
		err := bot.UpdateJSON(ctx, d.store, k, func(r Record, _ bool) (Record, error) {
			news = nil
			if !r.Announced {
				c := r
				news = &c
				r.Announced = true
			}
			return r, nil
		})
		if err != nil {
			return err
		}
		if news == nil {
			continue
		}
		_, svcEnv, _ := strings.Cut(k, "/")
		text := fmt.Sprintf("%s is now at `%s` (by @%s).", svcEnv, news.Ref, news.By)
		if err := d.plugin.Send(ctx, d.cfg.Room, bot.Outgoing{Text: text}); err != nil {
			return err
		}
	}
	return nil
}
