package matterbot

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins"
)

// The tests in this file run the bot the way a team's own binary does:
// Command.Run with the built-in plugins and the test's own, "run -c FILE"
// against a fake Mattermost server over HTTP and WebSocket.

// runningBot is a Command running "run" in a goroutine owned by the test.
type runningBot struct {
	stderr *notifyWriter
	cancel context.CancelFunc
	done   chan int // size 1: the exit code
}

// startRun runs the command with the built-ins and extra plugins against
// w, with the bot's token in the environment (none when w.token is
// empty), and waits until it is connected. The test's cleanup stops it.
func startRun(t *testing.T, w *runWorld, extra ...bot.Setuper) *runningBot {
	t.Helper()
	b := launchRun(t, w, extra...)
	b.waitLog(t, `msg=connected`)
	// And past the catch-up of its start (what came after its login, or
	// since it stopped): a command posted from here comes over the
	// socket, not in that catch-up, which would count it in its figures.
	b.waitLog(t, `msg="catching up" why=(started|restarted)`)
	return b
}

// launchRun is startRun without the wait.
func launchRun(t *testing.T, w *runWorld, extra ...bot.Setuper) *runningBot {
	t.Helper()
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token) // "" is no token
	ctx, cancel := context.WithCancel(context.Background())
	b := &runningBot{stderr: &notifyWriter{wrote: make(chan struct{}, 1)}, cancel: cancel, done: make(chan int, 1)}
	c := &Command{Name: "matterbot", Plugins: append(plugins.Builtin(), extra...),
		Stdin: strings.NewReader(""), Stdout: b.stderr, Stderr: b.stderr}
	go func() { b.done <- c.Run(ctx, []string{"run", "-c", w.config}) }()
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop cancels the command, as SIGTERM does, and returns its exit code.
func (b *runningBot) stop(t *testing.T) int {
	t.Helper()
	b.cancel()
	select {
	case code := <-b.done:
		b.done <- code // for a second stop
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("the bot did not stop; stderr:\n%s", b.stderr.String())
		return -1
	}
}

// waitLog waits for a line of the bot's output matching re and returns
// its submatches.
func (b *runningBot) waitLog(t *testing.T, re string) []string {
	t.Helper()
	return b.waitLogSince(t, 0, re)
}

// mark returns the length of the bot's output so far, for waitLogSince.
func (b *runningBot) mark() int { return len(b.stderr.String()) }

// waitLogSince is waitLog for the output after mark.
func (b *runningBot) waitLogSince(t *testing.T, mark int, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(30 * time.Second)
	for {
		if m := rx.FindStringSubmatch(b.stderr.String()[mark:]); m != nil {
			return m
		}
		select {
		case <-b.stderr.wrote:
		case code := <-b.done:
			b.done <- code
			if m := rx.FindStringSubmatch(b.stderr.String()[mark:]); m != nil {
				return m
			}
			t.Fatalf("the bot exited with %d before logging %q; output:\n%s", code, re, b.stderr.String())
		case <-deadline:
			t.Fatalf("no line matching %q; output:\n%s", re, b.stderr.String())
		}
	}
}

// say posts text as alice in ~ops and returns the post.
func (w *runWorld) say(t *testing.T, text string) *mm.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, _, err := w.alice.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: text})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reply waits for the bot's next post in ~ops created after p and returns
// its message.
func (w *runWorld) reply(t *testing.T, p *mm.Post) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.srv.WaitForPost(ctx, w.ops.ID, func(q *mm.Post) bool {
		return q.UserID == w.bot.ID && q.CreateAt >= p.CreateAt && q.ID != p.ID
	})
	if err != nil {
		t.Fatalf("no reply to %q: %v", p.Message, err)
	}
	return r.Message
}

// hello is a team's own plugin, as a team's main.go passes it.
type hello struct{}

func (hello) Name() string { return "hello" }

func (hello) Setup(p *bot.Plugin) error {
	p.Command("hello", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("hello from the team's plugin, @" + req.Message.From.Username)
	})
	return nil
}

// TestMainRunsOwnPlugins: a plugin given to Command runs beside the
// built-ins, in run and in help.
func TestMainRunsOwnPlugins(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w, hello{})
	if got, want := w.reply(t, w.say(t, "!hello")), "hello from the team's plugin, @alice"; got != want {
		t.Errorf("reply to !hello = %q, want %q", got, want)
	}
	if got := w.reply(t, w.say(t, "!help")); !strings.Contains(got, "hello") || !strings.Contains(got, "echo") {
		t.Errorf("!help = %q, want the team's plugin and the built-ins listed", got)
	}
	if code := b.stop(t); code != 0 {
		t.Errorf("exit code after stop = %d, want 0; output:\n%s", code, b.stderr.String())
	}
}

// TestConsoleRunsOwnPlugins: the console serves the plugins run serves.
func TestConsoleRunsOwnPlugins(t *testing.T) {
	var out, errOut strings.Builder
	c := &Command{Name: "ourbot", Plugins: append(plugins.Builtin(), hello{}),
		Stdin: strings.NewReader("!hello\n!echo still here\n"), Stdout: &out, Stderr: &errOut}
	if code := c.Run(context.Background(), []string{"console", "--history", "-", "--as", "@dana"}); code != 0 {
		t.Fatalf("console = %d; stderr:\n%s", code, errOut.String())
	}
	for _, want := range []string{"hello from the team's plugin, @dana", "still here"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunServerReset: the token of a running bot stops working (the
// fake server was reset, or the token revoked) and its socket drops: run
// says so, does not exit (a supervisor would restart it into the same
// refusal, and give up), and tries again; once the token works again it
// answers what was posted meanwhile, and goes on.
func TestRunServerReset(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w)
	if got := w.reply(t, w.say(t, "!echo before")); got != "before" {
		t.Fatalf("reply = %q, want before", got)
	}
	w.srv.RevokeToken(w.token)
	w.srv.DropWebSocket(w.bot.ID)
	b.waitLog(t, `level=ERROR msg="the server no longer accepts the bot's token; trying again until it does"`)
	missed := w.say(t, "!echo missed")
	mark := b.mark()
	b.waitLogSince(t, mark, `msg="the server still does not accept the bot's token"`)
	if err := w.srv.AddToken(w.bot.ID, w.token, "restored"); err != nil {
		t.Fatal(err)
	}
	if got := w.reply(t, missed); got != "missed" {
		t.Errorf("reply to the command posted while the token was refused = %q, want missed", got)
	}
	if got := w.reply(t, w.say(t, "!echo after")); got != "after" {
		t.Errorf("reply = %q, want after", got)
	}
	select {
	case code := <-b.done:
		b.done <- code
		t.Errorf("the bot exited %d; output:\n%s", code, b.stderr.String())
	default:
	}
}
