package faultsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// misbehave is a plugin that does everything a plugin should not, one
// command per sin. Its commands set a deadline of a second, as a careful
// author would, and then ignore it.
type misbehave struct{}

// Its sins.
const (
	// hangFor is how long hang and lockstore block, their deadline
	// notwithstanding.
	hangFor = 20 * time.Second
	// floodReplies is how many replies one flood sends.
	floodReplies = 30
	// storeWrites is how many writes one storeflood makes.
	storeWrites = 50
	// badDeadline is the deadline of every misbehaving command.
	badDeadline = time.Second
)

func (*misbehave) Name() string { return "misbehave" }

func (*misbehave) Setup(p *bot.Plugin) error {
	p.Describe("misbehaves, for the fault suite")
	store := p.Store()
	p.Command("boom", func(context.Context, *bot.Request) error {
		panic("boom: the misbehaving plugin panics")
	}).Timeout(badDeadline)
	p.Command("hang", func(context.Context, *bot.Request) error {
		<-time.After(hangFor) // ignores its context: blocked in a call that takes none
		return nil
	}).Timeout(badDeadline)
	p.Command("flood", func(ctx context.Context, req *bot.Request) error {
		for i := range floodReplies {
			if err := req.Reply(fmt.Sprintf("flood %d/%d", i+1, floodReplies)); err != nil {
				return err
			}
		}
		return nil
	}).Timeout(badDeadline)
	p.Command("lockstore", func(ctx context.Context, req *bot.Request) error {
		// Blocks inside the store: its update function waits, and the
		// store must not make everyone else wait with it.
		return store.Update(ctx, "locked", func(old []byte, _ bool) ([]byte, error) {
			<-time.After(hangFor)
			return old, nil
		})
	}).Timeout(badDeadline)
	p.Command("storeflood", func(ctx context.Context, req *bot.Request) error {
		for i := range storeWrites {
			if err := store.Set(ctx, fmt.Sprintf("flood-%d", i), []byte(req.Args)); err != nil {
				return err
			}
		}
		return nil
	}).Timeout(badDeadline)
	return nil
}

// badUsers are how many of the users (the first ones) misbehave while
// the world's misbehaving flag is set.
const badUsers = 4

var badCommands = []string{"!boom", "!hang", "!flood", "!lockstore", "!storeflood x"}

// badCommand returns the command that user i sends instead of an echo,
// or "" for an echo.
func badCommand(i int, r *rand.Rand) string {
	if i >= badUsers {
		return ""
	}
	return badCommands[r.IntN(len(badCommands))]
}
