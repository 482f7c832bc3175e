package matterbot

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/plugins"
)

// The subcommands start engines, servers and their goroutines: every test
// must leave none behind.
//
// With MATTERBOT_TEST_MAIN=1 the test binary is the matterbot command
// instead: the signal tests run it as a child process (see signals_test.go).
func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		// The child is the command: no warning about this variable.
		os.Unsetenv(mainEnv)
		Main(plugins.Builtin()...) // exits
	}
	goleak.VerifyTestMain(m)
}
