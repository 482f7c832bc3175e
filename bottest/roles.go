package bottest

import (
	"context"

	"github.com/matterbot/matterbot/bot"
)

var _ bot.RoleChecker = (*Backend)(nil)

// SetRoles gives a user (by id, "u-bob") the chat system's roles, which
// access rules naming roles (bot.Rule.AllowRoles, DenyRoles) ask for. A
// user without roles set is a plain member everywhere.
func (b *Backend) SetRoles(userID string, r bot.Roles) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.roles == nil {
		b.roles = map[string]bot.Roles{}
	}
	b.roles[userID] = r
}

// Roles implements bot.RoleChecker: the roles SetRoles gave, in every
// room.
func (b *Backend) Roles(ctx context.Context, userID string, room bot.Room) (bot.Roles, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.roles[userID], nil
}
