package mattermost_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// seedPlugin has the commands of the tests of the seed's features that
// matterbot added later: colour names, card summaries, permalinks.
type seedPlugin struct{}

func (seedPlugin) Name() string { return "seed" }

func (seedPlugin) Setup(p *bot.Plugin) error {
	// "!seedcard COLOUR" sends a card in that colour with a summary.
	p.Command("seedcard", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{Summary: "summary in " + req.Args, Title: "card in " + req.Args, Color: req.Args})
	})
	return nil
}

// The seed's colour names reach the server as the seed's hex values, and
// the card's summary as the attachment's pretext, both through the API
// and through the cards_hook webhook.
func TestCardSeedColorsAndSummary(t *testing.T) {
	t.Parallel()
	colors := []struct{ name, hex string }{
		{"white", "#FFFFFF"}, {"cyan", "#00FFFF"}, {"blue", "#0000FF"},
		{"red", "#FF0000"}, {"green", "#008000"}, {"yellow", "#FFA500"},
		{"good", "#2EB886"}, {"#123456", "#123456"}, {"purple", "purple"},
	}
	for _, path := range []string{"api", "webhook"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			opts := w.options()
			if path == "webhook" {
				hook, err := w.srv.AddHook(w.ops.ID, w.alice.ID, "cards")
				if err != nil {
					t.Fatal(err)
				}
				opts.CardsHook = hook.ID
			}
			w.startEngine(w.newBackend(opts), nil, seedPlugin{})
			for _, c := range colors {
				w.say(w.ops, "", "!seedcard "+c.name)
				ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
				p, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
					atts, _ := p.Attachments()
					return len(atts) == 1 && atts[0].Title == "card in "+c.name
				})
				cancel()
				if err != nil {
					t.Fatalf("card in %s: %v", c.name, err)
				}
				if fromHook := p.Props["from_webhook"] == "true"; fromHook != (path == "webhook") {
					t.Errorf("card in %s: from_webhook = %v, want %v", c.name, fromHook, path == "webhook")
				}
				atts, _ := p.Attachments()
				got := struct{ Color, Pretext string }{atts[0].Color, atts[0].Pretext}
				want := struct{ Color, Pretext string }{c.hex, "summary in " + c.name}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("card in %s: attachment (-want +got):\n%s", c.name, diff)
				}
			}
		})
	}
}
