package storagetest

import (
	"fmt"
	"testing"

	"github.com/matterbot/matterbot/bot"
)

// Bench measures Get, Set, Update and Keys on the storages made by open
// (a fresh, empty one per sub-benchmark; Bench closes it). Values are 128
// bytes, a typical small JSON document; the store holds 1000 keys.
func Bench(b *testing.B, open func(b *testing.B) bot.Storage) {
	const keys = 1000
	value := make([]byte, 128)
	setup := func(b *testing.B) bot.Store {
		s := open(b)
		b.Cleanup(func() { _ = s.Close() })
		st := s.Store("bench")
		for i := range keys {
			if err := st.Set(b.Context(), fmt.Sprintf("key/%04d", i), value); err != nil {
				b.Fatal(err)
			}
		}
		return st
	}
	b.Run("Get", func(b *testing.B) {
		st := setup(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := st.Get(b.Context(), fmt.Sprintf("key/%04d", i%keys)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Set", func(b *testing.B) {
		st := setup(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := st.Set(b.Context(), fmt.Sprintf("key/%04d", i%keys), value); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Update", func(b *testing.B) {
		st := setup(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			err := st.Update(b.Context(), fmt.Sprintf("key/%04d", i%keys), func(old []byte, _ bool) ([]byte, error) {
				return old, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Keys", func(b *testing.B) {
		st := setup(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Keys(b.Context(), "key/01"); err != nil { // 100 keys
				b.Fatal(err)
			}
		}
	})
}
