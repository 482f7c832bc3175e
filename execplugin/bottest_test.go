package execplugin_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/execplugin"
)

// An exec plugin under bottest is tested as a Go plugin is: Say, Advance
// for its schedules (inside a synctest bubble: the program runs for real,
// the bot's clock is fake), Webhook for its endpoints.
func TestBottestDrivesExecPlugins(t *testing.T) {
	manifest := `protocol = 1
name = "poller"
version = "1"
mode = "oneshot"
exec = ["./run.sh"]
[[commands]]
name = "ping"
[[schedules]]
name = "poll"
every = "1m"
[[webhooks]]
name = "hook"
pattern = "POST /poller"
auth = "public"
`
	script := `#!/bin/sh
req=$(cat)
case "$req" in
*'"handler":"ping"'*) echo '{"type":"text","text":"pong"}' ;;
*'"handler":"poll"'*) echo '{"type":"send","to":"~ops","text":"polled"}' ;;
*'"handler":"hook"'*) echo '{"type":"http","status":202,"body":"queued"}' ;;
esac
`
	dir := files(t, map[string]string{"plugin.toml": manifest, "run.sh": script})
	synctest.Test(t, func(t *testing.T) {
		var log logBuffer
		b := bottest.New(t, load(t, dir, &log))
		if got := bottest.Texts(b.Say("!ping")); !cmp.Equal(got, []string{"pong"}) {
			t.Errorf("ping: %q", got)
		}
		if got := b.Advance(59 * time.Second); len(got) != 0 {
			t.Errorf("before the minute: %+v", got)
		}
		got := b.Advance(time.Second)
		if len(got) != 1 || got[0].Text != "polled" || !strings.HasSuffix(got[0].To, "/ops") {
			t.Errorf("after a minute: %+v", got)
		}
		rec := b.Webhook(httptest.NewRequest("POST", "/poller", strings.NewReader("{}")))
		if rec.Code != 202 || rec.Body.String() != "queued" {
			t.Errorf("webhook: %s", bottest.Response(rec))
		}
	})
}

// The example of docs/exec-plugins.md §12 and §13, as written there.
func TestDocExample(t *testing.T) {
	pl, err := execplugin.New("testdata/greeter", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := bottest.New(t, pl)
	if got := bottest.Texts(b.Say("!hello")); !cmp.Equal(got, []string{"hello, @alice"}) {
		t.Errorf("hello: %q", got)
	}
}
