package mattermost_test

import (
	"context"
	"slices"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/internal/pathbench"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// BenchmarkAddedLatency measures the latency the bot adds to a command:
// from the instant the fake server hands the posted event's frame to the
// bot's socket to the instant the reply POST reaches the fake's handler
// (package pathbench). That interval holds only the bot (WebSocket read,
// decode, dispatch, the echo handler, the REST POST) and the loopback
// socket; it reports added-p50-us and added-p99-us. allocs/op counts the
// whole process, the fake server included. `matterbot bench` measures
// the same interval with the bot in a process of its own, beside a no-op
// client's floor, throughput, allocations and RSS of the bot alone.
func BenchmarkAddedLatency(b *testing.B) {
	fake := mmtest.New(nil)
	b.Cleanup(fake.Close)
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	team, err := fake.AddTeam("bench", "Bench")
	must(err)
	alice, err := fake.AddUser(mmtest.User{Username: "alice"})
	must(err)
	botUser, err := fake.AddBot("benchbot", "Bench Bot", alice.ID)
	must(err)
	ch, err := fake.AddChannel(team.ID, "bench", "Bench", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{alice, botUser} {
		must(fake.AddTeamMember(team.ID, u.ID))
		must(fake.AddChannelMember(ch.ID, u.ID))
	}
	token, err := fake.CreateToken(botUser.ID, "bench")
	must(err)
	ps, err := pathbench.Start(fake)
	must(err)
	b.Cleanup(ps.Close)

	ctx, cancel := context.WithCancel(context.Background())
	be, err := mmbackend.New(mmbackend.Options{Server: ps.URL, Teams: []string{"bench"}, Token: mm.Secret(token),
		// The fake answers the bot at once, as a looping bot would.
		LoopLimit: -1})
	must(err)
	connects := make(chan bot.User, 16)
	eng, err := bot.New(be, nil, echo.Plugin{}, &testPlugin{connects: connects})
	must(err)
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("engine Run: %v", err)
		}
	}()
	select {
	case <-connects:
	case err := <-done:
		done <- err
		b.Fatalf("engine stopped before connecting: %v", err)
	case <-time.After(waitLimit):
		b.Fatal("bot did not connect")
	}

	var added []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		c := ps.NewCommand()
		if _, err := fake.CreatePost(alice.ID, mm.Post{ChannelID: ch.ID, Message: c.Text()}); err != nil {
			b.Fatal(err)
		}
		t, err := ps.Wait(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		added = append(added, t.Added())
	}
	slices.Sort(added)
	b.ReportMetric(float64(pathbench.Percentile(added, 50))/float64(time.Microsecond), "added-p50-us")
	b.ReportMetric(float64(pathbench.Percentile(added, 99))/float64(time.Microsecond), "added-p99-us")
}
