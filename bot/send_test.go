package bot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// keeper stores where "!remember" was said and who said it, by id, and
// "!announce" sends there later: the way a plugin keeps a destination.
type keeper struct{ p *bot.Plugin }

type place struct {
	Room string `json:"room"`
	User string `json:"user"`
}

func (k *keeper) Setup(p *bot.Plugin) error {
	k.p = p
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
		if err := req.Send(pl.Room, bot.Outgoing{Text: "to the room"}); err != nil {
			return err
		}
		return p.Send(ctx, pl.User, bot.Outgoing{Text: "to the user"})
	})
	return nil
}

// TestSendByIDAfterRename keeps a room and a user by id, renames both,
// and sends to them by the kept ids; the old names no longer resolve.
func TestSendByIDAfterRename(t *testing.T) {
	var k keeper
	b := bottest.New(t, &k)
	b.SayAs("@alice", "~ops", "!remember")

	b.Backend.AddRoom(bot.Room{ID: "r-ops", Name: "operations"})
	b.Backend.AddUser(bot.User{ID: "u-alice", Username: "alicia"})

	want := []bottest.Reply{
		{To: "~test/operations", RoomID: "r-ops", Text: "to the room"},
		{To: "@alicia", RoomID: "dm-u-alice", Direct: true, Text: "to the user"},
	}
	if diff := cmp.Diff(want, b.SayAs("@bob", "~town-square", "!announce")); diff != "" {
		t.Errorf("announce after the renames (-want +got):\n%s", diff)
	}

	ctx := context.Background()
	for _, to := range []string{"~ops", "@alice"} {
		if err := k.p.Send(ctx, to, bot.Outgoing{Text: "x"}); !errors.Is(err, bot.ErrUnknown) {
			t.Errorf("Send(%s) after the rename = %v, want ErrUnknown", to, err)
		}
	}
	if r, err := b.Engine.Room(ctx, "~r-ops"); err != nil || r.Name != "operations" {
		t.Errorf("Engine.Room(~r-ops) = %v, %v; want ~operations", r, err)
	}
	if u, err := b.Engine.User(ctx, "@u-alice"); err != nil || u.Username != "alicia" {
		t.Errorf("Engine.User(@u-alice) = %v, %v; want @alicia", u, err)
	}
}

// TestSendToDirectRoomByID keeps the room of a direct message: sending
// to "~" + its id answers in that conversation.
func TestSendToDirectRoomByID(t *testing.T) {
	b := bottest.New(t, &keeper{})
	b.DM("@carol", "remember")
	want := []bottest.Reply{
		{To: "@carol", RoomID: "dm-u-carol", Direct: true, Text: "to the room"},
		{To: "@carol", RoomID: "dm-u-carol", Direct: true, Text: "to the user"},
	}
	if diff := cmp.Diff(want, b.Say("!announce")); diff != "" {
		t.Errorf("announce (-want +got):\n%s", diff)
	}
}
