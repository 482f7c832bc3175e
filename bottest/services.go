package bottest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing/synctest"
	"time"
)

// Advance lets d of fake time pass, so that schedules (bot.Plugin.Every,
// Cron) run, and returns the replies sent meanwhile, once everything has
// settled. It must be called inside synctest.Test, whose fake clock it
// moves: build the Bot inside the bubble too.
//
//	synctest.Test(t, func(t *testing.T) {
//		b := bottest.New(t, &Poller{})
//		got := b.Advance(time.Minute) // the first run of p.Every(time.Minute, ...)
//	})
func (b *Bot) Advance(d time.Duration) []Reply {
	b.t.Helper()
	if !inBubble() {
		b.t.Fatalf("bottest: Advance needs to run inside synctest.Test")
		return nil
	}
	time.Sleep(d) // in a bubble, the fake clock moves on as soon as everything blocks
	synctest.Wait()
	return b.Backend.Sent()
}

// inBubble reports whether the caller runs inside a synctest bubble:
// synctest.Wait panics elsewhere.
func inBubble() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	synctest.Wait()
	return true
}

// Webhook serves r through the engine's webhook handler
// (bot.Engine.HTTPHandler) and returns the response once the handler has
// returned. Replies the handler sent are in Replies. Build r with
// httptest.NewRequest.
func (b *Bot) Webhook(r *http.Request) *httptest.ResponseRecorder {
	b.t.Helper()
	if r == nil {
		b.t.Fatalf("bottest: Webhook(nil)")
		return nil
	}
	rec := httptest.NewRecorder()
	b.Engine.HTTPHandler().ServeHTTP(rec, r)
	return rec
}

// Response returns a short description of a response recorded by Webhook,
// for test messages: "403 bad signature in X-Hub-Signature-256 header".
func Response(rec *httptest.ResponseRecorder) string {
	return fmt.Sprintf("%d %s", rec.Code, trimNL(rec.Body.String()))
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
