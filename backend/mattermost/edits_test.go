package mattermost

import (
	"slices"
	"testing"
)

// TestAnswers: a re-run replaces the old replies in order; the new ones
// beyond are posted anew and kept; the old ones left over are returned
// to delete, unless the re-run replaced none.
func TestAnswers(t *testing.T) {
	var a answers
	a.add("p", "r1")
	a.add("p", "r2")
	a.add("p", "r1") // a replay
	if a.startEdit("other") {
		t.Error("startEdit of a post never answered = true")
	}
	if !a.startEdit("p") {
		t.Fatal("startEdit(p) = false")
	}
	if got := a.take("p"); got != "r1" {
		t.Errorf("first take = %q, want r1", got)
	}
	if stale := a.finishEdit("p"); !slices.Equal(stale, []string{"r2"}) {
		t.Errorf("finishEdit = %q, want r2 to delete", stale)
	}
	// A second re-run with more replies than the first had.
	a.startEdit("p")
	a.take("p")
	if got := a.take("p"); got != "" {
		t.Errorf("take past the old replies = %q, want none: posted anew", got)
	}
	a.add("p", "r3")
	if stale := a.finishEdit("p"); stale != nil {
		t.Errorf("finishEdit = %q, want nothing to delete", stale)
	}
	// A re-run that replaced nothing deletes nothing.
	a.startEdit("p")
	if stale := a.finishEdit("p"); stale != nil {
		t.Errorf("finishEdit after no reply = %q, want nothing", stale)
	}
	if got := a.by["p"].replies; !slices.Equal(got, []string{"r1", "r3"}) {
		t.Errorf("replies = %q, want r1 r3", got)
	}
	for i := range answersKept + 1 {
		a.add("q"+string(rune('a'+i%26))+string(rune(i)), "x")
	}
	if len(a.by) > answersKept || a.by["p"] != nil {
		t.Errorf("%d answers kept, p still there: %v; want at most %d, the oldest dropped", len(a.by), a.by["p"] != nil, answersKept)
	}
}
