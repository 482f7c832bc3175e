package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnknownEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		also    []string
		want    []string
	}{
		{name: "known and foreign", environ: []string{"MATTERBOT_MATTERMOST_TOKEN=x", "HOME=/root", "MATTERBOT_LOG_LEVEL=debug", "PATH"}},
		{name: "typo", environ: []string{"MATTERBOT_MATTERMOST_TOKN=secret-value"},
			want: []string{"$MATTERBOT_MATTERMOST_TOKN: not a matterbot variable, ignored; did you mean MATTERBOT_MATTERMOST_TOKEN?"}},
		{name: "case", environ: []string{"MATTERBOT_mattermost_server=chat"},
			want: []string{"$MATTERBOT_mattermost_server: not a matterbot variable, ignored; did you mean MATTERBOT_MATTERMOST_SERVER?"}},
		{name: "table left out", environ: []string{"MATTERBOT_TOKEN=x", "MATTERBOT_LEVEL=debug"},
			want: []string{
				"$MATTERBOT_LEVEL: not a matterbot variable, ignored; did you mean MATTERBOT_LOG_LEVEL?",
				"$MATTERBOT_TOKEN: not a matterbot variable, ignored; did you mean MATTERBOT_MATTERMOST_TOKEN?",
			}},
		{name: "nothing close", environ: []string{"MATTERBOT_FROBNICATE=1"},
			want: []string{"$MATTERBOT_FROBNICATE: not a matterbot variable, ignored"}},
		{name: "the program's own", environ: []string{"MATTERBOT_BENCH_TOKEN=x"}, also: []string{"MATTERBOT_BENCH_TOKEN"}},
		{name: "plugin tables have none", environ: []string{"MATTERBOT_PLUGINS_ECHO_GREETING=hi"},
			want: []string{"$MATTERBOT_PLUGINS_ECHO_GREETING: not a matterbot variable, ignored"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := UnknownEnv(tc.environ, tc.also...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("UnknownEnv(%q) (-want +got):\n%s", tc.environ, diff)
			}
		})
	}
}
