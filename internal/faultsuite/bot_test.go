package faultsuite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// botProc is the bot in a child process: the test binary run with
// childEnv (see TestMain).
type botProc struct {
	n      int // 1 for the first bot, 2 after a restart, ...
	cmd    *exec.Cmd
	logs   *logWatch
	probeW *os.File      // requests to the memory probe
	probeR *bufio.Reader // its answers
	probeF *os.File

	stopping atomic.Bool   // the suite asked it to stop
	exited   chan struct{} // closed once it has exited
	wg       sync.WaitGroup
	state    *os.ProcessState // set before exited is closed
}

// startBot starts bot number n on the world's configuration, its
// backoffs multiplied by scale, and waits until it is connected. If the
// bot exits before stop is called, onExit is called with its state.
func (w *world) startBot(t *testing.T, n int, scale float64, onExit func(*os.ProcessState)) *botProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(w.dir, fmt.Sprintf("bot-%d.log", n))
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(childEnviron(), childEnv+"="+w.cfg, scaleEnv+"="+strconv.FormatFloat(scale, 'g', -1, 64),
		"MATTERBOT_MATTERMOST_TOKEN="+w.token)
	cmd.Stdout, cmd.Stderr = outW, outW
	cmd.ExtraFiles = []*os.File{reqR, respW} // fds 3 and 4: probeIn, probeOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{outW, reqR, respW} { // the child's ends
		_ = f.Close()
	}
	b := &botProc{n: n, cmd: cmd, logs: newLogWatch(lf, logPath), probeW: reqW, probeF: respR,
		probeR: bufio.NewReader(respR), exited: make(chan struct{})}
	b.wg.Go(func() {
		b.logs.read(outR)
		_ = outR.Close()
	})
	b.wg.Go(func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			b.logs.add("faultsuite: wait for the bot: " + err.Error())
		}
		b.state = cmd.ProcessState
		close(b.exited)
		if !b.stopping.Load() {
			onExit(b.state)
		}
	})
	t.Cleanup(func() { b.stop(syscall.SIGKILL) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := b.waitLog(ctx, 0, `msg=connected`); err != nil {
		t.Fatalf("bot %d did not connect: %v\n%s", n, err, b.logs.tail(40))
	}
	return b
}

// childEnviron is the test's environment without the suite's own
// variables, which the bot would warn about.
func childEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MATTERBOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitLog waits for a line of the bot's log, from line since on, that
// matches re, and returns its index. It fails if the bot exits first.
func (b *botProc) waitLog(ctx context.Context, since int, re string) (int, error) {
	rx := regexp.MustCompile(re)
	for {
		i, changed := b.logs.find(since, rx)
		if i >= 0 {
			return i, nil
		}
		select {
		case <-changed:
		case <-b.exited:
			if i, _ := b.logs.find(since, rx); i >= 0 {
				return i, nil
			}
			return -1, fmt.Errorf("bot %d exited (%v) before logging %q", b.n, b.state, re)
		case <-ctx.Done():
			return -1, fmt.Errorf("no line matching %q: %w", re, ctx.Err())
		}
	}
}

// heap is what the child's memory probe reports.
type heap struct {
	inuse, alloc uint64
	goroutines   int
}

func (h heap) String() string {
	return fmt.Sprintf("heap in use %.1f MiB, live %.1f MiB, %d goroutines",
		float64(h.inuse)/(1<<20), float64(h.alloc)/(1<<20), h.goroutines)
}

// heap asks the bot for its memory after a garbage collection.
func (b *botProc) heap() (heap, error) {
	var h heap
	if _, err := io.WriteString(b.probeW, "mem\n"); err != nil {
		return h, fmt.Errorf("memory probe: %w", err)
	}
	_ = b.probeF.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := b.probeR.ReadString('\n')
	if err != nil {
		return h, fmt.Errorf("memory probe: %w", err)
	}
	if _, err := fmt.Sscanf(line, "%d %d %d", &h.inuse, &h.alloc, &h.goroutines); err != nil {
		return h, fmt.Errorf("memory probe answered %q: %w", line, err)
	}
	return h, nil
}

// alive reports whether the bot is running.
func (b *botProc) alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// stop sends sig (SIGTERM: a deploy; SIGKILL: a crash), waits for the
// bot to exit (killing it after 30 s) and returns its exit code. It may
// be called again; later calls return the same code.
func (b *botProc) stop(sig syscall.Signal) int {
	if b.stopping.CompareAndSwap(false, true) {
		_ = b.cmd.Process.Signal(sig) // an error: it has exited already
		select {
		case <-b.exited:
		case <-time.After(30 * time.Second):
			b.logs.add("faultsuite: the bot did not stop within 30s of " + sig.String() + "; killed")
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
		_ = b.probeW.Close()
		_ = b.probeF.Close()
		b.wg.Wait()
		b.logs.close()
	}
	<-b.exited
	return b.state.ExitCode()
}

// logWatch keeps a child's log lines, in memory for the suite and in a
// file for the reader.
type logWatch struct {
	path string
	f    *os.File

	mu sync.Mutex
	// Guarded by mu:
	lines   []string
	changed chan struct{} // closed and replaced when a line is added
}

func newLogWatch(f *os.File, path string) *logWatch {
	return &logWatch{f: f, path: path, changed: make(chan struct{})}
}

// read adds the lines of r until it ends.
func (l *logWatch) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20) // a panic's stack is one long line
	for sc.Scan() {
		l.add(sc.Text())
	}
}

func (l *logWatch) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	_, _ = fmt.Fprintln(l.f, line) // the file is for reading after a failure
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *logWatch) close() { _ = l.f.Close() }

// find returns the index of the first line from since on that matches rx,
// or -1 and a channel closed when a line is added.
func (l *logWatch) find(since int, rx *regexp.Regexp) (int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := since; i < len(l.lines); i++ {
		if rx.MatchString(l.lines[i]) {
			return i, nil
		}
	}
	return -1, l.changed
}

// len returns the number of lines so far.
func (l *logWatch) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// line returns line i.
func (l *logWatch) line(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[i]
}

// tail returns the last n lines, and where the whole log is.
func (l *logWatch) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines[max(0, len(l.lines)-n):]
	return strings.Join(lines, "\n") + "\n(whole log: " + l.path + ")"
}
