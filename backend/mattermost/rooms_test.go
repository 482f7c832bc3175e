package mattermost

import (
	"fmt"
	"slices"
	"testing"

	mm "github.com/matterbot/matterbot/mattermost"
)

// TestPresenceOfOthers: a status_change about another user (a server
// that broadcasts them to everyone, as the AccurateStatuses feature of
// a fork does; Mattermost sends a user only its own, see
// TestEventsReachPlugins) reaches HandlePresence for a user the
// directory holds; one about a user it does not hold, known to the
// server or not, is dropped without asking the server: on such a server
// every status of 50,000 people would cost a lookup.
func TestPresenceOfOthers(t *testing.T) {
	b := offlineBackend(aliceID)
	api := b.dir.api.(*fakeLookup)
	if _, err := b.dir.user(t.Context(), bobID); err != nil {
		t.Fatal(err)
	}
	before := api.count()
	h := &recorder{}
	for _, id := range []string{bobID, adminID, "nosuchuserxxxxxxxxxxxxxxxx"} {
		frame := fmt.Sprintf(`{"event":"status_change","data":{"status":"away","user_id":%q},"broadcast":{"user_id":""},"seq":1}`, id)
		ev, _, err := mm.DecodeFrame([]byte(frame))
		if err != nil {
			t.Fatalf("DecodeFrame(%s): %v", frame, err)
		}
		if err := b.handle(t.Context(), h, ev); err != nil {
			t.Fatalf("handle(status_change %s): %v", id, err)
		}
	}
	if len(h.presences) != 1 || h.presences[0].User.Username != "bob" || h.presences[0].Status != "away" {
		t.Errorf("presences = %+v, want bob away only", h.presences)
	}
	if n := api.count() - before; n != 0 {
		t.Errorf("status changes made %d lookups, want none", n)
	}
}

// TestDirectoryJoinLeave: the bot's own user_added and user_removed
// keep the set of its channels, as JoinRoom and LeaveRoom do.
func TestDirectoryJoinLeave(t *testing.T) {
	d := newDirectory(newFakeLookup(), botID, dirOptions{})
	d.apply(&mm.Event{Payload: &mm.UserAddedEvent{UserID: botID, ChannelID: opsID}})
	d.apply(&mm.Event{Payload: &mm.UserAddedEvent{UserID: bobID, ChannelID: secretID}})
	if got, want := d.myChannels(), []string{opsID}; !slices.Equal(got, want) {
		t.Errorf("after user_added: myChannels() = %q, want %q (bob's join is not the bot's)", got, want)
	}
	d.join(secretID)
	want := []string{opsID, secretID}
	slices.Sort(want)
	if got := d.myChannels(); !slices.Equal(got, want) {
		t.Errorf("after joins: myChannels() = %q, want %q", got, want)
	}
	d.apply(&mm.Event{Payload: &mm.UserRemovedEvent{ChannelID: opsID}}) // the bot's own: no user id
	d.leave(secretID)
	if got := d.myChannels(); len(got) != 0 {
		t.Errorf("after leaving: myChannels() = %q, want none", got)
	}
}

func TestValidChannelName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"incident-42", true},
		{"a_b", true},
		{"ab", true},
		{"a", false},
		{"Ops", false},
		{"-ops", false},
		{"ops_", false},
		{"ops room", false},
		{"ünï", false},
		{string(make([]byte, 65)), false},
	}
	for _, tc := range tests {
		if got := validChannelName(tc.in); got != tc.want {
			t.Errorf("validChannelName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
