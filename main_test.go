package matterbot

import (
	"bytes"
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/plugins"
)

// run runs the matterbot command as cmd/matterbot builds it (the
// built-in plugins) on args, with an empty standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &Command{Name: "matterbot", Plugins: plugins.Builtin(), Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr}
	return c.Run(ctx, args)
}

// testEnv is the env of a subcommand run by run, for tests that call a
// subcommand's Run directly.
func testEnv(ctx context.Context, stdout, stderr io.Writer) *env {
	return &env{ctx: ctx, name: "matterbot", version: Version(), plugins: plugins.Builtin(),
		stdin: strings.NewReader(""), stdout: stdout, stderr: stderr}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "version", args: []string{"version"}, wantCode: 0, wantOut: "matterbot " + Version() + "\n"},
		{name: "version flag", args: []string{"--version"}, wantCode: 0, wantOut: "matterbot " + Version() + "\n"},
		{name: "help", args: []string{"--help"}, wantCode: 0, wantOut: "Usage: matterbot"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: "unexpected argument frobnicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.wantCode {
				t.Errorf("run(%q) = %d, want %d (stderr %q)", tc.args, code, tc.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("run(%q) stdout = %q, want it to contain %q", tc.args, out.String(), tc.wantOut)
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tc.args, errOut.String(), tc.wantErr)
			}
		})
	}
}

func TestCommandVersion(t *testing.T) {
	var out bytes.Buffer
	c := &Command{Name: "ourbot", Version: "v9.9.9", Stdout: &out, Stderr: io.Discard}
	if code := c.Run(context.Background(), []string{"version"}); code != 0 || out.String() != "ourbot v9.9.9\n" {
		t.Errorf("Run(version) = %d, %q; want 0, %q", code, out.String(), "ourbot v9.9.9\n")
	}
}

func TestBuildVersion(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{name: "go run", bi: debug.BuildInfo{Main: debug.Module{Path: modulePath}}, want: "(devel)"},
		{
			name: "tagged",
			bi:   debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"}},
			want: "v1.2.3",
		},
		{
			name: "checkout",
			bi: debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}},
			want: "(devel) (rev 0123456789ab dirty)",
		},
		{
			name: "pseudo-version from VCS",
			bi: debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0-20261206204500-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}},
			want: "v0.0.0-20261206204500-0123456789ab+dirty",
		},
		{
			name: "custom bot",
			bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/ourbot", Version: "v0.1.0"},
				Deps: []*debug.Module{{Path: "golang.org/x/time", Version: "v0.16.0"}, {Path: modulePath, Version: "v0.4.0"}}},
			want: "v0.1.0 (matterbot v0.4.0)",
		},
		{
			name: "custom bot, matterbot replaced by a checkout",
			bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/ourbot"},
				Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0", Replace: &debug.Module{Path: "../matterbot"}}}},
			want: "(devel) (matterbot (replaced by ../matterbot))",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildVersion(&tc.bi); got != tc.want {
				t.Errorf("buildVersion() = %q, want %q", got, tc.want)
			}
		})
	}
}
