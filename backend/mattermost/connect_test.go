package mattermost_test

import (
	"context"
	"errors"
	"testing"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

func TestConnect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	be := mustBackend(t, w.options())
	if be.Self() != nil || be.Teams() != nil {
		t.Errorf("before Connect: Self() = %v, Teams() = %v; want nil", be.Self(), be.Teams())
	}
	if err := be.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := be.Self(); got == nil || got.ID != w.bot.ID {
		t.Errorf("Self() = %+v, want the bot %s", got, w.bot.ID)
	}
	if got := be.Teams(); len(got) != 1 || got[0].ID != w.team.ID {
		t.Errorf("Teams() = %+v, want [ops-team]", got)
	}
	if err := be.Connect(t.Context()); err == nil {
		t.Error("second Connect succeeded")
	}
	// Run serves with the connection Connect made: the engine connects
	// first (bot.Connector), then runs the backend.
	ctx, cancel := context.WithCancel(t.Context())
	h := &helloHandler{connected: make(chan bot.User, 1)}
	done := make(chan error, 1)
	go func() { done <- be.Run(ctx, h) }()
	select {
	case self := <-h.connected:
		if self.ID != w.bot.ID {
			t.Errorf("HandleConnect(%+v), want the bot %s", self, w.bot.ID)
		}
	case err := <-done:
		t.Fatalf("Run after Connect = %v before hello", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after Connect = %v, want nil", err)
	}
	if err := be.Connect(t.Context()); err == nil {
		t.Error("Connect after Run succeeded")
	}
}

// helloHandler is a nopHandler that reports HandleConnect.
type helloHandler struct {
	nopHandler
	connected chan bot.User
}

func (h *helloHandler) HandleConnect(ctx context.Context, self bot.User) error {
	select {
	case h.connected <- self:
	default:
	}
	return nil
}

func TestConnectErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name string
		opts func(*mmbackend.Options)
		want string
	}{
		{name: "bad token", opts: func(o *mmbackend.Options) { o.Token = mm.Secret("nosuchtokennosuchtokennosu") },
			want: w.srv.URL() + " rejected the token: check that it is valid and not revoked"},
		{name: "unknown team", opts: func(o *mmbackend.Options) { o.Teams = []string{"nope"} },
			want: `team "nope" not found on ` + w.srv.URL() + ", or opsbot is not a member of it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := w.options()
			tc.opts(&opts)
			err := mustBackend(t, opts).Connect(context.Background())
			var se *bot.StartupError
			if !errors.As(err, &se) || se.Reason != tc.want {
				t.Errorf("Connect() = %v, want a StartupError %q", err, tc.want)
			}
		})
	}
}
