package bot

import (
	"context"
	"log/slog"
	"time"
)

// Outcome is how a command or listener run ended, as CommandRun reports
// it and the engine's log line per command says.
type Outcome string

// The outcomes of a run. Only OutcomeError and OutcomeTimeout are the
// bot's own trouble; the others are the users' doing or the engine
// keeping its limits.
const (
	// OutcomeOK: the handler returned nil.
	OutcomeOK Outcome = "ok"
	// OutcomeUsage: the command was given bad arguments (a *UsageError,
	// or a regex command named but not matched); the user got its usage.
	OutcomeUsage Outcome = "usage"
	// OutcomeError: the handler returned another error or panicked; the
	// user got its text (a *UserError) or a reference to the log.
	OutcomeError Outcome = "error"
	// OutcomeDenied: an access rule or an admin-only command refused the
	// user; the handler did not run.
	OutcomeDenied Outcome = "denied"
	// OutcomeBusy: the queue was full (Options.MaxQueue); the handler did
	// not run and the user was told to try again.
	OutcomeBusy Outcome = "busy"
	// OutcomeTimeout: the handler ran past its deadline
	// (Options.CommandTimeout, Cmd.Timeout).
	OutcomeTimeout Outcome = "timeout"
	// OutcomeNoAnswer: the handler asked a question (Request.Ask) that
	// was not answered in time and returned ErrNoAnswer.
	OutcomeNoAnswer Outcome = "no_answer"
	// OutcomeCancelled: shutdown cancelled the handler, or the command
	// came as shutdown began and did not run.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeNoMatch: the handler returned ErrNoMatch: the message was
	// not for it after all, and the engine went on without it.
	OutcomeNoMatch Outcome = "no_match"
)

// Outcomes lists every Outcome, in the order of the constants.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOK, OutcomeUsage, OutcomeError, OutcomeDenied, OutcomeBusy,
		OutcomeTimeout, OutcomeNoAnswer, OutcomeCancelled, OutcomeNoMatch}
}

// CommandRun is one run of a command or listener, as the engine reports
// it to Options.Observer once the run is over.
type CommandRun struct {
	// Plugin and Command name what ran; Command is "listen" for a
	// listener.
	Plugin, Command string
	// Listener reports a listener rather than a command.
	Listener bool
	// Outcome is how the run ended.
	Outcome Outcome
	// Duration is how long the handler ran, the engine's replies to its
	// error included; 0 when it did not run (denied, busy).
	Duration time.Duration
	// Message is the message that started the run. Do not modify it.
	Message *Message

	id uint32 // see RequestID
}

// RequestID returns the run's reference (Request.ID): it is in the log
// line of the run, and in the reply to an internal error. Made when
// asked: a metric has no use for it.
func (r CommandRun) RequestID() string { return refString(r.id) }

// Observer is told of the engine's work, for metrics (Options.Observer).
// Its methods are called from the handlers' goroutines, on the path of
// every command: they must be quick and safe for concurrent use.
type Observer interface {
	// ObserveCommand is called once per command or listener run, when
	// it is over.
	ObserveCommand(CommandRun)
}

// done reports the end of a run: the log line per command, at Info, and
// the Observer. detail holds extra attributes (the reason of a refusal,
// the error the user was shown).
func (e *Engine) done(req *Request, outcome Outcome, d time.Duration, detail ...slog.Attr) {
	logged := e.log.Enabled(context.Background(), slog.LevelInfo)
	o := e.opts.Observer
	if !logged && o == nil {
		return
	}
	run := CommandRun{
		Plugin:   req.cmd.plugin.name,
		Command:  req.cmd.name,
		Listener: req.cmd.listener,
		Outcome:  outcome,
		Duration: d,
		Message:  req.Message,
		id:       req.id,
	}
	// Observed first: whoever reads the line finds the run counted.
	if o != nil {
		o.ObserveCommand(run)
	}
	if logged {
		m := req.Message
		attrs := append([]slog.Attr{
			slog.String("request_id", run.RequestID()),
			slog.String("plugin", run.Plugin),
			slog.String("command", run.Command),
			slog.String("outcome", string(outcome)),
			slog.Duration("duration", d),
			slog.String("user_id", m.From.ID),
			slog.String("user", m.From.Username),
			slog.String("room_id", m.Room.ID),
			slog.String("room", m.Room.Name),
		}, detail...)
		e.log.LogAttrs(context.Background(), slog.LevelInfo, "command", attrs...)
	}
}
