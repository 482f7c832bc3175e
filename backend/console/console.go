package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// ErrQuit is returned by Run when the user quits (/quit, Ctrl-D, or the
// end of the input). Engine.Run returns it wrapped: check it with
// errors.Is and treat it as a normal exit.
var ErrQuit = errors.New("console: quit")

// Color says when output is styled with ANSI escape sequences.
type Color int

const (
	// ColorAuto styles output when it goes to a terminal, the NO_COLOR
	// environment variable is empty and TERM is not "dumb".
	ColorAuto Color = iota
	// ColorAlways always styles output.
	ColorAlways
	// ColorNever never styles output.
	ColorNever
)

// Options configures a Backend. The zero value is valid: the console reads
// os.Stdin, writes os.Stdout, and the user is @you in ~town-square.
type Options struct {
	// Input is where the user's lines come from. Default os.Stdin. When
	// Input and Output are both terminals the line is edited with
	// history; otherwise lines are read as they come and echoed after
	// their prompt, so the output reads as a transcript.
	Input io.Reader
	// Output is where everything is printed. Default os.Stdout.
	Output io.Writer
	// User is who speaks at first, "@name". Default "@you". Users are
	// invented on first use: the console has no server.
	User string
	// Room is where the user speaks at first, "~room" or "~team/room".
	// Default "~town-square".
	Room string
	// BotName is the bot's username. Default "ops-bot" (Mattermost reserves "matterbot").
	BotName string
	// HistoryFile keeps the line editor's history. Default
	// ~/.matterbot_history; "-" keeps no history.
	HistoryFile string
	// Color says when to style the output. Default ColorAuto.
	Color Color
	// Width is the number of columns cards are fitted to. Default: the
	// terminal's width, or 80.
	Width int
	// FileDir is where files the bot sends are saved. Default: a new
	// directory under os.TempDir, made on the first file and left for
	// the user to look at.
	FileDir string
	// Logger receives the backend's logs. Default: discard.
	Logger *slog.Logger
}

// Backend is a bot.Backend on a terminal: the user types messages as
// someone in a room, and the bot's replies are printed. Lines starting
// with "/" are console commands (/help lists them). Build one with New.
type Backend struct {
	in       io.Reader
	out      io.Writer
	history  string
	fileDir  string
	log      *slog.Logger
	render   *renderer
	self     bot.User
	running  atomic.Bool
	interact bool         // Input and Output are terminals
	onWidth  func(func()) // for readline; nil means its SIGWINCH handler

	mu      sync.Mutex
	users   map[string]bot.User      // guarded by mu: by lower-case username
	rooms   map[string]roomInfo      // guarded by mu: by id
	byName  map[string]string        // guarded by mu: "team/name" → room id
	posts   map[string]string        // guarded by mu: post id → room id
	uploads map[string]string        // guarded by mu: file id → path
	nextID  int                      // guarded by mu: last post id given
	cur     state                    // guarded by mu: who speaks where
	handler bot.Handler              // guarded by mu: set once connected
	dirMade string                   // guarded by mu: FileDir, once made
	states  map[string]*roomState    // guarded by mu: by room id, made on first use
	screen  *screen                  // where output goes
	admins  func(string) bool        // set once connected: Handler.IsAdmin when it has one
	prefix  func() string            // set once connected: Handler.Prefix when it has one
	cmds    func() []bot.CommandInfo // set once connected: for completion
}

// roomInfo is a room, or the direct-message conversation between the bot
// and user dm.
type roomInfo struct {
	room bot.Room
	dm   *bot.User
}

// state is who the user speaks as, and where.
type state struct {
	user   bot.User
	room   string // room id
	thread string // root post id, or ""
}

// New returns a console backend. It fails when Options.User or
// Options.Room is not a valid address.
func New(opts *Options) (*Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Input == nil {
		o.Input = os.Stdin
	}
	if o.Output == nil {
		o.Output = os.Stdout
	}
	if o.User == "" {
		o.User = "@you"
	}
	if o.Room == "" {
		o.Room = "~town-square"
	}
	if o.BotName == "" {
		o.BotName = "ops-bot"
	}
	o.BotName = strings.ToLower(strings.TrimPrefix(o.BotName, "@"))
	if a, err := bot.ParseAddress("@" + o.BotName); err != nil || a.User == "" {
		return nil, fmt.Errorf("console: bad bot name %q", o.BotName)
	}
	b := &Backend{
		in:      o.Input,
		out:     o.Output,
		screen:  &screen{sink: o.Output, out: o.Output},
		fileDir: o.FileDir,
		log:     o.Logger,
		self:    bot.User{ID: userID(o.BotName), Username: o.BotName, FullName: o.BotName, Bot: true},
		users:   map[string]bot.User{},
		rooms:   map[string]roomInfo{},
		byName:  map[string]string{},
		posts:   map[string]string{},
		uploads: map[string]string{},
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.screen.prompt = b.prompt
	b.users[o.BotName] = b.self
	b.interact = isTerminal(o.Input) && isTerminal(o.Output)
	switch o.HistoryFile {
	case "-":
	case "":
		if home, err := os.UserHomeDir(); err == nil {
			b.history = filepath.Join(home, ".matterbot_history")
		}
	default:
		b.history = o.HistoryFile
	}
	color := o.Color == ColorAlways || o.Color == ColorAuto && autoColor(isTerminal(o.Output), os.Getenv)
	b.render = newRenderer(color, trueColor(os.Getenv), o.Width)
	if f, ok := o.Output.(*os.File); ok && o.Width <= 0 && isTerminal(f) {
		b.render.widthFn = func() int { return terminalWidth(f) }
	}

	u, err := b.lookupUser(o.User)
	if err != nil {
		return nil, err
	}
	r, err := b.lookupRoom(o.Room)
	if err != nil {
		return nil, err
	}
	b.cur = state{user: u, room: r.ID}
	return b, nil
}

// autoColor decides ColorAuto: a terminal, NO_COLOR empty (see
// no-color.org) and TERM not "dumb".
func autoColor(terminal bool, getenv func(string) string) bool {
	return terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// trueColor reports whether the terminal says it takes 24-bit colours.
func trueColor(getenv func(string) string) bool {
	c := getenv("COLORTERM")
	return c == "truecolor" || c == "24bit"
}

// Stable, readable ids: the console has no server to give them, and ids
// derived from names survive restarts, so a persistent store keyed on
// user ids keeps working.
func userID(name string) string       { return "u-" + name }
func roomID(team, name string) string { return "r-" + strings.TrimPrefix(team+"/"+name, "/") }
func dmID(name string) string         { return "d-" + name }

// lookupUser returns the user "@name" (or "name"), inventing it on first
// use.
func (b *Backend) lookupUser(s string) (bot.User, error) {
	a, err := bot.ParseAddress("@" + strings.TrimPrefix(strings.TrimSpace(s), "@"))
	if err != nil || a.User == "" || strings.HasPrefix(strings.TrimSpace(s), "~") {
		return bot.User{}, fmt.Errorf("bad user %q: want @name", s)
	}
	return b.user(a.User), nil
}

func (b *Backend) user(name string) bot.User {
	name = strings.ToLower(name)
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[name]
	if !ok {
		u = bot.User{ID: userID(name), Username: name, FullName: name}
		b.users[name] = u
	}
	return u
}

// lookupRoom returns the room "~name" or "~team/name" ("name" alone will
// do), inventing it on first use.
func (b *Backend) lookupRoom(s string) (bot.Room, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "~") {
		t = "~" + t
	}
	a, err := bot.ParseAddress(t)
	if err != nil || a.Room == "" {
		return bot.Room{}, fmt.Errorf("bad room %q: want ~room or ~team/room", s)
	}
	return b.room(a.Team, a.Room), nil
}

func (b *Backend) room(team, name string) bot.Room {
	team, name = strings.ToLower(team), strings.ToLower(name)
	b.mu.Lock()
	defer b.mu.Unlock()
	key := team + "/" + name
	if id, ok := b.byName[key]; ok {
		return b.rooms[id].room
	}
	r := bot.Room{ID: roomID(team, name), Name: name, Team: team}
	b.byName[key] = r.ID
	b.rooms[r.ID] = roomInfo{room: r}
	return r
}

// dm returns the direct-message room between the bot and u.
func (b *Backend) dm(u bot.User) bot.Room {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := dmID(u.Username)
	if ri, ok := b.rooms[id]; ok {
		return ri.room
	}
	r := bot.Room{ID: id, Name: u.Username + "__" + b.self.Username}
	b.rooms[id] = roomInfo{room: r, dm: &u}
	return r
}

// Self returns the bot's identity.
func (b *Backend) Self() bot.User { return b.self }

// User implements bot.Backend. The id of a known user ("u-alice")
// resolves to that user; every other valid name resolves too: users are
// invented on first use.
func (b *Backend) User(ctx context.Context, username string) (bot.User, error) {
	b.mu.Lock()
	for _, u := range b.users {
		if u.ID == username {
			b.mu.Unlock()
			return u, nil
		}
	}
	b.mu.Unlock()
	u, err := b.lookupUser(username)
	if err != nil {
		return bot.User{}, fmt.Errorf("console: %w: %w", err, bot.ErrUnknown)
	}
	return u, nil
}

// Room implements bot.Backend. The id of a known room resolves to that
// room: "r-ops", "d-alice" (a direct conversation), and "r-team/ops",
// which an address splits as team "r-team" and name "ops". Every other
// valid name resolves too: rooms are invented on first use. An empty
// team means no team.
func (b *Backend) Room(ctx context.Context, team, name string) (bot.Room, error) {
	id := name
	if team != "" {
		id = team + "/" + name
	}
	b.mu.Lock()
	ri, ok := b.rooms[id]
	b.mu.Unlock()
	if ok {
		return ri.room, nil
	}
	addr := "~" + name
	if team != "" {
		addr = "~" + team + "/" + name
	}
	r, err := b.lookupRoom(addr)
	if err != nil {
		return bot.Room{}, fmt.Errorf("console: %w: %w", err, bot.ErrUnknown)
	}
	return r, nil
}

// newPost records a post in room and returns its id.
func (b *Backend) newPost(room string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	id := strconv.Itoa(b.nextID)
	b.posts[id] = room
	return id
}

// where describes the destination of out, and returns the id of its room.
func (b *Backend) where(out *bot.Outgoing) (line, string, error) {
	if (out.RoomID == "") == (out.UserID == "") {
		return nil, "", fmt.Errorf("console: send: want exactly one of RoomID and UserID, got %q and %q", out.RoomID, out.UserID)
	}
	if out.UserID != "" {
		b.mu.Lock()
		var to *bot.User
		for _, u := range b.users {
			if u.ID == out.UserID {
				to = &u
				break
			}
		}
		b.mu.Unlock()
		if to == nil {
			return nil, "", fmt.Errorf("console: send to user %q: %w", out.UserID, bot.ErrUnknown)
		}
		r := b.dm(*to)
		return line{{text: to.String(), st: sBold}, {text: " (direct)", st: sDim}}, r.ID, nil
	}
	b.mu.Lock()
	ri, ok := b.rooms[out.RoomID]
	b.mu.Unlock()
	switch {
	case !ok:
		return nil, "", fmt.Errorf("console: send to room %q: %w", out.RoomID, bot.ErrUnknown)
	case ri.dm != nil:
		return line{{text: ri.dm.String(), st: sBold}, {text: " (direct)", st: sDim}}, out.RoomID, nil
	}
	return line{{text: ri.room.String(), st: sBold}}, out.RoomID, nil
}

// Send implements bot.Backend: it prints the message. A file is saved
// under Options.FileDir and shown with its name, size and path.
func (b *Backend) Send(ctx context.Context, out *bot.Outgoing) error {
	return b.send(out, "")
}

// SendEphemeral implements bot.EphemeralSender: the message is printed
// marked as seen only by the user.
func (b *Backend) SendEphemeral(ctx context.Context, userID string, out *bot.Outgoing) error {
	name := userID
	b.mu.Lock()
	for _, u := range b.users {
		if u.ID == userID {
			name = u.String()
		}
	}
	b.mu.Unlock()
	return b.send(out, name)
}

func (b *Backend) send(out *bot.Outgoing, ephemeral string) error {
	if out.Text == "" && out.Card == nil && out.File == nil {
		return errors.New("console: send: empty message")
	}
	where, room, err := b.where(out)
	if err != nil {
		return err
	}
	m := message{
		author:    line{{text: b.self.Username, st: sBold, fg: "32"}},
		where:     where,
		thread:    out.ThreadID,
		ephemeral: ephemeral,
		text:      out.Text,
		card:      out.Card,
	}
	if out.File != nil {
		m.file = b.saveFile(out.File)
	}
	m.id = b.newPost(room)
	b.print(b.render.post(m))
	return nil
}

// saveFile copies f into the file directory.
func (b *Backend) saveFile(f *bot.File) *savedFile {
	sf := &savedFile{name: f.Name}
	dir, err := b.dir()
	if err != nil {
		n, _ := io.Copy(io.Discard, f.Body)
		sf.size, sf.err = n, err
		return sf
	}
	name := safeName(f.Name)
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	var file *os.File
	for i := 1; ; i++ {
		p := filepath.Join(dir, name)
		if i > 1 {
			p = filepath.Join(dir, fmt.Sprintf("%s-%d%s", base, i, ext))
		}
		file, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			break
		}
	}
	if err != nil {
		n, _ := io.Copy(io.Discard, f.Body)
		sf.size, sf.err = n, err
		return sf
	}
	sf.size, err = io.Copy(file, f.Body)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		sf.err = err
		return sf
	}
	sf.path = file.Name()
	return sf
}

// dir returns the file directory, making it on first use.
func (b *Backend) dir() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dirMade != "" {
		return b.dirMade, nil
	}
	if b.fileDir != "" {
		if err := os.MkdirAll(b.fileDir, 0o700); err != nil {
			return "", err
		}
		b.dirMade = b.fileDir
		return b.dirMade, nil
	}
	d, err := os.MkdirTemp("", "matterbot-console-")
	if err != nil {
		return "", err
	}
	b.dirMade = d
	return d, nil
}

// safeName reduces a file name from a plugin to a plain name in the file
// directory: no path, no hidden-file dot, never empty.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || isControl(r) || r == 0 {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		return "file"
	}
	return name
}

// React implements bot.Backend: it prints the reaction.
func (b *Backend) React(ctx context.Context, messageID, emoji string) error {
	return b.printReaction("react", "react to", " reacted ", " to #", messageID, emoji)
}

// Unreact implements bot.Unreacter: it prints the removal of the bot's
// reaction.
func (b *Backend) Unreact(ctx context.Context, messageID, emoji string) error {
	return b.printReaction("unreact", "unreact on", " removed ", " from #", messageID, emoji)
}

// printReaction prints the bot's reaction to a message, added or removed
// ("ops-bot reacted :+1: to #3"); op and where name it in errors.
func (b *Backend) printReaction(op, where, verb, prep, messageID, emoji string) error {
	emoji = strings.Trim(emoji, ":")
	if emoji == "" {
		return fmt.Errorf("console: %s: empty emoji", op)
	}
	b.mu.Lock()
	_, ok := b.posts[messageID]
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("console: %s message %q: %w", where, messageID, bot.ErrUnknown)
	}
	var s strings.Builder
	b.render.write(&s, line{{text: b.self.Username, st: sBold, fg: "32"}, {text: verb}, {text: ":" + sanitize(emoji) + ":", st: sBold}, {text: prep + messageID}})
	s.WriteByte('\n')
	b.print(s.String())
	return nil
}

// OpenFile implements bot.FileOpener for files the user attached with
// /upload.
func (b *Backend) OpenFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	b.mu.Lock()
	p, ok := b.uploads[fileID]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("console: file %q: %w", fileID, bot.ErrUnknown)
	}
	return os.Open(p)
}

// screen serializes output. A message printed while a plain prompt waits
// for its line goes on a line of its own, and the prompt is shown again
// after it, as readline does on a terminal.
type screen struct {
	out    io.Writer     // Options.Output
	prompt func() string // the prompt as it should read now

	mu       sync.Mutex
	sink     io.Writer    // guarded by mu: where output goes now
	pending  bool         // guarded by mu: a plain prompt is showing
	rlPrompt func(string) // guarded by mu: sets the line editor's prompt, when there is one
}

// print writes s where output goes now, in one piece.
func (b *Backend) print(s string) {
	if err := b.screen.print(s); err != nil {
		b.log.Warn("console output failed", "err", err)
	}
}

func (sc *screen) print(s string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	// The message may have taken the id the prompt shows: show the new one.
	switch {
	case sc.pending:
		s = "\n" + s + sc.prompt()
	case sc.rlPrompt != nil:
		sc.rlPrompt(sc.prompt()) // readline redraws it below s
	}
	_, err := io.WriteString(sc.sink, s)
	return err
}

// setSink sends output to w, and tells the line editor's prompt when it
// changes (nil when there is no line editor).
func (sc *screen) setSink(w io.Writer, rlPrompt func(string)) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.sink, sc.rlPrompt = w, rlPrompt
}

// showPrompt writes a plain prompt and remembers it until endPrompt.
func (sc *screen) showPrompt(p string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.pending = true
	_, err := io.WriteString(sc.sink, p)
	return err
}

// endPrompt writes what ends the prompt's line (the echoed input) and
// forgets the prompt.
func (sc *screen) endPrompt(s string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.pending = false
	_, err := io.WriteString(sc.sink, s)
	return err
}

var _ bot.Readiness = (*Backend)(nil)

// Ready implements bot.Readiness: a terminal has no connection to lose,
// so the console is always ready.
func (b *Backend) Ready() error { return nil }

// Run implements bot.Backend: it connects, then reads the user's lines
// until ctx is done (it returns nil) or the user quits (it returns
// ErrQuit). Each message is handed to h, and the next prompt shows once
// every handler it started is done, so replies print before it.
//
// When ctx is done while a line is being read from an Input that cannot
// be interrupted (a pipe), Run returns at once and the goroutine reading
// stays blocked until the read returns; it then exits without touching
// the backend. A terminal is interrupted cleanly.
func (b *Backend) Run(ctx context.Context, h bot.Handler) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("console: Run called twice")
	}
	if err := h.HandleConnect(ctx, b.self); err != nil {
		return err
	}
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	b.admins = func(string) bool { return false }
	if a, ok := h.(interface{ IsAdmin(userID string) bool }); ok {
		b.admins = a.IsAdmin
	}
	b.prefix = func() string { return "!" }
	if p, ok := h.(interface{ Prefix() string }); ok {
		b.prefix = p.Prefix
	}
	if c, ok := h.(interface{ Commands() []bot.CommandInfo }); ok {
		b.cmds = c.Commands
	}

	src, err := b.source()
	if err != nil {
		return err
	}
	var rlPrompt func(string)
	if rl, ok := src.(*readlineSource); ok {
		rlPrompt = rl.rl.SetPrompt
	}
	b.screen.setSink(src.writer(), rlPrompt)
	defer b.screen.setSink(b.out, nil)
	b.banner()

	prompts := make(chan string)
	results := make(chan lineResult)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for p := range prompts {
			s, err := src.readLine(p)
			select {
			case results <- lineResult{s, err}:
			case <-stop:
				return
			}
		}
	})
	reading := false // the reader goroutine is in readLine
	defer func() {
		close(stop)
		close(prompts)
		if reading && !src.interrupt() {
			return // blocked in a Read nothing can interrupt: it exits when the Read returns
		}
		wg.Wait()
		src.close(reading)
	}()

	for {
		select {
		case prompts <- b.prompt():
			reading = true
		case <-ctx.Done():
			return nil
		}
		var r lineResult
		select {
		case r = <-results:
			reading = false
		case <-ctx.Done():
			return nil
		}
		switch {
		case errors.Is(r.err, errInterrupt):
			continue
		case errors.Is(r.err, io.EOF):
			return ErrQuit
		case r.err != nil:
			return fmt.Errorf("console: read: %w", r.err)
		}
		done, err := b.handleLine(ctx, r.line)
		if err != nil {
			return err
		}
		select {
		case <-done:
		case <-ctx.Done():
			return nil
		}
	}
}

type lineResult struct {
	line string
	err  error
}

// source returns the line source for the Input.
func (b *Backend) source() (lineSource, error) {
	if b.interact {
		hist := b.history
		rl, err := newReadline(b.in.(*os.File), b.out.(*os.File), hist, completer{b}, b.onWidth)
		if err != nil {
			return nil, fmt.Errorf("console: line editor: %w", err)
		}
		return rl, nil
	}
	return &plainSource{in: bufio.NewReader(b.in), screen: b.screen, echo: !isTerminal(b.in)}, nil
}

// banner greets the user.
func (b *Backend) banner() {
	b.mu.Lock()
	cur := b.cur
	b.mu.Unlock()
	b.print(b.render.notice("You are %s%s in %s, talking to @%s with no server.", cur.user, b.adminNote(cur.user), b.whereName(cur), b.self.Username) +
		b.render.notice("Type %shelp for the bot's commands, /help for the console's; Ctrl-D quits.", b.prefix()))
}

func (b *Backend) adminNote(u bot.User) string {
	if b.admins != nil && b.admins(u.ID) {
		return " (admin)"
	}
	return ""
}

// whereName names the current place: "~ops", "~ops (thread #3)", "a
// direct message to @ops-bot".
func (b *Backend) whereName(cur state) string {
	b.mu.Lock()
	ri := b.rooms[cur.room]
	b.mu.Unlock()
	s := ri.room.String()
	if ri.dm != nil {
		s = "a direct message to @" + b.self.Username
	}
	if cur.thread != "" {
		s += " (thread #" + cur.thread + ")"
	}
	return s
}

// prompt returns "#4 @you › ~town-square: ", the id the next message will
// get, who speaks and where.
func (b *Backend) prompt() string {
	b.mu.Lock()
	cur := b.cur
	ri := b.rooms[cur.room]
	next := strconv.Itoa(b.nextID + 1)
	b.mu.Unlock()
	where := line{{text: ri.room.String(), st: sBold}}
	if ri.dm != nil {
		where = line{{text: "@" + b.self.Username, st: sBold}, {text: " (direct)", st: sDim}}
	}
	l := line{{text: "#" + next + " ", st: sDim}, {text: cur.user.String(), st: sBold, fg: "36"}, {text: " › ", st: sDim}}
	l = append(l, where...)
	if cur.thread != "" {
		l = append(l, span{text: " (thread #" + cur.thread + ")", st: sDim})
	}
	l = append(l, span{text: ": "})
	var s strings.Builder
	b.render.write(&s, l)
	return s.String()
}

// now is the time of a message.
func now() time.Time { return time.Now() }
