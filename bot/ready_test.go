package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// held is a bottest.Backend whose Run, once its context is done, waits
// for hold to be closed before it returns: a backend slow to stop.
type held struct {
	*bottest.Backend
	hold chan struct{}
}

func (h *held) Run(ctx context.Context, hd bot.Handler) error {
	err := h.Backend.Run(ctx, hd)
	<-h.hold
	return err
}

// probed is a held backend that implements bot.Readiness with a reason
// the test sets.
type probed struct {
	*held
	mu     sync.Mutex
	reason error // guarded by mu
}

func (p *probed) Ready() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reason
}

func (p *probed) set(err error) {
	p.mu.Lock()
	p.reason = err
	p.mu.Unlock()
}

// TestReady follows Engine.Ready through Run: not running, connecting
// or starting while the plugins are activated, ready, the backend's own
// reason, shutting down while a handler finishes, stopped.
func TestReady(t *testing.T) {
	for _, withReadiness := range []bool{false, true} {
		name := "backend without Readiness"
		if withReadiness {
			name = "backend with Readiness"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tb := bottest.NewBackend()
				hb := &held{Backend: tb, hold: make(chan struct{})}
				var be bot.Backend = hb
				pb := &probed{held: hb}
				if withReadiness {
					be = pb
				}
				activating, activate := make(chan struct{}), make(chan struct{})
				running, finish := make(chan struct{}), make(chan struct{})
				p := plug{"p", func(p *bot.Plugin) error {
					p.OnActivate(func(context.Context) error {
						close(activating)
						<-activate
						return nil
					})
					p.Command("work", func(ctx context.Context, req *bot.Request) error {
						close(running)
						<-finish
						return nil
					})
					return nil
				}}
				e, err := bot.New(be, nil, p)
				if err != nil {
					t.Fatal(err)
				}
				check := func(when, want string) {
					t.Helper()
					got := ""
					if err := e.Ready(); err != nil {
						got = err.Error()
					}
					if got != want {
						t.Errorf("%s: Ready() = %q, want %q", when, got, want)
					}
				}
				check("before Run", "not running")

				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- e.Run(ctx) }()
				<-activating
				if withReadiness {
					check("activating, backend ready", "starting")
					pb.set(errors.New("connecting to the moon"))
					check("activating, backend not ready", "connecting to the moon")
					pb.set(nil)
				} else {
					check("activating, backend not connected", "connecting")
				}
				close(activate)
				<-tb.Ready()
				check("serving", "")
				if withReadiness {
					pb.set(errors.New("websocket disconnected: reconnecting"))
					check("backend not ready", "websocket disconnected: reconnecting")
					pb.set(nil)
					check("backend ready again", "")
				}

				tb.Handler().HandleMessage(&bot.Message{ID: "1", From: bot.User{ID: "u-alice", Username: "alice"},
					Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: "!work"})
				<-running
				cancel()
				synctest.Wait() // the backend waits for hold
				check("shutdown began", "shutting down")
				close(hb.hold)
				synctest.Wait() // Run waits for the handler
				check("draining", "shutting down")
				close(finish)
				if err := <-done; err != nil {
					t.Errorf("Run() = %v", err)
				}
				check("after Run", "stopped")
			})
		})
	}
}
