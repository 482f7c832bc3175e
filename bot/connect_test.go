package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// connecting is a bottest.Backend that implements bot.Connector: Connect
// fails with err, or succeeds.
type connecting struct {
	*bottest.Backend
	err      error
	connects atomic.Int32
	closes   atomic.Int32
	ran      atomic.Bool
}

func (c *connecting) Connect(ctx context.Context) error {
	c.connects.Add(1)
	return c.err
}

func (c *connecting) Run(ctx context.Context, h bot.Handler) error {
	c.ran.Store(true)
	if c.err != nil {
		return c.err // what a backend that cannot connect does
	}
	return c.Backend.Run(ctx, h)
}

func (c *connecting) Close(ctx context.Context) error {
	c.closes.Add(1)
	return nil
}

// activations is a plugin that counts its activations.
func activations(n *atomic.Int32) bot.Setuper {
	return plug{"counted", func(p *bot.Plugin) error {
		p.OnActivate(func(context.Context) error {
			n.Add(1)
			return nil
		})
		p.Command("hello", reply("hi"))
		return nil
	}}
}

// TestConnectBeforeActivation: a backend that fails to connect stops Run
// with its error before any plugin is activated or logged.
func TestConnectBeforeActivation(t *testing.T) {
	rejected := &bot.StartupError{Reason: "http://chat:8065 rejected the token: check that it is valid and not revoked"}
	tests := []struct {
		name    string
		connect error
		opts    bot.Options
		want    string
	}{
		{"bad token", rejected, bot.Options{}, "bot: backend: " + rejected.Reason},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			be := &connecting{Backend: bottest.NewBackend(), err: tc.connect}
			var activated atomic.Int32
			tc.opts.Logger = logger(&logs)
			eng, err := bot.New(be, &tc.opts, activations(&activated))
			if err != nil {
				t.Fatal(err)
			}
			err = eng.Run(t.Context())
			if err == nil || err.Error() != tc.want {
				t.Errorf("Run() = %v, want %q", err, tc.want)
			}
			var se *bot.StartupError
			if !errors.As(err, &se) {
				t.Errorf("Run() = %v, not a *StartupError", err)
			}
			if n := activated.Load(); n != 0 {
				t.Errorf("plugin activated %d times, want none", n)
			}
			if strings.Contains(logs.String(), "plugin") {
				t.Errorf("log mentions plugins:\n%s", logs.String())
			}
			if be.ran.Load() {
				t.Error("backend's Run was called")
			}
			if be.connects.Load() != 1 || be.closes.Load() != 1 {
				t.Errorf("Connect called %d times, Close %d; want once each", be.connects.Load(), be.closes.Load())
			}
		})
	}
}

// TestConnectThenRun: after Connect, Run activates the plugins and runs
// the backend, whose HandleConnect finds the admins resolved.
func TestConnectThenRun(t *testing.T) {
	be := &connecting{Backend: bottest.NewBackend()}
	be.AddUser(bot.User{ID: "u-carol", Username: "carol"})
	var activated atomic.Int32
	eng, err := bot.New(be, &bot.Options{Admins: []string{"@carol"}}, activations(&activated))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	select {
	case <-be.Ready():
	case err := <-done:
		t.Fatalf("Run() = %v before the backend was ready", err)
	}
	if be.connects.Load() != 1 || !be.ran.Load() || activated.Load() != 1 {
		t.Errorf("Connect called %d times, Run %v, plugin activated %d times; want once, true, once",
			be.connects.Load(), be.ran.Load(), activated.Load())
	}
	if !eng.IsAdmin("u-carol") || eng.Self() != be.Self() {
		t.Errorf("IsAdmin(u-carol) = %v, Self() = %+v; want true, %+v", eng.IsAdmin("u-carol"), eng.Self(), be.Self())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after shutdown, want nil", err)
	}
	if be.closes.Load() != 1 {
		t.Errorf("Close called %d times, want once", be.closes.Load())
	}
}

// TestStoppedWhileConnecting: a Connect cut short by shutdown is not an
// error.
func TestStoppedWhileConnecting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	be := &connecting{Backend: bottest.NewBackend()}
	be.err = errors.New("connect: context canceled")
	cancel()
	eng, err := bot.New(be, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Run(ctx); err != nil {
		t.Errorf("Run() stopped while connecting = %v, want nil", err)
	}
}
