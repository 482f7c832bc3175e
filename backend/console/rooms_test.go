package console

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
)

func TestRooms(t *testing.T) {
	be := newTestBackend(t, io.Discard)
	ctx := t.Context()
	names := func(roomID string) []string {
		t.Helper()
		us, err := be.RoomOccupants(ctx, roomID)
		if err != nil {
			t.Fatalf("RoomOccupants(%q): %v", roomID, err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return out
	}
	r, err := be.CreateRoom(ctx, "", "incident-1", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := (bot.Room{ID: r.ID, Name: "incident-1"}); r != want || r.ID == "" {
		t.Errorf("CreateRoom() = %+v, want %+v", r, want)
	}
	bob, err := be.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"created", func() error { return nil }, []string{"ops-bot", "you"}},
		{"invite", func() error { return be.InviteToRoom(ctx, r.ID, bob.ID) }, []string{"bob", "ops-bot", "you"}},
		{"kick", func() error { return be.RemoveFromRoom(ctx, r.ID, bob.ID) }, []string{"ops-bot", "you"}},
		{"leave", func() error { return be.LeaveRoom(ctx, r.ID) }, []string{"you"}},
		{"join", func() error { return be.JoinRoom(ctx, r.ID) }, []string{"ops-bot", "you"}},
		{"topic", func() error { return be.SetRoomTopic(ctx, r.ID, "t") }, []string{"ops-bot", "you"}},
		{"purpose", func() error { return be.SetRoomPurpose(ctx, r.ID, "p") }, []string{"ops-bot", "you"}},
	}
	joined := func() []string {
		t.Helper()
		rs, err := be.JoinedRooms(ctx)
		if err != nil {
			t.Fatalf("JoinedRooms: %v", err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.String())
		}
		return out
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, names(r.ID)); diff != "" {
			t.Errorf("%s: occupants mismatch (-want +got):\n%s", s.name, diff)
		}
		wantRooms := []string{"~incident-1", "~town-square"}
		if s.name == "leave" {
			wantRooms = []string{"~town-square"}
		}
		if diff := cmp.Diff(wantRooms, joined()); diff != "" {
			t.Errorf("%s: joined rooms mismatch (-want +got):\n%s", s.name, diff)
		}
	}
	be.mu.Lock()
	st := *be.states[r.ID]
	be.mu.Unlock()
	if st.topic != "t" || st.purpose != "p" {
		t.Errorf("topic, purpose = %q, %q; want t, p", st.topic, st.purpose)
	}

	if _, err := be.CreateRoom(ctx, "", "a b", false); err == nil {
		t.Error(`CreateRoom("a b") = nil error, want a bad name`)
	}
	if err := be.JoinRoom(ctx, "nope"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("JoinRoom(unknown) = %v, want ErrUnknown", err)
	}
	if err := be.InviteToRoom(ctx, r.ID, "nobody-id"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("InviteToRoom(unknown user) = %v, want ErrUnknown", err)
	}
}
