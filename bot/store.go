package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Store is a plugin's private key/value store. Keys are plugin-local; implementations namespace them.
//
// Implementations must be safe for concurrent use: handlers of one plugin
// run concurrently.
type Store interface {
	// Get returns the value stored under key, or an error wrapping
	// ErrNotFound when the key is absent.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes key. Deleting an absent key returns nil.
	Delete(ctx context.Context, key string) error
	// Keys returns the keys that start with prefix, sorted.
	Keys(ctx context.Context, prefix string) ([]string, error)
	// Update atomically replaces the value under key with the result of fn.
	// fn receives the current value and whether it exists; returning a nil
	// new value deletes the key; returning an error aborts the update and
	// Update returns that error. fn may be called more than once by
	// implementations that retry, so it must not have side effects.
	Update(ctx context.Context, key string, fn func(old []byte, exists bool) (new []byte, err error)) error
}

// Change is one write of a Batch: Value stored under Key, or, with
// Delete set, Key removed (Value ignored; an absent key is not an error,
// as with Store.Delete).
type Change struct {
	Key    string
	Value  []byte
	Delete bool
}

// Batcher is implemented by stores that can apply several changes in one
// write. It is optional: find it with a type assertion on a Store
// (st.(bot.Batcher)), and fall back to Set and Delete without it. A
// Store's own backend state uses it to write only what changed, many keys
// at a time, rather than one big value.
type Batcher interface {
	// Batch applies changes in order, atomically: when it returns nil
	// all of them are stored (on disk, for a disk store: one commit, one
	// fsync), and when it returns an error none is. A key may appear
	// more than once: the last change wins. The store does not keep
	// the Values after Batch returns.
	Batch(ctx context.Context, changes []Change) error
}

// ErrNotFound is returned (possibly wrapped) by Store.Get when a key is
// absent. Test for it with errors.Is.
var ErrNotFound = errors.New("bot: key not found")

// Storage opens plugins' stores. The engine calls Store once per plugin
// with the plugin's name, and once with "NAME:timers" for a plugin with
// one-shot timers (Plugin.OnTimer; no plugin name has a ':');
// implementations keep each name's keys apart.
// Close releases the underlying resources; the engine's owner calls it
// after the engine has stopped.
type Storage interface {
	// Store returns the store of the named plugin. It never returns nil.
	Store(plugin string) Store
	// Close releases the storage. Stores must not be used afterwards.
	Close() error
}

// GetJSON reads the value under key and decodes it from JSON into a T.
// It returns an error wrapping ErrNotFound when the key is absent.
func GetJSON[T any](ctx context.Context, s Store, key string) (T, error) {
	var v T
	b, err := s.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("bot: decode %q: %w", key, err)
	}
	return v, nil
}

// SetJSON encodes v as JSON and stores it under key.
func SetJSON(ctx context.Context, s Store, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bot: encode %q: %w", key, err)
	}
	return s.Set(ctx, key, b)
}

// UpdateJSON atomically updates the JSON value under key. fn receives the
// decoded current value (the zero T when absent) and whether it existed,
// and returns the value to store; an error from fn aborts the update and is
// returned. fn may be called more than once (see Store.Update). To delete a
// key, use Store.Delete or Store.Update.
func UpdateJSON[T any](ctx context.Context, s Store, key string, fn func(v T, exists bool) (T, error)) error {
	return s.Update(ctx, key, func(old []byte, exists bool) ([]byte, error) {
		var v T
		if exists {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, fmt.Errorf("bot: decode %q: %w", key, err)
			}
		}
		nv, err := fn(v, exists)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(nv)
		if err != nil {
			return nil, fmt.Errorf("bot: encode %q: %w", key, err)
		}
		return b, nil
	})
}
