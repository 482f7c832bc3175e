package admin_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins/admin"
	"github.com/matterbot/matterbot/plugins/echo"
	"github.com/matterbot/matterbot/plugins/help"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type weather struct{}

func (weather) Setup(p *bot.Plugin) error {
	cfg := struct {
		City   string `json:"city"`
		APIKey string `json:"api_key" secret:""`
	}{}
	if err := p.Config(&cfg); err != nil {
		return err
	}
	p.Describe("the weather")
	p.Command("weather", func(ctx context.Context, req *bot.Request) error { return req.Reply("sunny in " + cfg.City) })
	return nil
}

// pager needs its configuration: without it, it is listed but inactive.
type pager struct{}

func (pager) Setup(p *bot.Plugin) error {
	p.Describe("pages people")
	cfg := struct {
		Service string `json:"service" required:""`
	}{}
	return p.Config(&cfg)
}

func TestListMissingConfig(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &admin.Plugin{}, pager{})
	want := []string{"• **admin** (active) — manages plugins at run time\n• **pager** (inactive: needs service in [plugins.pager]) — pages people"}
	if diff := cmp.Diff(want, bottest.Texts(b.SayAs("@alice", "~ops", "!plugin list"))); diff != "" {
		t.Errorf("!plugin list mismatch (-want +got):\n%s", diff)
	}
	want = []string{"`!plugin activate` failed: plugin pager needs service in [plugins.pager]"}
	if diff := cmp.Diff(want, bottest.Texts(b.SayAs("@alice", "~ops", "!plugin activate pager"))); diff != "" {
		t.Errorf("!plugin activate pager mismatch (-want +got):\n%s", diff)
	}
}

func TestAdmin(t *testing.T) {
	opts := &bot.Options{
		Admins:       []string{"@alice"},
		PluginConfig: map[string]any{"weather": map[string]any{"city": "Oslo", "api_key": "k-123"}},
		Inactive:     []string{"echo"},
	}
	b := bottest.NewWithOptions(t, opts, &admin.Plugin{}, echo.Plugin{}, weather{})
	steps := []struct {
		user, in string
		want     []string
	}{
		{"@alice", "!plugin list", []string{"• **admin** (active) — manages plugins at run time\n• **echo** (inactive) — repeats what you say\n• **weather** (active) — the weather"}},
		{"@bob", "!plugin list", []string{"`!plugin list`: only bot admins may run this command."}},
		{"@bob", "!plugin activate echo", []string{"`!plugin activate`: only bot admins may run this command."}},
		{"@alice", "!echo hi", []string{"Command \"echo\" not found."}},
		{"@alice", "!plugin activate echo", []string{"Plugin echo is active."}},
		{"@alice", "!echo hi", []string{"hi"}},
		{"@alice", "!plugin deactivate weather", []string{"Plugin weather is inactive."}},
		{"@alice", "!weather", []string{"Command \"weather\" not found."}},
		{"@alice", "!plugin activate weather", []string{"Plugin weather is active."}},
		{"@alice", "!weather", []string{"sunny in Oslo"}},
		{"@alice", "!plugin config weather", []string{"```json\n{\n  \"api_key\": \"******\",\n  \"city\": \"Oslo\"\n}\n```"}},
		{"@alice", "!plugin config echo", []string{"```json\n{}\n```"}},
		{"@alice", "!plugin deactivate admin", []string{"`!plugin deactivate` failed: the admin plugin cannot deactivate itself"}},
		{"@alice", "!plugin activate nope", []string{"`!plugin activate`: no plugin \"nope\"; the plugins are admin, echo, weather.\nUsage: `!plugin activate <plugin>`"}},
		{"@alice", "!plugin deactivate", []string{"`!plugin deactivate`: missing <plugin>.\nUsage: `!plugin deactivate <plugin>`"}},
		{"@alice", "!plugin config nope", []string{"`!plugin config`: no plugin \"nope\"; the plugins are admin, echo, weather.\nUsage: `!plugin config <plugin>`"}},
	}
	for _, s := range steps {
		if diff := cmp.Diff(s.want, bottest.Texts(b.SayAs(s.user, "~ops", s.in))); diff != "" {
			t.Errorf("%s: Say(%q) mismatch (-want +got):\n%s", s.user, s.in, diff)
		}
	}
}

// TestPluginGroup: the plugin commands are a group that help lists and
// that did-you-mean knows.
func TestPluginGroup(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &admin.Plugin{}, &help.Plugin{})
	steps := []struct{ user, in, want string }{
		{"@alice", "!plugin lis", "Command \"plugin lis\" not found. Did you mean `!plugin list`?"},
		{"@alice", "!plugin", "`!plugin` needs a subcommand: `!plugin activate`, `!plugin config`, `!plugin deactivate` or `!plugin list`."},
		{"@alice", "!help plugin", "`!plugin` commands:\n" +
			"• `!plugin activate <plugin>` — activate a plugin (admin)\n" +
			"• `!plugin config <plugin>` — show a plugin's configuration (secrets hidden) (admin)\n" +
			"• `!plugin deactivate <plugin>` — deactivate a plugin (admin)\n" +
			"• `!plugin list` — list the plugins and their state (admin)\n\n" +
			"Type `!help <command>` for more."},
		// Admin-only commands are not shown to others.
		{"@bob", "!plugin lis", "Command \"plugin\" not found."},
		{"@bob", "!help plugin", "No command or plugin \"plugin\". Type `!help` for the list."},
	}
	for _, s := range steps {
		if diff := cmp.Diff([]string{s.want}, bottest.Texts(b.SayAs(s.user, "~ops", s.in))); diff != "" {
			t.Errorf("%s: Say(%q) mismatch (-want +got):\n%s", s.user, s.in, diff)
		}
	}
}
