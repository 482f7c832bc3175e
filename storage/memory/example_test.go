package memory_test

import (
	"context"
	"fmt"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/storage/memory"
)

func ExampleNew() {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()

	karma := s.Store("karma")
	_ = bot.SetJSON(ctx, karma, "alice", 3)
	_ = bot.UpdateJSON(ctx, karma, "alice", func(n int, _ bool) (int, error) { return n + 1, nil })
	n, _ := bot.GetJSON[int](ctx, karma, "alice")
	fmt.Println(n)
	// Output: 4
}
