package mmtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/mattermost"
)

// TestCreateBot follows api4/bot.go createBot and app/bot.go CreateBot:
// admins only (and not bots), EnableBotAccountCreation, the bot's
// checks, and the welcome post to the owner.
func TestCreateBot(t *testing.T) {
	w := newWorld(t, &Options{EnableBotAccountCreation: true})
	if err := w.srv.SetSystemAdmin(w.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	body := map[string]string{"username": "Helper", "display_name": "Helper", "description": "helps"}
	expect(t, "as a user", w.do(t, "POST", "/bots", w.aliceTok, body), answer{403, idPerm})
	expect(t, "as a bot, even an admin one", w.do(t, "POST", "/bots", w.botTok, body), answer{403, idPerm})
	r := w.do(t, "POST", "/bots", w.rootTok, body)
	expect(t, "as an admin", r, ok(201))
	var b mattermost.Bot
	r.json(t, &b)
	if b.Username != "helper" || b.DisplayName != "Helper" || b.Description != "helps" || b.OwnerID != w.root.ID || b.DeleteAt != 0 {
		t.Errorf("bot = %+v, want helper owned by root", b)
	}
	dm, found := w.srv.Channel("", dmName(b.UserID, w.root.ID))
	if !found {
		t.Fatal("no direct channel between the bot and its owner")
	}
	posts := w.srv.Posts(dm.ID)
	if len(posts) != 1 || posts[0].UserID != b.UserID || posts[0].Type != "add_bot_teams_channels" || posts[0].Message != botAddMessage {
		t.Errorf("posts to the owner = %+v, want the bot's add_bot_teams_channels message", posts)
	}
	for _, tc := range []struct {
		name string
		body map[string]string
		want answer
	}{
		{"taken username", map[string]string{"username": "helper"}, answer{400, "app.user.save.username_exists.app_error"}},
		{"bad username", map[string]string{"username": "-x"}, answer{400, "model.bot.is_valid.username.app_error"}},
		{"long display name", map[string]string{"username": "helper2", "display_name": string(make([]rune, 65))}, answer{400, "model.bot.is_valid.display_name.app_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "POST /bots", w.do(t, "POST", "/bots", w.rootTok, tc.body), tc.want)
		})
	}
	off := newWorld(t, nil)
	expect(t, "bot creation disabled", off.do(t, "POST", "/bots", off.rootTok, body), answer{403, "api.bot.create_disabled"})
}

// TestBots follows api4/bot.go getBots, getBot, patchBot, updateBotActive
// and assignBot, with app SessionHasPermissionToManageBot.
func TestBots(t *testing.T) {
	w := newWorld(t, nil)
	mine, err := w.srv.AddBot("alice-bot", "Alice's", w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, path, token string) []string {
		t.Helper()
		r := w.do(t, "GET", path, token, nil)
		expect(t, path, r, ok(200))
		var bs []mattermost.Bot
		r.json(t, &bs)
		out := []string{}
		for _, b := range bs {
			out = append(out, b.Username)
		}
		return out
	}
	if diff := cmp.Diff([]string{"alice-bot", "ops-bot"}, list(t, "/bots", w.rootTok)); diff != "" {
		t.Errorf("bots as an admin (-want +got):\n%s", diff)
	}
	expect(t, "bots as a user", w.do(t, "GET", "/bots", w.aliceTok, nil), answer{403, idPerm})
	// A user may read their own bots once granted read_bots.
	if err := w.srv.SetRolePermissions("system_user", permReadBots, permManageBots); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alice-bot"}, list(t, "/bots", w.aliceTok)); diff != "" {
		t.Errorf("bots as their owner (-want +got):\n%s", diff)
	}
	expect(t, "get one's own bot", w.do(t, "GET", "/bots/"+mine.ID, w.aliceTok, nil), ok(200))
	expect(t, "get another's bot", w.do(t, "GET", "/bots/"+w.bot.ID, w.aliceTok, nil), answer{404, "store.sql_bot.get.missing.app_error"})
	expect(t, "get a user as a bot", w.do(t, "GET", "/bots/"+w.bob.ID, w.rootTok, nil), answer{404, "store.sql_bot.get.missing.app_error"})

	r := w.do(t, "PUT", "/bots/"+mine.ID, w.aliceTok, map[string]string{"username": "alice-helper", "description": "new"})
	expect(t, "patch one's own bot", r, ok(200))
	var b mattermost.Bot
	r.json(t, &b)
	if b.Username != "alice-helper" || b.Description != "new" || b.DisplayName != "Alice's" {
		t.Errorf("patched = %+v", b)
	}
	if u, found := w.srv.User("alice-helper"); !found || u.Email != "alice-helper@localhost" {
		t.Errorf("the bot's account after the rename = %+v, %v", u, found)
	}
	expect(t, "patch to a taken name", w.do(t, "PUT", "/bots/"+mine.ID, w.aliceTok, map[string]string{"username": "bob"}), answer{400, "app.user.save.username_exists.app_error"})
	expect(t, "patch another's bot", w.do(t, "PUT", "/bots/"+w.bot.ID, w.aliceTok, map[string]string{"description": "x"}), answer{404, "store.sql_bot.get.missing.app_error"})
	if err := w.srv.SetRolePermissions("system_user", permReadBots, permManageBots, permReadOthersBots); err != nil {
		t.Fatal(err)
	}
	expect(t, "patch another's bot, readable", w.do(t, "PUT", "/bots/"+w.bot.ID, w.aliceTok, map[string]string{"description": "x"}), answer{403, idPerm})

	// The bot's token stops working when the bot is disabled.
	r = w.do(t, "POST", "/bots/"+w.bot.ID+"/disable", w.rootTok, nil)
	expect(t, "disable", r, ok(200))
	r.json(t, &b)
	if b.DeleteAt == 0 {
		t.Error("disabled bot has delete_at 0")
	}
	expect(t, "the disabled bot's token", w.do(t, "GET", "/users/me", w.botTok, nil), answer{401, "api.context.session_expired.app_error"})
	expect(t, "get a disabled bot", w.do(t, "GET", "/bots/"+w.bot.ID, w.rootTok, nil), answer{404, "store.sql_bot.get.missing.app_error"})
	expect(t, "get a disabled bot, include_deleted", w.do(t, "GET", "/bots/"+w.bot.ID+"?include_deleted=true", w.rootTok, nil), ok(200))
	if diff := cmp.Diff([]string{"alice-helper"}, list(t, "/bots", w.rootTok)); diff != "" {
		t.Errorf("bots without the disabled (-want +got):\n%s", diff)
	}
	r = w.do(t, "POST", "/bots/"+w.bot.ID+"/enable", w.rootTok, nil)
	r.json(t, &b)
	if r.status != 200 || b.DeleteAt != 0 {
		t.Errorf("enable = %d, delete_at %d", r.status, b.DeleteAt)
	}

	r = w.do(t, "POST", "/bots/"+w.bot.ID+"/assign/"+w.bob.ID, w.rootTok, nil)
	r.json(t, &b)
	if r.status != 200 || b.OwnerID != w.bob.ID {
		t.Errorf("assign = %d, owner %s, want bob", r.status, b.OwnerID)
	}
	expect(t, "assign to a bot", w.do(t, "POST", "/bots/"+w.bot.ID+"/assign/"+mine.ID, w.rootTok, nil), answer{403, idPerm})
	if err := w.srv.DeactivateUser(w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ops-bot"}, list(t, "/bots?only_orphaned=true", w.rootTok)); diff != "" {
		t.Errorf("orphaned bots (-want +got):\n%s", diff)
	}
}
