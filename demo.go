package matterbot

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chzyer/readline"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/examples/release"
	"github.com/matterbot/matterbot/internal/playground"
	"github.com/matterbot/matterbot/mattermost"
)

// demoCmd runs, in one process, the fake server with the default world,
// the bot with the command's plugins (and examples/release) connected to
// it over HTTP and WebSocket as run would, with its listener on a free
// loopback port that the server calls for buttons, dialogs and slash
// commands, and a chat on this terminal. When standard
// input is not a terminal, its lines are the user's messages, or a short
// script when it has none, and the demo ends with them.
type demoCmd struct {
	Listen   string `help:"Address of the fake server (default 127.0.0.1:8065, or a free port if that one is taken)." placeholder:"HOST:PORT"`
	LogLevel string `default:"warn" enum:"debug,info,warn,error" help:"Log level of the server and the bot, on standard error."`

	// answerWait bounds the wait for the bot's answer to a piped line;
	// zero means demoAnswerWait.
	answerWait time.Duration
}

// demoAddr is where the demo's fake server listens by default: the port
// of a real Mattermost, so that a client's usual address works.
const demoAddr = "127.0.0.1:8065"

// demoPlugin is the name of the example plugin (examples/release) the
// demo adds to the command's plugins, unless one has the name: a card
// with a button, a menu and a dialog, and a slash command of its own
// (demoSlashConfig).
const demoPlugin = "release"

// demoSlashConfig gives the demo's plugin a slash command of its own,
// /release, beside the bot's /ops-bot.
const demoSlashConfig = "[mattermost.slash]\ncommands = [\"release\"]\n"

// hasPlugin reports whether plugins has one named name.
func hasPlugin(plugins []bot.Setuper, name string) bool {
	for _, p := range plugins {
		if n, ok := p.(interface{ Name() string }); ok && n.Name() == name {
			return true
		}
	}
	return false
}

// demoAnswerWait is how long a piped line waits for the bot's answer
// before the next is posted. The bot answers in milliseconds; a line
// that is no command gets no answer.
const demoAnswerWait = 3 * time.Second

// demoScript is the conversation played when standard input is neither
// a terminal nor has lines: commands in a channel, a direct message, and
// a command a plain user may not run.
var demoScript = []string{
	"!help",
	"!echo hello",
	"!whoami",
	"/dm ops-bot",
	"echo in a direct message, no prefix is needed",
	"/in town-square",
	"/as bob",
	"!plugin deactivate echo",
}

func (c *demoCmd) Run(e *env) error {
	sf, err := parseSeed("(default)", defaultSeed)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	w, err := startDemoWorld(c.Listen, demoAddr, sf, logger)
	if err != nil {
		return err
	}
	defer w.srv.Close()
	// The bot's listener, on a free port of the loopback, is where the
	// fake server calls for buttons, dialogs and slash commands.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: bot listener: %w", err)
	}
	defer ln.Close() // for the returns before the bot serves it

	// The bot is configured as run would be from the config the fake
	// server prints: the defaults, and these lines.
	text, _ := w.botConfig(ln.Addr().String()) // the default world has a bot and a team
	plugins := slices.Clip(e.plugins)
	if !hasPlugin(plugins, demoPlugin) {
		plugins = append(plugins, &release.Plugin{})
	}
	text += demoSlashConfig
	cfg, err := config.Parse("(demo)", []byte(text), nil)
	if err != nil {
		return err
	}
	bopts := BackendOptions(cfg.Mattermost, logger)
	bopts.Slash.URL = slashURL(cfg, logger)
	interactOptions(cfg.HTTP, &bopts)
	// A key of its own each time (the demo keeps nothing): no warning
	// that a generated one is kept in memory only.
	bopts.ActionSecret = mattermost.Secret(rand.Text())
	be, err := mmbackend.New(bopts)
	if err != nil {
		return err
	}
	connected := make(chan struct{}, 1) // size 1: the hook never blocks
	plugins = append(plugins, readyPlugin{name: "demo", connected: connected})
	eng, err := bot.New(be, e.engineOptions(cfg, nil, logger), plugins...)
	if err != nil {
		return err
	}
	mux := httpHandler(eng, cfg.HTTP)
	mux.Handle(mmbackend.SlashPath, be.SlashHandler())
	mountInteractions(mux, be, eng)
	warnShadowed(mux, eng, logger)
	// The bot stops after the chat, not with e.ctx, so that its last
	// answers are sent and printed.
	botCtx, stopBot := context.WithCancel(context.WithoutCancel(e.ctx))
	defer stopBot()
	ran := make(chan error, 1) // size 1: the engine's goroutine never blocks
	go func() { ran <- serveListener(botCtx, eng, ln, mux, logger) }()
	select {
	case <-connected:
	case err := <-ran:
		return fmt.Errorf("demo: the bot stopped before connecting: %w", err)
	case <-e.ctx.Done():
		stopBot()
		return <-ran
	}

	ch, err := newChat(w.srv, sf, w.accounts, e.stdout)
	if err != nil {
		stopBot()
		<-ran
		return err
	}
	ch.stopHint = "Ctrl-D or Ctrl-C ends the demo."
	interactive := isTerminal(e.stdin)
	ch.showTyped = !interactive // a terminal shows what is typed
	if err := c.printWelcome(e.stdout, w); err != nil {
		stopBot()
		<-ran
		return err
	}

	// The chat ends with its input, on Ctrl-C, or when the bot stops.
	chatCtx, endChat := context.WithCancel(e.ctx)
	defer endChat()
	botErr := make(chan error, 1) // size 1: never blocks the goroutine below
	go func() {
		err := <-ran
		endChat()
		botErr <- err
	}()
	stopWatch := ch.startWatch(context.WithoutCancel(chatCtx))
	if interactive {
		ch.printHelp()
		ch.post(chatCtx, e.stdin)
	} else {
		bot, _ := w.srv.User(botName(w))
		c.converse(chatCtx, ch, e.stdin, bot.ID)
	}
	stopBot() // waits for the running commands and their replies
	err = <-botErr
	stopWatch() // prints the last answers
	if err != nil {
		return err
	}
	ch.printf("demo over: the bot and the fake server are stopped\n")
	return nil
}

// startDemoWorld starts the fake server on listen or, when listen is "",
// on preferred, or when that is taken on a free port of 127.0.0.1.
func startDemoWorld(listen, preferred string, sf *seedFile, logger *slog.Logger) (*world, error) {
	if listen != "" {
		return startWorld(listen, sf, "", logger)
	}
	w, err := startWorld(preferred, sf, "", logger)
	if err == nil {
		return w, nil
	}
	logger.Info("demo address taken, using a free port", "addr", preferred, "err", err)
	return startWorld("127.0.0.1:0", sf, "", logger)
}

// botName is the username of the world's bot.
func botName(w *world) string {
	b, _ := w.bot()
	return b.username
}

func (c *demoCmd) printWelcome(out io.Writer, w *world) error {
	var b strings.Builder
	user := everydayUser(w.accounts)
	var password string
	for _, a := range w.accounts {
		if a.username == user {
			password = a.password
		}
	}
	fmt.Fprintf(&b, "matterbot demo: a fake Mattermost server at %s, the bot @%s connected to it\n", w.url, botName(w))
	fmt.Fprintf(&b, "playground: %s%s?user=%s, a chat in your browser, while the demo runs: try !release api 1.4.2\n", w.url, playground.Path, user)
	b.WriteString("  (a card: click its button, menu and dialog) and the slash command /release schedule api 1.4.2\n")
	fmt.Fprintf(&b, "join from another terminal or a Mattermost client: log in as %s, password %q, team %s\n",
		user, password, w.teamNames()[0])
	fmt.Fprintf(&b, "  curl -si -d '{\"login_id\":%q,\"password\":%q}' %s/api/v4/users/login | grep -i ^token\n",
		user, password, w.url)
	b.WriteString("accounts (alice is a plain user and the bot's admin; sysadmin is the server's admin):\n")
	writeAccounts(&b, w.accounts)
	b.WriteString("\n")
	_, err := io.WriteString(out, b.String())
	return err
}

// converse posts the lines of in, or demoScript when in has none, each
// after the bot's answer to the one before (or demoAnswerWait), until
// they are all posted or ctx is done.
func (c *demoCmd) converse(ctx context.Context, ch *chat, in io.Reader, botID string) {
	wait := c.answerWait
	if wait <= 0 {
		wait = demoAnswerWait
	}
	say := func(line string) {
		p := ch.handle(line)
		if p == nil {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		// The bot's first post after this one, wherever it is, printed
		// before what comes next.
		answer, err := ch.srv.WaitForPost(wctx, "", func(q *mattermost.Post) bool {
			return q.UserID == botID && q.CreateAt > p.CreateAt
		})
		if err == nil {
			ch.waitShown(wctx, answer)
		}
	}
	lines := readLines(ctx, in)
	n := 0
	for {
		line, ok := nextLine(ctx, lines)
		if !ok {
			break
		}
		if n == 0 {
			ch.printf("posting the lines of standard input; %s.\n", ch.where())
		}
		n++
		say(line)
	}
	if n > 0 || ctx.Err() != nil {
		return
	}
	ch.printf("standard input is not a terminal and has no lines: a scripted conversation; %s.\n", ch.where())
	for _, line := range demoScript {
		if ctx.Err() != nil {
			return
		}
		say(line)
	}
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}
