package matterbot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/chzyer/readline"

	"github.com/matterbot/matterbot/config"
)

// initCmd writes a new configuration file: config.Template, with the
// server, team and credentials given by flags or, on a terminal, asked.
type initCmd struct {
	Config string `short:"c" default:"matterbot.toml" type:"path" help:"File to write; an existing file is never overwritten." placeholder:"FILE"`
	Server string `help:"The Mattermost server: a host name, host:port, or the URL people open (https://chat.example.com)." placeholder:"URL"`
	Team   string `help:"The team the bot works in: its name as in the team's URL." placeholder:"TEAM"`
	Token  string `help:"The bot's access token, written to the file (mode 0600); or leave it out and set MATTERBOT_MATTERMOST_TOKEN when running." placeholder:"TOKEN"`
	Login  string `help:"Log in as this user with a password instead of a token. The password is not written: set MATTERBOT_MATTERMOST_PASSWORD, or password_file." placeholder:"USER"`

	// prompt asks for the missing values on standard input even when it
	// is not a terminal, for tests.
	prompt bool
}

func (c *initCmd) Run(e *env) error {
	if c.Token != "" && c.Login != "" {
		return &cliError{"give --token or --login, not both", nil}
	}
	if _, err := os.Lstat(c.Config); err == nil {
		return &cliError{fmt.Sprintf("%s already exists: init never overwrites a configuration; remove it, or name another file with -c FILE", c.Config), fs.ErrExist}
	}
	if p := e.prompter(c.prompt); p != nil {
		if err := c.ask(e.ctx, p); err != nil {
			if e.ctx.Err() != nil {
				return &cliError{fmt.Sprintf("%v: %s not written", context.Cause(e.ctx), c.Config), err}
			}
			return err
		}
	}
	text, err := c.fill(config.Template())
	if err != nil {
		return err
	}
	// The file must load once its blanks are filled: problems other than
	// a missing value are this command's to report, before writing.
	var todo []string
	if _, err := config.Parse(c.Config, []byte(text), nil); err != nil {
		var list config.ErrorList
		if !errors.As(err, &list) {
			return err
		}
		var bad config.ErrorList
		for _, pe := range list {
			if strings.HasPrefix(pe.Msg, "missing:") {
				todo = append(todo, pe.Key)
			} else {
				bad = append(bad, pe)
			}
		}
		if len(bad) > 0 {
			return bad
		}
	}
	f, err := os.OpenFile(c.Config, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // created since the check above
		return &cliError{fmt.Sprintf("%s already exists: init never overwrites a configuration", c.Config), err}
	}
	if err != nil {
		return &cliError{fmt.Sprintf("cannot create %s: %v", c.Config, errors.Unwrap(err)), err}
	}
	if _, err := io.WriteString(f, text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", c.Config, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", c.Config, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", c.Config)
	for _, key := range todo {
		fmt.Fprintf(e.stdout, "still to fill in: %s\n", fillHint(key))
	}
	fmt.Fprintf(e.stdout, "next: %s check -c %s, then %s run -c %s\n", e.name, c.Config, e.name, c.Config)
	return nil
}

// fillHint says how to give the missing key.
func fillHint(key string) string {
	switch key {
	case "mattermost.token":
		return "mattermost.token, or MATTERBOT_MATTERMOST_TOKEN when running"
	case "mattermost.password":
		return "mattermost.password or password_file, or MATTERBOT_MATTERMOST_PASSWORD when running"
	}
	return key
}

// ask asks for the server, team and token that the flags did not give,
// until ctx is done. An empty answer leaves the value for the user to
// fill in.
func (c *initCmd) ask(ctx context.Context, p *prompter) error {
	var err error
	if c.Server == "" {
		if c.Server, err = p.line(ctx, "Mattermost server (host name or URL): "); err != nil {
			return err
		}
	}
	if c.Team == "" {
		if c.Team, err = p.line(ctx, "Team the bot works in: "); err != nil {
			return err
		}
	}
	if c.Token == "" && c.Login == "" {
		if c.Token, err = p.secret(ctx, "Bot access token (not shown; Enter to add it later): "); err != nil {
			return err
		}
	}
	return nil
}

// fill writes the flags' values into the template's [mattermost] table.
func (c *initCmd) fill(tmpl string) (string, error) {
	set := map[string]string{}
	if c.Server != "" {
		host, scheme, port, err := parseServer(c.Server)
		if err != nil {
			return "", err
		}
		set["server"] = tomlString(host)
		if scheme != "" {
			set["scheme"] = tomlString(scheme)
		}
		if port != 0 {
			set["port"] = strconv.Itoa(port)
		}
	}
	if c.Team != "" {
		set["team"] = tomlString(c.Team)
	}
	if c.Token != "" {
		set["token"] = tomlString(c.Token)
	}
	if c.Login != "" {
		set["login"] = tomlString(c.Login)
	}
	start := strings.Index(tmpl, "\n[mattermost]\n")
	if start < 0 {
		return "", errors.New("init: the configuration template has no [mattermost] table")
	}
	head, body := tmpl[:start], tmpl[start:]
	end := len(body)
	if i := strings.Index(body[1:], "\n["); i >= 0 {
		end = i + 1
	}
	table, rest := body[:end], body[end:]
	for key, v := range set {
		// The key's line, set ("server = \"\"") or commented out ("#
		// login = \"ops-bot\"").
		re := regexp.MustCompile(`(?m)^(?:# )?` + key + ` = .*$`)
		loc := re.FindStringIndex(table)
		if loc == nil {
			return "", fmt.Errorf("init: the configuration template has no mattermost.%s line", key)
		}
		table = table[:loc[0]] + key + " = " + v + table[loc[1]:]
	}
	return head + table + rest, nil
}

// parseServer splits what people call the server (a host name,
// host:port, or a URL as in the browser) into the host and, when given,
// the scheme and port. A URL without a port means its scheme's port.
func parseServer(s string) (host, scheme string, port int, err error) {
	bad := func(why string) (string, string, int, error) {
		return "", "", 0, &cliError{fmt.Sprintf("--server %q: %s", s, why), nil}
	}
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		h, p, err := net.SplitHostPort(s)
		if err != nil { // no port
			if strings.ContainsAny(s, "/:") && net.ParseIP(s) == nil {
				return bad("not a host name or URL")
			}
			return s, "", 0, nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("the port is not a number from 1 to 65535")
		}
		return h, "", n, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	switch u.Scheme {
	case "https":
		port = 443
	case "http":
		port = 80
	default:
		return bad("the scheme must be https or http")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("a server under a path is not supported; give the host")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return bad("the port is not a number from 1 to 65535")
		}
	}
	if u.Hostname() == "" {
		return bad("no host")
	}
	return u.Hostname(), u.Scheme, port, nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// prompter asks questions on a terminal.
type prompter struct {
	in  *bufio.Reader
	out io.Writer
	fd  int // the terminal, for input without echo; -1 when not one
}

// prompter returns a prompter when standard input is a terminal (or
// force is set), else nil: a script gets no questions.
func (e *env) prompter(force bool) *prompter {
	fd := -1
	if f, ok := e.stdin.(*os.File); ok && readline.IsTerminal(int(f.Fd())) {
		fd = int(f.Fd())
	} else if !force {
		return nil
	}
	return &prompter{in: bufio.NewReader(e.stdin), out: e.stdout, fd: fd}
}

// line asks question and returns the answer, trimmed, or ctx's error
// when ctx is done first.
func (p *prompter) line(ctx context.Context, question string) (string, error) {
	fmt.Fprint(p.out, question)
	return p.read(ctx, func() (string, error) {
		s, err := p.in.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && s != "") {
			if errors.Is(err, io.EOF) {
				fmt.Fprintln(p.out)
				return "", nil // Ctrl-D: no answer
			}
			return "", fmt.Errorf("read answer: %w", err)
		}
		return strings.TrimSpace(s), nil
	})
}

// secret is line without echo on a terminal. When ctx is done first, the
// terminal's echo is turned back on: Ctrl-C must not leave it off.
func (p *prompter) secret(ctx context.Context, question string) (string, error) {
	if p.fd < 0 {
		return p.line(ctx, question)
	}
	state, err := readline.GetState(p.fd)
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	fmt.Fprint(p.out, question)
	s, err := p.read(ctx, func() (string, error) {
		b, err := readline.ReadPassword(p.fd)
		if err != nil {
			return "", fmt.Errorf("read answer: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	})
	if ctx.Err() != nil {
		_ = readline.Restore(p.fd, state) // best effort: we are leaving
	}
	fmt.Fprintln(p.out) // the user's Enter was not echoed
	return s, err
}

// read returns what read returns, or ctx's error when ctx is done first
// (the first Ctrl-C: the signal handler cancels ctx rather than kill the
// process). read then stays blocked in its goroutine, as a terminal's
// read cannot be interrupted; init returns and the process exits.
func (p *prompter) read(ctx context.Context, read func() (string, error)) (string, error) {
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1) // size 1: a read left behind never blocks
	go func() {
		s, err := read()
		got <- answer{s, err}
	}()
	select {
	case a := <-got:
		return a.s, a.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
