package console

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/chzyer/readline"
)

// errInterrupt is returned by a lineSource when the user pressed Ctrl-C:
// the line is dropped and the console asks for the next one.
var errInterrupt = errors.New("console: interrupted")

// lineSource reads the user's lines. readLine returns io.EOF at the end
// of the input (Ctrl-D on an empty line).
type lineSource interface {
	readLine(prompt string) (string, error)
	// writer is where output goes while the source may be showing a
	// prompt: readline's writer redraws the line being edited below it.
	writer() io.Writer
	// interrupt makes a readLine in progress return, when the source
	// can, and reports whether it could.
	interrupt() bool
	// close releases the source once no readLine is running.
	// interrupted says whether one was interrupted.
	close(interrupted bool)
}

// plainSource reads lines from any reader. When echo is set (the input is
// not a terminal, which would echo by itself) it writes each line after
// its prompt, so the output reads as a transcript. Its output goes
// through the backend's screen, which knows that a prompt is showing.
type plainSource struct {
	in     *bufio.Reader
	screen *screen
	echo   bool
}

func (p *plainSource) readLine(prompt string) (string, error) {
	if err := p.screen.showPrompt(prompt); err != nil {
		return "", err
	}
	s, err := p.in.ReadString('\n')
	if err != nil && (s == "" || err != io.EOF) {
		end := ""
		if p.echo && err == io.EOF {
			end = "\n" // end the prompt's line
		}
		_ = p.screen.endPrompt(end)
		return "", err
	}
	s = strings.TrimRight(s, "\r\n")
	end := ""
	if p.echo {
		end = s + "\n"
	}
	if err := p.screen.endPrompt(end); err != nil {
		return "", err
	}
	return s, nil
}

func (p *plainSource) writer() io.Writer { return p.screen.out }

// interrupt cannot interrupt a Read in progress on an arbitrary reader.
func (p *plainSource) interrupt() bool { return false }

func (p *plainSource) close(bool) {}

// readlineSource is an interactive terminal, edited with
// github.com/chzyer/readline: history (kept in a file), Ctrl-C to drop the
// line, Ctrl-D to quit, tab completion of commands.
type readlineSource struct {
	rl    *readline.Instance
	stdin *readline.CancelableStdin
}

// newReadline starts line editing on the terminal in/out. history is the
// history file ("" for none). onWidth registers a callback for terminal
// resizes; nil means readline's (a SIGWINCH handler for the process).
func newReadline(in, out *os.File, history string, complete readline.AutoCompleter, onWidth func(func())) (*readlineSource, error) {
	fd := int(in.Fd())
	var state *readline.State
	stdin := readline.NewCancelableStdin(in)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  stdin,
		Stdout:                 out,
		Stderr:                 out,
		HistoryFile:            history,
		HistorySearchFold:      true,
		AutoComplete:           complete,
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n",
		FuncIsTerminal:         func() bool { return true },
		FuncGetWidth:           func() int { return terminalWidth(out) },
		FuncOnWidthChanged:     onWidth,
		DisableAutoSaveHistory: false,
		FuncMakeRaw: func() error {
			s, err := readline.MakeRaw(fd)
			state = s
			return err
		},
		FuncExitRaw: func() error {
			if state == nil {
				return nil
			}
			return readline.Restore(fd, state)
		},
	})
	if err != nil {
		return nil, err
	}
	return &readlineSource{rl: rl, stdin: stdin}, nil
}

func (r *readlineSource) readLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	s, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupt
	}
	return s, err
}

func (r *readlineSource) writer() io.Writer { return r.rl.Stdout() }

// interrupt cancels the input: readline's own Close only closes its
// buffer, and its reader would wait for the user's next Enter. The
// goroutine blocked in the terminal's Read stays until the process exits
// or a key is pressed; it touches nothing.
func (r *readlineSource) interrupt() bool {
	_ = r.stdin.Close()
	return true
}

// close shuts readline down in an order that avoids a goroutine leak and
// data races in readline v1.5.1: Instance.Close sends io.EOF on a channel
// of size 1 on which readline's line reader sends its own last io.EOF,
// and a reader that finds the channel full blocks forever; calling Close
// while a Readline runs races inside readline. So the line reader must
// have ended before Close. When a Readline was interrupted, it took that
// last io.EOF and the reader has ended. Otherwise one more Readline wakes
// the reader on the cancelled input and takes its io.EOF.
func (r *readlineSource) close(interrupted bool) {
	if !interrupted {
		_ = r.stdin.Close()
		r.rl.SetPrompt("")
		_, _ = r.rl.Readline()
	}
	_ = r.rl.Close() // restores the terminal; an error leaves nothing to do
}

// isTerminal reports whether v is an *os.File on a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}

// terminalWidth returns the width of the terminal f, or 80.
func terminalWidth(f *os.File) int {
	if w, _, err := readline.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	return 80
}
