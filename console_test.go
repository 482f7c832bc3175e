package matterbot

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConsole(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "bot.toml")
	if err := os.WriteFile(conf, []byte("backend = \"console\"\nprefix = \".\"\nadmins = [\"@alice\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prefixed := filepath.Join(dir, "prefixed.toml")
	if err := os.WriteFile(prefixed, []byte("backend = \"console\"\ngroupchat_nick_prefixed = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Exec plugins: one that loads, one whose manifest is broken.
	for name, content := range map[string]string{
		"plugins/hi/plugin.toml":     "protocol = 1\nname = \"hi\"\nversion = \"1\"\nmode = \"oneshot\"\nexec = [\"./hi.sh\"]\n[[commands]]\nname = \"hi\"\nhelp = \"say hi\"\n",
		"plugins/hi/hi.sh":           "#!/bin/sh\necho '{\"type\":\"text\",\"text\":\"hi from sh\"}'\n",
		"plugins/broken/plugin.toml": "protocol = 1\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	execConf := filepath.Join(dir, "exec.toml")
	if err := os.WriteFile(execConf, []byte("backend = \"console\"\n[exec]\ndirs = [\"plugins\"]\nwatch = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("prefix = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cmd     consoleCmd
		input   string
		want    []string // in order
		wantErr string
	}{
		{
			name:  "built-in plugins",
			input: "!help\n!echo hi\n!whoami\n/as @bob\n!whoami\n!nope\n",
			want: []string{
				"You are @you (admin) in ~town-square", "`!echo <text>` — repeat the text", "ops-bot › ~town-square: hi",
				"user       @you", "admin      yes", "You are now @bob.", "user       @bob", "admin      no",
				`Command "nope" not found.`,
			},
		},
		{
			name:  "admin commands for the first user only",
			input: "!plugin list\n/as @bob\n!plugin list\n",
			want:  []string{"echo", "active", "`!plugin list`: only bot admins may run this command."},
		},
		{
			name:  "flags",
			cmd:   consoleCmd{As: "@Carol", Room: "~eng/ops", Prefix: "?"},
			input: "?echo hi\n",
			want:  []string{"You are @carol (admin) in ~eng/ops", "ops-bot › ~eng/ops: hi"},
		},
		{
			name:  "config file",
			cmd:   consoleCmd{Config: conf},
			input: ".whoami\n/as @alice\n.whoami\n",
			want:  []string{"user       @you", "admin      yes", "user       @alice", "admin      yes"},
		},
		{
			name:  "engine options of the config file",
			cmd:   consoleCmd{Config: prefixed},
			input: "!echo hi\n",
			want:  []string{"ops-bot › ~town-square: @you: hi"},
		},
		{
			name:  "exec plugins",
			cmd:   consoleCmd{Config: execConf, Log: filepath.Join(dir, "exec.log")},
			input: "!help hi\n!hi\n!plugin reload hi\n",
			want:  []string{"say hi", "ops-bot › ~town-square: hi from sh", "Reloaded hi: version 1 (was 1)."},
		},
		{
			name:  "storage file",
			cmd:   consoleCmd{Storage: filepath.Join(dir, "bot.db")},
			input: "!echo kept\n",
			want:  []string{"ops-bot › ~town-square: kept"},
		},
		{name: "bad storage", cmd: consoleCmd{Storage: dir}, wantErr: dir},
		{name: "bad user", cmd: consoleCmd{As: "~ops"}, wantErr: `bad user "~ops"`},
		{name: "bad room", cmd: consoleCmd{Room: "@bob"}, wantErr: `bad room "@bob"`},
		{name: "bad config", cmd: consoleCmd{Config: bad}, wantErr: "bad.toml:1: prefix"},
		{name: "missing config", cmd: consoleCmd{Config: filepath.Join(dir, "none.toml")}, wantErr: "none.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cmd
			if c.As == "" {
				c.As = "@you"
			}
			if c.Room == "" {
				c.Room = "~town-square"
			}
			c.History = "-"
			var out, errOut bytes.Buffer
			e := testEnv(context.Background(), &out, &errOut)
			e.stdin = strings.NewReader(tc.input)
			err := c.Run(e)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run = %v, want nil (output %s)", err, out.String())
			}
			got := out.String()
			for _, w := range tc.want {
				i := strings.Index(got, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order); output:\n%s", w, out.String())
				}
				got = got[i+len(w):]
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "exec.log")); !strings.Contains(string(b), "plugins/broken/plugin.toml: name: missing") {
		t.Errorf("the log does not name the broken exec plugin:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "bot.db")); err != nil {
		t.Errorf("--storage did not make its file: %v", err)
	}
}

// The console is reached from the command line, and a bad flag value is a
// failure with the problem named.
func TestRunConsoleFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"console", "--as", "~ops"}, &out, &errOut); code != 1 {
		t.Errorf("run(console --as ~ops) = %d, want 1 (stderr %q)", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `bad user "~ops"`) {
		t.Errorf("stderr = %q, want it to name the bad user", errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"console", "--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "--as=@USER") {
		t.Errorf("run(console --help) = %d, %q; want 0 and the flags", code, out.String())
	}
}
