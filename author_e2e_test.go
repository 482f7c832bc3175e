package matterbot

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// The tests in this file drive what a plugin author tripped on (issue 10,
// section 5) through Command.Run against the fake server, with a plugin
// of the test's own.

// author is a plugin the way an author writes one: a question, a regex
// command, a call to the server that fails.
type author struct{}

func (author) Name() string { return "author" }

func (author) Setup(p *bot.Plugin) error {
	ask := func(ctx context.Context, req *bot.Request) error {
		a, err := req.Ask(ctx, "Sure?")
		if err != nil {
			return err
		}
		return req.Reply("you said " + a.Text)
	}
	p.Command("ask", ask).Timeout(time.Minute)
	// The command's deadline is the question's: a second, so that the
	// test waits that long for no answer.
	p.Command("deploy", ask).Timeout(time.Second).NoAnswer("No answer: deploy cancelled.")
	p.Command("quick", ask).Timeout(time.Second)
	p.Regex("ticket", `^ticket #(\d+)$`, func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("Ticket %s: printer on fire.", req.Match[1])
	}).Usage("#<number>")
	// join ROOM_ID: the server refuses a private room the bot is not in,
	// and the handler returns its error as is.
	p.Command("join", func(ctx context.Context, req *bot.Request) error {
		return req.Rooms().JoinRoom(ctx, req.Args)
	})
	p.Command("boom", func(ctx context.Context, req *bot.Request) error {
		panic("boom: internal state 0xc000123456")
	})
	return nil
}

// sayIn posts text as alice in ~ops, in the thread of root (nil: not in
// a thread), and returns the post.
func (w *runWorld) sayIn(t *testing.T, root *mm.Post, text string) *mm.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := &mm.Post{ChannelID: w.ops.ID, Message: text}
	if root != nil {
		p.RootID = root.ID
	}
	p, _, err := w.alice.CreatePost(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// replies waits for n posts of the bot in ~ops after p, in p's thread
// (outside threads for p outside threads), and returns their messages.
func (w *runWorld) replies(t *testing.T, p *mm.Post, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	_, err := w.srv.WaitForPost(ctx, w.ops.ID, func(q *mm.Post) bool {
		if q.UserID == w.bot.ID && q.CreateAt > p.CreateAt && q.RootID == p.RootID {
			got = append(got, q.Message)
		}
		return len(got) == n
	})
	if err != nil {
		t.Fatalf("replies to %q in thread %q: got %q, want %d: %v", p.Message, p.RootID, got, n, err)
	}
	return got
}

// TestAuthorAsk: while a question waits, a command runs as a command and
// neither answers nor cancels it; a question left unanswered ends with
// the command's NoAnswer text or the default, never an error's text.
func TestAuthorAsk(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w, author{})

	if got, want := w.reply(t, w.say(t, "!ask")), "Sure?"; got != want {
		t.Fatalf("!ask = %q, want %q", got, want)
	}
	if got, want := w.reply(t, w.say(t, "!echo still here")), "still here"; got != want {
		t.Errorf("!echo while the question waits = %q, want %q (a command runs as one)", got, want)
	}
	if got, want := w.reply(t, w.say(t, "yes")), "you said yes"; got != want {
		t.Errorf("the answer after a command = %q, want %q (the question still waits)", got, want)
	}

	// Two questions left unanswered, one in the room and one in a
	// thread, wait their second side by side.
	root := w.say(t, "a thread") // before the question, or it is the answer
	deploy := w.say(t, "!deploy")
	quick := w.sayIn(t, root, "!quick")
	for _, tc := range []struct {
		p    *mm.Post
		want []string
	}{
		{deploy, []string{"Sure?", "No answer: deploy cancelled."}},
		{quick, []string{"Sure?", "`!quick`: no answer, so I stopped waiting."}},
	} {
		got := w.replies(t, tc.p, len(tc.want))
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s, unanswered: replies %q, want %q", tc.p.Message, got, tc.want)
		}
		for _, r := range got {
			for _, internal := range []string{"bot:", "deadline", "no answer after", "context"} {
				if strings.Contains(r, internal) {
					t.Errorf("%s, unanswered: reply %q shows the error (%q)", tc.p.Message, r, internal)
				}
			}
		}
	}
	b.waitLog(t, `msg=command request_id=[0-9a-f]{6} plugin=author command=deploy outcome=no_answer `)
	b.waitLog(t, `msg=command request_id=[0-9a-f]{6} plugin=author command=quick outcome=no_answer `)
}

// TestAuthorRegexUsage: a regex command named but not matched answers
// with its usage, not "not found".
func TestAuthorRegexUsage(t *testing.T) {
	w := newRunWorld(t)
	startRun(t, w, author{})
	for _, tc := range []struct{ say, want string }{
		{"!ticket #42", "Ticket 42: printer on fire."},
		{"!ticket 42", "`!ticket`: \"42\" does not fit.\nUsage: `!ticket #<number>`"},
		{"!ticket", "`!ticket`: missing arguments.\nUsage: `!ticket #<number>`"},
	} {
		if got := w.reply(t, w.say(t, tc.say)); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.say, got, tc.want)
		}
	}
}

// TestAuthorCommandGroups: a mistyped subcommand suggests the command of
// its group; help lists a group.
func TestAuthorCommandGroups(t *testing.T) {
	w := newRunWorld(t) // alice is an admin: the plugin commands are hers
	startRun(t, w)
	for _, tc := range []struct{ say, want string }{
		{"!plugin lis", "Command \"plugin lis\" not found. Did you mean `!plugin list`?"},
		{"!plugin", "`!plugin` needs a subcommand: `!plugin activate`, `!plugin config`, `!plugin deactivate` or `!plugin list`."},
		{"!help plugin", "`!plugin` commands:\n" +
			"• `!plugin activate <plugin>` — activate a plugin (admin)\n" +
			"• `!plugin config <plugin>` — show a plugin's configuration (secrets hidden) (admin)\n" +
			"• `!plugin deactivate <plugin>` — deactivate a plugin (admin)\n" +
			"• `!plugin list` — list the plugins and their state (admin)\n\n" +
			"Type `!help <command>` for more."},
	} {
		if got := w.reply(t, w.say(t, tc.say)); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.say, got, tc.want)
		}
	}
}

// TestAuthorErrorReplies: an internal error or a panic is answered with a
// reference, never the error's text or ids; the log has the error under
// the same reference.
func TestAuthorErrorReplies(t *testing.T) {
	w := newRunWorld(t)
	team, _ := w.srv.Team("ops-team")
	secret, err := w.srv.AddChannel(team.ID, "secret", "Secret", mm.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	b := startRun(t, w, author{})
	sorry := regexp.MustCompile(`^Sorry, ` + "`" + `(!\w+[^` + "`" + `]*)` + "`" + ` failed \(ref ([0-9a-f]{6})\)\.$`)
	for _, tc := range []struct {
		say      string
		log      string   // the log line, with %s for the reference
		internal []string // in the log line, never in the reply
	}{
		{"!join " + secret.ID, `msg="command failed" plugin=author command=join user_id=\S+ request_id=%s err=(.*)`,
			[]string{"mattermost:", secret.ID, "403", "app_error"}},
		{"!boom", `msg="handler panicked" plugin=author handler=boom request_id=%s panic=(.*)`,
			[]string{"boom:", "0xc000123456"}},
	} {
		got := w.reply(t, w.say(t, tc.say))
		m := sorry.FindStringSubmatch(got)
		if m == nil || !strings.HasPrefix(tc.say, m[1]) {
			t.Errorf("%s = %q, want \"Sorry, `!…` failed (ref …).\"", tc.say, got)
			continue
		}
		line := b.waitLog(t, `(?m)`+strings.Replace(tc.log, "%s", m[2], 1)+`$`)
		// The reference is random hex and may spell "403": leave it out.
		shown := strings.Replace(got, "(ref "+m[2]+")", "", 1)
		for _, s := range tc.internal {
			if strings.Contains(shown, s) {
				t.Errorf("%s: reply %q shows %q", tc.say, got, s)
			}
			if !strings.Contains(line[1], s) {
				t.Errorf("%s: log line %q lacks %q", tc.say, line[0], s)
			}
		}
	}
}

// reminder is a plugin with one-shot timers: "!remind 1s tea" says
// "reminder: tea" a second later, where it was asked; "!timers" counts
// the pending ones.
type reminder struct{}

func (reminder) Name() string { return "reminder" }

func (reminder) Setup(p *bot.Plugin) error {
	p.OnTimer("remind", func(ctx context.Context, t *bot.Timer) error {
		var what string
		if err := t.Decode(&what); err != nil {
			return err
		}
		return t.Reply(ctx, "reminder: "+what)
	})
	p.Command("remind", func(ctx context.Context, req *bot.Request) error {
		in, what, _ := strings.Cut(req.Args, " ")
		d, err := time.ParseDuration(in)
		if err != nil {
			return bot.Usagef("%q is not a duration", in)
		}
		if _, err := req.After(d, "remind", what); err != nil {
			return err
		}
		return req.Reply("ok, in " + in)
	}).Usage("<duration> <what>")
	p.Command("timers", func(ctx context.Context, req *bot.Request) error {
		ts, err := p.Timers(ctx)
		if err != nil {
			return err
		}
		return req.Replyf("%d pending", len(ts))
	})
	return nil
}

// TestAuthorTimerSurvivesRestart: a reminder set in a thread, with the bot
// stopped before it is due, is delivered once, in the thread, by the bot
// started again on the same storage file.
func TestAuthorTimerSurvivesRestart(t *testing.T) {
	w := newRunWorld(t) // the config's storage: matterbot.db beside it
	b := startRun(t, w, reminder{})
	root := w.say(t, "tea time")
	set := w.sayIn(t, root, "!remind 1s tea")
	if got, want := w.replies(t, set, 1), []string{"ok, in 1s"}; !slices.Equal(got, want) {
		t.Fatalf("!remind in a thread: replies %q, want %q", got, want)
	}
	if code := b.stop(t); code != 0 {
		t.Fatalf("exit code after stop = %d; output:\n%s", code, b.stderr.String())
	}
	reminders := func() (n int) {
		for _, p := range w.srv.Posts(w.ops.ID) {
			if p.UserID == w.bot.ID && p.Message == "reminder: tea" {
				n++
			}
		}
		return n
	}
	if n := reminders(); n != 0 {
		t.Fatalf("the reminder came before the bot stopped (%d): stopping took over a second?", n)
	}

	b = startRun(t, w, reminder{})
	if got, want := w.replies(t, set, 2), []string{"ok, in 1s", "reminder: tea"}; !slices.Equal(got, want) {
		t.Errorf("after a restart: replies in the thread %q, want %q", got, want)
	}
	// Delivered, the timer is gone: not pending, and not sent again by
	// another restart.
	if got, want := w.reply(t, w.say(t, "!timers")), "0 pending"; got != want {
		t.Errorf("!timers after delivery = %q, want %q", got, want)
	}
	b.stop(t)
	startRun(t, w, reminder{})
	if got, want := w.reply(t, w.say(t, "!timers")), "0 pending"; got != want {
		t.Errorf("!timers after a second restart = %q, want %q", got, want)
	}
	if n := reminders(); n != 1 {
		t.Errorf("the reminder was posted %d times, want once", n)
	}
}

// keeper keeps where to send, by id: "!keep" stores the room and the
// author; "!tell" sends to both, from the store.
type keeper struct{}

func (keeper) Name() string { return "keeper" }

func (keeper) Setup(p *bot.Plugin) error {
	p.Command("keep", func(ctx context.Context, req *bot.Request) error {
		st := p.Store()
		if err := st.Set(ctx, "room", []byte("~"+req.Message.Room.ID)); err != nil {
			return err
		}
		if err := st.Set(ctx, "user", []byte("@"+req.Message.From.ID)); err != nil {
			return err
		}
		return req.Reply("kept")
	})
	p.Command("tell", func(ctx context.Context, req *bot.Request) error {
		for _, s := range []struct{ key, text string }{{"room", "to the room, by id"}, {"user", "to you, by id"}} {
			to, err := p.Store().Get(ctx, s.key)
			if err != nil {
				return err
			}
			if err := p.Send(ctx, string(to), bot.Outgoing{Text: s.text}); err != nil {
				return bot.UserErrorf("send to %s: %v", to, err) // the test reads it
			}
		}
		return nil
	})
	return nil
}

// TestAuthorSendByID: a room and a user kept by id are reached after both
// were renamed, by the running bot and by the bot started again.
func TestAuthorSendByID(t *testing.T) {
	w := newRunWorld(t)
	alice, _ := w.srv.User("alice")
	dm, err := w.srv.DirectChannel(w.bot.ID, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := startRun(t, w, keeper{})
	if got, want := w.reply(t, w.say(t, "!keep")), "kept"; got != want {
		t.Fatalf("!keep = %q, want %q", got, want)
	}
	rename := func(user, room string) {
		t.Helper()
		if _, err := w.srv.RenameUser(alice.ID, user); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, _, err := w.alice.PatchChannel(ctx, w.ops.ID, &mm.ChannelPatch{Name: &room}); err != nil {
			t.Fatal(err)
		}
	}
	tell := func(when string) {
		t.Helper()
		p := w.say(t, "!tell")
		if got, want := w.reply(t, p), "to the room, by id"; got != want {
			t.Errorf("%s: !tell in the room = %q, want %q", when, got, want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := w.srv.WaitForPost(ctx, dm.ID, func(q *mm.Post) bool {
			return q.UserID == w.bot.ID && q.CreateAt > p.CreateAt && q.Message == "to you, by id"
		}); err != nil {
			t.Errorf("%s: no direct message by id: %v", when, err)
		}
	}

	rename("alicia", "operations")
	tell("renamed while running")
	b.stop(t)
	rename("ali", "ops-room")
	// The admin is named in the config, and a start checks the name.
	cfg, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte(`admins = ["@alice"]`), []byte(`admins = ["@ali"]`), 1)
	if err := os.WriteFile(w.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	startRun(t, w, keeper{})
	tell("renamed while stopped")
}

// weather needs an API key, in [plugins.weather].
type weather struct {
	cfg struct {
		APIKey string `toml:"api_key" required:""`
		City   string `toml:"city"`
	}
}

func (*weather) Name() string { return "weather" }

func (w *weather) Setup(p *bot.Plugin) error {
	if err := p.Config(&w.cfg); err != nil {
		return err
	}
	p.Command("weather", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("sunny in " + w.cfg.City)
	})
	return nil
}

// TestAuthorPluginConfig: a plugin whose required config is missing is
// not activated, with one error line, and the bot serves the rest; a
// table for a plugin the bot does not have is reported.
func TestAuthorPluginConfig(t *testing.T) {
	w := newRunWorld(t)
	base, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	withTables := func(tables string) {
		t.Helper()
		if err := os.WriteFile(w.config, append(slices.Clip(base), tables...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withTables("\n[plugins.weather]\ncity = \"Oslo\"\n\n[plugins.eho]\ngreeting = \"hi\"\n")
	b := startRun(t, w, &weather{})
	if got, want := w.reply(t, w.say(t, "!echo still serving")), "still serving"; got != want {
		t.Errorf("!echo = %q, want %q", got, want)
	}
	if got, want := w.reply(t, w.say(t, "!weather")), `Command "weather" not found.`; got != want {
		t.Errorf("!weather, not activated: %q, want %q", got, want)
	}
	b.waitLog(t, `level=WARN msg="config for an unknown plugin" plugin=eho did_you_mean=echo\n`)
	line := b.waitLog(t, `level=ERROR msg="plugin not activated: required config missing" plugin=weather missing=api_key table=plugins.weather\n`)
	if n := strings.Count(b.stderr.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d error lines, want one (%q); output:\n%s", n, line[0], b.stderr.String())
	}
	if n := strings.Count(b.stderr.String(), "plugin=weather"); n != 1 {
		t.Errorf("%d lines about weather, want one; output:\n%s", n, b.stderr.String())
	}
	if code := b.stop(t); code != 0 {
		t.Errorf("exit code = %d, want 0", code)
	}

	// Given its key, it serves.
	withTables("\n[plugins.weather]\napi_key = \"k\"\ncity = \"Oslo\"\n")
	startRun(t, w, &weather{})
	if got, want := w.reply(t, w.say(t, "!weather")), "sunny in Oslo"; got != want {
		t.Errorf("!weather, configured: %q, want %q", got, want)
	}
}
