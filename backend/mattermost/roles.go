package mattermost

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

var _ bot.RoleChecker = (*Backend)(nil)

// Roles implements bot.RoleChecker: the user's roles as the server has
// them now (read afresh on each call, not cached, so that a role taken
// away counts at once): system_admin and system_guest from the account;
// team_admin from the membership of the room's team (its scheme_admin,
// or the team_admin role); channel_admin from the membership of the
// room (likewise), for a channel of a team. A channel whose members the
// bot cannot read (it is not in it) gives no channel_admin.
func (b *Backend) Roles(ctx context.Context, userID string, room bot.Room) (bot.Roles, error) {
	if !b.connected.Load() {
		return bot.Roles{}, errNotConnected
	}
	u, _, err := b.client.User(ctx, userID)
	if err != nil {
		return bot.Roles{}, fmt.Errorf("mattermost: roles of user %s: %w", userID, err)
	}
	r := bot.Roles{SystemAdmin: hasRole(u.Roles, "system_admin"), Guest: hasRole(u.Roles, "system_guest")}
	if room.ID == "" || room.Kind == bot.RoomDirect || room.Kind == bot.RoomGroup {
		return r, nil
	}
	ch, err := b.dir.channel(ctx, room.ID)
	switch {
	case errors.Is(err, mm.ErrForbidden) || errors.Is(err, mm.ErrNotFound):
		ch = nil
	case err != nil:
		return bot.Roles{}, fmt.Errorf("mattermost: roles of user %s: channel %s: %w", userID, room.ID, err)
	}
	teamID := ""
	if ch != nil {
		teamID = ch.TeamID
	} else if room.Team != "" {
		if t, err := b.dir.teamByName(ctx, room.Team); err == nil {
			teamID = t.ID
		}
	}
	if teamID != "" {
		tm, _, err := b.client.TeamMember(ctx, teamID, userID)
		switch {
		case err == nil:
			r.TeamAdmin = tm.SchemeAdmin || hasRole(tm.Roles, "team_admin")
			r.Guest = r.Guest || tm.SchemeGuest
		case !errors.Is(err, mm.ErrNotFound) && !errors.Is(err, mm.ErrForbidden):
			return bot.Roles{}, fmt.Errorf("mattermost: roles of user %s in team %s: %w", userID, teamID, err)
		}
	}
	if ch == nil {
		return r, nil
	}
	cm, _, err := b.client.ChannelMember(ctx, room.ID, userID)
	switch {
	case err == nil:
		r.ChannelAdmin = cm.SchemeAdmin || hasRole(cm.Roles, "channel_admin")
	case !errors.Is(err, mm.ErrNotFound) && !errors.Is(err, mm.ErrForbidden):
		return bot.Roles{}, fmt.Errorf("mattermost: roles of user %s in channel %s: %w", userID, room.ID, err)
	}
	return r, nil
}

// hasRole reports whether the space-separated roles include role.
func hasRole(roles, role string) bool {
	for _, r := range strings.Fields(roles) {
		if r == role {
			return true
		}
	}
	return false
}
