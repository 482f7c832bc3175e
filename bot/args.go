package bot

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Split splits s into words the way a shell does: words are separated by
// white space; single quotes keep everything literally; double quotes keep
// white space and honour the escapes \" and \\; outside quotes a backslash
// escapes the next character. Typographic quotes (“…”, ‘…’), which chat
// clients like to insert, count as plain quotes. An unterminated quote is
// an error.
func Split(s string) ([]string, error) {
	var (
		words []string
		b     strings.Builder
		in    bool // inside a word
		quote rune // the closing quote we are inside, or 0
	)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case quote == '\'':
			if r == '\'' || r == '’' {
				quote = 0
				continue
			}
			b.WriteRune(r)
		case quote == '"':
			if r == '"' || r == '”' {
				quote = 0
				continue
			}
			if r == '\\' && i < len(s) && (s[i] == '"' || s[i] == '\\') {
				b.WriteByte(s[i])
				i++
				continue
			}
			b.WriteRune(r)
		case r == '\'' || r == '‘':
			quote, in = '\'', true
		case r == '"' || r == '“':
			quote, in = '"', true
		case r == '\\':
			in = true
			if i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
				i += size
				b.WriteRune(r)
			}
		case unicode.IsSpace(r):
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			in = true
			b.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if in {
		words = append(words, b.String())
	}
	return words, nil
}

// UsageError reports arguments that do not fit a command. The engine
// replies with the problem and the command's usage line. Handlers may
// return one (wrapped or not) to get the same treatment.
type UsageError struct {
	Err error
}

// Error returns the problem, without the usage line.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying problem.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// argField is one field of a typed-argument struct.
type argField struct {
	index      int
	name       string // flag name (kebab-case) or positional name
	short      string
	help       string
	enum       []string
	def        string
	hasDef     bool
	positional bool
	optional   bool
	kind       argKind
}

type argKind int

const (
	kindString argKind = iota
	kindBool
	kindInt
	kindUint
	kindFloat
	kindDuration
	kindStrings
)

var durationType = reflect.TypeFor[time.Duration]()

// argSpec is the parsed shape of a typed-argument struct, built once when
// the command is declared.
type argSpec struct {
	typ         reflect.Type
	positionals []*argField
	flags       []*argField
	byName      map[string]*argField // "--name" and "-s"
}

// newArgSpec reads the struct tags of T. Tags, in the style of kong:
//
//	arg:""         a positional argument (in field order); otherwise a --flag
//	name:"x"       the flag or placeholder name (default: field name in kebab-case)
//	short:"f"      a one-letter alias for a flag (-f)
//	help:"..."     shown in the command's help
//	enum:"a,b"     the allowed values
//	default:"v"    the value when absent (makes a positional optional)
//	optional:""    a positional that may be absent
//
// Supported field types: string, bool, signed and unsigned integers,
// floats, time.Duration and []string (a repeatable flag, or the last
// positional, which takes the remaining words).
func newArgSpec(t reflect.Type) (*argSpec, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("argument type %v is not a struct", t)
	}
	s := &argSpec{typ: t, byName: map[string]*argField{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Tag.Get("arg") == "-" {
			continue
		}
		f := &argField{index: i, help: sf.Tag.Get("help")}
		_, f.positional = sf.Tag.Lookup("arg")
		_, f.optional = sf.Tag.Lookup("optional")
		f.def, f.hasDef = sf.Tag.Lookup("default")
		f.short = sf.Tag.Get("short")
		f.name = sf.Tag.Get("name")
		if f.name == "" {
			f.name = kebab(sf.Name)
		}
		if e := sf.Tag.Get("enum"); e != "" {
			for v := range strings.SplitSeq(e, ",") {
				f.enum = append(f.enum, strings.TrimSpace(v))
			}
		}
		switch {
		case sf.Type == durationType:
			f.kind = kindDuration
		case sf.Type.Kind() == reflect.String:
			f.kind = kindString
		case sf.Type.Kind() == reflect.Bool:
			f.kind = kindBool
		case sf.Type.Kind() >= reflect.Int && sf.Type.Kind() <= reflect.Int64:
			f.kind = kindInt
		case sf.Type.Kind() >= reflect.Uint && sf.Type.Kind() <= reflect.Uint64:
			f.kind = kindUint
		case sf.Type.Kind() == reflect.Float32 || sf.Type.Kind() == reflect.Float64:
			f.kind = kindFloat
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String:
			f.kind = kindStrings
		default:
			return nil, fmt.Errorf("argument field %s has unsupported type %v", sf.Name, sf.Type)
		}
		if f.positional {
			if n := len(s.positionals); n > 0 && s.positionals[n-1].kind == kindStrings {
				return nil, fmt.Errorf("argument field %s follows the list %s, which takes the remaining words", sf.Name, s.positionals[n-1].name)
			}
			if f.kind == kindBool {
				return nil, fmt.Errorf("argument field %s: a positional cannot be a bool", sf.Name)
			}
			if n := len(s.positionals); n > 0 && (s.positionals[n-1].optional || s.positionals[n-1].hasDef) && !f.optional && !f.hasDef && f.kind != kindStrings {
				return nil, fmt.Errorf("argument field %s is required but follows an optional one", sf.Name)
			}
			s.positionals = append(s.positionals, f)
			continue
		}
		for _, key := range []string{"--" + f.name, "-" + f.short} {
			if key == "-" {
				continue
			}
			if _, dup := s.byName[key]; dup {
				return nil, fmt.Errorf("argument field %s: flag %s declared twice", sf.Name, key)
			}
			s.byName[key] = f
		}
		s.flags = append(s.flags, f)
	}
	return s, nil
}

// kebab turns "DryRun" into "dry-run" and "URL" into "url".
func kebab(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parse fills the struct v points to from words. Errors are *UsageError.
func (s *argSpec) parse(words []string, v reflect.Value) error {
	seen := make(map[*argField]bool, len(s.flags))
	pos := 0
	onlyPositional := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !onlyPositional && w == "--" {
			onlyPositional = true
			continue
		}
		if !onlyPositional && len(w) > 1 && w[0] == '-' && !isNumber(w) {
			name, val, hasVal := strings.Cut(w, "=")
			f, ok := s.byName[name]
			if !ok {
				return Usagef("unknown flag %s", name)
			}
			if f.kind == kindBool {
				if !hasVal {
					val = "true"
				}
			} else if !hasVal {
				if i+1 >= len(words) {
					return Usagef("flag --%s needs a value", f.name)
				}
				i++
				val = words[i]
			}
			if err := f.set(v.Field(f.index), val); err != nil {
				return err
			}
			seen[f] = true
			continue
		}
		if pos >= len(s.positionals) {
			return Usagef("unexpected argument %q", w)
		}
		f := s.positionals[pos]
		if err := f.set(v.Field(f.index), w); err != nil {
			return err
		}
		seen[f] = true
		if f.kind != kindStrings {
			pos++
		}
	}
	for _, f := range s.positionals {
		if seen[f] {
			continue
		}
		switch {
		case f.hasDef:
			if err := f.set(v.Field(f.index), f.def); err != nil {
				return err
			}
		case !f.optional && f.kind != kindStrings:
			return Usagef("missing <%s>", f.name)
		}
	}
	for _, f := range s.flags {
		if !seen[f] && f.hasDef {
			if err := f.set(v.Field(f.index), f.def); err != nil {
				return err
			}
		}
	}
	return nil
}

// isNumber reports whether w is a negative number, which is a value, not a
// flag.
func isNumber(w string) bool {
	_, err := strconv.ParseFloat(w, 64)
	return err == nil
}

func (f *argField) label() string {
	if f.positional {
		return "<" + f.name + ">"
	}
	return "--" + f.name
}

func (f *argField) set(v reflect.Value, s string) error {
	if len(f.enum) > 0 {
		ok := false
		for _, e := range f.enum {
			ok = ok || e == s
		}
		if !ok {
			return Usagef("%s: %q is not one of %s", f.label(), s, strings.Join(f.enum, ", "))
		}
	}
	switch f.kind {
	case kindString:
		v.SetString(s)
	case kindStrings:
		v.Set(reflect.Append(v, reflect.ValueOf(s)))
	case kindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Usagef("%s: %q is not true or false", f.label(), s)
		}
		v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return Usagef("%s: %q is not a whole number%s", f.label(), s, rangeHint(err))
		}
		v.SetInt(n)
	case kindUint:
		n, err := strconv.ParseUint(s, 0, v.Type().Bits())
		if err != nil {
			return Usagef("%s: %q is not a whole number >= 0%s", f.label(), s, rangeHint(err))
		}
		v.SetUint(n)
	case kindFloat:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return Usagef("%s: %q is not a number%s", f.label(), s, rangeHint(err))
		}
		v.SetFloat(n)
	case kindDuration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return Usagef("%s: %q is not a duration like 90s or 5m", f.label(), s)
		}
		v.SetInt(int64(d))
	}
	return nil
}

func rangeHint(err error) string {
	if errors.Is(err, strconv.ErrRange) {
		return " in range"
	}
	return ""
}

// usage returns the synopsis of the arguments: "<service> <env> [--force]".
func (s *argSpec) usage() string {
	var parts []string
	for _, f := range s.positionals {
		switch {
		case f.kind == kindStrings:
			parts = append(parts, "[<"+f.name+">...]")
		case f.optional || f.hasDef:
			parts = append(parts, "[<"+f.name+">]")
		default:
			parts = append(parts, "<"+f.name+">")
		}
	}
	for _, f := range s.flags {
		if f.kind == kindBool {
			parts = append(parts, "[--"+f.name+"]")
		} else {
			parts = append(parts, "[--"+f.name+" "+strings.ToUpper(f.name)+"]")
		}
	}
	return strings.Join(parts, " ")
}

// details returns one line per argument with its help, enum and default.
func (s *argSpec) details() []string {
	var lines []string
	for _, f := range append(append([]*argField(nil), s.positionals...), s.flags...) {
		label := f.label()
		if f.short != "" {
			label = "-" + f.short + ", " + label
		}
		text := f.help
		if len(f.enum) > 0 {
			text = strings.TrimSpace(text + " (one of " + strings.Join(f.enum, ", ") + ")")
		}
		if f.hasDef {
			text = strings.TrimSpace(text + " (default " + f.def + ")")
		}
		lines = append(lines, label+"  "+text)
	}
	return lines
}
