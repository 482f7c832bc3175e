package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnsupported is wrapped by the errors of optional behaviour the
// backend does not have (a RoomManager, say). It wraps the standard
// library's errors.ErrUnsupported, so errors.Is matches either.
var ErrUnsupported = fmt.Errorf("bot: not supported by this backend: %w", errors.ErrUnsupported)

// RoomManager is implemented by backends that can manage rooms: join,
// leave, create, invite, set the topic and purpose, list who is in a
// room. Plugins reach it through Request.Rooms, Plugin.Rooms or
// Engine.Rooms, which work with every backend (the methods fail with
// ErrUnsupported when the backend has no RoomManager).
//
// Rooms and users are named by id (Room.ID, User.ID); resolve names with
// Engine.Room and Engine.User. Errors for a room or user that does not
// exist wrap ErrUnknown. The methods are called concurrently from handler
// goroutines, after HandleConnect.
type RoomManager interface {
	// JoinRoom makes the bot a member of the room. Joining a room the
	// bot is already in succeeds.
	JoinRoom(ctx context.Context, roomID string) error
	// LeaveRoom takes the bot out of the room. Leaving a room the bot is
	// not in succeeds.
	LeaveRoom(ctx context.Context, roomID string) error
	// CreateRoom creates a room named name (a lowercase handle such as
	// "incident-42") in team (empty: the backend's default team), public
	// or private, with the bot as its first member, and returns it.
	CreateRoom(ctx context.Context, team, name string, private bool) (Room, error)
	// InviteToRoom adds the user to the room.
	InviteToRoom(ctx context.Context, roomID, userID string) error
	// RemoveFromRoom takes the user out of the room (a kick; for the bot
	// itself, use LeaveRoom).
	RemoveFromRoom(ctx context.Context, roomID, userID string) error
	// SetRoomTopic sets the room's topic (Mattermost's channel header).
	SetRoomTopic(ctx context.Context, roomID, topic string) error
	// SetRoomPurpose sets the room's purpose: what the room is for.
	SetRoomPurpose(ctx context.Context, roomID, purpose string) error
	// RoomOccupants returns the room's members, the bot included, in no
	// particular order.
	RoomOccupants(ctx context.Context, roomID string) ([]User, error)
	// JoinedRooms returns the rooms the bot is a member of (Errbot's
	// rooms()), direct and group messages excluded, sorted by team and
	// name.
	JoinedRooms(ctx context.Context) ([]Room, error)
}

// Rooms returns the backend's RoomManager. When the backend has none, it
// returns one whose every method fails with an error wrapping
// ErrUnsupported, so callers need no type assertion:
//
//	r, err := req.Rooms().CreateRoom(ctx, "", "incident-42", false)
//	if errors.Is(err, bot.ErrUnsupported) { ... }
func (e *Engine) Rooms() RoomManager {
	if rm, ok := e.backend.(RoomManager); ok {
		return rm
	}
	return noRooms{backend: fmt.Sprintf("%T", e.backend)}
}

// Rooms returns the backend's RoomManager; see Engine.Rooms.
func (p *Plugin) Rooms() RoomManager { return p.engine.Rooms() }

// Rooms returns the backend's RoomManager; see Engine.Rooms. Pass the
// handler's context (Request.Context) to its methods.
func (r *Request) Rooms() RoomManager { return r.engine.Rooms() }

// Room resolves a room address, "~ops", "~team/ops" or "~" + a room
// id, through the backend. The error wraps ErrUnknown when there is no
// such room.
func (e *Engine) Room(ctx context.Context, address string) (Room, error) {
	a, err := ParseAddress(address)
	if err != nil {
		return Room{}, err
	}
	if a.Room == "" {
		return Room{}, fmt.Errorf("bot: %q is a user, want a room (~room or ~team/room)", address)
	}
	r, err := e.backend.Room(ctx, a.Team, a.Room)
	if err != nil {
		return Room{}, fmt.Errorf("bot: room %s: %w", address, err)
	}
	return r, nil
}

// User resolves a user address, "@alice" or "@" + a user id, through
// the backend. The error wraps ErrUnknown when there is no such user.
func (e *Engine) User(ctx context.Context, address string) (User, error) {
	a, err := ParseAddress(address)
	if err != nil {
		return User{}, err
	}
	if a.User == "" {
		return User{}, fmt.Errorf("bot: %q is a room, want a user (@name)", address)
	}
	u, err := e.backend.User(ctx, a.User)
	if err != nil {
		return User{}, fmt.Errorf("bot: user %s: %w", address, err)
	}
	return u, nil
}

// noRooms is the RoomManager of backends without one.
type noRooms struct{ backend string }

func (n noRooms) err(op string) error {
	return fmt.Errorf("bot: %s: backend %s cannot manage rooms: %w", op, n.backend, ErrUnsupported)
}

func (n noRooms) JoinRoom(context.Context, string) error  { return n.err("join room") }
func (n noRooms) LeaveRoom(context.Context, string) error { return n.err("leave room") }
func (n noRooms) CreateRoom(context.Context, string, string, bool) (Room, error) {
	return Room{}, n.err("create room")
}
func (n noRooms) InviteToRoom(context.Context, string, string) error {
	return n.err("invite to room")
}
func (n noRooms) RemoveFromRoom(context.Context, string, string) error {
	return n.err("remove from room")
}
func (n noRooms) SetRoomTopic(context.Context, string, string) error { return n.err("set room topic") }
func (n noRooms) SetRoomPurpose(context.Context, string, string) error {
	return n.err("set room purpose")
}
func (n noRooms) RoomOccupants(context.Context, string) ([]User, error) {
	return nil, n.err("list room occupants")
}
func (n noRooms) JoinedRooms(context.Context) ([]Room, error) {
	return nil, n.err("list joined rooms")
}

// SortRooms sorts rooms by team, then name: the order of
// RoomManager.JoinedRooms.
func SortRooms(rooms []Room) {
	slices.SortFunc(rooms, func(a, b Room) int {
		return cmp.Or(strings.Compare(a.Team, b.Team), strings.Compare(a.Name, b.Name))
	})
}
