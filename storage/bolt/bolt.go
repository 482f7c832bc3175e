// Package bolt is the default bot.Storage: one bbolt database file on
// disk, one bucket per plugin, so plugins cannot read each other's keys.
//
//	s, err := bolt.Open("matterbot.db", nil)
//	if err != nil {
//		return err // names the file: locked by another process, corrupt, ...
//	}
//	defer s.Close()
//	st := s.Store("karma")
//
// Layout: the root bucket "plugins" holds a bucket per plugin, named by the
// plugin; "meta" holds "format" = "1", the layout version. Each operation is
// one bbolt transaction. bbolt allows one writer at a time and many readers;
// every write is fsynced before it returns.
package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bbolterrors "go.etcd.io/bbolt/errors"

	"github.com/matterbot/matterbot/bot"
)

// ErrLocked is returned (wrapped) by Open when another process holds the
// database file open. bbolt locks the file for the life of the process.
var ErrLocked = errors.New("storage/bolt: database file is locked by another process")

// ErrCorrupt is returned (wrapped) by Open, or by an operation, when the
// file is not a bbolt database or its pages are damaged.
var ErrCorrupt = errors.New("storage/bolt: database file is corrupt")

// formatVersion is the layout described in the package doc.
const formatVersion = "1"

var (
	pluginsBucket = []byte("plugins")
	metaBucket    = []byte("meta")
	formatKey     = []byte("format")
)

// Options configure Open. A nil *Options is valid and means the defaults.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file before failing with ErrLocked. Default 1s; negative means do
	// not wait.
	Timeout time.Duration
	// NoSync skips fsync after each write: faster, but a crash may lose
	// recent writes or corrupt the file. For tests and benchmarks only.
	NoSync bool
	// ReadOnly opens an existing file for reading only, under a shared
	// lock: Open neither creates nor changes the file, and writes fail.
	// While a bot holds the file, such an Open waits and fails with
	// ErrLocked, as any other does (see Storage.Backup).
	ReadOnly bool
	// Logger receives life-cycle messages. Default: discard.
	Logger *slog.Logger
}

// Storage is a bot.Storage over one bbolt file. It is safe for concurrent
// use. Close it to release the file.
type Storage struct {
	path string
	db   *bbolt.DB
	log  *slog.Logger

	closeOnce sync.Once
	closeErr  error

	// Group commit of Set and Delete (see write).
	wmu     sync.Mutex
	wq      []*writeOp // guarded by wmu: writes waiting for the next commit
	writing bool       // guarded by wmu: a committer runs
	commits atomic.Int64
}

// writeOp is a Set or Delete waiting for its commit.
type writeOp struct {
	fn   func(*bbolt.Tx) error
	done chan error // size 1
}

// Open opens, or creates with mode 0600, the database file at path (an
// existing one only, with Options.ReadOnly). It
// fails with an error naming the file, wrapping ErrLocked when another
// process holds the file (after waiting Options.Timeout), or ErrCorrupt
// when the file is not a valid database; it never returns an empty store
// in place of an unreadable file. The caller must Close the Storage.
func Open(path string, opts *Options) (s *Storage, err error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = time.Second
	case timeout < 0:
		timeout = time.Nanosecond // bbolt: 0 would wait forever
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	var db *bbolt.DB
	// bbolt panics on some damaged pages instead of returning an error;
	// a bot must not crash at startup over a bad file, so both the open
	// and the first transaction (which reads the root pages) are guarded.
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close() // nothing more to report: the file is bad
			}
			s, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoSync: opts.NoSync, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, openError(path, timeout, err)
	}
	if opts.ReadOnly {
		err = db.View(checkFormat)
	} else {
		err = db.Update(initFormat)
	}
	if err != nil {
		_ = db.Close() // the open error is the one to report
		return nil, fmt.Errorf("storage/bolt: open %s: %w", path, err)
	}
	log.Info("storage opened", "path", path)
	return &Storage{path: path, db: db, log: log}, nil
}

// initFormat creates the layout's buckets in a new file, and checks the
// layout version of an existing one.
func initFormat(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(pluginsBucket); err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(metaBucket)
	if err != nil {
		return err
	}
	if meta.Get(formatKey) == nil {
		return meta.Put(formatKey, []byte(formatVersion))
	}
	return checkFormat(tx)
}

// checkFormat checks the layout version, for a file opened read-only.
func checkFormat(tx *bbolt.Tx) error {
	meta := tx.Bucket(metaBucket)
	if meta == nil {
		return errors.New("not a matterbot store: no meta bucket")
	}
	if v := meta.Get(formatKey); string(v) != formatVersion {
		return fmt.Errorf("layout version %q, this matterbot reads %q", v, formatVersion)
	}
	return nil
}

// openError explains a bbolt.Open failure.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, bbolterrors.ErrTimeout):
		return fmt.Errorf("%w: %s (waited %v; is another matterbot running?)", ErrLocked, path, timeout)
	case errors.Is(err, bbolterrors.ErrInvalid), errors.Is(err, bbolterrors.ErrChecksum),
		errors.Is(err, bbolterrors.ErrVersionMismatch), errors.Is(err, bbolterrors.ErrInvalidMapping):
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return fmt.Errorf("storage/bolt: open %s: %w", path, err)
}

// Path returns the database file's path.
func (s *Storage) Path() string { return s.path }

// Store returns the store of the named plugin. Its bucket is created on
// the first write. An empty name gives a store whose operations fail.
func (s *Storage) Store(plugin string) bot.Store {
	return &store{s: s, bucket: []byte(plugin)}
}

// PageBytes returns the bytes of the database pages the writes have
// written to the file since Open (bbolt's count of the pages its
// commits allocate; each commit also writes a meta page, 4 KiB): what
// the writes cost the disk, for benchmarks and capacity planning.
func (s *Storage) PageBytes() int64 {
	st := s.db.Stats()
	return st.TxStats.GetPageAlloc()
}

// Close releases the file. Later operations fail. Close is idempotent;
// it waits for running transactions to finish.
func (s *Storage) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("storage/bolt: close %s: %w", s.path, err)
		}
		s.log.Info("storage closed", "path", s.path)
	})
	return s.closeErr
}

// Backup writes a copy of the whole database to w, consistent as of one
// moment: it runs in a read transaction, which sees a snapshot while the
// bot goes on reading and writing. The copy is a database file that Open
// reads. Backup returns the bytes written; cancelling ctx stops the copy
// at its next write. A write transaction that must grow the file waits
// for the copy to end.
func (s *Storage) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		if err != nil && ctx.Err() != nil {
			err = ctx.Err() // bbolt formats the writer's error with %s
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage/bolt: back up %s: %w", s.path, err)
	}
	return n, nil
}

// ctxWriter is a writer that fails once its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

// view runs fn in a read transaction, turning a bbolt panic (a damaged
// page) into an ErrCorrupt error. bbolt rolls the transaction back as the
// panic unwinds, so the database stays usable.
func (s *Storage) view(fn func(*bbolt.Tx) error) (err error) {
	defer s.recoverCorrupt(&err)
	return s.db.View(fn)
}

// write runs fn in a write transaction shared with the other writes
// waiting meanwhile, and returns when it is on disk: a group commit. A
// lone write is committed at once (one fsync, as update); writes that
// come while a commit is under way go together in the next one, one
// fsync for all. A bot keeps replies in its outbox from every handler at
// once while the server fails; one fsync each made the handlers queue up
// behind the disk. fn must be safe to run twice: when one write of a
// batch fails, the others are run again each in its own transaction.
func (s *Storage) write(fn func(*bbolt.Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1)}
	s.wmu.Lock()
	s.wq = append(s.wq, op)
	if !s.writing {
		s.writing = true
		go s.commitLoop()
	}
	s.wmu.Unlock()
	return <-op.done
}

// commitLoop commits the writes waiting, batch after batch, until none
// is left.
func (s *Storage) commitLoop() {
	s.wmu.Lock()
	for len(s.wq) > 0 {
		batch := s.wq
		s.wq = nil
		s.wmu.Unlock()
		s.commit(batch)
		s.wmu.Lock()
	}
	s.writing = false
	s.wmu.Unlock()
}

// commit runs a batch of writes in one transaction; if one fails, each
// runs again alone, so that only it fails.
func (s *Storage) commit(batch []*writeOp) {
	s.commits.Add(1)
	err := s.update(func(tx *bbolt.Tx) error {
		for _, op := range batch {
			if err := op.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, op := range batch {
			op.done <- s.update(op.fn)
		}
		return
	}
	for _, op := range batch {
		op.done <- err
	}
}

// update is view for a write transaction.
func (s *Storage) update(fn func(*bbolt.Tx) error) (err error) {
	defer s.recoverCorrupt(&err)
	return s.db.Update(fn)
}

func (s *Storage) recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		s.log.Error("storage corrupt", "path", s.path, "err", *err)
	}
}

// store is one plugin's bucket.
type store struct {
	s      *Storage
	bucket []byte
}

// check validates an operation's context, plugin name and key.
func (st *store) check(ctx context.Context, op, key string, checkKey bool) error {
	if err := ctx.Err(); err != nil {
		return st.errorf(op, key, err)
	}
	if len(st.bucket) == 0 {
		return st.errorf(op, key, errors.New("empty plugin name"))
	}
	if checkKey {
		if err := validKey(key, false); err != nil {
			return st.errorf(op, key, err)
		}
	}
	return nil
}

func (st *store) errorf(op, key string, err error) error {
	if len(key) > 64 {
		key = key[:64] + "…"
	}
	return fmt.Errorf("storage/bolt: %s %s %q: %w", op, st.bucket, key, err)
}

// bucketOf returns the plugin's bucket, or nil if it has none yet.
func (st *store) bucketOf(tx *bbolt.Tx) *bbolt.Bucket {
	root := tx.Bucket(pluginsBucket)
	if root == nil {
		return nil
	}
	return root.Bucket(st.bucket)
}

// get returns the value under key in b and whether it exists. The value
// is only valid during the transaction. A cursor, unlike Bucket.Get, tells
// an empty value from an absent key.
func get(b *bbolt.Bucket, key []byte) ([]byte, bool) {
	if b == nil {
		return nil, false
	}
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, false
	}
	return v, true
}

// Get returns a copy of the value under key, or an error wrapping
// bot.ErrNotFound.
func (st *store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := st.check(ctx, "get", key, true); err != nil {
		return nil, err
	}
	var out []byte
	err := st.s.view(func(tx *bbolt.Tx) error {
		v, ok := get(st.bucketOf(tx), []byte(key))
		if !ok {
			return bot.ErrNotFound
		}
		out = bytes.Clone(v)
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	if err != nil {
		return nil, st.errorf("get", key, err)
	}
	return out, nil
}

// Set stores value under key, on disk when it returns (fsynced; writes
// made at the same moment share the fsync, see Storage.write).
func (st *store) Set(ctx context.Context, key string, value []byte) error {
	if err := st.check(ctx, "set", key, true); err != nil {
		return err
	}
	err := st.s.write(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(pluginsBucket).CreateBucketIfNotExists(st.bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), nonNil(value))
	})
	if err != nil {
		return st.errorf("set", key, err)
	}
	return nil
}

// nonNil makes an empty value explicit for bbolt.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// Delete removes key; an absent key is not an error.
func (st *store) Delete(ctx context.Context, key string) error {
	if err := st.check(ctx, "delete", key, false); err != nil {
		return err
	}
	if key == "" {
		return nil // such a key cannot exist
	}
	err := st.s.write(func(tx *bbolt.Tx) error {
		b := st.bucketOf(tx)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return st.errorf("delete", key, err)
	}
	return nil
}

// Batch applies changes in one transaction (bot.Batcher): all or none,
// on disk when it returns. It goes through the same group commit as Set
// and Delete, so it shares its fsync with the writes made meanwhile.
func (st *store) Batch(ctx context.Context, changes []bot.Change) error {
	if err := st.check(ctx, "batch", "", false); err != nil {
		return err
	}
	for i, c := range changes {
		if err := validKey(c.Key, c.Delete); err != nil {
			return st.batchError(changes, fmt.Errorf("change %d: %s %q: %w", i, opOf(c), c.Key, err))
		}
	}
	if len(changes) == 0 {
		return nil
	}
	err := st.s.write(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(pluginsBucket).CreateBucketIfNotExists(st.bucket)
		if err != nil {
			return err
		}
		for _, c := range changes {
			switch {
			case !c.Delete:
				err = b.Put([]byte(c.Key), nonNil(c.Value))
			case c.Key != "": // an empty key cannot exist, as for Delete
				err = b.Delete([]byte(c.Key))
			}
			if err != nil {
				return fmt.Errorf("%s %q: %w", opOf(c), c.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return st.batchError(changes, err)
	}
	return nil
}

// validKey checks a key as bbolt takes it; an empty one is valid for a
// delete (it deletes nothing).
func validKey(key string, del bool) error {
	switch {
	case key == "" && !del:
		return bbolterrors.ErrKeyRequired
	case len(key) > bbolt.MaxKeySize:
		return bbolterrors.ErrKeyTooLarge
	}
	return nil
}

func opOf(c bot.Change) string {
	if c.Delete {
		return "delete"
	}
	return "set"
}

func (st *store) batchError(changes []bot.Change, err error) error {
	return fmt.Errorf("storage/bolt: batch of %d in %s: %w", len(changes), st.bucket, err)
}

// Keys returns the keys starting with prefix, in byte order (bbolt's).
func (st *store) Keys(ctx context.Context, prefix string) ([]string, error) {
	if err := st.check(ctx, "keys", prefix, false); err != nil {
		return nil, err
	}
	var keys []string
	err := st.s.view(func(tx *bbolt.Tx) error {
		b := st.bucketOf(tx)
		if b == nil {
			return nil
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			keys = append(keys, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, st.errorf("keys", prefix, err)
	}
	return keys, nil
}

// Update replaces the value under key with fn's result, atomically. fn
// runs outside any transaction (bbolt allows one writer, so a fn that used
// the store inside the write transaction would deadlock); the write
// transaction then checks that the key still holds what fn saw and, if
// not, runs fn again on the new value.
func (st *store) Update(ctx context.Context, key string, fn func(old []byte, exists bool) ([]byte, error)) error {
	if err := st.check(ctx, "update", key, true); err != nil {
		return err
	}
	k := []byte(key)
	for {
		var (
			old    []byte
			exists bool
		)
		err := st.s.view(func(tx *bbolt.Tx) error {
			v, ok := get(st.bucketOf(tx), k)
			old, exists = bytes.Clone(v), ok
			return nil
		})
		if err != nil {
			return st.errorf("update", key, err)
		}
		seen := bytes.Clone(old) // fn may change old
		nv, err := fn(old, exists)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return st.errorf("update", key, err)
		}
		changed := false
		err = st.s.update(func(tx *bbolt.Tx) error {
			if v, ok := get(st.bucketOf(tx), k); ok != exists || !bytes.Equal(v, seen) {
				changed = true
				return nil
			}
			if nv == nil {
				if b := st.bucketOf(tx); b != nil {
					return b.Delete(k)
				}
				return nil
			}
			b, err := tx.Bucket(pluginsBucket).CreateBucketIfNotExists(st.bucket)
			if err != nil {
				return err
			}
			return b.Put(k, nv)
		})
		if err != nil {
			return st.errorf("update", key, err)
		}
		if !changed {
			return nil
		}
	}
}
