package errbotport_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/examples/errbotport"
	"github.com/matterbot/matterbot/storage/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newBot(t *testing.T, st bot.Storage, table map[string]any) *bottest.Bot {
	t.Helper()
	opts := &bot.Options{Storage: st}
	if table != nil {
		opts.PluginConfig = map[string]any{"Notes": table}
	}
	return bottest.NewWithOptions(t, opts, &errbotport.Notes{})
}

// say runs the lines in order and returns the text of each one's replies.
func say(b *bottest.Bot, lines ...string) [][]string {
	var out [][]string
	for _, l := range lines {
		out = append(out, bottest.Texts(b.Say(l)))
	}
	return out
}

// TestNotes is contrib/errbotshim/tests/test_examples.py's NotesTest:
// the port answers as the Errbot plugin does.
func TestNotes(t *testing.T) {
	b := newBot(t, memory.New(), nil)
	got := say(b, "!note list", "!note add buy milk --tag home", `!note add call “bob”`,
		"!note list", "!note list home", "!note del 4", "!note del 1", "!note list")
	want := [][]string{
		{"No notes."},
		{"Noted (1)."},
		{"Noted (2)."},
		{"- 1. buy milk [home]\n- 2. call bob"},
		{"- 1. buy milk [home]"},
		{"There is no note 4."},
		{"Deleted: buy milk"},
		{"- 1. call bob"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("replies (-want +got):\n%s", d)
	}
}

func TestNotesConfig(t *testing.T) {
	b := newBot(t, memory.New(), map[string]any{"MAX_NOTES": 1, "BULLET": "*"})
	got := say(b, "!note add one", "!note add two", "!note list")
	want := [][]string{{"Noted (1)."}, {"I keep 1 notes at most."}, {"* 1. one"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("replies (-want +got):\n%s", d)
	}
}

// TestNotesStoredAsErrbotPlugin checks the store holds what the Errbot
// plugin, run by the shim, stores: the same key and JSON, so either can
// take over from the other.
func TestNotesStoredAsErrbotPlugin(t *testing.T) {
	st := memory.New()
	b := newBot(t, st, nil)
	b.Say("!note add buy milk --tag home")
	b.Stop()
	s := st.Store("Notes")
	raw, err := s.Get(context.Background(), "notes")
	if err != nil {
		t.Fatal(err)
	}
	// As tests/test_examples.py reads it from the shim's store.set.
	want := `[{"text":"buy milk","tag":"home","by":"@alice"}]`
	if string(raw) != want {
		t.Errorf("store notes = %s, want %s", raw, want)
	}
	// And the other way: a list the Errbot plugin wrote is read back.
	if err := s.Set(context.Background(), "notes", []byte(`[{"text": "from python", "tag": "", "by": "@bob"}]`)); err != nil {
		t.Fatal(err)
	}
	b = newBot(t, st, nil)
	if got := bottest.Texts(b.Say("!note list")); !cmp.Equal(got, []string{"- 1. from python"}) {
		t.Errorf("!note list = %q, want the note the Errbot plugin stored", got)
	}
}

// TestNotesBadArguments: where Errbot's argparse answers "I couldn't
// parse the arguments; argument index: invalid int value: 'x'" and the
// usage, matterbot's typed arguments answer the problem and the usage.
func TestNotesBadArguments(t *testing.T) {
	b := newBot(t, memory.New(), nil)
	got := bottest.Texts(b.Say("!note del x"))
	want := []string{"`!note del`: <index>: \"x\" is not a whole number.\nUsage: `!note del <index>`"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("!note del x (-want +got):\n%s", d)
	}
}
