package config

import (
	"encoding"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decoder copies a generic TOML tree (map[string]any from go-toml) into Go
// values. Unlike a TOML library's decoder it does not stop at the first
// problem: it records every unknown key and wrong type, with its position,
// and goes on, so one run reports them all.
type decoder struct {
	file    string
	origins map[string]origin // pathKey → where the value came from
	errs    ErrorList
}

// problem records a problem with the value at path.
func (d *decoder) problem(path []string, cause error, format string, args ...any) {
	d.errs = append(d.errs, d.at(path, cause, fmt.Sprintf(format, args...)))
}

// at builds an Error for path, located at the value itself or, for a
// missing key, at the nearest enclosing table present in the document.
func (d *decoder) at(path []string, cause error, msg string) *Error {
	e := &Error{File: d.file, Key: displayKey(path), Msg: msg, Err: cause}
	for i := len(path); i > 0; i-- {
		if o, ok := d.origins[pathKey(path[:i])]; ok {
			e.Line, e.Env = o.line, o.env
			break
		}
	}
	return e
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value stores v, found at path, into rv (which must be settable).
func (d *decoder) value(path []string, v any, rv reflect.Value) {
	switch rv.Type() {
	case durationType:
		d.duration(path, v, rv)
		return
	case timeType:
		t, ok := v.(time.Time)
		if !ok {
			d.typeProblem(path, "a date-time with offset", v)
			return
		}
		rv.Set(reflect.ValueOf(t))
		return
	}
	if rv.Kind() != reflect.Pointer && rv.CanAddr() && rv.Addr().Type().Implements(textUnmarshalerType) {
		s, ok := v.(string)
		if !ok {
			d.typeProblem(path, "a string", v)
			return
		}
		if err := rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.problem(path, err, "%v", err)
		}
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		d.value(path, v, rv.Elem())
	case reflect.Interface:
		if rv.NumMethod() != 0 {
			d.problem(path, nil, "cannot decode into Go type %s", rv.Type())
			return
		}
		rv.Set(reflect.ValueOf(cloneValue(v)))
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.typeProblem(path, "a string", v)
			return
		}
		rv.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.typeProblem(path, "true or false", v)
			return
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := v.(int64)
		if !ok {
			d.typeProblem(path, "an integer", v)
			return
		}
		if rv.OverflowInt(i) {
			d.problem(path, nil, "%d does not fit in %s", i, rv.Type())
			return
		}
		rv.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		i, ok := v.(int64)
		if !ok {
			d.typeProblem(path, "an integer", v)
			return
		}
		if i < 0 || rv.OverflowUint(uint64(i)) {
			d.problem(path, nil, "%d does not fit in %s", i, rv.Type())
			return
		}
		rv.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		switch f := v.(type) {
		case float64:
			rv.SetFloat(f)
		case int64:
			rv.SetFloat(float64(f))
		default:
			d.typeProblem(path, "a number", v)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			d.typeProblem(path, "an array", v)
			return
		}
		s := reflect.MakeSlice(rv.Type(), len(arr), len(arr))
		for i, el := range arr {
			d.value(sub(path, index(i)), el, s.Index(i))
		}
		rv.Set(s)
	case reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			d.typeProblem(path, "an array", v)
			return
		}
		if len(arr) != rv.Len() {
			d.problem(path, nil, "want an array of %d elements, got %d", rv.Len(), len(arr))
			return
		}
		for i, el := range arr {
			d.value(sub(path, index(i)), el, rv.Index(i))
		}
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			d.problem(path, nil, "cannot decode into Go type %s", rv.Type())
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			d.typeProblem(path, "a table", v)
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(rv.Type(), len(m)))
		}
		et := rv.Type().Elem()
		for _, k := range slices.Sorted(maps.Keys(m)) {
			key := reflect.ValueOf(k).Convert(rv.Type().Key())
			el := reflect.New(et).Elem()
			if old := rv.MapIndex(key); old.IsValid() {
				el.Set(old) // keep defaults the caller put there
			}
			d.value(sub(path, k), m[k], el)
			rv.SetMapIndex(key, el)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.typeProblem(path, "a table", v)
			return
		}
		d.table(path, m, rv)
	default:
		d.problem(path, nil, "cannot decode into Go type %s", rv.Type())
	}
}

// duration accepts a Go duration string ("1m30s") or a whole number of
// seconds, the unit the seed's timeout key uses.
func (d *decoder) duration(path []string, v any, rv reflect.Value) {
	switch x := v.(type) {
	case int64:
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		if x > maxSeconds || x < -maxSeconds {
			d.problem(path, nil, "%d seconds is too long", x)
			return
		}
		rv.SetInt(x * int64(time.Second))
	case string:
		t, err := time.ParseDuration(x)
		if err != nil {
			d.problem(path, err, "%q is not a duration (want seconds, or a string such as \"1m30s\")", x)
			return
		}
		rv.SetInt(int64(t))
	default:
		d.typeProblem(path, "a number of seconds or a duration string", v)
	}
}

// table stores the keys of m into the fields of struct rv, reporting keys
// that match no field.
func (d *decoder) table(path []string, m map[string]any, rv reflect.Value) {
	fields := fieldsOf(rv.Type())
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f, ok := lookupField(fields, k)
		if !ok {
			msg := "unknown key"
			if s := suggest(k, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			d.problem(sub(path, k), nil, "%s", msg)
			continue
		}
		d.value(sub(path, k), m[k], rv.FieldByIndex(f.index))
	}
}

func (d *decoder) typeProblem(path []string, want string, got any) {
	d.problem(path, nil, "want %s, got %s", want, describe(got))
}

// describe names a TOML value's type, and shows it when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return "a string"
		}
		return fmt.Sprintf("a string (%q)", x)
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%v)", x)
	case bool:
		return fmt.Sprintf("a boolean (%t)", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	case toml.LocalDate:
		return "a local date"
	case toml.LocalTime:
		return "a local time"
	case toml.LocalDateTime:
		return "a local date-time"
	}
	return fmt.Sprintf("a %T", v)
}

// cloneValue deep-copies a TOML value, so that a decoded `any` field does
// not share maps or slices with the Config.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneValue(e)
		}
		return s
	}
	return v
}

// field is a struct field a TOML key can name.
type field struct {
	name   string
	tagged bool // named by a tag: matched exactly, not ignoring case
	index  []int
	noenv  bool // tag option "noenv": no environment override (config's own types)
	typ    reflect.Type
}

// fieldsOf lists the fields of struct type t: exported fields, named by
// their toml tag, else by their json tag (so one struct serves this
// decoder and encoding/json), else by their Go name, matched ignoring
// case; untagged embedded structs contribute their own fields; a "-" tag
// skips the field.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, opts, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if _, ok := sf.Tag.Lookup("toml"); !ok {
			tag, _, _ = strings.Cut(sf.Tag.Get("json"), ",")
		}
		if tag == "-" {
			continue
		}
		if sf.Anonymous && tag == "" && sf.Type.Kind() == reflect.Struct {
			for _, f := range fieldsOf(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name := tag
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{name: name, tagged: tag != "", index: []int{i}, noenv: opts == "noenv", typ: sf.Type})
	}
	return out
}

// lookupField finds the field for key k: an exact name first, then an
// untagged field whose Go name differs only in case.
func lookupField(fields []field, k string) (field, bool) {
	for _, f := range fields {
		if f.name == k {
			return f, true
		}
	}
	for _, f := range fields {
		if !f.tagged && strings.EqualFold(f.name, k) {
			return f, true
		}
	}
	return field{}, false
}

// suggest returns the known key closest to the unknown key k, if any is
// close enough to be a likely typo.
func suggest(k string, fields []field) string {
	best, bestDist := "", 3
	for _, f := range fields {
		if d := editDistance(strings.ToLower(k), strings.ToLower(f.name)); d < bestDist {
			best, bestDist = f.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // not a typo; and keeps the cost bounded
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
