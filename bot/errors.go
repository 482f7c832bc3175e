package bot

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
