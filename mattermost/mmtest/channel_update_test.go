package mmtest

import (
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// TestUpdateChannel follows api4/channel.go updateChannel: the full
// update replaces header and purpose, keeps an omitted display name and
// name, and posts a display-name change whenever the body's display name
// differs from the old one (an omitted one included).
func TestUpdateChannel(t *testing.T) {
	w := newWorld(t, nil)
	ch, err := w.srv.AddChannel(w.team.ID, "news", "News", mattermost.ChannelOpen)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(ch.ID, w.alice.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "PUT", "/channels/"+ch.ID+"/patch", w.aliceTok, map[string]string{"purpose": "old purpose"}); r.status != 200 {
		t.Fatalf("patch = %d %s", r.status, r.body)
	}
	w.takeEvents()
	before := len(w.srv.Posts(ch.ID))

	// errbot's topic setter sends only the id and the header.
	r := w.do(t, "PUT", "/channels/"+ch.ID, w.aliceTok, map[string]string{"id": ch.ID, "header": "new topic"})
	expect(t, "update header", r, ok(200))
	var got mattermost.Channel
	r.json(t, &got)
	if got.Header != "new topic" || got.Purpose != "" || got.DisplayName != "News" || got.Name != "news" {
		t.Errorf("updated = header %q purpose %q display %q name %q, want the header set, the purpose cleared, the names kept",
			got.Header, got.Purpose, got.DisplayName, got.Name)
	}
	var updated bool
	for _, e := range w.takeEvents() {
		updated = updated || e.name == "channel_updated" && e.channelID == ch.ID
	}
	if !updated {
		t.Error("no channel_updated event")
	}
	posts := w.srv.Posts(ch.ID)
	if len(posts) != before+1 {
		t.Fatalf("%d posts after the update, want %d (the display name post)", len(posts), before+1)
	}
	last := posts[len(posts)-1]
	if want := "alice updated the channel display name from: News to: "; last.Type != "system_displayname_change" || last.Message != want {
		t.Errorf("system post = %s %q, want system_displayname_change %q", last.Type, last.Message, want)
	}

	r = w.do(t, "PUT", "/channels/"+ch.ID, w.aliceTok, map[string]string{"id": ch.ID, "display_name": "Daily News", "name": "daily"})
	expect(t, "rename", r, ok(200))
	if r := w.do(t, "GET", "/teams/"+w.team.ID+"/channels/name/daily", w.aliceTok, nil); r.status != 200 {
		t.Errorf("GET by the new name = %d %s", r.status, r.body)
	}

	town, found := w.srv.Channel(w.team.ID, "town-square")
	if !found {
		t.Fatal("no town-square")
	}
	dm, err := w.srv.DirectChannel(w.alice.ID, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddChannelMember(ch.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, "DELETE", "/channels/"+ch.ID, w.aliceTok, nil); r.status != 200 {
		t.Fatalf("archive = %d %s", r.status, r.body)
	}
	secret := w.privateChannel(t, "secret", w.alice)
	for _, tc := range []struct {
		name, id, token string
		body            map[string]string
		want            answer
	}{
		{"id mismatch", secret.ID, w.aliceTok, map[string]string{"id": ch.ID}, answer{400, idBodyParm}},
		{"unknown channel", town.ID[:25] + "x", w.aliceTok, map[string]string{"id": town.ID[:25] + "x"}, answer{404, "app.channel.get.existing.app_error"}},
		{"private, not a member", secret.ID, w.bobTok, map[string]string{"id": secret.ID}, answer{403, idPerm}},
		{"private, a member", secret.ID, w.aliceTok, map[string]string{"id": secret.ID, "header": "h"}, ok(200)},
		{"archived", ch.ID, w.aliceTok, map[string]string{"id": ch.ID}, answer{400, "api.channel.update_channel.deleted.app_error"}},
		{"type change", secret.ID, w.aliceTok, map[string]string{"id": secret.ID, "type": "O"}, answer{400, "api.channel.update_channel.typechange.app_error"}},
		{"rename town-square", town.ID, w.aliceTok, map[string]string{"id": town.ID, "name": "plaza"}, answer{400, "api.channel.update_channel.tried.app_error"}},
		{"DM header", dm.ID, w.bobTok, map[string]string{"id": dm.ID, "header": "ours"}, ok(200)},
		{"DM purpose", dm.ID, w.bobTok, map[string]string{"id": dm.ID, "purpose": "x"}, answer{400, "api.channel.update_channel.update_direct_or_group_messages_not_allowed.app_error"}},
		{"DM, not a member", dm.ID, w.rootTok, map[string]string{"id": dm.ID}, answer{403, "api.channel.patch_update_channel.forbidden.app_error"}},
		{"too long a header", secret.ID, w.aliceTok, map[string]string{"id": secret.ID, "header": string(make([]byte, 1025))}, answer{400, "model.channel.is_valid.header.app_error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, "PUT /channels/"+tc.id, w.do(t, "PUT", "/channels/"+tc.id, tc.token, tc.body), tc.want)
		})
	}
}
