package console

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

// consoleCmd is a console command: a line starting with "/".
type consoleCmd struct {
	name  string
	args  string // usage, for /help
	help  string
	alias []string
	run   func(b *Backend, ctx context.Context, arg string) (<-chan struct{}, error)
}

// consoleCmds lists the console commands in the order /help shows them.
// It is a function because /help refers to the list.
func consoleCmds() []consoleCmd {
	return []consoleCmd{
		{name: "help", help: "show this help", alias: []string{"?"}, run: (*Backend).cmdHelp},
		{name: "as", args: "@user", help: "speak as another user (invented on first use)", run: (*Backend).cmdAs},
		{name: "room", args: "~room", help: "speak in another room (~room or ~team/room)", run: (*Backend).cmdRoom},
		{name: "dm", help: "speak to the bot in a direct message (no prefix needed)", run: (*Backend).cmdDM},
		{name: "thread", args: "[#id]", help: "reply in the thread of message #id; without an id, leave the thread", run: (*Backend).cmdThread},
		{name: "react", args: "#id :emoji:", help: "react to message #id as the current user", run: (*Backend).cmdReact},
		{name: "upload", args: "path [text]", help: "send a message with a file attached", run: (*Backend).cmdUpload},
		{name: "join", help: "tell the bot the current user joined the room", run: (*Backend).cmdJoin},
		{name: "presence", args: "status", help: "tell the bot the current user's status changed: online, away, dnd, offline", run: (*Backend).cmdPresence},
		{name: "quit", help: "leave the console (also Ctrl-D)", alias: []string{"exit"}, run: (*Backend).cmdQuit},
	}
}

// errUsage is a console command used wrongly; it is shown with the
// command's usage.
type errUsage struct {
	cmd *consoleCmd
	err error
}

func (e *errUsage) Error() string {
	u := "/" + e.cmd.name
	if e.cmd.args != "" {
		u += " " + e.cmd.args
	}
	if e.err == nil {
		return "usage: " + u
	}
	return e.err.Error() + " (usage: " + u + ")"
}

// handleLine runs a console command or sends a message. It returns a
// channel closed once everything the line started is done; ErrQuit when
// the user quits.
func (b *Backend) handleLine(ctx context.Context, text string) (<-chan struct{}, error) {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return closedChan, nil
	case strings.HasPrefix(t, "//"):
		return b.say(strings.TrimPrefix(text, "/")), nil // "//x" sends "/x"
	case !strings.HasPrefix(t, "/"):
		return b.say(text), nil
	}
	name, arg, _ := strings.Cut(t[1:], " ")
	name = strings.ToLower(name)
	arg = strings.TrimSpace(arg)
	cmds := consoleCmds()
	for i := range cmds {
		c := &cmds[i]
		if c.name == name || contains(c.alias, name) {
			done, err := c.run(b, ctx, arg)
			var ue *errUsage
			switch {
			case errors.Is(err, ErrQuit):
				return nil, err
			case errors.As(err, &ue):
				ue.cmd = c
				b.print(b.render.problem(ue))
			case err != nil:
				b.print(b.render.problem(err))
			}
			if done == nil {
				done = closedChan
			}
			return done, nil
		}
	}
	b.print(b.render.problem(fmt.Errorf("unknown command /%s; /help lists the console's commands, //%s sends the line as a message", name, name)))
	return closedChan, nil
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// say sends text as a message from the current user where the user is.
func (b *Backend) say(text string) <-chan struct{} {
	return b.deliver(text, nil)
}

func (b *Backend) deliver(text string, files []bot.FileRef) <-chan struct{} {
	b.mu.Lock()
	cur := b.cur
	ri := b.rooms[cur.room]
	h := b.handler
	b.mu.Unlock()
	m := &bot.Message{
		ID:       b.newPost(cur.room),
		From:     cur.user,
		Room:     ri.room,
		ThreadID: cur.thread,
		Direct:   ri.dm != nil,
		Text:     text,
		Mentions: mentions(text),
		Files:    files,
		Time:     now(),
	}
	m.RoomMentions = b.roomMentions(text)
	return h.HandleMessage(m)
}

// mentions finds the @names in text.
func mentions(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		if n, ok := strings.CutPrefix(w, "@"); ok {
			if n = strings.TrimRight(n, ".,:;!?"); n != "" {
				out = append(out, strings.ToLower(n))
			}
		}
	}
	return out
}

// roomMentions resolves the "~room" and "~team/room" words of text, in
// order and without duplicates. Like every room of the console, a room
// named for the first time is invented.
func (b *Backend) roomMentions(text string) []bot.Room {
	var out []bot.Room
	for _, w := range strings.Fields(text) {
		if !strings.HasPrefix(w, "~") {
			continue
		}
		a, err := bot.ParseAddress(strings.TrimRight(w, ".,:;!?)"))
		if err != nil || a.Room == "" {
			continue
		}
		if r := b.room(a.Team, a.Room); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (b *Backend) cmdHelp(ctx context.Context, arg string) (<-chan struct{}, error) {
	var s strings.Builder
	s.WriteString(b.render.notice("Console commands (anything else is a message to the bot):"))
	var uses []string
	width := 0
	for _, c := range consoleCmds() {
		use := "/" + c.name
		if c.args != "" {
			use += " " + c.args
		}
		uses = append(uses, use)
		width = max(width, len(use))
	}
	for i, c := range consoleCmds() {
		var bs strings.Builder
		b.render.write(&bs, line{{text: fmt.Sprintf("  %-*s", width, uses[i]), st: sBold}, {text: "  " + c.help}})
		s.WriteString(bs.String() + "\n")
	}
	s.WriteString(b.render.notice("Start a message with // to send a line that begins with /. Ctrl-C drops the line being typed."))
	b.print(s.String())
	return nil, nil
}

func (b *Backend) cmdAs(ctx context.Context, arg string) (<-chan struct{}, error) {
	if arg == "" {
		return nil, &errUsage{}
	}
	u, err := b.lookupUser(arg)
	if err != nil {
		return nil, &errUsage{err: err}
	}
	if u.ID == b.self.ID {
		return nil, fmt.Errorf("cannot speak as the bot itself (@%s): the bot ignores its own messages", b.self.Username)
	}
	b.mu.Lock()
	b.cur.user = u
	ri := b.rooms[b.cur.room]
	if ri.dm != nil { // a DM belongs to its user: follow to the new user's
		b.mu.Unlock()
		r := b.dm(u)
		b.mu.Lock()
		b.cur.room, b.cur.thread = r.ID, ""
	}
	b.mu.Unlock()
	b.print(b.render.notice("You are now %s%s.", u, b.adminNote(u)))
	return nil, nil
}

func (b *Backend) cmdRoom(ctx context.Context, arg string) (<-chan struct{}, error) {
	if arg == "" {
		return nil, &errUsage{}
	}
	r, err := b.lookupRoom(arg)
	if err != nil {
		return nil, &errUsage{err: err}
	}
	b.mu.Lock()
	b.cur.room, b.cur.thread = r.ID, ""
	b.mu.Unlock()
	b.print(b.render.notice("You are now in %s.", r))
	return nil, nil
}

func (b *Backend) cmdDM(ctx context.Context, arg string) (<-chan struct{}, error) {
	if arg != "" {
		return nil, &errUsage{err: errors.New("/dm takes no argument: direct messages go to the bot")}
	}
	b.mu.Lock()
	u := b.cur.user
	b.mu.Unlock()
	r := b.dm(u)
	b.mu.Lock()
	b.cur.room, b.cur.thread = r.ID, ""
	b.mu.Unlock()
	b.print(b.render.notice("You are now in a direct message to @%s; commands need no prefix here.", b.self.Username))
	return nil, nil
}

// postID parses "#12" or "12" and checks that the post exists. It returns
// the post's room.
func (b *Backend) postID(s string) (id, room string, err error) {
	id = strings.TrimPrefix(strings.TrimSpace(s), "#")
	b.mu.Lock()
	room, ok := b.posts[id]
	b.mu.Unlock()
	if !ok {
		return "", "", fmt.Errorf("no message #%s (message ids are shown as #N)", id)
	}
	return id, room, nil
}

func (b *Backend) cmdThread(ctx context.Context, arg string) (<-chan struct{}, error) {
	if arg == "" || arg == "off" {
		b.mu.Lock()
		b.cur.thread = ""
		b.mu.Unlock()
		b.print(b.render.notice("You are now out of threads, in %s.", b.whereName(b.current())))
		return nil, nil
	}
	id, room, err := b.postID(arg)
	if err != nil {
		return nil, &errUsage{err: err}
	}
	b.mu.Lock()
	if b.rooms[room].dm != nil && b.rooms[room].dm.ID != b.cur.user.ID {
		b.mu.Unlock()
		return nil, fmt.Errorf("message #%s is in another user's direct messages", id)
	}
	b.cur.room, b.cur.thread = room, id
	b.mu.Unlock()
	b.print(b.render.notice("You are now in %s.", b.whereName(b.current())))
	return nil, nil
}

func (b *Backend) current() state {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

func (b *Backend) cmdReact(ctx context.Context, arg string) (<-chan struct{}, error) {
	f := strings.Fields(arg)
	if len(f) != 2 {
		return nil, &errUsage{}
	}
	id, room, err := b.postID(f[0])
	if err != nil {
		return nil, &errUsage{err: err}
	}
	emoji := strings.Trim(f[1], ":")
	if emoji == "" || strings.ContainsAny(emoji, ":") {
		return nil, &errUsage{err: fmt.Errorf("bad emoji %q", f[1])}
	}
	b.mu.Lock()
	cur := b.cur
	ri := b.rooms[room]
	h := b.handler
	b.mu.Unlock()
	var s strings.Builder
	b.render.write(&s, line{{text: cur.user.String(), st: sBold, fg: "36"}, {text: " reacted "}, {text: ":" + emoji + ":", st: sBold}, {text: " to #" + id}})
	b.print(s.String() + "\n")
	return h.HandleReaction(&bot.Reaction{MessageID: id, Emoji: emoji, User: cur.user, Room: ri.room}), nil
}

func (b *Backend) cmdUpload(ctx context.Context, arg string) (<-chan struct{}, error) {
	path, text, _ := strings.Cut(arg, " ")
	if path == "" {
		return nil, &errUsage{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &errUsage{err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &errUsage{err: fmt.Errorf("%s is not a regular file", path)}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	id := fmt.Sprintf("f%d", len(b.uploads)+1)
	b.uploads[id] = abs
	b.mu.Unlock()
	ref := bot.FileRef{ID: id, Name: fi.Name(), Size: fi.Size(), MIME: mime.TypeByExtension(filepath.Ext(fi.Name()))}
	b.print(b.render.notice("Attached %s (%s) as file %s.", ref.Name, humanSize(ref.Size), id))
	return b.deliver(strings.TrimSpace(text), []bot.FileRef{ref}), nil
}

func (b *Backend) cmdJoin(ctx context.Context, arg string) (<-chan struct{}, error) {
	if arg != "" {
		return nil, &errUsage{err: errors.New("/join takes no argument: it joins the current room (see /room)")}
	}
	b.mu.Lock()
	cur := b.cur
	ri := b.rooms[cur.room]
	h := b.handler
	b.mu.Unlock()
	if ri.dm != nil {
		return nil, errors.New("there is nothing to join in a direct message")
	}
	b.print(b.render.notice("%s joined %s.", cur.user, ri.room))
	return h.HandleJoin(&bot.Join{User: cur.user, Room: ri.room}), nil
}

func (b *Backend) cmdPresence(ctx context.Context, arg string) (<-chan struct{}, error) {
	status := strings.ToLower(arg)
	switch status {
	case "online", "away", "dnd", "offline":
	case "":
		return nil, &errUsage{}
	default:
		return nil, &errUsage{err: fmt.Errorf("bad status %q", arg)}
	}
	b.mu.Lock()
	u := b.cur.user
	h := b.handler
	b.mu.Unlock()
	b.print(b.render.notice("%s is now %s.", u, status))
	return h.HandlePresence(&bot.Presence{User: u, Status: status}), nil
}

func (b *Backend) cmdQuit(ctx context.Context, arg string) (<-chan struct{}, error) {
	return nil, ErrQuit
}

// completer completes console commands and the bot's commands with tab.
type completer struct{ b *Backend }

// Do implements readline.AutoCompleter: it returns the suffixes that
// complete the word before pos, and the length of that word.
func (c completer) Do(text []rune, pos int) ([][]rune, int) {
	head := string(text[:pos])
	if strings.ContainsAny(head, " \t") {
		return nil, 0
	}
	var cands []string
	for _, cc := range consoleCmds() {
		cands = append(cands, "/"+cc.name+" ")
	}
	if c.b.cmds != nil {
		p := c.b.prefix()
		for _, ci := range c.b.cmds() {
			if !ci.Hidden {
				cands = append(cands, p+strings.Fields(ci.Name)[0]+" ")
			}
		}
	}
	sort.Strings(cands)
	var out [][]rune
	seen := map[string]bool{}
	for _, s := range cands {
		if strings.HasPrefix(s, head) && !seen[s] {
			seen[s] = true
			out = append(out, []rune(s[len(head):]))
		}
	}
	return out, len([]rune(head))
}
