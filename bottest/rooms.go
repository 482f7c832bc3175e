package bottest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

var _ bot.RoomManager = (*Backend)(nil)

// RoomState is a room as a Backend keeps it: what bot.RoomManager changes.
type RoomState struct {
	Room    bot.Room
	Private bool
	Topic   string
	Purpose string
	// Members are the usernames of the room's members, sorted.
	Members []string
}

type roomState struct {
	private        bool
	topic, purpose string
	members        map[string]bool // by user id
}

// state returns the state of the room with id roomID, or an error
// wrapping bot.ErrUnknown. b.mu is held.
func (b *Backend) state(op, roomID string) (*roomState, error) {
	s, ok := b.roomStates[roomID]
	if !ok {
		return nil, fmt.Errorf("bottest: %s: room %q: %w", op, roomID, bot.ErrUnknown)
	}
	return s, nil
}

// userByID returns the user with the given id. b.mu is held.
func (b *Backend) userByID(id string) (bot.User, bool) {
	for _, u := range b.users {
		if u.ID == id {
			return u, true
		}
	}
	return bot.User{}, false
}

// RoomState returns the state of a room ("~ops" or "~team/ops").
func (b *Backend) RoomState(address string) (RoomState, error) {
	a, err := bot.ParseAddress(address)
	if err != nil || a.Room == "" {
		return RoomState{}, fmt.Errorf("bottest: room %q: want ~room or ~team/room", address)
	}
	r, err := b.Room(context.Background(), a.Team, a.Room)
	if err != nil {
		return RoomState{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.roomStates[r.ID]
	rs := RoomState{Room: r, Private: s.private, Topic: s.topic, Purpose: s.purpose}
	for id := range s.members {
		if u, ok := b.userByID(id); ok {
			rs.Members = append(rs.Members, u.Username)
		}
	}
	slices.Sort(rs.Members)
	return rs, nil
}

// AddMember makes the user with the given username a member of the room
// with id roomID, as if they had joined it.
func (b *Backend) AddMember(roomID, username string) error {
	u, err := b.User(context.Background(), username)
	if err != nil {
		return err
	}
	return b.InviteToRoom(context.Background(), roomID, u.ID)
}

// JoinRoom implements bot.RoomManager.
func (b *Backend) JoinRoom(ctx context.Context, roomID string) error {
	return b.InviteToRoom(ctx, roomID, b.self.ID)
}

// LeaveRoom implements bot.RoomManager.
func (b *Backend) LeaveRoom(ctx context.Context, roomID string) error {
	return b.RemoveFromRoom(ctx, roomID, b.self.ID)
}

// validRoomName reports whether name is a room handle the Backend
// accepts: Mattermost's rule for channel names, 2 to 64 lowercase
// letters, digits, '-' and '_', starting and ending with a letter or
// digit.
func validRoomName(name string) bool {
	if len(name) < 2 || len(name) > 64 {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := range len(name) {
		if c := name[i]; !alnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return alnum(name[0]) && alnum(name[len(name)-1])
}

// CreateRoom implements bot.RoomManager: the room's id is "r-" and its
// name, and the bot its only member. An empty team means DefaultTeam.
func (b *Backend) CreateRoom(ctx context.Context, team, name string, private bool) (bot.Room, error) {
	if !validRoomName(name) {
		return bot.Room{}, fmt.Errorf("bottest: create room %q: want 2 to 64 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit", name)
	}
	if team == "" {
		team = DefaultTeam
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.rooms[team+"/"+name]; ok {
		return bot.Room{}, fmt.Errorf("bottest: create room ~%s/%s: it already exists", team, name)
	}
	r := bot.Room{ID: "r-" + name, Name: name, Team: team}
	if team != DefaultTeam {
		r.ID = "r-" + team + "-" + name
	}
	b.addRoom(r)
	s := b.roomStates[r.ID]
	s.private = private
	s.members[b.self.ID] = true
	return r, nil
}

// change applies f to the state of the room with id roomID, with b.mu
// held; an unknown room is an error wrapping bot.ErrUnknown naming op.
func (b *Backend) change(op, roomID string, f func(s *roomState) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.state(op, roomID)
	if err != nil {
		return err
	}
	return f(s)
}

// InviteToRoom implements bot.RoomManager.
func (b *Backend) InviteToRoom(ctx context.Context, roomID, userID string) error {
	return b.change("invite", roomID, func(s *roomState) error {
		if _, ok := b.userByID(userID); !ok {
			return fmt.Errorf("bottest: invite to room %q: user %q: %w", roomID, userID, bot.ErrUnknown)
		}
		s.members[userID] = true
		return nil
	})
}

// RemoveFromRoom implements bot.RoomManager.
func (b *Backend) RemoveFromRoom(ctx context.Context, roomID, userID string) error {
	return b.change("remove from room", roomID, func(s *roomState) error {
		delete(s.members, userID)
		return nil
	})
}

// SetRoomTopic implements bot.RoomManager.
func (b *Backend) SetRoomTopic(ctx context.Context, roomID, topic string) error {
	return b.change("set topic", roomID, func(s *roomState) error {
		s.topic = topic
		return nil
	})
}

// SetRoomPurpose implements bot.RoomManager.
func (b *Backend) SetRoomPurpose(ctx context.Context, roomID, purpose string) error {
	return b.change("set purpose", roomID, func(s *roomState) error {
		s.purpose = purpose
		return nil
	})
}

// JoinedRooms implements bot.RoomManager.
func (b *Backend) JoinedRooms(ctx context.Context) ([]bot.Room, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var rooms []bot.Room
	for _, r := range b.rooms {
		if s := b.roomStates[r.ID]; s != nil && s.members[b.self.ID] {
			rooms = append(rooms, r)
		}
	}
	bot.SortRooms(rooms)
	return rooms, nil
}

// RoomOccupants implements bot.RoomManager, sorted by username.
func (b *Backend) RoomOccupants(ctx context.Context, roomID string) ([]bot.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.state("occupants", roomID)
	if err != nil {
		return nil, err
	}
	var us []bot.User
	for id := range s.members {
		if u, ok := b.userByID(id); ok {
			us = append(us, u)
		}
	}
	slices.SortFunc(us, func(a, b bot.User) int { return strings.Compare(a.Username, b.Username) })
	return us, nil
}
