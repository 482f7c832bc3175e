package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

func opsPlugins() []bot.Setuper {
	return []bot.Setuper{
		plug{"ops", func(p *bot.Plugin) error {
			p.Command("deploy", reply("deployed"))
			p.Command("deploy rollback", reply("rolled back")).AdminOnly()
			p.Command("status", reply("ok"))
			return nil
		}},
		plug{"fun", func(p *bot.Plugin) error {
			p.Command("joke", reply("ha"))
			p.Listen(`^lol$`, reply("heard"))
			return nil
		}},
	}
}

func TestAdmins(t *testing.T) {
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, Logger: logger(&logs)}, opsPlugins()...)
	if got := texts(b.SayAs("@alice", "~ops", "!deploy rollback")); !cmp.Equal(got, []string{"rolled back"}) {
		t.Errorf("admin: replies %q, want rolled back", got)
	}
	want := []string{"`!deploy rollback`: only bot admins may run this command."}
	if got := texts(b.SayAs("@bob", "~ops", "!deploy rollback")); !cmp.Equal(got, want) {
		t.Errorf("non-admin: replies %q, want %q", got, want)
	}
	if l := logs.String(); !strings.Contains(l, `plugin=ops command="deploy rollback" outcome=denied duration=0s user_id=u-bob user=bob room_id=r-ops room=ops reason="only bot admins may run this command"`) {
		t.Errorf("log = %s\nwant a refusal line", l)
	}

	// A renamed admin keeps the rights: they are keyed on the user id.
	b.Backend.RemoveUser("alice")
	b.Backend.AddUser(bot.User{ID: "u-alice", Username: "alicia"})
	if got := texts(b.SayAs("@alicia", "~ops", "!deploy rollback")); !cmp.Equal(got, []string{"rolled back"}) {
		t.Errorf("renamed admin: replies %q, want rolled back", got)
	}
	// A new user who takes the old name does not.
	b.Backend.AddUser(bot.User{ID: "u-impostor", Username: "alice"})
	if got := texts(b.SayAs("@alice", "~ops", "!deploy rollback")); !cmp.Equal(got, want) {
		t.Errorf("impostor: replies %q, want %q", got, want)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name string
		opts *bot.Options
		want string
	}{
		{"bad glob", &bot.Options{DefaultACL: bot.Rule{DenyUsers: []string{"@[x"}}}, `glob "@[x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bottest.Start(t, bottest.NewBackend(), tc.opts, opsPlugins()...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestUnknownNamesFailClosed: names the server does not know at start
// (people and channels renamed while the bot was down) do not stop it;
// each is logged as an error and fails closed: an unknown admin is no
// one's, an unknown name in an allow list lets no one in, one in a deny
// list makes its rule refuse everyone, bot admins too.
func TestUnknownNamesFailClosed(t *testing.T) {
	var logs syncBuffer
	opts := &bot.Options{
		Admins: []string{"@alice", "@nobody"},
		Logger: logger(&logs),
		ACLs: []bot.ACL{
			{Pattern: "status", Rule: bot.Rule{AllowUsers: []string{"@ghost", "@bob"}}},
			{Pattern: "joke", Rule: bot.Rule{DenyUsers: []string{"@ghost"}}},
			{Pattern: "listen", Rule: bot.Rule{AllowRooms: []string{"~nowhere", "~ops"}}},
			{Pattern: "deploy", Rule: bot.Rule{DenyRooms: []string{"~town-square", "~gone"}}},
		},
		DefaultACL: bot.Rule{DenyRooms: []string{"~town-square"}},
	}
	b, err := bottest.Start(t, bottest.NewBackend(), opts, opsPlugins()...)
	if err != nil {
		t.Fatalf("Start() = %v, want the bot running", err)
	}
	for _, tc := range []struct{ user, room, text, want string }{
		{"@alice", "~ops", "!deploy rollback", "rolled back"}, // the known admin still is
		{"@bob", "~ops", "!deploy rollback", "`!deploy rollback`: only bot admins may run this command."},
		{"@bob", "~ops", "!status", "ok"}, // the allow list's known name
		{"@alice", "~ops", "!status", "`!status`: you are not allowed to run this command."},
		{"@bob", "~ops", "lol", "heard"},
		{"@alice", "~ops", "!joke", "`!joke`: this command is locked until a bot admin fixes its access rule."},
		{"@bob", "~ops", "!deploy", "`!deploy`: this command is locked until a bot admin fixes its access rule."},
	} {
		if got := texts(b.SayAs(tc.user, tc.room, tc.text)); !cmp.Equal(got, []string{tc.want}) {
			t.Errorf("%s in %s says %q: replies %q, want %q", tc.user, tc.room, tc.text, got, tc.want)
		}
	}
	l := logs.String()
	for _, want := range []string{
		`level=ERROR msg="name not resolved: fix the configuration" problem="admin @nobody: no such user on the server: not an admin"`,
		`problem="access rule 1 (match status): allowusers @ghost: unknown to the server: left out: it lets no one in"`,
		`problem="access rule 2 (match joke): denyusers @ghost: unknown to the server: the rule refuses everyone"`,
		`problem="access rule 3 (match listen): allowrooms ~nowhere: unknown to the server: left out: it lets no one in"`,
		`problem="access rule 4 (match deploy): denyrooms ~gone: unknown to the server: the rule refuses everyone"`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s:\n%s", want, l)
		}
	}
	if strings.Contains(l, "~town-square: unknown") || strings.Contains(l, "default access rule:") {
		t.Errorf("a known room was logged unknown:\n%s", l)
	}
}

func TestACL(t *testing.T) {
	no := false
	refusedUser := "you are not allowed to run this command"
	refusedRoom := "this command cannot be run in this room"
	type call struct {
		user, room, text string // room "" is a direct message
		want             string
	}
	tests := []struct {
		name  string
		acls  []bot.ACL
		def   bot.Rule
		calls []call
	}{
		{name: "allowusers by name", acls: []bot.ACL{{Pattern: "deploy", Rule: bot.Rule{AllowUsers: []string{"@alice"}}}},
			calls: []call{{"@alice", "~ops", "!deploy", "deployed"}, {"@bob", "~ops", "!deploy", refusedUser}, {"@bob", "~ops", "!status", "ok"}}},
		{name: "allowusers glob", acls: []bot.ACL{{Pattern: "*", Rule: bot.Rule{AllowUsers: []string{"@ca*"}}}},
			calls: []call{{"@carol", "~ops", "!joke", "ha"}, {"@alice", "~ops", "!joke", refusedUser}}},
		{name: "denyusers", acls: []bot.ACL{{Pattern: "fun:*", Rule: bot.Rule{DenyUsers: []string{"@bob"}}}},
			calls: []call{{"@bob", "~ops", "!joke", refusedUser}, {"@bob", "~ops", "!status", "ok"}, {"@alice", "~ops", "!joke", "ha"}}},
		{name: "allow and deny", acls: []bot.ACL{{Pattern: "*", Rule: bot.Rule{AllowUsers: []string{"@*"}, DenyUsers: []string{"@eve"}}}},
			calls: []call{{"@eve", "~ops", "!status", refusedUser}, {"@dave", "~ops", "!status", "ok"}}},
		{name: "allowrooms", acls: []bot.ACL{{Pattern: "ops:deploy", Rule: bot.Rule{AllowRooms: []string{"~ops"}}}},
			calls: []call{{"@alice", "~ops", "!deploy", "deployed"}, {"@alice", "~town-square", "!deploy", refusedRoom}, {"@alice", "", "deploy", "deployed"}}},
		{name: "denyrooms team glob", acls: []bot.ACL{{Pattern: "*", Rule: bot.Rule{DenyRooms: []string{"~test/town-*"}}}},
			calls: []call{{"@alice", "~town-square", "!joke", refusedRoom}, {"@alice", "~ops", "!joke", "ha"}}},
		{name: "allowprivate false", acls: []bot.ACL{{Pattern: "status", Rule: bot.Rule{AllowPrivate: &no}}},
			calls: []call{{"@alice", "", "status", "this command cannot be run in a direct message"}, {"@alice", "~ops", "!status", "ok"}}},
		{name: "allowmuc false", acls: []bot.ACL{{Pattern: "status", Rule: bot.Rule{AllowMUC: &no}}},
			calls: []call{{"@alice", "~ops", "!status", "this command can only be run in a direct message"}, {"@alice", "", "status", "ok"}}},
		{name: "admin only rule", acls: []bot.ACL{{Pattern: "ops:*", Rule: bot.Rule{AdminOnly: true}}},
			calls: []call{{"@bob", "~ops", "!status", "only bot admins may run this command"}, {"@alice", "~ops", "!status", "ok"}}},
		{name: "first match wins", acls: []bot.ACL{{Pattern: "status", Rule: bot.Rule{}}, {Pattern: "*", Rule: bot.Rule{AllowUsers: []string{"@alice"}}}},
			calls: []call{{"@bob", "~ops", "!status", "ok"}, {"@bob", "~ops", "!joke", refusedUser}}},
		{name: "multi-word command and case", acls: []bot.ACL{{Pattern: "OPS:Deploy*", Rule: bot.Rule{DenyUsers: []string{"@alice"}}}},
			calls: []call{{"@alice", "~ops", "!deploy", refusedUser}, {"@alice", "~ops", "!deploy rollback", refusedUser}}},
		{name: "default rule", def: bot.Rule{AllowRooms: []string{"~ops"}}, acls: []bot.ACL{{Pattern: "joke", Rule: bot.Rule{}}},
			calls: []call{{"@bob", "~town-square", "!status", refusedRoom}, {"@bob", "~town-square", "!joke", "ha"}}},
		{name: "listeners are checked as listen, silently", acls: []bot.ACL{{Pattern: "fun:listen", Rule: bot.Rule{DenyUsers: []string{"@bob"}}}},
			calls: []call{{"@bob", "~ops", "lol", ""}, {"@alice", "~ops", "lol", "heard"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, ACLs: tc.acls, DefaultACL: tc.def}, opsPlugins()...)
			for _, c := range tc.calls {
				var got []string
				if c.room == "" {
					got = texts(b.DM(c.user, c.text))
				} else {
					got = texts(b.SayAs(c.user, c.room, c.text))
				}
				want := c.want
				if !strings.HasPrefix(want, "`") && strings.Contains(want, " ") {
					name := strings.TrimPrefix(c.text, "!")
					want = fmt.Sprintf("`!%s`: %s.", name, c.want)
				}
				if want == "" && len(got) == 0 {
					continue
				}
				if !cmp.Equal(got, []string{want}) {
					t.Errorf("%s in %q says %q: replies %q, want %q", c.user, c.room, c.text, got, want)
				}
			}
		})
	}
}

func TestPanic(t *testing.T) {
	var logs syncBuffer
	p := plug{"boom", func(p *bot.Plugin) error {
		p.Command("boom", func(ctx context.Context, req *bot.Request) error { panic("kaboom") })
		p.Command("ok", reply("still alive"))
		p.OnMessage(func(ctx context.Context, m *bot.Message) error {
			if m.Text == "crash callback" {
				var empty []string
				_ = empty[len(m.Text)] // a runtime panic
			}
			return nil
		})
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
	got := texts(b.Say("!boom"))
	ref := refRE.FindString(strings.Join(got, ""))
	if want := []string{"Sorry, `!boom` failed " + ref + "."}; ref == "" || !cmp.Equal(got, want) {
		t.Errorf("Say(!boom) = %q, want %q with a reference", got, want)
	}
	b.Say("crash callback")
	if got := texts(b.Say("!ok")); !cmp.Equal(got, []string{"still alive"}) {
		t.Errorf("after panics: Say(!ok) = %q, want still alive", got)
	}
	l := logs.String()
	for _, w := range []string{`msg="handler panicked" plugin=boom handler=boom request_id=` + strings.TrimSuffix(strings.TrimPrefix(ref, "(ref "), ")") + ` panic=kaboom stack=`, "goroutine ", `handler=message panic="runtime error: index out of range [14] with length 0"`} {
		if !strings.Contains(l, w) {
			t.Errorf("log does not contain %q:\n%s", w, l)
		}
	}
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := plug{"slow", func(p *bot.Plugin) error {
			wait := func(ctx context.Context, req *bot.Request) error {
				<-ctx.Done()
				return fmt.Errorf("waiting for the deploy: %w", ctx.Err())
			}
			p.Command("slow", wait)
			p.Command("slower", wait).Timeout(5 * time.Minute)
			return nil
		}}
		b := bottest.NewWithOptions(t, &bot.Options{CommandTimeout: 30 * time.Second}, p)
		start := time.Now()
		if got, want := texts(b.Say("!slow")), []string{"`!slow` timed out after 30s."}; !cmp.Equal(got, want) {
			t.Errorf("Say(!slow) = %q, want %q", got, want)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("!slow took %v, want 30s", d)
		}
		if got, want := texts(b.Say("!slower")), []string{"`!slower` timed out after 5m0s."}; !cmp.Equal(got, want) {
			t.Errorf("Say(!slower) = %q, want %q", got, want)
		}
	})
}

func TestFlood(t *testing.T) {
	const n = 50
	gate := make(chan struct{})
	started := make(chan struct{}, n)
	var running, peak atomic.Int32
	p := plug{"flood", func(p *bot.Plugin) error {
		p.Command("work", func(ctx context.Context, req *bot.Request) error {
			r := running.Add(1)
			defer running.Add(-1)
			for {
				old := peak.Load()
				if r <= old || peak.CompareAndSwap(old, r) {
					break
				}
			}
			started <- struct{}{}
			<-gate
			return req.Reply("done " + req.Args)
		})
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 4, MaxPerUser: 4, MaxQueue: n}, p)
	var dones []<-chan struct{}
	for i := range n {
		dones = append(dones, b.Post(b.Message("@alice", "~ops", fmt.Sprintf("!work %d", i))))
	}
	for range 4 {
		<-started
	}
	if st := b.Engine.Stats(); st.Running != 4 || st.Queued != n-4 {
		t.Errorf("Stats() = %+v, want 4 running and %d queued", st, n-4)
	}
	close(gate)
	for _, d := range dones {
		<-d
	}
	if got := len(b.Replies()); got != n {
		t.Errorf("%d replies, want %d", got, n)
	}
	if got := peak.Load(); got != 4 {
		t.Errorf("peak concurrency = %d, want 4", got)
	}
}

// gatedWork is a plugin whose command work says it started on started,
// waits for gate to close, and replies "done ARGS".
func gatedWork() (p plug, gate, started chan struct{}) {
	gate, started = make(chan struct{}), make(chan struct{}, 10)
	p = plug{"q", func(p *bot.Plugin) error {
		p.Command("work", func(ctx context.Context, req *bot.Request) error {
			started <- struct{}{}
			<-gate
			return req.Reply("done " + req.Args)
		})
		return nil
	}}
	return p, gate, started
}

func TestQueueFull(t *testing.T) {
	p, gate, started := gatedWork()
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 1, MaxQueue: 1, Logger: logger(&logs)}, p)
	// MaxPerUser defaults to 1 here: the second command waits in the queue.
	d1 := b.Post(b.Message("@alice", "~ops", "!work 1"))
	<-started
	d2 := b.Post(b.Message("@alice", "~ops", "!work 2"))
	got := texts(b.Deliver(b.Message("@bob", "~ops", "!work 3")))
	if want := []string{"`!work`: the bot is busy, try again in a moment."}; !cmp.Equal(got, want) {
		t.Errorf("third command: replies %q, want %q", got, want)
	}
	close(gate)
	<-started
	<-d1
	<-d2
	if got, want := texts(b.Replies()), []string{"done 1", "done 2"}; !cmp.Equal(got, want) {
		t.Errorf("replies %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "command dropped") {
		t.Errorf("log has no 'command dropped' line:\n%s", logs.String())
	}
}

// A message the backend caught up on (posted while the bot could not hear
// it) is queued even when the queue is full: its author is not there to be
// told the bot is busy. Nor do such messages count against MaxQueue: the
// live commands after a big catch-up wait rather than be refused.
func TestCaughtUpNeverRefused(t *testing.T) {
	p, gate, started := gatedWork()
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 1, MaxQueue: 2, Logger: logger(&logs)}, p)
	d1 := b.Post(b.Message("@alice", "~ops", "!work 1"))
	<-started
	var dones []<-chan struct{}
	for i := 2; i <= 5; i++ {
		m := b.Message("@bob", "~ops", fmt.Sprintf("!work %d", i))
		m.CaughtUp = true
		dones = append(dones, b.Post(m))
	}
	// Past MaxQueue with late jobs alone, live commands still queue, up
	// to MaxQueue of them.
	dones = append(dones, b.Post(b.Message("@alice", "~ops", "!work 6")), b.Post(b.Message("@dave", "~ops", "!work 7")))
	if st := b.Engine.Stats(); st.Queued != 6 {
		t.Errorf("Stats() = %+v, want 6 queued (4 caught up, 2 live)", st)
	}
	m := b.Message("@erin", "~ops", "!work 8")
	m.CaughtUp = true
	dones = append(dones, b.Post(m))
	// The live queue is full: a live command is refused.
	got := texts(b.Deliver(b.Message("@carol", "~ops", "!work 9")))
	if want := []string{"`!work`: the bot is busy, try again in a moment."}; !cmp.Equal(got, want) {
		t.Errorf("live command past a full queue: replies %q, want %q", got, want)
	}
	close(gate)
	<-d1
	for _, d := range dones {
		<-d
	}
	var done []string
	for _, r := range texts(b.Replies()) {
		if strings.HasPrefix(r, "done ") {
			done = append(done, r)
		}
	}
	slices.Sort(done)
	if want := []string{"done 1", "done 2", "done 3", "done 4", "done 5", "done 6", "done 7", "done 8"}; !cmp.Equal(done, want) {
		t.Errorf("replies %q, want %q", done, want)
	}
	if n := strings.Count(logs.String(), "command dropped"); n != 1 {
		t.Errorf("%d 'command dropped' lines, want 1 (the live command):\n%s", n, logs.String())
	}
}

func TestFairness(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan string, 100)
	p := plug{"fair", func(p *bot.Plugin) error {
		p.Command("slow", func(ctx context.Context, req *bot.Request) error {
			started <- req.Message.From.Username + " " + req.Args
			<-gate
			return nil
		})
		p.Command("fast", reply("fast done"))
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 4, MaxPerUser: 2}, p)
	var dones []<-chan struct{}
	for i := range 10 {
		dones = append(dones, b.Post(b.Message("@alice", "~ops", fmt.Sprintf("!slow a%d", i))))
	}
	for i := range 3 {
		dones = append(dones, b.Post(b.Message("@bob", "~ops", fmt.Sprintf("!slow b%d", i))))
	}
	var first []string
	for range 4 {
		first = append(first, <-started)
	}
	slices.Sort(first)
	// Two of alice's flood run, and two of bob's: the rest wait their turn.
	if want := []string{"alice a0", "alice a1", "bob b0", "bob b1"}; !cmp.Equal(first, want) {
		t.Errorf("first handlers started = %q, want %q", first, want)
	}
	if st := b.Engine.Stats(); st.Running != 4 || st.Queued != 9 {
		t.Errorf("Stats() = %+v, want 4 running and 9 queued", st)
	}
	close(gate)
	for _, d := range dones {
		<-d
	}
	if n := len(started); n != 9 {
		t.Errorf("%d more handlers started after the gate opened, want 9", n)
	}
}

func TestSlowHandlerDoesNotDelayOthers(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan struct{})
	p := plug{"mix", func(p *bot.Plugin) error {
		p.Command("slow", func(ctx context.Context, req *bot.Request) error {
			close(started)
			<-gate
			return req.Reply("slow done")
		})
		p.Command("fast", reply("fast done"))
		return nil
	}}
	b := bottest.New(t, p)
	slow := b.Post(b.Message("@alice", "~ops", "!slow"))
	<-started
	if got := texts(b.SayAs("@bob", "~ops", "!fast")); !cmp.Equal(got, []string{"fast done"}) {
		t.Errorf("fast command while a slow one runs: replies %q, want fast done", got)
	}
	select {
	case <-slow:
		t.Fatalf("slow command finished before its gate opened")
	default:
	}
	close(gate)
	<-slow
	if got := texts(b.Replies()); !cmp.Equal(got, []string{"slow done"}) {
		t.Errorf("replies %q, want slow done", got)
	}
}

func TestShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		started := make(chan struct{}, 2)
		gate := make(chan struct{})
		var cancelled atomic.Bool
		var deactivated atomic.Bool
		p := plug{"s", func(p *bot.Plugin) error {
			p.Command("polite", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-ctx.Done()
				cancelled.Store(true)
				return ctx.Err()
			})
			p.Command("rude", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-gate // ignores its context
				return nil
			})
			p.OnDeactivate(func(ctx context.Context) error { deactivated.Store(true); return nil })
			return nil
		}}
		be := bottest.NewBackend()
		e, err := bot.New(be, &bot.Options{ShutdownTimeout: 3 * time.Second, Logger: logger(&logs)}, p)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		<-be.Ready()
		from := bot.User{ID: "u-alice", Username: "alice"}
		room := bot.Room{ID: "r-ops", Name: "ops"}
		be.Handler().HandleMessage(&bot.Message{ID: "1", From: from, Room: room, Text: "!polite"})
		be.Handler().HandleMessage(&bot.Message{ID: "2", From: from, Room: room, Text: "!rude"})
		<-started
		<-started
		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
		if d := time.Since(start); d != 3*time.Second+bot.ShutdownGrace {
			t.Errorf("Run returned %v after cancel, want the 3s shutdown timeout and the grace", d)
		}
		if !cancelled.Load() || !deactivated.Load() {
			t.Errorf("cancelled = %v, deactivated = %v; want both", cancelled.Load(), deactivated.Load())
		}
		if !strings.Contains(logs.String(), `msg="handlers still running after shutdown timeout" running=1`) {
			t.Errorf("log:\n%s\nwant the shutdown timeout reported", logs.String())
		}
		if len(be.Sent()) != 0 {
			t.Errorf("shutdown sent messages, want none")
		}
		// After shutdown, messages are dropped.
		select {
		case <-be.Handler().HandleMessage(&bot.Message{ID: "3", From: from, Room: room, Text: "!polite"}):
		default:
			t.Errorf("HandleMessage after shutdown: done not closed")
		}
		close(gate)
		synctest.Wait()
		if err := e.Run(context.Background()); err == nil {
			t.Errorf("second Run() = nil, want an error")
		}
	})
}

func TestConversation(t *testing.T) {
	p := plug{"survey", func(p *bot.Plugin) error {
		p.Command("survey", func(ctx context.Context, req *bot.Request) error {
			name, err := req.Ask(ctx, "Your name?")
			if err != nil {
				return err
			}
			colour, err := req.Ask(ctx, "Favourite colour, "+name.Text+"?")
			if err != nil {
				return err
			}
			return req.Replyf("%s likes %s", name.Text, colour.Text)
		})
		p.Command("status", reply("ok"))
		return nil
	}}
	b := bottest.New(t, p)
	steps := []struct {
		user, room, thread, text string
		want                     []string
	}{
		{"@alice", "~ops", "", "!survey", []string{"Your name?"}},
		{"@bob", "~ops", "", "!status", []string{"ok"}},           // another user is not an answer
		{"@alice", "~town-square", "", "!status", []string{"ok"}}, // another room neither
		{"@alice", "~ops", "", "!status", []string{"ok"}},         // a command runs, the question waits
		{"@alice", "~ops", "", "@ops-bot status", []string{"ok"}},
		{"@alice", "~ops", "", "Alice", []string{"Favourite colour, Alice?"}},
		{"@alice", "~ops", "", "!stauts", []string{"Alice likes !stauts"}}, // not a command: the answer
		{"@alice", "~ops", "", "!status", []string{"ok"}},
		// In a thread, the answer must come in the thread.
		{"@bob", "~ops", "t1", "!survey", []string{"Your name?"}},
		{"@bob", "~ops", "t2", "Robert", nil},
		{"@bob", "~ops", "t1", "Bob", []string{"Favourite colour, Bob?"}},
		{"@bob", "~ops", "t1", "green", []string{"Bob likes green"}},
		// In a direct message, a command needs the prefix to be one.
		{"@carol", "", "", "survey", []string{"Your name?"}},
		{"@carol", "", "", "status", []string{"Favourite colour, status?"}},
		{"@carol", "", "", "!status", []string{"ok"}},
		{"@carol", "", "", "red", []string{"status likes red"}},
	}
	for i, s := range steps {
		var got []string
		if s.room == "" {
			got = texts(b.DM(s.user, s.text))
		} else {
			got = texts(b.SayInThread(s.user, s.room, s.thread, s.text))
		}
		if !cmp.Equal(got, s.want) {
			t.Errorf("step %d: %s says %q: replies %q, want %q", i, s.user, s.text, got, s.want)
		}
	}
}

func TestConversationNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		ask := func(ctx context.Context, req *bot.Request) error {
			a, err := req.Ask(ctx, "sure?")
			if err != nil {
				return err
			}
			return req.Reply("you said " + a.Text)
		}
		p := plug{"q", func(p *bot.Plugin) error {
			p.Command("ask", ask).Timeout(time.Hour)
			p.Command("deploy", ask).Timeout(time.Hour).NoAnswer("No answer: deploy cancelled.")
			p.Command("quick", ask) // the command's deadline comes first
			p.Command("private", ask).Timeout(time.Hour).Private()
			p.Command("status", reply("ok"))
			return nil
		}}
		b := bottest.NewWithOptions(t, &bot.Options{AskTimeout: 5 * time.Minute, CommandTimeout: time.Minute, Logger: logger(&logs)}, p)
		tests := []struct {
			cmd   string
			after time.Duration
			want  []bottest.Reply
		}{
			{"!ask", 5 * time.Minute, []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "`!ask`: no answer, so I stopped waiting."}}},
			{"!deploy", 5 * time.Minute, []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "No answer: deploy cancelled."}}},
			{"!quick", time.Minute, []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "`!quick`: no answer, so I stopped waiting."}}},
			// Asked in the room, where the answer is awaited, and ended there.
			{"!private", 5 * time.Minute, []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "`!private`: no answer, so I stopped waiting."}}},
		}
		for _, tc := range tests {
			if got := texts(b.SayAs("@bob", "~ops", tc.cmd)); !cmp.Equal(got, []string{"sure?"}) {
				t.Fatalf("Say(%s) = %q, want sure?", tc.cmd, got)
			}
			// Commands neither answer nor cancel the question.
			if got := texts(b.SayAs("@bob", "~ops", "!status")); !cmp.Equal(got, []string{"ok"}) {
				t.Errorf("%s: Say(!status) while asking = %q, want ok", tc.cmd, got)
			}
			time.Sleep(tc.after - time.Second)
			synctest.Wait()
			if got := b.Replies(); len(got) != 0 {
				t.Errorf("%s: a second before the end: replies %+v, want none yet", tc.cmd, got)
			}
			time.Sleep(time.Second)
			synctest.Wait()
			if diff := cmp.Diff(tc.want, b.Replies()); diff != "" {
				t.Errorf("%s: after %v: replies mismatch (-want +got):\n%s", tc.cmd, tc.after, diff)
			}
			// The question is gone: a word is a word again.
			if got := b.SayAs("@bob", "~ops", "yes"); len(got) != 0 {
				t.Errorf("%s: late answer: replies %+v, want none", tc.cmd, got)
			}
		}
		if l, w := logs.String(), `plugin=q command=deploy outcome=no_answer duration=5m0s user_id=u-bob user=bob room_id=r-ops room=ops err="bot: ask @bob: bot: no answer after 5m0s"`; !strings.Contains(l, w) {
			t.Errorf("log does not contain %s:\n%s", w, l)
		}
	})
}

func TestConversationTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := plug{"q", func(p *bot.Plugin) error {
			p.Command("ask", func(ctx context.Context, req *bot.Request) error {
				_, err := req.Ask(ctx, "sure?")
				if errors.Is(err, bot.ErrNoAnswer) {
					return req.Reply("never mind")
				}
				return err
			})
			return nil
		}}
		b := bottest.NewWithOptions(t, &bot.Options{AskTimeout: time.Minute}, p)
		if got := texts(b.Say("!ask")); !cmp.Equal(got, []string{"sure?"}) {
			t.Fatalf("Say(!ask) = %q, want sure?", got)
		}
		time.Sleep(2 * time.Minute) // fake time, inside the bubble
		synctest.Wait()
		if got := texts(b.Replies()); !cmp.Equal(got, []string{"never mind"}) {
			t.Errorf("after the ask timeout: replies %q, want never mind", got)
		}
		// The late answer is an ordinary message again.
		if got := texts(b.Say("!ask")); !cmp.Equal(got, []string{"sure?"}) {
			t.Errorf("Say(!ask) again = %q, want sure?", got)
		}
		if got := texts(b.Say("yes")); len(got) != 0 {
			t.Errorf("answer: replies %q, want none", got)
		}
	})
}

func TestSlowActivationDoesNotBlockDispatch(t *testing.T) {
	gate := make(chan struct{})
	entered := make(chan struct{})
	slow := plug{"slow", func(p *bot.Plugin) error {
		p.OnActivate(func(ctx context.Context) error {
			close(entered)
			<-gate
			return nil
		})
		return nil
	}}
	fast := plug{"fast", func(p *bot.Plugin) error { p.Command("x", reply("x")); return nil }}
	b := bottest.NewWithOptions(t, &bot.Options{Inactive: []string{"slow"}}, slow, fast)
	activated := make(chan error, 1)
	go func() { activated <- b.Engine.Activate(context.Background(), "slow") }()
	<-entered
	if got := texts(b.Say("!x")); !cmp.Equal(got, []string{"x"}) {
		t.Errorf("Say(!x) during a slow activation = %q, want x", got)
	}
	close(gate)
	if err := <-activated; err != nil {
		t.Errorf("Activate() = %v", err)
	}
}

func TestActivationFailure(t *testing.T) {
	var logs syncBuffer
	fails := 0
	p := plug{"flaky", func(p *bot.Plugin) error {
		p.OnActivate(func(ctx context.Context) error {
			fails++
			switch fails {
			case 1:
				return errors.New("database down")
			case 2:
				panic("oops")
			}
			return nil
		})
		p.OnDeactivate(func(ctx context.Context) error { return errors.New("cannot flush") })
		p.Command("flaky", reply("works"))
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
	e := b.Engine
	if e.Active("flaky") {
		t.Errorf("Active(flaky) = true after a failed activation")
	}
	if !strings.Contains(logs.String(), `msg="plugin activation failed" plugin=flaky err="bot: activate flaky: database down"`) {
		t.Errorf("log:\n%s\nwant the activation failure", logs.String())
	}
	if err := e.Activate(context.Background(), "flaky"); err == nil || !strings.Contains(err.Error(), "panic: oops") {
		t.Errorf("Activate() with a panicking hook = %v, want the panic as an error", err)
	}
	if err := e.Activate(context.Background(), "flaky"); err != nil {
		t.Fatalf("third Activate() = %v", err)
	}
	if got := texts(b.Say("!flaky")); !cmp.Equal(got, []string{"works"}) {
		t.Errorf("Say(!flaky) = %q, want works", got)
	}
	if err := e.Deactivate(context.Background(), "flaky"); err == nil || !strings.Contains(err.Error(), "cannot flush") {
		t.Errorf("Deactivate() = %v, want the hook's error", err)
	}
	if e.Active("flaky") {
		t.Errorf("Active(flaky) = true after Deactivate, even with a failing hook")
	}
}

// closingBackend records when Close is called.
type closingBackend struct {
	*bottest.Backend
	deactivated *atomic.Bool // set by the plugin's OnDeactivate
	closes      atomic.Int32
	lateClose   atomic.Bool // Close came before the plugin was deactivated
}

func (b *closingBackend) Close(ctx context.Context) error {
	b.closes.Add(1)
	if !b.deactivated.Load() {
		b.lateClose.Store(true)
	}
	return errors.New("logout refused")
}

// TestBackendClosedLast: a backend that is a bot.Closer is closed once,
// after the plugins are deactivated, and its error is only logged.
func TestBackendClosedLast(t *testing.T) {
	var deactivated atomic.Bool
	be := &closingBackend{Backend: bottest.NewBackend(), deactivated: &deactivated}
	var logs syncBuffer
	e, err := bot.New(be, &bot.Options{Logger: logger(&logs)}, plug{"p", func(p *bot.Plugin) error {
		p.OnDeactivate(func(context.Context) error { deactivated.Store(true); return nil })
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the backend's Run returns at once
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil after a cancelled context", err)
	}
	if n := be.closes.Load(); n != 1 || be.lateClose.Load() {
		t.Errorf("Close called %d times, before deactivation: %v; want once, after", n, be.lateClose.Load())
	}
	if !strings.Contains(logs.String(), `msg="backend close failed" err="logout refused"`) {
		t.Errorf("log = %s\nwant the close error", logs.String())
	}
}
