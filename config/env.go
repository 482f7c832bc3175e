package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// envPrefix starts every environment variable that overrides a key.
const envPrefix = "MATTERBOT_"

// envVar is one key that an environment variable can override.
type envVar struct {
	name string       // MATTERBOT_MATTERMOST_TOKEN
	path []string     // mattermost, token
	typ  reflect.Type // the Go type of the field
}

// envVars lists every overridable key of Config: each scalar or list field,
// named MATTERBOT_ + its dotted key in upper case with "." → "_". The
// access rules (an ordered array of tables) and plugin tables (free-form)
// have no such mapping and are marked noenv or kept out of Config.
func envVars() []envVar {
	var out []envVar
	var walk func(path []string, t reflect.Type)
	walk = func(path []string, t reflect.Type) {
		for _, f := range fieldsOf(t) {
			if f.noenv {
				continue
			}
			p := sub(path, f.name)
			if f.typ.Kind() == reflect.Struct && f.typ != reflect.TypeFor[Secret]() {
				walk(p, f.typ)
				continue
			}
			out = append(out, envVar{
				name: envPrefix + strings.ToUpper(strings.Join(p, "_")),
				path: p,
				typ:  f.typ,
			})
		}
	}
	walk(nil, reflect.TypeFor[Config]())
	return out
}

// alternative returns the key that excludes the key at path: a variable
// setting one removes the other from the file, so the environment wins
// instead of making a "set X or Y, not both" error.
func alternative(path []string) (string, bool) {
	if len(path) != 2 || path[0] != "mattermost" {
		return "", false
	}
	switch path[1] {
	case "token":
		return "token_file", true
	case "token_file":
		return "token", true
	case "password":
		return "password_file", true
	case "password_file":
		return "password", true
	case "team":
		return "teams", true
	case "teams":
		return "team", true
	}
	return "", false
}

// applyEnv writes the value of each set, non-empty override variable into
// tree, typed as the file would have it, and records its origin so that
// errors name the variable. An empty variable counts as unset, so that
// "MATTERBOT_MATTERMOST_TOKEN=$UNSET" in a compose file changes nothing.
func (d *decoder) applyEnv(tree map[string]any, lookupEnv func(string) (string, bool)) {
	var set []envVar
	for _, ev := range envVars() {
		s, ok := lookupEnv(ev.name)
		if !ok || s == "" {
			continue
		}
		v, ok := d.envValue(ev, s)
		if !ok {
			continue
		}
		parent := tree
		for _, k := range ev.path[:len(ev.path)-1] {
			next, exists := parent[k]
			if !exists {
				m := map[string]any{}
				parent[k], next = m, m
			}
			if parent, ok = next.(map[string]any); !ok {
				break // the file has a non-table here; decoding reports it
			}
		}
		if !ok {
			continue
		}
		parent[ev.path[len(ev.path)-1]] = v
		d.origins[pathKey(ev.path)] = origin{env: ev.name}
		set = append(set, ev)
	}
	for _, ev := range set {
		alt, ok := alternative(ev.path)
		if !ok {
			continue
		}
		altPath := sub(ev.path[:len(ev.path)-1], alt)
		if d.origins[pathKey(altPath)].env != "" {
			continue // both from the environment: a real conflict
		}
		parent := tree
		for _, k := range altPath[:len(altPath)-1] {
			parent, _ = parent[k].(map[string]any)
		}
		delete(parent, alt)
	}
}

// envValue converts the text of a variable to the TOML value the field
// expects: lists are comma-separated, numbers and booleans are parsed.
func (d *decoder) envValue(ev envVar, s string) (any, bool) {
	bad := func(want string, err error) (any, bool) {
		d.errs = append(d.errs, &Error{File: d.file, Env: ev.name, Key: displayKey(ev.path),
			Msg: strconv.Quote(s) + " is not " + want, Err: err})
		return nil, false
	}
	switch {
	case ev.typ == durationType:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		return s, true
	case ev.typ.Kind() == reflect.Slice:
		var out []any
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, true
	case ev.typ.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad("true or false", err)
		}
		return b, true
	case ev.typ.Kind() == reflect.Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad("an integer", err)
		}
		return n, true
	case ev.typ.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad("a number", err)
		}
		return f, true
	}
	return s, true
}

// UnknownEnv returns a warning for each variable of environ ("NAME=value"
// strings, as os.Environ gives them) whose name starts with MATTERBOT_ but
// overrides no key, such as a misspelt MATTERBOT_MATTERMOST_TOKN, which
// would otherwise be ignored in silence. A warning names the variable and,
// when one is close, the variable it probably meant. Names in also are
// variables the program reads itself, not warned about. Values are never
// part of a warning: they may be secrets.
func UnknownEnv(environ []string, also ...string) []string {
	vars := envVars()
	known := make(map[string]bool, len(vars)+len(also))
	for _, ev := range vars {
		known[ev.name] = true
	}
	for _, n := range also {
		known[n] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || known[name] {
			continue
		}
		msg := "$" + name + ": not a matterbot variable, ignored"
		if s := suggestEnv(name, vars); s != "" {
			msg += "; did you mean " + s + "?"
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out
}

// suggestEnv returns the variable name likely meant by the unknown name:
// the same name in another case, one within two edits, or the one whose
// key without its table is what follows MATTERBOT_ (MATTERBOT_TOKEN for
// MATTERBOT_MATTERMOST_TOKEN), if exactly one is.
func suggestEnv(name string, vars []envVar) string {
	upper := strings.ToUpper(name)
	best, bestDist := "", 3
	for _, ev := range vars {
		if d := editDistance(upper, ev.name); d < bestDist {
			best, bestDist = ev.name, d
		}
	}
	if best != "" {
		return best
	}
	rest := strings.TrimPrefix(upper, envPrefix)
	var match []string
	for _, ev := range vars {
		for i := 1; i < len(ev.path); i++ {
			if strings.ToUpper(strings.Join(ev.path[i:], "_")) == rest {
				match = append(match, ev.name)
			}
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	return ""
}
