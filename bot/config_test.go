package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/config"
)

// TestConfigDecoder checks that Plugin.Config lets a config.PluginTable
// decode itself, so that errors keep their file and line.
func TestConfigDecoder(t *testing.T) {
	type greeterConfig struct {
		Greeting string   `toml:"greeting"`
		Rooms    []string `toml:"rooms"`
		Repeat   int      `toml:"repeat"`
	}
	doc := `backend = "console"

[plugins.good]
greeting = "hi"
rooms = ["~ops"]

[plugins.bad]
greting = "hi"
repeat = "twice"
`
	cfg, err := config.Parse("bot.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	var good greeterConfig
	goodPlugin := plug{"good", func(p *bot.Plugin) error { return p.Config(&good) }}
	if _, err := bot.New(bottest.NewBackend(), &bot.Options{PluginConfig: cfg.PluginTables()}, goodPlugin); err != nil {
		t.Fatalf("New(good config) = %v", err)
	}
	if diff := cmp.Diff(greeterConfig{Greeting: "hi", Rooms: []string{"~ops"}}, good); diff != "" {
		t.Errorf("Config() mismatch (-want +got):\n%s", diff)
	}
	badPlugin := plug{"bad", func(p *bot.Plugin) error { return p.Config(&greeterConfig{}) }}
	_, err = bot.New(bottest.NewBackend(), &bot.Options{PluginConfig: cfg.PluginTables()}, badPlugin)
	want := "bot: plugin bad: setup: config: bot.toml:8: plugins.bad.greting: unknown key (did you mean greeting?)\n" +
		"bot.toml:9: plugins.bad.repeat: want an integer, got a string (\"twice\")"
	if err == nil || err.Error() != want {
		t.Errorf("New(bad config) = %v, want\n%s", err, want)
	}
}

// deployConfig has required keys, one in a sub-table.
type deployConfig struct {
	Services []string `toml:"services" required:""`
	Room     string   `toml:"room" required:""`
	Color    string   `toml:"color"`
	DB       struct {
		URL string `toml:"url" required:""`
	} `toml:"db"`
}

// configured is a plugin with deployConfig: "!deploy" answers when it is
// configured. setup decides what Setup does with Config's error.
func configured(setup func(p *bot.Plugin, err error) error) bot.Setuper {
	var cfg deployConfig
	return plug{"deploy", func(p *bot.Plugin) error {
		err := p.Config(&cfg)
		p.Command("deploy", reply("deploying "+strings.Join(cfg.Services, ",")))
		return setup(p, err)
	}}
}

func parseConfig(t *testing.T, doc string) map[string]any {
	t.Helper()
	cfg, err := config.Parse("bot.toml", []byte("backend = \"console\"\n"+doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.PluginTables()
}

// TestMissingRequiredConfig: a plugin whose required keys are missing is
// not activated, with one error line naming it and the keys; the bot
// serves the other plugins.
func TestMissingRequiredConfig(t *testing.T) {
	returned := func(p *bot.Plugin, err error) error { return err }
	wrapped := func(p *bot.Plugin, err error) error {
		if err != nil {
			return fmt.Errorf("deploy needs its config: %w", err)
		}
		return nil
	}
	ignored := func(p *bot.Plugin, err error) error { return nil }
	for _, tc := range []struct {
		name  string
		doc   string
		setup func(*bot.Plugin, error) error
		want  []string
	}{
		{"no table", "", returned, []string{"services", "room", "db.url"}},
		{"some keys", "[plugins.deploy]\nservices = [\"api\"]\ncolor = \"red\"\n", returned, []string{"room", "db.url"}},
		{"empty values", "[plugins.deploy]\nservices = []\nroom = \"\"\n[plugins.deploy.db]\nurl = \"x\"\n", returned, []string{"services", "room"}},
		{"error wrapped by Setup", "", wrapped, []string{"services", "room", "db.url"}},
		{"error ignored by Setup", "", ignored, []string{"services", "room", "db.url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			opts := &bot.Options{PluginConfig: parseConfig(t, tc.doc), Logger: logger(&logs)}
			b, err := bottest.Start(t, bottest.NewBackend(), opts, configured(tc.setup), plug{"echo", func(p *bot.Plugin) error {
				p.Command("echo", echoArgs)
				return nil
			}})
			if err != nil {
				t.Fatalf("Start = %v, want the bot to start without the plugin", err)
			}
			if got, want := texts(b.Say("!echo hi")), []string{"echo|hi"}; !cmp.Equal(got, want) {
				t.Errorf("the other plugin: %q, want %q", got, want)
			}
			if got := texts(b.Say("!deploy")); len(got) != 1 || !strings.Contains(got[0], "not found") {
				t.Errorf("!deploy: %q, want not found", got)
			}
			var lines []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "deploy") && strings.Contains(l, "level=ERROR") {
					lines = append(lines, l)
				}
			}
			wantLine := fmt.Sprintf(`level=ERROR msg="plugin not activated: required config missing" plugin=deploy missing="%s" table=plugins.deploy`, strings.Join(tc.want, ", "))
			if len(lines) != 1 || !strings.Contains(lines[0], wantLine) {
				t.Errorf("error lines about deploy:\n%s\nwant one with\n%s", strings.Join(lines, "\n"), wantLine)
			}
			var info bot.PluginInfo
			for _, pi := range b.Engine.Plugins() {
				if pi.Name == "deploy" {
					info = pi
				}
			}
			if info.Active || !cmp.Equal(info.Missing, tc.want) {
				t.Errorf("Plugins(): deploy active=%v missing=%q, want inactive, missing %q", info.Active, info.Missing, tc.want)
			}
			err = b.Engine.Activate(context.Background(), "deploy")
			var mc *bot.MissingConfigError
			if !errors.As(err, &mc) || !cmp.Equal(mc.Keys, tc.want) {
				t.Errorf("Activate(deploy) = %v, want a MissingConfigError for %q", err, tc.want)
			}
		})
	}
}

func TestRequiredConfigSet(t *testing.T) {
	opts := &bot.Options{PluginConfig: parseConfig(t, "[plugins.deploy]\nservices = [\"api\", \"web\"]\nroom = \"~ops\"\ndb = { url = \"postgres://db\" }\n")}
	b := bottest.NewWithOptions(t, opts, configured(func(p *bot.Plugin, err error) error { return err }))
	if got, want := texts(b.Say("!deploy")), []string{"deploying api,web"}; !cmp.Equal(got, want) {
		t.Errorf("!deploy: %q, want %q", got, want)
	}
}

// TestBadConfigStillFails: a wrong type or an unknown key is an error of
// New, with the file and line, as before; only missing keys are not.
func TestBadConfigStillFails(t *testing.T) {
	opts := &bot.Options{PluginConfig: parseConfig(t, "[plugins.deploy]\nservices = \"api\"\n")}
	_, err := bot.New(bottest.NewBackend(), opts, configured(func(p *bot.Plugin, err error) error { return err }))
	if err == nil || !strings.Contains(err.Error(), "bot.toml:3: plugins.deploy.services: want") {
		t.Errorf("New = %v, want the type error with its line", err)
	}
}

func TestMissingConfigError(t *testing.T) {
	err := &bot.MissingConfigError{Plugin: "deploy", Keys: []string{"services", "db.url"}}
	if got, want := err.Error(), "bot: plugin deploy: missing required config [plugins.deploy] services, db.url"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestUnknownPluginTable: configuration for a plugin that is not
// registered is a warning, with a did-you-mean when a name is close.
func TestUnknownPluginTable(t *testing.T) {
	var logs syncBuffer
	opts := &bot.Options{
		PluginConfig: parseConfig(t, "[plugins.deploi]\nroom = \"~ops\"\n[plugins.weather]\ncity = \"Oslo\"\n[plugins.echo]\n"),
		Logger:       logger(&logs),
	}
	echo := plug{"echo", func(p *bot.Plugin) error { p.Command("echo", echoArgs); return nil }}
	deploy := plug{"deploy", func(p *bot.Plugin) error { return nil }}
	if _, err := bot.New(bottest.NewBackend(), opts, echo, deploy); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		_, msg, _ := strings.Cut(l, "level=")
		got = append(got, msg)
	}
	want := []string{
		`WARN msg="config for an unknown plugin" plugin=deploi did_you_mean=deploy`,
		`WARN msg="config for an unknown plugin" plugin=weather`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}

	logs = syncBuffer{}
	opts.PluginConfig = map[string]any{"": map[string]any{}, " ": map[string]any{}}
	if _, err := bot.New(bottest.NewBackend(), opts, echo, deploy); err != nil {
		t.Fatal(err)
	}
	if l, w := logs.String(), `msg="config for an unknown plugin" plugin=" "`; !strings.Contains(l, w) {
		t.Errorf("log does not contain %s:\n%s", w, l)
	}
}

// Auth is embedded in embeddedConfig: untagged, its keys are the
// table's own; in a sub-table, the sub-table's.
type Auth struct {
	Token string `toml:"token" required:""`
}

type embeddedConfig struct {
	Auth
	Proxy struct {
		Auth
		URL string `toml:"url" required:""`
	} `toml:"proxy"`
}

func TestRequiredConfigEmbedded(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"none set", "", []string{"token", "proxy.token", "proxy.url"}},
		{"top set", "[plugins.auth]\ntoken = \"t\"\n", []string{"proxy.token", "proxy.url"}},
		{"all set", "[plugins.auth]\ntoken = \"t\"\nproxy = { token = \"p\", url = \"http://proxy\" }\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg embeddedConfig
			b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: parseConfig(t, tc.doc)}, plug{"auth", func(p *bot.Plugin) error { return p.Config(&cfg) }})
			ps := b.Engine.Plugins()
			if len(ps) != 1 {
				t.Fatalf("Plugins() = %+v, want auth alone", ps)
			}
			if got := ps[0].Missing; !cmp.Equal(got, tc.want) {
				t.Errorf("missing %q, want %q", got, tc.want)
			}
		})
	}
}
