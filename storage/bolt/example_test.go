package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/matterbot/matterbot/storage/bolt"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "matterbot-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := bolt.Open(filepath.Join(dir, "matterbot.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Store("karma").Set(ctx, "alice", []byte("3"))
	_ = s.Close()

	// After a restart the value is still there.
	s, err = bolt.Open(filepath.Join(dir, "matterbot.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	v, err := s.Store("karma").Get(ctx, "alice")
	fmt.Printf("%s %v\n", v, err)
	// Output: 3 <nil>
}
