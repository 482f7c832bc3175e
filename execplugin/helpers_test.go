package execplugin_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/matterbot/matterbot/execplugin"
)

// files writes a plugin directory: name → content; names ending in .sh,
// .py or without an extension are made executable.
func files(t testing.TB, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if ext := filepath.Ext(name); ext == ".sh" || ext == ".py" || ext == "" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// logBuffer is a log sink safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// options returns fast options logging to log.
func options(log *logBuffer) *execplugin.Options {
	return &execplugin.Options{
		Logger: log.logger(), KillGrace: 200 * time.Millisecond, RestartDelay: 50 * time.Millisecond,
		Debounce: 50 * time.Millisecond,
	}
}

// load loads the plugin in dir, failing the test if it does not load.
func load(t testing.TB, dir string, log *logBuffer) *execplugin.Plugin {
	t.Helper()
	pl, err := execplugin.New(dir, options(log))
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	return pl
}

// goManifest is a manifest for the Go test plugin.
func goManifest(mode, extra string) string {
	args := `"` + goPlugin + `"`
	if mode == "oneshot" {
		args += `, "oneshot"`
	}
	return "protocol = 1\nname = \"goplug\"\nversion = \"1\"\nmode = \"" + mode + "\"\nexec = [" + args + "]\n" + extra
}

// waitFor polls cond every millisecond for up to 10 seconds: for what
// happens in another process, which no channel reports.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
