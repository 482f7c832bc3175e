package bot

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type counter struct {
	N    int      `json:"n"`
	Tags []string `json:"tags"`
}

func TestJSONHelpers(t *testing.T) {
	ctx := context.Background()
	s := (&memStorage{}).Store("p")

	if _, err := GetJSON[counter](ctx, s, "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetJSON(absent) error = %v, want ErrNotFound", err)
	}
	if err := SetJSON(ctx, s, "c", counter{N: 1, Tags: []string{"a"}}); err != nil {
		t.Fatalf("SetJSON: %v", err)
	}
	for range 2 {
		err := UpdateJSON(ctx, s, "c", func(c counter, exists bool) (counter, error) {
			if !exists {
				t.Errorf("UpdateJSON: exists = false, want true")
			}
			c.N++
			return c, nil
		})
		if err != nil {
			t.Fatalf("UpdateJSON: %v", err)
		}
	}
	got, err := GetJSON[counter](ctx, s, "c")
	if err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if diff := cmp.Diff(counter{N: 3, Tags: []string{"a"}}, got); diff != "" {
		t.Errorf("GetJSON mismatch (-want +got):\n%s", diff)
	}

	// A new key starts from the zero value.
	err = UpdateJSON(ctx, s, "fresh", func(c counter, exists bool) (counter, error) {
		if exists {
			t.Errorf("UpdateJSON(fresh): exists = true, want false")
		}
		c.N = 7
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateJSON(fresh): %v", err)
	}
	if got, _ := GetJSON[counter](ctx, s, "fresh"); got.N != 7 {
		t.Errorf("GetJSON(fresh).N = %d, want 7", got.N)
	}

	// An error from fn aborts and is returned unchanged.
	boom := errors.New("boom")
	if err := UpdateJSON(ctx, s, "c", func(c counter, _ bool) (counter, error) { return c, boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateJSON(fn error) = %v, want %v", err, boom)
	}

	// Undecodable data is an error naming the key.
	if err := s.Set(ctx, "bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := GetJSON[counter](ctx, s, "bad"); err == nil {
		t.Errorf("GetJSON(bad) error = nil, want a decode error")
	}
	if err := UpdateJSON(ctx, s, "bad", func(c counter, _ bool) (counter, error) { return c, nil }); err == nil {
		t.Errorf("UpdateJSON(bad) error = nil, want a decode error")
	}
	// Unencodable values are an error.
	if err := SetJSON(ctx, s, "ch", make(chan int)); err == nil {
		t.Errorf("SetJSON(chan) error = nil, want an encode error")
	}
}

// TestMemStoreBatch: the engine's default store is a Batcher too.
func TestMemStoreBatch(t *testing.T) {
	ctx := context.Background()
	s := (&memStorage{}).Store("p")
	b, ok := s.(Batcher)
	if !ok {
		t.Fatal("the default store is not a Batcher")
	}
	if err := s.Set(ctx, "gone", []byte("v")); err != nil {
		t.Fatal(err)
	}
	v := []byte("1")
	err := b.Batch(ctx, []Change{{Key: "a", Value: v}, {Key: "gone", Delete: true}, {Key: "b", Value: []byte("2")}})
	if err != nil {
		t.Fatalf("Batch = %v", err)
	}
	v[0] = 'X'
	keys, _ := s.Keys(ctx, "")
	if diff := cmp.Diff([]string{"a", "b"}, keys); diff != "" {
		t.Errorf("keys after Batch (-want +got):\n%s", diff)
	}
	if got, _ := s.Get(ctx, "a"); string(got) != "1" {
		t.Errorf("Get(a) = %q, want 1", got)
	}
}
