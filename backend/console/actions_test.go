package console

import (
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
)

// TestCardActions: a card's buttons show on one line, each menu on its
// own with its choices.
func TestCardActions(t *testing.T) {
	r := newRenderer(false, false, 80)
	c := &bot.Card{Title: "deploy api?", Actions: []bot.Action{
		bot.Button("Approve", "approve", ""),
		bot.Menu("Env", "env", bot.Option{Text: "Staging", Value: "s"}, bot.Option{Text: "Production", Value: "p"}),
		bot.Button("Reject", "reject", ""),
		bot.UserMenu("Owner", "owner"),
	}}
	var b strings.Builder
	r.lines(&b, "", r.card(c))
	got := b.String()
	for _, want := range []string{"│ [ Approve ] [ Reject ] ", "│ [ Env ▾ ] Staging, Production ", "│ [ Owner ▾ ] (a user) "} {
		if !strings.Contains(got, want) {
			t.Errorf("card lacks %q:\n%s", want, got)
		}
	}
}
