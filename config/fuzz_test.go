package config

import (
	"errors"
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
