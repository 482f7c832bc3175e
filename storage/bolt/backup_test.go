package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/matterbot/matterbot/storage/bolt"
)

// hookWriter calls hook before its first write.
type hookWriter struct {
	w    io.Writer
	hook func()
}

func (h *hookWriter) Write(p []byte) (int, error) {
	if h.hook != nil {
		h.hook()
		h.hook = nil
	}
	return h.w.Write(p)
}

// TestBackup checks that a backup taken while the store is written is the
// store as of the moment it started, and is a store Open reads.
func TestBackup(t *testing.T) {
	ctx := t.Context()
	s := open(t, nil)
	karma := s.Store("karma")
	if err := karma.Set(ctx, "alice", []byte("1")); err != nil {
		t.Fatal(err)
	}

	// A write starts while the copy is under way, from another goroutine
	// as a plugin's would. It may finish during the copy, or wait for it
	// if it must grow the file (waiting for it here could deadlock).
	var buf bytes.Buffer
	done := make(chan error, 1) // size 1: the writer never blocks
	w := &hookWriter{w: &buf, hook: func() {
		go func() { done <- karma.Set(ctx, "alice", []byte("2")) }()
	}}
	n, err := s.Backup(ctx, w)
	if err != nil {
		t.Fatalf("Backup = %d, %v", n, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Set during the backup = %v", err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("Backup = %d bytes, wrote %d", n, buf.Len())
	}
	if got, err := karma.Get(ctx, "alice"); err != nil || string(got) != "2" {
		t.Errorf("live Get = %q, %v; want 2", got, err)
	}

	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := bolt.Open(path, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(backup) = %v", err)
	}
	defer c.Close()
	if got, err := c.Store("karma").Get(ctx, "alice"); err != nil || string(got) != "1" {
		t.Errorf("backup Get = %q, %v; want 1, the value when the backup started", got, err)
	}
}

func TestBackupCancelled(t *testing.T) {
	s := open(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Backup(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.db")
	if s, err := bolt.Open(missing, &bolt.Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		if s != nil {
			s.Close()
		}
		t.Errorf("read-only Open of a missing file = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Open created %s (stat: %v)", missing, err)
	}

	path := filepath.Join(dir, "bot.db")
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store("karma").Set(ctx, "alice", []byte("3")); err != nil {
		t.Fatal(err)
	}
	// A running bot holds the file: a read-only open waits, then fails.
	if r, err := bolt.Open(path, &bolt.Options{ReadOnly: true, Timeout: -1}); !errors.Is(err, bolt.ErrLocked) {
		if r != nil {
			r.Close()
		}
		t.Errorf("read-only Open of a held file = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	r, err := bolt.Open(path, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Store("karma").Get(ctx, "alice"); err != nil || string(got) != "3" {
		t.Errorf("read-only Get = %q, %v; want 3", got, err)
	}
	if err := r.Store("karma").Set(ctx, "bob", []byte("1")); err == nil {
		t.Error("read-only Set succeeded")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("read-only Open changed the file (%v)", err)
	}

	// A bbolt file that is not a matterbot store is refused by name.
	other := filepath.Join(dir, "other.db")
	db, err := bbolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := bolt.Open(other, &bolt.Options{ReadOnly: true}); err == nil {
		r.Close()
		t.Error("read-only Open of a bbolt file with no meta bucket succeeded")
	}
}
