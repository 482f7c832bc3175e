package console

import (
	"testing"

	"github.com/matterbot/matterbot/bot"
)

// BenchmarkPost measures rendering a reply: markdown text, and a card.
func BenchmarkPost(b *testing.B) {
	card := &bot.Card{
		Title: "Deployed api to prod", Link: "https://ci.example.com/builds/42", Color: "good",
		Text: "Build **42** passed in `3m12s`; see the [log](https://ci.example.com/builds/42/log).",
		Fields: []bot.Field{
			{Title: "Service", Value: "api", Short: true}, {Title: "Environment", Value: "prod", Short: true},
			{Title: "Commit", Value: "`9f3c2a1` fix the retry loop"},
		},
	}
	text := "# Status\n**all good**: `api`, `web` and [docs](https://x.org) are up\n- one\n- two\n| a | b |\n|---|---|\n| 1 | 2 |"
	for _, bc := range []struct {
		name string
		m    message
	}{
		{"text", message{id: "12", author: line{{text: "ops-bot"}}, where: line{{text: "~ops"}}, text: text}},
		{"card", message{id: "13", author: line{{text: "ops-bot"}}, where: line{{text: "~ops"}}, card: card}},
	} {
		for _, color := range []bool{false, true} {
			r := newRenderer(color, true, 80)
			name := bc.name + "/plain"
			if color {
				name = bc.name + "/color"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = r.post(bc.m)
				}
			})
		}
	}
}
