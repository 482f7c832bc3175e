package mattermost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins/whoami"
)

func waitConnect(t testing.TB, connects <-chan bot.User) {
	t.Helper()
	select {
	case <-connects:
	case <-time.After(waitLimit):
		t.Fatal("bot did not connect")
	}
}

// TestRenamedAdmin renames a bot admin through PUT /users/me/patch: the
// user_updated event the server publishes keeps the bot's directory
// current, so the next command shows the new name with no REST lookup of
// the user, and the admin keeps the rights (admins are held by id), also
// after a reconnect.
func TestRenamedAdmin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts, counts := w.countedOptions()
	be := mustBackend(t, opts)
	connects := w.startEngine(be, &bot.Options{Admins: []string{"@alice"}}, whoami.Plugin{})

	whoami := func(name string) {
		t.Helper()
		w.say(w.ops, "", "!whoami")
		w.reply(w.ops, func(p *mm.Post) bool {
			return strings.Contains(p.Message, "| user | @"+name+" |") && strings.Contains(p.Message, "| admin | yes |")
		})
	}
	whoami("alice")
	userLookups := func() int {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		return counts.paths["GET /api/v4/users/"+w.alice.ID] + counts.paths["GET /api/v4/users/username/alicia"] +
			counts.paths["POST /api/v4/users/ids"]
	}
	before := userLookups()

	// Alice renames herself, as the web app's profile page does.
	u := w.aliceC.ServerURL().String() + "/api/v4/users/me/patch"
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader([]byte(`{"username":"alicia"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+string(w.aliceC.Token()))
	resp, err := w.aliceC.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /users/me/patch = %d, want 200", resp.StatusCode)
	}

	// The socket delivers user_updated before the posted event of the
	// next command, so the reply already has the new name.
	whoami("alicia")
	if n := userLookups() - before; n != 0 {
		t.Errorf("the bot looked the renamed user up %d times, want 0 (the event says it)", n)
	}

	// A fresh connection (new hello, HandleConnect again) does not
	// re-resolve "@alice", now unknown: the admin stays an admin.
	w.srv.RestartWebSockets()
	waitConnect(t, connects)
	whoami("alicia")
}

// renameUser renames the user c is logged in as, as the web app's
// profile page does.
func renameUser(t *testing.T, c *mm.Client, name string) {
	t.Helper()
	u := c.ServerURL().String() + "/api/v4/users/me/patch"
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(`{"username":"`+name+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+string(c.Token()))
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /users/me/patch = %d, want 200", resp.StatusCode)
	}
}

// keeper keeps, by id, where "!remember" was said and who said it;
// "!announce" sends there, and reports what the old names resolve to.
type keeper struct{}

func (keeper) Setup(p *bot.Plugin) error {
	type place struct{ Room, User string }
	p.Command("remember", func(ctx context.Context, req *bot.Request) error {
		pl := place{Room: "~" + req.Message.Room.ID, User: "@" + req.Message.From.ID}
		if err := bot.SetJSON(ctx, p.Store(), "place", pl); err != nil {
			return err
		}
		return req.Reply("remembered")
	})
	p.Command("announce", func(ctx context.Context, req *bot.Request) error {
		pl, err := bot.GetJSON[place](ctx, p.Store(), "place")
		if err != nil {
			return err
		}
		if err := p.Send(ctx, pl.Room, bot.Outgoing{Text: "to the room"}); err != nil {
			return err
		}
		if err := p.Send(ctx, pl.User, bot.Outgoing{Text: "to the user"}); err != nil {
			return err
		}
		var old []string
		for _, a := range strings.Fields(req.Args) {
			err := p.Send(ctx, a, bot.Outgoing{Text: "to the old name"})
			old = append(old, fmt.Sprintf("%s unknown=%v", a, errors.Is(err, bot.ErrUnknown)))
		}
		return req.Reply("announced; " + strings.Join(old, ", "))
	})
	return nil
}

// TestSendByIDAfterRename keeps a channel and a user by id, renames
// both on the server, and sends to them by the kept ids ("~" + channel
// id, "@" + user id); the old names no longer resolve.
func TestSendByIDAfterRename(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(mustBackend(t, w.options()), nil, keeper{})
	w.say(w.ops, "", "!remember")
	w.replyText(w.ops, "remembered")

	name := "operations"
	if _, _, err := w.aliceC.PatchChannel(context.Background(), w.ops.ID, &mm.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	renameUser(t, w.aliceC, "alicia")

	// The socket delivers channel_updated and user_updated before the
	// posted event of the command, so the old names are already gone.
	w.say(w.ops, "", "!announce ~ops @alice")
	w.replyText(w.ops, "announced; ~ops unknown=true, @alice unknown=true")
	w.replyText(w.ops, "to the room")
	w.replyText(w.botDM(), "to the user")
}

// TestSendToChannelNamedLikeAnID: a channel whose name has the shape of
// an id (26 lowercase letters and digits) is found by its name, since no
// channel has that id.
func TestSendToChannelNamedLikeAnID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	name := "abcdefghijklmnopqrstuvwxyz"
	if !mm.IsValidID(name) {
		t.Fatalf("%q does not look like an id", name)
	}
	ch, err := w.srv.AddChannel(w.team.ID, name, "Looks Like An ID", mm.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(ch.ID, w.bot.ID); err != nil {
		t.Fatal(err)
	}
	var g grabber
	w.startEngine(mustBackend(t, w.options()), nil, &g)
	ctx := context.Background()
	for i, to := range []string{"~" + name, "~" + ch.ID} {
		text := fmt.Sprintf("hello %d", i)
		if err := g.p.Send(ctx, to, bot.Outgoing{Text: text}); err != nil {
			t.Fatalf("Send(%s) = %v", to, err)
		}
		w.replyText(ch, text)
	}
}

// grabber keeps its *bot.Plugin, for tests that call it directly.
type grabber struct{ p *bot.Plugin }

func (g *grabber) Setup(p *bot.Plugin) error { g.p = p; return nil }
