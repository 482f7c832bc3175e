package config

import (
	"bytes"

	"errors"
	"github.com/pelletier/go-toml/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that any input gives a configuration or an ErrorList,
// never a panic, and that every problem names its key or is a syntax error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Template()))
	f.Add([]byte(minimal))
	f.Add([]byte("[[access.rule]]\nmatch = \"x\"\n[[access.rule]]\nallowusers = [\"@a\", [1]]\n[plugins.p]\na.b = {c = [1, {d = 2}]}\n"))
	f.Add([]byte("a = [[1], []]\n[x.y]\n[[x.y.z]]\nq = 1\n"))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data, nil)
		if err == nil {
			if cfg == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			for _, name := range cfg.Plugins() {
				var v struct {
					A string
					B []int
					C map[string]any
				}
				_ = cfg.PluginConfig(name, &v) // must not panic
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("Parse error %T %v, want a non-empty ErrorList", err, err)
		}
	})
}

// FuzzPositions checks the position index against the decoded document:
// every key and array element go-toml decodes has a line in the file.
func FuzzPositions(f *testing.F) {
	f.Add([]byte(Template()))
	f.Add([]byte("a.b.c = 1\n[t]\nx = [\n 1,\n {y = 2},\n [3]\n]\n[[arr]]\nk = 1\n[[arr]]\n[arr.sub]\nq = 'z'\n[[arr.list]]\n"))
	f.Add([]byte("\"quoted.key\" = 1\n[\"a b\".c]\nd = {e.f = 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tree map[string]any
		if toml.Unmarshal(data, &tree) != nil {
			return
		}
		idx := positions(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		var walk func(path []string, v any)
		walk = func(path []string, v any) {
			if len(path) > 0 {
				o, ok := idx[pathKey(path)]
				if !ok || o.line < 1 || o.line > lines {
					t.Fatalf("no line for %s (got %+v) in\n%s", displayKey(path), o, data)
				}
			}
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					walk(sub(path, k), e)
				}
			case []any:
				for i, e := range x {
					walk(sub(path, index(i)), e)
				}
			}
		}
		walk(nil, tree)
	})
}
