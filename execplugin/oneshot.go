package execplugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// doneExit is how long a one-shot program has to exit after writing
// done, before it is killed.
const doneExit = time.Second

// errOutput is output beyond limits.max_output.
var errOutput = errors.New("output over limits.max_output")

// runOneShot runs inv with one process, or with one per step of a
// conversation (docs/exec-plugins.md §4.3).
func (pl *Plugin) runOneShot(ctx context.Context, inv *invocation) error {
	for {
		if err := pl.execOnce(ctx, inv); err != nil {
			return err
		}
		q := inv.ask
		if q == nil || inv.err != nil {
			return nil
		}
		inv.ask, inv.doneOK = nil, false
		ans, err := inv.req.Ask(ctx, *q.Text)
		if err != nil {
			return err
		}
		inv.answers = append(inv.answers, messageOf(ans))
		inv.state = q.State
	}
}

// execOnce runs the program once for inv.
func (pl *Plugin) execOnce(ctx context.Context, inv *invocation) error {
	id := strconv.FormatUint(pl.ids.Add(1), 10)
	req := pl.request(ctx, inv, id, true)
	line, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("execplugin %s: encode request: %w", pl.m.Name, err)
	}
	cmd := pl.command()
	cmd.Stdin = bytes.NewReader(append(line, '\n'))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("execplugin %s: %w", pl.m.Name, err)
	}
	stderr := pl.newStderr("request_id", req.Ref)
	cmd.Stderr = stderr
	grace := pl.o.killGrace()
	cmd.WaitDelay = grace // a grandchild holding stderr open does not hold Wait up
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("execplugin %s: start %s: %w", pl.m.Name, pl.m.Exec[0], err)
	}

	var (
		mu      sync.Mutex
		cancels []func()
	)
	later := func(f func()) {
		mu.Lock()
		cancels = append(cancels, f)
		mu.Unlock()
	}
	stopCtx := context.AfterFunc(ctx, func() {
		later(stopGroup(cmd, grace, func() { _ = stdout.Close() }))
	})

	var text []byte
	readErr := error(nil)
	if pl.m.Output == "text" {
		text, readErr = io.ReadAll(io.LimitReader(stdout, int64(pl.maxOutput())+1))
		if len(text) > pl.maxOutput() {
			readErr = errOutput
		}
	} else {
		readErr = pl.readReplies(ctx, inv, stdout)
	}
	switch {
	case readErr != nil && ctx.Err() == nil:
		signalGroup(cmd, true)
	case inv.doneOK:
		t := time.AfterFunc(doneExit, func() { signalGroup(cmd, true) })
		later(func() { t.Stop() })
	}
	waitErr := cmd.Wait()
	stopCtx()
	signalGroup(cmd, true) // what the program left running in its group
	mu.Lock()
	for _, c := range cancels {
		c()
	}
	mu.Unlock()
	_ = stderr.Close()

	switch {
	case ctx.Err() != nil && !inv.doneOK:
		return fmt.Errorf("execplugin %s: program stopped: %w%s", pl.m.Name, ctx.Err(), stderr.Tail())
	case readErr != nil:
		return fmt.Errorf("execplugin %s: stdout: %w%s", pl.m.Name, readErr, stderr.Tail())
	case inv.err != nil:
		return nil // reported by result
	case waitErr != nil && !inv.doneOK:
		return fmt.Errorf("execplugin %s: program failed: %w%s", pl.m.Name, waitErr, stderr.Tail())
	}
	if s := strings.TrimRight(string(text), "\n"); s != "" {
		return pl.act(ctx, inv, &inbound{Type: typeText, Text: &s})
	}
	return nil
}

// readReplies acts on the replies a one-shot program writes, until it
// closes its output or writes done.
func (pl *Plugin) readReplies(ctx context.Context, inv *invocation, r io.Reader) error {
	br := bufio.NewReader(r)
	left := pl.maxOutput()
	for n := 1; ; n++ {
		line, err := readLine(br, left)
		left -= len(line) + 1 // and its newline
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("line %d: %w", n, err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		in, derr := decodeLine(line)
		if derr != nil {
			return fmt.Errorf("line %d: %w", n, derr)
		}
		if in.Type == typeLog {
			pl.logLine(in)
			continue
		}
		if !isReply(in.Type) {
			return fmt.Errorf("line %d: %q is not a reply", n, in.Type)
		}
		if inv.ask != nil {
			return fmt.Errorf("line %d: %s after ask: ask must be the last line", n, in.Type)
		}
		if cerr := in.check(); cerr != nil {
			return fmt.Errorf("line %d: %w", n, cerr)
		}
		if aerr := pl.act(ctx, inv, in); aerr != nil {
			return fmt.Errorf("line %d: %w", n, aerr)
		}
		if in.Type == typeDone {
			return nil
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine returns the next line of br without its newline, or
// errOutput when it, with what came before, is longer than left. At the
// end it returns the last, unterminated line (if any) with io.EOF.
func readLine(br *bufio.Reader, left int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > left {
			return nil, errOutput
		}
		line = append(line, chunk...)
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		default:
			return line, err
		}
	}
}

// logLine logs a log message of the plugin.
func (pl *Plugin) logLine(in *inbound) {
	args := make([]any, 0, 2*len(in.Attrs)+2)
	if in.ID != "" {
		args = append(args, "id", in.ID)
	}
	for k, v := range in.Attrs {
		args = append(args, k, v)
	}
	msg := in.Msg
	switch in.Level {
	case "debug":
		pl.log.Debug(msg, args...)
	case "warn", "warning":
		pl.log.Warn(msg, args...)
	case "error":
		pl.log.Error(msg, args...)
	default:
		pl.log.Info(msg, args...)
	}
}
