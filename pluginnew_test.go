package matterbot

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginNew writes a plugin into a new module that uses this checkout
// of matterbot, and runs the go command on it: the skeleton must build,
// vet clean and pass its own test as written.
func TestPluginNew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command on a new module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := "module example.com/ourbot\n\ngo 1.26.0\n\nrequire github.com/matterbot/matterbot v0.0.0\n\nreplace github.com/matterbot/matterbot => " + root + "\n"
	writeFile(t, filepath.Join(mod, "go.mod"), gomod)
	writeFile(t, filepath.Join(mod, "go.sum"), string(sum))
	if err := os.Mkdir(filepath.Join(mod, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	args := []string{"plugin", "new", "greet", "--dir", filepath.Join(mod, "plugins")}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("run(%q) = %d; stderr:\n%s", args, code, errOut.String())
	}
	for _, want := range []string{"wrote ./plugins/greet/greet.go", `importing "example.com/ourbot/plugins/greet"`, "go test ./plugins/greet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The module's dependencies are in the module cache already (this
	// test was built with them): the go command needs no network.
	for _, goArgs := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command(gobin, goArgs...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the new module: %v\n%s", strings.Join(goArgs, " "), err, b)
		}
	}

	// A second time: the plugin exists, and nothing is overwritten.
	errOut.Reset()
	if code := run(context.Background(), args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "already exists") {
		t.Errorf("second plugin new = %d, stderr %q; want 1 and already exists", code, errOut.String())
	}
}

func TestPluginNewErrors(t *testing.T) {
	noModule := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "bad name", args: []string{"plugin", "new", "Greet-Me", "--dir", noModule}, wantErr: `plugin name "Greet-Me": use lowercase letters and digits`},
		{name: "no module", args: []string{"plugin", "new", "greet", "--dir", noModule}, wantErr: "no go.mod in " + noModule + " or above"},
		{name: "keyword", args: []string{"plugin", "new", "map", "--dir", noModule}, wantErr: `plugin name "map": a Go keyword`},
		{name: "import of the test", args: []string{"plugin", "new", "testing", "--dir", noModule}, wantErr: `plugin name "testing": a Go keyword or a name the plugin's test uses`},
		{name: "built-in plugin", args: []string{"plugin", "new", "echo", "--dir", noModule}, wantErr: `plugin name "echo": this bot has a plugin of that name already`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("run(%q) = %d, stderr %q; want 1 and %q", tc.args, code, errOut.String(), tc.wantErr)
			}
			if entries, _ := os.ReadDir(noModule); len(entries) != 0 {
				t.Errorf("run(%q) created %s", tc.args, entries[0].Name())
			}
		})
	}
}

func TestModulePathOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"module example.com/ourbot\n\ngo 1.26\n", "example.com/ourbot"},
		{"// a comment\nmodule \"example.com/quoted\" // why\n", "example.com/quoted"},
		{"go 1.26\n", ""},
		{"modules x\n", ""},
	}
	for _, tc := range tests {
		if got := modulePathOf([]byte(tc.in)); got != tc.want {
			t.Errorf("modulePathOf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
