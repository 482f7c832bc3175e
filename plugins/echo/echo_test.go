package echo_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins/echo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEcho(t *testing.T) {
	t.Parallel()
	b := bottest.New(t, echo.Plugin{})
	tests := []struct {
		name, in string
		want     []string
	}{
		{"text", "!echo hello  *world*", []string{"hello  *world*"}},
		{"quotes kept raw", `!echo "a b"`, []string{`"a b"`}},
		{"empty", "!echo", []string{"`!echo`: nothing to echo.\nUsage: `!echo <text>`"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, bottest.Texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
