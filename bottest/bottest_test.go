package bottest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type greeter struct{}

func (greeter) Setup(p *bot.Plugin) error {
	p.Command("greet", func(ctx context.Context, req *bot.Request) error {
		m := req.Message
		return req.Replyf("hi %s in %s thread=%q direct=%v mentions=%q", m.From, m.Room, m.ThreadID, m.Direct, m.Mentions)
	})
	return nil
}

func TestSayVariants(t *testing.T) {
	t.Parallel()
	b := bottest.New(t, greeter{})
	tests := []struct {
		name string
		say  func() []bottest.Reply
		want []bottest.Reply
	}{
		{"say", func() []bottest.Reply { return b.Say("!greet @bob, hello") },
			[]bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", Text: `hi @alice in ~test/town-square thread="" direct=false mentions=["bob"]`}}},
		{"say as, in a team room", func() []bottest.Reply { return b.SayAs("@carol", "~test/ops", "!greet") },
			[]bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: `hi @carol in ~test/ops thread="" direct=false mentions=[]`}}},
		{"new user", func() []bottest.Reply { return b.SayAs("@zoe", "~ops", "!greet") },
			[]bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: `hi @zoe in ~test/ops thread="" direct=false mentions=[]`}}},
		{"dm", func() []bottest.Reply { return b.DM("@dave", "greet") },
			[]bottest.Reply{{To: "@dave", RoomID: "dm-u-dave", Direct: true, Text: `hi @dave in ~dm-dave thread="" direct=true mentions=[]`}}},
		{"thread", func() []bottest.Reply { return b.SayInThread("@eve", "~ops", "root", "!greet") },
			[]bottest.Reply{{To: "~test/ops", RoomID: "r-ops", ThreadID: "root", Text: `hi @eve in ~test/ops thread="root" direct=false mentions=[]`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.say()); diff != "" {
				t.Errorf("replies mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackendErrors(t *testing.T) {
	t.Parallel()
	be := bottest.NewBackend()
	ctx := context.Background()
	if _, err := be.User(ctx, "nobody"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("User(nobody) error = %v, want ErrUnknown", err)
	}
	if _, err := be.Room(ctx, "other", "ops"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("Room(other, ops) error = %v, want ErrUnknown", err)
	}
	if r, err := be.Room(ctx, "", "OPS"); err != nil || r.ID != "r-ops" {
		t.Errorf("Room(\"\", OPS) = %+v, %v, want r-ops", r, err)
	}
	tests := []struct {
		name string
		out  bot.Outgoing
		want string
	}{
		{"no destination", bot.Outgoing{Text: "x"}, "want exactly one of RoomID and UserID"},
		{"two destinations", bot.Outgoing{RoomID: "r", UserID: "u", Text: "x"}, "want exactly one of RoomID and UserID"},
		{"empty", bot.Outgoing{RoomID: "r"}, "empty message"},
		{"unreadable file", bot.Outgoing{RoomID: "r", File: &bot.File{Name: "f", Body: failReader{}}}, `read file "f": disk gone`},
	}
	for _, tc := range tests {
		if err := be.Send(ctx, &tc.out); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Send() error = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if err := be.React(ctx, "", "x"); err == nil {
		t.Errorf("React(no message) error = nil, want an error")
	}
	if got := be.Sent(); len(got) != 0 {
		t.Errorf("Sent() = %v after failed sends, want nothing", got)
	}
}

// TestBackendAddWithoutID: users and rooms added without an ID are kept
// side by side; only an ID that is set says "rename".
func TestBackendAddWithoutID(t *testing.T) {
	t.Parallel()
	be := bottest.NewBackend()
	be.AddUser(bot.User{Username: "frank"})
	be.AddUser(bot.User{Username: "grace"})
	be.AddRoom(bot.Room{Name: "dev"})
	be.AddRoom(bot.Room{Name: "qa"})
	ctx := context.Background()
	for _, name := range []string{"frank", "grace"} {
		if u, err := be.User(ctx, name); err != nil || u.Username != name {
			t.Errorf("User(%s) = %+v, %v; want @%s", name, u, err, name)
		}
	}
	for _, name := range []string{"dev", "qa"} {
		if r, err := be.Room(ctx, "", name); err != nil || r.Name != name {
			t.Errorf("Room(%s) = %+v, %v; want ~%s", name, r, err, name)
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

// adminOnly is a plugin with one command only bot admins may run.
type adminOnly struct{}

func (adminOnly) Setup(p *bot.Plugin) error {
	p.Command("secret", func(_ context.Context, req *bot.Request) error { return req.Reply("granted") }).AdminOnly()
	return nil
}

// TestStart: Start returns bot.New's error rather than failing the test;
// an admin the backend does not know does not stop the bot (it fails
// closed: see bot.Options.Admins).
func TestStart(t *testing.T) {
	t.Parallel()
	if _, err := bottest.Start(t, bottest.NewBackend(), nil, nil); err == nil {
		t.Errorf("Start(nil plugin) error = nil, want an error")
	}
	b, err := bottest.Start(t, bottest.NewBackend(), &bot.Options{Admins: []string{"@ghost", "@alice"}}, adminOnly{})
	if err != nil {
		t.Fatalf("Start() with an unknown admin = %v, want the bot running", err)
	}
	// The known admin still is one; the others are not.
	if got := bottest.Texts(b.SayAs("@alice", "~ops", "!secret")); !slices.Equal(got, []string{"granted"}) {
		t.Errorf("alice (admin) says !secret: replies %q, want granted", got)
	}
	if got := bottest.Texts(b.SayAs("@bob", "~ops", "!secret")); slices.Contains(got, "granted") {
		t.Errorf("bob (no admin) says !secret: replies %q, want a refusal", got)
	}
}

// A test of a plugin: start a bot, say a line, look at the replies.
func ExampleNew() {
	t := &exampleT{} // in a test, the *testing.T
	defer t.done()

	b := bottest.New(t, greeter{})
	for _, r := range b.SayAs("@bob", "~ops", "!greet") {
		fmt.Println(r.To, r.Text)
	}
	// Output:
	// ~test/ops hi @bob in ~test/ops thread="" direct=false mentions=[]
}

// exampleT stands in for the *testing.T of a real test.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func TestMessageRoomMentions(t *testing.T) {
	t.Parallel()
	b := bottest.New(t)
	ops, _ := b.Backend.Room(context.Background(), "", "ops")
	tests := []struct {
		text string
		want []bot.Room
	}{
		{text: "no rooms"},
		{text: "see ~ops, ~test/ops and ~OPS.", want: []bot.Room{ops}},
		{text: "~nowhere ~other/ops ~ ~/x", want: nil},
	}
	for _, tc := range tests {
		m := b.Message("@alice", "~town-square", tc.text)
		if diff := cmp.Diff(tc.want, m.RoomMentions); diff != "" {
			t.Errorf("Message(%q).RoomMentions mismatch (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestUnreactErrors(t *testing.T) {
	be := bottest.NewBackend()
	if err := be.Unreact(context.Background(), "", "x"); err == nil {
		t.Errorf("Unreact(no message) error = nil, want an error")
	}
	if err := be.Unreact(context.Background(), "m1", ""); err == nil {
		t.Errorf("Unreact(no emoji) error = nil, want an error")
	}
}

// failing is a plugin whose commands fail: "!oops" with an internal
// error, "!nope" with an error written for the user.
type failing struct{}

func (failing) Setup(p *bot.Plugin) error {
	p.Command("oops", func(ctx context.Context, req *bot.Request) error {
		return fmt.Errorf("failing: query 10.0.0.7: %w", errors.New("connection refused"))
	})
	p.Command("nope", func(ctx context.Context, req *bot.Request) error {
		return bot.UserErrorf("nothing to undo")
	})
	return nil
}

func TestUnref(t *testing.T) {
	t.Parallel()
	b := bottest.New(t, failing{})
	got := bottest.Texts(b.Say("!oops"))
	if len(got) != 1 || !strings.HasPrefix(got[0], "Sorry, `!oops` failed (ref ") || strings.Contains(got[0], "REF") {
		t.Fatalf("Say(!oops) = %q, want the reply to an internal error", got)
	}
	tests := []struct{ in, want string }{
		{"!oops", "Sorry, `!oops` failed (ref REF)."},
		{"!nope", "`!nope` failed: nothing to undo"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff([]string{tc.want}, bottest.Texts(bottest.Unref(b.Say(tc.in)))); diff != "" {
			t.Errorf("Unref(Say(%q)) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

// survey asks two questions; "!ping" answers pong.
type survey struct{}

func (survey) Setup(p *bot.Plugin) error {
	p.Command("survey", func(ctx context.Context, req *bot.Request) error {
		name, err := req.Ask(ctx, "Your name?")
		if err != nil {
			return err
		}
		return req.Replyf("Hello %s.", name.Text)
	}).Timeout(time.Hour).NoAnswer("No name, no survey.")
	p.Command("ping", func(ctx context.Context, req *bot.Request) error { return req.Reply("pong") })
	return nil
}

func TestAskAndCommands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.NewWithOptions(t, &bot.Options{AskTimeout: time.Minute}, survey{})
		steps := []struct{ say, want string }{
			{"!survey", "Your name?"},
			{"!ping", "pong"}, // a command, not the answer
			{"Ada", "Hello Ada."},
			{"!survey", "Your name?"},
		}
		for _, s := range steps {
			if got := bottest.Texts(b.Say(s.say)); !cmp.Equal(got, []string{s.want}) {
				t.Errorf("Say(%q) = %q, want %q", s.say, got, s.want)
			}
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := bottest.Texts(b.Replies()); !cmp.Equal(got, []string{"No name, no survey."}) {
			t.Errorf("no answer: replies %q, want the command's NoAnswer text", got)
		}
	})
}

// tickets shows a ticket by number: "!ticket #42".
type tickets struct{}

func (tickets) Setup(p *bot.Plugin) error {
	p.Regex("ticket", `^ticket #(\d+)$`, func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("Ticket %s: printer on fire.", req.Match[1])
	}).Usage("#<number>")
	return nil
}

func TestRegexUsage(t *testing.T) {
	t.Parallel()
	b := bottest.New(t, tickets{})
	tests := []struct{ in, want string }{
		{"!ticket #42", "Ticket 42: printer on fire."},
		{"!ticket 42", "`!ticket`: \"42\" does not fit.\nUsage: `!ticket #<number>`"},
	}
	for _, tc := range tests {
		if got := bottest.Texts(b.Say(tc.in)); !cmp.Equal(got, []string{tc.want}) {
			t.Errorf("Say(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
