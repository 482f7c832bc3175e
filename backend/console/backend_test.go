package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
)

func newTestBackend(t *testing.T, out io.Writer) *Backend {
	t.Helper()
	be, err := New(&Options{Input: strings.NewReader(""), Output: out, HistoryFile: "-", Color: ColorNever, FileDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

func TestNewBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"room as user", Options{User: "~ops"}, `bad user "~ops"`},
		{"user with space", Options{User: "@a b"}, `bad user "@a b"`},
		{"user as room", Options{Room: "@bob"}, `bad room "@bob"`},
		{"room too deep", Options{Room: "~a/b/c"}, `bad room "~a/b/c"`},
		{"bot name", Options{BotName: "a/b"}, `bad bot name "a/b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Output = io.Discard
			_, err := New(&tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
			}
		})
	}
}

func TestUserAndRoomIDsAreStable(t *testing.T) {
	ctx := context.Background()
	be := newTestBackend(t, io.Discard)
	tests := []struct {
		name string
		get  func() (string, error)
		want string
	}{
		{"user", func() (string, error) { u, err := be.User(ctx, "bob"); return u.ID, err }, "u-bob"},
		{"user again, other case", func() (string, error) { u, err := be.User(ctx, "Bob"); return u.ID, err }, "u-bob"},
		{"user with @", func() (string, error) { u, err := be.User(ctx, "@bob"); return u.ID, err }, "u-bob"},
		{"bot", func() (string, error) { u, err := be.User(ctx, "ops-bot"); return u.ID, err }, "u-ops-bot"},
		{"room", func() (string, error) { r, err := be.Room(ctx, "", "ops"); return r.ID, err }, "r-ops"},
		{"room in a team", func() (string, error) { r, err := be.Room(ctx, "eng", "ops"); return r.ID, err }, "r-eng/ops"},
		{"room again", func() (string, error) { r, err := be.Room(ctx, "", "OPS"); return r.ID, err }, "r-ops"},
		// A known id resolves to its user or room, not to a new one
		// named after it (bot.Address).
		{"user by id", func() (string, error) { u, err := be.User(ctx, "u-bob"); return u.Username, err }, "bob"},
		{"room by id", func() (string, error) { r, err := be.Room(ctx, "", "r-ops"); return r.Name, err }, "ops"},
		{"room in a team by id", func() (string, error) { r, err := be.Room(ctx, "r-eng", "ops"); return r.Team + "/" + r.Name, err }, "eng/ops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if err != nil || got != tc.want {
				t.Errorf("id = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
	if !be.Self().Bot {
		t.Errorf("Self().Bot = false, want true")
	}
}

func TestLookupErrorsWrapErrUnknown(t *testing.T) {
	ctx := context.Background()
	be := newTestBackend(t, io.Discard)
	if _, err := be.User(ctx, "a b"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("User(%q) = %v, want ErrUnknown", "a b", err)
	}
	if _, err := be.Room(ctx, "", "a b"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("Room(%q) = %v, want ErrUnknown", "a b", err)
	}
}

func TestSendErrors(t *testing.T) {
	ctx := context.Background()
	be := newTestBackend(t, io.Discard)
	room, _ := be.Room(ctx, "", "ops")
	tests := []struct {
		name    string
		out     bot.Outgoing
		want    string
		unknown bool
	}{
		{"empty", bot.Outgoing{RoomID: room.ID}, "empty message", false},
		{"no destination", bot.Outgoing{Text: "x"}, "want exactly one of RoomID and UserID", false},
		{"two destinations", bot.Outgoing{RoomID: room.ID, UserID: "u-bob", Text: "x"}, "want exactly one", false},
		{"unknown room", bot.Outgoing{RoomID: "r-nowhere", Text: "x"}, `room "r-nowhere"`, true},
		{"unknown user", bot.Outgoing{UserID: "u-nobody", Text: "x"}, `user "u-nobody"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := be.Send(ctx, &tc.out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Send(%+v) = %v, want an error containing %q", tc.out, err, tc.want)
			}
			if errors.Is(err, bot.ErrUnknown) != tc.unknown {
				t.Errorf("errors.Is(%v, ErrUnknown) = %v, want %v", err, !tc.unknown, tc.unknown)
			}
		})
	}
}

func TestReactErrors(t *testing.T) {
	ctx := context.Background()
	be := newTestBackend(t, io.Discard)
	if err := be.React(ctx, "1", "tada"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("React on an unknown message = %v, want ErrUnknown", err)
	}
	room, _ := be.Room(ctx, "", "ops")
	if err := be.Send(ctx, &bot.Outgoing{RoomID: room.ID, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := be.React(ctx, "1", "::"); err == nil {
		t.Errorf("React with an empty emoji = nil, want an error")
	}
}

func TestOpenFileUnknown(t *testing.T) {
	be := newTestBackend(t, io.Discard)
	if _, err := be.OpenFile(context.Background(), "f1"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("OpenFile(f1) = %v, want ErrUnknown", err)
	}
}

// A Send from outside a command (a scheduled job, say) prints at once.
func TestSendDirect(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	be := newTestBackend(t, &out)
	bob, _ := be.User(ctx, "bob")
	if err := be.Send(ctx, &bot.Outgoing{UserID: bob.ID, Text: "psst"}); err != nil {
		t.Fatal(err)
	}
	if err := be.SendEphemeral(ctx, bob.ID, &bot.Outgoing{RoomID: "r-town-square", ThreadID: "1", Text: "just you"}); err != nil {
		t.Fatal(err)
	}
	want := "#1 ops-bot › @bob (direct): psst\n#2 ops-bot › ~town-square (thread #1) (only @bob sees this): just you\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// failingHandler refuses to connect.
type failingHandler struct{ bot.Handler }

func (failingHandler) HandleConnect(ctx context.Context, self bot.User) error {
	return errors.New("no admin")
}

func TestRunReturnsConnectError(t *testing.T) {
	be := newTestBackend(t, io.Discard)
	if err := be.Run(context.Background(), failingHandler{}); err == nil || err.Error() != "no admin" {
		t.Errorf("Run = %v, want the HandleConnect error", err)
	}
	if err := be.Run(context.Background(), failingHandler{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run = %v, want an error", err)
	}
}

// Run returns nil when ctx is done while it waits for a line, and its
// reader goroutine exits once the input does (goleak checks it).
func TestRunStopsOnCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	var out syncBuffer
	be, err := New(&Options{Input: pr, Output: &out, HistoryFile: "-", Color: ColorNever})
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(be, nil, demo{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	if _, err := io.WriteString(pw, "!echo one\n"); err != nil {
		t.Fatal(err)
	}
	// The pipe write returns once the line is read; the reply is printed
	// before the next prompt, which is read for after it.
	if _, err := io.WriteString(pw, "!echo two\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	pw.Close()
	if got := out.String(); !strings.Contains(got, "#2 ops-bot › ~town-square: one\n") {
		t.Errorf("output = %q, want the first reply", got)
	}
}

func TestColorChoice(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"terminal", true, nil, true},
		{"not a terminal", false, nil, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false},
		{"empty NO_COLOR", true, map[string]string{"NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			if got := autoColor(tc.terminal, getenv); got != tc.want {
				t.Errorf("autoColor(%v, %v) = %v, want %v", tc.terminal, tc.env, got, tc.want)
			}
		})
	}
	if !trueColor(func(string) string { return "truecolor" }) || trueColor(func(string) string { return "" }) {
		t.Errorf("trueColor does not follow COLORTERM")
	}
}

func TestCardColor(t *testing.T) {
	tests := []struct {
		in        string
		trueColor bool
		want      string
	}{
		{"good", false, "32"},
		{"Warning", false, "33"},
		{"danger", false, "31"},
		{"#ff8800", true, "38;2;255;136;0"},
		{"#ff8800", false, "38;5;214"},
		{"#f80", true, "38;2;255;136;0"},
		{"", false, ""},
		{"#zzzzzz", true, ""},
		{"", true, ""},
		// Errbot's names, drawn in the hex the Mattermost backend sends.
		{"blue", true, "38;2;0;0;255"},
		{"Cyan", true, "38;2;0;255;255"},
		{"yellow", true, "38;2;255;165;0"},
		{"white", false, "38;5;231"},
		{"red", false, "38;5;196"},
		{"green", false, "38;5;34"},
		{"purple", true, ""},
	}
	for _, tc := range tests {
		r := newRenderer(true, tc.trueColor, 80)
		if got := r.cardColor(tc.in); got != tc.want {
			t.Errorf("cardColor(%q, trueColor=%v) = %q, want %q", tc.in, tc.trueColor, got, tc.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KB"}, {1600, "1.6 KB"}, {5 << 20, "5.0 MB"}, {3 << 40, "3.0 TB"}, {5 << 50, "5120.0 TB"},
	}
	for _, tc := range tests {
		if got := humanSize(tc.in); got != tc.want {
			t.Errorf("humanSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeNameAndSanitize(t *testing.T) {
	names := map[string]string{
		"report.csv": "report.csv", "../../x": "_.._x", ".hidden": "hidden", "": "file", "..": "file", "a\x1bb": "a_b", `c:\x`: "c:_x",
	}
	for in, want := range names {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := sanitize("a\x1b[2Jb\n\tc\x7f"), "a\uFFFD[2Jb\n    c\uFFFD"; got != want {
		t.Errorf("sanitize = %q, want %q", got, want)
	}
}

func TestCompleter(t *testing.T) {
	be := newTestBackend(t, io.Discard)
	be.prefix = func() string { return "!" }
	be.cmds = func() []bot.CommandInfo {
		return []bot.CommandInfo{{Name: "echo"}, {Name: "deploy rollback"}, {Name: "deploy"}, {Name: "secret", Hidden: true}}
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"/r", []string{"eact ", "oom "}},
		{"!d", []string{"eploy "}},
		{"!s", nil},
		{"/as @b", nil},
	}
	for _, tc := range tests {
		got, n := completer{be}.Do([]rune(tc.in), len([]rune(tc.in)))
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if diff := cmp.Diff(tc.want, gs); diff != "" || (gs != nil && n != len(tc.in)) {
			t.Errorf("Do(%q) = %q, %d (-want +got):\n%s", tc.in, gs, n, diff)
		}
	}
}

// notifyWriter collects output and signals each write.
type notifyWriter struct {
	syncBuffer
	wrote chan struct{} // size 1: a pending signal is enough
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// A message sent while the prompt waits for a line (a scheduled job, a
// late handler) goes on its own line, and the prompt is shown again with
// the id the next message will get.
func TestLateMessageRedrawsPrompt(t *testing.T) {
	ctx := context.Background()
	pr, pw := io.Pipe()
	defer pw.Close()
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	be, err := New(&Options{Input: pr, Output: out, HistoryFile: "-", Color: ColorNever})
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(be, nil, demo{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- e.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	for !strings.HasSuffix(out.String(), "#1 @you › ~town-square: ") {
		<-out.wrote
	}
	ops, _ := be.Room(ctx, "", "ops")
	if err := be.Send(ctx, &bot.Outgoing{RoomID: ops.ID, Text: "late"}); err != nil {
		t.Fatal(err)
	}
	want := "#1 @you › ~town-square: \n#1 ops-bot › ~ops: late\n#2 @you › ~town-square: "
	if got := out.String(); !strings.HasSuffix(got, want) {
		t.Errorf("output = %q, want it to end with %q", got, want)
	}
}

func TestRoomMentions(t *testing.T) {
	be := newTestBackend(t, io.Discard)
	tests := []struct {
		text string
		want []string // room ids
	}{
		{text: "no rooms"},
		{text: "see ~ops, ~eng/ops and ~OPS.", want: []string{"r-ops", "r-eng/ops"}},
		{text: "~ ~/x a~b", want: nil},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range be.roomMentions(tc.text) {
			got = append(got, r.ID)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("roomMentions(%q) mismatch (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestUnreact(t *testing.T) {
	ctx := context.Background()
	var out strings.Builder
	be := newTestBackend(t, &out)
	if err := be.Unreact(ctx, "1", "tada"); !errors.Is(err, bot.ErrUnknown) {
		t.Errorf("Unreact on an unknown message = %v, want ErrUnknown", err)
	}
	room, _ := be.Room(ctx, "", "ops")
	if err := be.Send(ctx, &bot.Outgoing{RoomID: room.ID, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := be.Unreact(ctx, "1", "::"); err == nil {
		t.Errorf("Unreact with an empty emoji = nil, want an error")
	}
	if err := be.Unreact(ctx, "1", ":tada:"); err != nil {
		t.Fatalf("Unreact(1, :tada:) = %v", err)
	}
	if want := " removed :tada: from #1\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output = %q, want it to contain %q", out.String(), want)
	}
}
