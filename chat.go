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

	outMu sync.Mutex
	out   io.Writer

	mu     sync.Mutex
	you    *mattermost.User
	team   *mattermost.Team
	room   *mattermost.Channel
	labels map[string]string // channel id → "~name", "@name (direct)"
	typed  map[string]bool   // ids of the posts made from this terminal
}

const chatHelp = `Type a message to post it; the bot's answers appear below.
  /as NAME    post as another seeded user
  /in NAME    post in another channel of the team (~deploys, town-square)
  /dm NAME    post in a direct message with NAME (ops-bot)
  /help       this text
Ctrl-C stops the server.`

// newChat starts a chat as the everyday user of the seed (its first
// plain user) in town-square of its first team.
func newChat(srv *mmtest.Server, sf *seedFile, accounts []account, out io.Writer) (*chat, error) {
	c := &chat{srv: srv, out: out, names: map[string]string{}, labels: map[string]string{}, typed: map[string]bool{}}
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	since := time.Now().UnixMilli()
	wg.Go(func() { c.watch(ctx, since) })
	c.printf("%s\n%s.\n", chatHelp, c.where())
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
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case line, ok := <-lines:
			if !ok { // input ended: keep showing posts until stopped
				<-ctx.Done()
				wg.Wait()
				return
			}
			c.handle(line)
		}
	}
}

// handle posts line, or runs it if it is a chat command.
func (c *chat) handle(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	var err error
	switch cmd {
	case "/help":
		c.printf("%s\n%s.\n", chatHelp, c.where())
		return
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
		}
		return
	}
	if err != nil {
		c.printf("! %s: %v\n", cmd, err)
		return
	}
	c.printf("%s.\n", c.where())
}

// watch prints every post made since the given time (Unix ms) that was
// not typed here nor is a system message, until ctx is done.
func (c *chat) watch(ctx context.Context, since int64) {
	seen := map[string]bool{}
	fresh := func(p *mattermost.Post) bool {
		return !seen[p.ID] && p.CreateAt >= since && !strings.HasPrefix(p.Type, "system_")
	}
	for {
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
		if mine {
			continue
		}
		if !known {
			label = c.label(p)
		}
		c.printf("%s", formatPost(label, c.names[p.UserID], p))
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
