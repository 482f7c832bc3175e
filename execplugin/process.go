package execplugin

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// command returns the command that runs the plugin's program: in its
// working directory, with its scrubbed environment, in a process group
// of its own so that a kill reaches the children it started.
func (pl *Plugin) command() *exec.Cmd {
	cmd := exec.Command(pl.m.Exec[0], pl.m.Exec[1:]...)
	cmd.Dir = pl.work
	cmd.Env = pl.env
	setGroup(cmd)
	return cmd
}

// stopGroup stops the process group of cmd, started: SIGTERM now,
// SIGKILL after grace, then after as long again, closeFn (which unblocks
// a read of a pipe a stray grandchild holds open). It returns a func
// that cancels what has not happened yet.
func stopGroup(cmd *exec.Cmd, grace time.Duration, closeFn func()) (cancel func()) {
	signalGroup(cmd, false)
	kill := time.AfterFunc(grace, func() { signalGroup(cmd, true) })
	closer := time.AfterFunc(2*grace, closeFn)
	return func() { kill.Stop(); closer.Stop() }
}

// lookPath finds a program in the bot's PATH.
func lookPath(name string) (string, error) { return exec.LookPath(name) }

// defaultPath is the PATH of a program when the bot has none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// passedThrough are the variables of the bot's environment every
// program gets (docs/exec-plugins.md §8.2).
var passedThrough = []string{"LANG", "LC_ALL", "LC_CTYPE", "TZ"}

// environment returns the environment of the plugin's program. lookup
// reads the bot's environment.
func environment(m *Manifest, dir, work string, token bool, o *Options, lookup func(string) (string, bool)) []string {
	path, ok := lookup("PATH")
	if !ok || path == "" {
		path = defaultPath
	}
	tmp, ok := lookup("TMPDIR")
	if !ok || tmp == "" {
		tmp = work
	}
	env := []string{
		"PATH=" + path, "HOME=" + work, "TMPDIR=" + tmp,
		"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1",
		"MATTERBOT_PROTOCOL=1", "MATTERBOT_PLUGIN=" + m.Name, "MATTERBOT_PLUGIN_DIR=" + dir, "MATTERBOT_MODE=" + m.Mode,
	}
	for _, k := range append(append([]string(nil), passedThrough...), m.Env...) {
		if v, ok := lookup(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if token {
		env = append(env, "MATTERBOT_TOKEN="+o.Token, "MATTERBOT_SERVER_URL="+o.ServerURL)
	}
	return env
}

// Standard error: lines are cut at maxStderrLine, at most stderrRate a
// second per plugin are logged, the last stderrTail are kept for errors.
const (
	maxStderrLine = 4 << 10
	stderrRate    = 100
	stderrTail    = 20
)

// stderrLimiter bounds the stderr lines a plugin logs.
type stderrLimiter struct {
	lim     *rate.Limiter
	mu      sync.Mutex
	dropped int // guarded by mu: lines not logged since the last one logged
}

func newStderrLimiter() *stderrLimiter {
	return &stderrLimiter{lim: rate.NewLimiter(stderrRate, stderrRate)}
}

// stderrLog is a process's standard error: an io.Writer that logs it
// line by line and keeps the last lines.
type stderrLog struct {
	pl    *Plugin
	attrs []any

	mu      sync.Mutex
	partial []byte   // guarded by mu: the line being written
	cut     bool     // guarded by mu: the line being written was too long and is being skipped
	tail    []string // guarded by mu: the last lines, oldest first
}

func (pl *Plugin) newStderr(attrs ...any) *stderrLog {
	return &stderrLog{pl: pl, attrs: attrs}
}

// Write logs the complete lines of p.
func (s *stderrLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !s.cut {
			room := maxStderrLine - len(s.partial)
			if len(chunk) > room {
				s.partial = append(s.partial, chunk[:room]...)
				s.line()
				s.cut = true
			} else {
				s.partial = append(s.partial, chunk...)
			}
		}
		if i < 0 {
			break
		}
		if !s.cut {
			s.line()
		}
		s.cut = false
		p = p[i+1:]
	}
	return n, nil
}

// line logs the line in s.partial. Called with s.mu held.
func (s *stderrLog) line() {
	line := strings.ToValidUTF8(strings.TrimRight(string(s.partial), "\r"), "\uFFFD")
	s.partial = s.partial[:0]
	if len(s.tail) == stderrTail {
		s.tail = s.tail[1:]
	}
	s.tail = append(s.tail, line)
	l := s.pl.stderr
	l.mu.Lock()
	ok := l.lim.Allow()
	dropped := 0
	if ok {
		dropped, l.dropped = l.dropped, 0
	} else {
		l.dropped++
	}
	l.mu.Unlock()
	if !ok {
		return
	}
	if dropped > 0 {
		s.pl.log.Warn("plugin stderr lines dropped", append([]any{"dropped", dropped}, s.attrs...)...)
	}
	s.pl.log.Info("plugin stderr", append([]any{"stream", "stderr", "line", line}, s.attrs...)...)
}

// Close logs a last line without a newline, and how many lines were
// dropped.
func (s *stderrLog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.partial) > 0 && !s.cut {
		s.line()
	}
	l := s.pl.stderr
	l.mu.Lock()
	dropped := l.dropped
	l.dropped = 0
	l.mu.Unlock()
	if dropped > 0 {
		s.pl.log.Warn("plugin stderr lines dropped", append([]any{"dropped", dropped}, s.attrs...)...)
	}
	return nil
}

// Tail returns the last lines, for an error: "; stderr: a | b".
func (s *stderrLog) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return ""
	}
	return "; stderr: " + strings.Join(s.tail, " | ")
}

func utf8Valid(b []byte) bool { return utf8.Valid(b) }

func base64Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// osLookup reads the bot's environment.
func osLookup(k string) (string, bool) { return os.LookupEnv(k) }
