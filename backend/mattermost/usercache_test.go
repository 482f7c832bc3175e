package mattermost

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mm "github.com/matterbot/matterbot/mattermost"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestUserCacheEvicts: beyond its size the cache forgets the least
// recently used user, by id and by name; a lookup makes a user recently
// used.
func TestUserCacheEvicts(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	c := newUserCache(3, time.Hour, clk.now)
	user := func(i int) *mm.User {
		return &mm.User{ID: fmt.Sprintf("user%022d", i), Username: fmt.Sprintf("U%d", i)}
	}
	for i := range 3 {
		if n := c.put(user(i)); n != 0 {
			t.Errorf("put(user %d) evicted %d, want 0", i, n)
		}
	}
	if _, fresh := c.get(user(0).ID); !fresh { // 0 is now the most recently used
		t.Fatal("user 0 not cached")
	}
	if n := c.put(user(3)); n != 1 {
		t.Errorf("put(user 3) evicted %d, want 1", n)
	}
	if u, _ := c.get(user(1).ID); u != nil {
		t.Errorf("user 1, the least recently used, is still cached")
	}
	if u, _ := c.getByName("u1"); u != nil {
		t.Errorf("user 1 is still cached by name")
	}
	if diff := cmp.Diff([]string{user(3).ID, user(0).ID, user(2).ID}, c.ids()); diff != "" {
		t.Errorf("ids, most recent first (-want +got):\n%s", diff)
	}
	if c.len() != 3 || len(c.byName) != 3 {
		t.Errorf("len = %d by id, %d by name; want 3 and 3", c.len(), len(c.byName))
	}
	// A rename moves the name; the old one no longer finds the user.
	r := user(3)
	r.Username = "renamed"
	c.put(r)
	if u, _ := c.getByName("u3"); u != nil {
		t.Errorf("old name still finds %v", u)
	}
	if u, _ := c.getByName("renamed"); u == nil || u.ID != r.ID {
		t.Errorf("getByName(renamed) = %v, want user 3", u)
	}
	// An update about a user the cache does not hold is not kept.
	c.update(user(9))
	if u, _ := c.get(user(9).ID); u != nil {
		t.Error("update of an unknown user filled the cache")
	}
}

// TestUserCacheSlim: the cache keeps what the bot uses of a user, not
// its settings.
func TestUserCacheSlim(t *testing.T) {
	c := newUserCache(10, 0, time.Now)
	c.put(&mm.User{ID: bobID, Username: "bob", FirstName: "Bob", LastName: "B", Nickname: "bb", Roles: "system_user",
		IsBot: true, DeleteAt: 7, NotifyProps: map[string]string{"email": "true"}, Timezone: map[string]string{"a": "b"},
		Props: map[string]string{"x": "y"}, Email: "bob@example.com", Position: "builder"})
	got, fresh := c.get(bobID)
	want := &mm.User{ID: bobID, Username: "bob", FirstName: "Bob", LastName: "B", Nickname: "bb", Roles: "system_user", IsBot: true, DeleteAt: 7}
	if diff := cmp.Diff(want, got); diff != "" || !fresh {
		t.Errorf("cached user (-want +got), fresh %v:\n%s", fresh, diff)
	}

	// Renamed, with a name emptied and one not ASCII: the old name is
	// forgotten, the new one found, the fields kept apart.
	c.put(&mm.User{ID: bobID, Username: "robert", FirstName: "Rébert", Nickname: "", Roles: "system_user system_admin"})
	got, _ = c.get(bobID)
	want = &mm.User{ID: bobID, Username: "robert", FirstName: "Rébert", Roles: "system_user system_admin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("renamed user (-want +got):\n%s", diff)
	}
	if u, _ := c.getByName("bob"); u != nil {
		t.Errorf("getByName(bob) after the rename = %v, want nil", u)
	}
	if u, _ := c.getByName("robert"); u == nil || u.ID != bobID || c.len() != 1 {
		t.Errorf("getByName(robert) = %v with %d cached, want bob alone", u, c.len())
	}
}

// TestDirectoryUserCache: the directory asks the server for a user it
// does not hold or holds for longer than its expiry, counts hits and
// misses, never forgets the bot, and serves a stale user when the server
// cannot answer.
func TestDirectoryUserCache(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	api := newFakeLookup()
	var hits, misses int
	d := newDirectory(api, aliceID, dirOptions{users: 2, usersTTL: time.Minute, now: clk.now, observe: func(hit bool) {
		if hit {
			hits++
		} else {
			misses++
		}
	}})
	d.putUser(&mm.User{ID: aliceID, Username: "alice"})
	lookup := func(id string) {
		t.Helper()
		if _, err := d.user(t.Context(), id); err != nil {
			t.Fatalf("user(%s): %v", id, err)
		}
	}
	for _, id := range []string{bobID, bobID, adminID, botID, aliceID, bobID} {
		lookup(id)
	}
	// bob (miss, hit), admin (miss), bot (miss: bob evicted), alice
	// (hit: never evicted), bob (miss again).
	if api.count() != 4 || hits != 2 || misses != 4 {
		t.Errorf("server asked %d times, %d hits, %d misses; want 4, 2, 4", api.count(), hits, misses)
	}
	if d.cachedUser(adminID) != nil {
		t.Error("admin still cached beyond the size of 2 (alice aside)")
	}
	clk.t = clk.t.Add(time.Minute)
	lookup(bobID) // expired: asked again
	if api.count() != 5 {
		t.Errorf("server asked %d times after expiry, want 5", api.count())
	}
	clk.t = clk.t.Add(time.Minute)
	api.mu.Lock()
	delete(api.users, bobID) // the server now answers 404: gone
	api.mu.Unlock()
	if u, err := d.user(t.Context(), bobID); err == nil {
		t.Errorf("user(bob) after a 404 = %v, want the error", u)
	}
	failing := &failingLookup{fakeLookup: api, err: &mm.APIError{StatusCode: 503}}
	d.api = failing
	clk.t = clk.t.Add(time.Minute)
	if u, err := d.user(t.Context(), botID); err != nil || u.ID != botID {
		t.Errorf("user(bot) with the server failing = %v, %v; want the stale bot", u, err)
	}
}

// failingLookup fails every user lookup with err.
type failingLookup struct {
	*fakeLookup
	err error
}

func (f *failingLookup) user(context.Context, string) (*mm.User, error) { return nil, f.err }

// TestDirectoryChannelSlim: the directory keeps what the bot uses of a
// channel, and hands out copies.
func TestDirectoryChannelSlim(t *testing.T) {
	d := newDirectory(newFakeLookup(), aliceID, dirOptions{})
	d.putChannel(&mm.Channel{ID: opsID, TeamID: teamID, Type: mm.ChannelOpen, Name: "ops", DisplayName: "Ops",
		Header: "a long header", Purpose: "a purpose", Props: map[string]any{"x": 1}, LastPostAt: 42})
	got := d.cachedChannel(opsID)
	want := &mm.Channel{ID: opsID, TeamID: teamID, Type: mm.ChannelOpen, Name: "ops", DisplayName: "Ops"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cached channel (-want +got):\n%s", diff)
	}
	got.Name = "changed"
	if again := d.cachedChannel(opsID); again.Name != "ops" {
		t.Errorf("a change to a channel handed out reached the cache: %q", again.Name)
	}
	if ch, err := d.channelByName(t.Context(), teamID, "OPS"); err != nil || ch.ID != opsID {
		t.Errorf("channelByName(OPS) = %v, %v; want ~ops from the cache", ch, err)
	}

	// The bot in a channel the directory does not hold: a member, not a
	// channel it can describe, until it is told; one entry for both.
	d.join(secretID)
	if ch := d.cachedChannel(secretID); ch != nil {
		t.Errorf("cachedChannel(dev) after a join alone = %v, want nil", ch)
	}
	d.putChannel(&mm.Channel{ID: secretID, TeamID: teamID, Type: mm.ChannelOpen, Name: "secret"})
	if ch := d.cachedChannel(secretID); ch == nil || ch.Name != "secret" || !slices.Equal(d.myChannels(), []string{secretID}) {
		t.Errorf("after putChannel(dev): cached %v, mine %q; want dev, [dev]", ch, d.myChannels())
	}
	if id := d.channelID(secretID); id != secretID || len(d.channels) != 2 {
		t.Errorf("channelID(dev) = %q with %d entries, want %q and 2", id, len(d.channels), secretID)
	}
	d.leave(secretID)
	if ch := d.cachedChannel(secretID); ch == nil || len(d.myChannels()) != 0 {
		t.Errorf("after leave(dev): cached %v, mine %q; want dev still described, none mine", ch, d.myChannels())
	}
}
