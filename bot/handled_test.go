package bot_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// handledLog records the calls of Message.Handled, by message id.
type handledLog struct {
	calls chan string // "id:true" or "id:false", one per call
}

func (h *handledLog) message(id, text string) *bot.Message {
	return &bot.Message{ID: id, From: bot.User{ID: "u-alice", Username: "alice"},
		Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: text,
		Handled: func(complete bool) {
			if complete {
				h.calls <- id + ":true"
			} else {
				h.calls <- id + ":false"
			}
		}}
}

// next returns the next call, failing when none was made.
func (h *handledLog) next(t *testing.T) string {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	default:
		t.Fatal("Message.Handled not called")
		return ""
	}
}

// TestMessageHandled: the engine calls Message.Handled once per message,
// with complete true when the message was handled to the end (answered,
// failed, no command, asking a question), and false when shutdown
// cancelled its handler or dropped it before it ran.
func TestMessageHandled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{}, 4)
		p := plug{"h", func(p *bot.Plugin) error {
			p.Command("ok", func(ctx context.Context, req *bot.Request) error { return req.Reply("ok") })
			p.Command("fail", func(ctx context.Context, req *bot.Request) error { return bot.UserErrorf("no") })
			p.Command("ask", func(ctx context.Context, req *bot.Request) error {
				_, err := req.Ask(ctx, "really?")
				return err
			})
			p.Command("wait", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			})
			return nil
		}}
		be := bottest.NewBackend()
		e, err := bot.New(be, &bot.Options{ShutdownTimeout: time.Second, MaxConcurrent: 1}, p)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		<-be.Ready()
		h := &handledLog{calls: make(chan string, 16)}
		for _, tc := range []struct{ id, text string }{
			{"ok", "!ok"}, {"fail", "!fail"}, {"chat", "hello"}, {"unknown", "!nope"}, {"ask", "!ask"},
		} {
			<-be.Handler().HandleMessage(h.message(tc.id, tc.text))
			if got, want := h.next(t), tc.id+":true"; got != want {
				t.Errorf("%q: Handled call = %q, want %q", tc.text, got, want)
			}
		}
		// One handler runs (MaxConcurrent 1) past the shutdown timeout,
		// another waits in the queue: shutdown drops the second and
		// cancels the first.
		be.Handler().HandleMessage(h.message("running", "!wait"))
		<-started
		be.Handler().HandleMessage(h.message("queued", "!wait"))
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v", err)
		}
		got := map[string]bool{}
		for range 2 { // the question's message was handled when it was asked
			got[h.next(t)] = true
		}
		for _, want := range []string{"running:false", "queued:false"} {
			if !got[want] {
				t.Errorf("Handled calls at shutdown = %v, want %s", got, want)
			}
		}
		<-be.Handler().HandleMessage(h.message("late", "!ok"))
		if got, want := h.next(t), "late:false"; got != want {
			t.Errorf("after shutdown: Handled call = %q, want %q", got, want)
		}
		select {
		case c := <-h.calls:
			t.Errorf("extra Handled call %q", c)
		default:
		}
	})
}

// TestAddressed: Engine.Addressed tells commands from chatter as
// HandleMessage would, without running anything.
func TestAddressed(t *testing.T) {
	ran := make(chan string, 8)
	p := plug{"a", func(p *bot.Plugin) error {
		p.Command("deploy", func(ctx context.Context, req *bot.Request) error { ran <- "deploy"; return nil })
		p.Regex("ticket", `^ticket #(\d+)$`, func(ctx context.Context, req *bot.Request) error { ran <- "ticket"; return nil }).Prefixed(false)
		return nil
	}}
	b := bottest.New(t, p)
	var _ bot.Addresser = b.Engine
	for _, tc := range []struct {
		text   string
		direct bool
		want   bool
	}{
		{"!deploy api", false, true},
		{"!nosuch", false, true},
		{"@" + b.Backend.Self().Username + " deploy", false, true},
		{"ticket #12", false, true},
		{"deploy api", true, true},
		{"deploy api", false, false},
		{"hello there", false, false},
	} {
		m := &bot.Message{ID: "1", From: bot.User{ID: "u-alice", Username: "alice"},
			Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: tc.text, Direct: tc.direct}
		if got := b.Engine.Addressed(m); got != tc.want {
			t.Errorf("Addressed(%q, direct=%v) = %v, want %v", tc.text, tc.direct, got, tc.want)
		}
	}
	select {
	case r := <-ran:
		t.Errorf("Addressed ran %s", r)
	default:
	}
}
