package errbotshim_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/execplugin"
	"github.com/matterbot/matterbot/plugins/help"
	"github.com/matterbot/matterbot/storage/memory"
)

// logBuffer collects the engine's and the plugin's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// errbotPlugin loads examples/NAME through execplugin, as [exec] with
// errbot_runner does: the runner describes it, the engine runs it.
func errbotPlugin(t *testing.T, name string, log *logBuffer) *execplugin.Plugin {
	t.Helper()
	return errbotPluginAt(t, filepath.Join("examples", name), log)
}

// errbotPluginAt is errbotPlugin for the plugin in dir.
func errbotPluginAt(t *testing.T, dir string, log *logBuffer) *execplugin.Plugin {
	t.Helper()
	py := python3(t)
	runner, err := filepath.Abs("matterbot-errbot")
	if err != nil {
		t.Fatal(err)
	}
	touchSources(t)
	pl, err := execplugin.New(dir, &execplugin.Options{
		ErrbotRunner: []string{py, runner}, Logger: log.logger(),
		KillGrace: time.Second, RestartDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("execplugin.New(%s): %v", dir, err)
	}
	return pl
}

// step is one line said to the bot and the texts it answers.
type step struct {
	user, room, in string // room "": a direct message
	want           []string
}

// run says each step and compares the texts of the replies.
func run(t *testing.T, b *bottest.Bot, log *logBuffer, steps []step) {
	t.Helper()
	for _, s := range steps {
		var got []bottest.Reply
		if s.room == "" {
			got = b.DM(s.user, s.in)
		} else {
			got = b.SayAs(s.user, s.room, s.in)
		}
		if d := cmp.Diff(s.want, bottest.Texts(bottest.Unref(got))); d != "" {
			t.Errorf("%s in %q: %s (-want +got):\n%s", s.user, s.room, s.in, d)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log.String())
	}
}

// The scenarios below are what Errbot answers with the same plugin (its
// testbot: push a message, pop the replies), where matterbot's engine
// does not decide otherwise on purpose. The differences, each on a line
// marked "Errbot:", are the engine's, the same for Go plugins:
// refusals and internal errors have matterbot's words, and an admin may
// run an admin-only command in a room (Errbot wants a direct message).

func TestGreeterUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}},
		&help.Plugin{}, errbotPlugin(t, "greeter", &log))
	run(t, b, &log, []step{
		{"@alice", "~town-square", "!hello", []string{"Hello, alice!"}},
		{"@bob", "~town-square", "!hello Dinah", []string{"Hello, Dinah!"}},
		{"@alice", "~town-square", "!shout up  and away", []string{"UP!", "AND!", "AWAY!"}},
		{"@alice", "~town-square", "!shout", []string{"Shout what?"}}, // CommandError
		{"@alice", "~town-square", "!greet each ann, bob", []string{"Hi ann. Hi bob."}},
		{"@alice", "~town-square", "!greet_each ann", []string{"Hi ann."}},
		{"@alice", "~town-square", "!greet room", []string{"Hello, everyone in ~town-square!"}},
		{"@alice", "", "greet room", []string{"This is just the two of us, alice."}},
		{"@alice", "~town-square", "!handshake", []string{"*secret handshake*"}},
		{"@alice", "~town-square", "!botname", []string{"I am ops-bot."}}, // from the bot message
		{"@alice", "~town-square", "!greet", []string{"Hello, alice!"}},
		// Errbot: "This command requires bot-admin privileges".
		{"@bob", "", "!greeting Yo", []string{"`!greeting`: only bot admins may run this command."}},
		{"@alice", "", "!greeting Howdy", []string{"Greeting set to 'Howdy'."}},
		{"@bob", "~town-square", "!greet", []string{"Howdy, bob!"}},
		{"@alice", "~town-square", "!welcome bob", []string{"Welcome, **bob**! The rules:\n\n1. be kind\n2. no spoilers"}},
		// Errbot: "Computer says nooo. See logs for details:\nthe greeter tripped over ''".
		{"@alice", "~town-square", "!oops", []string{"Sorry, `!oops` failed (ref REF)."}},
	})
	if !strings.Contains(log.String(), "RuntimeError: the greeter tripped over") {
		t.Errorf("the log does not have the traceback of !oops:\n%s", log.String())
	}
	help := strings.Join(bottest.Texts(b.Say("!help")), "\n")
	for _, want := range []string{"hello", "greet each", "Say hello to you, or to whom you name."} {
		if !strings.Contains(help, want) {
			t.Errorf("!help does not show %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "handshake") {
		t.Errorf("!help shows the hidden command handshake:\n%s", help)
	}
}

func TestNotesUnderBottest(t *testing.T) {
	var log logBuffer
	st := memory.New()
	opts := &bot.Options{Logger: log.logger(), Storage: st,
		PluginConfig: map[string]any{"Notes": map[string]any{"MAX_NOTES": 2, "BULLET": "*"}}}
	b := bottest.NewWithOptions(t, opts, errbotPlugin(t, "notes", &log))
	run(t, b, &log, []step{
		{"@alice", "~town-square", "!note list", []string{"No notes."}},
		{"@alice", "~town-square", "!note add buy milk --tag home", []string{"Noted (1)."}},
		{"@bob", "~town-square", "!note add call “bob”", []string{"Noted (2)."}},
		{"@alice", "~town-square", "!note add three", []string{"I keep 2 notes at most."}},
		{"@alice", "~town-square", "!note list", []string{"* 1. buy milk [home]\n* 2. call bob"}},
		{"@alice", "~town-square", "!note del x", []string{
			"I couldn't parse the arguments; argument index: invalid int value: 'x'",
			"usage: note_del [-h] index"}}, // the newline argparse ends it with is dropped
		{"@alice", "~town-square", "!note del 1", []string{"Deleted: buy milk"}},
	})
	// The notes are in the bot's store, as JSON, and outlive the process.
	b.Stop()
	raw, err := st.Store("Notes").Get(context.Background(), "notes")
	if err != nil || !strings.Contains(string(raw), `"text":"call bob"`) {
		t.Errorf("store notes = %s, %v; want the note as JSON", raw, err)
	}
	b = bottest.NewWithOptions(t, opts, errbotPlugin(t, "notes", &log))
	run(t, b, &log, []step{{"@alice", "~town-square", "!note list", []string{"* 1. call bob"}}})
}

// TestNotesBadConfigUnderBottest: a table that lacks a key of the
// plugin's template is refused by its check_configuration, as Errbot's
// !plugin config refuses it: the plugin is not activated, the log says
// why, and the bot serves the rest. A wrong type or an unknown key is
// refused at load, with the key named, as for any plugin: the runner
// declares the template's keys and types.
func TestNotesBadConfigUnderBottest(t *testing.T) {
	t.Run("missing key", func(t *testing.T) {
		var log logBuffer
		opts := &bot.Options{Logger: log.logger(), PluginConfig: map[string]any{"Notes": map[string]any{"MAX_NOTES": 3}}}
		b := bottest.NewWithOptions(t, opts, &help.Plugin{}, errbotPlugin(t, "notes", &log))
		if got := bottest.Texts(b.Say("!note list")); len(got) != 1 || !strings.Contains(got[0], "not found") {
			t.Errorf("!note list = %q, want not found: the plugin is active with a bad table", got)
		}
		if !strings.Contains(log.String(), "does not fit its template") {
			t.Errorf("no log line says the table does not fit:\n%s", log.String())
		}
		if got := bottest.Texts(b.Say("!help")); len(got) == 0 {
			t.Errorf("!help: no answer; the bot should serve the other plugins")
		}
	})
	for name, tc := range map[string]struct {
		table map[string]any
		want  string
	}{
		"wrong type":  {map[string]any{"MAX_NOTES": "many", "BULLET": "*"}, "MAX_NOTES"},
		"unknown key": {map[string]any{"MAX_NOTES": 3, "BULLET": "*", "COLOR": "red"}, "COLOR"},
	} {
		t.Run(name, func(t *testing.T) {
			var log logBuffer
			opts := &bot.Options{Logger: log.logger(), PluginConfig: map[string]any{"Notes": tc.table}}
			_, err := bottest.Start(t, bottest.NewBackend(), opts, errbotPlugin(t, "notes", &log))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestConfigSecretMasked: a key whose name says it holds a secret is
// masked by !plugin config (Engine.PluginConfig), and the plugin gets it.
func TestConfigSecretMasked(t *testing.T) {
	var log logBuffer
	opts := &bot.Options{Logger: log.logger(), PluginConfig: map[string]any{
		"Failing": map[string]any{"URL": "https://chat", "PASSWORD": "hunter2"}}}
	b := bottest.NewWithOptions(t, opts, errbotPluginAt(t, filepath.Join("tests", "plugins", "failing"), &log))
	run(t, b, &log, []step{{"@alice", "~town-square", "!url", []string{"https://chat"}}})
	shown, err := b.Engine.PluginConfig("Failing")
	if err != nil || strings.Contains(shown, "hunter2") || !strings.Contains(shown, `"PASSWORD": "******"`) ||
		!strings.Contains(shown, `"URL": "https://chat"`) {
		t.Errorf("PluginConfig(Failing) = %s, %v; want PASSWORD masked", shown, err)
	}
	if strings.Contains(log.String(), "hunter2") {
		t.Errorf("the secret is in the log:\n%s", log.String())
	}
}

func TestTickerUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}},
		errbotPlugin(t, "ticker", &log))
	run(t, b, &log, []step{
		{"@alice", "~town-square", "!tick start 0.01 2", []string{"Ticking every 0.01s."}},
	})
	ticks := waitReplies(t, b, 2)
	if d := cmp.Diff([]string{"~test/town-square: tick 1", "~test/town-square: tick 2"}, where(ticks)); d != "" {
		t.Errorf("poller (-want +got):\n%s", d)
	}
	got := b.Say("!tell @bob hi there")
	got = append(got, b.Say("!tell ~ops hello")...)
	if d := cmp.Diff([]string{"@bob: hi there", "~test/town-square: Told @bob.", "~test/ops: hello",
		"~test/town-square: Told ~ops."}, where(got)); d != "" {
		t.Errorf("build_identifier and send (-want +got):\n%s", d)
	}
	// Errbot raises UserDoesNotExistError: a failure of the command.
	run(t, b, &log, []step{{"@alice", "~town-square", "!tell @nobody hi", []string{"Sorry, `!tell` failed (ref REF)."}}})
	got = b.Say("!status card")
	if len(got) != 1 || got[0].Card == nil || got[0].Card.Title != "Ticker" || got[0].Card.Color != "green" ||
		len(got[0].Card.Fields) != 2 || got[0].Card.Fields[0] != (bot.Field{Title: "ticks", Value: "2", Short: true}) {
		t.Errorf("!status card = %+v, want the Ticker card", got)
	}
	got = b.Say("!report")
	if d := cmp.Diff([]string{"@alice: Report for alice: 2 ticks."}, where(got)); d != "" {
		t.Errorf("send_templated (-want +got):\n%s", d)
	}
	// warn_admins: a direct message to each of the bot's admins.
	got = b.Say("!alarm fire")
	if d := cmp.Diff([]string{"@alice: alarm raised by @alice: fire", "~test/town-square: Admins warned."}, where(got)); d != "" {
		t.Errorf("warn_admins (-want +got):\n%s", d)
	}
	got = b.SayInThread("@alice", "~town-square", "p-root", "!reply here")
	if len(got) != 1 || got[0].ThreadID != "p-root" || got[0].Text != "in the thread" {
		t.Errorf("send in_reply_to = %+v, want the message in thread p-root", got)
	}
}

// TestTickerStateKeptByDeactivate: an Errbot plugin saves its state in
// deactivate (self["ticks"] = ...) and reads it back in activate, the
// usual way to survive a restart. Its hook also reads the store (the
// number of stops so far), which needs the bot to answer the hook's
// calls.
func TestTickerStateKeptByDeactivate(t *testing.T) {
	var log logBuffer
	opts := &bot.Options{Logger: log.logger(), Storage: memory.New()}
	b := bottest.NewWithOptions(t, opts, errbotPlugin(t, "ticker", &log))
	b.Say("!tick start 0.01 3")
	waitReplies(t, b, 3)
	b.Stop() // deactivate: the plugin saves its ticks
	b = bottest.NewWithOptions(t, opts, errbotPlugin(t, "ticker", &log))
	if got := bottest.Texts(b.Say("!tick count")); !cmp.Equal(got, []string{"3 ticks (saved at stop 1)."}) {
		t.Errorf("!tick count after a restart = %q, want 3 ticks saved.\nlog:\n%s", got, log.String())
	}
	b.Stop()
	b = bottest.NewWithOptions(t, opts, errbotPlugin(t, "ticker", &log))
	if got := bottest.Texts(b.Say("!tick count")); !cmp.Equal(got, []string{"3 ticks (saved at stop 2)."}) {
		t.Errorf("!tick count after a second restart = %q, want stop 2: the hook read stop 1.\nlog:\n%s", got, log.String())
	}
	if strings.Contains(log.String(), "deactivate failed") {
		t.Errorf("the deactivate hook failed:\n%s", log.String())
	}
}

func TestCookiesUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, errbotPlugin(t, "cookies", &log))
	run(t, b, &log, []step{
		{"@alice", "~town-square", "!cookie", []string{"Here's a cookie for you, alice."}},
		{"@bob", "~town-square", "!May I have a cookie please?", []string{"Here's a cookie for you, bob."}},
		{"@alice", "~town-square", "who ate the COOKIES today", []string{"Somebody said cookies? Om nom nom!"}},
		{"@alice", "~town-square", "look in jar #1 and jar #22", []string{"Jars: 1, 22"}},
		{"@alice", "~town-square", "!bake choc", []string{"Baking a choc cookie."}},
		// bake's look-ahead, in Python, hands "burnt" back: the next regex command takes it.
		{"@alice", "~town-square", "!bake burnt", []string{"No burnt cookies here."}},
		{"@alice", "~town-square", "cookie", []string{"Somebody said cookies? Om nom nom!"}},         // not give_cookie: it needs the prefix
		{"@alice", "~town-square", "cookie monster", []string{"Somebody said cookies? Om nom nom!"}}, // not prefixed
	})
}

func TestDeploysUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(),
		PluginConfig: map[string]any{"Deploys": map[string]any{"ROOM": "~ops"}}},
		errbotPlugin(t, "deploys", &log))
	req := httptest.NewRequest("POST", "/deployed", strings.NewReader(`{"service": "api", "version": "1.2"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := b.Webhook(req)
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("POST /deployed = %s, want 200 ok\n%s", bottest.Response(rec), log.String())
	}
	if d := cmp.Diff([]string{"~test/ops: Deployed api 1.2."}, where(b.Replies())); d != "" {
		t.Errorf("the webhook's send (-want +got):\n%s", d)
	}
	rec = b.Webhook(httptest.NewRequest("POST", "/deploys/prod/41", strings.NewReader(`{"ok": true}`)))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" ||
		!strings.Contains(rec.Body.String(), `"build": 41, "next": 42`) {
		t.Errorf("POST /deploys/prod/41 = %s %q", bottest.Response(rec), rec.Header())
	}
	if rec := b.Webhook(httptest.NewRequest("GET", "/deploys/prod/41", nil)); rec.Code != 405 && rec.Code != 404 {
		t.Errorf("GET /deploys/prod/41 (POST only) = %s, want 405", bottest.Response(rec))
	}
	form := httptest.NewRequest("POST", "/deploys/form", strings.NewReader("payload=%7B%22service%22%3A%22web%22%7D"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := b.Webhook(form); rec.Body.String() != "form: web" {
		t.Errorf("POST /deploys/form = %s", bottest.Response(rec))
	}
	raw := httptest.NewRequest("GET", "/deploys/raw?dry=1", nil)
	raw.Header.Set("X-Trace", "t1")
	if rec := b.Webhook(raw); rec.Code != 202 || rec.Body.String() != "GET 1 t1" {
		t.Errorf("GET /deploys/raw = %s, want 202 GET 1 t1", bottest.Response(rec))
	}
	run(t, b, &log, []step{{"@alice", "~town-square", "!last deploy", []string{"api"}}})
}

func TestGatekeeperUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, errbotPlugin(t, "gatekeeper", &log))
	got := b.Say("!vault open")
	if d := cmp.Diff([]string{"@alice: Ask me about the vault in private."}, where(got)); d != "" {
		t.Errorf("a filtered command (-want +got):\n%s", d)
	}
	run(t, b, &log, []step{
		{"@alice", "", "vault open", []string{"The vault is open."}},
		{"@bob", "", "vault peek", []string{"You see gold."}},
		{"@bob", "", "vault peek please", []string{"The vault is open."}}, // rewritten by a filter
		{"@alice", "~town-square", "!audit log", []string{
			"@alice vault_open\n@alice vault_open\n@bob vault_peek\n@bob vault_peek\n@alice audit_log"}},
	})
}

func TestWatcherUnderBottest(t *testing.T) {
	var log logBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, errbotPlugin(t, "watcher", &log))
	got := b.Say("my secret is @bob's")
	got = append(got, b.React("@bob", "~town-square", "p-1", "tada")...)
	got = append(got, b.Presence("@bob", "away")...)
	got = append(got, b.Join("@carol", "~ops")...)
	got = append(got, b.Leave("@carol", "~ops")...)
	if d := cmp.Diff([]string{"@alice: Careful: ~town-square is a public channel.", "~test/ops: Welcome to ~ops, carol."},
		where(got)); d != "" {
		t.Errorf("callbacks (-want +got):\n%s\n%s", d, log.String())
	}
	seen := bottest.Texts(b.Say("!seen"))
	// callback_message also hears "!seen" (Errbot's too), concurrently
	// with the command: messages is 1 or 2.
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "connected 1, joined 1, left 1, mentions 1, messages ") ||
		!strings.HasSuffix(seen[0], ", presence 1, reactions 1") {
		t.Errorf("!seen = %q\n%s", seen, log.String())
	}
}

// hiPlugin is a Go plugin whose command "hello" an Errbot example has too.
type hiPlugin struct{}

func (hiPlugin) Setup(p *bot.Plugin) error {
	p.Command("hello", func(ctx context.Context, req *bot.Request) error { return req.Reply("Go says hello") })
	return nil
}

// TestClashRenamedOnReload: an Errbot plugin added while the bot runs is
// told the command names taken, and renames its clashing command as
// Errbot does (CLASSNAME-NAME), instead of being refused.
func TestClashRenamedOnReload(t *testing.T) {
	py := python3(t)
	runner, err := filepath.Abs("matterbot-errbot")
	if err != nil {
		t.Fatal(err)
	}
	touchSources(t)
	var log logBuffer
	root := t.TempDir()
	h := execplugin.NewHost(&execplugin.Options{Dirs: []string{root}, ErrbotRunner: []string{py, runner},
		Logger: log.logger(), KillGrace: time.Second})
	plugins, err := h.Load([]string{"hiplugin"})
	if err != nil {
		t.Fatal(err)
	}
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger(), Admins: []string{"@alice"}},
		append([]bot.Setuper{hiPlugin{}}, plugins...)...)
	for _, f := range []string{"greeter.plug", "greeter.py", "templates/welcome.md"} {
		data, err := os.ReadFile(filepath.Join("examples", "greeter", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, "greeter", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := bottest.Texts(b.Say("!plugin reload")); len(got) != 1 || !strings.Contains(got[0], "Greeter") {
		t.Fatalf("!plugin reload = %q\n%s", got, log.String())
	}
	run(t, b, &log, []step{
		{"@alice", "~town-square", "!hello", []string{"Go says hello"}},
		{"@alice", "~town-square", "!greeter-hello", []string{"Hello, alice!"}},
		{"@alice", "~town-square", "!greet", []string{"Hello, alice!"}},
	})
	if !strings.Contains(log.String(), "renamed greeter-hello") {
		t.Errorf("no warning names the renamed command:\n%s", log.String())
	}
}

// where returns "to: text" for each reply.
func where(rs []bottest.Reply) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.To+": "+r.Text)
	}
	return out
}

// waitReplies waits for n replies the plugin sends on its own (a poller:
// another process, which no channel reports) and returns them.
func waitReplies(t *testing.T, b *bottest.Bot, n int) []bottest.Reply {
	t.Helper()
	var got []bottest.Reply
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d replies, want %d: %+v", len(got), n, got)
		}
		got = append(got, b.Replies()...)
		time.Sleep(time.Millisecond)
	}
	return got
}

// BenchmarkErrbotCommand measures one Errbot command through the engine,
// execplugin and the shim (a request line, a thread in Python, a text
// reply and done): go test -run '^$' -bench ErrbotCommand ./contrib/errbotshim/
func BenchmarkErrbotCommand(b *testing.B) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 is not installed")
	}
	runner, err := filepath.Abs("matterbot-errbot")
	if err != nil {
		b.Fatal(err)
	}
	pl, err := execplugin.New(filepath.Join("examples", "greeter"), &execplugin.Options{ErrbotRunner: []string{py, runner}})
	if err != nil {
		b.Fatal(err)
	}
	bot := bottest.New(b, pl)
	b.ReportAllocs()
	for b.Loop() {
		if got := bot.Say("!hello"); len(got) != 1 {
			b.Fatalf("!hello = %+v", got)
		}
	}
}
