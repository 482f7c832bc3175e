package plugins_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBuiltin(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, plugins.Builtin()...)
	var names []string
	for _, p := range b.Engine.Plugins() {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"about", "admin", "echo", "help", "whoami"}, names); diff != "" {
		t.Errorf("Plugins() mismatch (-want +got):\n%s", diff)
	}
	// Every built-in command answers.
	for _, c := range b.Engine.Commands() {
		in := "!" + c.Name
		if c.Name == "echo" || c.Name == "plugin activate" || c.Name == "plugin deactivate" || c.Name == "plugin config" {
			in += " echo"
		}
		if got := b.Say(in); len(got) == 0 {
			t.Errorf("Say(%q): no reply", in)
		}
	}
}
