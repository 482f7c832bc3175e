package bottest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// roomsPlugin manages rooms through bot.Request.Rooms.
type roomsPlugin struct{}

func (roomsPlugin) Setup(p *bot.Plugin) error {
	p.Command("incident", func(ctx context.Context, req *bot.Request) error {
		rm := req.Rooms()
		r, err := rm.CreateRoom(ctx, "", req.Args, true)
		if err != nil {
			return err
		}
		if err := rm.InviteToRoom(ctx, r.ID, req.Message.From.ID); err != nil {
			return err
		}
		if err := rm.SetRoomTopic(ctx, r.ID, "incident "+req.Args); err != nil {
			return err
		}
		if err := rm.SetRoomPurpose(ctx, r.ID, "handle it"); err != nil {
			return err
		}
		return req.Replyf("opened %s", r)
	})
	p.Command("join", func(ctx context.Context, req *bot.Request) error {
		r, err := req.Plugin.Engine().Room(ctx, req.Args)
		if err != nil {
			return err
		}
		if err := req.Rooms().JoinRoom(ctx, r.ID); err != nil {
			return err
		}
		return req.Replyf("joined %s", r)
	})
	p.Command("leave", func(ctx context.Context, req *bot.Request) error {
		r, err := req.Plugin.Engine().Room(ctx, req.Args)
		if err != nil {
			return err
		}
		if err := req.Plugin.Rooms().LeaveRoom(ctx, r.ID); err != nil {
			return err
		}
		return req.Replyf("left %s", r)
	})
	p.Command("kick", func(ctx context.Context, req *bot.Request) error {
		w, err := req.Words()
		if err != nil {
			return err
		}
		if len(w) != 2 {
			return &bot.UsageError{Err: errors.New("want ~room @user")}
		}
		e := req.Plugin.Engine()
		r, err := e.Room(ctx, w[0])
		if err != nil {
			return err
		}
		u, err := e.User(ctx, w[1])
		if err != nil {
			return err
		}
		return req.Rooms().RemoveFromRoom(ctx, r.ID, u.ID)
	})
	p.Command("myrooms", func(ctx context.Context, req *bot.Request) error {
		rs, err := req.Rooms().JoinedRooms(ctx)
		if err != nil {
			return err
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.String())
		}
		return req.Reply(strings.Join(names, " "))
	})
	p.Command("who", func(ctx context.Context, req *bot.Request) error {
		r, err := req.Plugin.Engine().Room(ctx, req.Args)
		if err != nil {
			return err
		}
		us, err := req.Rooms().RoomOccupants(ctx, r.ID)
		if err != nil {
			return err
		}
		var names []string
		for _, u := range us {
			names = append(names, u.String())
		}
		if len(names) == 0 {
			return req.Reply("nobody")
		}
		return req.Reply(strings.Join(names, " "))
	})
	return nil
}

func TestRooms(t *testing.T) {
	t.Parallel()
	b := bottest.New(t, roomsPlugin{})
	steps := []struct {
		name, user, text string
		want             []string
	}{
		{"rooms at start", "@alice", "!myrooms", []string{"~test/ops ~test/town-square"}},
		{"create", "@alice", "!incident inc-42", []string{"opened ~test/inc-42"}},
		{"rooms, sorted", "@alice", "!myrooms", []string{"~test/inc-42 ~test/ops ~test/town-square"}},
		{"occupants", "@alice", "!who ~inc-42", []string{"@alice @ops-bot"}},
		{"kick", "@alice", "!kick ~inc-42 @alice", nil},
		{"leave", "@alice", "!leave ~inc-42", []string{"left ~test/inc-42"}},
		{"occupants after leaving", "@bob", "!who ~inc-42", []string{"nobody"}},
		{"rooms after leaving", "@bob", "!myrooms", []string{"~test/ops ~test/town-square"}},
		{"join again", "@bob", "!join ~test/inc-42", []string{"joined ~test/inc-42"}},
		{"default rooms", "@bob", "!who ~ops", []string{"@alice @bob @carol @dave @eve @ops-bot"}},
	}
	for _, s := range steps {
		got := bottest.Texts(b.SayAs(s.user, "~town-square", s.text))
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s: %q: replies mismatch (-want +got):\n%s", s.name, s.text, diff)
		}
	}
	got, err := b.Backend.RoomState("~inc-42")
	if err != nil {
		t.Fatal(err)
	}
	want := bottest.RoomState{
		Room:    bot.Room{ID: "r-inc-42", Name: "inc-42", Team: bottest.DefaultTeam},
		Private: true, Topic: "incident inc-42", Purpose: "handle it",
		Members: []string{"ops-bot"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RoomState(~inc-42) mismatch (-want +got):\n%s", diff)
	}
}

func TestRoomsErrors(t *testing.T) {
	t.Parallel()
	be := bottest.NewBackend()
	ctx := context.Background()
	tests := []struct {
		name    string
		call    func() error
		unknown bool
		want    string
	}{
		{"bad name", func() error { _, err := be.CreateRoom(ctx, "", "Bad Name", false); return err }, false, "want 2 to 64 lowercase"},
		{"leading dash", func() error { _, err := be.CreateRoom(ctx, "", "-x", false); return err }, false, "want 2 to 64 lowercase"},
		{"one letter", func() error { _, err := be.CreateRoom(ctx, "", "x", false); return err }, false, "want 2 to 64 lowercase"},
		{"trailing underscore", func() error { _, err := be.CreateRoom(ctx, "", "ops_", false); return err }, false, "want 2 to 64 lowercase"},
		{"exists", func() error { _, err := be.CreateRoom(ctx, "", "ops", false); return err }, false, "already exists"},
		{"join unknown", func() error { return be.JoinRoom(ctx, "r-nope") }, true, `room "r-nope"`},
		{"invite unknown user", func() error { return be.InviteToRoom(ctx, "r-ops", "u-nope") }, true, `user "u-nope"`},
		{"topic unknown", func() error { return be.SetRoomTopic(ctx, "r-nope", "x") }, true, "set topic"},
		{"purpose unknown", func() error { return be.SetRoomPurpose(ctx, "r-nope", "x") }, true, "set purpose"},
		{"occupants unknown", func() error { _, err := be.RoomOccupants(ctx, "r-nope"); return err }, true, "occupants"},
		{"remove unknown", func() error { return be.RemoveFromRoom(ctx, "r-nope", "u-alice") }, true, "remove"},
		{"state of a user", func() error { _, err := be.RoomState("@alice"); return err }, false, "want ~room"},
		{"state unknown", func() error { _, err := be.RoomState("~nope"); return err }, true, "~test/nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if got := errors.Is(err, bot.ErrUnknown); got != tc.unknown {
				t.Errorf("errors.Is(%v, ErrUnknown) = %v, want %v", err, got, tc.unknown)
			}
		})
	}
}
