package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// expandPath replaces $NAME and ${NAME} in the value of a path-valued key
// (token_file, password_file, storage.path) by the variable's value, and
// $$ by a dollar sign, so that a service manager's directories can be
// named in the file: token_file = "${CREDENTIALS_DIRECTORY}/token" under
// systemd's LoadCredential=. A variable that is unset or empty is an
// error rather than an empty string, which would silently turn
// "${CREDENTIALS_DIRECTORY}/token" into "/token"; so is a "$" followed by
// neither a name, "{", nor "$". lookupEnv may be nil: no variable is set.
func expandPath(s string, lookupEnv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		var name string
		switch {
		case strings.HasPrefix(s, "$"):
			b.WriteByte('$')
			s = s[1:]
			continue
		case strings.HasPrefix(s, "{"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", fmt.Errorf("%q: ${ without a closing }", "$"+s)
			}
			name, s = s[1:end], s[end+1:]
			if !isEnvName(name) {
				return "", fmt.Errorf("${%s}: %q is not a variable name", name, name)
			}
		default:
			n := 0
			for n < len(s) && isEnvNameByte(s[n], n == 0) {
				n++
			}
			if n == 0 {
				return "", fmt.Errorf("a $ not followed by a variable name (write $$ for a dollar sign)")
			}
			name, s = s[:n], s[n:]
		}
		var v string
		if lookupEnv != nil {
			v, _ = lookupEnv(name)
		}
		if v == "" {
			hint := ""
			if name == "CREDENTIALS_DIRECTORY" {
				hint = " (systemd sets it for a service with LoadCredential=)"
			}
			return "", fmt.Errorf("$%s is not set%s", name, hint)
		}
		b.WriteString(v)
	}
}

// isEnvName reports whether s is a shell variable name: a letter or "_",
// then letters, digits and "_".
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !isEnvNameByte(s[i], i == 0) {
			return false
		}
	}
	return true
}

func isEnvNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// execPaths expands the variables in the paths of [exec] and makes them
// relative to dir, the configuration file's.
func (d *decoder) execPaths(e *Exec, dir string, lookupEnv func(string) (string, bool)) {
	fix := func(key []string, p string) string {
		x, err := expandPath(p, lookupEnv)
		if err != nil {
			d.problem(key, err, "%v", err)
			return p
		}
		if x != "" && !filepath.IsAbs(x) {
			x = filepath.Join(dir, x)
		}
		return x
	}
	for i, p := range e.Dirs {
		e.Dirs[i] = fix([]string{"exec", "dirs", index(i)}, p)
	}
	e.WorkDir = fix([]string{"exec", "work_dir"}, e.WorkDir)
}
