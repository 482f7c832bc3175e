package config

import (
	"encoding/json"
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

// jsonTagged is a plugin configuration written for encoding/json.
type jsonTagged struct {
	URL    string `json:"url"`
	APIKey string `json:"api_key,omitempty"`
	Skip   string `json:"-"`
	Plain  int
}

func TestPluginTables(t *testing.T) {
	doc := "backend = \"console\"\n[plugins.j]\nurl = \"https://x\"\napi_key = \"k\"\nplain = 2\nskip = \"no\"\n"
	cfg, err := Parse("bot.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	tables := cfg.PluginTables()
	tbl, ok := tables["j"].(PluginTable)
	if !ok || len(tables) != 1 {
		t.Fatalf("PluginTables() = %#v, want one PluginTable", tables)
	}

	var got jsonTagged
	err = tbl.Decode(&got)
	if want := "bot.toml:6: plugins.j.skip: unknown key"; err == nil || err.Error() != want {
		t.Errorf("Decode = %v, want %s", err, want)
	}
	if diff := cmp.Diff(jsonTagged{URL: "https://x", APIKey: "k", Plain: 2}, got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}

	b, err := json.Marshal(tables)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"j":{"api_key":"k","plain":2,"skip":"no","url":"https://x"}}`; string(b) != want {
		t.Errorf("json.Marshal(PluginTables()) = %s, want %s", b, want)
	}
}

func TestPluginConfigAnyIsACopy(t *testing.T) {
	cfg, err := Parse("bot.toml", []byte("backend = \"console\"\n[plugins.p]\nx = {a = [1]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ X any }
	if err := cfg.PluginConfig("p", &v); err != nil {
		t.Fatal(err)
	}
	v.X.(map[string]any)["a"].([]any)[0] = "changed"
	var again struct{ X any }
	if err := cfg.PluginConfig("p", &again); err != nil {
		t.Fatal(err)
	}
	if got := again.X.(map[string]any)["a"].([]any)[0]; got != int64(1) {
		t.Errorf("second decode sees %v, want 1: the first decode shared the table", got)
	}
}

func TestUnknownPlugins(t *testing.T) {
	doc := `backend = "console"

[plugins.echo]
greeting = "hi"

[plugins.eho]
greeting = "hi"

[plugins.frobnicate]
x = 1
`
	cfg, err := Parse("bot.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range cfg.UnknownPlugins([]string{"help", "echo"}) {
		got = append(got, e.Error())
	}
	want := []string{
		"bot.toml:6: plugins.eho: no plugin eho in this bot; did you mean [plugins.echo]?",
		"bot.toml:9: plugins.frobnicate: no plugin frobnicate in this bot (its plugins: echo, help)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnknownPlugins() (-want +got):\n%s", diff)
	}
	if errs := cfg.UnknownPlugins([]string{"echo", "eho", "frobnicate"}); errs != nil {
		t.Errorf("UnknownPlugins(all known) = %v, want nil", errs)
	}
}
