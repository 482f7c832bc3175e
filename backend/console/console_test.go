package console

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain checks that no goroutine of ours outlives the tests. One of
// chzyer/readline v1.5.1's is ignored: when its input reaches EOF after
// the last Readline call, (*Operation).ioloop blocks for ever sending
// io.EOF on an unbuffered channel nobody reads (operation.go:127, a
// select with a single case). It cannot be reached from outside the
// library; in the binary it ends with the process. CI saw it fail this
// package about one run in ten.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/chzyer/readline.(*Operation).ioloop"))
}

// demo is a plugin that exercises every kind of reply.
type demo struct{}

func (demo) Setup(p *bot.Plugin) error {
	p.Command("echo", func(ctx context.Context, req *bot.Request) error {
		return req.Reply(req.Args)
	}).Help("say it back")
	p.Command("whoami", func(ctx context.Context, req *bot.Request) error {
		m := req.Message
		return req.Replyf("%s (%s) in %s (%s) direct=%v thread=%q admin=%v", m.From, m.From.ID, m.Room, m.Room.ID, m.Direct, m.ThreadID, req.IsAdmin())
	})
	p.Command("card", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{
			Title: "Deployed api to prod",
			Link:  "https://ci.example.com/builds/42",
			Text:  "Build **42** passed in `3m12s`; see the [log](https://ci.example.com/builds/42/log) for the details of every step, which is a long sentence that has to wrap inside the box.",
			Color: "good",
			Fields: []bot.Field{
				{Title: "Service", Value: "api", Short: true},
				{Title: "Environment", Value: "prod", Short: true},
				{Title: "Commit", Value: "`9f3c2a1` fix the retry loop", Short: false},
				{Title: "Duration", Value: "3m12s", Short: true},
			},
			Image:     "https://ci.example.com/graph.png",
			Thumbnail: "https://ci.example.com/logo.png",
		})
	})
	p.Command("emptycard", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{Color: "#ff8800"})
	})
	p.Command("summarycard", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{Summary: "Build **42** is out", Title: "Deployed", Color: req.Args})
	})
	p.Command("file", func(ctx context.Context, req *bot.Request) error {
		return req.File(bot.File{Name: "report.csv", Body: strings.NewReader(strings.Repeat("a,b\n", 400))}, "here is the report")
	})
	p.Command("evilfile", func(ctx context.Context, req *bot.Request) error {
		return req.File(bot.File{Name: "../../etc/passwd", Body: strings.NewReader("x")}, "")
	})
	p.Command("react", func(ctx context.Context, req *bot.Request) error {
		return req.React(":thumbsup:")
	})
	p.Command("secret", func(ctx context.Context, req *bot.Request) error {
		return req.Ephemeral("only you can see this")
	})
	p.Command("private", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("a private answer")
	}).Private()
	p.Command("threaded", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("an answer in a thread")
	}).InThread()
	p.Command("ask", func(ctx context.Context, req *bot.Request) error {
		m, err := req.Ask(ctx, "What is your favourite colour?")
		if err != nil {
			return err
		}
		return req.Replyf("%s it is.", m.Text)
	})
	p.Command("markdown", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("# Title\n**bold**, *italic*, `code`, ~~gone~~ and a [link](https://example.com)\n- one\n- two\n```\nx := 1\n```")
	})
	p.Command("shutdown", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("shutting down (not really)")
	}).AdminOnly()
	p.Command("readfile", func(ctx context.Context, req *bot.Request) error {
		for _, f := range req.Message.Files {
			rc, err := req.OpenFile(f)
			if err != nil {
				return err
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			if err := req.Replyf("%s (%s, %d bytes): %q", f.Name, f.MIME, f.Size, data); err != nil {
				return err
			}
		}
		return nil
	})
	p.OnReaction(func(ctx context.Context, r *bot.Reaction) error {
		return p.Engine().Send(ctx, r.Room.String(), bot.Outgoing{Text: fmt.Sprintf("%s reacted :%s: to #%s", r.User, r.Emoji, r.MessageID)})
	})
	p.OnPresence(func(ctx context.Context, pr *bot.Presence) error {
		return p.Engine().Send(ctx, "~town-square", bot.Outgoing{Text: pr.User.String() + " is " + pr.Status})
	})
	p.OnJoin(func(ctx context.Context, j *bot.Join) error {
		return p.Engine().Send(ctx, j.Room.String(), bot.Outgoing{Text: "welcome, " + j.User.String()})
	})
	return nil
}

// session runs a console on input with the demo plugin and returns what
// it printed, with the file directory replaced by $DIR.
func session(t *testing.T, opts Options, input string) string {
	t.Helper()
	var out bytes.Buffer
	dir := t.TempDir()
	opts.Input = strings.NewReader(input)
	opts.Output = &out
	opts.FileDir = dir
	opts.HistoryFile = "-"
	if opts.Color == ColorAuto {
		opts.Color = ColorNever
	}
	if opts.Width == 0 {
		opts.Width = 72
	}
	be, err := New(&opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e, err := bot.New(be, &bot.Options{Admins: []string{"@you"}}, demo{})
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	if err := e.Run(context.Background()); !errors.Is(err, ErrQuit) {
		t.Fatalf("Run = %v, want ErrQuit", err)
	}
	return strings.ReplaceAll(out.String(), dir, "$DIR")
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(name, " ", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestSession(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		input string
	}{
		{name: "command and reply", input: "!echo hi there\n"},
		{name: "console help", input: "/help\n/?\n"},
		{name: "card", input: "!card\n!emptycard\n!summarycard cyan\n!summarycard purple\n"},
		{name: "card in color", opts: Options{Color: ColorAlways}, input: "!card\n!emptycard\n!summarycard cyan\n!summarycard purple\n"},
		{name: "file", input: "!file\n!file\n!evilfile\n"},
		{name: "bot reaction", input: "!react\n"},
		{name: "user reaction", input: "hello\n/react #1 :tada:\n/react 1 thumbsup\n"},
		{name: "ephemeral", input: "!secret\n"},
		{name: "private reply", input: "!private\n"},
		{name: "dm without prefix", input: "/dm\necho hi\n!echo with prefix\nwhoami\n/room ~town-square\necho not a command\n"},
		{name: "switch user", input: "!whoami\n/as @bob\n!whoami\n!shutdown\n/as you\n!shutdown\n"},
		{name: "switch user in dm", input: "/dm\nwhoami\n/as @carol\nwhoami\n"},
		{name: "switch room", input: "/room ~ops\n!whoami\n/room eng/ops\n!whoami\n/room ~OPS\n!whoami\n"},
		{name: "start elsewhere", opts: Options{User: "@alice", Room: "~eng/ops", BotName: "ops-bot"}, input: "!whoami\n@ops-bot echo by mention\n"},
		{name: "thread", input: "!echo root\n/thread #1\n!whoami\n!threaded\n/thread\n!whoami\n"},
		{name: "reply in a new thread", input: "!threaded\n/thread 2\n!echo more\n"},
		{name: "ask", input: "!ask\nblue\n"},
		{name: "markdown", input: "!markdown\n"},
		{name: "markdown in color", opts: Options{Color: ColorAlways}, input: "!markdown\n!echo hi @bob\n"},
		{name: "upload", input: "/upload testdata/hello.txt !readfile\n"},
		{name: "join", input: "/room ~ops\n/join\n"},
		{name: "presence", input: "/presence away\n/as @bob\n/presence DND\n/presence\n/presence asleep\n"},
		{name: "literal slash", input: "//shrug\n!echo /not a console command\n"},
		{name: "quit", input: "!echo before\n/quit\n!echo never\n"},
		{name: "exit alias", input: "/EXIT\n!echo never\n"},
		{name: "empty lines", input: "\n   \n!echo after blanks\n"},
		{name: "no newline at the end", input: "!echo last"},
		{name: "bad input", input: "/frobnicate\n/as\n/as ~ops\n/as @ops-bot\n/room\n/room @bob\n/room ~a/b/c\n" +
			"/thread 99\n/thread #x\n/react\n/react 1\n/react 99 :x:\n/dm @bob\n/join now\n/upload\n/upload testdata/missing.txt\n/upload testdata\n" +
			"!nosuchcommand\n!eho hi\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, session(t, tc.opts, tc.input))
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
