package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/config"
)

// greeterConfig is the greeter's table. Names has room to grow: decoding
// a list into it would reuse its array, the defaults' own, unless the
// engine kept a copy of them.
type greeterConfig struct {
	Greeting string   `json:"greeting" required:""`
	Names    []string `json:"names"`
}

// greeter greets, as its configuration says; it counts its activations
// and deactivations, and its "wait" command runs until release is closed.
type greeter struct {
	cfg         greeterConfig
	activated   atomic.Int32
	deactivated atomic.Int32
	waiting     chan struct{} // a value when "wait" starts
	release     chan struct{}
}

func newGreeter() *greeter {
	return &greeter{waiting: make(chan struct{}, 1), release: make(chan struct{})}
}

func (*greeter) Name() string { return "greeter" }

func (g *greeter) Setup(p *bot.Plugin) error {
	g.cfg = greeterConfig{Names: append(make([]string, 0, 4), "world")}
	if err := p.Config(&g.cfg); err != nil {
		return err
	}
	p.OnActivate(func(context.Context) error { g.activated.Add(1); return nil })
	p.OnDeactivate(func(context.Context) error { g.deactivated.Add(1); return nil })
	p.Command("greet", g.greet)
	p.Command("wait", func(ctx context.Context, req *bot.Request) error {
		g.waiting <- struct{}{}
		<-g.release
		return g.greet(ctx, req)
	})
	return nil
}

func (g *greeter) greet(ctx context.Context, req *bot.Request) error {
	return req.Reply(g.cfg.Greeting + " " + strings.Join(g.cfg.Names, ","))
}

// greeterTable is the greeter's table, as the engine takes it.
func greeterTable(greeting string, names ...string) map[string]any {
	t := map[string]any{"greeting": greeting}
	if names != nil {
		t["names"] = names
	}
	return map[string]any{"greeter": t}
}

// adminPlug has an admin-only command and a plain one.
var adminPlug = plug{"ops", func(p *bot.Plugin) error {
	p.Command("ping", reply("pong"))
	p.Command("restart", reply("restarting")).AdminOnly()
	return nil
}}

// TestReconfigureSettings changes each setting of the engine while it
// runs and checks the next message is decided under the new one.
func TestReconfigureSettings(t *testing.T) {
	tests := []struct {
		name   string
		before bot.Options
		after  bot.Options
		user   string // who speaks, in ~town-square; default @alice
		say    string
		was    []string // the replies under before
		is     []string // the replies under after
	}{
		{
			name:   "prefix",
			before: bot.Options{Prefix: "!"},
			after:  bot.Options{Prefix: "?"},
			say:    "!ping", was: []string{"pong"}, is: nil,
		},
		{
			name:   "new prefix answers",
			before: bot.Options{Prefix: "!"},
			after:  bot.Options{Prefix: "?"},
			say:    "?ping", was: nil, is: []string{"pong"},
		},
		{
			name:   "alt prefix",
			before: bot.Options{},
			after:  bot.Options{AltPrefixes: []string{"ops:"}},
			say:    "ops: ping", was: nil, is: []string{"pong"},
		},
		{
			name:   "new admin",
			before: bot.Options{Admins: []string{"@alice"}},
			after:  bot.Options{Admins: []string{"@alice", "@bob"}},
			user:   "@bob", say: "!restart",
			was: []string{"`!restart`: only bot admins may run this command."},
			is:  []string{"restarting"},
		},
		{
			name:   "admin removed",
			before: bot.Options{Admins: []string{"@alice"}},
			after:  bot.Options{Admins: []string{"@bob"}},
			say:    "!restart",
			was:    []string{"restarting"},
			is:     []string{"`!restart`: only bot admins may run this command."},
		},
		{
			name:   "ACL",
			before: bot.Options{},
			after:  bot.Options{ACLs: []bot.ACL{{Pattern: "ping", Rule: bot.Rule{DenyUsers: []string{"@alice"}}}}},
			say:    "!ping",
			was:    []string{"pong"},
			is:     []string{"`!ping`: you are not allowed to run this command."},
		},
		{
			name:   "default ACL",
			before: bot.Options{DefaultACL: bot.Rule{AllowRooms: []string{"~ops"}}},
			after:  bot.Options{},
			say:    "!ping",
			was:    []string{"`!ping`: this command cannot be run in this room."},
			is:     []string{"pong"},
		},
		{
			name:   "unknown command",
			before: bot.Options{},
			after:  bot.Options{SuppressUnknownCommand: true},
			say:    "!pnig",
			was:    []string{"Command \"pnig\" not found. Did you mean `!ping`?"},
			is:     nil,
		},
		{
			name:   "room replies prefixed",
			before: bot.Options{},
			after:  bot.Options{PrefixRoomReplies: true},
			say:    "!ping",
			was:    []string{"pong"},
			is:     []string{"@alice: pong"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bottest.NewWithOptions(t, &tc.before, adminPlug)
			user := tc.user
			if user == "" {
				user = "@alice"
			}
			if diff := cmp.Diff(tc.was, texts(b.SayAs(user, "~town-square", tc.say))); diff != "" {
				t.Errorf("before Reconfigure, %q (-want +got):\n%s", tc.say, diff)
			}
			if err := b.Engine.Reconfigure(context.Background(), &tc.after); err != nil {
				t.Fatalf("Reconfigure = %v", err)
			}
			if diff := cmp.Diff(tc.is, texts(b.SayAs(user, "~town-square", tc.say))); diff != "" {
				t.Errorf("after Reconfigure, %q (-want +got):\n%s", tc.say, diff)
			}
		})
	}
}

// TestReconfigureAccessors: Prefix, AltPrefixes and Admins report the
// settings in force.
func TestReconfigureAccessors(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Prefix: "!", AltPrefixes: []string{"ops:"}, Admins: []string{"@alice"}}, adminPlug)
	type got struct {
		Prefix      string
		Alt, Admins []string
	}
	read := func() got { return got{b.Engine.Prefix(), b.Engine.AltPrefixes(), b.Engine.Admins()} }
	if diff := cmp.Diff(got{"!", []string{"ops:"}, []string{"@alice"}}, read()); diff != "" {
		t.Errorf("before Reconfigure (-want +got):\n%s", diff)
	}
	b.Engine.Admins()[0] = "@mallory" // the caller's copy
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{Prefix: "?", Admins: []string{"@alice", "@bob"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got{"?", nil, []string{"@alice", "@bob"}}, read()); diff != "" {
		t.Errorf("after Reconfigure (-want +got):\n%s", diff)
	}
}

// TestReconfigureDivert moves a command's replies to a thread.
func TestReconfigureDivert(t *testing.T) {
	b := bottest.New(t, adminPlug)
	if got := b.Say("!ping"); len(got) != 1 || got[0].ThreadID != "" {
		t.Fatalf("before Reconfigure, !ping = %+v, want one reply outside a thread", got)
	}
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{DivertToThread: []string{"ping"}}); err != nil {
		t.Fatal(err)
	}
	if got := b.Say("!ping"); len(got) != 1 || got[0].ThreadID == "" {
		t.Errorf("after Reconfigure, !ping = %+v, want one reply in a thread", got)
	}
}

// TestReconfigureInvalid checks that a new configuration with a problem
// changes nothing, and that the error names every problem.
func TestReconfigureInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts bot.Options
		want []string // in the error
	}{
		{
			name: "unknown admin",
			opts: bot.Options{Prefix: "?", Admins: []string{"@nobody"}},
			want: []string{"admin @nobody: no such user on the server"},
		},
		{
			name: "admin without @",
			opts: bot.Options{Prefix: "?", Admins: []string{"bob"}},
			want: []string{`admin "bob": want @username`},
		},
		{
			name: "unknown user in an ACL",
			opts: bot.Options{Prefix: "?", ACLs: []bot.ACL{{Pattern: "ping", Rule: bot.Rule{AllowUsers: []string{"@nobody"}}}}},
			want: []string{"access rule 1 (match ping): allowusers @nobody: unknown to the server"},
		},
		{
			name: "unknown room in the default ACL",
			opts: bot.Options{Prefix: "?", DefaultACL: bot.Rule{DenyRooms: []string{"~nowhere"}}},
			want: []string{"the default access rule: denyrooms ~nowhere: unknown to the server"},
		},
		{
			name: "unknown key in a plugin table",
			opts: bot.Options{Prefix: "?", PluginConfig: map[string]any{"greeter": map[string]any{"greeting": "hi", "nmaes": []string{"x"}}}},
			want: []string{`bot: plugin greeter: config: json: unknown field "nmaes"`},
		},
		{
			name: "every problem",
			opts: bot.Options{Prefix: "?", Admins: []string{"@nobody"},
				PluginConfig: map[string]any{"greeter": map[string]any{"greeting": 42}}},
			want: []string{"admin @nobody", "bot: plugin greeter: config: json: cannot unmarshal number"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGreeter()
			b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, PluginConfig: greeterTable("hello")}, adminPlug, g)
			err := b.Engine.Reconfigure(context.Background(), &tc.opts)
			if err == nil {
				t.Fatal("Reconfigure = nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Reconfigure = %q, want it to say %q", err, w)
				}
			}
			// Nothing changed: the prefix, the admins, the greeter.
			want := []string{"restarting", "hello world"}
			got := append(texts(b.Say("!restart")), texts(b.Say("!greet"))...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("after a failed Reconfigure (-want +got):\n%s", diff)
			}
			if n, m := g.activated.Load(), g.deactivated.Load(); n != 1 || m != 0 {
				t.Errorf("greeter activated %d times and deactivated %d times, want 1 and 0", n, m)
			}
		})
	}
}

// TestReconfigurePluginConfig changes a plugin's table: it is
// deactivated, its configuration re-read from its defaults, and
// activated again; a plugin whose table did not change is left alone.
func TestReconfigurePluginConfig(t *testing.T) {
	var logs syncBuffer
	g := newGreeter()
	var other atomic.Int32
	untouched := plug{"untouched", func(p *bot.Plugin) error {
		p.OnActivate(func(context.Context) error { other.Add(1); return nil })
		return nil
	}}
	tables := greeterTable("hello", "ann", "bo")
	tables["untouched"] = map[string]any{"k": "v"}
	b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: tables, Logger: logger(&logs)}, g, untouched)
	if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{"hello ann,bo"}) {
		t.Fatalf("!greet = %q, want hello ann,bo", got)
	}
	steps := []struct {
		table map[string]any
		want  string
	}{
		{greeterTable("hi", "cy"), "hi cy"},
		// names left out: back to the default, not to the last value
		{greeterTable("hey"), "hey world"},
		{greeterTable("hey"), "hey world"}, // the same: not reconfigured
	}
	for i, s := range steps {
		s.table["untouched"] = map[string]any{"k": "v"}
		if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: s.table}); err != nil {
			t.Fatalf("step %d: Reconfigure = %v", i, err)
		}
		if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{s.want}) {
			t.Errorf("step %d: !greet = %q, want %q", i, got, s.want)
		}
	}
	if n, m := g.activated.Load(), g.deactivated.Load(); n != 3 || m != 2 {
		t.Errorf("greeter activated %d times and deactivated %d times, want 3 and 2", n, m)
	}
	if n := other.Load(); n != 1 {
		t.Errorf("untouched plugin activated %d times, want 1", n)
	}
	if got := strings.Count(logs.String(), `msg="plugin config reloaded" plugin=greeter`); got != 2 {
		t.Errorf("%d lines say the greeter's config was reloaded, want 2:\n%s", got, logs.String())
	}
	cfg, err := b.Engine.PluginConfig("greeter")
	if err != nil || !strings.Contains(cfg, `"greeting": "hey"`) {
		t.Errorf("PluginConfig(greeter) = %s, %v; want the new greeting", cfg, err)
	}
}

// TestReconfigureFromFile reloads plugin tables from a configuration
// file: the errors of a bad table keep their file and line, and a good
// one is read.
func TestReconfigureFromFile(t *testing.T) {
	type fileConfig struct {
		Greeting string `toml:"greeting"`
	}
	var c fileConfig
	p := plug{"greeter", func(p *bot.Plugin) error {
		if err := p.Config(&c); err != nil {
			return err
		}
		p.Command("greet", func(ctx context.Context, req *bot.Request) error { return req.Reply(c.Greeting) })
		return nil
	}}
	parse := func(doc string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("bot.toml", []byte("backend = \"console\"\n"+doc), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: parse("[plugins.greeter]\ngreeting = \"hello\"\n").PluginTables()}, p)
	err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: parse("[plugins.greeter]\ngreting = \"hi\"\n").PluginTables()})
	want := "bot: plugin greeter: config: bot.toml:3: plugins.greeter.greting: unknown key (did you mean greeting?)"
	if err == nil || err.Error() != want {
		t.Errorf("Reconfigure(bad table) = %v, want %s", err, want)
	}
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: parse("[plugins.greeter]\ngreeting = \"hi\"\n").PluginTables()}); err != nil {
		t.Fatal(err)
	}
	if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{"hi"}) {
		t.Errorf("!greet = %q, want hi", got)
	}
}

// TestReconfigureMissingKeys takes a required key away and back: the
// plugin is inactive in between, logged as at start.
func TestReconfigureMissingKeys(t *testing.T) {
	var logs syncBuffer
	g := newGreeter()
	b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: greeterTable("hello"), Logger: logger(&logs)}, g)
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable("")}); err != nil {
		t.Fatalf("Reconfigure(greeting missing) = %v", err)
	}
	if b.Engine.Active("greeter") {
		t.Error("greeter active without its required greeting")
	}
	want := `level=ERROR msg="plugin not activated: required config missing" plugin=greeter missing=greeting table=plugins.greeter`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %s:\n%s", want, logs.String())
	}
	if got := b.Engine.Plugins()[0].Missing; !cmp.Equal(got, []string{"greeting"}) {
		t.Errorf("Missing = %q, want [greeting]", got)
	}
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable("back")}); err != nil {
		t.Fatal(err)
	}
	if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{"back world"}) {
		t.Errorf("!greet after the key is back = %q, want [back world]", got)
	}
}

// TestReconfigureBarePlugin: a plugin whose required keys were missing
// at start never declared its commands; a table with them asks for a
// restart.
func TestReconfigureBarePlugin(t *testing.T) {
	var logs syncBuffer
	g := newGreeter()
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, g)
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable("hello")}); err != nil {
		t.Fatal(err)
	}
	if b.Engine.Active("greeter") {
		t.Error("greeter activated without a restart")
	}
	if want := `msg="plugin config complete: restart to activate the plugin" plugin=greeter`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %s:\n%s", want, logs.String())
	}
	if got := b.Engine.Plugins()[0].Missing; len(got) != 0 {
		t.Errorf("Missing = %q, want none", got)
	}
}

// liveGreeter takes a new configuration without being deactivated.
type liveGreeter struct {
	mu          sync.Mutex
	cfg         greeterConfig // guarded by mu
	deactivated atomic.Int32
}

func (*liveGreeter) Name() string { return "greeter" }

func (g *liveGreeter) Setup(p *bot.Plugin) error {
	if err := p.Config(&g.cfg); err != nil {
		return err
	}
	p.OnDeactivate(func(context.Context) error { g.deactivated.Add(1); return nil })
	p.Command("greet", func(ctx context.Context, req *bot.Request) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		return req.Reply(g.cfg.Greeting)
	})
	return nil
}

func (g *liveGreeter) Reconfigure(ctx context.Context, p *bot.Plugin) error {
	var c greeterConfig
	if err := p.Config(&c); err != nil {
		return err
	}
	if c.Greeting == "refused" {
		return errors.New("greeting refused")
	}
	g.mu.Lock()
	g.cfg = c
	g.mu.Unlock()
	return nil
}

// TestReconfigurer checks that a Reconfigurer takes its new table while
// active, may refuse it, and is left inactive without its required keys.
func TestReconfigurer(t *testing.T) {
	var logs syncBuffer
	g := &liveGreeter{}
	b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: greeterTable("hello"), Logger: logger(&logs)}, g)
	steps := []struct {
		greeting string
		want     []string
		log      string
	}{
		{"hi", []string{"hi"}, `msg="plugin config reloaded" plugin=greeter`},
		{"refused", []string{"hi"}, `msg="plugin kept its config: reconfigure failed" plugin=greeter err="greeting refused"`},
		{"", []string{`Command "greet" not found.`}, `msg="plugin not activated: required config missing" plugin=greeter missing=greeting`},
		{"back", []string{"back"}, `msg="plugin activated" plugin=greeter`},
	}
	for i, s := range steps {
		if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable(s.greeting)}); err != nil {
			t.Fatalf("step %d: Reconfigure = %v", i, err)
		}
		if got := texts(b.Say("!greet")); !cmp.Equal(got, s.want) {
			t.Errorf("step %d (%q): !greet = %q, want %q", i, s.greeting, got, s.want)
		}
		if !strings.Contains(logs.String(), s.log) {
			t.Errorf("step %d (%q): logs lack %s:\n%s", i, s.greeting, s.log, logs.String())
		}
	}
	if n := g.deactivated.Load(); n != 1 {
		t.Errorf("deactivated %d times, want once (for the missing key)", n)
	}
	cfg, err := b.Engine.PluginConfig("greeter")
	if err != nil || !strings.Contains(cfg, `"greeting": "back"`) {
		t.Errorf("PluginConfig(greeter) = %s, %v; want the greeting back", cfg, err)
	}
}

// TestReconfigureWaitsForHandlers checks that a plugin's configuration
// is rewritten only once its running handlers have returned, and that
// when they do not return in time it keeps the old one and stays active.
func TestReconfigureWaitsForHandlers(t *testing.T) {
	t.Run("handler returns", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newGreeter()
			b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: greeterTable("hello")}, g)
			done := b.Post(b.Message("@alice", "~town-square", "!wait"))
			<-g.waiting
			reconfigured := make(chan error, 1)
			go func() {
				reconfigured <- b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable("hi")})
			}()
			synctest.Wait()
			select {
			case err := <-reconfigured:
				t.Fatalf("Reconfigure returned %v while a handler ran", err)
			default:
			}
			if b.Engine.Active("greeter") {
				t.Error("greeter active while Reconfigure waits for its handler")
			}
			close(g.release)
			<-done
			if err := <-reconfigured; err != nil {
				t.Fatal(err)
			}
			// The handler read the configuration it started with.
			got := texts(b.Replies())
			got = append(got, texts(b.Say("!greet"))...)
			if diff := cmp.Diff([]string{"hello world", "hi world"}, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("handler runs on", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var logs syncBuffer
			g := newGreeter()
			b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: greeterTable("hello"), Logger: logger(&logs)}, g)
			done := b.Post(b.Message("@alice", "~town-square", "!wait"))
			<-g.waiting
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := b.Engine.Reconfigure(ctx, &bot.Options{PluginConfig: greeterTable("hi")}); err != nil {
				t.Fatal(err)
			}
			want := `level=ERROR msg="plugin config not reloaded: handlers still running" plugin=greeter err="1 handlers of plugin greeter still running: context deadline exceeded"`
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs lack %s:\n%s", want, logs.String())
			}
			if !b.Engine.Active("greeter") {
				t.Error("greeter inactive after a reload it could not take")
			}
			close(g.release)
			<-done
			b.Replies()
			if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{"hello world"}) {
				t.Errorf("!greet = %q, want the old greeting", got)
			}
			// The next reload with the same table tries again.
			if err := b.Engine.Reconfigure(context.Background(), &bot.Options{PluginConfig: greeterTable("hi")}); err != nil {
				t.Fatal(err)
			}
			if got := texts(b.Say("!greet")); !cmp.Equal(got, []string{"hi world"}) {
				t.Errorf("!greet after the second reload = %q, want the new greeting", got)
			}
		})
	})
}

// TestReconfigureConcurrent reconfigures over and over while messages
// arrive: under -race, any unguarded access fails the test; every
// message is answered under one set of settings or the other, or finds
// the greeter inactive while it takes its new table.
func TestReconfigureConcurrent(t *testing.T) {
	g := newGreeter()
	close(g.release)
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, PluginConfig: greeterTable("hello")}, adminPlug, g)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				text := []string{"!greet", "?greet", "!restart", "?ping", "!wait"}[(i+n)%5]
				<-b.Post(b.Message("@alice", "~town-square", text))
				select {
				case <-g.waiting:
				default:
				}
				_ = b.Engine.Plugins()
				_, _ = b.Engine.PluginConfig("greeter")
			}
		})
	}
	for i := range 20 {
		opts := &bot.Options{Prefix: "!", Admins: []string{"@alice"}, PluginConfig: greeterTable(fmt.Sprint("hello", i))}
		if i%2 == 1 {
			opts = &bot.Options{Prefix: "?", Admins: []string{"@bob"}, PluginConfig: greeterTable("hi", "x", "y")}
		}
		if err := b.Engine.Reconfigure(context.Background(), opts); err != nil {
			t.Errorf("Reconfigure %d = %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	for _, r := range texts(b.Replies()) {
		switch {
		case r == "pong", r == "restarting", strings.HasPrefix(r, "hello"), r == "hi x,y",
			strings.Contains(r, "only bot admins"), strings.HasPrefix(r, `Command "greet" not found.`),
			strings.HasPrefix(r, `Command "wait" not found.`):
		default:
			t.Errorf("unexpected reply %q", r)
		}
	}
}

// TestReconfigureAfterStop checks that a stopped engine refuses.
func TestReconfigureAfterStop(t *testing.T) {
	b := bottest.New(t, adminPlug)
	b.Stop()
	if err := b.Engine.Reconfigure(context.Background(), &bot.Options{Prefix: "?"}); err == nil {
		t.Error("Reconfigure after Run returned = nil, want an error")
	}
}
