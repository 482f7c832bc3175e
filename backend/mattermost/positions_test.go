package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/storage/bolt"
	"github.com/matterbot/matterbot/storage/memory"
)

// TestPositions: a channel's position passes a post once it and every
// post before it are handled, whatever the order they finish in; a post
// cut short holds it; saved positions load again, and old ones are
// forgotten. The store is no bot.Batcher: the positions are one value.
func TestPositions(t *testing.T) {
	ctx := context.Background()
	store := plainStore{memory.New().Store("mattermost:backend")}
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
	want := map[string]postKey{
		"c":              k(30, "c"), // older than 50, but with a post pending
		"d":              k(100, "g"),
		"odd \"id\" é\n": k(200, `p\q<`),
	}
	if diff := cmp.Diff(want, deref(got.Channels)); diff != "" || got.SavedAt != 1000 {
		t.Errorf("saved at %d, want 1000; channels (-want +got):\n%s", got.SavedAt, diff)
	}

	ps2 := newPositions(store)
	savedAt, ok, _, err := ps2.load(ctx)
	if err != nil || !ok || savedAt != 1000 {
		t.Fatalf("load() = %v, %v, %v; want 1000, true", savedAt, ok, err)
	}
	if diff := cmp.Diff(want, ps2.all()); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	if p, ok := ps2.position("d"); !ok || p != k(100, "g") {
		t.Errorf("loaded position of d = %v, %v", p, ok)
	}
	for _, st := range []bot.Store{plainStore{memory.New().Store("x")}, memory.New().Store("x")} {
		if _, ok, _, err := newPositions(st).load(ctx); ok || err != nil {
			t.Errorf("load() of an empty %T = %v, %v; want nothing, no error", st, ok, err)
		}
	}
}

// all returns every channel's position.
func (ps *positions) all() map[string]postKey {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := map[string]postKey{}
	for id, c := range ps.chans {
		if c.done.ID != "" {
			out[id] = c.done
		}
	}
	return out
}

// deref returns m with the values, nil (forgotten) as the zero postKey.
func deref(m map[string]*postKey) map[string]postKey {
	out := map[string]postKey{}
	for id, k := range m {
		if k == nil {
			out[id] = postKey{}
		} else {
			out[id] = *k
		}
	}
	return out
}

// plainStore hides its store's bot.Batcher, as a store without one.
type plainStore struct{ bot.Store }

// countingStore is a bot.Batcher over a memory store that records each
// Batch and the bytes given to Set and Batch, and fails them while fail
// is set.
type countingStore struct {
	bot.Store
	mu      sync.Mutex
	batches [][]bot.Change // guarded by mu
	written int64          // guarded by mu: bytes of keys and values
	fail    error          // guarded by mu
}

func newCountingStore() *countingStore {
	return &countingStore{Store: memory.New().Store("mattermost:backend")}
}

func (s *countingStore) Batch(ctx context.Context, changes []bot.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, slices.Clone(changes))
	for _, c := range changes {
		s.written += int64(len(c.Key) + len(c.Value))
	}
	return s.Store.(bot.Batcher).Batch(ctx, changes)
}

func (s *countingStore) Set(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.written += int64(len(key) + len(value))
	return s.Store.Set(ctx, key, value)
}

func (s *countingStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// saved is what one batch of a save wrote.
type saved struct {
	n       int                // the batch's number, from 1; 0: none yet
	savedAt int64              // the records' stamp
	chans   map[string]postKey // the positions recorded; zero: forgotten
	records []string           // the keys of the records, sorted
	deleted []string           // the keys deleted, sorted
}

// last decodes the last batch.
func (s *countingStore) last(t *testing.T) saved {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := saved{n: len(s.batches), chans: map[string]postKey{}}
	if out.n == 0 {
		return out
	}
	for _, c := range s.batches[out.n-1] {
		if c.Delete {
			out.deleted = append(out.deleted, c.Key)
			continue
		}
		if _, ok := recordNumber(c.Key); !ok {
			t.Fatalf("batch sets %q, not a record", c.Key)
		}
		if len(c.Value) > recordSize+200 {
			t.Errorf("record %s of %d bytes, want about %d at most", c.Key, len(c.Value), recordSize)
		}
		var r savedPositions
		if err := json.Unmarshal(c.Value, &r); err != nil {
			t.Fatalf("record %s: %v", c.Key, err)
		}
		out.records = append(out.records, c.Key)
		out.savedAt = r.SavedAt
		for id, k := range deref(r.Channels) {
			if _, twice := out.chans[id]; twice {
				t.Errorf("channel %s in two records of a batch", id)
			}
			out.chans[id] = k
		}
	}
	slices.Sort(out.records)
	slices.Sort(out.deleted)
	return out
}

// keysOf returns the store's catch-up keys.
func keysOf(t *testing.T, st bot.Store) []string {
	t.Helper()
	keys, err := st.Keys(t.Context(), positionsKey)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// loadAll loads st's positions into new positions, and checks that it
// has want, saved at savedAt, with nbad unreadable.
func loadAll(t *testing.T, st bot.Store, savedAt int64, nbad int, want map[string]postKey) *positions {
	t.Helper()
	ps := newPositions(st)
	at, ok, bad, err := ps.load(t.Context())
	if err != nil || !ok || at != savedAt || bad != nbad {
		t.Fatalf("load() = %v, %v, %d bad, %v; want %d, true, %d bad, nil", at, ok, bad, err, savedAt, nbad)
	}
	if diff := cmp.Diff(want, ps.all()); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	return ps
}

// TestPositionsSaveChanged: over a bot.Batcher, the first save of a run
// writes every position; each save after writes, in one batch, the
// stamp and the channels whose position moved since the last save, not
// the others, and those forgotten, as null; a save with nothing changed
// writes nothing. What is stored loads again, as it was.
func TestPositionsSaveChanged(t *testing.T) {
	ctx := t.Context()
	store := newCountingStore()
	ps := newPositions(store)
	k := func(at int64, id string) postKey { return postKey{At: at, ID: id} }
	const n = 1000
	for i := range n {
		id := fmt.Sprintf("ch%04d", i)
		ps.handled(id, k(100, "p"+id))
	}
	if err := ps.save(ctx, 1000, 0, false); err != nil {
		t.Fatal(err)
	}
	got := store.last(t)
	if got.n != 1 || len(got.chans) != n || got.savedAt != 1000 || !slices.Equal(got.deleted, []string{positionsKey}) {
		t.Fatalf("first save: batch %d of %d channels at %d, deleting %q; want batch 1 of %d at 1000, deleting %q",
			got.n, len(got.chans), got.savedAt, got.deleted, n, positionsKey)
	}
	if len(got.records) < 2 {
		t.Errorf("%d channels in %d records, want records of about %d bytes", n, len(got.records), recordSize)
	}

	// Three channels move: the save writes them only.
	ps.handled("ch0007", k(200, "x"))
	done := ps.start("ch0500", k(200, "y"))
	done(true)
	ps.handled("ch0999", k(200, "z"))
	ps.handled("ch0999", k(150, "older")) // not past its position
	ps.start("ch0001", k(200, "pending")) // not done: no move
	if err := ps.save(ctx, 2000, 0, false); err != nil {
		t.Fatal(err)
	}
	got = store.last(t)
	want := map[string]postKey{"ch0007": k(200, "x"), "ch0500": k(200, "y"), "ch0999": k(200, "z")}
	if diff := cmp.Diff(want, got.chans); diff != "" || len(got.records) != 1 || got.deleted != nil || got.savedAt != 2000 {
		t.Errorf("second save: %d records at %d, deleting %q; channels (-want +got):\n%s", len(got.records), got.savedAt, got.deleted, diff)
	}
	if err := ps.save(ctx, 3000, 0, false); err != nil {
		t.Fatal(err)
	}
	if got := store.last(t); got.n != 2 {
		t.Errorf("a save with nothing changed made batch %d, want none", got.n)
	}
	if err := ps.save(ctx, 3500, 0, true); err != nil {
		t.Fatal(err)
	}
	if got := store.last(t); got.n != 3 || len(got.chans) != 0 || len(got.records) != 1 || got.savedAt != 3500 {
		t.Errorf("a forced save with nothing changed: batch %d of %d channels in %d records at %d; want batch 3, the stamp alone, 3500",
			got.n, len(got.chans), len(got.records), got.savedAt)
	}

	// Forgotten: every channel at 100 without a post pending (ch0001
	// has one). One more moves.
	ps.handled("ch0002", k(300, "w"))
	if err := ps.save(ctx, 4000, 150, false); err != nil {
		t.Fatal(err)
	}
	got = store.last(t)
	forgotten := 0
	for id, p := range got.chans {
		switch {
		case p == (postKey{}):
			forgotten++
		case id != "ch0002":
			t.Errorf("forgetting save recorded %s at %v", id, p)
		}
	}
	if forgotten != n-5 || got.chans["ch0001"] != (postKey{}) && got.chans["ch0001"] != k(100, "pch0001") {
		t.Errorf("forgetting save recorded %d channels forgotten, want %d", forgotten, n-5)
	}
	if _, ok := got.chans["ch0001"]; ok {
		t.Errorf("forgetting save recorded ch0001, which has a post pending")
	}
	want = map[string]postKey{"ch0001": k(100, "pch0001"), "ch0002": k(300, "w"),
		"ch0007": k(200, "x"), "ch0500": k(200, "y"), "ch0999": k(200, "z")}
	loadAll(t, store, 4000, 0, want)
}

// TestPositionsCompact: once the log has grown by what its last
// compaction wrote, or by compactRecords records, a save writes every
// position again and deletes the records before, in one batch; the
// store then holds that compaction's records only.
func TestPositionsCompact(t *testing.T) {
	ctx := t.Context()
	store := newCountingStore()
	ps := newPositions(store)
	k := func(at int64, id string) postKey { return postKey{At: at, ID: id} }
	const n = 2000
	want := map[string]postKey{}
	for i := range n {
		id := fmt.Sprintf("ch%04d", i)
		ps.handled(id, k(100, "p"+id))
		want[id] = k(100, "p"+id)
	}
	if err := ps.save(ctx, 1000, 0, false); err != nil {
		t.Fatal(err)
	}
	base := store.last(t)
	var appended []string
	// A tenth of the channels move each save: the tenth save or so
	// compacts.
	for save := 1; ; save++ {
		for i := range n / 10 {
			id := fmt.Sprintf("ch%04d", (save*n/10+i)%n)
			ps.handled(id, k(int64(100+save), "q"+id))
			want[id] = k(int64(100+save), "q"+id)
		}
		if err := ps.save(ctx, int64(1000+save), 0, false); err != nil {
			t.Fatal(err)
		}
		got := store.last(t)
		if got.deleted == nil {
			if len(got.chans) != n/10 {
				t.Fatalf("save %d recorded %d channels, want %d", save, len(got.chans), n/10)
			}
			appended = append(appended, got.records...)
			if save > 20 {
				t.Fatalf("no compaction in %d saves", save)
			}
			continue
		}
		if diff := cmp.Diff(want, got.chans); diff != "" {
			t.Errorf("compaction (-want +got):\n%s", diff)
		}
		if old := append(append(slices.Clone(base.records), appended...), positionsKey); !slices.Equal(got.deleted, slices.Sorted(slices.Values(old))) {
			t.Errorf("compaction deleted %d keys, want the %d records before and %q", len(got.deleted), len(old)-1, positionsKey)
		}
		if keys := keysOf(t, store); !slices.Equal(keys, got.records) {
			t.Errorf("store holds %d keys after the compaction, want its %d records", len(keys), len(got.records))
		}
		if got.records[0] <= appended[len(appended)-1] {
			t.Errorf("compaction's first record %s, want after %s", got.records[0], appended[len(appended)-1])
		}
		t.Logf("save %d compacted: %d records, %d before", save, len(got.records), len(got.deleted)-1)
		loadAll(t, store, int64(1000+save), 0, want)
		break
	}

	// A small world: compactRecords records before a compaction.
	store = newCountingStore()
	ps = newPositions(store)
	var compacted []int
	for i := 1; i <= 2*compactRecords+3; i++ {
		ps.handled("c", k(int64(i), "p"))
		if err := ps.save(ctx, int64(i), 0, false); err != nil {
			t.Fatal(err)
		}
		if store.last(t).deleted != nil {
			compacted = append(compacted, i)
		}
	}
	if want := []int{1, compactRecords + 2, 2*compactRecords + 3}; !slices.Equal(compacted, want) {
		t.Errorf("saves of one channel compacted at %v, want %v", compacted, want)
	}
}

// TestPositionsSaveFails: a save that fails keeps what it was to write
// (moved channels, forgotten ones, a forced stamp) for the next save.
func TestPositionsSaveFails(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			ctx := t.Context()
			cs := newCountingStore()
			var store bot.Store = cs
			if plain {
				store = plainStore{cs}
			}
			ps := newPositions(store)
			k := func(at int64, id string) postKey { return postKey{At: at, ID: id} }
			ps.handled("old", k(10, "o"))
			ps.handled("a", k(100, "a"))
			if err := ps.save(ctx, 1000, 0, false); err != nil {
				t.Fatal(err)
			}

			boom := errors.New("disk full")
			cs.setFail(boom)
			ps.handled("a", k(200, "a2"))
			ps.handled("b", k(200, "b"))
			if err := ps.save(ctx, 2000, 50, false); !errors.Is(err, boom) {
				t.Fatalf("save on a failing store = %v, want %v", err, boom)
			}
			ps.handled("c", k(300, "c")) // moved meanwhile
			if err := ps.save(ctx, 2500, 50, true); !errors.Is(err, boom) {
				t.Fatalf("forced save on a failing store = %v, want %v", err, boom)
			}
			cs.setFail(nil)
			if err := ps.save(ctx, 3000, 50, false); err != nil {
				t.Fatal(err)
			}
			want := map[string]postKey{"a": k(200, "a2"), "b": k(200, "b"), "c": k(300, "c")}
			if !plain {
				got := store.(*countingStore).last(t)
				if diff := cmp.Diff(map[string]postKey{"a": k(200, "a2"), "b": k(200, "b"), "c": k(300, "c"), "old": {}}, got.chans); diff != "" {
					t.Errorf("save after failures (-want +got):\n%s", diff)
				}
			}
			loadAll(t, store, 3000, 0, want)

			// A forced save of nothing changed that fails is owed: the
			// next save writes the stamp, though nothing moved.
			cs.setFail(boom)
			if err := ps.save(ctx, 4000, 50, true); !errors.Is(err, boom) {
				t.Fatalf("forced save on a failing store = %v, want %v", err, boom)
			}
			cs.setFail(nil)
			if err := ps.save(ctx, 5000, 50, false); err != nil {
				t.Fatal(err)
			}
			loadAll(t, store, 5000, 0, want)
		})
	}
}

// TestPositionsUpgrade: positions saved as one value by an earlier
// version (a store without bot.Batcher writes it still) load into a
// version over a bot.Batcher, whose first save writes every position in
// records and deletes the value in the same batch. Records the value
// was written after (a downgrade, then this upgrade) are read first,
// and a record that cannot be read is left out; both go too.
func TestPositionsUpgrade(t *testing.T) {
	ctx := t.Context()
	store := newCountingStore()
	k := func(at int64, id string) postKey { return postKey{At: at, ID: id} }
	old := newPositions(plainStore{store})
	old.handled("a", k(100, "a"))
	old.handled("b", k(200, "b"))
	if err := old.save(ctx, 1000, 0, false); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{
		recordKey(5):         `{"saved_at":900,"channels":{"b":{"at":150,"id":"b0"},"c":{"at":50,"id":"c"},"d":{"at":60,"id":"d"}}}`,
		recordKey(6):         `{"saved_at":950,"channels":{"d":null}}`,
		recordKey(7):         `{`,
		positionPrefix + "x": `{"saved_at":990,"channels":{}}`,
	} {
		if err := store.Set(ctx, key, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]postKey{"a": k(100, "a"), "b": k(200, "b"), "c": k(50, "c")}
	ps := loadAll(t, store, 1000, 2, want)
	// Nothing moved; the first save of a run, forced (as the catch-up
	// at start does), compacts.
	if err := ps.save(ctx, 2000, 0, true); err != nil {
		t.Fatal(err)
	}
	got := store.last(t)
	if diff := cmp.Diff(want, got.chans); diff != "" {
		t.Errorf("first save (-want +got):\n%s", diff)
	}
	wantDeleted := []string{positionsKey, recordKey(5), recordKey(6), recordKey(7), positionPrefix + "x"}
	slices.Sort(wantDeleted)
	if !slices.Equal(got.deleted, wantDeleted) {
		t.Errorf("first save deleted %q, want %q", got.deleted, wantDeleted)
	}
	if keys := keysOf(t, store); !slices.Equal(keys, []string{recordKey(8)}) {
		t.Errorf("store holds %q, want %q", keys, recordKey(8))
	}
	ps2 := loadAll(t, store, 2000, 0, want)
	if err := ps2.save(ctx, 3000, 0, false); err != nil {
		t.Fatal(err)
	}
	if got := store.last(t); got.n != 1 {
		t.Errorf("a save with nothing moved wrote (batch %d)", got.n)
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

// BenchmarkPositionsSave: saves of a bot in 10,000 channels, some of
// which moved since the last save, to a bbolt file: as one value (a
// store without bot.Batcher, the format before the log) and as a log.
// page-B/save is what bbolt wrote to the file (its meta page aside),
// store-B/save what the save gave the store (keys and values), both
// with the compactions spread over the saves.
func BenchmarkPositionsSave(b *testing.B) {
	const chans = 10000
	for _, moved := range []int{10, 300} {
		for _, plain := range []bool{true, false} {
			name := fmt.Sprintf("moved=%d/log", moved)
			if plain {
				name = fmt.Sprintf("moved=%d/one-value", moved)
			}
			b.Run(name, func(b *testing.B) {
				s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), &bolt.Options{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				cs := &countingStore{Store: s.Store("backend:mattermost")}
				var st bot.Store = cs
				if plain {
					st = plainStore{cs}
				}
				ps := newPositions(st)
				ids := make([]string, chans)
				for i := range ids {
					ids[i] = fmt.Sprintf("%026d", i) // a channel id's length
					ps.handled(ids[i], postKey{At: 1, ID: ids[i]})
				}
				ctx := b.Context()
				if err := ps.save(ctx, 1, 0, false); err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				at := int64(1)
				cs.written, cs.batches = 0, nil
				pages := s.PageBytes()
				b.ReportAllocs()
				for b.Loop() {
					at++
					for range moved {
						id := ids[rng.IntN(chans)]
						ps.handled(id, postKey{At: at, ID: id})
					}
					if err := ps.save(ctx, at, 0, false); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cs.written)/float64(b.N), "store-B/save")
				b.ReportMetric(float64(s.PageBytes()-pages)/float64(b.N), "page-B/save")
			})
		}
	}
}
