package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
)

// buildIDs builds a small world in a new server and returns the ids of
// its accounts, team and channels, by name, and one post's id.
func buildIDs(t *testing.T, opts *Options) (ids map[string]string, postID string) {
	t.Helper()
	s := New(opts)
	defer s.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := s.AddTeam("ops", "Ops")
	must(err)
	alice, err := s.AddUser(User{Username: "alice"})
	must(err)
	bob, err := s.AddUser(User{Username: "bob"})
	must(err)
	bot, err := s.AddBot("ops-bot", "Ops Bot", alice.ID)
	must(err)
	ch, err := s.AddChannel(team.ID, "deploys", "Deploys", mattermost.ChannelOpen)
	must(err)
	town, _ := s.Channel(team.ID, "town-square")
	dm, err := s.DirectChannel(alice.ID, bot.ID)
	must(err)
	gm, err := s.GroupChannel(alice.ID, bob.ID, bot.ID)
	must(err)
	must(s.AddTeamMember(team.ID, alice.ID))
	must(s.AddChannelMember(ch.ID, alice.ID))
	p, err := s.CreatePost(alice.ID, mattermost.Post{ChannelID: ch.ID, Message: "hi"})
	must(err)
	return map[string]string{"team": team.ID, "alice": alice.ID, "bob": bob.ID, "bot": bot.ID,
		"deploys": ch.ID, "town-square": town.ID, "dm": dm.ID, "gm": gm.ID}, p.ID
}

func TestStableIDs(t *testing.T) {
	first, post1 := buildIDs(t, &Options{StableIDs: true})
	again, post2 := buildIDs(t, &Options{StableIDs: true})
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("StableIDs: the same world built twice has other ids (-first +again):\n%s", diff)
	}
	seen := map[string]string{}
	for name, id := range first {
		if !mattermost.IsValidID(id) {
			t.Errorf("id of %s = %q, not a server id", name, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share the id %s", name, other, id)
		}
		seen[id] = name
	}
	if post1 == post2 {
		t.Errorf("StableIDs: post id %s repeated across worlds, want posts random", post1)
	}
	random, _ := buildIDs(t, nil)
	for name, id := range random {
		if id == first[name] {
			t.Errorf("without StableIDs, %s has the stable id %s", name, id)
		}
	}
}

func TestStableIDsNameReused(t *testing.T) {
	s := New(&Options{StableIDs: true})
	defer s.Close()
	alice, err := s.AddUser(User{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenameUser(alice.ID, "alice2"); err != nil {
		t.Fatal(err)
	}
	again, err := s.AddUser(User{Username: "alice"})
	if err != nil {
		t.Fatalf("a new alice after the rename: %v", err)
	}
	if again.ID == alice.ID {
		t.Errorf("the new alice got the renamed account's id %s", alice.ID)
	}
}
