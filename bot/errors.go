package bot

import (
	"fmt"
	"math/rand/v2"
)

// StartupError is a failure to start that the operator must fix and that
// waiting will not: a backend that cannot reach its server or is refused
// by it, or a name in Options that the server does not know. Engine.Run
// returns it (wrapped) at once, without retrying; backends return it from
// Run for such failures.
//
// Reason is one line written for the operator, shown as is by a
// command-line program: "http://chat:8065 rejected the token: check that
// it is valid and not revoked". Err is the cause, so errors.Is and
// errors.As see through it.
type StartupError struct {
	Reason string // what is wrong and what to do, one line, no package prefix
	Err    error  // the cause; nil when Reason says it all
}

// Error returns the reason.
func (e *StartupError) Error() string { return e.Reason }

// Unwrap returns the cause.
func (e *StartupError) Unwrap() error { return e.Err }

// UserError is an error whose text is written for the person who ran the
// command. When a handler returns one (wrapped or not), the engine
// replies with its text: "`!deploy rollback` failed: no earlier deploy
// of web to prod". Only the UserError's own text is shown, not what
// wraps it.
//
// Any other error a handler returns is internal: the user sees a short
// line with a reference ("Sorry, `!deploy` failed (ref 7f3a9c).") and the
// log has the error in full, with the same reference. Wrap an error in a
// UserError only when its text is fit to be read in the chat: no stack of
// package prefixes, ids or addresses of internal services.
type UserError struct {
	Err error
}

// Error returns the text shown to the user.
func (e *UserError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UserError) Unwrap() error { return e.Err }

// UserErrorf returns a *UserError with a message formatted like
// fmt.Errorf (%w wraps): the text the user reads when a handler returns
// it.
//
//	return bot.UserErrorf("no earlier deploy of %s to %s", svc, env)
func UserErrorf(format string, args ...any) error {
	return &UserError{Err: fmt.Errorf(format, args...)}
}

// newRef returns a short random reference that links a command's log
// line, and an internal error's reply, to the run: 24 random bits, shown
// as six hex digits by refString. Kept as a number until it is shown:
// most runs never show it.
func newRef() uint32 { return rand.Uint32() & 0xffffff }

// refString shows ref as six hex digits: "07f3a9".
func refString(ref uint32) string {
	const hex = "0123456789abcdef"
	var b [6]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hex[ref&0xf]
		ref >>= 4
	}
	return string(b[:])
}

// panicError is what a handler's panic becomes; the stack is logged with
// ref.
type panicError struct{ ref string }

func (e *panicError) Error() string { return "handler panicked (ref " + e.ref + ")" }

// Is makes a panicError an errPanic.
func (e *panicError) Is(target error) bool { return target == errPanic }
