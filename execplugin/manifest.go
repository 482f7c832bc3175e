package execplugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/cronexpr"
	toml "github.com/pelletier/go-toml/v2"
)

// Protocol is the version of the exec plugin protocol this package
// speaks (docs/exec-plugins.md §10).
const Protocol = 1

// Modes of a manifest.
const (
	OneShot   = "oneshot"
	LongLived = "longlived"
)

// Manifest is a plugin's manifest: plugin.toml or plugin.json, or what
// an Errbot .plug file and the program's describe answer give. See
// docs/exec-plugins.md §2 for each field.
type Manifest struct {
	Protocol    int      `json:"protocol"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	Mode        string   `json:"mode"`
	Exec        []string `json:"exec"`
	Output      string   `json:"output,omitempty"`
	Env         []string `json:"env,omitempty"`
	Token       bool     `json:"token,omitempty"`
	Describe    bool     `json:"describe,omitempty"`
	Limits      Limits   `json:"limits,omitzero"`
	Declared
}

// Declared is what a plugin declares: its commands, listeners, jobs,
// webhooks, events and configuration. A long-lived program with
// describe = true gives it in its ready message instead of the file.
type Declared struct {
	Commands  []Command            `json:"commands,omitempty"`
	Regex     []Regex              `json:"regex,omitempty"`
	Listeners []Listener           `json:"listeners,omitempty"`
	Schedules []Schedule           `json:"schedules,omitempty"`
	Webhooks  []Webhook            `json:"webhooks,omitempty"`
	Events    []string             `json:"events,omitempty"`
	Config    map[string]ConfigKey `json:"config,omitempty"`
}

// Limits bound a plugin's invocations.
type Limits struct {
	Timeout      Duration `json:"timeout,omitzero"`
	MaxOutput    int      `json:"max_output,omitempty"`
	Concurrency  int      `json:"concurrency,omitempty"`
	StartTimeout Duration `json:"start_timeout,omitzero"`
}

// Common holds the keys commands and regex commands share.
type Common struct {
	Help     string   `json:"help,omitempty"`
	Usage    string   `json:"usage,omitempty"`
	Admin    bool     `json:"admin,omitempty"`
	Hidden   bool     `json:"hidden,omitempty"`
	Thread   bool     `json:"thread,omitempty"`
	Private  bool     `json:"private,omitempty"`
	Timeout  Duration `json:"timeout,omitzero"`
	NoAnswer string   `json:"no_answer,omitempty"`
	Handler  string   `json:"handler,omitempty"`
}

// Command is a declared command.
type Command struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Args    []Arg    `json:"args,omitempty"`
	Common
}

// Arg is a typed argument of a command.
type Arg struct {
	Name       string   `json:"name"`
	Positional bool     `json:"positional,omitempty"`
	Type       string   `json:"type,omitempty"`
	Help       string   `json:"help,omitempty"`
	Enum       []string `json:"enum,omitempty"`
	Default    string   `json:"default,omitempty"`
	Optional   bool     `json:"optional,omitempty"`
	Short      string   `json:"short,omitempty"`
}

// Regex is a declared regex command.
type Regex struct {
	Name     string `json:"name"`
	Pattern  string `json:"pattern"`
	Prefixed *bool  `json:"prefixed,omitempty"`
	Common
}

// Listener is a declared listener.
type Listener struct {
	Name    string   `json:"name"`
	Pattern string   `json:"pattern"`
	Timeout Duration `json:"timeout,omitzero"`
	Handler string   `json:"handler,omitempty"`
}

// Schedule is a declared periodic job.
type Schedule struct {
	Name    string   `json:"name"`
	Every   Duration `json:"every,omitzero"`
	Cron    string   `json:"cron,omitempty"`
	Timeout Duration `json:"timeout,omitzero"`
	Handler string   `json:"handler,omitempty"`
}

// Webhook is a declared HTTP endpoint.
type Webhook struct {
	Name         string   `json:"name"`
	Pattern      string   `json:"pattern"`
	Auth         string   `json:"auth,omitempty"`
	SecretConfig string   `json:"secret_config,omitempty"`
	Header       string   `json:"header,omitempty"`
	MaxBody      int64    `json:"max_body,omitempty"`
	Timeout      Duration `json:"timeout,omitzero"`
	Handler      string   `json:"handler,omitempty"`
}

// ConfigKey declares a key of the plugin's configuration table.
type ConfigKey struct {
	Required bool   `json:"required,omitempty"`
	Secret   bool   `json:"secret,omitempty"`
	Default  any    `json:"default,omitempty"`
	Help     string `json:"help,omitempty"`
	Type     string `json:"type,omitempty"`
}

// Duration is a time.Duration written as Go writes it: "90s", "1m30s".
type Duration time.Duration

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a duration such as \"90s\" or \"5m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration such as \"90s\" or \"5m\"", s)
	}
	*d = Duration(v)
	return nil
}

// ManifestError is a manifest that does not validate: File is the
// manifest's path, Field the key at fault ("commands[1].args[0].type";
// empty for the file as a whole).
type ManifestError struct {
	File  string
	Field string
	Err   error
}

// Error returns "plugins/deploy/plugin.toml: commands[1].name: empty".
func (e *ManifestError) Error() string {
	if e.Field == "" {
		return e.File + ": " + e.Err.Error()
	}
	return e.File + ": " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the problem.
func (e *ManifestError) Unwrap() error { return e.Err }

// Manifest file names, in the order they are looked for.
const (
	tomlManifest = "plugin.toml"
	jsonManifest = "plugin.json"
)

// ReadManifest reads and validates the manifest of the plugin in dir:
// plugin.toml or plugin.json. A missing or invalid manifest is a
// *ManifestError (errors.Is(err, fs.ErrNotExist) for a missing one, and
// for no other).
// The returned manifest's Exec[0] is resolved to an absolute path.
func ReadManifest(dir string) (*Manifest, error) {
	tf, jf := filepath.Join(dir, tomlManifest), filepath.Join(dir, jsonManifest)
	tb, terr := os.ReadFile(tf)
	jb, jerr := os.ReadFile(jf)
	switch {
	case terr == nil && jerr == nil:
		return nil, &ManifestError{File: tf, Err: fmt.Errorf("%s is there too: keep one manifest", jsonManifest)}
	case terr == nil:
		return parseManifest(tf, dir, tb, true)
	case jerr == nil:
		return parseManifest(jf, dir, jb, false)
	case !errors.Is(terr, os.ErrNotExist):
		return nil, &ManifestError{File: tf, Err: terr}
	case !errors.Is(jerr, os.ErrNotExist):
		return nil, &ManifestError{File: jf, Err: jerr}
	}
	return nil, &ManifestError{File: tf, Err: errNoManifest}
}

// errNoManifest is a directory without plugin.toml or plugin.json.
var errNoManifest = fmt.Errorf("no manifest: %w", os.ErrNotExist)

// parseManifest decodes and validates a manifest read from file.
func parseManifest(file, dir string, b []byte, isTOML bool) (*Manifest, error) {
	var raw map[string]any
	if isTOML {
		if err := toml.Unmarshal(b, &raw); err != nil {
			var de *toml.DecodeError
			if errors.As(err, &de) {
				line, col := de.Position()
				return nil, &ManifestError{File: fmt.Sprintf("%s:%d:%d", file, line, col), Err: errors.New(de.Error())}
			}
			return nil, &ManifestError{File: file, Err: err}
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, &ManifestError{File: file, Err: fmt.Errorf("not a JSON object: %w", err)}
		}
	}
	m, err := decodeManifest(raw, "")
	if err != nil {
		err.File = file
		return nil, err
	}
	if err := m.validate(dir); err != nil {
		err.File = file
		return nil, err
	}
	return m, nil
}

// decodeManifest decodes raw, a manifest as TOML or JSON gives it, into
// a Manifest, checking keys and types; prefix starts the field paths.
func decodeManifest(raw map[string]any, prefix string) (*Manifest, *ManifestError) {
	if err := checkShape(prefix, raw, reflect.TypeFor[Manifest]()); err != nil {
		return nil, err
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, &ManifestError{Err: err}
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &ManifestError{Err: err} // checkShape lets nothing through that fails here
	}
	return &m, nil
}

// checkShape checks that v, decoded from TOML or JSON, fits type t: no
// unknown keys, the right kinds. The error names the field.
func checkShape(path string, v any, t reflect.Type) *ManifestError {
	bad := func(format string, args ...any) *ManifestError {
		return &ManifestError{Field: path, Err: fmt.Errorf(format, args...)}
	}
	if t == reflect.TypeFor[Duration]() {
		s, ok := v.(string)
		if !ok {
			return bad("want a duration such as \"90s\", got %s", kindOf(v))
		}
		if d, err := time.ParseDuration(s); err != nil || d < 0 {
			return bad("%q is not a duration such as \"90s\" or \"5m\"", s)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil
	case reflect.Pointer:
		return checkShape(path, v, t.Elem())
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad("want a string, got %s", kindOf(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("want true or false, got %s", kindOf(v))
		}
	case reflect.Int, reflect.Int64:
		if !isInteger(v) {
			return bad("want a whole number, got %s", kindOf(v))
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			return bad("want an array, got %s", kindOf(v))
		}
		for i, e := range a {
			if err := checkShape(fmt.Sprintf("%s[%d]", path, i), e, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("want a table, got %s", kindOf(v))
		}
		for _, k := range slices.Sorted(mapKeys(m)) {
			if err := checkShape(join(path, k), m[k], t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("want a table, got %s", kindOf(v))
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(mapKeys(m)) {
			ft, ok := fields[k]
			if !ok {
				return &ManifestError{Field: join(path, k), Err: fmt.Errorf("unknown key%s", didYouMean(k, slices.Collect(mapKeys(fields))))}
			}
			if err := checkShape(join(path, k), m[k], ft); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// jsonFields maps the JSON names of t's fields (embedded structs
// flattened) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}

func isInteger(v any) bool {
	switch n := v.(type) {
	case int64:
		return true
	case json.Number:
		_, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil
	}
	return false
}

// kindOf names the kind of a decoded value for an error.
func kindOf(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case bool, int64, float64, json.Number:
		return fmt.Sprint(v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// didYouMean returns "; did you mean \"x\"?" for the closest of names,
// or "".
func didYouMean(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	argNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

var (
	argTypes    = []string{"string", "bool", "int", "float", "duration", "strings"}
	eventKinds  = []string{"message", "reaction", "presence", "join", "leave", "connect"}
	configTypes = []string{"string", "bool", "int", "float", "array", "table"}
	authKinds   = []string{"default", "secret", "hmac", "public"}
	// reservedPaths are served by the bot's HTTP listener itself.
	reservedPaths = []string{"/healthz", "/readyz", "/metrics", "/debug/"}
)

// validate checks what decoding cannot: values, and the program's file.
// dir is the plugin's directory, for Exec.
func (m *Manifest) validate(dir string) *ManifestError {
	bad := func(field, format string, args ...any) *ManifestError {
		return &ManifestError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case m.Protocol == 0:
		return bad("protocol", "missing: the protocol version the program speaks (%d)", Protocol)
	case m.Protocol != Protocol:
		return bad("protocol", "version %d is not supported by this bot (it speaks %d)", m.Protocol, Protocol)
	case m.Name == "":
		return bad("name", "missing")
	case !nameRE.MatchString(m.Name):
		return bad("name", "%q: use letters, digits, '_', '-' and '.', starting with a letter or digit, at most 64", m.Name)
	case m.Version == "":
		return bad("version", "missing")
	case m.Mode == "":
		return bad("mode", "missing: %q or %q", OneShot, LongLived)
	case m.Mode != OneShot && m.Mode != LongLived:
		return bad("mode", "%q is not %q or %q", m.Mode, OneShot, LongLived)
	case len(m.Exec) == 0:
		return bad("exec", "missing: the program and its arguments, [\"./plugin.sh\"]")
	case m.Output != "" && m.Output != "json" && m.Output != "text":
		return bad("output", "%q is not \"json\" or \"text\"", m.Output)
	case m.Output == "text" && m.Mode != OneShot:
		return bad("output", "\"text\" is for one-shot plugins only")
	case m.Describe && m.Mode != LongLived:
		return bad("describe", "is for long-lived plugins only")
	case m.Limits.MaxOutput != 0 && m.Limits.MaxOutput < 1024:
		return bad("limits.max_output", "%d is less than 1024 bytes", m.Limits.MaxOutput)
	case m.Limits.Concurrency < 0 || m.Limits.Concurrency > 1024:
		return bad("limits.concurrency", "%d is not between 1 and 1024", m.Limits.Concurrency)
	}
	for i, e := range m.Env {
		switch {
		case !envNameRE.MatchString(e):
			return bad(fmt.Sprintf("env[%d]", i), "%q is not a variable name", e)
		case strings.HasPrefix(strings.ToUpper(e), "MATTERBOT_"):
			return bad(fmt.Sprintf("env[%d]", i), "%q: the bot's own variables hold its secrets and are not passed on (ask for the token with token = true)", e)
		}
	}
	if err := m.resolveExec(dir); err != nil {
		return err
	}
	if m.Describe {
		if !m.Declared.empty() {
			return bad("describe", "the program declares its commands: leave commands, regex, listeners, schedules, webhooks, events and config out of the manifest")
		}
		return nil
	}
	if err := m.Declared.validate(""); err != nil {
		return err
	}
	return nil
}

// empty reports whether d declares nothing.
func (d *Declared) empty() bool {
	return len(d.Commands)+len(d.Regex)+len(d.Listeners)+len(d.Schedules)+len(d.Webhooks)+len(d.Events)+len(d.Config) == 0
}

// validate checks the declarations; prefix starts the field paths
// ("ready.manifest." for a described manifest).
func (d *Declared) validate(prefix string) *ManifestError {
	bad := func(field, format string, args ...any) *ManifestError {
		return &ManifestError{Field: prefix + field, Err: fmt.Errorf(format, args...)}
	}
	for i, c := range d.Commands {
		f := fmt.Sprintf("commands[%d]", i)
		if strings.TrimSpace(c.Name) == "" {
			return bad(f+".name", "missing")
		}
		if err := d.checkCommon(prefix, f, c.Common); err != nil {
			return err
		}
		for j, a := range c.Aliases {
			if strings.TrimSpace(a) == "" {
				return bad(fmt.Sprintf("%s.aliases[%d]", f, j), "empty")
			}
		}
		for j, a := range c.Args {
			af := fmt.Sprintf("%s.args[%d]", f, j)
			switch {
			case !argNameRE.MatchString(a.Name):
				return bad(af+".name", "%q: use lower-case letters, digits, '_' and '-'", a.Name)
			case a.Type != "" && !slices.Contains(argTypes, a.Type):
				return bad(af+".type", "%q is not one of %s", a.Type, strings.Join(argTypes, ", "))
			case len([]rune(a.Short)) > 1:
				return bad(af+".short", "%q is more than one letter", a.Short)
			case a.Short != "" && a.Positional:
				return bad(af+".short", "a positional has no short name")
			}
		}
		if len(c.Args) > 0 {
			// What the engine would refuse, with the manifest's field.
			if _, err := botArgs(c.Args); err != nil {
				return bad(f+".args", "%v", err)
			}
		}
	}
	for i, r := range d.Regex {
		f := fmt.Sprintf("regex[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			return bad(f+".name", "missing")
		}
		if err := checkPattern(r.Pattern); err != nil {
			return bad(f+".pattern", "%v", err)
		}
		if err := d.checkCommon(prefix, f, r.Common); err != nil {
			return err
		}
	}
	for i, l := range d.Listeners {
		f := fmt.Sprintf("listeners[%d]", i)
		if strings.TrimSpace(l.Name) == "" {
			return bad(f+".name", "missing")
		}
		if err := checkPattern(l.Pattern); err != nil {
			return bad(f+".pattern", "%v", err)
		}
	}
	for i, s := range d.Schedules {
		f := fmt.Sprintf("schedules[%d]", i)
		switch {
		case strings.TrimSpace(s.Name) == "":
			return bad(f+".name", "missing")
		case (s.Every == 0) == (s.Cron == ""):
			return bad(f, "give exactly one of every and cron")
		case s.Every != 0 && time.Duration(s.Every) < time.Second:
			return bad(f+".every", "%v is less than 1s", time.Duration(s.Every))
		}
		if s.Cron != "" {
			if err := checkCron(s.Cron); err != nil {
				return bad(f+".cron", "%q: %v", s.Cron, err)
			}
		}
	}
	for i, w := range d.Webhooks {
		f := fmt.Sprintf("webhooks[%d]", i)
		method, path, ok := strings.Cut(w.Pattern, " ")
		switch {
		case strings.TrimSpace(w.Name) == "":
			return bad(f+".name", "missing")
		case !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/"):
			return bad(f+".pattern", "%q: want a method and a path, \"POST /deploy/done\"", w.Pattern)
		case w.Auth != "" && !slices.Contains(authKinds, w.Auth):
			return bad(f+".auth", "%q is not one of %s", w.Auth, strings.Join(authKinds, ", "))
		case (w.Auth == "secret" || w.Auth == "hmac") && w.SecretConfig == "":
			return bad(f+".secret_config", "missing: the config key that holds the secret, for auth = %q", w.Auth)
		case w.SecretConfig != "" && w.Auth != "secret" && w.Auth != "hmac":
			return bad(f+".secret_config", "only with auth = \"secret\" or \"hmac\"")
		case w.SecretConfig != "" && !d.Config[w.SecretConfig].Secret:
			return bad(f+".secret_config", "%q must be declared in config with secret = true", w.SecretConfig)
		case w.MaxBody < 0:
			return bad(f+".max_body", "%d is negative", w.MaxBody)
		}
		for _, r := range reservedPaths {
			if path == strings.TrimSuffix(r, "/") || strings.HasPrefix(path, r) || strings.HasSuffix(r, "/") && path+"/" == r {
				return bad(f+".pattern", "%s is the bot's own", r)
			}
		}
	}
	for i, e := range d.Events {
		if !slices.Contains(eventKinds, e) {
			return bad(fmt.Sprintf("events[%d]", i), "%q is not one of %s", e, strings.Join(eventKinds, ", "))
		}
		if slices.Index(d.Events, e) != i {
			return bad(fmt.Sprintf("events[%d]", i), "%q is listed twice", e)
		}
	}
	for _, k := range slices.Sorted(mapKeys(d.Config)) {
		c := d.Config[k]
		f := "config." + k
		if c.Type != "" && !slices.Contains(configTypes, c.Type) {
			return bad(f+".type", "%q is not one of %s", c.Type, strings.Join(configTypes, ", "))
		}
		if c.Default != nil && c.Type != "" && !fitsType(c.Default, c.Type) {
			return bad(f+".default", "%s is not of type %s", kindOf(c.Default), c.Type)
		}
		if k == "" || strings.ContainsAny(k, " .\"") {
			return bad(f, "bad key name %q", k)
		}
	}
	return nil
}

// checkCommon checks the keys commands and regex commands share.
func (d *Declared) checkCommon(prefix, f string, c Common) *ManifestError {
	if c.Thread && c.Private {
		return &ManifestError{Field: prefix + f, Err: errors.New("thread and private both set: replies go to one place")}
	}
	return nil
}

func normalize(name string) string { return strings.Join(strings.Fields(strings.ToLower(name)), " ") }

func checkPattern(p string) error {
	if p == "" {
		return errors.New("missing")
	}
	_, err := regexp.Compile(p)
	return err
}

// checkCron checks a cron spec as the engine will (five fields or a
// macro); the engine's own check runs again at registration.
func checkCron(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if !strings.HasPrefix(spec, "@") && len(strings.Fields(spec)) != 5 {
		return errors.New("want five fields (minute hour day-of-month month day-of-week) or @daily, @hourly, …")
	}
	_, err = cronexpr.Parse(spec)
	return err
}

// fitsType reports whether v, decoded from TOML or JSON, is of the
// manifest's config type t.
func fitsType(v any, t string) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "int":
		f, ok := v.(float64) // through encoding/json
		return isInteger(v) || ok && f == math.Trunc(f)
	case "float":
		switch v.(type) {
		case float64, int64, json.Number:
			return true
		}
	case "array":
		_, ok := v.([]any)
		return ok
	case "table":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// resolveExec makes Exec[0] absolute and checks it is an executable
// file, and makes the arguments that start with "./" absolute (relative
// to dir).
func (m *Manifest) resolveExec(dir string) *ManifestError {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &ManifestError{Field: "exec[0]", Err: err}
	}
	prog := m.Exec[0]
	var path string
	switch {
	case filepath.IsAbs(prog):
		path = prog
	case strings.Contains(prog, "/"):
		path = filepath.Join(abs, prog)
	default:
		path, err = lookPath(prog)
		if err != nil {
			return &ManifestError{Field: "exec[0]", Err: fmt.Errorf("%q is not in the bot's PATH", prog)}
		}
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		if errors.Is(err, os.ErrNotExist) {
			return &ManifestError{Field: "exec[0]", Err: fmt.Errorf("%q: no such file", prog)}
		}
		return &ManifestError{Field: "exec[0]", Err: fmt.Errorf("%q: %v", prog, errors.Unwrap(err))}
	case fi.IsDir():
		return &ManifestError{Field: "exec[0]", Err: fmt.Errorf("%q is a directory", prog)}
	case fi.Mode()&0o111 == 0:
		return &ManifestError{Field: "exec[0]", Err: fmt.Errorf("%q is not executable (chmod +x)", prog)}
	}
	m.Exec[0] = path
	for i, a := range m.Exec[1:] {
		if strings.HasPrefix(a, "./") {
			m.Exec[i+1] = filepath.Join(abs, a)
		}
	}
	return nil
}
