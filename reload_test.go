package matterbot

import (
	"context"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// editConfig rewrites the world's configuration file with each pair of
// old and new strings replaced.
func (w *runWorld) editConfig(t *testing.T, oldnew ...string) {
	t.Helper()
	b, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			t.Fatalf("the config has no %q:\n%s", oldnew[i], s)
		}
		s = strings.Replace(s, oldnew[i], oldnew[i+1], 1)
	}
	if err := os.WriteFile(w.config, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ask posts text in ~ops as c's user and waits for a post of the bot
// there that has want in it, failing the test if none comes.
func (w *runWorld) ask(t *testing.T, c *mm.Client, text, want string, stderr func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := c.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: text}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
		return p.UserID == w.bot.ID && strings.Contains(p.Message, want)
	}); err != nil {
		t.Fatalf("%q: no answer with %q: %v; stderr:\n%s", text, want, err, stderr())
	}
}

// TestHangupReloads runs the command, changes its configuration file and
// sends SIGHUP: a good file takes effect (the new prefix answers, the old
// does not; a new admin runs an admin command; the log turns to JSON), a
// bad one is reported with its file and line and changes nothing, and a
// key that needs a restart is named and keeps its value.
func TestHangupReloads(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	bob := w.addBob(t)
	c := startChild(t, []string{"run", "-c", w.config}, "MATTERBOT_MATTERMOST_TOKEN="+w.token)
	c.waitLine(t, `msg=connected`)
	hangup := func() {
		t.Helper()
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	w.ask(t, bob, "!plugin list", "`!plugin list`: only bot admins may run this command.", c.stderr)

	// A good file: a new prefix, bob an admin.
	w.editConfig(t, `prefix = "!"`, `prefix = "?"`, `admins = ["@alice"]`, `admins = ["@alice", "@bob"]`)
	hangup()
	c.waitLine(t, `msg="configuration reloaded" file=\S+ changed="admins, prefix"`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Posted first, so read first: answered, it would be before the next.
	if _, _, err := w.alice.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!echo old prefix"}); err != nil {
		t.Fatal(err)
	}
	w.ask(t, w.alice, "?echo new prefix", "new prefix", c.stderr)
	for _, p := range w.srv.Posts(w.ops.ID) {
		if p.UserID == w.bot.ID && p.Message == "old prefix" {
			t.Errorf("the old prefix still answers")
		}
	}
	w.ask(t, bob, "?plugin list", "**echo** (active)", c.stderr)

	// A bad file: the problems, with file:line; the old config stays.
	w.editConfig(t, `prefix = "?"`, `prefix = ""`+"\nsupress_cmd_not_found = true")
	hangup()
	c.waitLine(t, `level=ERROR msg="configuration not reloaded" err="`+regexp.QuoteMeta(w.config)+`:1: prefix: must not be empty"`)
	c.waitLine(t, `level=ERROR msg="configuration not reloaded" err="`+regexp.QuoteMeta(w.config)+`:2: supress_cmd_not_found: unknown key \(did you mean suppress_cmd_not_found\?\)"`)
	w.ask(t, w.alice, "?echo still here", "still here", c.stderr)

	// A key that needs a restart: named, kept; the rest applies.
	w.editConfig(t, `prefix = ""`+"\nsupress_cmd_not_found = true", `prefix = "?"`,
		`team = "ops-team"`, `team = "other-team"`, "[mattermost]", "[log]\nformat = \"json\"\n\n[mattermost]")
	hangup()
	c.waitLine(t, `"msg":"configuration keys need a restart; old values kept","keys":"mattermost.team"`)
	c.waitLine(t, `"msg":"configuration reloaded",.*"changed":"log.format"`)
	w.ask(t, w.alice, "?echo same team", "same team", c.stderr)

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t, shutdownLimit); code != 0 {
		t.Errorf("exit code after the reloads and SIGTERM = %d, want 0; stderr:\n%s", code, c.stderr())
	}
	if strings.Contains(c.stderr(), w.token) {
		t.Error("the token appears in the logs")
	}
}

// TestHangupIgnoredElsewhere checks that a subcommand other than run
// still says it ignores SIGHUP, and lives on.
func TestHangupIgnoredElsewhere(t *testing.T) {
	t.Parallel()
	c := startChild(t, []string{"fake-server", "--listen", "127.0.0.1:0", "--log-level", "info"})
	c.waitLine(t, `msg="mmtest server started"`)
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.waitLine(t, `^`+regexp.QuoteMeta(childName)+`: hangup: ignored \(only run reloads its configuration on SIGHUP\)$`)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t, shutdownLimit); code != 0 {
		t.Errorf("exit code after SIGHUP then SIGTERM = %d, want 0; stderr:\n%s", code, c.stderr())
	}
}

// greeter is a plugin with a configuration: [plugins.greeter] greeting.
type greeter struct {
	cfg struct {
		Greeting string `toml:"greeting" required:""`
	}
}

func (*greeter) Name() string { return "greeter" }

func (g *greeter) Setup(p *bot.Plugin) error {
	if err := p.Config(&g.cfg); err != nil {
		return err
	}
	p.Command("greet", func(ctx context.Context, req *bot.Request) error { return req.Reply(g.cfg.Greeting) })
	return nil
}

// TestReloadPluginConfig reloads in process, through Command's hangup:
// a plugin's new table takes effect; a table with an unknown key is
// reported with its file and line, and the plugin keeps its config; the
// debug level turns on.
func TestReloadPluginConfig(t *testing.T) {
	w := newRunWorld(t)
	w.editConfig(t, "[mattermost]", "[plugins.greeter]\ngreeting = \"hello\"\n\n[mattermost]")
	t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
	hup := &hangup{}
	errOut := &notifyWriter{wrote: make(chan struct{}, 1)}
	cmd := &Command{Name: "matterbot", Plugins: []bot.Setuper{&greeter{}}, Stdin: strings.NewReader(""),
		Stdout: &notifyWriter{}, Stderr: errOut, hangup: hup}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- cmd.Run(ctx, []string{"run", "-c", w.config}) }()
	// waitLog waits for a line of stderr matching re, after the first
	// from lines.
	from := 0
	waitLog := func(re string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		deadline := time.After(30 * time.Second)
		for {
			lines := strings.Split(errOut.String(), "\n")
			for i := from; i < len(lines); i++ {
				if rx.MatchString(lines[i]) {
					from = i + 1
					return
				}
			}
			select {
			case <-errOut.wrote:
			case code := <-done:
				t.Fatalf("run exited with %d; stderr:\n%s", code, errOut.String())
			case <-deadline:
				t.Fatalf("no line matching %s; stderr:\n%s", re, errOut.String())
			}
		}
	}
	waitLog(`msg=connected`)
	w.ask(t, w.alice, "!greet", "hello", errOut.String)

	w.editConfig(t, `greeting = "hello"`, `greeting = "bonjour"`)
	hup.deliver()
	waitLog(`msg="plugin config reloaded" plugin=greeter`)
	waitLog(`msg="configuration reloaded" file=\S+ changed=plugins.greeter`)
	w.ask(t, w.alice, "!greet", "bonjour", errOut.String)

	w.editConfig(t, `greeting = "bonjour"`, `greting = "hallo"`)
	hup.deliver()
	waitLog(`level=ERROR msg="configuration not reloaded" err="` + regexp.QuoteMeta(w.config) + `:8: plugins.greeter.greting: unknown key \(did you mean greeting\?\)"`)
	// The greeter keeps its config: a second bonjour.
	ctx2, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	if _, _, err := w.alice.CreatePost(ctx2, &mm.Post{ChannelID: w.ops.ID, Message: "!greet"}); err != nil {
		t.Fatal(err)
	}
	n := 0 // WaitForPost looks at each post once, oldest first
	if _, err := w.srv.WaitForPost(ctx2, w.ops.ID, func(p *mm.Post) bool {
		if p.UserID == w.bot.ID && p.Message == "bonjour" {
			n++
		}
		return n == 2
	}); err != nil {
		t.Fatalf("no second bonjour: %v; stderr:\n%s", err, errOut.String())
	}

	w.editConfig(t, `greting = "hallo"`, `greeting = "hallo"`, "[mattermost]", "[log]\nlevel = \"debug\"\n\n[mattermost]")
	hup.deliver()
	waitLog(`msg="configuration reloaded" file=\S+ changed="log.level, plugins.greeter"`)
	w.ask(t, w.alice, "!greet", "hallo", errOut.String)
	waitLog(`level=DEBUG`)

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exit code = %d, want 0; stderr:\n%s", code, errOut.String())
	}
}
