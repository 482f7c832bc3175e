package bot_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestReactionTrigger: a plugin's handler runs when its emoji is added,
// as the user who reacted, under the access rules; not when it is
// removed, not for another emoji, and never as a command.
func TestReactionTrigger(t *testing.T) {
	p := plug{"ship", func(p *bot.Plugin) error {
		p.Reaction(":Rocket:", func(ctx context.Context, req *bot.Request) error {
			return req.Replyf("%s launched %s with :%s:", req.Message.From, req.Message.ID, req.Reaction.Emoji)
		})
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{ACLs: []bot.ACL{{Pattern: "ship:reaction rocket", Rule: bot.Rule{DenyUsers: []string{"@eve"}}}}}, p)
	for _, tc := range []struct {
		name  string
		got   []bottest.Reply
		want  []string
		where string
	}{
		{"added", b.React("@bob", "~ops", "p1", "rocket"), []string{"@bob launched p1 with :rocket:"}, "r-ops"},
		{"another emoji", b.React("@bob", "~ops", "p1", "tada"), nil, ""},
		{"refused, silently", b.React("@eve", "~ops", "p1", "rocket"), nil, ""},
		{"not a command", b.SayAs("@bob", "~ops", "!reaction rocket"), []string{`Command "reaction" not found.`}, "r-ops"},
	} {
		if got := bottest.Texts(tc.got); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: replies %q, want %q", tc.name, got, tc.want)
		}
		if len(tc.got) > 0 && tc.got[0].RoomID != tc.where {
			t.Errorf("%s: reply in %q, want %q", tc.name, tc.got[0].RoomID, tc.where)
		}
	}
	r := &bot.Reaction{MessageID: "p1", Emoji: "rocket", User: bot.User{ID: "u-bob", Username: "bob"}, Removed: true}
	<-b.Backend.Handler().HandleReaction(r)
	if got := b.Replies(); len(got) != 0 {
		t.Errorf("a removed reaction: replies %q", bottest.Texts(got))
	}
	if infos := b.Engine.Commands(); len(infos) != 0 {
		t.Errorf("Commands() = %+v, want the trigger hidden", infos)
	}
}
