package execplugin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/storage/memory"
)

const longLivedCommands = `
[[commands]]
name = "echo"
[[commands]]
name = "argv"
  [[commands.args]]
  name = "n"
  type = "int"
  positional = true
[[commands]]
name = "store"
[[commands]]
name = "ask"
no_answer = "No answer, no greeting."
[[commands]]
name = "sleep"
timeout = "300ms"
[[commands]]
name = "crash"
[[commands]]
name = "send"
[[commands]]
name = "usage"
usage = "<right>"
[[commands]]
name = "whoami"
[[regex]]
name = "pick"
pattern = '^pick (\w+)$'
handler = "nomatch"
[[regex]]
name = "pick any"
pattern = '^pick'
handler = "echo"
[[regex]]
name = "ticket"
pattern = '^ticket (\w+)$'
handler = "nomatch"
[[webhooks]]
name = "hook"
pattern = "POST /hook/{name}"
auth = "public"
`

func TestLongLivedGo(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), AskTimeout: time.Minute},
		load(t, files(t, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands)}), &log))
	tests := []struct {
		name, in string
		want     []string
	}{
		{"echo", "!echo hello", []string{"echo hello"}},
		{"typed", "!argv 42", []string{`{"n":42}`}},
		{"store round trip", "!store k1", []string{`{"v":"K1"}`}},
		{"usage error from the plugin", "!usage", []string{"`!usage`: say it right.\nUsage: `!usage <right>`"}},
		{"cancelled at the deadline", "!sleep", []string{"cancelled timeout", "`!sleep` timed out after 300ms."}},
		{"regex taken", "!pick yes", []string{"took pick yes"}},
		{"regex handed back: the next one", "!pick nope", []string{"echo pick nope"}},
		{"regex handed back: its usage", "!ticket no", []string{"`!ticket`: \"no\" does not fit."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, bottest.Texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	if !strings.Contains(log.String(), `msg="hello received" plugin=goplug version=1`) {
		t.Errorf("the plugin's log line is not in the log:\n%s", log.String())
	}

	t.Run("ask", func(t *testing.T) {
		if got := bottest.Texts(b.Say("!ask")); !cmp.Equal(got, []string{"name?"}) {
			t.Fatalf("ask: %q", got)
		}
		if got := bottest.Texts(b.Say("bob")); !cmp.Equal(got, []string{"hello bob"}) {
			t.Errorf("answer: %q", got)
		}
	})
	t.Run("send", func(t *testing.T) {
		rs := b.Say("!send")
		if len(rs) != 1 || rs[0].Text != "sent" || rs[0].To != "~"+bottest.DefaultTeam+"/ops" {
			t.Errorf("send: %+v", rs)
		}
	})
	t.Run("webhook", func(t *testing.T) {
		rec := b.Webhook(httptest.NewRequest("POST", "/hook/x", strings.NewReader("payload")))
		if rec.Code != 201 || rec.Body.String() != "PAYLOAD" || rec.Header().Get("X-Plugin") != "yes" {
			t.Errorf("webhook: %s %v", bottest.Response(rec), rec.Header())
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		before := len(b.Replies())
		var want []string
		var chans []<-chan struct{}
		for i := range 40 {
			in := "echo " + strings.Repeat("x", i)
			want = append(want, in)
			chans = append(chans, b.Post(b.Message("@alice", "~ops", "!"+in)))
		}
		for _, c := range chans {
			<-c
		}
		got := bottest.Texts(b.Replies()[before:])
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("replies to 40 commands at once (-want +got):\n%s", diff)
		}
	})
	// A crash fails the request, and the program comes back.
	t.Run("crash and restart", func(t *testing.T) {
		if got := bottest.Texts(bottest.Unref(b.Say("!crash"))); !cmp.Equal(got, []string{"Sorry, `!crash` failed (ref REF)."}) {
			t.Errorf("crash: %q", got)
		}
		waitFor(t, "the restart", func() bool { return strings.Contains(log.String(), "plugin program restarted") })
		if got := bottest.Texts(b.Say("!echo back")); !cmp.Equal(got, []string{"echo back"}) {
			t.Errorf("after the restart: %q", got)
		}
	})
}

func TestLongLivedDeactivate(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()},
		load(t, files(t, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands)}), &log))
	if err := b.Engine.Deactivate(context.Background(), "goplug"); err != nil {
		t.Fatal(err)
	}
	if err := b.Engine.Activate(context.Background(), "goplug"); err != nil {
		t.Fatal(err)
	}
	if got := bottest.Texts(b.Say("!echo again")); !cmp.Equal(got, []string{"echo again"}) {
		t.Errorf("after reactivation: %q", got)
	}
	_ = http.StatusOK
}

// A deactivate hook's calls get their results: the program's input stays
// open until it exits. Its hook reads a counter and writes it back plus
// one, which needs the read's result.
func TestLongLivedDeactivateHookUsesStore(t *testing.T) {
	var log logBuffer
	st := memory.New()
	opts := &bot.Options{Logger: log.logger(), Storage: st,
		PluginConfig: map[string]any{"goplug": map[string]any{"hook_store": true}}}
	b := bottest.NewWithOptions(t, opts,
		load(t, files(t, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands)}), &log))
	ctx := context.Background()
	for range 2 {
		start := time.Now()
		if err := b.Engine.Deactivate(ctx, "goplug"); err != nil {
			t.Fatalf("Deactivate: %v\n%s", err, log.String())
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("Deactivate took %v: the program did not exit on its own", d)
		}
		if err := b.Engine.Activate(ctx, "goplug"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Store("goplug").Get(ctx, "deactivations")
	if err != nil || string(got) != "2" {
		t.Errorf("store deactivations = %s, %v; want 2 (read and written by each deactivate hook)\n%s", got, err, log.String())
	}
}

// The program knows the bot: hello's bot names its prefix, alternative
// prefixes and admins; its account once the bot has connected, in a bot
// message if hello came first; and a bot message tells a configuration
// reload's changes before the next request.
func TestLongLivedBotInfo(t *testing.T) {
	var log logBuffer
	opts := &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}, AltPrefixes: []string{"ops:"}}
	dir := files(t, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands)})
	b := bottest.NewWithOptions(t, opts, load(t, dir, &log))
	// Told at the connect, before any request.
	waitFor(t, "the bot message", func() bool { return strings.Contains(log.String(), "bot message received") })
	user := `"user":{"bot":true,"full_name":"Ops Bot","id":"u-ops-bot","username":"ops-bot"}`
	// The engine activates plugins before the backend connects: hello
	// does not know the account yet.
	want := `{"bot":{"admins":["@alice"],"alt_prefixes":["ops:"],"name":"matterbot","prefix":"!",` + user + `,"version":"dev"},"from":["hello","bot"]}`
	if got := bottest.Texts(b.Say("!whoami")); !cmp.Equal(got, []string{want}) {
		t.Errorf("!whoami = %q\nwant %s", got, want)
	}
	next := *opts
	next.Admins, next.AltPrefixes = []string{"@alice", "@bob"}, nil
	if err := b.Engine.Reconfigure(context.Background(), &next); err != nil {
		t.Fatal(err)
	}
	want = `{"bot":{"admins":["@alice","@bob"],"alt_prefixes":[],"name":"matterbot","prefix":"!",` + user + `,"version":"dev"},"from":["hello","bot","bot"]}`
	if got := bottest.Texts(b.Say("!whoami")); !cmp.Equal(got, []string{want}) {
		t.Errorf("!whoami after Reconfigure = %q\nwant %s", got, want)
	}
	// Activated after the connect: hello says it all.
	ctx := context.Background()
	if err := b.Engine.Deactivate(ctx, "goplug"); err != nil {
		t.Fatal(err)
	}
	if err := b.Engine.Activate(ctx, "goplug"); err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(want, `"from":["hello","bot","bot"]`, `"from":["hello"]`, 1)
	if got := bottest.Texts(b.Say("!whoami")); !cmp.Equal(got, []string{want}) {
		t.Errorf("!whoami after reactivation = %q\nwant %s", got, want)
	}
}

// A long-lived plugin's schedule, run as the engine runs it. (Advance
// cannot drive a long-lived plugin: its process's pipes are I/O, which a
// synctest bubble never waits out.)
func TestLongLivedSchedule(t *testing.T) {
	var log logBuffer
	b := bottest.New(t, load(t, files(t, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands+`
[[schedules]]
name = "tick"
every = "1h"
handler = "send"
`)}), &log))
	s := b.Engine.Schedules()
	if len(s) != 1 || s[0].String() != "every 1h0m0s" {
		t.Fatalf("Schedules() = %+v", s)
	}
	if err := s[0].Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.Replies(); len(got) != 1 || got[0].Text != "sent" {
		t.Errorf("the schedule sent %+v", got)
	}
}
