package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestOverrunFreesSlot: a handler that ignores its deadline keeps its
// goroutine but not its slot. OverrunGrace past the deadline its user is
// told it timed out and the next job runs in its place; when it returns
// at last, nothing more is said.
func TestOverrunFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		started := make(chan struct{}, 2)
		p := plug{"bad", func(p *bot.Plugin) error {
			p.Command("hang", func(ctx context.Context, req *bot.Request) error {
				started <- struct{}{}
				<-gate // ignores its context
				return nil
			}).Timeout(time.Second)
			p.Command("fast", reply("fast done"))
			return nil
		}}
		var logs syncBuffer
		b := bottest.NewWithOptions(t, &bot.Options{MaxConcurrent: 2, MaxPerUser: 2, Logger: logger(&logs)}, p)
		hung := []<-chan struct{}{
			b.Post(b.Message("@alice", "~ops", "!hang")),
			b.Post(b.Message("@alice", "~ops", "!hang")),
		}
		<-started
		<-started
		fast := b.Post(b.Message("@bob", "~ops", "!fast"))
		advance(time.Second + bot.OverrunGrace/2)
		if got := texts(b.Replies()); len(got) != 0 {
			t.Fatalf("replies within the grace = %q, want none: both slots are taken", got)
		}
		advance(bot.OverrunGrace)
		<-fast
		want := []string{"`!hang` timed out after 1s.", "`!hang` timed out after 1s.", "fast done"}
		got := texts(b.Replies())
		slices.Sort(got)
		if !cmp.Equal(got, want) {
			t.Errorf("replies after the grace = %q, want %q", got, want)
		}
		if n := strings.Count(logs.String(), "handler overran its deadline"); n != 2 {
			t.Errorf("%d overrun lines in the log, want 2:\n%s", n, logs.String())
		}
		if st := b.Engine.Stats(); st.Running != 0 {
			t.Errorf("Stats() = %+v, want none running: the overrunning handlers gave their slots up", st)
		}
		close(gate)
		for _, h := range hung {
			<-h
		}
		synctest.Wait()
		if got := texts(b.Replies()); len(got) != 0 {
			t.Errorf("replies once the overrunning handlers returned = %q, want none", got)
		}
		if st := b.Engine.Stats(); st.Running != 0 || st.Queued != 0 {
			t.Errorf("Stats() once the overrunning handlers returned = %+v, want nothing running or queued", st)
		}
		if got := texts(b.SayAs("@alice", "~ops", "!fast")); !cmp.Equal(got, []string{"fast done"}) {
			t.Errorf("alice's next command: replies %q, want fast done", got)
		}
	})
}
