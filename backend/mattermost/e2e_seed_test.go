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
	// "!presence STATUS" sets the bot's presence (Errbot's
	// change_presence).
	p.Command("presence", func(ctx context.Context, req *bot.Request) error {
		if err := req.Plugin.Engine().SetPresence(ctx, req.Args); err != nil {
			return &bot.UserError{Err: err} // shown as is: the test reads it
		}
		return req.Reply("presence " + req.Args)
	})
	// "!permalink" answers with the message's permalink.
	p.Command("permalink", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("link " + req.Message.Permalink)
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
				hook := w.cardsHook()
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

// Message.Permalink is the seed's {server}/{team}/pl/{post_id}: the team
// of the channel, the default team for direct and group messages, and
// the web app's /_redirect/pl/ for a bot in no team.
func TestPermalink(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A second team, after ops-team: the default team stays ops-team.
	dev, err := w.srv.AddTeam("dev-team", "Dev")
	must(err)
	for _, u := range []*mm.User{w.alice, w.bot} {
		must(w.srv.AddTeamMember(dev.ID, u.ID))
	}
	builds, err := w.srv.AddChannel(dev.ID, "builds", "Builds", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{w.alice, w.bot} {
		must(w.srv.AddChannelMember(builds.ID, u.ID))
	}
	dm := w.botDM()
	gm := w.botGroup()
	opts := w.options()
	opts.Teams = []string{"ops-team", "dev-team"}
	w.startEngine(w.newBackend(opts), nil, seedPlugin{})

	// A bot in no team, in a DM with alice.
	lone, err := w.srv.AddBot("lonebot", "Lone Bot", "")
	must(err)
	loneTok, err := w.srv.CreateToken(lone.ID, "test")
	must(err)
	loneOpts := w.options()
	loneOpts.Token, loneOpts.Teams = mm.Secret(loneTok), nil
	w.startEngine(w.newBackend(loneOpts), nil, seedPlugin{})
	loneDM, err := w.srv.DirectChannel(w.alice.ID, lone.ID)
	must(err)

	site := w.srv.URL()
	for _, tc := range []struct {
		name string
		ch   *mm.Channel
		bot  *mm.User
		text string
		team string
	}{
		{"channel", w.ops, w.bot, "!permalink", "ops-team"},
		{"private channel", w.secret, w.bot, "!permalink", "ops-team"},
		{"channel of the second team", builds, w.bot, "!permalink", "dev-team"},
		{"direct message", dm, w.bot, "permalink", "ops-team"},
		{"group message", gm, w.bot, "!permalink", "ops-team"},
		{"bot in no team", loneDM, lone, "permalink", "_redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			post := w.say(tc.ch, "", tc.text)
			want := "link " + site + "/" + tc.team + "/pl/" + post.ID
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			_, err := w.srv.WaitForPost(ctx, tc.ch.ID, func(p *mm.Post) bool {
				return p.UserID == tc.bot.ID && p.Message == want
			})
			if err != nil {
				for _, p := range w.srv.Posts(tc.ch.ID) {
					t.Logf("post by %s: %q", p.UserID, p.Message)
				}
				t.Fatalf("waiting for %q: %v", want, err)
			}
		})
	}
}

// With bot.Options.PrefixRoomReplies (the seed's prefix_groupchat_reply)
// replies in channels start with "@alice: ", and those in a DM do not.
func TestPrefixGroupchatReply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dm := w.botDM()
	w.startEngine(w.newBackend(w.options()), &bot.Options{PrefixRoomReplies: true})
	w.say(w.ops, "", "!echo in the room")
	w.replyText(w.ops, "@alice: in the room")
	root := w.say(w.secret, "", "thread root")
	w.say(w.secret, root.ID, "!echo in a thread")
	w.reply(w.secret, func(p *mm.Post) bool { return p.RootID == root.ID && p.Message == "@alice: in a thread" })
	w.say(dm, "", "echo in private")
	w.replyText(dm, "in private")
}

// Errbot's change_presence: the bot sets its own status on the server.
func TestChangePresence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), nil, seedPlugin{})
	for _, status := range []string{bot.StatusAway, bot.StatusDND, bot.StatusOnline} {
		w.say(w.ops, "", "!presence "+status)
		w.replyText(w.ops, "presence "+status)
		st, _, err := w.aliceC.UserStatus(context.Background(), w.bot.ID)
		if err != nil || st.Status != status {
			t.Errorf("the bot's status after !presence %s = %+v, %v", status, st, err)
		}
	}
	w.say(w.ops, "", "!presence busy")
	w.replyText(w.ops, "`!presence` failed: bot: set presence: unknown status \"busy\" (want online, away, dnd or offline)")
}
