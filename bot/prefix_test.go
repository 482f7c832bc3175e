package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// prefixPlugin sends every kind of reply.
func prefixPlugin() bot.Setuper {
	return plug{"prefix", func(p *bot.Plugin) error {
		p.Command("hello", reply("hello"))
		p.Command("code", reply("```\nuptime 3d\n```"))
		p.Command("table", reply("| a | b |\n| - | - |\n| 1 | 2 |"))
		p.Command("list", reply("1. first\n2. second"))
		p.Command("inline", reply("`code` first"))
		p.Command("threaded", reply("in thread")).InThread()
		p.Command("private", reply("just us")).Private()
		p.Command("fail", func(ctx context.Context, req *bot.Request) error { return bot.UserErrorf("disk full") })
		p.Command("card", func(ctx context.Context, req *bot.Request) error { return req.Card(bot.Card{Title: "deployed"}) })
		p.Command("file", func(ctx context.Context, req *bot.Request) error {
			return req.File(bot.File{Name: "log.txt", Body: strings.NewReader("x")}, "the log")
		})
		p.Command("psst", func(ctx context.Context, req *bot.Request) error { return req.Ephemeral("only you") })
		p.Command("tell", func(ctx context.Context, req *bot.Request) error {
			return req.Send("~ops", bot.Outgoing{Text: "told"})
		})
		p.Command("confirm", func(ctx context.Context, req *bot.Request) error {
			ans, err := req.Ask(ctx, "sure?")
			if err != nil {
				return err
			}
			return req.Reply("you said " + ans.Text)
		})
		p.Listen(`overheard`, func(ctx context.Context, req *bot.Request) error { return req.Reply("heard") })
		return nil
	}}
}

// TestPrefixRoomReplies: with Options.PrefixRoomReplies (Errbot's
// GROUPCHAT_NICK_PREFIXED) text replies in rooms start with the author's
// @handle, on a line of its own before a markdown block; direct
// messages, private replies, cards, files, ephemeral messages and Send
// are not prefixed; without the option nothing is.
func TestPrefixRoomReplies(t *testing.T) {
	tests := []struct {
		name   string
		say    func(b *bottest.Bot) []bottest.Reply
		prefix []string // texts with the option
		plain  []string // texts without it
	}{
		{"room", func(b *bottest.Bot) []bottest.Reply { return b.Say("!hello") },
			[]string{"@alice: hello"}, []string{"hello"}},
		{"other user and room", func(b *bottest.Bot) []bottest.Reply { return b.SayAs("@bob", "~ops", "!hello") },
			[]string{"@bob: hello"}, []string{"hello"}},
		{"thread", func(b *bottest.Bot) []bottest.Reply { return b.SayInThread("@alice", "~ops", "root", "!hello") },
			[]string{"@alice: hello"}, []string{"hello"}},
		{"diverted to a thread", func(b *bottest.Bot) []bottest.Reply { return b.Say("!threaded") },
			[]string{"@alice: in thread"}, []string{"in thread"}},
		{"code block on its own line", func(b *bottest.Bot) []bottest.Reply { return b.Say("!code") },
			[]string{"@alice:\n```\nuptime 3d\n```"}, []string{"```\nuptime 3d\n```"}},
		{"table on its own line", func(b *bottest.Bot) []bottest.Reply { return b.Say("!table") },
			[]string{"@alice:\n| a | b |\n| - | - |\n| 1 | 2 |"}, []string{"| a | b |\n| - | - |\n| 1 | 2 |"}},
		{"list on its own line", func(b *bottest.Bot) []bottest.Reply { return b.Say("!list") },
			[]string{"@alice:\n1. first\n2. second"}, []string{"1. first\n2. second"}},
		{"inline code stays inline", func(b *bottest.Bot) []bottest.Reply { return b.Say("!inline") },
			[]string{"@alice: `code` first"}, []string{"`code` first"}},
		{"engine error", func(b *bottest.Bot) []bottest.Reply { return b.Say("!fail") },
			[]string{"@alice: `!fail` failed: disk full"}, []string{"`!fail` failed: disk full"}},
		{"listener", func(b *bottest.Bot) []bottest.Reply { return b.Say("I overheard that") },
			[]string{"@alice: heard"}, []string{"heard"}},
		{"direct message", func(b *bottest.Bot) []bottest.Reply { return b.DM("@alice", "hello") },
			[]string{"hello"}, []string{"hello"}},
		{"private", func(b *bottest.Bot) []bottest.Reply { return b.Say("!private") },
			[]string{"just us"}, []string{"just us"}},
		{"file text", func(b *bottest.Bot) []bottest.Reply { return b.Say("!file") },
			[]string{"the log"}, []string{"the log"}},
		{"ephemeral", func(b *bottest.Bot) []bottest.Reply { return b.Say("!psst") },
			[]string{"only you"}, []string{"only you"}},
		{"send", func(b *bottest.Bot) []bottest.Reply { return b.Say("!tell") },
			[]string{"told"}, []string{"told"}},
		{"ask", func(b *bottest.Bot) []bottest.Reply {
			rs := b.Say("!confirm")
			return append(rs, b.Say("yes")...)
		}, []string{"@alice: sure?", "@alice: you said yes"}, []string{"sure?", "you said yes"}},
	}
	for _, on := range []bool{true, false} {
		b := bottest.NewWithOptions(t, &bot.Options{PrefixRoomReplies: on}, prefixPlugin())
		b.Backend.AddRoom(bot.Room{ID: "r-ops", Name: "ops", Team: "test"})
		for _, tc := range tests {
			want := tc.plain
			if on {
				want = tc.prefix
			}
			got := bottest.Texts(tc.say(b))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PrefixRoomReplies=%v, %s: replies (-want +got):\n%s", on, tc.name, diff)
			}
		}
	}

	// A card carries no text to prefix: it is sent as the plugin made it.
	b := bottest.NewWithOptions(t, &bot.Options{PrefixRoomReplies: true}, prefixPlugin())
	rs := b.Say("!card")
	if len(rs) != 1 || rs[0].Text != "" || rs[0].Card == nil || rs[0].Card.Title != "deployed" {
		t.Errorf("card replies = %+v, want the card alone", rs)
	}
}
