package execplugin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// schemaDir holds the protocol's JSON Schemas.
const schemaDir = "../docs/exec-plugins/schema"

// validator checks JSON values against the schemas of schemaDir, for
// the keywords they use (a subset of JSON Schema 2020-12).
type validator struct {
	docs map[string]map[string]any // by file name
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	v := &validator{docs: map[string]map[string]any{}}
	paths, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no schemas")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		v.docs[filepath.Base(p)] = doc
	}
	return v
}

// check validates x against the schema of file; it returns the problems.
func (v *validator) check(file string, x any) []string {
	var errs []string
	v.validate(file, v.docs[file], x, "", &errs)
	return errs
}

// resolve follows a $ref from file.
func (v *validator) resolve(file, ref string) (string, map[string]any) {
	target, frag, _ := strings.Cut(ref, "#")
	if target != "" {
		file = target
	}
	s := v.docs[file]
	for _, part := range strings.Split(strings.Trim(frag, "/"), "/") {
		if part == "" {
			continue
		}
		next, _ := s[part].(map[string]any)
		if next == nil {
			panic(fmt.Sprintf("bad $ref %s#%s in %s", target, frag, file))
		}
		s = next
	}
	return file, s
}

// props returns the property names s declares, through allOf and $ref,
// for unevaluatedProperties.
func (v *validator) props(file string, s map[string]any) []string {
	var out []string
	if p, ok := s["properties"].(map[string]any); ok {
		for k := range p {
			out = append(out, k)
		}
	}
	if r, ok := s["$ref"].(string); ok {
		f, rs := v.resolve(file, r)
		out = append(out, v.props(f, rs)...)
	}
	for _, sub := range list(s["allOf"]) {
		out = append(out, v.props(file, sub.(map[string]any))...)
	}
	return out
}

func list(x any) []any { l, _ := x.([]any); return l }

func typeOf(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func (v *validator) validate(file string, s map[string]any, x any, at string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, fmt.Sprintf("%s: %s", "/"+at, fmt.Sprintf(format, args...)))
	}
	if r, ok := s["$ref"].(string); ok {
		f, rs := v.resolve(file, r)
		v.validate(f, rs, x, at, errs)
	}
	if t, ok := s["type"]; ok {
		types := []string{}
		switch t := t.(type) {
		case string:
			types = append(types, t)
		case []any:
			for _, e := range t {
				types = append(types, e.(string))
			}
		}
		got := typeOf(x)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			fail("type %s, want %v", got, types)
			return
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(x) {
		fail("%v, want %v", x, c)
	}
	if e, ok := s["enum"]; ok && !slices.ContainsFunc(list(e), func(y any) bool { return fmt.Sprint(y) == fmt.Sprint(x) }) {
		fail("%v is not one of %v", x, e)
	}
	if str, ok := x.(string); ok {
		if n, ok := s["minLength"].(float64); ok && float64(len([]rune(str))) < n {
			fail("shorter than %v", n)
		}
		if p, ok := s["pattern"].(string); ok {
			p = strings.ReplaceAll(p, "(?!MATTERBOT_)", "") // RE2 has no lookahead
			if !regexp.MustCompile(p).MatchString(str) {
				fail("%q does not match %s", str, p)
			}
		}
	}
	if n, ok := x.(float64); ok {
		if m, ok := s["minimum"].(float64); ok && n < m {
			fail("%v < %v", n, m)
		}
		if m, ok := s["maximum"].(float64); ok && n > m {
			fail("%v > %v", n, m)
		}
	}
	if a, ok := x.([]any); ok {
		if n, ok := s["minItems"].(float64); ok && float64(len(a)) < n {
			fail("fewer than %v items", n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range a {
				v.validate(file, items, e, fmt.Sprintf("%s/%d", at, i), errs)
			}
		}
	}
	if o, ok := x.(map[string]any); ok {
		for _, r := range list(s["required"]) {
			if _, ok := o[r.(string)]; !ok {
				fail("%s is required", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range o {
			if ps, ok := props[k].(map[string]any); ok {
				v.validate(file, ps, val, at+"/"+k, errs)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("%s is not allowed", k)
				}
			case map[string]any:
				v.validate(file, ap, val, at+"/"+k, errs)
			}
		}
		if u, ok := s["unevaluatedProperties"].(bool); ok && !u {
			known := v.props(file, s)
			for k := range o {
				if !slices.Contains(known, k) {
					fail("%s is not allowed", k)
				}
			}
		}
	}
	for _, sub := range list(s["allOf"]) {
		sm := sub.(map[string]any)
		if cond, ok := sm["if"].(map[string]any); ok {
			var e []string
			v.validate(file, cond, x, at, &e)
			if then, ok := sm["then"].(map[string]any); ok && len(e) == 0 {
				v.validate(file, then, x, at, errs)
			}
			continue
		}
		v.validate(file, sm, x, at, errs)
	}
	if one := list(s["oneOf"]); len(one) > 0 {
		n := 0
		var all []string
		for _, sub := range one {
			var e []string
			v.validate(file, sub.(map[string]any), x, at, &e)
			if len(e) == 0 {
				n++
			}
			all = append(all, e...)
		}
		if n != 1 {
			fail("matches %d of oneOf, want 1 (%s)", n, strings.Join(all, "; "))
		}
	}
	if not, ok := s["not"].(map[string]any); ok {
		var e []string
		v.validate(file, not, x, at, &e)
		if len(e) == 0 {
			fail("matches what not excludes")
		}
	}
	if anyOf := list(s["anyOf"]); len(anyOf) > 0 {
		ok := false
		for _, sub := range anyOf {
			var e []string
			v.validate(file, sub.(map[string]any), x, at, &e)
			ok = ok || len(e) == 0
		}
		if !ok {
			fail("matches none of anyOf")
		}
	}
}

// schemaFor returns the schema file of a message of type typ, written by
// the bot (fromBot) or by a plugin.
func schemaFor(typ string, fromBot bool) string {
	switch typ {
	case "hello", "request", "cancel", "result", "deactivate", "ready", "done", "call", "log", "bot":
		return typ + ".json"
	}
	return "reply.json"
}

// The validator itself rejects what it should.
func TestValidator(t *testing.T) {
	v := newValidator(t)
	bad := []struct {
		file, json string
	}{
		{"reply.json", `{"type":"text"}`},
		{"reply.json", `{"type":"file","name":"a","data":"x","path":"y"}`},
		{"reply.json", `{"type":"send","to":"ops","text":"x"}`},
		{"call.json", `{"type":"call","call":"c1","method":"store.get","params":{}}`},
		{"manifest.json", `{"protocol":1,"name":"x","version":"1","mode":"oneshot","exec":["a"],"commands":[{"name":"c","nope":1}]}`},
		{"request.json", `{"type":"request","protocol":2}`},
		{"bot.json", `{"type":"bot","bot":{"name":"m","version":"1","prefix":"!","user":{"username":"x"}}}`},
		{"done.json", `{"type":"done","id":"1","no_match":true,"error":{"message":"x"}}`},
		{"reply.json", `{"type":"done","no_match":"yes"}`},
		{"hello.json", `{"type":"hello","protocol":1,"plugin":"p","version":"1","config":{},"describe":false,"limits":{"timeout":1,"concurrency":1,"max_output":1},"bot":{"name":"m","version":"1","prefix":"!","admins":"@alice"}}`},
	}
	for _, tc := range bad {
		var x any
		if err := json.Unmarshal([]byte(tc.json), &x); err != nil {
			t.Fatal(err)
		}
		if errs := v.check(tc.file, x); len(errs) == 0 {
			t.Errorf("%s accepts %s", tc.file, tc.json)
		}
	}
}

// Every JSON example of docs/exec-plugins.md that is a message fits its
// schema.
func TestSchemaDocExamples(t *testing.T) {
	v := newValidator(t)
	doc, err := os.ReadFile("../docs/exec-plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	n := 0
	for _, blk := range blocks {
		for _, line := range strings.Split(string(blk[1]), "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, `{"type"`) || strings.Contains(line, "…") {
				continue
			}
			var x map[string]any
			if err := json.Unmarshal([]byte(line), &x); err != nil {
				t.Errorf("example %s: %v", line, err)
				continue
			}
			n++
			file := schemaFor(x["type"].(string), false)
			if errs := v.check(file, x); len(errs) > 0 {
				t.Errorf("example %s against %s: %s", line, file, strings.Join(errs, "; "))
			}
		}
	}
	if n < 10 {
		t.Errorf("checked %d examples, want at least 10", n)
	}
}

// What the bot writes fits the schemas: a recording program keeps every
// line it reads, and answers as the protocol wants.
func TestSchemaBotMessages(t *testing.T) {
	v := newValidator(t)
	rec := filepath.Join(t.TempDir(), "lines")
	script := `#!/bin/sh
# oneshot: record the request; longlived: record and answer each line
if [ "$MATTERBOT_MODE" = oneshot ]; then
	cat >> "$REC"
	echo '{"type":"text","text":"ok"}'
	exit 0
fi
while IFS= read -r line; do
	printf '%s\n' "$line" >> "$REC"
	case "$line" in
	*'"type":"hello"'*) echo '{"type":"ready","protocol":1}'; echo '{"type":"call","call":"c1","method":"store.keys","params":{}}' ;;
	*'"handler":"slow"'*) ;;
	*'"type":"request"'*) id=$(printf '%s' "$line" | sed 's/.*"id":"\([0-9]*\)".*/\1/'); echo "{\"type\":\"text\",\"id\":\"$id\",\"text\":\"ok\"}"; echo "{\"type\":\"done\",\"id\":\"$id\"}" ;;
	*'"type":"cancel"'*) id=$(printf '%s' "$line" | sed 's/.*"id":"\([0-9]*\)".*/\1/'); echo "{\"type\":\"done\",\"id\":\"$id\"}" ;;
	*'"type":"deactivate"'*) exit 0 ;;
	esac
done
`
	t.Setenv("REC", rec)
	manifest := func(mode string) string {
		return "protocol = 1\nname = \"rec\"\nversion = \"1\"\nmode = \"" + mode + "\"\nexec = [\"./run.sh\"]\nenv = [\"REC\"]\n" +
			"events = [\"reaction\"]\n[[commands]]\nname = \"cmd\"\n[[commands.args]]\nname = \"n\"\ntype = \"int\"\noptional = true\npositional = true\n" +
			"[[commands]]\nname = \"slow\"\ntimeout = \"200ms\"\n[[regex]]\nname = \"re\"\npattern = \"^re (\\\\w+)$\"\n[[listeners]]\nname = \"l\"\npattern = \"listen\"\n" +
			"[[webhooks]]\nname = \"w\"\npattern = \"POST /w/{x}\"\nauth = \"public\"\n[config.k]\ndefault = \"v\"\n"
	}
	for _, mode := range []string{"oneshot", "longlived"} {
		t.Run(mode, func(t *testing.T) {
			_ = os.Remove(rec)
			var log logBuffer
			b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()},
				load(t, files(t, map[string]string{"plugin.toml": manifest(mode), "run.sh": script}), &log))
			b.Say("!cmd 3")
			b.Say("!re x")
			b.SayInThread("@bob", "~ops", "p-root", "please listen")
			b.React("@bob", "~ops", "p-1", "thumbsup")
			b.Webhook(httptestRequest("POST", "/w/abc", "body"))
			if mode == "longlived" {
				b.Say("!slow")
				b.Stop()
			}
			f, err := os.ReadFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			sc := bufio.NewScanner(bytes.NewReader(f))
			for sc.Scan() {
				var x map[string]any
				if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
					t.Fatalf("%s: %v", sc.Text(), err)
				}
				typ, _ := x["type"].(string)
				key := typ
				if typ == "request" {
					key += "/" + x["kind"].(string)
				}
				seen[key] = true
				if errs := v.check(schemaFor(typ, true), x); len(errs) > 0 {
					t.Errorf("%s: %s", sc.Text(), strings.Join(errs, "; "))
				}
			}
			want := []string{"request/command", "request/regex", "request/listener", "request/event", "request/webhook"}
			if mode == "longlived" {
				want = append(want, "hello", "bot", "result", "cancel", "deactivate")
			}
			for _, w := range want {
				if !seen[w] {
					t.Errorf("no %s recorded; seen %v\n%s", w, seen, log.String())
				}
			}
		})
	}
}

func httptestRequest(method, path, body string) *http.Request {
	return httptest.NewRequest(method, path, strings.NewReader(body))
}

// The manifests of the tests fit manifest.json.
func TestSchemaManifests(t *testing.T) {
	v := newValidator(t)
	for name, m := range map[string]string{
		"oneshot": goManifest("oneshot", oneShotCommands), "longlived": goManifest("longlived", longLivedCommands),
		"shell": shellManifest,
	} {
		var raw map[string]any
		if err := toml.Unmarshal([]byte(m), &raw); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(raw)
		var x any
		_ = json.Unmarshal(b, &x)
		if errs := v.check("manifest.json", x); len(errs) > 0 {
			t.Errorf("%s: %s", name, strings.Join(errs, "; "))
		}
	}
}
