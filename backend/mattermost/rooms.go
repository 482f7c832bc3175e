package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

var _ bot.RoomManager = (*Backend)(nil)

// membersPerPage is the page size of RoomOccupants: the server's largest.
const membersPerPage = 200

// usersPerLookup bounds the ids of one POST /users/ids.
const usersPerLookup = 100

// roomErr wraps err from op on a room: a channel or user the server does
// not know (404) becomes bot.ErrUnknown as well.
func roomErr(op, roomID string, err error) error {
	if errors.Is(err, mm.ErrNotFound) {
		return fmt.Errorf("mattermost: %s room %s: %w: %w", op, roomID, bot.ErrUnknown, err)
	}
	return fmt.Errorf("mattermost: %s room %s: %w", op, roomID, err)
}

// JoinRoom adds the bot to a channel (POST /channels/{id}/members with
// its own id). Any public channel of the bot's teams may be joined; a
// private one only by an account allowed to manage its members.
func (b *Backend) JoinRoom(ctx context.Context, roomID string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	if _, _, err := b.client.AddChannelMember(ctx, roomID, b.self.ID); err != nil {
		return roomErr("join", roomID, err)
	}
	b.dir.join(roomID)
	return nil
}

// LeaveRoom takes the bot out of a channel. Leaving a channel the bot is
// not in succeeds; the town square of a team cannot be left (400).
func (b *Backend) LeaveRoom(ctx context.Context, roomID string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	if err := b.removeMember(ctx, roomID, b.self.ID); err != nil {
		return roomErr("leave", roomID, err)
	}
	b.dir.leave(roomID)
	return nil
}

// removeMember removes a user from a channel; a user who is not a member
// is not an error.
func (b *Backend) removeMember(ctx context.Context, roomID, userID string) error {
	_, err := b.client.RemoveChannelMember(ctx, roomID, userID)
	var ae *mm.APIError
	// api4/channel.go removeChannelMember → app.GetChannelMember:
	// 404 app.channel.get_member.missing.app_error for a non-member.
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && ae.ID == "app.channel.get_member.missing.app_error" {
		return nil
	}
	return err
}

// validChannelName reports whether name is a channel name the server
// accepts (model.IsValidChannelIdentifier): 2 to 64 of [a-z0-9_-],
// starting and ending with a letter or digit.
func validChannelName(name string) bool {
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

// CreateRoom creates a public or private channel named name (also its
// display name) in team (empty: the default team, the first of
// Options.Teams). The bot, its creator, is its first member. The name
// must be 2 to 64 lowercase letters, digits, '-' or '_', starting and
// ending with a letter or digit.
func (b *Backend) CreateRoom(ctx context.Context, team, name string, private bool) (bot.Room, error) {
	if !b.connected.Load() {
		return bot.Room{}, errNotConnected
	}
	if !validChannelName(name) {
		return bot.Room{}, fmt.Errorf("mattermost: create room %q: a channel name is 2 to 64 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit", name)
	}
	var t *mm.Team
	switch {
	case team != "":
		var err error
		t, err = b.dir.teamByName(ctx, team)
		if errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) {
			return bot.Room{}, fmt.Errorf("mattermost: create room ~%s/%s: team %q: %w", team, name, team, bot.ErrUnknown)
		}
		if err != nil {
			return bot.Room{}, fmt.Errorf("mattermost: create room ~%s/%s: team: %w", team, name, err)
		}
	case len(b.teams) > 0:
		t = b.teams[0]
	default:
		return bot.Room{}, fmt.Errorf("mattermost: create room ~%s: the bot is in no team: %w", name, bot.ErrUnknown)
	}
	typ := mm.ChannelOpen
	if private {
		typ = mm.ChannelPrivate
	}
	ch, _, err := b.client.CreateChannel(ctx, &mm.Channel{TeamID: t.ID, Name: name, DisplayName: name, Type: typ})
	if err != nil {
		return bot.Room{}, fmt.Errorf("mattermost: create room ~%s/%s: %w", t.Name, name, err)
	}
	b.dir.putChannel(ch)
	b.dir.join(ch.ID)
	return bot.Room{ID: ch.ID, Name: ch.Name, Team: t.Name, Kind: roomKind(ch.Type)}, nil
}

// InviteToRoom adds a user to a channel. The bot must be allowed to
// manage the channel's members (a member of it, by default).
func (b *Backend) InviteToRoom(ctx context.Context, roomID, userID string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	if _, _, err := b.client.AddChannelMember(ctx, roomID, userID); err != nil {
		return roomErr("invite "+userID+" to", roomID, err)
	}
	return nil
}

// RemoveFromRoom removes a user from a channel; a user who is not in it
// is not an error.
func (b *Backend) RemoveFromRoom(ctx context.Context, roomID, userID string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	if err := b.removeMember(ctx, roomID, userID); err != nil {
		return roomErr("remove "+userID+" from", roomID, err)
	}
	if userID == b.self.ID {
		b.dir.leave(roomID)
	}
	return nil
}

// SetRoomTopic sets the channel's header (at most 1024 characters).
func (b *Backend) SetRoomTopic(ctx context.Context, roomID, topic string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	ch, _, err := b.client.SetChannelHeader(ctx, roomID, topic)
	if err != nil {
		return roomErr("set the topic of", roomID, err)
	}
	b.dir.putChannel(ch)
	return nil
}

// SetRoomPurpose sets the channel's purpose (at most 250 characters).
func (b *Backend) SetRoomPurpose(ctx context.Context, roomID, purpose string) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	ch, _, err := b.client.SetChannelPurpose(ctx, roomID, purpose)
	if err != nil {
		return roomErr("set the purpose of", roomID, err)
	}
	b.dir.putChannel(ch)
	return nil
}

// JoinedRooms implements bot.RoomManager: the public and private
// channels of the served teams that the bot is a member of, as the
// directory knows them (listed at connect, kept by join and leave
// events), so it costs no REST call unless a team is not cached.
func (b *Backend) JoinedRooms(ctx context.Context) ([]bot.Room, error) {
	if !b.connected.Load() {
		return nil, errNotConnected
	}
	served := map[string]bool{}
	for _, t := range b.teams {
		served[t.ID] = true
	}
	var rooms []bot.Room
	for _, id := range b.dir.myChannels() {
		ch := b.dir.cachedChannel(id)
		if ch == nil || !served[ch.TeamID] || ch.DeleteAt != 0 || (ch.Type != mm.ChannelOpen && ch.Type != mm.ChannelPrivate) {
			continue
		}
		t, err := b.dir.team(ctx, ch.TeamID)
		if err != nil {
			return nil, fmt.Errorf("mattermost: list joined rooms: team of %s: %w", ch.ID, err)
		}
		rooms = append(rooms, bot.Room{ID: ch.ID, Name: ch.Name, Team: t.Name, Kind: roomKind(ch.Type)})
	}
	bot.SortRooms(rooms)
	return rooms, nil
}

// RoomOccupants returns a channel's members, paging through
// GET /channels/{id}/members and resolving the users through the
// directory: only those it does not hold are fetched, in batches.
func (b *Backend) RoomOccupants(ctx context.Context, roomID string) ([]bot.User, error) {
	if !b.connected.Load() {
		return nil, errNotConnected
	}
	var ids []string
	for page := 0; ; page++ {
		ms, _, err := b.client.ChannelMembers(ctx, roomID, page, membersPerPage)
		if err != nil {
			return nil, roomErr("list the occupants of", roomID, err)
		}
		for _, m := range ms {
			ids = append(ids, m.UserID)
		}
		if len(ms) < membersPerPage {
			break
		}
	}
	users := make([]bot.User, 0, len(ids))
	var missing []string
	for _, id := range ids {
		if u := b.dir.cachedUser(id); u != nil {
			users = append(users, botUser(u))
		} else {
			missing = append(missing, id)
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), usersPerLookup)
		us, _, err := b.client.UsersByIDs(ctx, missing[:n])
		if err != nil {
			return nil, fmt.Errorf("mattermost: list the occupants of room %s: users: %w", roomID, err)
		}
		for _, u := range us {
			b.dir.putUser(u)
			users = append(users, botUser(u))
		}
		missing = missing[n:]
	}
	return users, nil
}
