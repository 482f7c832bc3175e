package matterbot

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// waitOutput waits until out contains want; it fails the test if done
// closes first.
func waitOutput(t *testing.T, out *notifyWriter, want string, done <-chan struct{}) {
	t.Helper()
	for !strings.Contains(out.String(), want) {
		select {
		case <-out.wrote:
		case <-done:
			t.Fatalf("chat stopped before printing %q; output:\n%s", want, out.String())
		}
	}
}

func TestFakeServerChat(t *testing.T) {
	srv := mmtest.NewServer(t, nil)
	sf, err := parseSeed("(default)", defaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := sf.apply(srv)
	if err != nil {
		t.Fatal(err)
	}
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	c, err := newChat(srv, sf, accounts, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in, typed := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx, in)
	}()
	waitOutput(t, out, "you are @alice in ~town-square.", done)

	team, _ := srv.Team("ops")
	town, _ := srv.Channel(team.ID, "town-square")
	alice, _ := srv.User("alice")
	bot, _ := srv.User("ops-bot")
	say := func(line string) {
		t.Helper()
		if _, err := io.WriteString(typed, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	posted := func(channelID, userID, text string) *mattermost.Post {
		t.Helper()
		p, err := srv.WaitForPost(ctx, channelID, func(p *mattermost.Post) bool {
			return p.UserID == userID && p.Message == text
		})
		if err != nil {
			t.Fatalf("no post %q: %v", text, err)
		}
		return p
	}

	// A line is posted as alice in town-square; the bot's answer, with
	// a card, is printed.
	say("!echo hi")
	cmd := posted(town.ID, alice.ID, "!echo hi")
	card := map[string]any{"title": "Deploy", "text": "api to prod", "fields": []any{map[string]any{"title": "by", "value": "alice"}},
		"actions": []any{map[string]any{"name": "Approve", "type": "button"}, map[string]any{"name": "Env", "type": "select"}}}
	if _, err := srv.CreatePost(bot.ID, mattermost.Post{ChannelID: town.ID, RootID: cmd.ID, Message: "hi\nthere", Props: map[string]any{"attachments": []any{card}}}); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "~town-square (thread) ops-bot: hi\n    there\n    [card] Deploy: api to prod\n      by: alice\n"+
		"      [Approve] [Env ▾] (click them in the playground)\n", done)
	if strings.Contains(out.String(), "alice: !echo hi") {
		t.Errorf("the chat echoed alice's own line:\n%s", out.String())
	}

	// Switching user, channel and to a direct message.
	say("/as nobody")
	waitOutput(t, out, `! /as: no user "nobody"`, done)
	say("/as bob")
	waitOutput(t, out, "you are @bob in ~town-square.", done)
	say("/in ~deploys")
	waitOutput(t, out, "you are @bob in ~deploys.", done)
	bob, _ := srv.User("bob")
	deploys, _ := srv.Channel(team.ID, "deploys")
	say("!status")
	posted(deploys.ID, bob.ID, "!status")
	say("/dm ops-bot")
	waitOutput(t, out, "you are @bob in @ops-bot (direct).", done)
	say("!whoami")
	dm, err := srv.DirectChannel(bob.ID, bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	posted(dm.ID, bob.ID, "!whoami")
	if _, err := srv.CreatePost(bot.ID, mattermost.Post{ChannelID: dm.ID, Message: "you are bob"}); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "@ops-bot (direct) ops-bot: you are bob\n", done)
	// Lines typed here are not printed back, whoever typed them; a post
	// by the same user from elsewhere is.
	for _, typed := range []string{"bob: !status", "bob: !whoami", "alice: !echo hi"} {
		if strings.Contains(out.String(), typed) {
			t.Errorf("the chat printed back %q:\n%s", typed, out.String())
		}
	}
	if _, err := srv.CreatePost(bob.ID, mattermost.Post{ChannelID: dm.ID, Message: "from my phone"}); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "@ops-bot (direct) bob: from my phone\n", done)

	// The end of input keeps the chat showing posts; ctx stops it.
	typed.Close()
	cancel()
	<-done
}

func TestFakeServerChatNeedsUsers(t *testing.T) {
	srv := mmtest.NewServer(t, nil)
	sf, err := parseSeed("only-bots.toml", "[[teams]]\nname = \"ops\"\n[[bots]]\nusername = \"lonely-bot\"\nteams = [\"ops\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := sf.apply(srv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newChat(srv, sf, accounts, io.Discard); err == nil || !strings.Contains(err.Error(), "--chat needs") {
		t.Errorf("newChat with no user = %v, want a --chat needs ... error", err)
	}
}
