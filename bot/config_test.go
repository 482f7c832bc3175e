package bot_test

import (
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
