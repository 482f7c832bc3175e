package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

func TestSetPresenceUnsupported(t *testing.T) {
	e, err := bot.New(plainBackend{bottest.NewBackend()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.SetPresence(ctx, bot.StatusAway); !errors.Is(err, bot.ErrUnsupported) {
		t.Errorf("SetPresence(away) on a backend without PresenceSetter = %v, want ErrUnsupported", err)
	}
	if err := e.SetPresence(ctx, "busy"); err == nil || !strings.Contains(err.Error(), `unknown status "busy"`) {
		t.Errorf(`SetPresence("busy") = %v, want an unknown status error`, err)
	}
}
