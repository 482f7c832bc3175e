package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bbolt "go.etcd.io/bbolt"
	bbolterrors "go.etcd.io/bbolt/errors"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/storage/bolt"
	"github.com/matterbot/matterbot/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// open opens a fresh database in a temporary directory.
func open(t testing.TB, opts *bolt.Options) *bolt.Storage {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) bot.Storage { return open(t, nil) })
}

func BenchmarkStorage(b *testing.B) {
	b.Run("sync", func(b *testing.B) {
		storagetest.Bench(b, func(b *testing.B) bot.Storage { return open(b, nil) })
	})
	b.Run("nosync", func(b *testing.B) {
		storagetest.Bench(b, func(b *testing.B) bot.Storage { return open(b, &bolt.Options{NoSync: true}) })
	})
}

// TestReopen checks that data survives a restart, and the file's mode.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Store("karma").Set(ctx, "alice", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := s.Store("other").Set(ctx, "alice", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode = %v, want 0600", mode)
	}

	s, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	defer s.Close()
	if got, err := s.Store("karma").Get(ctx, "alice"); err != nil || string(got) != "3" {
		t.Errorf("Get after reopen = %q, %v; want \"3\"", got, err)
	}
	if keys, err := s.Store("karma").Keys(ctx, ""); err != nil || len(keys) != 1 {
		t.Errorf("Keys after reopen = %q, %v; want [alice]", keys, err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

// TestOpenLocked checks that a file held by another opener is a clear
// error after the timeout instead of a hang. bbolt polls the lock with
// time.Sleep, so the wait runs on synctest's fake clock.
func TestOpenLocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bot.db")
		first, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()

		start := time.Now()
		second, err := bolt.Open(path, &bolt.Options{Timeout: 3 * time.Second})
		if err == nil {
			second.Close()
			t.Fatal("second Open of a locked file succeeded")
		}
		if !errors.Is(err, bolt.ErrLocked) || !strings.Contains(err.Error(), path) {
			t.Errorf("second Open = %v, want ErrLocked naming %s", err, path)
		}
		if waited := time.Since(start); waited < 2*time.Second || waited > 4*time.Second {
			t.Errorf("second Open gave up after %v, want about 3s", waited)
		}
	})
}

// TestOpenBadFile checks that unusable files give an error naming the
// file, never a panic and never a silently empty store.
func TestOpenBadFile(t *testing.T) {
	// valid writes a real database holding some data and returns its bytes.
	valid := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "valid.db")
		s, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			if err := s.Store("p").Set(t.Context(), strings.Repeat("k", i+1), bytes.Repeat([]byte("v"), 100)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	garbage := func(n int) []byte {
		r := rand.New(rand.NewPCG(1, 2))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	pageSize := os.Getpagesize()

	tests := []struct {
		name    string
		content func(t *testing.T) []byte
		want    error
	}{
		{"garbage", func(*testing.T) []byte { return garbage(64 << 10) }, bolt.ErrCorrupt},
		{"text file", func(*testing.T) []byte { return []byte("backend = \"mattermost\"\n") }, bolt.ErrCorrupt},
		{"truncated", func(t *testing.T) []byte { return valid(t)[:pageSize/2] }, bolt.ErrCorrupt},
		{"damaged pages", func(t *testing.T) []byte {
			b := valid(t)
			copy(b[2*pageSize:], garbage(len(b)-2*pageSize)) // keep the two meta pages
			return b
		}, bolt.ErrCorrupt},
		{"both meta pages damaged", func(t *testing.T) []byte {
			b := valid(t)
			copy(b[16:], garbage(2*pageSize-16))
			return b
		}, bolt.ErrCorrupt},
		{"newer layout", func(t *testing.T) []byte {
			path := filepath.Join(t.TempDir(), "newer.db")
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				m, err := tx.CreateBucket([]byte("meta"))
				if err != nil {
					return err
				}
				return m.Put([]byte("format"), []byte("99"))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.db")
			content := tc.content(t)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(path, nil)
			if err == nil {
				// bbolt may open a file whose data pages are damaged; the
				// damage must then show as an error on first use.
				defer s.Close()
				_, err = s.Store("p").Get(t.Context(), "k")
				if err == nil || errors.Is(err, bot.ErrNotFound) {
					t.Fatalf("Open and Get of a %s file = %v, want an error", tc.name, err)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
			t.Logf("%s: %v", tc.name, err)
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, content) {
				t.Errorf("opening a bad file changed it")
			}
		})
	}
}

func TestOpenMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "bot.db")
	_, err := bolt.Open(path, nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(%q) = %v, want a not-exist error naming the file", path, err)
	}
}

func TestEmptyPluginName(t *testing.T) {
	s := open(t, nil)
	if err := s.Store("").Set(t.Context(), "k", []byte("v")); err == nil {
		t.Errorf("Set in the store of plugin \"\" = nil, want an error")
	}
}

// TestDamagedLeafPage damages only the page holding one key, so Open
// succeeds and the damage shows when that key is read: bbolt panics there,
// and the store must turn the panic into an error and stay usable.
func TestDamagedLeafPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	marker := strings.Repeat("M", 64)
	st := s.Store("p")
	for i := range 300 {
		if err := st.Set(t.Context(), fmt.Sprintf("%s%03d", marker, i), bytes.Repeat([]byte("v"), 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	at := bytes.LastIndex(b, []byte(marker+"299"))
	if at < 0 {
		t.Fatal("key not found in the file")
	}
	page := at / pageSize * pageSize
	for i := page + 8; i < page+16; i++ { // the page header's flags and count
		b[i] = 0xEE
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open with a damaged leaf page = %v, want success (the damage is elsewhere)", err)
	}
	defer s.Close()
	_, err = s.Store("p").Get(t.Context(), marker+"299")
	if !errors.Is(err, bolt.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("Get on a damaged page = %v, want ErrCorrupt naming %s", err, path)
	}
	t.Log(err)
	// The panic did not leave the database locked.
	if err := s.Store("q").Set(t.Context(), "k", []byte("v")); err != nil {
		t.Errorf("Set after a recovered panic = %v", err)
	}
}

// TestGroupCommit: writes made at the same moment share transactions (and
// their fsync), each is on disk when it returns, and one that fails fails
// alone.
func TestGroupCommit(t *testing.T) {
	s := open(t, nil)
	st := s.Store("p")
	ctx := t.Context()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = st.Set(ctx, fmt.Sprintf("k%03d", i), []byte(fmt.Sprint(i))) })
	}
	var bad error
	wg.Go(func() { bad = st.Set(ctx, strings.Repeat("x", 40000), []byte("too long a key")) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Set k%03d = %v", i, err)
		}
		if got, err := st.Get(ctx, fmt.Sprintf("k%03d", i)); err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("Get k%03d = %q, %v", i, got, err)
		}
	}
	if bad == nil {
		t.Error("Set with a 40,000-byte key = nil, want bbolt's error")
	}
	if c := bolt.Commits(s); c >= n {
		t.Errorf("%d commits for %d writes at once, want fewer (shared)", c, n+1)
	}
	t.Logf("%d writes at once in %d commits", n+1, bolt.Commits(s))
}

// TestBatchGroupCommit: a Batch is one transaction, committed with the
// Sets made meanwhile (one fsync for all); one that fails inside its
// transaction writes none of its changes and fails alone.
func TestBatchGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := open(t, nil)
		st := s.Store("p")
		ctx := t.Context()
		if err := bolt.NestBucket(s, "p", "nested"); err != nil {
			t.Fatal(err)
		}
		batch := func(cs ...bot.Change) error { return st.(bot.Batcher).Batch(ctx, cs) }
		set := func(k string) bot.Change { return bot.Change{Key: k, Value: []byte(k)} }
		mustSet := func(k string) {
			if err := st.Set(ctx, k, []byte(k)); err != nil {
				t.Errorf("Set(%q) = %v", k, err)
			}
		}
		mustSet("old")

		// Round 1: a Set, a Batch and a Set, while a commit is under way.
		release := make(chan struct{})
		held := bolt.Hold(s, release)
		synctest.Wait()
		before := bolt.Commits(s)
		var wg sync.WaitGroup
		wg.Go(func() { mustSet("a") })
		wg.Go(func() {
			if err := batch(set("b"), set("c"), bot.Change{Key: "old", Delete: true}); err != nil {
				t.Errorf("Batch = %v", err)
			}
		})
		wg.Go(func() { mustSet("d") })
		synctest.Wait() // all three queued behind the held commit
		close(release)
		wg.Wait()
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		if got := bolt.Commits(s) - before; got != 1 {
			t.Errorf("%d commits for a Set, a Batch and a Set at once, want 1", got)
		}
		wantKeys := func(want ...string) {
			t.Helper()
			got, err := st.Keys(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Keys = %q, want %q", got, want)
			}
		}
		wantKeys("a", "b", "c", "d", "nested")

		// Round 2: a Batch that fails in its transaction, with Sets.
		release = make(chan struct{})
		held = bolt.Hold(s, release)
		synctest.Wait()
		var bad error
		wg.Go(func() { mustSet("e") })
		wg.Go(func() { bad = batch(set("f"), bot.Change{Key: "a", Delete: true}, set("nested"), set("g")) })
		synctest.Wait()
		close(release)
		wg.Wait()
		<-held
		if !errors.Is(bad, bbolterrors.ErrIncompatibleValue) {
			t.Errorf("Batch writing over a bucket = %v, want bbolt's incompatible value", bad)
		}
		wantKeys("a", "b", "c", "d", "e", "nested")
	})
}

// BenchmarkPositions compares three ways to keep 10,000 small records
// (the Mattermost backend's catch-up positions: a channel id and a post
// key, about 70 bytes each) when some of them change: one value of all,
// rewritten by a Set; one key each, those that changed written by a
// Batch; and a log, those that changed appended in values of at most
// 1,900 bytes under new keys, which a Batch replaces by values of all
// once the log has grown by as much. page-B/op is what bbolt wrote to
// the file (its meta page aside): a commit rewrites every page it
// changes, and the keys that change are spread over every page.
func BenchmarkPositions(b *testing.B) {
	const records, chunk = 10000, 1900
	entry := func(i, at int) string {
		return fmt.Sprintf(`"%026d":{"at":%d,"id":"%026d"},`, i, 1700000000000+at, i)
	}
	var all []byte
	for i := range records {
		all = append(all, entry(i, 0)...)
	}
	b.Run("one-value", func(b *testing.B) {
		s := open(b, nil)
		st := s.Store("backend:mattermost")
		before := s.PageBytes()
		b.ReportAllocs()
		for b.Loop() {
			if err := st.Set(b.Context(), "catch-up", all); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(s.PageBytes()-before)/float64(b.N), "page-B/op")
	})
	for _, changed := range []int{10, 100, 300, 1000} {
		b.Run(fmt.Sprintf("per-key-%d", changed), func(b *testing.B) {
			s := open(b, nil)
			bt := s.Store("backend:mattermost").(bot.Batcher)
			key := func(i int) string { return fmt.Sprintf("catch-up/%026d", i) }
			var cs []bot.Change
			for i := range records {
				cs = append(cs, bot.Change{Key: key(i), Value: []byte(entry(i, 0))})
			}
			if err := bt.Batch(b.Context(), cs); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			before := s.PageBytes()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				cs = cs[:0]
				for range changed {
					i := rng.IntN(records)
					cs = append(cs, bot.Change{Key: key(i), Value: []byte(entry(i, n))})
				}
				if err := bt.Batch(b.Context(), cs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.PageBytes()-before)/float64(b.N), "page-B/op")
		})
		b.Run(fmt.Sprintf("log-%d", changed), func(b *testing.B) {
			s := open(b, nil)
			bt := s.Store("backend:mattermost").(bot.Batcher)
			seq := 0
			var logged []string
			// write appends values of at most chunk bytes, made of
			// data, and deletes the keys of the log before them when
			// compact.
			write := func(data []byte, compact bool) int {
				var cs []bot.Change
				for len(data) > 0 {
					n := min(chunk, len(data))
					seq++
					cs = append(cs, bot.Change{Key: fmt.Sprintf("catch-up/%016x", seq), Value: data[:n]})
					data = data[n:]
				}
				if compact {
					for _, k := range logged {
						cs = append(cs, bot.Change{Key: k, Delete: true})
					}
					logged = nil
				}
				for _, c := range cs {
					if !c.Delete {
						logged = append(logged, c.Key)
					}
				}
				if err := bt.Batch(b.Context(), cs); err != nil {
					b.Fatal(err)
				}
				return len(cs)
			}
			write(all, true)
			rng := rand.New(rand.NewPCG(1, 2))
			before := s.PageBytes()
			b.ReportAllocs()
			n, grown := 0, 0
			for b.Loop() {
				n++
				var delta []byte
				for range changed {
					delta = append(delta, entry(rng.IntN(records), n)...)
				}
				write(delta, false)
				if grown += len(delta); grown >= len(all) {
					write(all, true)
					grown = 0
				}
			}
			b.ReportMetric(float64(s.PageBytes()-before)/float64(b.N), "page-B/op")
		})
	}
}
