package execplugin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/execplugin"
)

// version writes the manifest and script of version v of a one-shot
// plugin "greet" into dir, with a command named cmd.
func writeVersion(t *testing.T, dir, v, cmd string) {
	t.Helper()
	manifest := "protocol = 1\nname = \"greet\"\nversion = \"" + v + "\"\nmode = \"oneshot\"\nexec = [\"./run.sh\"]\n[[commands]]\nname = \"" + cmd + "\"\n"
	script := "#!/bin/sh\necho '{\"type\":\"text\",\"text\":\"version " + v + "\"}'\n"
	write(t, filepath.Join(dir, "plugin.toml"), manifest, 0o644)
	write(t, filepath.Join(dir, "run.sh"), script, 0o755)
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// hostBot runs a bot with the plugins of a host on root, alice admin.
func hostBot(t *testing.T, o *execplugin.Options) (*bottest.Bot, error) {
	t.Helper()
	h := execplugin.NewHost(o)
	plugins, err := h.Load([]string{"help"})
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, Logger: o.Logger}, plugins...)
	return b, err
}

func TestReload(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "greet")
	writeVersion(t, dir, "1", "hi")
	var log logBuffer
	o := options(&log)
	o.Dirs = []string{root}
	b, err := hostBot(t, o)
	if err != nil {
		t.Fatal(err)
	}
	say := func(in string) []string { return bottest.Texts(bottest.Unref(b.Say(in))) }
	if got := say("!hi"); !cmp.Equal(got, []string{"version 1"}) {
		t.Fatalf("v1: %q", got)
	}

	// Version 2 renames the command.
	writeVersion(t, dir, "2", "hello")
	if got := say("!plugin reload greet"); !cmp.Equal(got, []string{"Reloaded greet: version 2 (was 1)."}) {
		t.Errorf("reload: %q", got)
	}
	if got := say("!hello"); !cmp.Equal(got, []string{"version 2"}) {
		t.Errorf("v2: %q", got)
	}
	if got := say("!hi"); len(got) != 1 || !strings.Contains(got[0], "not found") {
		t.Errorf("v1's command after the reload: %q", got)
	}

	// A broken version 3: version 2 goes on, and the reply says why.
	write(t, filepath.Join(dir, "plugin.toml"), "protocol = 1\nname = \"greet\"\nversion = \"3\"\nmode = \"oneshot\"\nexec = [\"./run.sh\"]\n[[commands]]\nnam = \"x\"\n", 0o644)
	got := say("!plugin reload greet")
	if len(got) != 1 || !strings.Contains(got[0], "greet not reloaded, version 2 goes on") || !strings.Contains(got[0], "plugin.toml: commands[0].nam: unknown key") {
		t.Errorf("broken reload: %q", got)
	}
	if got := say("!hello"); !cmp.Equal(got, []string{"version 2"}) {
		t.Errorf("after the broken reload: %q", got)
	}

	// Not an admin; not an exec plugin; no such plugin.
	if got := bottest.Texts(b.SayAs("@bob", "~ops", "!plugin reload greet")); len(got) != 1 || !strings.Contains(got[0], "admin") {
		t.Errorf("bob: %q", got)
	}
	if got := say("!plugin reload exec"); len(got) != 1 || !strings.Contains(got[0], "exec is not an exec plugin") {
		t.Errorf("reload exec: %q", got)
	}
	if got := say("!plugin reload nope"); len(got) != 1 || !strings.Contains(got[0], "no exec plugin nope") {
		t.Errorf("reload nope: %q", got)
	}

	// Reload all: a new directory is loaded, a removed one unloaded.
	writeVersion(t, filepath.Join(root, "other"), "1", "other")
	write(t, filepath.Join(root, "other", "plugin.toml"), strings.Replace(readFile(t, filepath.Join(root, "other", "plugin.toml")), `"greet"`, `"other"`, 1), 0o644)
	writeVersion(t, dir, "4", "hello")
	got = say("!plugin reload")
	want := []string{"Reloaded greet: version 4 (was 2).\nLoaded other 1."}
	if !cmp.Equal(got, want) {
		t.Errorf("reload all = %q, want %q", got, want)
	}
	if err := os.RemoveAll(filepath.Join(root, "other")); err != nil {
		t.Fatal(err)
	}
	if got := say("!plugin reload"); !cmp.Equal(got, []string{"Reloaded greet: version 4 (was 4).\nUnloaded other: its directory is gone."}) {
		t.Errorf("reload after a removal: %q", got)
	}
	if got := say("!other"); len(got) != 1 || !strings.Contains(got[0], "not found") {
		t.Errorf("unloaded command: %q", got)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadErrors(t *testing.T) {
	root := t.TempDir()
	writeVersion(t, filepath.Join(root, "a"), "1", "a")
	writeVersion(t, filepath.Join(root, "b"), "1", "b") // also named greet
	write(t, filepath.Join(root, "broken", "plugin.toml"), "protocol = 1\nname = \"broken\"\n", 0o644)
	write(t, filepath.Join(root, "help", "plugin.toml"), strings.Replace(readFile(t, filepath.Join(root, "a", "plugin.toml")), `"greet"`, `"help"`, 1), 0o644)
	write(t, filepath.Join(root, "help", "run.sh"), okScript, 0o755)
	write(t, filepath.Join(root, "notes", "README"), "not a plugin", 0o644)
	write(t, filepath.Join(root, ".hidden", "plugin.toml"), "garbage", 0o644)
	var log logBuffer
	o := options(&log)
	o.Dirs = []string{root}
	b, err := hostBot(t, o)
	for _, want := range []string{
		filepath.Join(root, "b", "plugin.toml") + `: name: "greet" is taken by the plugin in ` + filepath.Join(root, "a"),
		filepath.Join(root, "broken", "plugin.toml") + ": version: missing",
		filepath.Join(root, "help", "plugin.toml") + `: name: "help" is taken by a plugin built into the bot`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want %q", err, want)
		}
	}
	if err != nil && strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("Load error has %d lines, want 3:\n%v", strings.Count(err.Error(), "\n")+1, err)
	}
	// The bot runs with the plugin that loaded.
	if got := bottest.Texts(b.Say("!a")); !cmp.Equal(got, []string{"version 1"}) {
		t.Errorf("a: %q", got)
	}
}

func TestReloadLongLivedBroken(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "py")
	manifest := "protocol = 1\nname = \"py\"\nversion = \"%s\"\nmode = \"longlived\"\nexec = [\"python3\", \"plugin.py\"]\n[[commands]]\nname = \"hello\"\n"
	write(t, filepath.Join(dir, "plugin.toml"), fmt.Sprintf(manifest, "1"), 0o644)
	write(t, filepath.Join(dir, "plugin.py"), pythonLongLived, 0o644)
	var log logBuffer
	o := options(&log)
	o.Dirs = []string{root}
	b, err := hostBot(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := bottest.Texts(b.Say("!hello")); !cmp.Equal(got, []string{"hello, @alice"}) {
		t.Fatalf("v1: %q", got)
	}
	// Version 2 dies at start: version 1's process goes on serving.
	write(t, filepath.Join(dir, "plugin.toml"), fmt.Sprintf(manifest, "2"), 0o644)
	write(t, filepath.Join(dir, "plugin.py"), "import sys\nprint('SyntaxError: oops', file=sys.stderr)\nsys.exit(1)\n", 0o644)
	got := bottest.Texts(b.Say("!plugin reload py"))
	if len(got) != 1 || !strings.Contains(got[0], "py not reloaded, version 1 goes on") || !strings.Contains(got[0], "SyntaxError: oops") {
		t.Errorf("reload to a broken version: %q", got)
	}
	if got := bottest.Texts(b.Say("!hello")); !cmp.Equal(got, []string{"hello, @alice"}) {
		t.Errorf("v1 after the failed reload: %q", got)
	}
}

func TestWatch(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "greet")
	writeVersion(t, dir, "1", "hi")
	var log logBuffer
	o := options(&log)
	o.Dirs, o.Watch = []string{root}, true
	b, err := hostBot(t, o)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watch", func() bool { return strings.Contains(log.String(), "exec plugin directories watched") })
	writeVersion(t, dir, "2", "hi")
	waitFor(t, "the reload", func() bool { return strings.Contains(log.String(), "Reloaded greet: version 2 (was 1).") })
	if got := bottest.Texts(b.Say("!hi")); !cmp.Equal(got, []string{"version 2"}) {
		t.Errorf("after the change: %q", got)
	}
	// A data file the plugin writes in its directory reloads nothing.
	n := strings.Count(log.String(), "exec plugins reloaded after a change")
	write(t, filepath.Join(dir, "state.db"), "data", 0o644)
	// A new plugin directory is loaded; then a broken change keeps it.
	other := filepath.Join(root, "other")
	writeVersion(t, other, "1", "other")
	write(t, filepath.Join(other, "plugin.toml"), strings.Replace(readFile(t, filepath.Join(other, "plugin.toml")), `"greet"`, `"other"`, 1), 0o644)
	waitFor(t, "the new plugin", func() bool { return strings.Contains(log.String(), "Loaded other 1.") })
	if got := strings.Count(log.String(), "exec plugins reloaded after a change"); got != n+1 {
		t.Errorf("%d reloads after the data file and the new plugin, want 1:\n%s", got-n, log.String())
	}
	if got := bottest.Texts(b.Say("!other")); !cmp.Equal(got, []string{"version 1"}) {
		t.Errorf("new plugin: %q", got)
	}
	write(t, filepath.Join(other, "plugin.toml"), "protocol = 1\n", 0o644)
	waitFor(t, "the failed reload", func() bool {
		return strings.Contains(log.String(), "exec plugin not reloaded; the running version goes on\" plugin=other")
	})
	if got := bottest.Texts(b.Say("!other")); !cmp.Equal(got, []string{"version 1"}) {
		t.Errorf("after a broken change: %q", got)
	}
}
