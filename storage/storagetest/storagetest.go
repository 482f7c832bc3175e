// Package storagetest is the conformance suite every bot.Storage
// implementation must pass, and benchmarks that compare them. An engine's
// test file runs it with a function that opens a fresh, empty storage:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) bot.Storage { return memory.New() })
//	}
//
// Beyond the bot.Store contract the suite fixes what the contract leaves
// open, so that plugins behave the same on every engine: an empty key is
// invalid; an empty value is a value (distinct from absent); keys and values
// are arbitrary bytes; returned values are copies; Close is idempotent and
// later calls fail with an error, never a panic. A store that implements
// bot.Batcher is checked for it too: all or nothing, the last change of a
// key winning.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
)

// Run checks that the storages made by open behave as bot.Storage says.
// open must return a new, empty storage each time; Run closes it.
func Run(t *testing.T, open func(t *testing.T) bot.Storage) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.Storage)
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"EmptyValue", testEmptyValue},
		{"BinaryKeysAndValues", testBinary},
		{"Copies", testCopies},
		{"Delete", testDelete},
		{"Keys", testKeys},
		{"Namespaces", testNamespaces},
		{"SameStoreTwice", testSameStoreTwice},
		{"InvalidKey", testInvalidKey},
		{"Update", testUpdate},
		{"UpdateReentrant", testUpdateReentrant},
		{"UpdateConcurrent", testUpdateConcurrent},
		{"ConcurrentReadWrite", testConcurrentReadWrite},
		{"Canceled", testCanceled},
		{"Close", testClose},
		{"Batch", testBatch},
		{"BatchAtomic", testBatchAtomic},
		{"BatchConcurrent", testBatchConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() }) // idempotent, checked in Close
			tc.fn(t, s)
		})
	}
}

func mustSet(t *testing.T, st bot.Store, key, value string) {
	t.Helper()
	if err := st.Set(t.Context(), key, []byte(value)); err != nil {
		t.Fatalf("Set(%q, %q) = %v", key, value, err)
	}
}

// wantValue checks that key holds value.
func wantValue(t *testing.T, st bot.Store, key, value string) {
	t.Helper()
	got, err := st.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q) = %v, want %q", key, err, value)
	}
	if string(got) != value {
		t.Errorf("Get(%q) = %q, want %q", key, got, value)
	}
}

// wantMissing checks that key is absent.
func wantMissing(t *testing.T, st bot.Store, key string) {
	t.Helper()
	got, err := st.Get(t.Context(), key)
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want an error wrapping bot.ErrNotFound", key, got, err)
	}
}

func wantKeys(t *testing.T, st bot.Store, prefix string, want ...string) {
	t.Helper()
	got, err := st.Keys(t.Context(), prefix)
	if err != nil {
		t.Fatalf("Keys(%q) = %v", prefix, err)
	}
	if len(want) == 0 {
		want = nil
	}
	if len(got) == 0 {
		got = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keys(%q) mismatch (-want +got):\n%s", prefix, diff)
	}
}

func testGetMissing(t *testing.T, s bot.Storage) {
	wantMissing(t, s.Store("p"), "nope")
}

func testSetGet(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	mustSet(t, st, "k", "v1")
	wantValue(t, st, "k", "v1")
	mustSet(t, st, "k", "v2")
	wantValue(t, st, "k", "v2")
}

func testEmptyValue(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	for _, v := range [][]byte{nil, {}} {
		if err := st.Set(t.Context(), "k", v); err != nil {
			t.Fatalf("Set(k, %#v) = %v", v, err)
		}
		got, err := st.Get(t.Context(), "k")
		if err != nil || len(got) != 0 {
			t.Errorf("Get(k) after Set(k, %#v) = %q, %v; want an empty value", v, got, err)
		}
		wantKeys(t, st, "", "k")
	}
}

func testBinary(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	key := "k\x00\xff\n é"
	val := "\x00\x01\xfe\xff"
	mustSet(t, st, key, val)
	wantValue(t, st, key, val)
	wantKeys(t, st, "k\x00", key)
	long := string(bytes.Repeat([]byte("x"), 32<<10)) // bbolt's MaxKeySize
	mustSet(t, st, long, "v")
	wantValue(t, st, long, "v")
}

// testCopies checks that neither the caller's slice given to Set nor the
// slice returned by Get aliases the stored value.
func testCopies(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	in := []byte("abc")
	if err := st.Set(t.Context(), "k", in); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X'
	got, err := st.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	got[1] = 'Y'
	wantValue(t, st, "k", "abc")
}

func testDelete(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	mustSet(t, st, "k", "v")
	mustSet(t, st, "k2", "v")
	if err := st.Delete(t.Context(), "k"); err != nil {
		t.Fatalf("Delete(k) = %v", err)
	}
	wantMissing(t, st, "k")
	wantValue(t, st, "k2", "v")
	if err := st.Delete(t.Context(), "k"); err != nil {
		t.Errorf("Delete(k) of an absent key = %v, want nil", err)
	}
	if err := s.Store("never-written").Delete(t.Context(), "k"); err != nil {
		t.Errorf("Delete in an empty store = %v, want nil", err)
	}
}

func testKeys(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	wantKeys(t, st, "")
	for _, k := range []string{"b", "a/2", "a", "a/1", "ab", "a/10", "c\xff"} {
		mustSet(t, st, k, "v")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a", "a/1", "a/10", "a/2", "ab", "b", "c\xff"}}, // byte order
		{"a", []string{"a", "a/1", "a/10", "a/2", "ab"}},
		{"a/", []string{"a/1", "a/10", "a/2"}},
		{"a/1", []string{"a/1", "a/10"}},
		{"c", []string{"c\xff"}},
		{"c\xff", []string{"c\xff"}},
		{"d", nil},
		{"0", nil},
	}
	for _, tc := range tests {
		wantKeys(t, st, tc.prefix, tc.want...)
	}
	wantKeys(t, s.Store("other"), "")
}

func testNamespaces(t *testing.T, s bot.Storage) {
	// "a" and "ab" must not share keys even though one name prefixes the
	// other, nor "a/b"+"c" and "a"+"b/c" in an engine that joins names.
	a, ab := s.Store("a"), s.Store("ab")
	mustSet(t, a, "k", "from a")
	mustSet(t, ab, "k", "from ab")
	mustSet(t, a, "bk", "from a")
	wantValue(t, a, "k", "from a")
	wantValue(t, ab, "k", "from ab")
	wantMissing(t, ab, "bk")
	wantKeys(t, a, "", "bk", "k")
	wantKeys(t, ab, "", "k")

	x, y := s.Store("x/y"), s.Store("x")
	mustSet(t, x, "z", "1")
	wantMissing(t, y, "y/z")
	wantMissing(t, y, "z")
	wantKeys(t, y, "")

	if err := ab.Delete(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, a, "k", "from a")
}

func testSameStoreTwice(t *testing.T, s bot.Storage) {
	mustSet(t, s.Store("p"), "k", "v")
	wantValue(t, s.Store("p"), "k", "v")
}

func testInvalidKey(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	ctx := t.Context()
	if err := st.Set(ctx, "", []byte("v")); err == nil {
		t.Errorf("Set(\"\") = nil, want an error")
	}
	if err := st.Update(ctx, "", func([]byte, bool) ([]byte, error) { return []byte("v"), nil }); err == nil {
		t.Errorf("Update(\"\") = nil, want an error")
	}
	if _, err := st.Get(ctx, ""); err == nil {
		t.Errorf("Get(\"\") = nil error, want one")
	}
	tooLong := string(bytes.Repeat([]byte("x"), 32<<10+1))
	if err := st.Set(ctx, tooLong, []byte("v")); err == nil {
		t.Errorf("Set(32 KiB + 1 key) = nil, want an error")
	}
	wantKeys(t, st, "")
}

func testUpdate(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	ctx := t.Context()
	type call struct {
		Old    string
		Exists bool
	}
	var calls []call
	update := func(ret []byte, retErr error) error {
		calls = nil
		return st.Update(ctx, "k", func(old []byte, exists bool) ([]byte, error) {
			calls = append(calls, call{string(old), exists})
			return ret, retErr
		})
	}

	if err := update([]byte("v1"), nil); err != nil {
		t.Fatalf("Update creating k = %v", err)
	}
	if diff := cmp.Diff([]call{{"", false}}, calls); diff != "" {
		t.Errorf("fn calls creating k (-want +got):\n%s", diff)
	}
	wantValue(t, st, "k", "v1")

	if err := update([]byte("v2"), nil); err != nil {
		t.Fatalf("Update replacing k = %v", err)
	}
	if diff := cmp.Diff([]call{{"v1", true}}, calls); diff != "" {
		t.Errorf("fn calls replacing k (-want +got):\n%s", diff)
	}
	wantValue(t, st, "k", "v2")

	boom := errors.New("boom")
	if err := update([]byte("v3"), boom); !errors.Is(err, boom) {
		t.Errorf("Update with a failing fn = %v, want %v", err, boom)
	}
	wantValue(t, st, "k", "v2")

	if err := update([]byte{}, nil); err != nil {
		t.Fatalf("Update to an empty value = %v", err)
	}
	wantValue(t, st, "k", "")
	wantKeys(t, st, "", "k")

	if err := update(nil, nil); err != nil {
		t.Fatalf("Update deleting k = %v", err)
	}
	wantMissing(t, st, "k")
	if err := update(nil, nil); err != nil {
		t.Fatalf("Update deleting an absent k = %v", err)
	}
	wantMissing(t, st, "k")

	// The old value handed to fn is the caller's to keep or change.
	mustSet(t, st, "k", "abc")
	var kept []byte
	err := st.Update(ctx, "k", func(old []byte, _ bool) ([]byte, error) {
		kept = old
		old[0] = 'X'
		return []byte("new"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(kept) != "Xbc" {
		t.Errorf("old value changed after Update returned: %q, want %q", kept, "Xbc")
	}
	wantValue(t, st, "k", "new")
}

// testUpdateReentrant checks that fn may use the store (other keys, and
// other plugins' stores) without deadlocking.
func testUpdateReentrant(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	mustSet(t, st, "other", "o")
	err := st.Update(t.Context(), "k", func([]byte, bool) ([]byte, error) {
		v, err := st.Get(t.Context(), "other")
		if err != nil {
			return nil, err
		}
		if _, err := s.Store("q").Keys(t.Context(), ""); err != nil {
			return nil, err
		}
		return append(v, '!'), nil
	})
	if err != nil {
		t.Fatalf("Update with a reading fn = %v", err)
	}
	wantValue(t, st, "k", "o!")
}

// testUpdateConcurrent increments one counter from many goroutines: with
// an atomic Update no increment is lost.
func testUpdateConcurrent(t *testing.T, s bot.Storage) {
	const workers, each = 8, 25
	st := s.Store("p")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := st.Update(t.Context(), "n", func(old []byte, exists bool) ([]byte, error) {
					n := 0
					if exists {
						var err error
						if n, err = strconv.Atoi(string(old)); err != nil {
							return nil, err
						}
					}
					return strconv.AppendInt(nil, int64(n+1), 10), nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update = %v", err)
	}
	wantValue(t, st, "n", strconv.Itoa(workers*each))
}

func testConcurrentReadWrite(t *testing.T, s bot.Storage) {
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			st := s.Store(fmt.Sprintf("plugin%d", w%3))
			for i := range 20 {
				k := fmt.Sprintf("w%d/k%d", w, i)
				if err := st.Set(t.Context(), k, []byte(k)); err != nil {
					t.Errorf("Set(%q) = %v", k, err)
					return
				}
				if got, err := st.Get(t.Context(), k); err != nil || string(got) != k {
					t.Errorf("Get(%q) = %q, %v", k, got, err)
				}
				if _, err := st.Keys(t.Context(), fmt.Sprintf("w%d/", w)); err != nil {
					t.Errorf("Keys = %v", err)
				}
			}
		})
	}
	wg.Wait()
	for p := range 3 {
		keys, err := s.Store(fmt.Sprintf("plugin%d", p)).Keys(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for w := range workers {
			if w%3 == p {
				want += 20
			}
		}
		if len(keys) != want {
			t.Errorf("plugin%d has %d keys, want %d", p, len(keys), want)
		}
	}
}

func testCanceled(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	mustSet(t, st, "k", "v")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	ops := map[string]error{}
	_, ops["Get"] = st.Get(ctx, "k")
	ops["Set"] = st.Set(ctx, "k", []byte("changed"))
	ops["Delete"] = st.Delete(ctx, "k")
	_, ops["Keys"] = st.Keys(ctx, "")
	ops["Update"] = st.Update(ctx, "k", func([]byte, bool) ([]byte, error) { called = true; return nil, nil })
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		if !errors.Is(ops[op], context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", op, ops[op])
		}
	}
	if called {
		t.Errorf("Update with a canceled context called fn")
	}
	wantValue(t, st, "k", "v")
}

func testClose(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	mustSet(t, st, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	ctx := t.Context()
	if _, err := st.Get(ctx, "k"); err == nil || errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Get after Close = %v, want an error other than ErrNotFound", err)
	}
	if err := st.Set(ctx, "k", []byte("v")); err == nil {
		t.Errorf("Set after Close = nil, want an error")
	}
	if err := st.Delete(ctx, "k"); err == nil {
		t.Errorf("Delete after Close = nil, want an error")
	}
	if _, err := st.Keys(ctx, ""); err == nil {
		t.Errorf("Keys after Close = nil, want an error")
	}
	if err := st.Update(ctx, "k", func([]byte, bool) ([]byte, error) { return nil, nil }); err == nil {
		t.Errorf("Update after Close = nil, want an error")
	}
	if _, err := s.Store("new").Get(ctx, "k"); err == nil || errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Get on a store opened after Close = %v, want an error other than ErrNotFound", err)
	}
}

// batcher returns st's bot.Batcher, or skips the test.
func batcher(t *testing.T, st bot.Store) bot.Batcher {
	t.Helper()
	b, ok := st.(bot.Batcher)
	if !ok {
		t.Skip("the store does not implement bot.Batcher")
	}
	return b
}

func testBatch(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	b := batcher(t, st)
	ctx := t.Context()
	mustSet(t, st, "gone", "v")
	mustSet(t, st, "kept", "v")
	in := []byte("abc")
	err := b.Batch(ctx, []bot.Change{
		{Key: "a", Value: in},
		{Key: "gone", Delete: true},
		{Key: "never", Delete: true}, // absent: not an error
		{Key: "", Delete: true},      // cannot exist: not an error
		{Key: "twice", Value: []byte("1")},
		{Key: "twice", Value: []byte("2")},
		{Key: "empty", Value: nil},
		{Key: "set then deleted", Value: []byte("x")},
		{Key: "set then deleted", Delete: true, Value: []byte("ignored")},
	})
	if err != nil {
		t.Fatalf("Batch = %v", err)
	}
	in[0] = 'X' // the store keeps no alias
	wantValue(t, st, "a", "abc")
	wantValue(t, st, "twice", "2")
	wantValue(t, st, "empty", "")
	wantValue(t, st, "kept", "v")
	wantMissing(t, st, "gone")
	wantKeys(t, st, "", "a", "empty", "kept", "twice")
	if err := b.Batch(ctx, nil); err != nil {
		t.Errorf("Batch(nil) = %v", err)
	}
	wantKeys(t, s.Store("other"), "")

	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Batch(ctx, []bot.Change{{Key: "a", Value: []byte("changed")}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Batch with a canceled context = %v, want context.Canceled", err)
	}
	wantValue(t, st, "a", "abc")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Batch(t.Context(), []bot.Change{{Key: "a", Value: []byte("v")}}); err == nil {
		t.Errorf("Batch after Close = nil, want an error")
	}
}

// testBatchAtomic: a batch with one bad change stores none of them.
func testBatchAtomic(t *testing.T, s bot.Storage) {
	st := s.Store("p")
	b := batcher(t, st)
	mustSet(t, st, "old", "v")
	tooLong := string(bytes.Repeat([]byte("x"), 32<<10+1))
	for _, bad := range []bot.Change{{Key: "", Value: []byte("v")}, {Key: tooLong, Value: []byte("v")}} {
		err := b.Batch(t.Context(), []bot.Change{
			{Key: "new", Value: []byte("v")},
			{Key: "old", Delete: true},
			bad,
			{Key: "after", Value: []byte("v")},
		})
		if err == nil {
			t.Errorf("Batch with a key of %d bytes = nil, want an error", len(bad.Key))
		}
		wantKeys(t, st, "", "old")
	}
}

// testBatchConcurrent: batches and single writes at once all land.
func testBatchConcurrent(t *testing.T, s bot.Storage) {
	const workers = 8
	st := s.Store("p")
	b := batcher(t, st)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range 10 {
				k := fmt.Sprintf("w%d/k%d", w, i)
				if w%2 == 0 {
					if err := st.Set(t.Context(), k, []byte(k)); err != nil {
						t.Errorf("Set(%q) = %v", k, err)
					}
					continue
				}
				err := b.Batch(t.Context(), []bot.Change{{Key: k, Value: []byte(k)}, {Key: k + "/2", Value: []byte(k)}})
				if err != nil {
					t.Errorf("Batch(%q) = %v", k, err)
				}
			}
		})
	}
	wg.Wait()
	keys, err := st.Keys(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := workers / 2 * 10 * 3; len(keys) != want {
		t.Errorf("%d keys after the writes, want %d", len(keys), want)
	}
}
