package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// plainBackend hides every optional interface of the backend it wraps.
type plainBackend struct{ bot.Backend }

func TestRoomsUnsupported(t *testing.T) {
	e, err := bot.New(plainBackend{bottest.NewBackend()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rm := e.Rooms()
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"join room", func() error { return rm.JoinRoom(ctx, "r-ops") }},
		{"leave room", func() error { return rm.LeaveRoom(ctx, "r-ops") }},
		{"create room", func() error { _, err := rm.CreateRoom(ctx, "", "x", false); return err }},
		{"invite to room", func() error { return rm.InviteToRoom(ctx, "r-ops", "u-bob") }},
		{"remove from room", func() error { return rm.RemoveFromRoom(ctx, "r-ops", "u-bob") }},
		{"set room topic", func() error { return rm.SetRoomTopic(ctx, "r-ops", "t") }},
		{"set room purpose", func() error { return rm.SetRoomPurpose(ctx, "r-ops", "p") }},
		{"list room occupants", func() error { _, err := rm.RoomOccupants(ctx, "r-ops"); return err }},
		{"list joined rooms", func() error { _, err := rm.JoinedRooms(ctx); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, bot.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: error = %v, want one wrapping bot.ErrUnsupported and errors.ErrUnsupported", c.name, err)
			continue
		}
		if want := "bot: " + c.name + ": backend bot_test.plainBackend cannot manage rooms"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error = %q, want it to start with %q", c.name, err, want)
		}
	}
}

func TestRoomsResolve(t *testing.T) {
	be := bottest.NewBackend()
	e, err := bot.New(be, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Rooms() != bot.RoomManager(be) {
		t.Errorf("Rooms() = %T, want the backend itself", e.Rooms())
	}
	ctx := context.Background()
	if r, err := e.Room(ctx, "~test/ops"); err != nil || r.ID != "r-ops" {
		t.Errorf("Room(~test/ops) = %+v, %v, want r-ops", r, err)
	}
	if u, err := e.User(ctx, "@bob"); err != nil || u.ID != "u-bob" {
		t.Errorf("User(@bob) = %+v, %v, want u-bob", u, err)
	}
	tests := []struct {
		name    string
		call    func() error
		unknown bool
		want    string
	}{
		{"room is a user", func() error { _, err := e.Room(ctx, "@bob"); return err }, false, "is a user"},
		{"user is a room", func() error { _, err := e.User(ctx, "~ops"); return err }, false, "is a room"},
		{"bad room address", func() error { _, err := e.Room(ctx, "ops"); return err }, false, "bad address"},
		{"bad user address", func() error { _, err := e.User(ctx, ""); return err }, false, "bad address"},
		{"unknown room", func() error { _, err := e.Room(ctx, "~nope"); return err }, true, "bot: room ~nope"},
		{"unknown user", func() error { _, err := e.User(ctx, "@nobody"); return err }, true, "bot: user @nobody"},
	}
	for _, tc := range tests {
		err := tc.call()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
			continue
		}
		if got := errors.Is(err, bot.ErrUnknown); got != tc.unknown {
			t.Errorf("%s: errors.Is(%v, ErrUnknown) = %v, want %v", tc.name, err, got, tc.unknown)
		}
	}
}

// roomOpener opens a room per incident.
type roomOpener struct{}

func (roomOpener) Setup(p *bot.Plugin) error {
	p.Command("incident", func(ctx context.Context, req *bot.Request) error {
		r, err := req.Rooms().CreateRoom(ctx, "", req.Args, false)
		if errors.Is(err, bot.ErrUnsupported) {
			return req.Reply("this chat system cannot open rooms")
		}
		if err != nil {
			return err
		}
		if err := req.Rooms().InviteToRoom(ctx, r.ID, req.Message.From.ID); err != nil {
			return err
		}
		return req.Replyf("opened %s, come in", r)
	})
	return nil
}

func ExampleRequest_Rooms() {
	t := &exampleT{} // in a test: the test's *testing.T
	defer t.done()
	b := bottest.New(t, roomOpener{})
	fmt.Println(bottest.Texts(b.Say("!incident inc-7")))
	st, _ := b.Backend.RoomState("~inc-7")
	fmt.Println(st.Members)
	// Output:
	// [opened ~test/inc-7, come in]
	// [alice ops-bot]
}
