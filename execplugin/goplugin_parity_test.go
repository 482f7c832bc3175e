package execplugin_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/config"
)

const parityManifest = `protocol = 1
name = "par"
version = "1"
mode = "oneshot"
exec = ["./run.sh"]
description = "parity with Go plugins"
[[commands]]
name = "open"
help = "anyone may"
[[commands]]
name = "boss"
help = "admins only"
admin = true
[[commands]]
name = "threaded"
thread = true
[[commands]]
name = "secretly"
private = true
[[commands]]
name = "quiet"
hidden = true
help = "not in help"
[[commands]]
name = "ops only"
help = "only in ~ops"
`

// An exec plugin's commands obey what a Go plugin's obey: admins, access
// rules, help, did-you-mean, threads, private replies.
func TestAsIfGoPlugins(t *testing.T) {
	script := "#!/bin/sh\necho '{\"type\":\"text\",\"text\":\"done\"}'\n"
	var log logBuffer
	opts := &bot.Options{
		Admins: []string{"@alice"},
		ACLs:   []bot.ACL{{Pattern: "ops only", Rule: bot.Rule{AllowRooms: []string{"~ops"}}}},
		Logger: log.logger(),
	}
	b := bottest.NewWithOptions(t, opts, load(t, files(t, map[string]string{"plugin.toml": parityManifest, "run.sh": script}), &log))
	if got := bottest.Texts(b.SayAs("@bob", "~ops", "!boss")); len(got) != 1 || !strings.Contains(got[0], "only bot admins") {
		t.Errorf("boss as bob: %q", got)
	}
	if got := bottest.Texts(b.Say("!boss")); !cmp.Equal(got, []string{"done"}) {
		t.Errorf("boss as alice: %q", got)
	}
	if got := bottest.Texts(b.SayAs("@bob", "~town-square", "!ops only")); len(got) != 1 || got[0] == "done" {
		t.Errorf("ops only in town-square: %q", got)
	}
	if got := bottest.Texts(b.SayAs("@bob", "~ops", "!ops only")); !cmp.Equal(got, []string{"done"}) {
		t.Errorf("ops only in ops: %q", got)
	}
	rs := b.SayAs("@bob", "~ops", "!threaded")
	if len(rs) != 1 || rs[0].ThreadID == "" {
		t.Errorf("threaded: %+v", rs)
	}
	rs = b.SayAs("@bob", "~ops", "!secretly")
	if len(rs) != 1 || !rs[0].Direct {
		t.Errorf("secretly: %+v", rs)
	}
	if got := bottest.Texts(b.SayAs("@bob", "~ops", "!opn")); len(got) != 1 || !strings.Contains(got[0], "Did you mean `!open`") {
		t.Errorf("did you mean: %q", got)
	}
	var names []string
	for _, c := range b.Engine.Commands() {
		if !c.Hidden {
			names = append(names, c.Name+": "+c.Summary())
		}
	}
	want := []string{"boss: admins only", "open: anyone may", "ops only: only in ~ops", "secretly: ", "threaded: "}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("commands in help (-want +got):\n%s", diff)
	}
}

// Required and secret configuration keys behave as a Go plugin's. A key
// the table leaves out and that has no default is absent from what the
// program gets, not a zero value.
func TestConfig(t *testing.T) {
	manifest := `protocol = 1
name = "cfg"
version = "1"
mode = "oneshot"
exec = ["./run.sh"]
[[commands]]
name = "show"
[config.url]
required = true
type = "string"
[config.password]
secret = true
[config.retries]
type = "int"
default = 3
[config.limit]
type = "int"
`
	script := "#!/bin/sh\nreq=$(cat)\ncfg=$(printf '%s' \"$req\" | sed 's/.*\"config\":\\({[^}]*}\\).*/\\1/' | sed 's/\"/\\\\\"/g')\nprintf '{\"type\":\"text\",\"text\":\"%s\"}\\n' \"$cfg\"\n"
	dir := files(t, map[string]string{"plugin.toml": manifest, "run.sh": script})
	t.Run("missing", func(t *testing.T) {
		var log logBuffer
		b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, load(t, dir, &log))
		if b.Engine.Active("cfg") {
			t.Error("active without its required key")
		}
		if !strings.Contains(log.String(), `plugin not activated: required config missing" plugin=cfg missing=url`) {
			t.Errorf("log:\n%s", log.String())
		}
		err := b.Engine.Activate(context.Background(), "cfg")
		var mc *bot.MissingConfigError
		if !errors.As(err, &mc) {
			t.Errorf("Activate = %v", err)
		}
	})
	t.Run("set", func(t *testing.T) {
		var log logBuffer
		opts := &bot.Options{Logger: log.logger(), PluginConfig: map[string]any{"cfg": map[string]any{"url": "https://x", "password": "hunter2", "limit": 0}}}
		b := bottest.NewWithOptions(t, opts, load(t, dir, &log))
		if got := bottest.Texts(b.Say("!show")); !cmp.Equal(got, []string{`{"limit":0,"password":"hunter2","retries":3,"url":"https://x"}`}) {
			t.Errorf("config the program gets: %q", got)
		}
		shown, err := b.Engine.PluginConfig("cfg")
		if err != nil || strings.Contains(shown, "hunter2") || !strings.Contains(shown, "******") {
			t.Errorf("PluginConfig = %s, %v", shown, err)
		}
		// A new table (a reload of the configuration file) is in force at once.
		next := *opts
		next.PluginConfig = map[string]any{"cfg": map[string]any{"url": "https://y", "retries": 5}}
		if err := b.Engine.Reconfigure(context.Background(), &next); err != nil {
			t.Fatal(err)
		}
		if got := bottest.Texts(b.Say("!show")); !cmp.Equal(got, []string{`{"retries":5,"url":"https://y"}`}) {
			t.Errorf("config after Reconfigure: %q, want limit and password absent", got)
		}
		if shown, err := b.Engine.PluginConfig("cfg"); err != nil || strings.Contains(shown, "password") || strings.Contains(shown, "limit") {
			t.Errorf("PluginConfig after Reconfigure = %s, %v; want limit and password absent", shown, err)
		}
	})
	t.Run("from a file", func(t *testing.T) {
		// The path of the matterbot command: the table decoded from TOML.
		cfg, err := config.Parse("matterbot.toml", []byte("backend = \"console\"\n[plugins.cfg]\nurl = \"https://z\"\nlimit = 7\n"), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		var log logBuffer
		b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), PluginConfig: cfg.PluginTables()}, load(t, dir, &log))
		if got := bottest.Texts(b.Say("!show")); !cmp.Equal(got, []string{`{"limit":7,"retries":3,"url":"https://z"}`}) {
			t.Errorf("config the program gets: %q", got)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		var log logBuffer
		opts := &bot.Options{Logger: log.logger(), PluginConfig: map[string]any{"cfg": map[string]any{"url": "u", "urls": "x"}}}
		_, err := bottest.Start(t, bottest.NewBackend(), opts, load(t, dir, &log))
		if err == nil || !strings.Contains(err.Error(), "urls") {
			t.Errorf("Start = %v, want the unknown key named", err)
		}
	})
}
