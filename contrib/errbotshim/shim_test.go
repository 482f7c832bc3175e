package errbotshim_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that the tests leak no goroutine (os/exec starts some).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// python3 returns the path of python3, or skips the test saying why.
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Errbot shim's Python tests are skipped " +
			"(Debian: apt-get install -y python3)")
	}
	return p
}

// touchSources reads every file of the shim, so that go test's cache
// knows them: a change to a .py file runs the Python tests again.
func touchSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "__pycache__" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPython runs the shim's unit tests (tests/test_*.py) with unittest:
// the example plugins under the runtime, and the runner as a child
// process speaking the protocol.
func TestPython(t *testing.T) {
	py := python3(t)
	touchSources(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-m", "unittest", "discover", "-s", "tests", "-t", "tests", "-v")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
}
