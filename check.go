package matterbot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	mm "github.com/matterbot/matterbot/mattermost"
)

// checkCmd checks a configuration against its server without serving it:
// the file, the login, the teams and channels, and what the bot may do
// there, one line per finding. No plugin is activated.
type checkCmd struct {
	Config string `short:"c" default:"matterbot.toml" type:"path" help:"Configuration file to check; MATTERBOT_* variables override it." placeholder:"FILE"`
}

// Permissions as the server names them (server/public/model/permission.go).
// Webhook creation was manage_incoming_webhooks until the server split
// it into own and others' (v10); either will do.
const (
	permCreatePost          = "create_post"
	permCreatePostPublic    = "create_post_public"
	permCreatePostEphemeral = "create_post_ephemeral"
	permJoinPublicChannels  = "join_public_channels"
	permManageIncomingHooks = "manage_incoming_webhooks"
	permManageOwnHooks      = "manage_own_incoming_webhooks"
)

func (c *checkCmd) Run(e *env) error {
	r := &report{w: e.stdout}
	cfg, err := config.Load(c.Config)
	if configNotFound(err) {
		return &cliError{fmt.Sprintf("configuration file %s not found: name one with -c FILE, or write one with `%s init`", c.Config, e.name), err}
	}
	if err != nil {
		return err // file:line problems, one a line
	}
	r.ok("configuration %s: valid", c.Config)
	plugins, failed := e.execPlugins(cfg, slog.New(slog.DiscardHandler))
	for _, f := range failed {
		r.fail("exec plugin not loaded: %v", f)
	}
	if len(cfg.Exec.Dirs) > 0 && len(failed) == 0 {
		r.ok("[exec] dirs: %d exec plugins load", len(plugins)-len(e.plugins)-1)
	}
	names := make([]string, len(plugins))
	for i, p := range plugins {
		names[i] = bot.PluginName(p)
	}
	if unknown := cfg.UnknownPlugins(names); len(unknown) > 0 {
		for _, u := range unknown {
			r.fail("%s", u)
		}
	} else if len(cfg.Plugins()) > 0 {
		r.ok("[plugins.*] tables: each names a plugin of this bot")
	}
	if cfg.Backend != "mattermost" {
		r.ok("backend %s: no server to check", cfg.Backend)
	} else {
		c.server(e, r, cfg)
		checkInteractions(e.ctx, r, cfg, e.plugins)
	}
	return r.end()
}

// server logs in as run does and reports what the bot may do where.
func (c *checkCmd) server(e *env, r *report, cfg *config.Config) {
	ctx := e.ctx
	be, err := mmbackend.New(e.backendOptions(cfg.Mattermost, slog.New(slog.DiscardHandler)))
	if err != nil {
		r.fail("%s", strings.TrimPrefix(err.Error(), "mattermost: "))
		return
	}
	client := be.Client()
	if cfg.Mattermost.Login != "" {
		// The login made a session, also when what follows it failed (an
		// unknown team): a check leaves none behind.
		defer func() {
			if client.Token() != "" {
				_, _ = client.Logout(context.WithoutCancel(ctx))
			}
		}()
	}
	if err := be.Connect(ctx); err != nil {
		for _, line := range errorLines(err) {
			r.fail("%s", line)
		}
		return
	}
	me := be.Self()
	account := "a user account"
	if me.IsBot {
		account = "a bot account"
	}
	r.ok("logged in to %s as @%s, %s", cfg.Mattermost.URL(), me.Username, account)
	checkNames(ctx, r, be, cfg)

	// What a user may do in a channel is what the roles of its channel
	// membership, its team membership and its account grant
	// (app/authorization.go SessionHasPermissionToChannel).
	type teamView struct {
		team     *mm.Team
		roles    string
		channels []*mm.Channel
		member   map[string]string // channel id → roles
	}
	var views []teamView
	wanted := strings.Fields(me.Roles)
	for _, t := range be.Teams() {
		v := teamView{team: t, member: map[string]string{}}
		tm, _, err := client.TeamMember(ctx, t.ID, "me")
		if err != nil {
			r.fail("team %s: cannot read the bot's membership: %v", t.Name, err)
			continue
		}
		v.roles = tm.Roles
		chs, _, err := client.MyChannels(ctx, t.ID)
		if err == nil {
			var ms []*mm.ChannelMember
			ms, _, err = client.MyChannelMembers(ctx, t.ID)
			for _, m := range ms {
				v.member[m.ChannelID] = m.Roles
				wanted = append(wanted, strings.Fields(m.Roles)...)
			}
		}
		if err != nil {
			r.fail("team %s: cannot list the bot's channels: %v", t.Name, err)
			continue
		}
		for _, ch := range chs {
			if ch.TeamID == t.ID && ch.DeleteAt == 0 {
				v.channels = append(v.channels, ch)
			}
		}
		slices.SortFunc(v.channels, func(a, b *mm.Channel) int { return strings.Compare(a.Name, b.Name) })
		wanted = append(wanted, strings.Fields(tm.Roles)...)
		views = append(views, v)
	}
	slices.Sort(wanted)
	roles, _, err := client.RolesByNames(ctx, slices.Compact(wanted))
	if err != nil {
		r.fail("cannot read the bot's roles and their permissions: %v", err)
		return
	}
	g := grants{}
	for _, role := range roles {
		g[role.Name] = role.Permissions
	}

	if g.can(me.Roles, permCreatePostEphemeral) {
		r.ok("may post ephemeral messages")
	} else {
		r.note("may not post ephemeral messages (%s, a system admin's by default): they go as direct messages", permCreatePostEphemeral)
	}
	for _, v := range views {
		t := v.team.Name
		r.ok("team %s: a member (roles: %s)", t, v.roles)
		teamRoles := v.roles + " " + me.Roles
		if len(v.channels) == 0 {
			r.note("team %s: in no channel yet: add the bot to channels; until then it answers direct messages only", t)
		}
		var can []string
		for _, ch := range v.channels {
			all := v.member[ch.ID] + " " + teamRoles
			if g.can(all, permCreatePost) || ch.Type == mm.ChannelOpen && g.can(teamRoles, permCreatePostPublic) {
				can = append(can, "~"+ch.Name)
				continue
			}
			r.fail("team %s: may not post in ~%s (no %s in the roles %s)", t, ch.Name, permCreatePost, strings.Join(strings.Fields(all), ", "))
		}
		if len(can) > 0 {
			r.ok("team %s: may post in %s", t, countList(len(can), "channel", can))
		}
		if g.can(teamRoles, permJoinPublicChannels) {
			r.ok("team %s: may join public channels", t)
		} else {
			r.note("team %s: may not join public channels (%s): add the bot to channels by hand", t, permJoinPublicChannels)
		}
		if g.can(teamRoles, permManageIncomingHooks, permManageOwnHooks) {
			r.ok("team %s: may create incoming webhooks", t)
		} else {
			r.note("team %s: may not create incoming webhooks (%s, a team admin's by default)", t, permManageIncomingHooks)
		}
	}
}

// grants maps a role's name to its permissions.
type grants map[string][]string

// can reports whether one of the space-separated roles grants one of the
// permissions.
func (g grants) can(roles string, permissions ...string) bool {
	for _, role := range strings.Fields(roles) {
		for _, p := range permissions {
			if slices.Contains(g[role], p) {
				return true
			}
		}
	}
	return false
}

// countList is "2 channels: ~a, ~b", the names cut after ten.
func countList(n int, noun string, names []string) string {
	if n != 1 {
		noun += "s"
	}
	if len(names) > 10 {
		names = append(slices.Clip(names[:10]), "...")
	}
	return fmt.Sprintf("%d %s: %s", n, noun, strings.Join(names, ", "))
}

// report writes check's findings, one a line, and counts them.
type report struct {
	w               io.Writer
	problems, notes int
}

func (r *report) line(tag, format string, args ...any) {
	fmt.Fprintf(r.w, "%-5s %s\n", tag, fmt.Sprintf(format, args...))
}

func (r *report) ok(format string, args ...any) { r.line("ok", format, args...) }

// note is something the bot cannot do that it does without.
func (r *report) note(format string, args ...any) {
	r.notes++
	r.line("note", format, args...)
}

// fail is a problem: check exits nonzero.
func (r *report) fail(format string, args ...any) {
	r.problems++
	r.line("FAIL", format, args...)
}

// end writes the summary line and returns the error that makes the exit
// code nonzero when there was a problem.
func (r *report) end() error {
	plural := func(n int, s string) string {
		if n == 1 {
			return "1 " + s
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	fmt.Fprintf(r.w, "%s, %s\n", plural(r.problems, "problem"), plural(r.notes, "note"))
	if r.problems > 0 {
		return &cliError{fmt.Sprintf("check found %s", plural(r.problems, "problem")), nil}
	}
	return nil
}

// checkNames reports the admins and the names of the access rules that
// the server does not know: run starts without them (each fails closed,
// see bot.Options.Admins and bot.Rule), which check calls a failure, as
// the file asks for what the bot will not do.
func checkNames(ctx context.Context, r *report, be bot.Backend, cfg *config.Config) {
	opts := EngineOptions(cfg, nil, nil)
	n := len(opts.Admins)
	for _, rule := range append([]bot.Rule{opts.DefaultACL}, aclRules(opts.ACLs)...) {
		n += len(rule.AllowUsers) + len(rule.DenyUsers) + len(rule.AllowRooms) + len(rule.DenyRooms)
	}
	if n == 0 {
		return
	}
	unknown, err := bot.UnknownNames(ctx, be, opts)
	switch {
	case err != nil:
		r.fail("admins and access rules: %v", err)
	case len(unknown) > 0:
		for _, u := range unknown {
			r.fail("%s", u)
		}
	default:
		r.ok("admins and access rules: the server knows every person and room they name")
	}
}

// aclRules returns the rules of acls.
func aclRules(acls []bot.ACL) []bot.Rule {
	rules := make([]bot.Rule, len(acls))
	for i, a := range acls {
		rules[i] = a.Rule
	}
	return rules
}
