package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type echoConfig struct {
	Greeting string        `toml:"greeting"`
	Repeat   int           `toml:"repeat"`
	Every    time.Duration `toml:"every"`
	Rooms    []string      `toml:"rooms"`
	APIKey   Secret        `toml:"api_key"`
	Limits   map[string]int
	Nested   struct {
		On bool `toml:"on"`
	} `toml:"nested"`
}

func TestPluginConfig(t *testing.T) {
	doc := minimal + `
[plugins.echo]
greeting = "hi"
every = "5m"
rooms = ["~ops"]
api_key = "k"
limits = { a = 1 }
nested.on = true

[plugins.broken]
greting = "hi"
repeat = "twice"
rooms = ["~ops", 3]
`
	cfg, err := Parse("bot.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"broken", "echo"}, cfg.Plugins()); diff != "" {
		t.Errorf("Plugins() (-want +got):\n%s", diff)
	}

	got := echoConfig{Repeat: 2} // a default the table does not override
	if err := cfg.PluginConfig("echo", &got); err != nil {
		t.Fatalf("PluginConfig(echo) = %v", err)
	}
	want := echoConfig{Greeting: "hi", Repeat: 2, Every: 5 * time.Minute, Rooms: []string{"~ops"},
		APIKey: NewSecret("k"), Limits: map[string]int{"a": 1}}
	want.Nested.On = true
	if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
		t.Errorf("PluginConfig(echo) (-want +got):\n%s", diff)
	}

	var broken echoConfig
	err = cfg.PluginConfig("broken", &broken)
	wantErr := "bot.toml:16: plugins.broken.greting: unknown key (did you mean greeting?)\n" +
		"bot.toml:17: plugins.broken.repeat: want an integer, got a string (\"twice\")\n" +
		"bot.toml:18: plugins.broken.rooms[1]: want a string, got an integer (3)"
	if err == nil || err.Error() != wantErr {
		t.Errorf("PluginConfig(broken) = %v, want\n%s", err, wantErr)
	}

	untouched := echoConfig{Greeting: "default"}
	if err := cfg.PluginConfig("absent", &untouched); err != nil || untouched.Greeting != "default" {
		t.Errorf("PluginConfig(absent) = %v, changed config to %+v", err, untouched)
	}
	if err := cfg.PluginConfig("echo", got); err == nil {
		t.Errorf("PluginConfig(echo, non-pointer) = nil, want an error")
	}
}

// TestDecodeKinds covers the Go types a plugin configuration may use.
func TestDecodeKinds(t *testing.T) {
	type all struct {
		I8    int8
		U     uint
		F     float64
		FI    float32
		Arr   [2]string
		Any   any
		Ptr   *int
		When  time.Time
		Embed struct{ X int }
		Ch    chan int
		MapIK map[int]int
	}
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"ok", "i8 = 127\nu = 1\nf = 1.5\nfi = 2\narr = [\"a\", \"b\"]\nany = [1, \"x\"]\nptr = 3\nwhen = 2024-01-02T03:04:05Z\n", ""},
		{"int8 overflow", "i8 = 128\n", "bot.toml:3: plugins.p.i8: 128 does not fit in int8"},
		{"negative uint", "u = -1\n", "bot.toml:3: plugins.p.u: -1 does not fit in uint"},
		{"array length", "arr = [\"a\"]\n", "bot.toml:3: plugins.p.arr: want an array of 2 elements, got 1"},
		{"local date for time", "when = 2024-01-02\n", "bot.toml:3: plugins.p.when: want a date-time with offset, got a local date"},
		{"float for string", "f = \"x\"\n", "bot.toml:3: plugins.p.f: want a number, got a string (\"x\")"},
		{"unsupported type", "ch = 1\nmapik = {}\n", "bot.toml:3: plugins.p.ch: cannot decode into Go type chan int\n" +
			"bot.toml:4: plugins.p.mapik: cannot decode into Go type map[int]int"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("bot.toml", []byte("backend = \"console\"\n[plugins.p]\n"+tc.doc), nil)
			if err == nil {
				var v all
				err = cfg.PluginConfig("p", &v)
			} else {
				t.Fatalf("Parse = %v", err)
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("PluginConfig(%q) error = %q, want %q", tc.doc, got, tc.wantErr)
			}
		})
	}
}
