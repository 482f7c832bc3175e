package matterbot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// chat lets the person at the fake server's terminal talk to the bot
// without a Mattermost client: each line read is posted as a seeded user
// in a channel, and what others post where that user can read is printed.
type chat struct {
	srv   *mmtest.Server
	names map[string]string // user id → username, for the seeded accounts
	// showTyped prints the lines posted from here too, where the
	// terminal does not show them (piped input).
	showTyped bool
	// stopHint ends the help text: how to stop.
	stopHint string

	outMu sync.Mutex
	out   io.Writer

	mu     sync.Mutex
	you    *mattermost.User
	team   *mattermost.Team
	room   *mattermost.Channel
	labels map[string]string // channel id → "~name", "@name (direct)"
	typed  map[string]bool   // ids of the posts made from this terminal
	// shownAt is the creation time of the last post the watcher has
	// dealt with; shown is closed and replaced when it changes.
	shownAt int64
	shown   chan struct{}
}

const chatHelp = `Type a message to post it; the bot's answers appear below.
  /as NAME    post as another seeded user
  /in NAME    post in another channel of the team (~deploys, town-square)
  /dm NAME    post in a direct message with NAME (ops-bot)
  /help       this text`

// newChat starts a chat as the everyday user of the seed (its first
// plain user) in town-square of its first team.
func newChat(srv *mmtest.Server, sf *seedFile, accounts []account, out io.Writer) (*chat, error) {
	c := &chat{srv: srv, out: out, stopHint: "Ctrl-C stops the server.",
		names: map[string]string{}, labels: map[string]string{}, typed: map[string]bool{},
		shown: make(chan struct{})}
	first := everydayUser(accounts)
	for _, a := range accounts {
		if u, ok := srv.User(a.username); ok {
			c.names[u.ID] = u.Username
		}
	}
	if first == "" || len(sf.Teams) == 0 {
		return nil, fmt.Errorf("--chat needs a seed with a team and a user")
	}
	team, ok := srv.Team(sf.Teams[0].Name)
	if !ok {
		return nil, fmt.Errorf("--chat: team %q not found", sf.Teams[0].Name)
	}
	c.team = team
	if err := c.as(first); err != nil {
		return nil, err
	}
	if err := c.in("town-square"); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *chat) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

func (c *chat) where() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("you are @%s in %s", c.you.Username, c.labels[c.room.ID])
}

// as switches the user lines are posted as.
func (c *chat) as(name string) error {
	u, ok := c.srv.User(strings.TrimPrefix(name, "@"))
	if !ok {
		return fmt.Errorf("no user %q", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.you = u
	return nil
}

// in switches to a channel of the team.
func (c *chat) in(name string) error {
	name = strings.TrimPrefix(name, "~")
	ch, ok := c.srv.Channel(c.team.ID, name)
	if !ok {
		return fmt.Errorf("no channel ~%s in team %s", name, c.team.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room = ch
	c.labels[ch.ID] = "~" + ch.Name
	return nil
}

// dm switches to the direct message channel with the user name.
func (c *chat) dm(name string) error {
	u, ok := c.srv.User(strings.TrimPrefix(name, "@"))
	if !ok {
		return fmt.Errorf("no user %q", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, err := c.srv.DirectChannel(c.you.ID, u.ID)
	if err != nil {
		return err
	}
	c.room = ch
	c.labels[ch.ID] = "@" + u.Username + " (direct)"
	return nil
}

// run reads lines from in until it ends or ctx is done, and prints the
// posts of others until ctx is done. It returns when both have stopped
// or ctx is done; a blocked read of in is left behind, as a terminal's
// read cannot be interrupted.
func (c *chat) run(ctx context.Context, in io.Reader) {
	stop := c.startWatch(ctx)
	defer stop()
	c.printHelp()
	c.post(ctx, in)
	<-ctx.Done() // input ended: keep showing posts until stopped
}

// post handles the lines of in until it ends or ctx is done. A blocked
// read of in is left behind when ctx is done (see readLines).
func (c *chat) post(ctx context.Context, in io.Reader) {
	lines := readLines(ctx, in)
	for {
		line, ok := nextLine(ctx, lines)
		if !ok {
			return
		}
		c.handle(line)
	}
}

func (c *chat) printHelp() {
	c.printf("%s\n%s\n%s.\n", chatHelp, c.stopHint, c.where())
}

// readLines sends the lines of in on the channel it returns, and closes
// it when in ends or ctx is done. A blocked read of in is left behind
// when ctx is done, as a terminal's read cannot be interrupted.
func readLines(ctx context.Context, in io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// nextLine returns the next line from lines, and false when the input
// has ended or ctx is done.
func nextLine(ctx context.Context, lines <-chan string) (string, bool) {
	select {
	case <-ctx.Done():
		return "", false
	case line, ok := <-lines:
		return line, ok
	}
}

// startWatch prints the posts made from now on, in the order they were
// made, until ctx is done or stop is called; then it prints those made
// until then, and stop returns once they are printed.
func (c *chat) startWatch(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	since := time.Now().UnixMilli()
	go func() {
		defer close(done)
		c.watch(ctx, since)
	}()
	return func() {
		cancel()
		<-done
	}
}

// handle posts line, or runs it if it is a chat command. It returns the
// post it made, or nil.
func (c *chat) handle(line string) *mattermost.Post {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	var err error
	switch cmd {
	case "/help":
		c.printHelp()
		return nil
	case "/as":
		err = c.as(arg)
	case "/in":
		err = c.in(arg)
	case "/dm":
		err = c.dm(arg)
	default:
		// Under c.mu, so that the watcher knows the post is ours
		// before it can print it.
		c.mu.Lock()
		p, err := c.srv.CreatePost(c.you.ID, mattermost.Post{ChannelID: c.room.ID, Message: line})
		if err == nil {
			c.typed[p.ID] = true
		}
		c.mu.Unlock()
		if err != nil {
			c.printf("! %v\n", err)
			return nil
		}
		return p
	}
	if err != nil {
		c.printf("! %s: %v\n", cmd, err)
		return nil
	}
	c.printf("%s.\n", c.where())
	return nil
}

// watch prints every post made since the given time (Unix ms) that is
// not a system message (nor typed here, unless c.showTyped), until ctx
// is done and every post made until then is printed.
func (c *chat) watch(ctx context.Context, since int64) {
	seen := map[string]bool{}
	fresh := func(p *mattermost.Post) bool {
		return !seen[p.ID] && p.CreateAt >= since && !strings.HasPrefix(p.Type, "system_")
	}
	for {
		// Once ctx is done, WaitForPost still returns the posts already
		// made before it fails: the last ones are printed too.
		p, err := c.srv.WaitForPost(ctx, "", fresh)
		if err != nil {
			return
		}
		seen[p.ID] = true
		c.mu.Lock()
		mine := c.typed[p.ID]
		delete(c.typed, p.ID)
		label, known := c.labels[p.ChannelID]
		c.mu.Unlock()
		if !mine || c.showTyped {
			if !known {
				label = c.label(p)
			}
			c.printf("%s", formatPost(label, c.names[p.UserID], p))
		}
		c.mu.Lock()
		c.shownAt = p.CreateAt
		close(c.shown)
		c.shown = make(chan struct{})
		c.mu.Unlock()
	}
}

// waitShown waits until the watcher has dealt with p (printed it, or
// skipped it) or ctx is done.
func (c *chat) waitShown(ctx context.Context, p *mattermost.Post) {
	for {
		c.mu.Lock()
		done, shown := c.shownAt >= p.CreateAt, c.shown
		c.mu.Unlock()
		if done {
			return
		}
		select {
		case <-shown:
		case <-ctx.Done():
			return
		}
	}
}

// label names a channel the chat has not switched to: a direct message
// between the current user and the poster, or else "elsewhere".
func (c *chat) label(p *mattermost.Post) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, err := c.srv.DirectChannel(c.you.ID, p.UserID); err == nil && ch.ID == p.ChannelID {
		name := c.names[p.UserID]
		c.labels[ch.ID] = "@" + name + " (direct)"
		return c.labels[ch.ID]
	}
	return "elsewhere"
}

// formatPost renders p for the terminal: where, who, the text with its
// continuation lines indented, and the title, text and fields of cards.
func formatPost(where, who string, p *mattermost.Post) string {
	if who == "" {
		who = p.UserID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", where)
	if p.RootID != "" {
		b.WriteString(" (thread)")
	}
	fmt.Fprintf(&b, " %s: ", who)
	b.WriteString(indent(p.Message))
	b.WriteString("\n")
	atts, _ := p.Attachments() // a malformed card is shown as text only
	for _, a := range atts {
		if a == nil {
			continue
		}
		fmt.Fprintf(&b, "    [card] %s", a.Title)
		if a.Text != "" {
			fmt.Fprintf(&b, ": %s", indent(a.Text))
		}
		b.WriteString("\n")
		for _, f := range a.Fields {
			if f != nil {
				fmt.Fprintf(&b, "      %s: %v\n", f.Title, f.Value)
			}
		}
		// A terminal cannot click: the buttons and menus are named, and
		// the playground clicks them.
		var acts []string
		for _, act := range a.Actions {
			switch {
			case act == nil:
			case act.Type == mattermost.ActionTypeSelect:
				acts = append(acts, "["+act.Name+" ▾]")
			default:
				acts = append(acts, "["+act.Name+"]")
			}
		}
		if len(acts) > 0 {
			fmt.Fprintf(&b, "      %s (click them in the playground)\n", strings.Join(acts, " "))
		}
	}
	return b.String()
}

// indent indents the lines of s after the first, blank ones excepted.
func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			lines[i] = "    " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}
