// Package memory is a bot.Storage that keeps everything in memory, for
// tests and for trying plugins without a database file. Nothing survives
// the process.
//
//	s := memory.New()
//	defer s.Close()
//	st := s.Store("karma")
//	err := st.Set(ctx, "alice", []byte("3"))
package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/matterbot/matterbot/bot"
)

// maxKeySize is the longest key, in bytes: bbolt's limit, so that a plugin
// tested against memory also works on bolt.
const maxKeySize = 32 << 10

// errClosed is returned by every operation after Close.
var errClosed = errors.New("storage/memory: storage is closed")

// Storage is an in-memory bot.Storage. It is safe for concurrent use. The
// zero value is not usable; call New.
type Storage struct {
	mu     sync.Mutex
	data   map[string]map[string][]byte // plugin → key → value; guarded by mu
	closed bool                         // guarded by mu
}

// New returns an empty storage.
func New() *Storage {
	return &Storage{data: make(map[string]map[string][]byte)}
}

// Store returns the store of the named plugin. Each plugin has its own
// keys. The store is usable until Close.
func (s *Storage) Store(plugin string) bot.Store {
	return &store{s: s, plugin: plugin}
}

// Close drops all data. Later operations fail. Close is idempotent.
func (s *Storage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.data = nil
	return nil
}

// store is one plugin's view of a Storage.
type store struct {
	s      *Storage
	plugin string
}

// lock checks ctx and key, takes the storage's lock and returns the
// plugin's map (nil if it has no keys yet). The caller must unlock s.s.mu
// when err is nil.
func (st *store) lock(ctx context.Context, op, key string, checkKey bool) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage/memory: %s %q: %w", op, key, err)
	}
	if checkKey {
		if err := validKey(key); err != nil {
			return nil, fmt.Errorf("storage/memory: %s: %w", op, err)
		}
	}
	st.s.mu.Lock()
	if st.s.closed {
		st.s.mu.Unlock()
		return nil, errClosed
	}
	return st.s.data[st.plugin], nil
}

func validKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > maxKeySize:
		return fmt.Errorf("key of %d bytes is longer than %d", len(key), maxKeySize)
	}
	return nil
}

// Get returns a copy of the value under key, or an error wrapping
// bot.ErrNotFound.
func (st *store) Get(ctx context.Context, key string) ([]byte, error) {
	m, err := st.lock(ctx, "get", key, true)
	if err != nil {
		return nil, err
	}
	defer st.s.mu.Unlock()
	v, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("storage/memory: get %q: %w", key, bot.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

// Set stores a copy of value under key.
func (st *store) Set(ctx context.Context, key string, value []byte) error {
	if _, err := st.lock(ctx, "set", key, true); err != nil {
		return err
	}
	defer st.s.mu.Unlock()
	st.put(key, value)
	return nil
}

// put stores value; st.s.mu must be held.
func (st *store) put(key string, value []byte) {
	m := st.s.data[st.plugin]
	if m == nil {
		m = make(map[string][]byte)
		st.s.data[st.plugin] = m
	}
	v := make([]byte, len(value)) // non-nil, so an empty value is a value
	copy(v, value)
	m[key] = v
}

// Delete removes key; an absent key is not an error.
func (st *store) Delete(ctx context.Context, key string) error {
	m, err := st.lock(ctx, "delete", key, false)
	if err != nil {
		return err
	}
	defer st.s.mu.Unlock()
	delete(m, key)
	return nil
}

// Batch applies changes at once (bot.Batcher): all or none, none seen
// half done by the other operations.
func (st *store) Batch(ctx context.Context, changes []bot.Change) error {
	for i, c := range changes {
		if c.Delete && c.Key == "" {
			continue // such a key cannot exist, as for Delete
		}
		if err := validKey(c.Key); err != nil {
			return fmt.Errorf("storage/memory: batch of %d: change %d: %w", len(changes), i, err)
		}
	}
	m, err := st.lock(ctx, "batch", "", false)
	if err != nil {
		return err
	}
	defer st.s.mu.Unlock()
	for _, c := range changes {
		if c.Delete {
			delete(m, c.Key)
			continue
		}
		st.put(c.Key, c.Value)
		m = st.s.data[st.plugin] // made by the first put
	}
	return nil
}

// Keys returns the keys starting with prefix, in byte order.
func (st *store) Keys(ctx context.Context, prefix string) ([]string, error) {
	m, err := st.lock(ctx, "keys", prefix, false)
	if err != nil {
		return nil, err
	}
	defer st.s.mu.Unlock()
	var keys []string
	for k := range maps.Keys(m) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Update replaces the value under key with fn's result, atomically. fn
// runs without the lock held, so it may use the storage; if key changed
// while fn ran, fn runs again with the new value (optimistic concurrency,
// as bot.Store allows).
func (st *store) Update(ctx context.Context, key string, fn func(old []byte, exists bool) ([]byte, error)) error {
	for {
		m, err := st.lock(ctx, "update", key, true)
		if err != nil {
			return err
		}
		cur, exists := m[key]
		st.s.mu.Unlock()

		// cur is never modified in place (put stores a fresh slice), so it
		// can be compared later; fn gets its own copy.
		nv, err := fn(bytes.Clone(cur), exists)
		if err != nil {
			return err
		}

		m, err = st.lock(ctx, "update", key, true)
		if err != nil {
			return err
		}
		now, stillExists := m[key]
		if stillExists != exists || !sameSlice(now, cur) {
			st.s.mu.Unlock()
			continue // changed under us: run fn again on the new value
		}
		if nv == nil {
			delete(m, key)
		} else {
			st.put(key, nv)
		}
		st.s.mu.Unlock()
		return nil
	}
}

// sameSlice reports whether a and b are the same stored slice. Identity,
// not equality: a value rewritten with equal bytes is a fresh slice, and
// treating it as unchanged would still be correct, but identity is cheaper.
func sameSlice(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return &a[0] == &b[0]
}
