package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a configuration: a syntax error, an unknown
// key, a value of the wrong type, a missing key or an impossible value. Its
// message names where the problem is, as file:line: key: what is wrong, or
// $VARIABLE: key: what is wrong when the value came from the environment.
type Error struct {
	File string // configuration file; "" when parsed from memory without a name
	Line int    // 1-based line of the key (or of its table when the key is missing); 0 if unknown
	Env  string // environment variable the value came from, if any
	Key  string // dotted key, such as "mattermost.port" or "admins[1]"; "" for a syntax error
	Msg  string // what is wrong
	Err  error  // underlying cause (for errors.Is/As), may be nil
}

// Error formats the problem as "file:line: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("$" + e.Env)
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in one configuration, reported together
// so that one run shows them all. Load and Parse return a non-empty
// ErrorList as their error; use errors.As to get it.
type ErrorList []*Error

// Error prints one problem per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the problems, so errors.As finds an *Error and errors.Is
// sees each cause.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sort orders problems as a reader scans the file: by line, then those
// without a line, then those from the environment.
func (l ErrorList) sort() {
	rank := func(e *Error) int {
		switch {
		case e.Env != "":
			return 2
		case e.Line == 0:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Env, b.Env))
	})
}

// err returns l as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
