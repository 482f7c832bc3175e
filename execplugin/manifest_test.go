package execplugin_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/execplugin"
)

const okScript = "#!/bin/sh\necho '{\"type\":\"text\",\"text\":\"ok\"}'\n"

func TestManifestErrors(t *testing.T) {
	head := "protocol = 1\nname = \"x\"\nversion = \"1\"\nmode = \"oneshot\"\nexec = [\"./run.sh\"]\n"
	tests := []struct {
		name     string
		manifest string
		field    string // "" for the file
		want     string
	}{
		{"bad toml", "protocol = ", "", "plugin.toml:1:"},
		{"unknown key", head + "comands = []\n", "comands", `unknown key (did you mean "commands"?)`},
		{"wrong type", head + "[[commands]]\nname = 3\n", "commands[0].name", "want a string, got 3"},
		{"protocol missing", strings.Replace(head, "protocol = 1\n", "", 1), "protocol", "missing"},
		{"protocol 2", strings.Replace(head, "protocol = 1", "protocol = 2", 1), "protocol", "version 2 is not supported by this bot (it speaks 1)"},
		{"bad name", strings.Replace(head, `"x"`, `"a b"`, 1), "name", `"a b"`},
		{"bad mode", strings.Replace(head, "oneshot", "daemon", 1), "mode", `"daemon" is not "oneshot" or "longlived"`},
		{"program missing", strings.Replace(head, "./run.sh", "./nope.sh", 1), "exec[0]", `"./nope.sh"`},
		{"not executable", strings.Replace(head, "./run.sh", "./data.txt", 1), "exec[0]", "is not executable"},
		{"not in PATH", strings.Replace(head, "./run.sh", "no-such-interpreter-xyz", 1), "exec[0]", "is not in the bot's PATH"},
		{"arg type", head + "[[commands]]\nname = \"c\"\n[[commands.args]]\nname = \"n\"\ntype = \"integer\"\n", "commands[0].args[0].type", `"integer" is not one of string, bool, int, float, duration, strings`},
		{"arg default", head + "[[commands]]\nname = \"c\"\n[[commands.args]]\nname = \"n\"\ntype = \"int\"\ndefault = \"x\"\n", "commands[0].args", `argument "n": default`},
		{"bad regex", head + "[[regex]]\nname = \"r\"\npattern = \"(\"\n", "regex[0].pattern", "missing closing )"},
		{"schedule both", head + "[[schedules]]\nname = \"s\"\nevery = \"1m\"\ncron = \"@daily\"\n", "schedules[0]", "exactly one of every and cron"},
		{"bad duration", head + "[limits]\ntimeout = \"soon\"\n", "limits.timeout", `"soon" is not a duration`},
		{"bad cron", head + "[[schedules]]\nname = \"s\"\ncron = \"* *\"\n", "schedules[0].cron", "five fields"},
		{"secret env", head + "env = [\"MATTERBOT_MATTERMOST_TOKEN\"]\n", "env[0]", "hold its secrets"},
		{"reserved path", head + "[[webhooks]]\nname = \"w\"\npattern = \"GET /healthz\"\n", "webhooks[0].pattern", "the bot's own"},
		{"hmac without secret key", head + "[[webhooks]]\nname = \"w\"\npattern = \"POST /w\"\nauth = \"hmac\"\n", "webhooks[0].secret_config", "missing"},
		{"event", head + "events = [\"typing\"]\n", "events[0]", `"typing" is not one of`},
		{"text output long-lived", strings.Replace(head, "oneshot", "longlived", 1) + "output = \"text\"\n", "output", "one-shot plugins only"},
		{"config default type", head + "[config.n]\ntype = \"int\"\ndefault = \"x\"\n", "config.n.default", `"x" is not of type int`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := files(t, map[string]string{"plugin.toml": tc.manifest, "run.sh": okScript, "data.txt": "x"})
			_, err := execplugin.New(dir, nil)
			var me *execplugin.ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("New = %v, want a *ManifestError", err)
			}
			if !strings.HasPrefix(me.File, filepath.Join(dir, "plugin.toml")) || me.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %q (file %s, field %q), want field %q and %q", err, me.File, me.Field, tc.field, tc.want)
			}
		})
	}
}

func TestManifestJSON(t *testing.T) {
	dir := files(t, map[string]string{
		"plugin.json": `{"protocol": 1, "name": "j", "version": "2", "mode": "oneshot", "exec": ["./run.sh"],
			"commands": [{"name": "ok", "args": [{"name": "n", "type": "int", "positional": true, "optional": true}]}],
			"limits": {"timeout": "5s", "max_output": 4096}}`,
		"run.sh": okScript,
	})
	pl, err := execplugin.New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := pl.Manifest(); m.Name != "j" || len(m.Commands) != 1 || m.Limits.MaxOutput != 4096 || !filepath.IsAbs(m.Exec[0]) {
		t.Errorf("manifest: %+v", m)
	}
	dir = files(t, map[string]string{"plugin.json": `{"protocol": 1, "name": "j", "version": "2", "mode": "oneshot", "exec": ["./run.sh"], "x": 1}`, "run.sh": okScript})
	if _, err := execplugin.New(dir, nil); err == nil || !strings.Contains(err.Error(), "plugin.json: x: unknown key") {
		t.Errorf("unknown key in JSON: %v", err)
	}
	dir = files(t, map[string]string{"plugin.json": "{}", "plugin.toml": "", "run.sh": okScript})
	if _, err := execplugin.New(dir, nil); err == nil || !strings.Contains(err.Error(), "keep one manifest") {
		t.Errorf("two manifests: %v", err)
	}
}
