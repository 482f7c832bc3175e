package bot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// ArgType is the type of an Arg: what the user types, and the Go type of
// its value.
type ArgType string

// The types of Arg, with the Go type of their values.
const (
	ArgString   ArgType = "string"   // string
	ArgBool     ArgType = "bool"     // bool
	ArgInt      ArgType = "int"      // int64
	ArgFloat    ArgType = "float"    // float64
	ArgDuration ArgType = "duration" // time.Duration
	ArgStrings  ArgType = "strings"  // []string
)

var argGoTypes = map[ArgType]reflect.Type{
	ArgString:   reflect.TypeFor[string](),
	ArgBool:     reflect.TypeFor[bool](),
	ArgInt:      reflect.TypeFor[int64](),
	ArgFloat:    reflect.TypeFor[float64](),
	ArgDuration: durationType,
	ArgStrings:  reflect.TypeFor[[]string](),
}

// Arg describes one typed argument of a command declared with
// Plugin.CommandArgs: the struct tags of Command's argument struct, as
// a value, for plugins whose arguments are known only at run time.
type Arg struct {
	// Name is the flag's name (--name) or the positional's placeholder
	// (<name>), and the key of the value given to the handler.
	Name string
	// Type is the argument's type. Default ArgString.
	Type ArgType
	// Positional makes it a positional argument, in the order of the
	// slice; otherwise it is a --flag.
	Positional bool
	// Optional lets a positional be absent.
	Optional bool
	// Short is a one-letter alias of a flag: "f" for -f.
	Short string
	// Help is shown in the command's help.
	Help string
	// Enum lists the allowed values; none may hold a comma.
	Enum []string
	// Default is the value when the argument is absent, as typed; it
	// makes a positional optional. Empty: none.
	Default string
}

// CommandArgs declares a command with typed arguments described by args,
// parsed and reported exactly as those of Command are (the same syntax,
// usage line, help and errors). h gets the values by Arg.Name: a
// string, bool, int64, float64, time.Duration or []string (see ArgType);
// an absent argument without a default has its type's zero value.
// Mistakes in args (two arguments of one name, a bool positional, ...)
// are declaration errors, reported by New like the others.
func (p *Plugin) CommandArgs(name string, args []Arg, h func(ctx context.Context, req *Request, values map[string]any) error) *Cmd {
	spec, err := argSpecOf(args)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("command %q: %w", name, err))
		spec = &argSpec{typ: reflect.TypeFor[struct{}]()}
	}
	var hf HandlerFunc
	if h != nil {
		hf = func(ctx context.Context, req *Request) error {
			words, err := req.Words()
			if err != nil {
				return err
			}
			v := reflect.New(spec.typ).Elem()
			if err := spec.parse(words, v); err != nil {
				return err
			}
			values := make(map[string]any, len(args))
			for i, a := range args {
				if i < v.NumField() {
					values[a.Name] = v.Field(i).Interface()
				}
			}
			return h(ctx, req, values)
		}
	}
	c := p.Command(name, hf)
	c.args = spec
	return c
}

// fieldRef matches newArgSpec's name of a field of argSpecOf's struct.
var fieldRef = regexp.MustCompile(`argument field A(\d+)\b`)

// argSpecOf returns the spec of a struct type with one field per Arg,
// tagged as Command's argument structs are.
func argSpecOf(args []Arg) (*argSpec, error) {
	fields := make([]reflect.StructField, 0, len(args))
	seen := map[string]bool{}
	for i, a := range args {
		if a.Type == "" {
			a.Type = ArgString
		}
		typ, ok := argGoTypes[a.Type]
		switch {
		case !ok:
			return nil, fmt.Errorf("argument %q: unknown type %q", a.Name, a.Type)
		case a.Name == "" || strings.ContainsAny(a.Name, " \t\"=<>[]"):
			return nil, fmt.Errorf("argument %d: bad name %q", i+1, a.Name)
		case seen[a.Name]:
			return nil, fmt.Errorf("argument %q declared twice", a.Name)
		case len([]rune(a.Short)) > 1:
			return nil, fmt.Errorf("argument %q: short name %q is more than one letter", a.Name, a.Short)
		}
		seen[a.Name] = true
		var tag strings.Builder
		add := func(key, value string) {
			fmt.Fprintf(&tag, "%s:%s ", key, strconv.Quote(value))
		}
		if a.Positional {
			add("arg", "")
		}
		add("name", a.Name)
		if a.Optional {
			add("optional", "")
		}
		if a.Short != "" {
			add("short", a.Short)
		}
		if a.Help != "" {
			add("help", a.Help)
		}
		if len(a.Enum) > 0 {
			for _, e := range a.Enum {
				if e == "" || strings.Contains(e, ",") {
					return nil, fmt.Errorf("argument %q: enum value %q is empty or has a comma", a.Name, e)
				}
			}
			add("enum", strings.Join(a.Enum, ","))
		}
		if a.Default != "" {
			add("default", a.Default)
		}
		fields = append(fields, reflect.StructField{
			Name: "A" + strconv.Itoa(i), Type: typ, Tag: reflect.StructTag(strings.TrimSpace(tag.String())),
		})
	}
	t := reflect.StructOf(fields)
	// A default that does not parse is a declaration error, found now
	// rather than on the first run.
	spec, err := newArgSpec(t)
	if err != nil {
		// newArgSpec names the Go field: name the argument instead.
		msg := fieldRef.ReplaceAllStringFunc(err.Error(), func(m string) string {
			i, _ := strconv.Atoi(fieldRef.FindStringSubmatch(m)[1])
			return "argument " + strconv.Quote(args[i].Name)
		})
		return nil, errors.New(msg)
	}
	for _, f := range append(append([]*argField(nil), spec.positionals...), spec.flags...) {
		if f.hasDef {
			if err := f.set(reflect.New(t).Elem().Field(f.index), f.def); err != nil {
				return nil, fmt.Errorf("argument %q: default: %w", f.name, err)
			}
		}
	}
	return spec, nil
}

// CheckArgs reports the mistakes in args that CommandArgs would report
// when the plugin is set up: for a host that validates a plugin's
// description before it builds the plugin.
func CheckArgs(args []Arg) error {
	_, err := argSpecOf(args)
	return err
}
