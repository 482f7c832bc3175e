package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// plug is a plugin made of a name and a Setup function.
type plug struct {
	name  string
	setup func(p *bot.Plugin) error
}

func (p plug) Name() string               { return p.name }
func (p plug) Setup(bp *bot.Plugin) error { return p.setup(bp) }

// reply returns a handler that replies with text.
func reply(text string) bot.HandlerFunc {
	return func(ctx context.Context, req *bot.Request) error { return req.Reply(text) }
}

// echoArgs replies with the command name and its raw arguments.
func echoArgs(ctx context.Context, req *bot.Request) error {
	return req.Replyf("%s|%s", req.Command, req.Args)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
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

func logger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func texts(rs []bottest.Reply) []string { return bottest.Texts(rs) }

// refRE matches the reference in the reply to an internal error.
var refRE = regexp.MustCompile(`\(ref [0-9a-f]{6}\)`)

func TestCommands(t *testing.T) {
	p := plug{"cmds", func(p *bot.Plugin) error {
		p.Command("deploy", echoArgs).Alias("ship", "push it")
		p.Command("deploy status", echoArgs)
		p.Command("deploy status all", echoArgs)
		p.Command("words", func(ctx context.Context, req *bot.Request) error {
			w, err := req.Words()
			if err != nil {
				return err
			}
			return req.Replyf("%q", w)
		})
		p.Command("quiet", echoArgs).Hidden()
		return nil
	}}
	b := bottest.New(t, p)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"name and args", "!deploy api prod", []string{"deploy|api prod"}},
		{"case-insensitive name", "!DePloy api", []string{"deploy|api"}},
		{"alias", "!ship api", []string{"deploy|api"}},
		{"multi-word alias", "!push   it now", []string{"deploy|now"}},
		{"longest name wins", "!deploy status api", []string{"deploy status|api"}},
		{"three words", "!deploy status all --json", []string{"deploy status all|--json"}},
		{"extra spaces", "!deploy    status   x", []string{"deploy status|x"}},
		{"space after prefix", "! deploy x", []string{"deploy|x"}},
		{"hidden still runs", "!quiet", []string{"quiet|"}},
		{"shell words", `!words a "b c" 'd e' f\ g`, []string{`["a" "b c" "d e" "f g"]`}},
		{"bad quoting is a usage error", `!words "oops`, []string{"`!words`: unterminated \" quote."}},
		{"not addressed", "deploy api", nil},
		{"prefix alone", "!", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

type deployArgs struct {
	Service string `arg:"" help:"service to deploy"`
	Env     string `arg:"" enum:"staging,prod"`
	Force   bool   `help:"skip the health checks"`
}

func TestTypedCommand(t *testing.T) {
	p := plug{"typed", func(p *bot.Plugin) error {
		bot.Command(p, "deploy", func(ctx context.Context, req *bot.Request, a deployArgs) error {
			return req.Replyf("%s→%s force=%v", a.Service, a.Env, a.Force)
		})
		p.Command("check", func(ctx context.Context, req *bot.Request) error {
			return bot.Usagef("give me %d things", 2)
		}).Usage("<a> <b>")
		return nil
	}}
	b := bottest.New(t, p)
	usage := "\nUsage: `!deploy <service> <env> [--force]`"
	tests := []struct {
		name, in, want string
	}{
		{"ok", "!deploy api prod --force", "api→prod force=true"},
		{"quoted", `!deploy "my api" staging`, "my api→staging force=false"},
		{"missing", "!deploy api", "`!deploy`: missing <env>." + usage},
		{"enum", "!deploy api dev", "`!deploy`: <env>: \"dev\" is not one of staging, prod." + usage},
		{"unknown flag", "!deploy api prod --yolo", "`!deploy`: unknown flag --yolo." + usage},
		{"too many", "!deploy api prod now", "`!deploy`: unexpected argument \"now\"." + usage},
		{"handler usage error", "!check", "`!check`: give me 2 things.\nUsage: `!check <a> <b>`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff([]string{tc.want}, texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestRegexAndListeners(t *testing.T) {
	p := plug{"re", func(p *bot.Plugin) error {
		p.Regex("ticket", `^ticket #(\d+)$`, func(ctx context.Context, req *bot.Request) error {
			return req.Replyf("ticket %s", req.Match[1])
		}).Usage("#<number>")
		p.Regex("dice", `^roll (\d+)d(\d+)$`, reply("rolled")).Alias("throw")
		p.Regex("secret", `^sesame (open)$`, reply("opened")).Hidden()
		p.Regex("shout", `(?i)^shout (\w+)$`, reply("SHOUTED")).AdminOnly()
		p.Regex("thanks", `(?i)\bthanks?\b`, reply("you're welcome")).Prefixed(false)
		p.Listen(`(?i)\bis (\w+) up\b`, func(ctx context.Context, req *bot.Request) error {
			if req.Match[1] == "nothing" {
				return errors.New("no such service")
			}
			return req.Replyf("checking %s", req.Match[1])
		})
		return nil
	}}
	b := bottest.New(t, p)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"prefixed regex", "!ticket #42", []string{"ticket 42"}},
		{"prefixed regex needs prefix", "ticket #42", nil},
		{"unprefixed regex", "thanks bot", []string{"you're welcome"}},
		{"listener anywhere", "hey, is API up today?", []string{"checking API"}},
		{"listener with prefix, no unknown-command reply", "!is db up", []string{"checking db"}},
		{"nothing", "hello", nil},
		{"listener error", "is nothing up?", []string{"Sorry, `re listener` failed (ref REF)."}},
		// A regex command named but not matched answers with its usage.
		{"regex named, no match", "!ticket 42", []string{"`!ticket`: \"42\" does not fit.\nUsage: `!ticket #<number>`"}},
		{"regex named, no arguments", "!Ticket", []string{"`!ticket`: missing arguments.\nUsage: `!ticket #<number>`"}},
		{"regex named by its literal prefix", "!roll 3", []string{"`!dice`: \"3\" does not fit."}},
		{"regex named by its name", "!dice 3d", []string{"`!dice`: \"3d\" does not fit."}},
		{"regex named by an alias", "!throw  3  d6", []string{"`!dice`: \"3  d6\" does not fit."}},
		{"regex named, admin only", "!shout", []string{"`!shout`: only bot admins may run this command."}},
		{"regex named, not addressed", "roll 3", nil},
		{"hidden regex stays unknown", "!sesame close", []string{"Command \"sesame\" not found."}},
		{"a word starting like a regex's name", "!tickets", []string{"Command \"tickets\" not found. Did you mean `!ticket`?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, texts(bottest.Unref(b.Say(tc.in)))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// A handler that returns bot.ErrNoMatch hands the message back: the
// engine goes on as if its command had not matched.
func TestNoMatch(t *testing.T) {
	decline := func(ctx context.Context, req *bot.Request) error {
		if strings.Contains(req.Args, "no") {
			return fmt.Errorf("not for me: %w", bot.ErrNoMatch)
		}
		return req.Replyf("%s took %s", req.Command, req.Args)
	}
	p := plug{"nm", func(p *bot.Plugin) error {
		p.Command("pick", decline)
		p.Regex("first", `^pick (\w+)$`, decline).Usage("<word>")
		p.Regex("second", `^pick (\w+)`, reply("second took it"))
		p.Regex("ticket", `^ticket (\S+)$`, decline).Usage("#<n>")
		p.Regex("thanks", `(?i)\bthanks\b`, decline).Prefixed(false)
		p.Listen(`\bheard\b`, reply("a listener heard"))
		p.Command("ask", func(ctx context.Context, req *bot.Request) error {
			m, err := req.Ask(ctx, "name?")
			if err != nil {
				return err
			}
			return req.Replyf("hello %s", m.Text)
		})
		return nil
	}}
	var obs runs
	b := bottest.NewWithOptions(t, &bot.Options{Observer: &obs}, p)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"taken", "!ticket 42", []string{"ticket took ticket 42"}},
		{"a command declines: the regex commands try", "!pick nope", []string{"second took it"}},
		{"a regex command declines: the next one runs", "!ticket no", []string{"`!ticket`: \"no\" does not fit.\nUsage: `!ticket #<n>`"}},
		{"declined, a listener heard: nothing more", "!ticket no-heard", []string{"a listener heard"}},
		{"unprefixed, declined: nothing", "thanks no", nil},
		{"unprefixed, taken", "thanks a lot", []string{"thanks took thanks a lot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		b := bottest.New(t, plug{"nm2", func(p *bot.Plugin) error {
			p.Regex("anything", `^(.*)$`, func(ctx context.Context, req *bot.Request) error { return bot.ErrNoMatch }).Hidden()
			p.Command("status", reply("ok"))
			return nil
		}})
		want := []string{"Command \"stauts\" not found. Did you mean `!status`?"}
		if diff := cmp.Diff(want, texts(b.Say("!stauts"))); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("an answer to a question", func(t *testing.T) {
		if got := texts(b.Say("!ask")); !cmp.Equal(got, []string{"name?"}) {
			t.Fatalf("!ask = %q", got)
		}
		// ticket declines "!ticket no", which no other command takes: it
		// answers the question, as if ticket had not matched.
		if got := texts(b.Say("!ticket no")); !cmp.Equal(got, []string{"hello !ticket no"}) {
			t.Errorf("the answer = %q", got)
		}
	})
	n := 0
	for _, r := range obs.take() {
		if r.Outcome == bot.OutcomeNoMatch {
			n++
		}
	}
	if n != 6 { // pick, first, ticket, ticket, thanks, ticket
		t.Errorf("%d runs with outcome no_match, want 6", n)
	}
}

func TestAddressing(t *testing.T) {
	p := plug{"addr", func(p *bot.Plugin) error {
		p.Command("deploy", echoArgs)
		p.Command("status", echoArgs)
		p.Command("secret", echoArgs).Hidden()
		return nil
	}}
	tests := []struct {
		name string
		opts *bot.Options
		dm   bool
		in   string
		want []string
	}{
		{name: "default prefix", in: "!status", want: []string{"status|"}},
		{name: "custom prefix", opts: &bot.Options{Prefix: "."}, in: ".status x", want: []string{"status|x"}},
		{name: "custom prefix ignores !", opts: &bot.Options{Prefix: "."}, in: "!status", want: nil},
		{name: "alt prefix mention", opts: &bot.Options{AltPrefixes: []string{"@ops-bot"}}, in: "@Ops-Bot status", want: []string{"status|"}},
		{name: "alt prefix colon", opts: &bot.Options{AltPrefixes: []string{"ops-bot"}}, in: "OPS-BOT: status now", want: []string{"status|now"}},
		{name: "alt prefix with colon", opts: &bot.Options{AltPrefixes: []string{"ops-bot:"}}, in: "ops-bot:status", want: []string{"status|"}},
		{name: "alt prefix word boundary", opts: &bot.Options{AltPrefixes: []string{"@ops-bot"}}, in: "@ops-botty status", want: nil},
		{name: "own username", in: "@ops-bot status", want: []string{"status|"}},
		{name: "dm without prefix", dm: true, in: "status", want: []string{"status|"}},
		{name: "dm with prefix", dm: true, in: "!status", want: []string{"status|"}},
		{name: "dm prefix required", opts: &bot.Options{RequirePrefixInDirect: true}, dm: true, in: "status", want: nil},
		{name: "unknown: did you mean", in: "!stauts", want: []string{"Command \"stauts\" not found. Did you mean `!status`?"}},
		{name: "unknown: prefix match", in: "!dep", want: []string{"Command \"dep\" not found. Did you mean `!deploy`?"}},
		{name: "unknown: hidden not suggested", in: "!secrte", want: []string{"Command \"secrte\" not found."}},
		{name: "unknown: no suggestion", in: "!frobnicate", want: []string{"Command \"frobnicate\" not found."}},
		{name: "unknown in dm", dm: true, in: "hello there", want: []string{"Command \"hello\" not found."}},
		{name: "unknown suppressed", opts: &bot.Options{SuppressUnknownCommand: true}, in: "!stauts", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := bottest.NewWithOptions(t, tc.opts, p)
			var got []bottest.Reply
			if tc.dm {
				got = b.DM("@alice", tc.in)
			} else {
				got = b.Say(tc.in)
			}
			if diff := cmp.Diff(tc.want, texts(got)); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	p := plug{"groups", func(p *bot.Plugin) error {
		for _, n := range []string{"plugin list", "plugin activate", "plugin deactivate", "plugin config", "deploy", "deploy status", "deploy status all"} {
			p.Command(n, echoArgs)
		}
		p.Command("plugin reload", echoArgs).Hidden()
		p.Command("user add", echoArgs).AdminOnly()
		p.Command("user remove", echoArgs).AdminOnly()
		p.Command("user list", echoArgs)
		for i := range 12 {
			p.Command(fmt.Sprintf("many c%02d", i), echoArgs)
		}
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, p)
	plugins := "`!plugin activate`, `!plugin config`, `!plugin deactivate` or `!plugin list`"
	tests := []struct {
		name, user, in, want string
	}{
		{"subcommand typo", "@bob", "!plugin lis", "Command \"plugin lis\" not found. Did you mean `!plugin list`?"},
		{"subcommand typo with arguments", "@bob", "!plugin actvate echo", "Command \"plugin actvate\" not found. Did you mean `!plugin activate`?"},
		{"subcommand prefix", "@bob", "!plugin de", "Command \"plugin de\" not found. Did you mean `!plugin deactivate`?"},
		{"unknown subcommand", "@bob", "!plugin frobnicate", "Command \"plugin frobnicate\" not found. Try " + plugins + "."},
		{"group alone", "@bob", "!plugin", "`!plugin` needs a subcommand: " + plugins + "."},
		{"group in upper case", "@bob", "!PLUGIN", "`!plugin` needs a subcommand: " + plugins + "."},
		{"group typo", "@bob", "!plugn", "Command \"plugn\" not found. Did you mean `!plugin`?"},
		{"group typo and subcommand", "@bob", "!plugn list", "Command \"plugn\" not found. Did you mean `!plugin list`?"},
		{"two-word group", "@bob", "!deploy status al", "deploy status|al"}, // a command: "deploy status" takes arguments
		{"admin-only hidden from others", "@bob", "!user", "`!user` needs a subcommand: `!user list`."},
		{"admin-only shown to admins", "@alice", "!user", "`!user` needs a subcommand: `!user add`, `!user list` or `!user remove`."},
		{"admin-only not suggested to others", "@bob", "!user ad", "Command \"user ad\" not found. Try `!user list`."},
		{"admin-only suggested to admins", "@alice", "!user ad", "Command \"user ad\" not found. Did you mean `!user add`?"},
		{"long group", "@bob", "!many", "`!many` needs a subcommand: `!many c00`, `!many c01`, `!many c02`, `!many c03`, `!many c04`, `!many c05`, `!many c06`, `!many c07`, `!many c08`, `!many c09` and 2 more."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff([]string{tc.want}, texts(b.SayAs(tc.user, "~ops", tc.in))); diff != "" {
				t.Errorf("%s says %q: mismatch (-want +got):\n%s", tc.user, tc.in, diff)
			}
		})
	}
}

func TestOwnMessagesIgnored(t *testing.T) {
	b := bottest.New(t, plug{"p", func(p *bot.Plugin) error { p.Command("x", reply("x")); return nil }})
	if got := b.SayAs("@ops-bot", "~ops", "!x"); len(got) != 0 {
		t.Errorf("SayAs(@ops-bot, !x) = %v, want no reply to the bot's own message", got)
	}
}

func TestReplies(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse("{{.Name}} is {{.State}}"))
	p := plug{"out", func(p *bot.Plugin) error {
		p.Command("many", func(ctx context.Context, req *bot.Request) error {
			for i := range 3 {
				if err := req.Replyf("step %d", i); err != nil {
					return err
				}
			}
			return nil
		})
		p.Command("card", func(ctx context.Context, req *bot.Request) error {
			return req.Card(bot.Card{Title: "deployed", Color: "good", Link: "https://x", Image: "i", Thumbnail: "th",
				Fields: []bot.Field{{Title: "env", Value: "prod", Short: true}}, Text: "all *good*"})
		})
		p.Command("file", func(ctx context.Context, req *bot.Request) error {
			return req.File(bot.File{Name: "log.txt", ContentType: "text/plain", Body: strings.NewReader("line 1\n")}, "the log")
		})
		p.Command("react", func(ctx context.Context, req *bot.Request) error { return req.React(":white_check_mark:") })
		p.Command("tell", func(ctx context.Context, req *bot.Request) error {
			w, _ := req.Words()
			return req.Send(w[0], bot.Outgoing{Text: strings.Join(w[1:], " ")})
		})
		p.Command("tmpl", func(ctx context.Context, req *bot.Request) error {
			return req.ReplyTemplate(tmpl, map[string]string{"Name": "api", "State": "up"})
		})
		p.Command("psst", func(ctx context.Context, req *bot.Request) error { return req.Ephemeral("only you") })
		p.Command("thread", reply("in thread")).InThread()
		p.Command("private", reply("just us")).Private()
		p.Command("configured", reply("diverted"))
		p.Command("typing", func(ctx context.Context, req *bot.Request) error {
			if err := req.Typing(); err != nil {
				return err
			}
			return req.Reply("typed")
		})
		p.Command("text", bot.Text(func(ctx context.Context, req *bot.Request) (string, error) {
			return "returned " + req.Args, nil
		}))
		p.Command("textfail", bot.Text(func(ctx context.Context, req *bot.Request) (string, error) {
			return "partial", errors.New("disk full")
		}))
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{DivertToThread: []string{"configured"}}, p)
	town := "~test/town-square"
	msg := func(id string) string { return id }

	tests := []struct {
		name   string
		send   func() []bottest.Reply
		wantID func() string // the id of the command message, for threads
		want   []bottest.Reply
	}{
		{name: "several messages", send: func() []bottest.Reply { return b.Say("!many") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "step 0"}, {To: town, RoomID: "r-town-square", Text: "step 1"}, {To: town, RoomID: "r-town-square", Text: "step 2"}}},
		{name: "card", send: func() []bottest.Reply { return b.Say("!card") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Card: &bot.Card{Title: "deployed", Color: "good", Link: "https://x", Image: "i", Thumbnail: "th",
				Fields: []bot.Field{{Title: "env", Value: "prod", Short: true}}, Text: "all *good*"}}}},
		{name: "file", send: func() []bottest.Reply { return b.Say("!file") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "the log", File: &bottest.File{Name: "log.txt", ContentType: "text/plain", Data: []byte("line 1\n")}}}},
		{name: "send to person", send: func() []bottest.Reply { return b.Say("!tell @bob hi there") },
			want: []bottest.Reply{{To: "@bob", RoomID: "dm-u-bob", Direct: true, Text: "hi there"}}},
		{name: "send to room", send: func() []bottest.Reply { return b.Say("!tell ~ops deploy done") },
			want: []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "deploy done"}}},
		{name: "send to team room", send: func() []bottest.Reply { return b.Say("!tell ~test/ops x") },
			want: []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "x"}}},
		{name: "send to unknown", send: func() []bottest.Reply { return b.Say("!tell @nobody x") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "Sorry, `!tell` failed (ref REF)."}}},
		{name: "template", send: func() []bottest.Reply { return b.Say("!tmpl") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "api is up"}}},
		{name: "ephemeral", send: func() []bottest.Reply { return b.Say("!psst") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "only you", EphemeralTo: "u-alice"}}},
		{name: "private", send: func() []bottest.Reply { return b.SayAs("@bob", "~ops", "!private") },
			want: []bottest.Reply{{To: "@bob", RoomID: "dm-u-bob", Direct: true, Text: "just us"}}},
		{name: "private in a dm stays", send: func() []bottest.Reply { return b.DM("@bob", "private") },
			want: []bottest.Reply{{To: "@bob", RoomID: "dm-u-bob", Direct: true, Text: "just us"}}},
		{name: "reply in the thread it came from", send: func() []bottest.Reply { return b.SayInThread("@alice", "~ops", "root1", "!many") },
			want: []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root1", Text: "step 0"}, {To: "~test/ops", RoomID: "r-ops", ThreadID: "root1", Text: "step 1"}, {To: "~test/ops", RoomID: "r-ops", ThreadID: "root1", Text: "step 2"}}},
		{name: "divert to existing thread", send: func() []bottest.Reply { return b.SayInThread("@alice", "~ops", "root2", "!thread") },
			want: []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root2", Text: "in thread"}}},
		{name: "string return", send: func() []bottest.Reply { return b.Say("!text x") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "returned x"}}},
		{name: "string and error", send: func() []bottest.Reply { return b.Say("!textfail") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "partial"}, {To: town, RoomID: "r-town-square", Text: "Sorry, `!textfail` failed (ref REF)."}}},
		{name: "typing", send: func() []bottest.Reply { return b.Say("!typing") },
			want: []bottest.Reply{{To: town, RoomID: "r-town-square", Text: "typed"}}},
	}
	_ = msg
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, bottest.Unref(tc.send())); diff != "" {
				t.Errorf("replies mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// New threads start on the command's message.
	for _, cmd := range []string{"!thread", "!configured"} {
		m := b.Message("@alice", "~ops", cmd)
		got := b.Deliver(m)
		if len(got) != 1 || got[0].ThreadID != m.ID {
			t.Errorf("Deliver(%s) = %+v, want one reply in thread %s", cmd, got, m.ID)
		}
	}
	m := b.Message("@alice", "~ops", "!react")
	want := []bottest.Reply{{MessageID: m.ID, Reaction: "white_check_mark"}}
	if diff := cmp.Diff(want, b.Deliver(m)); diff != "" {
		t.Errorf("reaction mismatch (-want +got):\n%s", diff)
	}
	if n := b.Backend.TypingCount(); n != 1 {
		t.Errorf("TypingCount() = %d, want 1", n)
	}
}

func TestFileDownload(t *testing.T) {
	p := plug{"files", func(p *bot.Plugin) error {
		p.Command("cat", func(ctx context.Context, req *bot.Request) error {
			for _, f := range req.Message.Files {
				rc, err := req.OpenFile(f)
				if err != nil {
					return err
				}
				var buf bytes.Buffer
				_, err = buf.ReadFrom(rc)
				rc.Close()
				if err != nil {
					return err
				}
				if err := req.Replyf("%s: %s", f.Name, buf.String()); err != nil {
					return err
				}
			}
			return nil
		})
		return nil
	}}
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
	b.Backend.AddFile("f1", []byte("hello"))
	m := b.Message("@alice", "~ops", "!cat")
	m.Files = []bot.FileRef{{ID: "f1", Name: "a.txt"}, {ID: "f2", Name: "gone.txt"}}
	got := texts(bottest.Unref(b.Deliver(m)))
	want := []string{"a.txt: hello", "Sorry, `!cat` failed (ref REF)."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies mismatch (-want +got):\n%s", diff)
	}
	if l, w := logs.String(), `err="bottest: file \"f2\": bot: no such user or room"`; !strings.Contains(l, w) {
		t.Errorf("log does not contain %s:\n%s", w, l)
	}
}

func TestSetupErrors(t *testing.T) {
	ok := func(p *bot.Plugin) error { p.Command("x", reply("x")); return nil }
	type badArgs struct {
		M map[string]int `arg:""`
	}
	tests := []struct {
		name    string
		opts    *bot.Options
		plugins []bot.Setuper
		want    string
	}{
		{"setup error", nil, []bot.Setuper{plug{"a", func(*bot.Plugin) error { return errors.New("no token") }}}, "bot: plugin a: setup: no token"},
		{"duplicate plugin", nil, []bot.Setuper{plug{"a", ok}, plug{"a", ok}}, `bot: plugin "a" registered twice`},
		{"duplicate command", nil, []bot.Setuper{plug{"a", ok}, plug{"b", ok}}, `bot: plugin b: command "x" already declared by plugin a`},
		{"duplicate alias", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Command("x", reply("")); p.Command("y", reply("")).Alias("X"); return nil }}}, `command "x" already declared`},
		{"bad regex", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Regex("r", "(", reply("")); return nil }}}, `regex command "r": error parsing regexp`},
		{"bad listener", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Listen("[", reply("")); return nil }}}, `regex command "listen"`},
		{"bad args", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error {
			bot.Command(p, "c", func(context.Context, *bot.Request, badArgs) error { return nil })
			return nil
		}}}, `command "c": argument field M has unsupported type`},
		{"nil handler", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Command("c", nil); return nil }}}, `command "c": nil handler`},
		{"empty name", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Command("  ", reply("")); return nil }}}, `command "  ": empty name`},
		{"bad every", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Every(0, nil); return nil }}}, `Every(0s): the interval must be positive`},
		{"bad plugin name", nil, []bot.Setuper{plug{"a b", ok}}, `bad name "a b"`},
		{"nil plugin", nil, []bot.Setuper{nil}, "bot: nil plugin"},
		{"bad admin", &bot.Options{Admins: []string{"alice"}}, nil, `bot: admin "alice": want @username`},
		{"bad acl user", &bot.Options{ACLs: []bot.ACL{{Pattern: "*", Rule: bot.Rule{AllowUsers: []string{"alice"}}}}}, nil, `bot: ACL "*": user "alice"`},
		{"bad acl room", &bot.Options{DefaultACL: bot.Rule{DenyRooms: []string{"ops"}}}, nil, `bot: default ACL: room "ops"`},
		{"unknown inactive", &bot.Options{Inactive: []string{"zzz"}}, nil, `inactive plugin "zzz" is not registered`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.New(bottest.NewBackend(), tc.opts, tc.plugins...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := bot.New(nil, nil); err == nil {
		t.Errorf("New(nil backend) error = nil, want an error")
	}
}

func TestPluginNameFromType(t *testing.T) {
	e, err := bot.New(bottest.NewBackend(), nil, &Deploy{})
	if err != nil {
		t.Fatal(err)
	}
	ps := e.Plugins()
	if len(ps) != 1 || ps[0].Name != "deploy" {
		t.Errorf("Plugins() = %+v, want one plugin named deploy", ps)
	}
}

func TestStorePerPlugin(t *testing.T) {
	counter := func(name string) plug {
		return plug{name, func(p *bot.Plugin) error {
			p.Command(name, func(ctx context.Context, req *bot.Request) error {
				var n int
				err := bot.UpdateJSON(ctx, req.Plugin.Store(), "n", func(v int, _ bool) (int, error) { n = v + 1; return n, nil })
				if err != nil {
					return err
				}
				return req.Replyf("%s=%d", name, n)
			})
			return nil
		}}
	}
	b := bottest.New(t, counter("a"), counter("b"))
	var got []string
	for _, in := range []string{"!a", "!a", "!b", "!a"} {
		got = append(got, texts(b.Say(in))...)
	}
	if diff := cmp.Diff([]string{"a=1", "a=2", "b=1", "a=3"}, got); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
}

func TestCallbacks(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, s)
	}
	p := plug{"cb", func(p *bot.Plugin) error {
		p.OnConnect(func(ctx context.Context, self bot.User) error {
			note("connect " + self.Username)
			return p.Engine().Send(ctx, "~ops", bot.Outgoing{Text: "hello"})
		})
		p.OnMessage(func(ctx context.Context, m *bot.Message) error { note("message " + m.Text); return nil })
		p.OnReaction(func(ctx context.Context, r *bot.Reaction) error {
			note(fmt.Sprintf("reaction %s %s %s", r.User, r.Emoji, r.MessageID))
			return nil
		})
		p.OnPresence(func(ctx context.Context, pr *bot.Presence) error {
			note("presence " + pr.User.String() + " " + pr.Status)
			return nil
		})
		p.OnJoin(func(ctx context.Context, j *bot.Join) error {
			note("join " + j.User.String() + " " + j.Room.String())
			return errors.New("callback errors are logged")
		})
		p.OnLeave(func(ctx context.Context, l *bot.Leave) error {
			note("leave " + l.User.String() + " " + l.Room.String())
			return nil
		})
		return nil
	}}
	b := bottest.New(t, p)
	if diff := cmp.Diff([]string{"hello"}, texts(b.Replies())); diff != "" {
		t.Errorf("OnConnect replies mismatch (-want +got):\n%s", diff)
	}
	b.Say("just chatting")
	b.React("@bob", "~ops", "m9", "tada")
	b.Presence("@carol", "away")
	b.Join("@dave", "~ops")
	b.Leave("@dave", "~ops")
	want := []string{"connect ops-bot", "message just chatting", "reaction @bob tada m9", "presence @carol away", "join @dave ~test/ops", "leave @dave ~test/ops"}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("callbacks mismatch (-want +got):\n%s", diff)
	}
}

func TestPluginManagement(t *testing.T) {
	type cfg struct {
		URL   string `json:"url"`
		Token string `json:"token" secret:""`
		Retry int    `json:"retry"`
	}
	var events []string
	var c cfg
	p := plug{"managed", func(p *bot.Plugin) error {
		p.Describe("a managed plugin")
		c = cfg{Retry: 3}
		if err := p.Config(&c); err != nil {
			return err
		}
		p.OnActivate(func(ctx context.Context) error { events = append(events, "activate"); return nil })
		p.OnDeactivate(func(ctx context.Context) error { events = append(events, "deactivate"); return nil })
		p.Command("hello", reply("hi")).Help("say hi\nmore text").Alias("hi")
		return nil
	}}
	other := plug{"other", func(p *bot.Plugin) error { p.Command("zzz", reply("z")).AdminOnly(); return nil }}
	opts := &bot.Options{
		PluginConfig: map[string]any{"managed": map[string]any{"url": "https://x", "token": "s3cret"}},
		Inactive:     []string{"other"},
	}
	b := bottest.NewWithOptions(t, opts, p, other)
	e := b.Engine
	ctx := context.Background()

	if c.URL != "https://x" || c.Token != "s3cret" || c.Retry != 3 {
		t.Errorf("Config() = %+v, want url, token and the default retry", c)
	}
	got, err := e.PluginConfig("managed")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "s3cret") || !strings.Contains(got, `"token": "******"`) || !strings.Contains(got, `"url": "https://x"`) {
		t.Errorf("PluginConfig() = %s, want the token redacted and the url shown", got)
	}
	if got, _ := e.PluginConfig("other"); got != "{}" {
		t.Errorf("PluginConfig(other) = %q, want {}", got)
	}
	if _, err := e.PluginConfig("nope"); !errors.Is(err, bot.ErrNoPlugin) {
		t.Errorf("PluginConfig(nope) error = %v, want ErrNoPlugin", err)
	}

	wantPlugins := []bot.PluginInfo{
		{Name: "managed", Description: "a managed plugin", Active: true, Commands: []bot.CommandInfo{
			{Plugin: "managed", Name: "hello", Aliases: []string{"hi"}, Synopsis: "hello", Help: "say hi\nmore text"}}},
		{Name: "other", Commands: []bot.CommandInfo{{Plugin: "other", Name: "zzz", Synopsis: "zzz", AdminOnly: true}}},
	}
	if diff := cmp.Diff(wantPlugins, e.Plugins(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Plugins() mismatch (-want +got):\n%s", diff)
	}
	if s := e.Commands()[0].Summary(); s != "say hi" {
		t.Errorf("Summary() = %q, want %q", s, "say hi")
	}

	if got := texts(b.Say("!zzz")); len(got) != 1 || !strings.HasPrefix(got[0], `Command "zzz" not found`) {
		t.Errorf("inactive plugin's command: replies %q, want not found", got)
	}
	if err := e.Activate(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := e.Deactivate(ctx, "managed"); err != nil {
		t.Fatal(err)
	}
	if err := e.Deactivate(ctx, "managed"); err != nil {
		t.Errorf("second Deactivate() = %v, want nil", err)
	}
	if got := texts(b.Say("!hello")); len(got) != 1 || !strings.HasPrefix(got[0], `Command "hello" not found`) {
		t.Errorf("deactivated plugin's command: replies %q, want not found", got)
	}
	if err := e.Activate(ctx, "managed"); err != nil {
		t.Fatal(err)
	}
	if got := texts(b.Say("!hi")); !cmp.Equal(got, []string{"hi"}) {
		t.Errorf("reactivated: replies %q, want hi", got)
	}
	if err := e.Activate(ctx, "nope"); !errors.Is(err, bot.ErrNoPlugin) {
		t.Errorf("Activate(nope) = %v, want ErrNoPlugin", err)
	}
	if err := e.Deactivate(ctx, "nope"); !errors.Is(err, bot.ErrNoPlugin) {
		t.Errorf("Deactivate(nope) = %v, want ErrNoPlugin", err)
	}
	if diff := cmp.Diff([]string{"activate", "deactivate", "activate"}, events); diff != "" {
		t.Errorf("lifecycle mismatch (-want +got):\n%s", diff)
	}
	st := e.Stats()
	if st.Plugins != 2 || st.Active != 2 || st.Started.IsZero() {
		t.Errorf("Stats() = %+v, want 2 plugins, 2 active, a start time", st)
	}
}

func TestConfigErrors(t *testing.T) {
	type cfg struct {
		URL string `json:"url"`
	}
	mk := func(v any) plug {
		return plug{"c", func(p *bot.Plugin) error { return p.Config(v) }}
	}
	opts := &bot.Options{PluginConfig: map[string]any{"c": map[string]any{"url": "x", "typo": 1}}}
	if _, err := bot.New(bottest.NewBackend(), opts, mk(&cfg{})); err == nil || !strings.Contains(err.Error(), `unknown field "typo"`) {
		t.Errorf("New(unknown config key) error = %v, want unknown field", err)
	}
	if _, err := bot.New(bottest.NewBackend(), opts, mk(cfg{})); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("New(Config(non-pointer)) error = %v, want non-nil pointer", err)
	}
}

// FuzzDispatch sends arbitrary text through the engine: whatever it is,
// the engine answers without panicking and every handler finishes.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{"!deploy api prod", "!deploy status", `!words "a b`, "@ops-bot: x", "!", "!!", "ticket #1", "!DEPLOY  Status", "\x00!x", "!日本"} {
		f.Add(s, false)
	}
	p := plug{"f", func(p *bot.Plugin) error {
		bot.Command(p, "deploy", func(ctx context.Context, req *bot.Request, a deployArgs) error { return req.Reply(a.Service) })
		p.Command("deploy status", echoArgs)
		p.Command("words", func(ctx context.Context, req *bot.Request) error {
			_, err := req.Words()
			return err
		})
		p.Regex("ticket", `ticket #(\d+)`, echoArgs)
		p.Listen(`(?i)up`, echoArgs)
		return nil
	}}
	f.Fuzz(func(t *testing.T, text string, direct bool) {
		b := bottest.New(t, p)
		var got []bottest.Reply
		if direct {
			got = b.DM("@alice", text)
		} else {
			got = b.Say(text)
		}
		for _, r := range got {
			if r.Text == "" {
				t.Errorf("Say(%q): empty reply %+v", text, r)
			}
		}
	})
}

func TestReconnect(t *testing.T) {
	b := bottest.New(t, plug{"p", func(p *bot.Plugin) error { p.Command("x", reply("x")); return nil }})
	// The bot was renamed while disconnected: the new name addresses it.
	if err := b.Backend.Handler().HandleConnect(context.Background(), bot.User{ID: "u-ops-bot", Username: "opsbot"}); err != nil {
		t.Fatal(err)
	}
	if got := texts(b.Say("@opsbot x")); !cmp.Equal(got, []string{"x"}) {
		t.Errorf("Say(@opsbot x) = %q, want x", got)
	}
	if got := b.Engine.Self().Username; got != "opsbot" {
		t.Errorf("Self().Username = %q, want opsbot", got)
	}
}

func TestExtensionPoints(t *testing.T) {
	p := plug{"ext", func(p *bot.Plugin) error {
		p.Every(time.Hour, func(ctx context.Context) error { return nil })
		p.Cron("*/5 * * * *", func(ctx context.Context) error { return nil })
		p.Webhook("POST /ext/done", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{Inactive: []string{"ext"}}, p)
	e := b.Engine
	var got []string
	for _, s := range e.Schedules() {
		got = append(got, fmt.Sprintf("%s every=%v cron=%q", s.Plugin, s.Interval, s.Spec))
	}
	serve := func() {
		for _, h := range e.Webhooks() {
			rec := httptest.NewRecorder()
			h.Handler.ServeHTTP(rec, httptest.NewRequest("POST", "/ext/done", nil))
			got = append(got, fmt.Sprintf("%s %s -> %d %s", h.Plugin, h.Pattern, rec.Code, strings.TrimSpace(rec.Body.String())))
		}
	}
	serve()
	if e.Active("ext") || e.Active("nope") {
		t.Errorf("Active(ext) = %v, Active(nope) = %v, want false, false", e.Active("ext"), e.Active("nope"))
	}
	if err := e.Activate(context.Background(), "ext"); err != nil || !e.Active("ext") {
		t.Errorf("after Activate: Active(ext) = %v (err %v), want true", e.Active("ext"), err)
	}
	serve()
	want := []string{`ext every=1h0m0s cron=""`, `ext every=0s cron="*/5 * * * *"`, "ext POST /ext/done -> 404 404 page not found", "ext POST /ext/done -> 200 ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extension points mismatch (-want +got):\n%s", diff)
	}
	_, err := bot.New(bottest.NewBackend(), nil, plug{"w", func(p *bot.Plugin) error { p.Webhook("/x", nil); return nil }})
	if err == nil || !strings.Contains(err.Error(), `webhook "/x": nil handler`) {
		t.Errorf("New(nil webhook) error = %v, want nil handler", err)
	}
}

func TestAskTwiceInOnePlace(t *testing.T) {
	p := plug{"q", func(p *bot.Plugin) error {
		p.Command("ask", func(ctx context.Context, req *bot.Request) error {
			a, err := req.Ask(ctx, "which?")
			if err != nil {
				return err
			}
			return req.Reply("got " + a.Text)
		})
		return nil
	}}
	b := bottest.New(t, p)
	if got := texts(b.SayAs("@bob", "~ops", "!ask")); !cmp.Equal(got, []string{"which?"}) {
		t.Fatalf("first ask: replies %q, want which?", got)
	}
	// The same user cannot start a second question in the same place: the
	// "!ask" runs, and its question is refused; the first one still waits.
	busy := "`!ask` failed: I am still waiting for your answer to an earlier question here: answer it first, or start this in a thread"
	if got := texts(b.SayAs("@bob", "~ops", "!ask")); !cmp.Equal(got, []string{busy}) {
		t.Errorf("second ask: replies %q, want %q", got, busy)
	}
	if got := texts(b.SayAs("@bob", "~ops", "this one")); !cmp.Equal(got, []string{"got this one"}) {
		t.Errorf("answer: replies %q, want the first question answered", got)
	}
	// In two threads, two questions wait side by side.
	b.SayInThread("@bob", "~ops", "t1", "!ask")
	b.SayInThread("@bob", "~ops", "t2", "!ask")
	if got := texts(b.SayInThread("@bob", "~ops", "t2", "two")); !cmp.Equal(got, []string{"got two"}) {
		t.Errorf("answer in t2: replies %q, want got two", got)
	}
	if got := texts(b.SayInThread("@bob", "~ops", "t1", "one")); !cmp.Equal(got, []string{"got one"}) {
		t.Errorf("answer in t1: replies %q, want got one", got)
	}
}
