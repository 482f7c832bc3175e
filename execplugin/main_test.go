package execplugin_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// goPlugin is the test plugin of testdata/plugin.go, built once by
// TestMain.
var goPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "execplugin-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goPlugin = filepath.Join(dir, "plugin")
	cmd := exec.Command("go", "build", "-o", goPlugin, "./testdata/plugin.go")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testdata/plugin.go:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
