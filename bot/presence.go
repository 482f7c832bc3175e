package bot

import (
	"context"
	"fmt"
)

// The statuses of Presence.Status and Engine.SetPresence.
const (
	StatusOnline  = "online"
	StatusAway    = "away"
	StatusDND     = "dnd" // do not disturb
	StatusOffline = "offline"
)

// PresenceSetter is implemented by backends that can set the bot's own
// presence. Plugins reach it through Engine.SetPresence.
type PresenceSetter interface {
	SetPresence(ctx context.Context, status string) error
}

// SetPresence sets the bot's presence to one of StatusOnline, StatusAway,
// StatusDND or StatusOffline, as Errbot's change_presence does. It fails
// with an error wrapping ErrUnsupported when the backend cannot.
func (e *Engine) SetPresence(ctx context.Context, status string) error {
	switch status {
	case StatusOnline, StatusAway, StatusDND, StatusOffline:
	default:
		return fmt.Errorf("bot: set presence: unknown status %q (want online, away, dnd or offline)", status)
	}
	ps, ok := e.backend.(PresenceSetter)
	if !ok {
		return fmt.Errorf("bot: set presence: backend %T cannot: %w", e.backend, ErrUnsupported)
	}
	return ps.SetPresence(ctx, status)
}
