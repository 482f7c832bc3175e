package bot_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// goroutineID returns the calling goroutine's id, read from the header of
// its stack trace ("goroutine 12 [running]:"). For tests only: it tells
// whether two handlers ran on the same goroutine.
func goroutineID() string {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	return strings.Fields(string(buf[:n]))[1]
}

// wherePlugin reports the goroutine each "!where" runs on.
type wherePlugin struct{ ids chan string }

func (w *wherePlugin) Setup(p *bot.Plugin) error {
	p.Command("where", func(ctx context.Context, req *bot.Request) error {
		w.ids <- goroutineID()
		return nil
	})
	return nil
}

// TestWorkerReuse: a handler goroutine that finds no queued job waits a
// while for the next one (its stack already grown), and exits when none
// comes.
func TestWorkerReuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &wherePlugin{ids: make(chan string, 1)}
		b := bottest.New(t, w)
		where := func() string {
			<-b.Post(b.Message("@alice", "~ops", "!where"))
			id := <-w.ids
			synctest.Wait() // the worker is parked
			return id
		}
		first := where()
		if second := where(); second != first {
			t.Errorf("second command ran on goroutine %s, want %s (the parked worker)", second, first)
		}
		advance(time.Minute)
		if third := where(); third == first {
			t.Errorf("command after a minute idle ran on goroutine %s, want a new one (the worker exits when idle)", third)
		}
	})
}

// TestShutdownParkedWorker: shutdown does not wait for a parked worker's
// idle time: it leaves at once.
func TestShutdownParkedWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		be := bottest.NewBackend()
		w := &wherePlugin{ids: make(chan string, 1)}
		e, err := bot.New(be, nil, w)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		<-be.Ready()
		<-be.Handler().HandleMessage(&bot.Message{ID: "m1", From: bot.User{ID: "u-alice", Username: "alice"},
			Room: bot.Room{ID: "r1", Name: "ops"}, Text: "!where"})
		<-w.ids
		synctest.Wait() // the worker is parked

		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Run returned %v after cancel, want at once", d)
		}
	})
}
