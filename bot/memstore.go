package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// memStorage is the in-memory Storage used when Options.Storage is nil:
// state lives as long as the engine. Package storage has the real ones.
type memStorage struct {
	mu     sync.Mutex
	stores map[string]*memStore // guarded by mu
}

func (m *memStorage) Store(plugin string) Store {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stores == nil {
		m.stores = map[string]*memStore{}
	}
	s, ok := m.stores[plugin]
	if !ok {
		s = &memStore{data: map[string][]byte{}}
		m.stores[plugin] = s
	}
	return s
}

func (m *memStorage) Close() error { return nil }

type memStore struct {
	mu   sync.Mutex
	data map[string][]byte // guarded by mu
}

func (s *memStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(v), nil
}

func (s *memStore) Set(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = slices.Clone(value)
	return nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	return nil
}

func (s *memStore) Keys(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *memStore) Update(_ context.Context, key string, fn func([]byte, bool) ([]byte, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.data[key]
	nv, err := fn(slices.Clone(old), ok)
	if err != nil {
		return err
	}
	if nv == nil {
		delete(s.data, key)
	} else {
		s.data[key] = slices.Clone(nv)
	}
	return nil
}

// Batch applies changes under the lock, at once (Batcher).
func (s *memStore) Batch(_ context.Context, changes []Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		if c.Delete {
			delete(s.data, c.Key)
		} else {
			s.data[c.Key] = slices.Clone(c.Value)
		}
	}
	return nil
}
