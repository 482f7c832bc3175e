package console

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

var _ bot.RoomManager = (*Backend)(nil)

// roomState is what bot.RoomManager changes in a room.
type roomState struct {
	topic, purpose string
	members        map[string]bot.User // by user id
}

// state returns the state of the room with id roomID, made on first use
// with the bot and the user typing as members: rooms are invented, and
// the user is in all of them. b.mu is held.
func (b *Backend) state(op, roomID string) (*roomState, error) {
	ri, ok := b.rooms[roomID]
	if !ok || ri.dm != nil {
		return nil, fmt.Errorf("console: %s: room %q: %w", op, roomID, bot.ErrUnknown)
	}
	if b.states == nil {
		b.states = map[string]*roomState{}
	}
	s := b.states[roomID]
	if s == nil {
		s = &roomState{members: map[string]bot.User{b.self.ID: b.self}}
		if b.cur.user.ID != "" {
			s.members[b.cur.user.ID] = b.cur.user
		}
		b.states[roomID] = s
	}
	return s, nil
}

// change applies f to the state of a room.
func (b *Backend) change(op, roomID string, f func(s *roomState)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.state(op, roomID)
	if err != nil {
		return err
	}
	f(s)
	return nil
}

// JoinRoom implements bot.RoomManager.
func (b *Backend) JoinRoom(ctx context.Context, roomID string) error {
	return b.change("join", roomID, func(s *roomState) { s.members[b.self.ID] = b.self })
}

// LeaveRoom implements bot.RoomManager.
func (b *Backend) LeaveRoom(ctx context.Context, roomID string) error {
	return b.change("leave", roomID, func(s *roomState) { delete(s.members, b.self.ID) })
}

// CreateRoom implements bot.RoomManager. Every room exists in the
// console: creating one makes its name known. An empty team means no
// team.
func (b *Backend) CreateRoom(ctx context.Context, team, name string, private bool) (bot.Room, error) {
	addr := "~" + name
	if team != "" {
		addr = "~" + team + "/" + name
	}
	r, err := b.lookupRoom(addr)
	if err != nil {
		return bot.Room{}, fmt.Errorf("console: create room: %w", err)
	}
	return r, b.JoinRoom(ctx, r.ID)
}

// InviteToRoom implements bot.RoomManager.
func (b *Backend) InviteToRoom(ctx context.Context, roomID, userID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.state("invite", roomID)
	if err != nil {
		return err
	}
	for _, u := range b.users {
		if u.ID == userID {
			s.members[u.ID] = u
			return nil
		}
	}
	return fmt.Errorf("console: invite to room %q: user %q: %w", roomID, userID, bot.ErrUnknown)
}

// RemoveFromRoom implements bot.RoomManager.
func (b *Backend) RemoveFromRoom(ctx context.Context, roomID, userID string) error {
	return b.change("remove from room", roomID, func(s *roomState) { delete(s.members, userID) })
}

// SetRoomTopic implements bot.RoomManager.
func (b *Backend) SetRoomTopic(ctx context.Context, roomID, topic string) error {
	return b.change("set topic", roomID, func(s *roomState) { s.topic = topic })
}

// SetRoomPurpose implements bot.RoomManager.
func (b *Backend) SetRoomPurpose(ctx context.Context, roomID, purpose string) error {
	return b.change("set purpose", roomID, func(s *roomState) { s.purpose = purpose })
}

// JoinedRooms implements bot.RoomManager: the rooms used so far that the
// bot has not left.
func (b *Backend) JoinedRooms(ctx context.Context) ([]bot.Room, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var rooms []bot.Room
	for id, ri := range b.rooms {
		if ri.dm != nil {
			continue
		}
		if s := b.states[id]; s == nil || s.members[b.self.ID].ID != "" {
			rooms = append(rooms, ri.room)
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
	us := make([]bot.User, 0, len(s.members))
	for _, u := range s.members {
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b bot.User) int { return strings.Compare(a.Username, b.Username) })
	return us, nil
}
