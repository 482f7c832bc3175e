package mmtest

import (
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

func TestSetBotDescription(t *testing.T) {
	w := newWorld(t, nil)
	if err := w.srv.SetBotDescription(w.bot.ID, "deploys things"); err != nil {
		t.Fatal(err)
	}
	var u mattermost.User
	w.do(t, "GET", "/users/"+w.bot.ID, w.aliceTok, nil).json(t, &u)
	if u.BotDescription != "deploys things" {
		t.Errorf("GET /users/{bot} bot_description = %q, want %q", u.BotDescription, "deploys things")
	}
	var b mattermost.Bot
	w.do(t, "GET", "/bots/"+w.bot.ID, w.rootTok, nil).json(t, &b)
	if b.Description != "deploys things" {
		t.Errorf("GET /bots/{bot} description = %q, want %q", b.Description, "deploys things")
	}
	for _, tc := range []struct{ id, desc, want string }{
		{w.alice.ID, "x", "store.sql_bot.get.missing.app_error"},
		{mattermost.NewID(), "x", "store.sql_bot.get.missing.app_error"},
		{w.bot.ID, strings.Repeat("é", 1025), "model.bot.is_valid.description.app_error"},
	} {
		if err := w.srv.SetBotDescription(tc.id, tc.desc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetBotDescription(%s, %d runes) = %v, want %s", tc.id, len([]rune(tc.desc)), err, tc.want)
		}
	}
}
