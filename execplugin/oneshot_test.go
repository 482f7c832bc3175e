package execplugin_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

const oneShotCommands = `
[[commands]]
name = "echo"
help = "say it back"
[[commands]]
name = "argv"
  [[commands.args]]
  name = "service"
  positional = true
  [[commands.args]]
  name = "env"
  positional = true
  enum = ["staging", "prod"]
  [[commands.args]]
  name = "force"
  type = "bool"
  [[commands.args]]
  name = "wait"
  type = "duration"
  default = "1m30s"
[[commands]]
name = "ask"
[[commands]]
name = "crash"
[[commands]]
name = "noop"
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
`

func TestOneShotGo(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}},
		load(t, files(t, map[string]string{"plugin.toml": goManifest("oneshot", oneShotCommands)}), &log))
	tests := []struct {
		name, in string
		want     []string
	}{
		{"echo", "!echo hello world", []string{"echo hello world"}},
		{"typed arguments", "!argv api prod --force", []string{`{"env":"prod","force":true,"service":"api","wait":90}`}},
		{"usage error never runs", "!argv api dev", []string{"`!argv`: <env>: \"dev\" is not one of staging, prod.\nUsage: `!argv <service> <env> [--force] [--wait WAIT]`"}},
		{"did you mean", "!ecko", []string{`Command "ecko" not found. Did you mean ` + "`!echo`?"}},
		{"no reply", "!noop", nil},
		{"crash", "!crash", []string{"Sorry, `!crash` failed (ref REF)."}},
		{"regex taken", "!pick yes", []string{"took pick yes"}},
		{"regex handed back: the next one", "!pick nope", []string{"echo pick nope"}},
		{"regex handed back: its usage", "!ticket no", []string{"`!ticket`: \"no\" does not fit."}},
		{"the bot", "!whoami", []string{`{"admins":["@alice"],"alt_prefixes":[],"name":"matterbot","prefix":"!",` +
			`"user":{"bot":true,"full_name":"Ops Bot","id":"u-ops-bot","username":"ops-bot"},"version":"dev"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, bottest.Texts(bottest.Unref(b.Say(tc.in)))); diff != "" {
				t.Errorf("Say(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	if !strings.Contains(log.String(), "about to crash") || !strings.Contains(log.String(), "exit status 3") {
		t.Errorf("log lacks the crash's stderr and status:\n%s", log.String())
	}
	// A conversation: the program asks, exits, and runs again with the answer.
	if got := bottest.Texts(b.Say("!ask")); !cmp.Equal(got, []string{"name?"}) {
		t.Fatalf("ask: %q", got)
	}
	if got := bottest.Texts(b.Say("alice")); !cmp.Equal(got, []string{"hello alice (state map[step:1])"}) {
		t.Errorf("answer: %q", got)
	}
}
