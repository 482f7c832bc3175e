package mattermost

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/storage/memory"
)

// TestPositions: a channel's position passes a post once it and every
// post before it are handled, whatever the order they finish in; a post
// cut short holds it; saved positions load again, and old ones are
// forgotten.
func TestPositions(t *testing.T) {
	ctx := context.Background()
	store := memory.New().Store("mattermost:backend")
	ps := newPositions(store)
	k := func(at int64, id string) postKey { return postKey{At: at, ID: id} }
	pos := func(ch string) postKey {
		t.Helper()
		p, _ := ps.position(ch)
		return p
	}

	d1 := ps.start("c", k(10, "a"))
	d2 := ps.start("c", k(20, "b"))
	ps.handled("c", k(15, "x")) // not a command, between the two
	d3 := ps.start("c", k(30, "c"))
	if _, ok := ps.position("c"); ok {
		t.Fatalf("position before anything is done = %v, want none", pos("c"))
	}
	d2(true)
	d3(true)
	if got := pos("c"); got != (postKey{}) {
		t.Errorf("position with the first post pending = %v, want none", got)
	}
	d1(true)
	d1(true) // a second call changes nothing
	if got, want := pos("c"), k(30, "c"); got != want {
		t.Errorf("position = %v, want %v", got, want)
	}

	cut := ps.start("c", k(40, "d"))
	d5 := ps.start("c", k(50, "e"))
	cut(false)
	d5(true)
	ps.handled("c", k(60, "f"))
	if got, want := pos("c"), k(30, "c"); got != want {
		t.Errorf("position after a post cut short = %v, want %v, before it", got, want)
	}
	ps.handled("old", k(5, "o"))
	ps.handled("d", k(100, "g"))
	ps.handled("odd \"id\" é\n", k(200, `p\q<`)) // not an id: quoted as JSON does

	if err := ps.save(ctx, 1000, 50, false); err != nil {
		t.Fatal(err)
	}
	got, err := bot.GetJSON[savedPositions](ctx, store, positionsKey)
	if err != nil {
		t.Fatal(err)
	}
	want := savedPositions{SavedAt: 1000, Channels: map[string]postKey{
		"c":              k(30, "c"), // older than 50, but with a post pending
		"d":              k(100, "g"),
		"odd \"id\" é\n": k(200, `p\q<`),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("saved (-want +got):\n%s", diff)
	}

	ps2 := newPositions(store)
	loaded, ok, err := ps2.load(ctx)
	if err != nil || !ok {
		t.Fatalf("load() = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, loaded); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	if p, ok := ps2.position("d"); !ok || p != k(100, "g") {
		t.Errorf("loaded position of d = %v, %v", p, ok)
	}
	if _, ok, err := newPositions(memory.New().Store("x")).load(ctx); ok || err != nil {
		t.Errorf("load() of an empty store = %v, %v; want nothing, no error", ok, err)
	}
}

// TestAppendJSONString: the positions' encoder quotes as encoding/json
// does, ids and anything else.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "eofczhjqg7d4pd5iz5pcjmmjfo", "a-b_C9", `a"b`, `a\b`, "é", "a\nb", "a<b>&", "\x00"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}
