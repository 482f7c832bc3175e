package execplugin_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/execplugin"
)

// errbotPlugin loads an example of contrib/errbotshim with its runner.
func errbotPlugin(t *testing.T, name string, log *logBuffer) *execplugin.Plugin {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	runner, err := filepath.Abs("../contrib/errbotshim/matterbot-errbot")
	if err != nil {
		t.Fatal(err)
	}
	o := options(log)
	o.ErrbotRunner = []string{py, runner}
	pl, err := execplugin.New(filepath.Join("../contrib/errbotshim/examples", name), o)
	if err != nil {
		t.Fatalf("New: %v\n%s", err, log.String())
	}
	return pl
}

// TestErrbotShim runs an Errbot plugin of contrib/errbotshim, unchanged,
// through its runner: the .plug file is the manifest, the commands come
// from the program's describe answer.
func TestErrbotShim(t *testing.T) {
	var log logBuffer
	pl := errbotPlugin(t, "greeter", &log)
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}}, pl)
	tests := []struct {
		in   string
		want []string
	}{
		{"!hello", []string{"Hello, alice!"}},
		{"!hello bob", []string{"Hello, bob!"}},
		{"!shout a b", []string{"A!", "B!"}},
		{"!greeting Howdy", []string{"Greeting set to 'Howdy'."}},
		{"!greet", []string{"Howdy, alice!"}},
	}
	for _, tc := range tests {
		if got := bottest.Texts(b.Say(tc.in)); !cmp.Equal(got, tc.want) {
			t.Errorf("Say(%q) = %q, want %q\n", tc.in, got, tc.want)
		}
	}
	if t.Failed() {
		t.Log(log.String())
	}
}
