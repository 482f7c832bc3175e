package bot

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "spaces only", in: "  \t\n ", want: nil},
		{name: "words", in: "deploy  api\tprod", want: []string{"deploy", "api", "prod"}},
		{name: "double quotes", in: `say "hello world" now`, want: []string{"say", "hello world", "now"}},
		{name: "single quotes literal", in: `'a \" b' c`, want: []string{`a \" b`, "c"}},
		{name: "escapes in double quotes", in: `"a \"b\" \\ \n"`, want: []string{`a "b" \ \n`}},
		{name: "backslash space", in: `a\ b c`, want: []string{"a b", "c"}},
		{name: "empty quoted word", in: `a "" b`, want: []string{"a", "", "b"}},
		{name: "adjacent quotes join", in: `x"y z"'w'`, want: []string{"xy zw"}},
		{name: "typographic quotes", in: "say “hello world” ‘a b’", want: []string{"say", "hello world", "a b"}},
		{name: "trailing backslash", in: `a\`, want: []string{"a"}},
		{name: "unicode", in: "déployer 日本 prod", want: []string{"déployer", "日本", "prod"}},
		{name: "unterminated double", in: `say "hello`, wantErr: `unterminated " quote`},
		{name: "unterminated single", in: `say 'hello`, wantErr: `unterminated ' quote`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Split(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Split(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// quote returns w quoted so that Split gives it back.
func quote(w string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"", "a b", `"a b" 'c d'`, `a\ b`, `"\"\\"`, "“x” ‘y’", `'`, `"`, "\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			return
		}
		// Quoting the words and splitting again gives the same words,
		// unless typographic quotes (which Split treats as quotes) are in
		// them.
		if strings.ContainsAny(s, "“”‘’") {
			return
		}
		var q []string
		for _, w := range words {
			q = append(q, quote(w))
		}
		again, err := Split(strings.Join(q, " "))
		if err != nil {
			t.Fatalf("Split(quoted %q) error = %v", words, err)
		}
		if !reflect.DeepEqual(again, words) && !(len(again) == 0 && len(words) == 0) {
			t.Fatalf("Split(quote(Split(%q))) = %q, want %q", s, again, words)
		}
	})
}

type deployArgs struct {
	Service string        `arg:"" help:"service to deploy"`
	Env     string        `arg:"" enum:"staging,prod" help:"target"`
	Force   bool          `short:"f" help:"skip the health checks"`
	Replica int           `default:"2"`
	Wait    time.Duration `help:"wait this long"`
	Tags    []string      `name:"tag"`
	DryRun  bool
	Ratio   float64
	Count   uint8
}

type restArgs struct {
	Who  string   `arg:""`
	Rest []string `arg:""`
}

type optArgs struct {
	Name  string `arg:"" optional:""`
	Level string `arg:"" default:"info"`
}

func TestArgParse(t *testing.T) {
	tests := []struct {
		name    string
		words   string
		want    any
		wantErr string
	}{
		{name: "positionals", words: "api prod", want: deployArgs{Service: "api", Env: "prod", Replica: 2}},
		{name: "flags", words: "api staging --force --replica 3 --wait=90s --tag a --tag=b --dry-run --ratio -0.5 --count 7",
			want: deployArgs{Service: "api", Env: "staging", Force: true, Replica: 3, Wait: 90 * time.Second, Tags: []string{"a", "b"}, DryRun: true, Ratio: -0.5, Count: 7}},
		{name: "short and flag first", words: "-f api prod", want: deployArgs{Service: "api", Env: "prod", Force: true, Replica: 2}},
		{name: "bool false", words: "api prod --force=false", want: deployArgs{Service: "api", Env: "prod", Replica: 2}},
		{name: "double dash", words: "-- -api prod", want: deployArgs{Service: "-api", Env: "prod", Replica: 2}},
		{name: "negative number positional", words: "-3 prod", want: deployArgs{Service: "-3", Env: "prod", Replica: 2}},
		{name: "missing", words: "api", wantErr: "missing <env>"},
		{name: "enum", words: "api dev", wantErr: `<env>: "dev" is not one of staging, prod`},
		{name: "unknown flag", words: "api prod --frobnicate", wantErr: "unknown flag --frobnicate"},
		{name: "flag without value", words: "api prod --replica", wantErr: "flag --replica needs a value"},
		{name: "bad int", words: "api prod --replica many", wantErr: `--replica: "many" is not a whole number`},
		{name: "uint range", words: "api prod --count 300", wantErr: `--count: "300" is not a whole number >= 0 in range`},
		{name: "bad bool", words: "api prod --force=maybe", wantErr: `--force: "maybe" is not true or false`},
		{name: "bad float", words: "api prod --ratio x", wantErr: `--ratio: "x" is not a number`},
		{name: "bad duration", words: "api prod --wait soon", wantErr: `--wait: "soon" is not a duration like 90s or 5m`},
		{name: "too many", words: "api prod extra", wantErr: `unexpected argument "extra"`},
		{name: "rest", words: "bob a b c", want: restArgs{Who: "bob", Rest: []string{"a", "b", "c"}}},
		{name: "rest empty", words: "bob", want: restArgs{Who: "bob"}},
		{name: "optional absent", words: "", want: optArgs{Level: "info"}},
		{name: "optional present", words: "x debug", want: optArgs{Name: "x", Level: "debug"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := reflect.TypeOf(tc.want)
			if typ == nil {
				typ = reflect.TypeFor[deployArgs]()
			}
			spec, err := newArgSpec(typ)
			if err != nil {
				t.Fatalf("newArgSpec(%v) error = %v", typ, err)
			}
			words, _ := Split(tc.words)
			v := reflect.New(typ).Elem()
			err = spec.parse(words, v)
			if tc.wantErr != "" {
				if _, ok := err.(*UsageError); !ok || err.Error() != tc.wantErr {
					t.Fatalf("parse(%q) error = %#v, want *UsageError %q", tc.words, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q) error = %v", tc.words, err)
			}
			if diff := cmp.Diff(tc.want, v.Interface()); diff != "" {
				t.Errorf("parse(%q) mismatch (-want +got):\n%s", tc.words, diff)
			}
		})
	}
}

func TestArgSpecErrors(t *testing.T) {
	type notStruct int
	type badType struct {
		M map[string]int
	}
	type afterRest struct {
		R []string `arg:""`
		X string   `arg:""`
	}
	type boolPos struct {
		B bool `arg:""`
	}
	type reqAfterOpt struct {
		A string `arg:"" optional:""`
		B string `arg:""`
	}
	type dupFlag struct {
		A bool `short:"x"`
		B bool `short:"x"`
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"not a struct", reflect.TypeFor[notStruct](), "is not a struct"},
		{"unsupported type", reflect.TypeFor[badType](), "unsupported type map[string]int"},
		{"after rest", reflect.TypeFor[afterRest](), "follows the list"},
		{"bool positional", reflect.TypeFor[boolPos](), "cannot be a bool"},
		{"required after optional", reflect.TypeFor[reqAfterOpt](), "follows an optional one"},
		{"duplicate flag", reflect.TypeFor[dupFlag](), "flag -x declared twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newArgSpec(tc.typ)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("newArgSpec(%v) error = %v, want it to contain %q", tc.typ, err, tc.want)
			}
		})
	}
}

func TestArgUsage(t *testing.T) {
	spec, err := newArgSpec(reflect.TypeFor[deployArgs]())
	if err != nil {
		t.Fatal(err)
	}
	want := "<service> <env> [--force] [--replica REPLICA] [--wait WAIT] [--tag TAG] [--dry-run] [--ratio RATIO] [--count COUNT]"
	if got := spec.usage(); got != want {
		t.Errorf("usage() = %q, want %q", got, want)
	}
	details := spec.details()
	wantDetails := []string{
		"<service>  service to deploy",
		"<env>  target (one of staging, prod)",
		"-f, --force  skip the health checks",
		"--replica  (default 2)",
		"--wait  wait this long",
		"--tag  ",
		"--dry-run  ",
		"--ratio  ",
		"--count  ",
	}
	if diff := cmp.Diff(wantDetails, details); diff != "" {
		t.Errorf("details() mismatch (-want +got):\n%s", diff)
	}
	if got := kebab("URLPath"); got != "url-path" {
		t.Errorf("kebab(URLPath) = %q, want url-path", got)
	}
}

func FuzzArgParse(f *testing.F) {
	for _, s := range []string{"api prod", "api prod --force --replica 3", "--tag", "-f -- x y", "a b c d", "--wait=1h api prod", "--count -1"} {
		f.Add(s)
	}
	spec, err := newArgSpec(reflect.TypeFor[deployArgs]())
	if err != nil {
		f.Fatal(err)
	}
	rest, err := newArgSpec(reflect.TypeFor[restArgs]())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			return
		}
		for _, sp := range []*argSpec{spec, rest} {
			v := reflect.New(sp.typ).Elem()
			if err := sp.parse(words, v); err != nil {
				if _, ok := err.(*UsageError); !ok {
					t.Fatalf("parse(%q) error %T %v, want *UsageError", words, err, err)
				}
				continue
			}
			if sp == spec {
				a := v.Interface().(deployArgs)
				if a.Env != "staging" && a.Env != "prod" {
					t.Fatalf("parse(%q) accepted env %q outside the enum", words, a.Env)
				}
			}
		}
	})
}
