package matterbot

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errSignal is the cause of the context that a first signal cancels;
// the log line "shutting down" shows it.
type errSignal struct{ sig os.Signal }

func (e errSignal) Error() string { return "received " + e.sig.String() }

// onSignals returns a context cancelled, with an errSignal as its cause,
// at the first SIGINT or SIGTERM: the subcommand then shuts down
// gracefully (the engine stops taking commands and waits for the running
// ones up to its shutdown timeout). A second signal means the operator
// will not wait: it writes one line to stderr and calls exit with
// 128+signal, what a shell reports for a process killed by that signal.
// SIGHUP, which would otherwise kill the process (a closed terminal, or
// an operator asking for a reload), is reported on stderr and ignored:
// the configuration is read at start only. The lines start with name,
// the program's, as its errors do.
//
// stop undoes the signal handling and waits for its goroutine; call it
// once the subcommand has returned.
func onSignals(parent context.Context, stderr io.Writer, name string, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 4) // signal.Notify never blocks; more signals in a burst are moot
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		stopping := false
		for {
			select {
			case sig := <-sigs:
				switch {
				case sig == syscall.SIGHUP:
					fmt.Fprintf(stderr, "%s: %v: ignored (the configuration is read at start; restart to apply a change)\n", name, sig)
				case !stopping:
					stopping = true
					cancel(errSignal{sig})
				default:
					fmt.Fprintf(stderr, "%s: %v again: exiting without waiting\n", name, sig)
					exit(128 + signalNumber(sig))
					return
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		<-finished
		cancel(nil)
	}
}

// signalNumber returns the number of sig, 2 for os.Interrupt.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return int(syscall.SIGINT)
}
