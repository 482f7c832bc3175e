package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Diff returns the keys whose values differ between a and b, sorted, in
// the file's dotted form: "prefix", "mattermost.server",
// "access.default.allowusers", "access.rule" (the array of rules as a
// whole), "plugins.deploy" (a plugin's table as a whole). A secret that
// changed is named, never shown. token_file and password_file are
// compared by what the files held when the configurations were loaded
// (mattermost.token, mattermost.password) as well as by name.
func Diff(a, b *Config) []string {
	var keys []string
	diffStruct(nil, reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), &keys)
	names := slices.Sorted(maps.Keys(a.plugins))
	for n := range b.plugins {
		if _, ok := a.plugins[n]; !ok {
			names = append(names, n)
		}
	}
	for _, n := range names {
		ta, oka := a.plugins[n]
		tb, okb := b.plugins[n]
		if oka != okb || !reflect.DeepEqual(ta, tb) {
			keys = append(keys, displayKey([]string{"plugins", n}))
		}
	}
	slices.Sort(keys)
	return keys
}

// diffStruct appends to keys the keys under path whose values differ in
// the structs a and b, going into the tables (struct fields whose own
// fields have toml tags).
func diffStruct(path []string, a, b reflect.Value, keys *[]string) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		key := sub(path, name)
		fa, fb := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Struct && isTable(f.Type) {
			diffStruct(key, fa, fb, keys)
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			*keys = append(*keys, displayKey(key))
		}
	}
}

// isTable reports whether a struct type is a table of the file: one with
// toml-tagged fields (Secret, say, has none).
func isTable(t reflect.Type) bool {
	for i := range t.NumField() {
		if _, ok := t.Field(i).Tag.Lookup("toml"); ok {
			return true
		}
	}
	return false
}
