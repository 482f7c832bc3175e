package bottest_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// weather needs an API key.
type weather struct {
	cfg struct {
		APIKey string `json:"api_key" required:""`
		City   string `json:"city"`
	}
}

func (w *weather) Setup(p *bot.Plugin) error {
	w.cfg.City = "Oslo"
	if err := p.Config(&w.cfg); err != nil {
		return err
	}
	p.Command("weather", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("sunny in " + w.cfg.City)
	})
	return nil
}

type ping struct{}

func (ping) Setup(p *bot.Plugin) error {
	p.Command("ping", func(ctx context.Context, req *bot.Request) error { return req.Reply("pong") })
	return nil
}

// TestPluginWithoutRequiredConfig: the harness starts a bot whose plugin
// lacks its required config; that plugin is inactive, the others answer.
func TestPluginWithoutRequiredConfig(t *testing.T) {
	b := bottest.New(t, &weather{}, ping{})
	if got, want := bottest.Texts(b.Say("!ping")), []string{"pong"}; !cmp.Equal(got, want) {
		t.Errorf("!ping: %q, want %q", got, want)
	}
	if b.Engine.Active("weather") {
		t.Error("weather is active without its api_key")
	}
	for _, pi := range b.Engine.Plugins() {
		if pi.Name == "weather" && !cmp.Equal(pi.Missing, []string{"api_key"}) {
			t.Errorf("weather: Missing = %q, want [api_key]", pi.Missing)
		}
	}

	b = bottest.NewWithOptions(t, &bot.Options{PluginConfig: map[string]any{"weather": map[string]any{"api_key": "k"}}}, &weather{}, ping{})
	if got, want := bottest.Texts(b.Say("!weather")), []string{"sunny in Oslo"}; !cmp.Equal(got, want) {
		t.Errorf("configured: !weather = %q, want %q", got, want)
	}
}
