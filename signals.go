package matterbot

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
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
// an operator asking for a reload), goes to hup's taker (run, which
// reloads its configuration); without one it is reported on stderr and
// ignored. The lines start with name, the program's, as its errors do.
//
// stop undoes the signal handling and waits for its goroutine; call it
// once the subcommand has returned.
func onSignals(parent context.Context, stderr io.Writer, name string, exit func(int), hup *hangup) (ctx context.Context, stop func()) {
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
					if !hup.deliver() {
						fmt.Fprintf(stderr, "%s: %v: ignored (only run reloads its configuration on SIGHUP)\n", name, sig)
					}
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

// hangup carries SIGHUP from onSignals to the subcommand that takes it:
// run, which reloads its configuration. A nil *hangup has no taker.
type hangup struct {
	mu sync.Mutex
	ch chan struct{} // guarded by mu: the taker's, size 1; nil without one
}

// deliver passes a SIGHUP to the taker, and reports whether there is
// one. Signals that come while one waits to be taken are one reload.
func (h *hangup) deliver() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		return false
	}
	select {
	case h.ch <- struct{}{}:
	default:
	}
	return true
}

// take makes the caller the taker of SIGHUP: ch receives a value for
// each (or for each burst), until release. On a nil *hangup, ch is nil.
func (h *hangup) take() (ch <-chan struct{}, release func()) {
	if h == nil {
		return nil, func() {}
	}
	c := make(chan struct{}, 1)
	h.mu.Lock()
	h.ch = c
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		if h.ch == c {
			h.ch = nil
		}
		h.mu.Unlock()
	}
}

// signalNumber returns the number of sig, 2 for os.Interrupt.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return int(syscall.SIGINT)
}
