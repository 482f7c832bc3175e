package matterbot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/storage/bolt"
)

// newStore writes a store holding karma/alice = value and closes it.
func newStore(t *testing.T, path, value string) {
	t.Helper()
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store("karma").Set(t.Context(), "alice", []byte(value)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// karmaOf reads karma/alice from the store at path.
func karmaOf(t *testing.T, path string) string {
	t.Helper()
	s, err := bolt.Open(path, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.Close()
	v, err := s.Store("karma").Get(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "matterbot.db")
	newStore(t, db, "3")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(out, []byte("last week's backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"backup", db, out}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup = %d, stderr %q", code, stderr.String())
	}
	if got := karmaOf(t, out); got != "3" {
		t.Errorf("backup holds karma %q, want 3", got)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if !strings.HasPrefix(stdout.String(), "backed up "+db+" to "+out+" (") {
		t.Errorf("stdout = %q", stdout.String())
	}
	if after, err := os.ReadFile(db); err != nil || !bytes.Equal(before, after) {
		t.Errorf("backup changed the store (%v)", err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %q", tmps)
	}

	// To standard output, for a pipe.
	stdout.Reset()
	if code := run(t.Context(), []string{"backup", db, "-"}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup - = %d, stderr %q", code, stderr.String())
	}
	piped := filepath.Join(dir, "piped.db")
	if err := os.WriteFile(piped, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := karmaOf(t, piped); got != "3" {
		t.Errorf("piped backup holds karma %q, want 3", got)
	}
}

func TestBackupCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "matterbot.db")
	newStore(t, db, "3")
	missing := filepath.Join(dir, "missing.db")
	out := filepath.Join(dir, "backup.db")

	tests := []struct {
		name    string
		args    []string
		hold    bool // a bot holds the store
		wantErr string
	}{
		{name: "running bot", args: []string{db, out}, hold: true,
			wantErr: "matterbot: store " + db + " is in use by a running bot: stop it (systemctl stop matterbot, docker stop ...), back up, start it again\n"},
		{name: "missing store", args: []string{missing, out},
			wantErr: "matterbot: store " + missing + " not found: name the [storage] path of the configuration\n"},
		{name: "onto the store", args: []string{db, db},
			wantErr: "matterbot: " + db + " is the store itself: name another file\n"},
		{name: "into a directory", args: []string{db, dir},
			wantErr: "matterbot: " + dir + " is a directory: name the file to write, such as " + db + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hold {
				s, err := bolt.Open(db, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
			}
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append([]string{"backup"}, tc.args...), &stdout, &stderr)
			if code != 1 || stderr.String() != tc.wantErr {
				t.Errorf("backup %q = %d, stderr %q; want 1, %q", tc.args, code, stderr.String(), tc.wantErr)
			}
			for _, p := range []string{out, missing} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s exists after a refused backup", p)
				}
			}
			if tc.hold {
				return
			}
			if got := karmaOf(t, db); got != "3" {
				t.Errorf("store holds karma %q after a refused backup, want 3", got)
			}
		})
	}
}
