package matterbot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// printError writes err to w as main does: the program's name, ": " and
// one line per problem.
func printError(w io.Writer, name string, err error) {
	for _, line := range errorLines(err) {
		fmt.Fprintf(w, "%s: %s\n", name, line)
	}
}

// errorLines returns what main prints for err, one problem a line, each
// to be prefixed with "matterbot: ". Errors pass through several layers
// (config, bot, backend), each adding its package prefix for programs
// that log them; an operator wants the one sentence that says what to
// fix. The error itself is left as it is, so errors.Is and errors.As keep
// working for callers of run's pieces.
func errorLines(err error) []string {
	var (
		ce   *cliError
		se   *bot.StartupError
		list config.ErrorList
	)
	switch {
	case errors.As(err, &ce):
		return []string{ce.msg}
	case errors.As(err, &se):
		return []string{se.Reason}
	case errors.As(err, &list):
		lines := make([]string, len(list))
		for i, e := range list {
			lines[i] = e.Error()
		}
		return lines
	}
	return strings.Split(err.Error(), "\n")
}

// cliError is an error whose message this command wrote for the
// operator; it wraps the cause for errors.Is/As.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// configNotFound reports whether err, from config.Load, says that the
// configuration file itself does not exist; a missing file that the
// configuration names (token_file, password_file) is one of its problems,
// reported at its key and line instead.
func configNotFound(err error) bool {
	var list config.ErrorList
	return errors.Is(err, fs.ErrNotExist) && !errors.As(err, &list)
}
