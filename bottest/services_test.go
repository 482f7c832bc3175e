package bottest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/storage/memory"
)

type ticker struct{}

func (ticker) Setup(p *bot.Plugin) error {
	n := 0
	p.Every(time.Hour, func(ctx context.Context) error {
		n++
		return p.Send(ctx, "~ops", bot.Outgoing{Text: fmt.Sprintf("tick %d", n)})
	})
	p.Webhook("POST /tick", func(w http.ResponseWriter, r *http.Request) {
		_ = p.Send(r.Context(), "@bob", bot.Outgoing{Text: "ticked"})
		w.WriteHeader(http.StatusAccepted)
	})
	return nil
}

func TestAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.New(t, ticker{})
		if got := b.Advance(time.Hour - time.Second); len(got) != 0 {
			t.Errorf("Advance(59m59s) = %v, want nothing", got)
		}
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "tick 1"}, {To: "~test/ops", RoomID: "r-ops", Text: "tick 2"}}
		if diff := cmp.Diff(want, b.Advance(time.Hour+time.Second)); diff != "" {
			t.Errorf("Advance(1h0m1s) mismatch (-want +got):\n%s", diff)
		}
	})
}

// recorder is a bottest.T that records failures instead of failing.
type recorder struct {
	*testing.T
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestAdvanceOutsideBubble(t *testing.T) {
	rec := &recorder{T: t}
	b := bottest.New(rec, ticker{})
	if got := b.Advance(time.Hour); got != nil || !strings.Contains(rec.fatal, "inside synctest.Test") {
		t.Errorf("Advance outside a bubble = %v, failure %q; want nil and a failure naming synctest.Test", got, rec.fatal)
	}
}

func TestWebhookHelper(t *testing.T) {
	b := bottest.New(t, ticker{})
	rec := b.Webhook(httptest.NewRequest("POST", "/tick", nil))
	if got, want := bottest.Response(rec), "202 "; got != want {
		t.Errorf("Webhook(POST /tick) = %q, want %q", got, want)
	}
	if got, want := bottest.Texts(b.Replies()), []string{"ticked"}; !cmp.Equal(got, want) {
		t.Errorf("replies %q, want %q", got, want)
	}
	if got, want := bottest.Response(b.Webhook(httptest.NewRequest("GET", "/tock", nil))), "404 404 page not found"; got != want {
		t.Errorf("Webhook(GET /tock) = %q, want %q", got, want)
	}
}

type nudge struct{}

func (nudge) Setup(p *bot.Plugin) error {
	p.OnTimer("nudge", func(ctx context.Context, t *bot.Timer) error { return t.Reply(ctx, "nudge") })
	p.Command("later", func(ctx context.Context, req *bot.Request) error {
		_, err := req.After(time.Hour, "nudge", nil)
		return err
	})
	return nil
}

// TestStopRestart sets a timer, stops the bot, and starts another on the
// same storage: it delivers the timer once, at its time.
func TestStopRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := &bot.Options{Storage: memory.New()}
		b := bottest.NewWithOptions(t, opts, nudge{})
		b.SayInThread("@alice", "~ops", "root", "!later")
		b.Stop()
		b.Stop() // does nothing
		b = bottest.NewWithOptions(t, opts, nudge{})
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root", Text: "nudge"}}
		if diff := cmp.Diff(want, b.Advance(time.Hour)); diff != "" {
			t.Errorf("after the restart (-want +got):\n%s", diff)
		}
	})
}
