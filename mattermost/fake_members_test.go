package mattermost_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// TestChannelMembersAgainstFake pages through a channel's members on
// mmtest, and is refused a private channel's it is not in.
func TestChannelMembersAgainstFake(t *testing.T) {
	w := newFakeWorld(t)
	c := w.botClient(t)
	ctx := t.Context()
	var got []string
	for page := 0; ; page++ {
		ms, _, err := c.ChannelMembers(ctx, w.ops.ID, page, 1)
		if err != nil {
			t.Fatalf("ChannelMembers(ops, page %d) error = %v", page, err)
		}
		for _, m := range ms {
			if m.ChannelID != w.ops.ID {
				t.Errorf("member %s of channel %s, want %s", m.UserID, m.ChannelID, w.ops.ID)
			}
			got = append(got, m.UserID)
		}
		if len(ms) < 1 {
			break
		}
		if page > 3 {
			t.Fatalf("ChannelMembers(ops) still answering at page %d: %v", page, got)
		}
	}
	want := []string{w.alice.ID, w.bot.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ChannelMembers(ops) = %v, want %v", got, want)
	}

	priv, err := w.srv.AddChannel(w.team.ID, "secret", "Secret", mattermost.ChannelPrivate)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ChannelMembers(ctx, priv.ID, 0, 0); !errors.Is(err, mattermost.ErrForbidden) {
		t.Errorf("ChannelMembers(private, not a member) error = %v, want ErrForbidden", err)
	}
}
