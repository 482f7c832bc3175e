package mattermost_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins/whoami"
)

func waitConnect(t testing.TB, connects <-chan bot.User) {
	t.Helper()
	select {
	case <-connects:
	case <-time.After(waitLimit):
		t.Fatal("bot did not connect")
	}
}

// TestRenamedAdmin renames a bot admin through PUT /users/me/patch: the
// user_updated event the server publishes keeps the bot's directory
// current, so the next command shows the new name with no REST lookup of
// the user, and the admin keeps the rights (admins are held by id), also
// after a reconnect.
func TestRenamedAdmin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts, counts := w.countedOptions()
	be := mustBackend(t, opts)
	connects := w.startEngine(be, &bot.Options{Admins: []string{"@alice"}}, whoami.Plugin{})

	whoami := func(name string) {
		t.Helper()
		w.say(w.ops, "", "!whoami")
		w.reply(w.ops, func(p *mm.Post) bool {
			return strings.Contains(p.Message, "| user | @"+name+" |") && strings.Contains(p.Message, "| admin | yes |")
		})
	}
	whoami("alice")
	userLookups := func() int {
		counts.mu.Lock()
		defer counts.mu.Unlock()
		return counts.paths["GET /api/v4/users/"+w.alice.ID] + counts.paths["GET /api/v4/users/username/alicia"] +
			counts.paths["POST /api/v4/users/ids"]
	}
	before := userLookups()

	// Alice renames herself, as the web app's profile page does.
	u := w.aliceC.ServerURL().String() + "/api/v4/users/me/patch"
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader([]byte(`{"username":"alicia"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+string(w.aliceC.Token()))
	resp, err := w.aliceC.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /users/me/patch = %d, want 200", resp.StatusCode)
	}

	// The socket delivers user_updated before the posted event of the
	// next command, so the reply already has the new name.
	whoami("alicia")
	if n := userLookups() - before; n != 0 {
		t.Errorf("the bot looked the renamed user up %d times, want 0 (the event says it)", n)
	}

	// A fresh connection (new hello, HandleConnect again) does not
	// re-resolve "@alice", now unknown: the admin stays an admin.
	w.srv.RestartWebSockets()
	waitConnect(t, connects)
	whoami("alicia")
}
