package about_test

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins/about"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAbout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bottest.NewWithOptions(t, &bot.Options{Version: "v1.2.3"}, &about.Plugin{})
		time.Sleep(90*time.Minute + 1500*time.Millisecond) // fake time, inside the bubble
		start := time.Now().Add(-(90*time.Minute + 1500*time.Millisecond)).UTC().Format(time.RFC3339)
		tests := []struct {
			in   string
			want []bottest.Reply
		}{
			{"!about", []bottest.Reply{{Text: "I am @ops-bot, a matterbot v1.2.3 chat-ops bot. Type `!help` for my commands."}}},
			{"!version", []bottest.Reply{{Text: "matterbot v1.2.3 (" + runtime.Version() + ")"}}},
			{"!uptime", []bottest.Reply{{Text: "Up 1h30m1s, since " + start + "."}}},
			{"!status", []bottest.Reply{{Card: &bot.Card{Title: "Status", Color: "good", Fields: []bot.Field{
				{Title: "Plugins", Value: "1 of 1 active", Short: true},
				{Title: "Uptime", Value: "1h30m1s", Short: true},
				{Title: "Running", Value: "1", Short: true}, // the status command itself
				{Title: "Queued", Value: "0", Short: true},
			}}}}},
		}
		for _, tc := range tests {
			synctest.Wait() // the previous command's goroutine has exited
			got := b.Say(tc.in)
			for i := range got {
				got[i].To, got[i].RoomID = "", ""
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		}
	})
}
