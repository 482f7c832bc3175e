package matterbot

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			script := completion(t, shell)
			for _, want := range []string{"run", "console", "init", "completion", "fake-server", "config", "log-level", "warn"} {
				if !strings.Contains(script, want) {
					t.Errorf("%s script does not mention %q:\n%s", shell, want, script)
				}
			}
			// The shell, if installed, parses it.
			if _, err := exec.LookPath(shell); err != nil {
				t.Logf("%s not installed: syntax not checked", shell)
				return
			}
			file := filepath.Join(t.TempDir(), "script")
			if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(shell, "-n", file).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"completion", "tcsh"}, &out, &errOut); code != 2 {
		t.Errorf("completion tcsh = %d, want 2; stderr %q", code, errOut.String())
	}
}

// TestBashCompletion runs the bash script's function on typed words.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	file := filepath.Join(t.TempDir(), "matterbot.bash")
	if err := os.WriteFile(file, []byte(completion(t, "bash")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line   string // the words typed, the last one being completed
		want   string
		subset bool // the answer holds want's words, and others
	}{
		{line: "matterbot ''", want: "console completion init run", subset: true},
		{line: "matterbot ru", want: "run"},
		{line: "matterbot run -", want: "--config -c --help -h --version"},
		{line: "matterbot run -c ''", want: ""}, // file names, the shell's default
		{line: "matterbot fake-server --log-level w", want: "warn"},
		{line: "matterbot completion ''", want: "bash zsh fish"},
		{line: "matterbot plugin ''", want: "new"},
		{line: "matterbot --help init --t", want: "--team --token"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			prog := `source "$1"; eval "COMP_WORDS=($2)"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _matterbot; echo "${COMPREPLY[*]}"`
			out, err := exec.Command("bash", "-c", prog, "bash", file, tc.line).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.TrimSpace(string(out))
			if tc.subset {
				words := strings.Fields(got)
				for _, w := range strings.Fields(tc.want) {
					if !slices.Contains(words, w) {
						t.Errorf("completing %s = %q, want it to hold %q", tc.line, got, w)
					}
				}
			} else if got != tc.want {
				t.Errorf("completing %s = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

// completion returns the script of matterbot completion shell.
func completion(t *testing.T, shell string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"completion", shell}, &out, &errOut); code != 0 {
		t.Fatalf("completion %s = %d; stderr %q", shell, code, errOut.String())
	}
	return out.String()
}
