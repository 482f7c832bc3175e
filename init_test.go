package matterbot

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/config"
)

// noMattermostEnv unsets the variables that would fill the written file's
// blanks when it is loaded, so the test sees the file alone.
func noMattermostEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"SERVER", "TEAM", "TEAMS", "TOKEN", "TOKEN_FILE", "LOGIN", "PASSWORD", "PASSWORD_FILE", "SCHEME", "PORT"} {
		t.Setenv("MATTERBOT_MATTERMOST_"+v, "") // empty counts as unset
	}
}

func TestInit(t *testing.T) {
	noMattermostEnv(t)
	type mm struct {
		Server, Scheme, Team, Token, Login string
		Port                               int
	}
	tests := []struct {
		name     string
		args     []string
		want     mm
		wantOut  []string
		wantTodo bool // the file needs a value before it loads
	}{
		{
			name:    "flags fill everything",
			args:    []string{"--server", "chat.example.com", "--team", "ops", "--token", "tok-123"},
			want:    mm{Server: "chat.example.com", Scheme: "https", Port: 8065, Team: "ops", Token: "tok-123"},
			wantOut: []string{"wrote ", "next: matterbot check -c "},
		},
		{
			name: "server as a URL",
			args: []string{"--server", "https://chat.example.com/", "--team", "ops", "--token", "t"},
			want: mm{Server: "chat.example.com", Scheme: "https", Port: 443, Team: "ops", Token: "t"},
		},
		{
			name: "http URL with a port",
			args: []string{"--server", "http://127.0.0.1:8065", "--team", "ops", "--token", "t"},
			want: mm{Server: "127.0.0.1", Scheme: "http", Port: 8065, Team: "ops", Token: "t"},
		},
		{
			name: "host and port",
			args: []string{"--server", "chat.example.com:9000", "--team", "ops", "--token", "t"},
			want: mm{Server: "chat.example.com", Scheme: "https", Port: 9000, Team: "ops", Token: "t"},
		},
		{
			name: "quotes in values",
			args: []string{"--server", "chat", "--team", `o"p\s`, "--token", "t"},
			want: mm{Server: "chat", Scheme: "https", Port: 8065, Team: `o"p\s`, Token: "t"},
		},
		{
			name:     "no token",
			args:     []string{"--server", "chat", "--team", "ops"},
			want:     mm{Server: "chat", Scheme: "https", Port: 8065, Team: "ops"},
			wantOut:  []string{"still to fill in: mattermost.token, or MATTERBOT_MATTERMOST_TOKEN when running"},
			wantTodo: true,
		},
		{
			name:     "login",
			args:     []string{"--server", "chat", "--team", "ops", "--login", "ops-bot"},
			want:     mm{Server: "chat", Scheme: "https", Port: 8065, Team: "ops", Login: "ops-bot"},
			wantOut:  []string{"still to fill in: mattermost.password or password_file, or MATTERBOT_MATTERMOST_PASSWORD"},
			wantTodo: true,
		},
		{
			name:     "nothing",
			wantOut:  []string{"still to fill in: mattermost.server\n", "still to fill in: mattermost.team\n"},
			wantTodo: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bot.toml")
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"init", "-c", file}, tc.args...), &out, &errOut); code != 0 {
				t.Fatalf("init exit code = %d, want 0; stderr:\n%s", code, errOut.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("init stdout = %q, want it to contain %q", out.String(), w)
				}
			}
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("file mode = %v, want 0600: it may hold a token", perm)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(file)
			if tc.wantTodo {
				// Filling the blanks makes it load.
				if err == nil {
					t.Fatalf("the file loads with blanks to fill in:\n%s", data)
				}
				blanks := []string{`server = ""`, `server = "chat"`, `team = ""`, `team = "ops"`}
				if tc.want.Login == "" {
					blanks = append(blanks, `token = ""`, `token = "t"`)
					tc.want.Token = "t"
				} else {
					blanks = append(blanks, `# password = ""`, `password = "pw"`)
				}
				filled := strings.NewReplacer(blanks...).Replace(string(data))
				if tc.want.Server == "" {
					tc.want = mm{Server: "chat", Scheme: "https", Port: 8065, Team: "ops", Token: "t"}
				}
				if cfg, err = config.Parse(file, []byte(filled), nil); err != nil {
					t.Fatalf("the filled file does not load: %v\n%s", err, filled)
				}
			} else if err != nil {
				t.Fatalf("config.Load of the written file: %v\n%s", err, data)
			}
			m := cfg.Mattermost
			got := mm{Server: m.Server, Scheme: m.Scheme, Port: m.Port, Team: m.Team, Token: m.Token.Reveal(), Login: m.Login}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("written [mattermost] (-want +got):\n%s", diff)
			}
			// The rest is the commented template, unchanged.
			if !strings.Contains(string(data), "# Access rules (Errbot's ACCESS_CONTROLS).") || cfg.Prefix != "!" {
				t.Errorf("the written file is not the template:\n%s", data)
			}
			if cfg.Mattermost.Timeout != 30*time.Second {
				t.Errorf("timeout = %v, want the template's 30s", cfg.Mattermost.Timeout)
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "matterbot.toml")
	if err := os.WriteFile(existing, []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "existing file", args: []string{"-c", existing, "--server", "chat"},
			wantErr: "matterbot: " + existing + " already exists: init never overwrites a configuration; remove it, or name another file with -c FILE\n"},
		{name: "token and login", args: []string{"-c", filepath.Join(dir, "a.toml"), "--token", "t", "--login", "bob"},
			wantErr: "matterbot: give --token or --login, not both\n"},
		{name: "bad scheme", args: []string{"-c", filepath.Join(dir, "b.toml"), "--server", "ftp://chat"},
			wantErr: `matterbot: --server "ftp://chat": the scheme must be https or http` + "\n"},
		{name: "path", args: []string{"-c", filepath.Join(dir, "c.toml"), "--server", "https://chat/mattermost"},
			wantErr: `matterbot: --server "https://chat/mattermost": a server under a path is not supported; give the host` + "\n"},
		{name: "bad port", args: []string{"-c", filepath.Join(dir, "d.toml"), "--server", "chat:99999"},
			wantErr: `matterbot: --server "chat:99999": the port is not a number from 1 to 65535` + "\n"},
		{name: "no directory", args: []string{"-c", filepath.Join(dir, "nope", "e.toml")},
			wantErr: "matterbot: cannot create " + filepath.Join(dir, "nope", "e.toml") + ": no such file or directory\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"init"}, tc.args...), &out, &errOut)
			if code != 1 || errOut.String() != tc.wantErr {
				t.Errorf("init %q = %d, stderr %q; want 1, %q", tc.args, code, errOut.String(), tc.wantErr)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "# mine\n" {
		t.Errorf("init changed the existing file: %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("init wrote files after errors: %v", entries)
	}
}

func TestInitPrompts(t *testing.T) {
	noMattermostEnv(t)
	tests := []struct {
		name     string
		cmd      initCmd
		input    string
		want     []string // lines of the file
		asked    []string
		notAsked []string
	}{
		{
			name:  "everything asked",
			input: "https://chat.example.com\nops\ntok-9\n",
			want:  []string{`server = "chat.example.com"`, `port = 443`, `team = "ops"`, `token = "tok-9"`},
			asked: []string{"Mattermost server (host name or URL): ", "Team the bot works in: ", "Bot access token"},
		},
		{
			name:  "only what the flags did not give",
			cmd:   initCmd{Server: "chat", Token: "t"},
			input: "dev\n",
			want:  []string{`server = "chat"`, `team = "dev"`, `token = "t"`},
			asked: []string{"Team the bot works in: "},
		},
		{
			name:  "empty answers and end of input",
			input: "\n",
			want:  []string{`server = ""`, `team = ""`, `token = ""`},
		},
		{
			name:     "login asks no token",
			cmd:      initCmd{Server: "chat", Team: "ops", Login: "bob"},
			want:     []string{`login = "bob"`, `token = ""`},
			notAsked: []string{"Bot access token"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			e := testEnv(context.Background(), &out, &out)
			e.stdin = strings.NewReader(tc.input)
			c := tc.cmd
			c.Config = filepath.Join(t.TempDir(), "bot.toml")
			c.prompt = true
			if err := c.Run(e); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(c.Config)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("file lacks the line %q:\n%s", w, data)
				}
			}
			for _, q := range tc.asked {
				if !strings.Contains(out.String(), q) {
					t.Errorf("output = %q, want the question %q", out.String(), q)
				}
			}
			for _, q := range tc.notAsked {
				if strings.Contains(out.String(), q) {
					t.Errorf("output = %q, want no question %q", out.String(), q)
				}
			}
		})
	}

	// Standard input that is not a terminal: no questions.
	var out bytes.Buffer
	e := testEnv(context.Background(), &out, &out)
	e.stdin = strings.NewReader("chat\nops\ntok\n")
	c := initCmd{Config: filepath.Join(t.TempDir(), "bot.toml")}
	if err := c.Run(e); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Mattermost server") {
		t.Errorf("init asked with standard input not a terminal: %q", out.String())
	}
}

// TestInitInterrupted: Ctrl-C while init waits for an answer (the signal
// handler cancels the context) ends init at once, writing nothing, where
// it used to wait for the answer and the second Ctrl-C killed it, on a
// terminal with its echo still off.
func TestInitInterrupted(t *testing.T) {
	noMattermostEnv(t)
	in, typed := io.Pipe()
	defer typed.Close() // ends the read a terminal would leave blocked
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancelCause(context.Background())
	e := testEnv(ctx, out, out)
	e.stdin = in
	c := initCmd{Config: filepath.Join(t.TempDir(), "bot.toml"), prompt: true}
	done := make(chan error, 1)
	go func() { done <- c.Run(e) }()
	for !strings.Contains(out.String(), "Mattermost server") {
		select {
		case <-out.wrote:
		case err := <-done:
			t.Fatalf("init returned %v before asking; output %q", err, out.String())
		}
	}
	cancel(errSignal{os.Interrupt})
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second): // generous: it returns at once
		t.Fatal("init still waits for an answer after Ctrl-C")
	}
	want := "received interrupt: " + c.Config + " not written"
	if lines := errorLines(err); len(lines) != 1 || lines[0] != want {
		t.Errorf("init after Ctrl-C = %v, want %q", err, want)
	}
	if _, err := os.Stat(c.Config); err == nil {
		t.Errorf("init wrote %s after Ctrl-C", c.Config)
	}
}
