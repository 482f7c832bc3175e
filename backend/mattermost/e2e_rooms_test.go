package mattermost_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// roomsPlugin drives bot.RoomManager from chat: each command names a
// room ("~name") and answers with what it did.
type roomsPlugin struct{}

func (roomsPlugin) Setup(p *bot.Plugin) error {
	// command declares a command whose errors are shown to the user as
	// they are (bot.UserError): the tests read what the server refused.
	command := func(name string, h bot.HandlerFunc) {
		p.Command(name, func(ctx context.Context, req *bot.Request) error {
			if err := h(ctx, req); err != nil {
				return &bot.UserError{Err: err}
			}
			return nil
		})
	}
	// roomCommand registers a command whose arguments are "~room rest":
	// it resolves the room, then do acts and answers.
	roomCommand := func(name string, do func(ctx context.Context, req *bot.Request, r bot.Room, rest string) error) {
		command(name, func(ctx context.Context, req *bot.Request) error {
			addr, rest, _ := strings.Cut(req.Args, " ")
			r, err := req.Plugin.Engine().Room(ctx, addr)
			if err != nil {
				return err
			}
			return do(ctx, req, r, strings.TrimSpace(rest))
		})
	}
	// roomCall is a command that makes one RoomManager call with the
	// room's id and the rest of the arguments; done is its reply.
	type roomCall struct {
		name, done string
		call       func(m bot.RoomManager, ctx context.Context, roomID, rest string) error
	}
	// "!invite ~room @user": rest names a user; done takes the user and
	// the room.
	for _, c := range []roomCall{
		{"invite", "invited %s to %s", bot.RoomManager.InviteToRoom},
		{"kick", "kicked %s from %s", bot.RoomManager.RemoveFromRoom},
	} {
		roomCommand(c.name, func(ctx context.Context, req *bot.Request, r bot.Room, who string) error {
			u, err := req.Plugin.Engine().User(ctx, who)
			if err != nil {
				return err
			}
			if err := c.call(req.Rooms(), ctx, r.ID, u.ID); err != nil {
				return err
			}
			return req.Replyf(c.done, u, roomName(r))
		})
	}
	// "!topic ~room text", "!join ~room": done takes the room.
	for _, c := range []roomCall{
		{"topic", "topic of %s set", bot.RoomManager.SetRoomTopic},
		{"purpose", "purpose of %s set", bot.RoomManager.SetRoomPurpose},
		{"join", "joined %s", func(m bot.RoomManager, ctx context.Context, roomID, _ string) error {
			return m.JoinRoom(ctx, roomID)
		}},
		{"leave", "left %s", func(m bot.RoomManager, ctx context.Context, roomID, _ string) error {
			return m.LeaveRoom(ctx, roomID)
		}},
	} {
		roomCommand(c.name, func(ctx context.Context, req *bot.Request, r bot.Room, rest string) error {
			if err := c.call(req.Rooms(), ctx, r.ID, rest); err != nil {
				return err
			}
			return req.Replyf(c.done, roomName(r))
		})
	}
	command("mkroom", func(ctx context.Context, req *bot.Request) error {
		name, kind, _ := strings.Cut(req.Args, " ")
		r, err := req.Rooms().CreateRoom(ctx, "", name, kind == "private")
		if err != nil {
			return err
		}
		return req.Replyf("created %s", roomName(r))
	})
	command("myrooms", func(ctx context.Context, req *bot.Request) error {
		rs, err := req.Rooms().JoinedRooms(ctx)
		if err != nil {
			return err
		}
		names := make([]string, len(rs))
		for i, r := range rs {
			names[i] = roomName(r)
		}
		return req.Replyf("rooms: %s", strings.Join(names, " "))
	})
	roomCommand("who", func(ctx context.Context, req *bot.Request, r bot.Room, _ string) error {
		us, err := req.Rooms().RoomOccupants(ctx, r.ID)
		if err != nil {
			return err
		}
		names := make([]string, len(us))
		for i, u := range us {
			names[i] = u.String()
		}
		slices.Sort(names)
		if len(names) > 5 {
			return req.Replyf("%d in %s", len(names), roomName(r))
		}
		return req.Replyf("in %s: %s", roomName(r), strings.Join(names, " "))
	})
	return nil
}

// roomName names a room without "~": the backend would turn a
// "~team/name" in a reply into a link.
func roomName(r bot.Room) string { return r.Team + "/" + r.Name }

// members returns the usernames of a channel's members, read by alice.
func (w *world) members(ch *mm.Channel) []string {
	w.t.Helper()
	ms, _, err := w.aliceC.ChannelMembers(context.Background(), ch.ID, 0, 200)
	if err != nil {
		w.t.Fatalf("members of ~%s: %v", ch.Name, err)
	}
	byID := map[string]string{w.alice.ID: "alice", w.bob.ID: "bob", w.bot.ID: "opsbot"}
	var names []string
	for _, m := range ms {
		names = append(names, byID[m.UserID])
	}
	slices.Sort(names)
	return names
}

// channel returns the fake's copy of the channel called name.
func (w *world) channel(name string) *mm.Channel {
	w.t.Helper()
	ch, ok := w.srv.Channel(w.team.ID, name)
	if !ok {
		w.t.Fatalf("no channel ~%s on the server", name)
	}
	return ch
}

// TestRoomsPrivate: the bot creates a private room, invites alice, sets
// the topic and purpose, lists who is in, and leaves.
func TestRoomsPrivate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), nil, roomsPlugin{})

	w.say(w.ops, "", "!myrooms")
	before := w.reply(w.ops, func(p *mm.Post) bool { return strings.HasPrefix(p.Message, "rooms: ") }).Message
	w.say(w.ops, "", "!mkroom incident-1 private")
	w.replyText(w.ops, "created ops-team/incident-1")
	// Rooms are sorted by team and name; direct messages are not rooms.
	w.say(w.ops, "", "!myrooms")
	w.replyText(w.ops, strings.Replace(before, "rooms: ", "rooms: ops-team/incident-1 ", 1))
	inc := w.channel("incident-1")
	if inc.Type != mm.ChannelPrivate || inc.DisplayName != "incident-1" || inc.CreatorID != w.bot.ID {
		t.Errorf("created channel = type %q, display name %q, creator %s; want P, incident-1, the bot", inc.Type, inc.DisplayName, inc.CreatorID)
	}

	w.say(w.ops, "", "!invite ~incident-1 @alice")
	w.replyText(w.ops, "invited @alice to ops-team/incident-1")
	if got, want := w.members(inc), []string{"alice", "opsbot"}; !slices.Equal(got, want) {
		t.Errorf("members after invite = %q, want %q", got, want)
	}

	w.say(w.ops, "", "!topic ~incident-1 db is down")
	w.replyText(w.ops, "topic of ops-team/incident-1 set")
	w.say(w.ops, "", "!purpose ~incident-1 bring the db back")
	w.replyText(w.ops, "purpose of ops-team/incident-1 set")
	inc = w.channel("incident-1")
	if inc.Header != "db is down" || inc.Purpose != "bring the db back" {
		t.Errorf("channel header %q, purpose %q; want %q, %q", inc.Header, inc.Purpose, "db is down", "bring the db back")
	}

	w.say(w.ops, "", "!who ~incident-1")
	w.replyText(w.ops, "in ops-team/incident-1: @alice @opsbot")

	w.say(w.ops, "", "!leave ~incident-1")
	w.replyText(w.ops, "left ops-team/incident-1")
	if got, want := w.members(inc), []string{"alice"}; !slices.Equal(got, want) {
		t.Errorf("members after leave = %q, want %q", got, want)
	}
	w.say(w.ops, "", "!myrooms")
	w.replyText(w.ops, before)
	// Out of a private room, the bot may no longer read its members.
	w.say(w.ops, "", "!who ~incident-1")
	w.reply(w.ops, func(p *mm.Post) bool { return strings.HasPrefix(p.Message, "`!who` failed: ") })
}

// TestRoomsPublic: the bot joins a public room it was not in, counts
// its occupants over more than one page, kicks bob, leaves twice.
func TestRoomsPublic(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lobby, _, err := w.aliceC.CreateChannel(context.Background(), &mm.Channel{TeamID: w.team.ID, Name: "lobby", DisplayName: "Lobby", Type: mm.ChannelOpen})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(lobby.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	// The 200 user_added events below make the bot look each user up:
	// no rate limit, or this test would wait for it.
	opts := w.options()
	w.startEngine(w.newBackend(opts), nil, roomsPlugin{})

	w.say(w.ops, "", "!join ~lobby")
	w.replyText(w.ops, "joined ops-team/lobby")
	if got, want := w.members(lobby), []string{"alice", "bob", "opsbot"}; !slices.Equal(got, want) {
		t.Errorf("members after join = %q, want %q", got, want)
	}
	// Joining again changes nothing.
	w.say(w.ops, "", "!join ~lobby")
	w.replyText(w.ops, "joined ops-team/lobby")

	w.say(w.ops, "", "!kick ~lobby @bob")
	w.replyText(w.ops, "kicked @bob from ops-team/lobby")
	w.say(w.ops, "", "!who ~lobby")
	w.replyText(w.ops, "in ops-team/lobby: @alice @opsbot")

	// 200 more: two pages of members (200 a page), three batches of
	// users (100 a lookup).
	for _, u := range w.addUsers("guest", 200) {
		if err := w.srv.AddChannelMember(lobby.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.say(w.ops, "", "!who ~lobby")
	w.replyText(w.ops, "202 in ops-team/lobby")

	w.say(w.ops, "", "!leave ~lobby")
	w.replyText(w.ops, "left ops-team/lobby")
	w.say(w.ops, "", "!leave ~lobby")
	w.replyText(w.ops, "left ops-team/lobby")
	if _, _, err := w.aliceC.ChannelMember(context.Background(), lobby.ID, w.bot.ID); !errors.Is(err, mm.ErrNotFound) {
		t.Errorf("the bot's membership of ~lobby after leaving: %v, want ErrNotFound", err)
	}
}

// TestRoomsErrors: what the server or the backend refuses reaches the
// user as the command's failure.
func TestRoomsErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), nil, roomsPlugin{})
	tests := []struct{ say, want string }{
		{"!mkroom Bad_Name public", "a channel name is 2 to 64 lowercase letters"},
		{"!mkroom x public", "a channel name is 2 to 64"},
		{"!mkroom ops public", "store.sql_channel.save_channel.exists.app_error"},
		{"!join ~nowhere", "no such user or room"},
		{"!invite ~ops @nobody", "no such user or room"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		w.say(w.ops, "", tc.say)
		cmd, _, _ := strings.Cut(tc.say, " ")
		// match runs under the fake's lock: it reads only seen.
		p := w.reply(w.ops, func(p *mm.Post) bool {
			return !seen[p.ID] && strings.HasPrefix(p.Message, "`"+cmd+"` failed: ")
		})
		seen[p.ID] = true
		if !strings.Contains(p.Message, tc.want) {
			t.Errorf("%q: reply %q, want it to contain %q", tc.say, p.Message, tc.want)
		}
	}
}
