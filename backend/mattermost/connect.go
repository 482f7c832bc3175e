package mattermost

import (
	"context"
	"errors"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

var _ bot.Connector = (*Backend)(nil)

// Connect implements bot.Connector: it logs in and finds the teams, as
// Run does before it opens the WebSocket, and fails as Run does: with a
// *bot.StartupError that says what to fix (a rejected token, an unknown
// team, a team without the bot, a server that is not Mattermost, ...).
// The engine calls it before it activates the plugins, so that a failure
// to start is the one line Run returns; Run then uses this connection.
// Programs that check a configuration without serving it, such as
// matterbot check, call it alone. Connect may be called once, before Run.
func (b *Backend) Connect(ctx context.Context) error {
	if b.running.Load() || !b.connecting.CompareAndSwap(false, true) {
		return errors.New("mattermost: Backend.Connect after Run or Connect")
	}
	return b.connect(ctx)
}

// Self returns the account the backend logged in as, or nil before it
// has connected. The caller must not change it.
func (b *Backend) Self() *mm.User {
	if !b.connected.Load() {
		return nil
	}
	return b.self
}

// Teams returns the teams the backend serves, in the configured order (or
// all the bot's teams, by name, when none was configured); nil before it
// has connected. The caller must not change them.
func (b *Backend) Teams() []*mm.Team {
	if !b.connected.Load() {
		return nil
	}
	return b.teams
}
