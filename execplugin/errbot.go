package execplugin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// reflectDeclared is the type a described manifest decodes into.
var reflectDeclared = reflect.TypeFor[Declared]()

// findPlug returns the .plug file of an Errbot plugin in dir, or
// errNotPlugin.
func findPlug(dir string) (string, error) {
	plugs, err := filepath.Glob(filepath.Join(dir, "*.plug"))
	if err != nil {
		return "", err
	}
	switch len(plugs) {
	case 0:
		return "", errNotPlugin
	case 1:
		return plugs[0], nil
	}
	return "", &ManifestError{File: dir, Err: fmt.Errorf("%d .plug files: one plugin per directory", len(plugs))}
}

// errbotManifest builds the manifest of the Errbot plugin described by
// the .plug file plug (docs/exec-plugins.md §11): long-lived, run by
// runner with the file's path, described by the program.
func errbotManifest(plug string, runner []string) (*Manifest, error) {
	b, err := os.ReadFile(plug)
	if err != nil {
		return nil, &ManifestError{File: plug, Err: err}
	}
	ini, err := parseINI(b)
	if err != nil {
		return nil, &ManifestError{File: plug, Err: err}
	}
	abs, err := filepath.Abs(plug)
	if err != nil {
		return nil, &ManifestError{File: plug, Err: err}
	}
	m := &Manifest{
		Protocol:    Protocol,
		Name:        ini["core.name"],
		Version:     firstOf(ini["core.version"], ini["documentation.version"], "0"),
		Description: ini["documentation.description"],
		Mode:        LongLived,
		Exec:        append(append([]string(nil), runner...), abs),
		Describe:    true,
	}
	if m.Name == "" {
		return nil, &ManifestError{File: plug, Field: "Core.Name", Err: errors.New("missing")}
	}
	if err := m.validate(filepath.Dir(abs)); err != nil {
		err.File = plug
		if err.Field == "name" {
			err.Field = "Core.Name"
		}
		if strings.HasPrefix(err.Field, "exec") {
			err.Field = "[exec] errbot_runner"
		}
		return nil, err
	}
	return m, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseINI reads the INI file Errbot's .plug files are (configparser's
// syntax, as far as they use it): [Section], key = value or key: value,
// # and ; comments, indented continuation lines. Keys are
// "section.key", both in lower case.
func parseINI(b []byte) (map[string]string, error) {
	out := map[string]string{}
	section, last := "", ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case raw[0] == ' ' || raw[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation of nothing", n)
			}
			out[last] += "\n" + line
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section %q", n, line)
			}
			section, last = strings.ToLower(strings.TrimSpace(line[1:len(line)-1])), ""
		default:
			i := strings.IndexAny(line, "=:")
			if i < 0 {
				return nil, fmt.Errorf("line %d: want key = value, got %q", n, line)
			}
			last = section + "." + strings.ToLower(strings.TrimSpace(line[:i]))
			out[last] = strings.TrimSpace(line[i+1:])
		}
	}
	return out, sc.Err()
}
