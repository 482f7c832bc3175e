package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandPath(t *testing.T) {
	env := envOf(map[string]string{
		"CREDENTIALS_DIRECTORY": "/run/credentials/matterbot.service",
		"STATE_DIRECTORY":       "/var/lib/matterbot",
		"A1":                    "x",
		"EMPTY":                 "",
	})
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: ""},
		{in: "/etc/matterbot/token", want: "/etc/matterbot/token"},
		{in: "${CREDENTIALS_DIRECTORY}/token", want: "/run/credentials/matterbot.service/token"},
		{in: "$STATE_DIRECTORY/matterbot.db", want: "/var/lib/matterbot/matterbot.db"},
		{in: "$A1$A1-${A1}", want: "xx-x"},
		{in: "/pa$$word", want: "/pa$word"},
		{in: "$$A1", want: "$A1"},
		{in: "$CREDENTIALS_DIRECTORY", want: "/run/credentials/matterbot.service"},
		{in: "${NOPE}/token", wantErr: "$NOPE is not set"},
		{in: "$EMPTY/token", wantErr: "$EMPTY is not set"},
		{in: "${CREDENTIALS_DIRECTORY", wantErr: `"${CREDENTIALS_DIRECTORY": ${ without a closing }`},
		{in: "${}/x", wantErr: `${}: "" is not a variable name`},
		{in: "${1A}/x", wantErr: `${1A}: "1A" is not a variable name`},
		{in: "a$/b", wantErr: "a $ not followed by a variable name (write $$ for a dollar sign)"},
		{in: "a$", wantErr: "a $ not followed by a variable name (write $$ for a dollar sign)"},
	}
	for _, tc := range tests {
		got, err := expandPath(tc.in, env)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("expandPath(%q) = %q, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expandPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// Outside systemd, the credential directory's absence is explained.
	_, err := expandPath("${CREDENTIALS_DIRECTORY}/token", nil)
	if want := "$CREDENTIALS_DIRECTORY is not set (systemd sets it for a service with LoadCredential=)"; err == nil || err.Error() != want {
		t.Errorf("expandPath with no environment: error %v, want %q", err, want)
	}
}

// TestPathsExpand loads a configuration as systemd runs it: the token from
// a credential, the store in the state directory.
func TestPathsExpand(t *testing.T) {
	creds, state := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "token"), []byte("cred-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "matterbot.toml")
	doc := "[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken_file = \"${CREDENTIALS_DIRECTORY}/token\"\n" +
		"[storage]\npath = \"$STATE_DIRECTORY/bot.db\"\n"
	env := map[string]string{"CREDENTIALS_DIRECTORY": creds, "STATE_DIRECTORY": state}

	cfg, err := Parse(conf, []byte(doc), envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Mattermost.Token.Reveal(); got != "cred-token" {
		t.Errorf("Token = %q, want %q", got, "cred-token")
	}
	if want := filepath.Join(state, "bot.db"); cfg.Storage.Path != want {
		t.Errorf("Storage.Path = %q, want %q", cfg.Storage.Path, want)
	}

	// The unit's way: the variable names the file, and may use a variable.
	env["MATTERBOT_MATTERMOST_TOKEN_FILE"] = "${CREDENTIALS_DIRECTORY}/token"
	cfg, err = Parse(conf, []byte("[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken = \"from-file\"\n"), envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Mattermost.Token.Reveal(); got != "cred-token" {
		t.Errorf("with MATTERBOT_MATTERMOST_TOKEN_FILE: Token = %q, want %q", got, "cred-token")
	}

	// Unset variables: one problem per key, at its line, and the token is
	// not also reported missing.
	_, err = Parse(conf, []byte(doc), nil)
	want := conf + ":4: mattermost.token_file: $CREDENTIALS_DIRECTORY is not set (systemd sets it for a service with LoadCredential=)\n" +
		conf + ":6: storage.path: $STATE_DIRECTORY is not set"
	if err == nil || err.Error() != want {
		t.Errorf("Parse with no environment: error\n%v\nwant\n%s", err, want)
	}
}

func FuzzExpandPath(f *testing.F) {
	for _, s := range []string{"${A}/b", "$A$$B", "${", "$", "a$b}", "${A}}${B"} {
		f.Add(s)
	}
	env := envOf(map[string]string{"A": "/a", "B": "b"})
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expandPath(s, env)
		if err != nil {
			return
		}
		if !strings.Contains(s, "$") && got != s {
			t.Errorf("expandPath(%q) = %q, want it unchanged", s, got)
		}
		// Every $ in the result comes from a $$ in the input.
		if n, m := strings.Count(got, "$"), strings.Count(s, "$$"); n > m {
			t.Errorf("expandPath(%q) = %q: %d dollar signs, from %d $$", s, got, n, m)
		}
	})
}

func TestExecPaths(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "matterbot.toml")
	doc := "backend = \"console\"\n[exec]\ndirs = [\"plugins\", \"/abs\", \"$PLUGINS/x\"]\nwork_dir = \"run\"\nerrbot_runner = [\"python3\", \"shim\"]\nallow_token = [\"deploy\"]\n"
	cfg, err := Parse(conf, []byte(doc), envOf(map[string]string{"PLUGINS": "/p"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Exec{
		Dirs: []string{filepath.Join(dir, "plugins"), "/abs", "/p/x"}, WorkDir: filepath.Join(dir, "run"),
		AllowToken: []string{"deploy"}, Watch: true, ErrbotRunner: []string{"python3", "shim"},
	}
	if diff := cmp.Diff(want, cfg.Exec); diff != "" {
		t.Errorf("Exec (-want +got):\n%s", diff)
	}
	_, err = Parse(conf, []byte("backend = \"console\"\n[exec]\ndirs = [\"\"]\nwatch = \"yes\"\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "exec.dirs[0]") || !strings.Contains(err.Error(), "exec.watch") {
		t.Errorf("bad [exec]: %v", err)
	}
}
