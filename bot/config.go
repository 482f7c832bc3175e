package bot

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// MissingConfigError is returned by Plugin.Config when fields tagged
// required:"" are not set. New registers such a plugin without
// activating it; Activate returns this error.
type MissingConfigError struct {
	Plugin string
	// Keys are the missing keys as written in the plugin's table of the
	// configuration file ("services", "db.url").
	Keys []string
}

// Error returns "bot: plugin deploy: missing required config
// [plugins.deploy] services, room".
func (e *MissingConfigError) Error() string {
	return fmt.Sprintf("bot: plugin %s: missing required config [plugins.%s] %s", e.Plugin, e.Plugin, strings.Join(e.Keys, ", "))
}

// checkRequired records the required fields of *v that are not set, and
// returns a *MissingConfigError naming them.
func (p *Plugin) checkRequired(v any) error {
	missing := requiredKeys(reflect.ValueOf(v).Elem())
	p.cfgMu.Lock()
	p.missing = missing
	p.cfgMu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	return &MissingConfigError{Plugin: p.name, Keys: slices.Clone(missing)}
}

// requiredKeys returns the keys of the required fields of v that are
// not set, when v is a struct.
func requiredKeys(v reflect.Value) []string {
	if v.Kind() != reflect.Struct {
		return nil
	}
	return missingKeys(v, "")
}

// missingKeys returns the required configuration keys that are not set.
func (p *Plugin) missingKeys() []string {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	return slices.Clone(p.missing)
}

// missingKeys returns the keys of the fields of struct v tagged
// required:"" that are not set, in field order, each after prefix.
// Untagged embedded structs contribute their fields; other struct fields
// are tables whose keys get "name." before them.
func missingKeys(v reflect.Value, prefix string) []string {
	var out []string
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		key, tagged := configKey(sf)
		if key == "-" {
			continue
		}
		fv := v.Field(i)
		if _, required := sf.Tag.Lookup("required"); required && unset(fv) {
			out = append(out, prefix+key)
			continue
		}
		for fv.Kind() == reflect.Pointer && !fv.IsNil() {
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.Struct {
			sub := prefix + key + "."
			if sf.Anonymous && !tagged {
				sub = prefix
			}
			out = append(out, missingKeys(fv, sub)...)
		}
	}
	return out
}

// configKey returns the key a field is read from, as package config
// matches it: its toml tag, else its json tag, else its name (matched
// ignoring case, shown in lower case). tagged reports a tag.
func configKey(sf reflect.StructField) (key string, tagged bool) {
	tag, ok := sf.Tag.Lookup("toml")
	if !ok {
		tag, ok = sf.Tag.Lookup("json")
	}
	if name, _, _ := strings.Cut(tag, ","); ok && name != "" {
		return name, true
	}
	return strings.ToLower(sf.Name), false
}

// unset reports whether a required field is missing: its zero value, or
// an empty string, list or table.
func unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return v.Len() == 0
	}
	return v.IsZero()
}

// checkPluginTables warns about configuration for plugins that are not
// registered (a [plugins.NAME] table with a typo, or for a plugin left
// out of the binary), with the closest registered name when one is
// close.
func (e *Engine) checkPluginTables() {
	var names []string
	for n := range e.options().PluginConfig {
		if e.registry().byName[n] == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if m := e.closestPlugin(n); m != "" {
			e.log.Warn("config for an unknown plugin", "plugin", n, "did_you_mean", m)
		} else {
			e.log.Warn("config for an unknown plugin", "plugin", n)
		}
	}
}

// closestPlugin returns the registered plugin name closest to name, as
// suggest judges it for commands, or "" when none is close. Ties go to
// the first in alphabetical order.
func (e *Engine) closestPlugin(name string) string {
	words := strings.Fields(strings.ToLower(name))
	if len(words) == 0 {
		return "" // [plugins.""]
	}
	ps := e.registry().plugins
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	if s := suggest(words, names); len(s) > 0 {
		return s[0]
	}
	return ""
}
