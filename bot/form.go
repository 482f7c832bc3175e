package bot

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// formSpec decodes application/x-www-form-urlencoded bodies into one
// type: a struct, a map[string]string or url.Values (map[string][]string).
type formSpec struct {
	fields map[string]formField // by lower-case name; nil for maps
	typ    reflect.Type
}

type formField struct {
	name  string // as declared, for errors
	index []int
	typ   reflect.Type // the field's type; for slices, each value is of its element type
}

// newFormSpec returns the form decoder of t, or nil when t cannot take a
// form: a struct with a field of another type than the scalars and slices
// of scalars below, or neither a struct nor a string map.
func newFormSpec(t reflect.Type) *formSpec {
	if t.Kind() == reflect.Map && t.Key().Kind() == reflect.String {
		if t.Elem().Kind() == reflect.String || t.Key() == reflect.TypeFor[string]() && t.Elem() == reflect.TypeFor[[]string]() {
			return &formSpec{typ: t}
		}
		return nil
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	s := &formSpec{typ: t, fields: map[string]formField{}}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct {
			continue
		}
		name := f.Name
		for _, tag := range []string{"form", "json"} {
			if v, ok := f.Tag.Lookup(tag); ok {
				n, _, _ := strings.Cut(v, ",")
				if n == "-" {
					name = ""
				} else if n != "" {
					name = n
				}
				break
			}
		}
		if name == "" {
			continue
		}
		elem := f.Type
		if elem.Kind() == reflect.Slice {
			elem = elem.Elem()
		}
		if !formScalar(elem) {
			return nil
		}
		s.fields[strings.ToLower(name)] = formField{name: name, index: f.Index, typ: f.Type}
	}
	return s
}

func formScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// decode parses body into v. Unknown keys are ignored, as in JSON
// bodies; a repeated key for a scalar field takes its first value.
func (s *formSpec) decode(body []byte, v reflect.Value) error {
	bad := func(format string, args ...any) error {
		return &HTTPError{Code: http.StatusBadRequest, Message: "invalid form body: " + fmt.Sprintf(format, args...)}
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return bad("%v", err)
	}
	if s.fields == nil { // a string map
		if v.Type().Elem().Kind() == reflect.String {
			m := reflect.MakeMapWithSize(v.Type(), len(vals))
			for k, vs := range vals {
				m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), reflect.ValueOf(vs[0]).Convert(v.Type().Elem()))
			}
			v.Set(m)
		} else {
			v.Set(reflect.ValueOf(vals).Convert(v.Type()))
		}
		return nil
	}
	for k, vs := range vals {
		f, ok := s.fields[strings.ToLower(k)]
		if !ok {
			continue
		}
		fv := v.FieldByIndex(f.index)
		if f.typ.Kind() == reflect.Slice {
			sl := reflect.MakeSlice(f.typ, len(vs), len(vs))
			for i, x := range vs {
				if err := setScalar(sl.Index(i), x); err != nil {
					return bad("field %s: %v", f.name, err)
				}
			}
			fv.Set(sl)
			continue
		}
		if err := setScalar(fv, vs[0]); err != nil {
			return bad("field %s: %v", f.name, err)
		}
	}
	return nil
}

// setScalar parses s into v, one of the kinds formScalar accepts.
func setScalar(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer of %d bits", s, v.Type().Bits())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an unsigned integer of %d bits", s, v.Type().Bits())
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(n)
	}
	return nil
}
