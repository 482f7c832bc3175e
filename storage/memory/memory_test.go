package memory_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/storage/memory"
	"github.com/matterbot/matterbot/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) bot.Storage { return memory.New() })
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Bench(b, func(b *testing.B) bot.Storage { return memory.New() })
}

var _ bot.Storage = (*memory.Storage)(nil)
