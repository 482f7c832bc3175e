package mattermost_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// TestAgainstFakeServerEndpoints covers the client methods that
// TestAgainstFakeServer does not, so that every endpoint the client knows
// has been exercised against mmtest at least once, with the outcome the
// real server gives (see ../shared/mattermost/recorded for the 403s).
func TestAgainstFakeServerEndpoints(t *testing.T) {
	w := newFakeWorld(t)
	c := w.botClient(t)
	ctx := t.Context()
	client := func(token string) *mattermost.Client {
		t.Helper()
		c, err := w.srv.Client(token)
		if err != nil {
			t.Fatalf("srv.Client: %v", err)
		}
		return c
	}
	bob, err := w.srv.AddUser(mmtest.User{Username: "bob", Password: "bob-pw-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(w.team.ID, bob.ID); err != nil {
		t.Fatal(err)
	}

	// Users.
	if u, _, err := c.User(ctx, w.alice.ID); err != nil || u.Username != "alice" {
		t.Errorf("User(alice) = %v, %v", u, err)
	}
	if _, _, err := c.User(ctx, mattermost.NewID()); !errors.Is(err, mattermost.ErrNotFound) {
		t.Errorf("User(unknown) = %v, want ErrNotFound", err)
	}
	us, _, err := c.UsersByIDs(ctx, []string{w.alice.ID, bob.ID, mattermost.NewID()})
	if err != nil || len(us) != 2 {
		t.Errorf("UsersByIDs(alice, bob, unknown) = %d users, %v; want 2", len(us), err)
	}
	if st, _, err := c.UserStatus(ctx, w.alice.ID); err != nil || st.UserID != w.alice.ID || st.Status == "" {
		t.Errorf("UserStatus(alice) = %+v, %v", st, err)
	}
	if sts, _, err := c.UserStatuses(ctx, []string{w.alice.ID, bob.ID}); err != nil || len(sts) != 2 {
		t.Errorf("UserStatuses(alice, bob) = %v, %v; want 2", sts, err)
	}
	if st, _, err := c.UpdateUserStatus(ctx, w.bot.ID, mattermost.StatusAway); err != nil || st.Status != mattermost.StatusAway || !st.Manual {
		t.Errorf("UpdateUserStatus(bot, away) = %+v, %v; want away, manual", st, err)
	}
	if _, _, err := c.UpdateUserStatus(ctx, bob.ID, mattermost.StatusAway); !errors.Is(err, mattermost.ErrForbidden) {
		t.Errorf("UpdateUserStatus(bob) by the bot = %v, want ErrForbidden", err)
	}

	// Teams.
	if tm, _, err := c.Team(ctx, w.team.ID); err != nil || tm.Name != "ops-team" {
		t.Errorf("Team() = %v, %v", tm, err)
	}

	// Channels: create, read, patch, members.
	pub, _, err := c.CreateChannel(ctx, &mattermost.Channel{TeamID: w.team.ID, Name: "deploys", DisplayName: "Deploys", Type: mattermost.ChannelOpen})
	if err != nil || pub.Type != mattermost.ChannelOpen || pub.CreatorID != w.bot.ID {
		t.Fatalf("CreateChannel(O) = %v, %v", pub, err)
	}
	if _, _, err := c.CreateChannel(ctx, &mattermost.Channel{TeamID: w.team.ID, Name: "deploys", DisplayName: "Again", Type: mattermost.ChannelOpen}); !errors.Is(err, mattermost.ErrBadRequest) {
		t.Errorf("CreateChannel(name taken) = %v, want ErrBadRequest", err)
	}
	priv, _, err := c.CreateChannel(ctx, &mattermost.Channel{TeamID: w.team.ID, Name: "secret", DisplayName: "Secret", Type: mattermost.ChannelPrivate})
	if err != nil || priv.Type != mattermost.ChannelPrivate {
		t.Fatalf("CreateChannel(P) = %v, %v", priv, err)
	}
	if ch, _, err := c.Channel(ctx, priv.ID); err != nil || ch.Name != "secret" {
		t.Errorf("Channel(private, member) = %v, %v", ch, err)
	}
	if ch, _, err := c.SetChannelHeader(ctx, pub.ID, "deploy log"); err != nil || ch.Header != "deploy log" {
		t.Errorf("SetChannelHeader() = %v, %v", ch, err)
	}
	if ch, _, err := c.SetChannelPurpose(ctx, pub.ID, "where deploys are announced"); err != nil || ch.Purpose != "where deploys are announced" {
		t.Errorf("SetChannelPurpose() = %v, %v", ch, err)
	}
	name := "Deploys and rollbacks"
	if ch, _, err := c.PatchChannel(ctx, pub.ID, &mattermost.ChannelPatch{DisplayName: &name}); err != nil || ch.DisplayName != name || ch.Header != "deploy log" {
		t.Errorf("PatchChannel(display_name) = %v, %v; want the header kept", ch, err)
	}
	if m, _, err := c.AddChannelMember(ctx, priv.ID, w.alice.ID); err != nil || m.UserID != w.alice.ID || m.ChannelID != priv.ID {
		t.Errorf("AddChannelMember(alice) = %v, %v", m, err)
	}
	if m, _, err := c.ChannelMember(ctx, priv.ID, w.alice.ID); err != nil || m.UserID != w.alice.ID {
		t.Errorf("ChannelMember(alice) = %v, %v", m, err)
	}
	if _, err := c.RemoveChannelMember(ctx, priv.ID, w.alice.ID); err != nil {
		t.Errorf("RemoveChannelMember(alice) = %v", err)
	}
	if _, _, err := c.ChannelMember(ctx, priv.ID, w.alice.ID); !errors.Is(err, mattermost.ErrNotFound) {
		t.Errorf("ChannelMember(alice, removed) = %v, want ErrNotFound", err)
	}
	gm, _, err := c.CreateGroupChannel(ctx, []string{w.bot.ID, w.alice.ID, bob.ID})
	if err != nil || gm.Type != mattermost.ChannelGroup || gm.TeamID != "" {
		t.Errorf("CreateGroupChannel() = %v, %v", gm, err)
	}
	if _, _, err := c.CreateGroupChannel(ctx, []string{w.bot.ID, w.alice.ID}); !errors.Is(err, mattermost.ErrBadRequest) {
		t.Errorf("CreateGroupChannel(2 users) = %v, want ErrBadRequest", err)
	}

	// Posts: paging around a post, patch, ephemeral, files of a post.
	var ids []string
	for _, msg := range []string{"one", "two", "three"} {
		p, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: pub.ID, Message: msg})
		if err != nil {
			t.Fatalf("CreatePost(%q) = %v", msg, err)
		}
		ids = append(ids, p.ID)
	}
	if after, _, err := c.ChannelPostsAfter(ctx, pub.ID, ids[0], 0, 60); err != nil || !slices.Equal(after.Order, []string{ids[2], ids[1]}) {
		t.Errorf("ChannelPostsAfter(one) = %v, %v; want three, two", orderOf(after), err)
	}
	// Before "three" come "two", "one", then the system posts of the
	// channel's creation and patches, as on the real server.
	if before, _, err := c.ChannelPostsBefore(ctx, pub.ID, ids[2], 0, 60); err != nil || len(before.Order) < 2 || !slices.Equal(before.Order[:2], []string{ids[1], ids[0]}) {
		t.Errorf("ChannelPostsBefore(three) = %v, %v; want two, one first", orderOf(before), err)
	}
	pinned := true
	if p, _, err := c.PatchPost(ctx, ids[0], &mattermost.PostPatch{IsPinned: &pinned}); err != nil || !p.IsPinned || p.Message != "one" {
		t.Errorf("PatchPost(is_pinned) = %v, %v", p, err)
	}
	// A bot without create_post_ephemeral gets 403 (post_ephemeral_as_bot);
	// a system admin may (post_ephemeral_as_admin).
	if _, _, err := c.CreateEphemeralPost(ctx, w.alice.ID, &mattermost.Post{ChannelID: pub.ID, Message: "psst"}); !errors.Is(err, mattermost.ErrForbidden) {
		t.Errorf("CreateEphemeralPost(as bot) = %v, want ErrForbidden", err)
	}
	root, err := w.srv.AddUser(mmtest.User{Username: "root", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	rootTok, err := w.srv.CreateToken(root.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := client(rootTok)
	if p, _, err := admin.CreateEphemeralPost(ctx, w.alice.ID, &mattermost.Post{ChannelID: pub.ID, Message: "psst"}); err != nil || p.Message != "psst" {
		t.Errorf("CreateEphemeralPost(as admin) = %v, %v", p, err)
	}
	fi, _, err := c.UploadFile(ctx, pub.ID, "notes.txt", strings.NewReader("notes"))
	if err != nil {
		t.Fatal(err)
	}
	wf, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: pub.ID, Message: "notes", FileIDs: []string{fi.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if infos, _, err := c.PostFileInfos(ctx, wf.ID); err != nil || len(infos) != 1 || infos[0].Name != "notes.txt" {
		t.Errorf("PostFileInfos() = %v, %v", infos, err)
	}

	// Team membership and webhooks need rights the bot lacks; the admin has them.
	carol, err := w.srv.AddUser(mmtest.User{Username: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if tm, _, err := admin.AddTeamMember(ctx, w.team.ID, carol.ID); err != nil || tm.UserID != carol.ID {
		t.Errorf("AddTeamMember(carol) = %v, %v", tm, err)
	}
	hook, _, err := admin.CreateIncomingWebhook(ctx, &mattermost.IncomingWebhook{ChannelID: pub.ID, DisplayName: "cards"})
	if err != nil || hook.ID == "" || hook.ChannelID != pub.ID {
		t.Fatalf("CreateIncomingWebhook(as admin) = %v, %v", hook, err)
	}
	if _, err := c.PostWebhook(ctx, hook.ID, &mattermost.WebhookMessage{Text: "via hook"}); err != nil {
		t.Errorf("PostWebhook(new hook) = %v", err)
	}

	// Login and logout with a password: the session token works, then dies.
	lc := client("")
	me, _, err := lc.Login(ctx, "bob", mattermost.Secret("bob-pw-1"), "")
	if err != nil || me.ID != bob.ID || lc.Token() == "" {
		t.Fatalf("Login(bob) = %v, %v (token set: %v)", me, err, lc.Token() != "")
	}
	if _, _, err := lc.Me(ctx); err != nil {
		t.Errorf("Me() after login = %v", err)
	}
	if _, _, err := lc.Login(ctx, "bob", mattermost.Secret("wrong"), ""); !errors.Is(err, mattermost.ErrUnauthorized) {
		t.Errorf("Login(bad password) = %v, want ErrUnauthorized", err)
	}
	session := lc.Token()
	if _, err := lc.Logout(ctx); err != nil {
		t.Errorf("Logout() = %v", err)
	}
	dead := client(string(session))
	if _, _, err := dead.Me(ctx); !errors.Is(err, mattermost.ErrUnauthorized) {
		t.Errorf("Me() with the logged-out session = %v, want ErrUnauthorized", err)
	}
}

func orderOf(l *mattermost.PostList) []string {
	if l == nil {
		return nil
	}
	return l.Order
}
