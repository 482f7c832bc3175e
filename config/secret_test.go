package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRedacts(t *testing.T) {
	s := NewSecret("hunter2")
	for _, format := range []string{"%v", "%s", "%+v", "%#v", "%q"} {
		if got := fmt.Sprintf(format, s); strings.Contains(got, "hunter2") {
			t.Errorf("Sprintf(%q, secret) = %q, leaks the value", format, got)
		}
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "token", s)
	if strings.Contains(logged.String(), "hunter2") || !strings.Contains(logged.String(), redacted) {
		t.Errorf("slog output = %q, want it redacted", logged.String())
	}
	cfg, err := Parse("bot.toml", []byte(strings.Replace(minimal, `"tok"`, `"hunter2"`, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	dump, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dump, []byte("hunter2")) {
		t.Errorf("json.Marshal(cfg) = %s, leaks the token", dump)
	}
	if got := fmt.Sprintf("%+v", cfg); strings.Contains(got, "hunter2") {
		t.Errorf("Sprintf(%%+v, cfg) = %s, leaks the token", got)
	}
	if got := cfg.Mattermost.Token.Reveal(); got != "hunter2" {
		t.Errorf("Token.Reveal() = %q, want %q", got, "hunter2")
	}
	if got := (Secret{}).String(); got != "" {
		t.Errorf("Secret{}.String() = %q, want empty", got)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token", "tok-from-file\n")
	write("password", "pw-from-file\r\n")
	write("empty", "\n")
	conf := filepath.Join(dir, "matterbot.toml")

	tests := []struct {
		name     string
		doc      string
		token    string
		password string
		wantErr  string
	}{
		{
			name:  "relative token_file",
			doc:   "[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken_file = \"token\"\n",
			token: "tok-from-file",
		},
		{
			name:     "absolute password_file",
			doc:      "[mattermost]\nserver = \"s\"\nteam = \"t\"\nlogin = \"bot\"\npassword_file = \"" + filepath.Join(dir, "password") + "\"\n",
			password: "pw-from-file",
		},
		{
			name:    "missing file",
			doc:     "[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken_file = \"nope\"\n",
			wantErr: conf + ":4: mattermost.token_file: open " + filepath.Join(dir, "nope") + ": no such file or directory",
		},
		{
			name:    "empty file",
			doc:     "[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken_file = \"empty\"\n",
			wantErr: conf + ":4: mattermost.token_file: file " + filepath.Join(dir, "empty") + " is empty",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(conf, []byte(tc.doc), nil)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Parse error = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Mattermost.Token.Reveal(); got != tc.token {
				t.Errorf("Token = %q, want %q", got, tc.token)
			}
			if got := cfg.Mattermost.Password.Reveal(); got != tc.password {
				t.Errorf("Password = %q, want %q", got, tc.password)
			}
		})
	}

	_, err := Parse(conf, []byte("[mattermost]\nserver = \"s\"\nteam = \"t\"\ntoken_file = \"nope\"\n"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Parse with a missing token_file: errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "matterbot.toml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != path || cfg.Storage.Path != filepath.Join(dir, "matterbot.db") {
		t.Errorf("Load(%q): File = %q, Storage.Path = %q", path, cfg.File, cfg.Storage.Path)
	}
	if got, want := cfg.Mattermost.URL(), "https://chat.example.com:8065"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}

	missing := filepath.Join(dir, "missing.toml")
	if _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(%q) = %v, want a not-exist error naming the file", missing, err)
	}
}
