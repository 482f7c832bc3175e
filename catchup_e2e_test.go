package matterbot

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// TestRunCatchUpAcrossRestart: through the real wiring ("run -c FILE",
// the bbolt file of [storage]), commands posted while the bot is
// stopped are answered once each when it starts again;
// the one answered before the stop is not answered again.
func TestRunCatchUpAcrossRestart(t *testing.T) {
	w := newRunWorld(t)
	f, err := os.OpenFile(w.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Appended to [mattermost], then a table of its own.
	_, err = fmt.Fprintf(f, "catch_up = \"15m\"\n\n[storage]\npath = %q\n", filepath.Join(t.TempDir(), "bot.db"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	b := startRun(t, w)
	if got := w.reply(t, w.say(t, "!echo before")); got != "before" {
		t.Fatalf("reply = %q, want before", got)
	}
	if code := b.stop(t); code != 0 {
		t.Fatalf("exit code = %d; output:\n%s", code, b.stderr.String())
	}

	w.say(t, "!echo while down 1")
	w.say(t, "!echo while down 2")
	b = startRun(t, w)
	b.waitLog(t, `msg="catching up" why=restarted channels=\d+ posts=2`)
	for _, text := range []string{"while down 1", "while down 2"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool { return p.UserID == w.bot.ID && p.Message == text })
		cancel()
		if err != nil {
			t.Fatalf("%q never answered: %v", text, err)
		}
	}
	// Live posts come after the catch-up: once "after" is answered, any
	// second answer to the others would have been posted.
	if got := w.reply(t, w.say(t, "!echo after")); got != "after" {
		t.Errorf("reply = %q, want after", got)
	}
	count := map[string]int{}
	for _, p := range w.srv.Posts(w.ops.ID) {
		if p.UserID == w.bot.ID {
			count[p.Message]++
		}
	}
	want := map[string]int{"before": 1, "while down 1": 1, "while down 2": 1, "after": 1}
	if !maps.Equal(count, want) {
		t.Errorf("the bot's answers in ~ops = %v, want each once: %v", count, want)
	}
}
