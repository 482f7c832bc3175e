package matterbot

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRunOutboxAcrossRestart: through the real wiring ("run -c FILE",
// the bbolt store of [storage]), a reply the server refuses for longer
// than the bot retries is kept in the outbox, shows in
// matterbot_outbox_waiting, survives a restart, and is posted once by
// the next run when the server takes posts again.
func TestRunOutboxAcrossRestart(t *testing.T) {
	w := newRunWorld(t)
	// In front of the fake server: while refusing is set, the bot's
	// posts get a 429 asking to come back in an hour, past the retry
	// budget, so the reply is kept at once rather than after 2 minutes.
	var refusing atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if refusing.Load() && r.Method == http.MethodPost && r.URL.Path == "/api/v4/posts" &&
			r.Header.Get("Authorization") == "Bearer "+w.token {
			rw.Header().Set("Retry-After", "3600")
			http.Error(rw, "limit exceeded", http.StatusTooManyRequests)
			return
		}
		w.srv.ServeHTTP(rw, r)
	}))
	defer front.Close()
	u, err := url.Parse(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = regexp.MustCompile(`(?m)^port = \d+$`).ReplaceAll(cfg, []byte("port = "+u.Port()))
	cfg = append(cfg, "outbox_max_age = \"10m\"\n"...)
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	b := startRun(t, w)
	addr := b.waitLog(t, `msg="http server listening" addr=(\S+)`)[1]
	refusing.Store(true)
	w.say(t, "!echo kept for later")
	b.waitLog(t, `msg="reply kept in the outbox" channel_id=`+w.ops.ID+` waiting=1`)
	if status, body := get(t, http.MethodGet, addr, "/metrics"); status != http.StatusOK || !strings.Contains(body, "\nmatterbot_outbox_waiting 1\n") {
		t.Errorf("GET /metrics = %d, want matterbot_outbox_waiting 1:\n%s", status, body)
	}
	if code := b.stop(t); code != 0 {
		t.Fatalf("exit code = %d; output:\n%s", code, b.stderr.String())
	}

	refusing.Store(false)
	b2 := startRun(t, w)
	b2.waitLog(t, `msg="outbox: replies delivered" channel_id=`+w.ops.ID+` posts=1 waiting=0`)
	// A command to the next run is answered after the reply kept.
	if got := w.reply(t, w.say(t, "!echo after")); got != "after" {
		t.Errorf("reply = %q, want after", got)
	}
	var said []string
	for _, p := range w.srv.Posts(w.ops.ID) {
		if p.UserID == w.bot.ID {
			said = append(said, p.Message)
		}
	}
	if want := []string{"kept for later", "after"}; strings.Join(said, "|") != strings.Join(want, "|") {
		t.Errorf("the bot said %q in ~ops, want %q", said, want)
	}
}
