package mattermost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// waitLimit bounds every wait of these tests: far above what a loaded
// machine needs, it only turns a hang into a failure.
const waitLimit = 30 * time.Second

// world is a fake server seeded with a team "ops-team" holding alice and
// the bot "opsbot", a public channel ~ops and a private one ~secret, both
// with alice and the bot in them.
type world struct {
	t      testing.TB
	srv    *mmtest.Server
	team   *mm.Team
	alice  *mm.User
	bob    *mm.User
	bot    *mm.User
	aliceC *mm.Client
	token  string // the bot's
	ops    *mm.Channel
	secret *mm.Channel
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldOn(t, nil)
}

// newWorldOn is newWorld on a server made with opts.
func newWorldOn(t testing.TB, opts *mmtest.Options) *world {
	t.Helper()
	w := &world{t: t, srv: mmtest.NewServer(t, opts)}
	var err error
	must := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
	}
	w.team, err = w.srv.AddTeam("ops-team", "Ops Team")
	must(err)
	w.alice, err = w.srv.AddUser(mmtest.User{Username: "alice", Password: "alice-password", FirstName: "Alice"})
	must(err)
	w.bob, err = w.srv.AddUser(mmtest.User{Username: "bob"})
	must(err)
	w.bot, err = w.srv.AddBot("opsbot", "Ops Bot", w.alice.ID)
	must(err)
	for _, u := range []*mm.User{w.alice, w.bob, w.bot} {
		must(w.srv.AddTeamMember(w.team.ID, u.ID))
	}
	w.ops, err = w.srv.AddChannel(w.team.ID, "ops", "Ops", mm.ChannelOpen)
	must(err)
	w.secret, err = w.srv.AddChannel(w.team.ID, "secret", "Secret", mm.ChannelPrivate)
	must(err)
	for _, ch := range []*mm.Channel{w.ops, w.secret} {
		must(w.srv.AddChannelMember(ch.ID, w.alice.ID))
		must(w.srv.AddChannelMember(ch.ID, w.bot.ID))
	}
	w.token, err = w.srv.CreateToken(w.bot.ID, "test")
	must(err)
	tok, err := w.srv.Login(w.alice.ID)
	must(err)
	w.aliceC, err = w.srv.Client(tok)
	must(err)
	return w
}

// options returns backend options for the bot on this server.
func (w *world) options() mmbackend.Options {
	return mmbackend.Options{
		Server: w.srv.URL(),
		Teams:  []string{"ops-team"},
		Token:  mm.Secret(w.token),
		// Reconnect and retry at once in tests.
		WebSocket: mm.WebSocketOptions{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		Retry:     fastRetry(),
	}
}

// running is a bot engine running on the backend.
type running struct {
	be       *mmbackend.Backend
	connects chan bot.User // one per HandleConnect, buffered
	stop     func()        // stops the engine and waits for it; also at cleanup
}

// start runs an engine with the echo plugin and testPlugin on a backend
// made from opts, and waits until it has connected.
func (w *world) start(opts mmbackend.Options) *running {
	w.t.Helper()
	r := &running{be: w.newBackend(opts)}
	r.connects, r.stop = w.runEngine(r.be, nil, echo.Plugin{})
	return r
}

// say posts text as alice in a channel (in a thread when root is set).
func (w *world) say(ch *mm.Channel, root, text string) *mm.Post {
	w.t.Helper()
	p, _, err := w.aliceC.CreatePost(context.Background(), &mm.Post{ChannelID: ch.ID, RootID: root, Message: text})
	if err != nil {
		w.t.Fatalf("alice posts %q: %v", text, err)
	}
	return p
}

// reply waits for the bot's post in a channel that match accepts.
func (w *world) reply(ch *mm.Channel, match func(*mm.Post) bool) *mm.Post {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	p, err := w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool { return p.UserID == w.bot.ID && match(p) })
	if err != nil {
		for _, p := range w.srv.Posts(ch.ID) {
			w.t.Logf("post by %s: %q", p.UserID, p.Message)
		}
		w.t.Fatalf("waiting for the bot's reply in ~%s: %v", ch.Name, err)
	}
	return p
}

func (w *world) replyText(ch *mm.Channel, text string) *mm.Post {
	w.t.Helper()
	return w.reply(ch, func(p *mm.Post) bool { return p.Message == text })
}

// botPosts returns the bot's posts in a channel.
func (w *world) botPosts(ch *mm.Channel) []*mm.Post {
	var out []*mm.Post
	for _, p := range w.srv.Posts(ch.ID) {
		if p.UserID == w.bot.ID {
			out = append(out, p)
		}
	}
	return out
}

// testPlugin has the commands the tests drive.
type testPlugin struct {
	connects chan bot.User
}

func (tp *testPlugin) Name() string { return "t" }

func (tp *testPlugin) Setup(p *bot.Plugin) error {
	p.OnConnect(func(ctx context.Context, self bot.User) error {
		select {
		case tp.connects <- self:
		default:
		}
		return nil
	})
	p.Command("where", func(ctx context.Context, req *bot.Request) error {
		m := req.Message
		return req.Replyf("%s `%s` direct=%v thread=%v from=%s", req.Args, m.Room, m.Direct, m.ThreadID != "", m.From)
	})
	p.Command("late", func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("%s caught_up=%v", req.Args, req.Message.CaughtUp)
	})
	p.Command("card", func(ctx context.Context, req *bot.Request) error {
		return req.Card(bot.Card{Title: "deployed " + req.Args, Color: "good", Text: "all good",
			Fields: []bot.Field{{Title: "env", Value: "prod", Short: true}}})
	})
	p.Command("long", func(ctx context.Context, req *bot.Request) error {
		return req.Reply(longText())
	})
	p.Command("file", func(ctx context.Context, req *bot.Request) error {
		return req.File(bot.File{Name: "report.txt", Body: strings.NewReader("report body " + req.Args)}, "here it is")
	})
	p.Command("cat", func(ctx context.Context, req *bot.Request) error {
		if len(req.Message.Files) != 1 {
			return fmt.Errorf("want one file, got %d", len(req.Message.Files))
		}
		f := req.Message.Files[0]
		rc, err := req.OpenFile(f)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		return req.Replyf("%s (%d bytes): %s", f.Name, f.Size, b)
	})
	p.Command("react", func(ctx context.Context, req *bot.Request) error {
		if err := req.React("white_check_mark"); err != nil {
			return err
		}
		return req.Reply("reacted")
	})
	p.Command("unreact", func(ctx context.Context, req *bot.Request) error {
		if err := req.React("hourglass"); err != nil {
			return err
		}
		if err := req.Unreact("hourglass"); err != nil {
			return err
		}
		return req.Reply("unreacted")
	})
	p.Command("rooms", func(ctx context.Context, req *bot.Request) error {
		// Written without "~": the backend would link a "~team/name".
		var names []string
		for _, r := range req.Message.RoomMentions {
			names = append(names, r.Team+"/"+r.Name+"="+r.ID)
		}
		return req.Reply("rooms: " + strings.Join(names, " "))
	})
	p.Command("whisper", func(ctx context.Context, req *bot.Request) error {
		return req.Ephemeral("psst " + req.Args)
	})
	return nil
}

func longText() string {
	var b strings.Builder
	b.WriteString("Build log:\n```text\n")
	for i := range 40 {
		fmt.Fprintf(&b, "step %02d ok\n", i)
	}
	b.WriteString("```\nall done")
	return b.String()
}

func TestCommandEverywhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dm := w.botDM()
	group := w.botGroup()
	w.start(w.options())

	tests := []struct {
		name string
		ch   *mm.Channel
		text string
		want string
	}{
		{"public", w.ops, "!where o", "o `~ops-team/ops` direct=false thread=false from=@alice"},
		{"private", w.secret, "!where p", "p `~ops-team/secret` direct=false thread=false from=@alice"},
		{"direct without prefix", dm, "where d", fmt.Sprintf("d `~%s` direct=true thread=false from=@alice", dm.Name)},
		{"group", group, "!where g", fmt.Sprintf("g `~%s` direct=false thread=false from=@alice", group.Name)},
		{"mention", w.ops, "@opsbot where m", "m `~ops-team/ops` direct=false thread=false from=@alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.say(tc.ch, "", tc.text)
			w.replyText(tc.ch, tc.want)
		})
	}

	t.Run("thread", func(t *testing.T) {
		root := w.say(w.ops, "", "a thread")
		cmd := w.say(w.ops, root.ID, "!where t")
		got := w.replyText(w.ops, "t `~ops-team/ops` direct=false thread=true from=@alice")
		if got.RootID != root.ID {
			t.Errorf("reply RootID = %q, want the thread's root %q (command %s)", got.RootID, root.ID, cmd.ID)
		}
	})
}

func TestChannelRenamed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts, ct := w.countedOptions()
	r := w.start(opts)
	ctx := context.Background()
	if _, err := r.be.Room(ctx, "", "ops"); err != nil { // cached from the start
		t.Fatal(err)
	}
	name := "operations"
	if _, _, err := w.aliceC.PatchChannel(ctx, w.ops.ID, &mm.ChannelPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	// The channel_updated event reaches the bot before its answer to a
	// later command.
	w.say(w.ops, "", "!where r")
	w.replyText(w.ops, "r `~ops-team/operations` direct=false thread=false from=@alice")

	ct.mu.Lock()
	before := ct.paths["GET /api/v4/channels/"+w.ops.ID]
	ct.mu.Unlock()
	room, err := r.be.Room(ctx, "", "operations")
	if err != nil || room.ID != w.ops.ID {
		t.Errorf("Room(operations) = %v, %v; want ~ops renamed", room, err)
	}
	ct.mu.Lock()
	for path, n := range ct.paths {
		if strings.Contains(path, "/channels/") && strings.HasPrefix(path, "GET") && path != "GET /api/v4/channels/"+w.ops.ID {
			t.Errorf("%d× %s: the rename should have been learnt from the event", n, path)
		}
	}
	if ct.paths["GET /api/v4/channels/"+w.ops.ID] != before {
		t.Error("Room(operations) fetched the channel again")
	}
	ct.mu.Unlock()
	if _, err := r.be.Room(ctx, "", "ops"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("Room(ops) after the rename = %v, want bot.ErrUnknown", err)
	}
}

// devTeam adds team dev-team with channel ~builds, alice and the bot in
// both, and returns the channel.
func (w *world) devTeam() *mm.Channel {
	t := w.t
	t.Helper()
	dev, err := w.srv.AddTeam("dev-team", "Dev")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mm.User{w.alice, w.bot} {
		if err := w.srv.AddTeamMember(dev.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	builds, err := w.srv.AddChannel(dev.ID, "builds", "Builds", mm.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mm.User{w.alice, w.bot} {
		if err := w.srv.AddChannelMember(builds.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return builds
}

// TestTeamsLeftOut: with teams configured, posts in the channels of the
// bot's other teams are not its business; direct messages still are.
func TestTeamsLeftOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	builds := w.devTeam()
	opts := w.options()
	opts.Teams = []string{"ops-team"}
	// One handler at a time, in order: once the reply in ~ops is in,
	// a reply in ~builds would be too.
	w.startEngine(w.newBackend(opts), &bot.Options{MaxConcurrent: 1, MaxPerUser: 1}, echo.Plugin{})
	w.say(builds, "", "!echo from dev")
	w.say(w.ops, "", "!echo from ops")
	w.replyText(w.ops, "from ops")
	if ps := w.botPosts(builds); len(ps) != 0 {
		t.Errorf("the bot answered in ~dev-team/builds, a team not configured: %q", ps[0].Message)
	}
}

func TestSecondTeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	builds := w.devTeam()
	opts := w.options()
	opts.Teams = []string{"ops-team", "dev-team"}
	r := w.start(opts)

	w.say(builds, "", "!where x")
	w.replyText(builds, "x `~dev-team/builds` direct=false thread=false from=@alice")

	// Channel references in replies become what the server links.
	w.say(builds, "", "!echo see ~dev-team/builds and ~ops-team/ops")
	w.replyText(builds, "see ~builds and [~ops]("+w.srv.URL()+"/ops-team/channels/ops)")

	// Room resolution: default team, explicit team, id.
	ctx := context.Background()
	for _, tc := range []struct{ team, name, want string }{
		{"", "ops", "~ops-team/ops"},
		{"", "~dev-team/builds", "~dev-team/builds"},
		{"dev-team", "builds", "~dev-team/builds"},
		{"", builds.ID, "~dev-team/builds"},
		{"", "builds", "~dev-team/builds"}, // not in the default team: the next
	} {
		room, err := r.be.Room(ctx, tc.team, tc.name)
		if err != nil || room.String() != tc.want {
			t.Errorf("Room(%q, %q) = %v, %v; want %s", tc.team, tc.name, room, err, tc.want)
		}
	}
	for _, tc := range []struct{ team, name string }{{"", "nope"}, {"no-team", "ops"}, {"dev-team", "ops"}} {
		if _, err := r.be.Room(ctx, tc.team, tc.name); !errors.Is(err, bot.ErrUnknown) {
			t.Errorf("Room(%q, %q) error = %v, want bot.ErrUnknown", tc.team, tc.name, err)
		}
	}
	for _, name := range []string{"alice", "@alice", w.alice.ID} {
		if u, err := r.be.User(ctx, name); err != nil || u.ID != w.alice.ID || u.FullName != "Alice" {
			t.Errorf("User(%q) = %+v, %v; want alice", name, u, err)
		}
	}
	if _, err := r.be.User(ctx, "nobody"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("User(nobody) error = %v, want bot.ErrUnknown", err)
	}
}

// TestAllTeamsWhenNoneConfigured: with Options.Teams empty the bot serves
// every team it is in: it answers in each, resolves rooms in each (the
// first team by name is the default), and catches up on a team channel's
// posts missed while its socket was down.
func TestAllTeamsWhenNoneConfigured(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	builds := w.devTeam()
	opts := w.options()
	opts.Teams = nil
	r := w.start(opts)

	w.say(builds, "", "!where x")
	w.replyText(builds, "x `~dev-team/builds` direct=false thread=false from=@alice")
	w.say(w.ops, "", "!where y")
	w.replyText(w.ops, "y `~ops-team/ops` direct=false thread=false from=@alice")

	ctx := context.Background()
	for _, tc := range []struct{ team, name, want string }{
		{"", "builds", "~dev-team/builds"}, // the default team: first by name
		{"", "ops", "~ops-team/ops"},       // not in the default team: the next
		{"ops-team", "secret", "~ops-team/secret"},
	} {
		room, err := r.be.Room(ctx, tc.team, tc.name)
		if err != nil || room.String() != tc.want {
			t.Errorf("Room(%q, %q) = %v, %v; want %s", tc.team, tc.name, room, err, tc.want)
		}
	}

	w.downtime(func() { w.say(builds, "", "!echo missed in dev") })
	w.replyText(builds, "missed in dev")
}

func TestCards(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, p *mm.Post, title string) {
		t.Helper()
		atts, err := p.Attachments()
		if err != nil || len(atts) != 1 {
			t.Fatalf("attachments = %v, %v; want one", atts, err)
		}
		a := atts[0]
		if a.Title != title || a.Color != "#2EB886" || a.Text != "all good" || len(a.Fields) != 1 {
			t.Errorf("attachment = %+v; want title %q, colour good as hex, text and a field", a, title)
		}
	}

	t.Run("api", func(t *testing.T) {
		w := newWorld(t)
		w.start(w.options())
		w.say(w.ops, "", "!card api")
		p := w.reply(w.ops, func(p *mm.Post) bool { return p.Props["attachments"] != nil })
		check(t, p, "deployed api")
	})
	t.Run("webhook", func(t *testing.T) {
		w := newWorld(t)
		hook := w.cardsHook()
		opts := w.options()
		opts.CardsHook = hook.ID
		w.start(opts)
		cmd := w.say(w.ops, "", "!card hook")
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		p, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool {
			atts, _ := p.Attachments()
			return p.Props["from_webhook"] == "true" && len(atts) == 1 && atts[0].Title == "deployed hook"
		})
		if err != nil {
			for _, p := range w.srv.Posts(w.ops.ID) {
				t.Logf("post by %s: %q props %v", p.UserID, p.Message, p.Props)
			}
			t.Fatal(err)
		}
		check(t, p, "deployed hook")
		if p.Props[mmbackend.PropReplyTo] != cmd.ID {
			t.Errorf("card by hook: props %v, want %s %s", p.Props, mmbackend.PropReplyTo, cmd.ID)
		}

		// A webhook cannot post in the bot's DM: the card goes as an
		// attachment there, and in threads too.
		dm := w.botDM()
		w.say(dm, "", "card dm")
		check(t, w.reply(dm, func(p *mm.Post) bool { return p.Props["attachments"] != nil }), "deployed dm")
		root := w.say(w.ops, "", "thread root")
		w.say(w.ops, root.ID, "!card thread")
		p = w.reply(w.ops, func(p *mm.Post) bool { return p.RootID == root.ID && p.Props["attachments"] != nil })
		check(t, p, "deployed thread")
	})
}

func TestSplitReply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	opts.MaxMessageRunes = 120
	w.start(opts)
	w.say(w.ops, "", "!long")
	w.reply(w.ops, func(p *mm.Post) bool { return strings.HasSuffix(p.Message, "all done") })
	var joined strings.Builder
	parts := w.botPosts(w.ops)
	if len(parts) < 3 {
		t.Fatalf("long reply in %d posts, want several", len(parts))
	}
	for i, p := range parts {
		if n := utf8.RuneCountInString(p.Message); n > 120 {
			t.Errorf("part %d has %d runes, want <= 120", i, n)
		}
		if strings.Count(p.Message, "```")%2 != 0 {
			t.Errorf("part %d leaves a fence open:\n%s", i, p.Message)
		}
		if i > 0 && i < len(parts)-1 && !strings.HasPrefix(p.Message, "```text\n") {
			t.Errorf("part %d does not re-open the fence with its info string:\n%s", i, p.Message)
		}
		joined.WriteString(p.Message)
	}
	for i := range 40 {
		if line := fmt.Sprintf("step %02d ok\n", i); strings.Count(joined.String(), line) != 1 {
			t.Errorf("line %q appears %d times in the parts, want once", line, strings.Count(joined.String(), line))
		}
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.start(w.options())
	ctx := context.Background()

	t.Run("down", func(t *testing.T) {
		fi, _, err := w.aliceC.UploadFile(ctx, w.ops.ID, "notes.txt", strings.NewReader("hello file"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.aliceC.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!cat", FileIDs: []string{fi.ID}}); err != nil {
			t.Fatal(err)
		}
		w.replyText(w.ops, "notes.txt (10 bytes): hello file")
	})
	t.Run("up", func(t *testing.T) {
		w.say(w.ops, "", "!file up")
		p := w.reply(w.ops, func(p *mm.Post) bool { return p.Message == "here it is" })
		if got := attachedFile(ctx, t, w.aliceC, p); got != "report body up" {
			t.Errorf("downloaded %q, want %q", got, "report body up")
		}
	})
}

// attachedFile downloads the one file attached to p with c. It fails t
// when p has not exactly one file or the download fails.
func attachedFile(ctx context.Context, t testing.TB, c *mm.Client, p *mm.Post) string {
	t.Helper()
	if len(p.FileIDs) != 1 {
		t.Fatalf("post FileIDs = %v, want one file", p.FileIDs)
	}
	rc, _, err := c.DownloadFile(ctx, p.FileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading file %s: %v", p.FileIDs[0], err)
	}
	return string(b)
}

func TestReactAndEphemeral(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.start(w.options())
	cmd := w.say(w.ops, "", "!react")
	w.replyText(w.ops, "reacted")
	if rs := w.srv.Reactions(cmd.ID); len(rs) != 1 || rs[0].EmojiName != "white_check_mark" || rs[0].UserID != w.bot.ID {
		t.Errorf("reactions on the command = %+v, want the bot's white_check_mark", rs)
	}

	// The bot removes its own reaction (DELETE
	// /users/{id}/posts/{id}/reactions/{emoji}); alice's stays.
	cmd = w.say(w.ops, "", "!unreact")
	if _, _, err := w.aliceC.AddReaction(t.Context(), cmd.ID, "hourglass"); err != nil {
		t.Fatal(err)
	}
	w.replyText(w.ops, "unreacted")
	if rs := w.srv.Reactions(cmd.ID); len(rs) != 1 || rs[0].EmojiName != "hourglass" || rs[0].UserID != w.alice.ID {
		t.Errorf("reactions after !unreact = %+v, want only alice's hourglass", rs)
	}

	// A bot may not post ephemeral messages (403, as recorded): the
	// whisper arrives as a direct message, marked as the answer to the
	// command.
	cmd = w.say(w.ops, "", "!whisper hi")
	dm := w.botDM()
	if p := w.replyText(dm, "psst hi"); p.Props[mmbackend.PropReplyTo] != cmd.ID {
		t.Errorf("whisper by direct message: props %v, want %s %s", p.Props, mmbackend.PropReplyTo, cmd.ID)
	}
}

// TestEphemeralAsAdmin is the success path of ephemeral replies: a bot
// with the system admin role may post them, so the whisper reaches only
// the asker's socket (ephemeral_message), is stored nowhere, and opens no
// direct message.
func TestEphemeralAsAdmin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := w.srv.AddChannelMember(w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.SetSystemAdmin(w.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	alice, bob := w.socket(w.alice.ID), w.socket(w.bob.ID)
	w.start(w.options())

	cmd := w.say(w.ops, "", "!whisper hi")
	ev := alice.next(mm.EventEphemeralMessage)
	p := ev.Payload.(*mm.EphemeralMessageEvent).Post
	if p.Message != "psst hi" || p.UserID != w.bot.ID || p.ChannelID != w.ops.ID || p.Type != mm.PostTypeEphemeral {
		t.Errorf("alice's ephemeral post = %+v, want the bot's \"psst hi\" in ~ops", p)
	}
	if p.Props[mmbackend.PropReplyTo] != cmd.ID {
		t.Errorf("alice's ephemeral post: props %v, want %s %s", p.Props, mmbackend.PropReplyTo, cmd.ID)
	}

	// A reply everyone sees marks the end: bob's socket gets the events
	// in order, so a whisper leaked to him would come before it.
	w.say(w.ops, "", "!echo done")
	for {
		ev := bob.next("")
		if ev.Type == mm.EventEphemeralMessage {
			t.Fatalf("bob got an ephemeral message: %+v", ev.Payload)
		}
		if pe, ok := ev.Payload.(*mm.PostedEvent); ok && pe.Post.UserID == w.bot.ID && pe.Post.Message == "done" {
			break
		}
	}
	for _, p := range w.srv.Posts(w.ops.ID) {
		if strings.Contains(p.Message, "psst") {
			t.Errorf("the whisper was stored in ~ops: %+v", p)
		}
	}
	dm := w.botDM()
	if ps := w.srv.Posts(dm.ID); len(ps) != 0 {
		t.Errorf("direct message posts = %d, want none (no fallback)", len(ps))
	}
}

// client logs the user in and returns a REST client with the session.
func (w *world) client(userID string) *mm.Client {
	w.t.Helper()
	tok, err := w.srv.Login(userID)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := w.srv.Client(tok)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// botDM returns alice's direct channel with the bot.
func (w *world) botDM() *mm.Channel {
	w.t.Helper()
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bot.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return dm
}

// botGroup returns the group channel of alice, bob and the bot.
func (w *world) botGroup() *mm.Channel {
	w.t.Helper()
	gm, err := w.srv.GroupChannel(w.alice.ID, w.bob.ID, w.bot.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return gm
}

// cardsHook adds alice's incoming webhook "cards" in ~ops, for
// Options.CardsHook.
func (w *world) cardsHook() *mm.IncomingWebhook {
	w.t.Helper()
	hook, err := w.srv.AddHook(w.ops.ID, w.alice.ID, "cards")
	if err != nil {
		w.t.Fatal(err)
	}
	return hook
}

// eventStream is a user's own WebSocket to the fake server.
type eventStream struct {
	t  testing.TB
	ws *mm.WebSocket
}

// socket connects a WebSocket as the user and waits for its hello.
func (w *world) socket(userID string) *eventStream {
	w.t.Helper()
	tok, err := w.srv.Login(userID)
	if err != nil {
		w.t.Fatal(err)
	}
	ws, err := mm.NewWebSocket(w.srv.URL(), mm.Secret(tok), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ws.Run(ctx) }()
	w.t.Cleanup(func() {
		cancel()
		for range ws.Events() { // drain until Run closes it
		}
		<-done
	})
	s := &eventStream{t: w.t, ws: ws}
	s.next(mm.EventHello)
	return s
}

// next returns the next event of type typ (any type if ""), skipping
// others.
func (s *eventStream) next(typ string) *mm.Event {
	s.t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case ev, ok := <-s.ws.Events():
			if !ok {
				s.t.Fatal("websocket closed")
			}
			if typ == "" || ev.Type == typ {
				return ev
			}
		case <-timeout:
			s.t.Fatalf("no %q event", typ)
		}
	}
}

// nextEphemeral returns the post of the stream's next ephemeral message.
func (s *eventStream) nextEphemeral() *mm.Post {
	s.t.Helper()
	ev := s.next(mm.EventEphemeralMessage)
	var data struct {
		Post string `json:"post"`
	}
	var p mm.Post
	if err := json.Unmarshal(ev.Data, &data); err != nil || json.Unmarshal([]byte(data.Post), &p) != nil {
		s.t.Fatalf("ephemeral event %s: %v", ev.Data, err)
	}
	return &p
}

// TestRoomMentions shows "~channel" in a command resolved to rooms: from
// the post's channel_mentions (public ~ops), from the directory for
// "~team/name" (the private ~secret, which the server does not list), not
// in code, and in a direct message (no team: the default team's).
func TestRoomMentions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.start(w.options())
	w.say(w.ops, "", "!rooms see ~ops, ~secret, ~ops-team/secret and `~ops` ~nope")
	w.replyText(w.ops, "rooms: ops-team/ops="+w.ops.ID+" ops-team/secret="+w.secret.ID)

	dm, _, err := w.aliceC.CreateDirectChannel(context.Background(), w.alice.ID, w.bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.say(dm, "", "rooms ~ops")
	w.replyText(dm, "rooms: ops-team/ops="+w.ops.ID)
}

func TestDroppedSocketAnsweredOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		drop func(*mmtest.Server)
	}{
		{"resumed", func(s *mmtest.Server) { s.DropWebSockets() }},
		{"restarted", func(s *mmtest.Server) { s.RestartWebSockets() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.start(w.options())
			w.say(w.ops, "", "!echo before")
			w.replyText(w.ops, "before")

			w.srv.RefuseWebSockets(time.Hour)
			tc.drop(w.srv)
			for i := range 3 {
				w.say(w.ops, "", fmt.Sprintf("!echo during %d", i))
			}
			w.srv.RefuseWebSockets(0)
			for i := range 3 {
				w.replyText(w.ops, fmt.Sprintf("during %d", i))
			}
			w.say(w.ops, "", "!echo after")
			w.replyText(w.ops, "after")

			counts := map[string]int{}
			for _, p := range w.botPosts(w.ops) {
				counts[p.Message]++
			}
			for msg, n := range counts {
				if n != 1 {
					t.Errorf("reply %q posted %d times, want once", msg, n)
				}
			}
			if len(counts) != 5 {
				t.Errorf("bot replies = %v, want before, during 0-2 and after", counts)
			}
			if tc.name == "restarted" {
				select {
				case <-r.connects:
				default:
					t.Error("no HandleConnect after a fresh connection")
				}
			}
		})
	}
}

func TestRetriedReplyPostedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.start(w.options())
	w.say(w.ops, "", "!echo warm") // alice is known from now on: no lookup
	w.replyText(w.ops, "warm")

	// The bot's next request is the reply; the server makes it, then
	// loses the answer. The client retries with the same
	// pending_post_id, and the server answers the post it made.
	w.srv.DropNextResponses(1)
	if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo once"}); err != nil {
		t.Fatal(err)
	}
	w.replyText(w.ops, "once")
	w.say(w.ops, "", "!echo after")
	w.replyText(w.ops, "after")
	n := 0
	for _, p := range w.botPosts(w.ops) {
		if p.Message == "once" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("reply posted %d times, want once", n)
	}
}

// TestTokenRevokedThenRestored: the bot's token is revoked while it runs
// (its socket goes deaf, its posts are refused), then works again (a
// token disabled and enabled). The bot does not exit: Ready says why it
// is not ready meanwhile, and once the token works again it connects
// anew and answers, once, the command it did not hear meanwhile.
func TestTokenRevokedThenRestored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	opts.WebSocket.PingInterval = 20 * time.Millisecond
	logs := newLogLines()
	opts.Logger = slog.New(logs)
	be := mustBackend(t, opts)
	connected := make(chan bot.User, 4)
	eng := mustEngine(t, be, nil, &testPlugin{connects: connected}, echo.Plugin{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-connected:
	case err := <-done:
		t.Fatalf("Run = %v before connecting", err)
	}
	w.say(w.ops, "", "!echo before")
	w.replyText(w.ops, "before")

	refused := logs.next(t, "the server no longer accepts the bot's token; trying again until it does")
	retried := logs.next(t, "the server still does not accept the bot's token")
	w.srv.RevokeToken(w.token)
	w.say(w.ops, "", "!echo unheard")
	refused()
	retried()
	if err := be.Ready(); err == nil || !strings.Contains(err.Error(), "does not accept the bot's credentials") {
		t.Errorf("Ready() = %v while the token is refused, want it saying so", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Run = %v while the token is refused, want it trying again", err)
	default:
	}
	back := logs.next(t, "the server accepts the bot's token again")
	if err := w.srv.AddToken(w.bot.ID, w.token, "restored"); err != nil {
		t.Fatal(err)
	}
	back()
	<-connected
	w.replyText(w.ops, "unheard")
	w.say(w.ops, "", "!echo after")
	w.replyText(w.ops, "after")
	checkOnceInOrder(t, "~ops", w.botPosts(w.ops), []string{"before", "unheard", "after"}, func(string) string { return "" })
}

// countingTransport counts the requests to each path.
type countingTransport struct {
	mu    sync.Mutex
	paths map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// countedOptions are the world's options with an HTTP client that
// counts the requests in the transport it returns.
func (w *world) countedOptions() (mmbackend.Options, *countingTransport) {
	ct := &countingTransport{paths: map[string]int{}}
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: ct}
	return opts, ct
}

func TestRejectedCredentialsNotRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		edit func(*mmbackend.Options)
		path string
	}{
		{"password", func(o *mmbackend.Options) { o.Token, o.Login, o.Password = "", "alice", "wrong" }, "POST /api/v4/users/login"},
		{"token", func(o *mmbackend.Options) { o.Token = "wrongwrongwrongwrongwrong1" }, "GET /api/v4/users/me"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, ct := w.countedOptions()
			tc.edit(&opts)
			be := mustBackend(t, opts)
			eng := mustEngine(t, be, nil)
			if err := eng.Run(context.Background()); err == nil {
				t.Fatal("Run with rejected credentials: no error")
			}
			ct.mu.Lock()
			defer ct.mu.Unlock()
			total := 0
			for _, n := range ct.paths {
				total += n
			}
			if ct.paths[tc.path] != 1 || total != 1 {
				t.Errorf("requests = %v, want one %s", ct.paths, tc.path)
			}
		})
	}
}

func TestLoginAndNoTeam(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	opts.Token, opts.Login, opts.Password = "", "alice", "alice-password"
	opts.Teams = nil
	// Alice runs the bot herself; bob talks to her in a DM.
	bobC := w.client(w.bob.ID)
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	sessions := w.srv.Sessions(w.alice.ID)
	r := w.start(opts)
	if _, _, err := bobC.CreatePost(context.Background(), &mm.Post{ChannelID: dm.ID, Message: "echo hi alice"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := w.srv.WaitForPost(ctx, dm.ID, func(p *mm.Post) bool { return p.UserID == w.alice.ID && p.Message == "hi alice" }); err != nil {
		t.Fatalf("no DM answer from a bot in no team: %v", err)
	}
	// The login opened a session; stopping logs out of it (the seed's
	// logout on shutdown).
	if got := w.srv.Sessions(w.alice.ID); got != sessions+1 {
		t.Errorf("alice's sessions while the bot runs = %d, want %d", got, sessions+1)
	}
	r.stop()
	if got := w.srv.Sessions(w.alice.ID); got != sessions {
		t.Errorf("alice's sessions after the bot stopped = %d, want %d (logged out)", got, sessions)
	}
}

func TestStoppedWhileConnecting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.SetLatency(time.Hour) // the server never answers in time
	be := mustBackend(t, w.options())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- be.Run(ctx, &nopHandler{}) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run stopped while connecting = %v, want nil", err)
	}
}

// nopHandler is a bot.Handler that ignores everything.
type nopHandler struct{}

func (nopHandler) HandleConnect(context.Context, bot.User) error { return nil }
func (nopHandler) HandleMessage(*bot.Message) <-chan struct{}    { return nil }
func (nopHandler) HandleReaction(*bot.Reaction) <-chan struct{}  { return nil }
func (nopHandler) HandlePresence(*bot.Presence) <-chan struct{}  { return nil }
func (nopHandler) HandleJoin(*bot.Join) <-chan struct{}          { return nil }

func TestNotConnected(t *testing.T) {
	t.Parallel()
	be := mustBackend(t, mmbackend.Options{Server: "chat.example.com", Token: "t"})
	ctx := context.Background()
	if err := be.Send(ctx, &bot.Outgoing{RoomID: "r", Text: "hi"}); err == nil {
		t.Error("Send before Run: no error")
	}
	if _, err := be.User(ctx, "alice"); err == nil {
		t.Error("User before Run: no error")
	}
	if _, err := be.Room(ctx, "", "ops"); err == nil {
		t.Error("Room before Run: no error")
	}
}

func TestLoginSessionRenewed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	opts.Token, opts.Login, opts.Password = "", "alice", "alice-password"
	opts.WebSocket.PingInterval = 20 * time.Millisecond
	r := w.start(opts)
	bobC := w.client(w.bob.ID)
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}

	w.srv.RevokeSessions(w.alice.ID) // alice's own client too: it logs in again
	select {
	case <-r.connects:
	case <-time.After(waitLimit):
		t.Fatal("no new connection after the session was revoked")
	}
	if _, _, err := bobC.CreatePost(context.Background(), &mm.Post{ChannelID: dm.ID, Message: "echo still here"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := w.srv.WaitForPost(ctx, dm.ID, func(p *mm.Post) bool { return p.UserID == w.alice.ID && p.Message == "still here" }); err != nil {
		t.Fatalf("no answer after the session was renewed: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts mmbackend.Options
	}{
		{"no server", mmbackend.Options{Token: "t"}},
		{"no credentials", mmbackend.Options{Server: "chat.example.com"}},
		{"token and password", mmbackend.Options{Server: "chat.example.com", Token: "t", Login: "a", Password: "p"}},
		{"login without password", mmbackend.Options{Server: "chat.example.com", Login: "a"}},
		{"bad scheme", mmbackend.Options{Server: "chat.example.com", Scheme: "ftp", Token: "t"}},
		{"bad port", mmbackend.Options{Server: "chat.example.com", Port: 70000, Token: "t"}},
		{"bad host", mmbackend.Options{Server: "chat.example.com/x", Token: "t"}},
		{"empty team", mmbackend.Options{Server: "chat.example.com", Token: "t", Teams: []string{" "}}},
		{"empty ignored user", mmbackend.Options{Server: "chat.example.com", Token: "t", IgnoreUsers: []string{"errbot", " @ "}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := mmbackend.New(tc.opts); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tc.opts)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := mmtest.New(nil)
	defer srv.Close()
	team, _ := srv.AddTeam("ops", "Ops")
	botUser, _ := srv.AddBot("opsbot", "Ops Bot", "")
	if err := srv.AddTeamMember(team.ID, botUser.ID); err != nil {
		t.Fatal(err)
	}
	token, _ := srv.CreateToken(botUser.ID, "tls")
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	ts.StartTLS()                                   // with a self-signed certificate
	defer ts.Close()
	plain := mmtest.NewServer(t, nil)

	run := func(opts mmbackend.Options) (connected bool, err error) {
		t.Helper()
		be := mustBackend(t, opts)
		connects := make(chan bot.User, 4)
		eng := mustEngine(t, be, nil, &testPlugin{connects: connects})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		select {
		case <-connects:
			cancel()
			return true, <-done
		case err := <-done:
			return false, err
		case <-time.After(waitLimit):
			cancel()
			<-done
			t.Fatal("neither connected nor failed")
			return false, nil
		}
	}

	opts := mmbackend.Options{Server: ts.URL, Teams: []string{"ops"}, Token: mm.Secret(token), Retry: fastRetry()}
	connected, err := run(opts)
	if connected || err == nil || !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "insecure = true") {
		t.Errorf("self-signed server: connected %v, error %v; want a TLS error naming insecure = true", connected, err)
	}

	opts.Insecure = true
	if connected, err := run(opts); !connected || err != nil {
		t.Errorf("self-signed server with Insecure: connected %v, error %v; want connected", connected, err)
	}

	opts = mmbackend.Options{Server: strings.Replace(plain.URL(), "http:", "https:", 1), Token: "whatever", Retry: fastRetry()}
	if connected, err := run(opts); connected || err == nil || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Errorf("https to an http server: connected %v, error %v; want %q", connected, err, "does not speak TLS")
	}
}

func TestTyping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts, ct := w.countedOptions()
	r := w.start(opts)
	typingPath := "POST /api/v4/users/" + w.bot.ID + "/typing"
	if err := r.be.Typing(context.Background(), w.ops.ID, ""); err != nil {
		t.Errorf("Typing in ~ops: %v", err)
	}
	ct.mu.Lock()
	if n := ct.paths[typingPath]; n != 0 {
		t.Errorf("Typing made %d REST calls, want 0: the WebSocket carries it", n)
	}
	ct.mu.Unlock()
	other, err := w.srv.AddChannel(w.team.ID, "other", "Other", mm.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.be.Typing(context.Background(), other.ID, ""); err == nil {
		t.Error("Typing in a private channel the bot is not in: no error")
	}
}

// BenchmarkRoundTrip measures a command's whole path over loopback HTTP
// and WebSocket: a post made on the server, its posted event to the bot,
// the engine, the reply POST, until the server holds the reply.
func BenchmarkRoundTrip(b *testing.B) {
	w := newWorld(b)
	opts := w.options()
	opts.LoopLimit = -1 // alice answers the bot at once, as a looping bot would
	w.start(opts)
	ctx := context.Background()
	var lat []time.Duration
	ch := w.ops
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i > 0 && i%100 == 0 {
			// WaitForPost reads a channel from its first post: a fresh
			// channel now and then keeps the fake's cost flat.
			var err error
			if ch, err = w.srv.AddChannel(w.team.ID, "bench-"+strconv.Itoa(i), "Bench", mm.ChannelOpen); err != nil {
				b.Fatal(err)
			}
			for _, u := range []*mm.User{w.alice, w.bot} {
				if err := w.srv.AddChannelMember(ch.ID, u.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
		text := "bench " + strconv.Itoa(i)
		start := time.Now()
		if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: ch.ID, Message: "!echo " + text}); err != nil {
			b.Fatal(err)
		}
		if _, err := w.srv.WaitForPost(ctx, ch.ID, func(p *mm.Post) bool { return p.UserID == w.bot.ID && p.Message == text }); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}
