package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	base := minimal + `
[access.default]
allowusers = ["@alice"]

[[access.rule]]
match = "deploy"
admin_only = true

[plugins.deploy]
services = ["api"]

[plugins.echo]
`
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "same", doc: base, want: nil},
		{name: "engine keys", doc: "prefix = \"?\"\nadmins = [\"@bob\"]\ntyping_after = 0\n" + base,
			want: []string{"admins", "prefix", "typing_after"}},
		{name: "server and token", doc: `
[mattermost]
server = "chat2.example.com"
team = "ops"
token = "tok2"
` + base[len(minimal):],
			want: []string{"mattermost.server", "mattermost.token"}},
		{name: "access", doc: minimal + `
[access.default]
allowusers = ["@bob"]

[[access.rule]]
match = "deploy"

[plugins.deploy]
services = ["api"]

[plugins.echo]
`, want: []string{"access.default.allowusers", "access.rule"}},
		{name: "plugins", doc: minimal + `
[access.default]
allowusers = ["@alice"]

[[access.rule]]
match = "deploy"
admin_only = true

[plugins.deploy]
services = ["api", "web"]

[plugins."new.one"]
`, want: []string{`plugins."new.one"`, "plugins.deploy", "plugins.echo"}},
		{name: "log and http", doc: "[log]\nlevel = \"debug\"\nformat = \"json\"\n[http]\nlisten = \"\"\n" + base,
			want: []string{"http.listen", "log.format", "log.level"}},
	}
	a, err := Parse("a.toml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse("a.toml", []byte(tc.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, Diff(a, b)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, Diff(b, a)); diff != "" {
				t.Errorf("Diff the other way (-want +got):\n%s", diff)
			}
		})
	}
}
