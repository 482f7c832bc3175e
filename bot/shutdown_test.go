package bot_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// gatedBackend is a bottest.Backend whose Send waits for gate (or for its
// context), as a slow server would.
type gatedBackend struct {
	*bottest.Backend
	gate    chan struct{} // closed to let sends through
	sending chan struct{} // one value per send that started waiting
	results chan error    // one value per send that returned
}

func (g *gatedBackend) Send(ctx context.Context, out *bot.Outgoing) error {
	g.sending <- struct{}{}
	var err error
	select {
	case <-g.gate:
		err = g.Backend.Send(ctx, out)
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.results <- err
	return err
}

// TestShutdownDeliversReplies checks that shutdown lets running handlers
// finish and their replies through until the shutdown timeout: one on its
// way when the signal came, and a slow command that finishes in time;
// then it cancels the handlers still running and lets their last words
// through for ShutdownGrace.
func TestShutdownDeliversReplies(t *testing.T) {
	tests := []struct {
		name     string
		command  string
		openGate bool          // the server answers (after the shutdown began)
		want     []string      // the replies delivered
		wantErr  error         // what the send returned
		wantTook time.Duration // from cancel to Run's return
	}{
		{name: "reply on its way", command: "!slow", openGate: true, want: []string{"slow done"}},
		{name: "slow command finishes", command: "!think", openGate: true, want: []string{"thought for 2s"}, wantTook: 2 * time.Second},
		{name: "last word", command: "!polite", openGate: true, want: []string{"stopping"}, wantTook: 3 * time.Second},
		{name: "reply cut after the grace", command: "!slow", wantErr: context.Canceled, wantTook: 3*time.Second + bot.ShutdownGrace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				be := &gatedBackend{Backend: bottest.NewBackend(), gate: make(chan struct{}),
					sending: make(chan struct{}, 1), results: make(chan error, 1)}
				started := make(chan struct{}, 1)
				p := plug{"s", func(p *bot.Plugin) error {
					p.Command("slow", func(ctx context.Context, req *bot.Request) error {
						return req.Reply("slow done")
					})
					p.Command("think", func(ctx context.Context, req *bot.Request) error {
						started <- struct{}{}
						select {
						case <-time.After(2 * time.Second):
						case <-ctx.Done():
							return req.Reply("cancelled")
						}
						return req.Reply("thought for 2s")
					})
					p.Command("polite", func(ctx context.Context, req *bot.Request) error {
						started <- struct{}{}
						<-ctx.Done()
						return req.Reply("stopping")
					})
					return nil
				}}
				e, err := bot.New(be, &bot.Options{ShutdownTimeout: 3 * time.Second}, p)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- e.Run(ctx) }()
				<-be.Ready()
				msg := &bot.Message{ID: "1", From: bot.User{ID: "u-alice", Username: "alice"},
					Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: tc.command}
				be.Handler().HandleMessage(msg)
				if tc.command == "!slow" {
					<-be.sending // the reply is on its way
				} else {
					<-started
				}

				start := time.Now()
				cancel()
				synctest.Wait() // the engine waits for the handler
				select {
				case err := <-be.results:
					t.Fatalf("the send returned %v once shutdown began, want it still waiting", err)
				case err := <-done:
					t.Fatalf("Run returned %v with a reply in flight", err)
				default:
				}
				if tc.openGate {
					close(be.gate)
				}
				if err := <-done; err != nil {
					t.Errorf("Run() = %v, want nil", err)
				}
				if took := time.Since(start); took != tc.wantTook {
					t.Errorf("Run returned %v after cancel, want %v", took, tc.wantTook)
				}
				if err := <-be.results; !errors.Is(err, tc.wantErr) {
					t.Errorf("the send returned %v, want %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, bottest.Texts(be.Sent())); diff != "" {
					t.Errorf("replies delivered (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestShutdownEndsQuestions: a handler waiting in Ask does not hold the
// shutdown for its timeout, since no answer can come once the backend has
// stopped: its question ends at once with the NoAnswer words.
func TestShutdownEndsQuestions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		be := bottest.NewBackend()
		asking := make(chan struct{}, 1)
		p := plug{"q", func(p *bot.Plugin) error {
			p.Command("deploy", func(ctx context.Context, req *bot.Request) error {
				asking <- struct{}{}
				_, err := req.Ask(ctx, "sure?")
				return err
			}).NoAnswer("No answer: deploy cancelled.")
			return nil
		}}
		e, err := bot.New(be, &bot.Options{ShutdownTimeout: 10 * time.Second}, p)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		<-be.Ready()
		be.Handler().HandleMessage(&bot.Message{ID: "1", From: bot.User{ID: "u-alice", Username: "alice"},
			Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: "!deploy"})
		<-asking
		synctest.Wait() // the question is out, and waits
		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("Run returned %v after cancel, want at once: nobody can answer", took)
		}
		want := []string{"sure?", "No answer: deploy cancelled."}
		if diff := cmp.Diff(want, bottest.Texts(be.Sent())); diff != "" {
			t.Errorf("replies (-want +got):\n%s", diff)
		}
	})
}
