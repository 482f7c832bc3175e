package matterbot

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarnUnknownEnv(t *testing.T) {
	t.Setenv("MATTERBOT_MATTERMOST_TOKN", "not-shown")
	missing := filepath.Join(t.TempDir(), "none.toml")
	const warning = "matterbot: warning: $MATTERBOT_MATTERMOST_TOKN: not a matterbot variable, ignored; did you mean MATTERBOT_MATTERMOST_TOKEN?\n"
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{name: "run", args: []string{"run", "-c", missing}, want: true},
		{name: "console", args: []string{"console"}, want: true},
		{name: "version", args: []string{"version"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			run(context.Background(), tc.args, &out, &errOut)
			if got := strings.HasPrefix(errOut.String(), warning); got != tc.want {
				t.Errorf("run(%q) stderr = %q; starts with the warning: %v, want %v", tc.args, errOut.String(), got, tc.want)
			}
			if strings.Contains(errOut.String(), "not-shown") {
				t.Errorf("run(%q) stderr shows the variable's value: %q", tc.args, errOut.String())
			}
		})
	}
}
