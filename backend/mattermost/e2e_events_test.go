package mattermost_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// watcher reports the joins, reactions and presence changes it is given
// as lines on a channel, and has an admin-only command.
type watcher struct{ seen chan string }

func newWatcher() *watcher { return &watcher{seen: make(chan string, 64)} }

func (wt *watcher) Setup(p *bot.Plugin) error {
	p.OnJoin(func(ctx context.Context, j *bot.Join) error {
		wt.seen <- fmt.Sprintf("join %s %s", j.User, j.Room)
		return nil
	})
	p.OnLeave(func(ctx context.Context, l *bot.Leave) error {
		wt.seen <- fmt.Sprintf("leave %s %s", l.User, l.Room)
		return nil
	})
	p.OnReaction(func(ctx context.Context, r *bot.Reaction) error {
		sign := "+"
		if r.Removed {
			sign = "-"
		}
		wt.seen <- fmt.Sprintf("reaction %s%s %s %s %s", sign, r.Emoji, r.User, r.Room, r.MessageID)
		return nil
	})
	p.OnPresence(func(ctx context.Context, pr *bot.Presence) error {
		wt.seen <- fmt.Sprintf("presence %s %s", pr.User, pr.Status)
		return nil
	})
	p.Command("mentions", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("mentions: " + strings.Join(req.Message.Mentions, ","))
	})
	p.Command("sudo", func(ctx context.Context, req *bot.Request) error {
		return req.Reply("root for " + req.Message.From.String())
	}).AdminOnly()
	return nil
}

// expect waits for the watcher to report want, skipping other lines.
func (wt *watcher) expect(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(waitLimit)
	var got []string
	for {
		select {
		case s := <-wt.seen:
			if s == want {
				return
			}
			got = append(got, s)
		case <-timeout:
			t.Fatalf("plugin never saw %q; saw %q", want, got)
		}
	}
}

// expectAll waits for the watcher to report every line of want, in any
// order, skipping other lines.
func (wt *watcher) expectAll(t *testing.T, want []string) {
	t.Helper()
	timeout := time.After(waitLimit)
	missing := map[string]bool{}
	for _, s := range want {
		missing[s] = true
	}
	var other []string
	for len(missing) > 0 {
		select {
		case s := <-wt.seen:
			if !missing[s] {
				other = append(other, s)
			}
			delete(missing, s)
		case <-timeout:
			t.Fatalf("plugin never saw %q; saw besides %q", slices.Sorted(maps.Keys(missing)), other)
		}
	}
}

// TestEventsReachPlugins: a user added to a channel, the bot added to a
// new one (where it then answers), a reaction added and removed, and the
// bot's own status change reach the plugins' hooks over the WebSocket.
func TestEventsReachPlugins(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	wt := newWatcher()
	w.startEngine(w.newBackend(w.options()), nil, wt)
	ctx := context.Background()

	t.Run("join", func(t *testing.T) {
		if _, _, err := w.aliceC.AddChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "join @bob ~ops-team/ops")
	})
	t.Run("bot joins", func(t *testing.T) {
		fresh, _, err := w.aliceC.CreateChannel(ctx, &mm.Channel{TeamID: w.team.ID, Name: "fresh", DisplayName: "Fresh", Type: mm.ChannelOpen})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.aliceC.AddChannelMember(ctx, fresh.ID, w.bot.ID); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "join @opsbot ~ops-team/fresh")
		w.say(fresh, "", "!where n")
		w.replyText(fresh, "n `~ops-team/fresh` direct=false thread=false from=@alice")
	})
	t.Run("reaction", func(t *testing.T) {
		p := w.say(w.ops, "", "react to this")
		if _, _, err := w.aliceC.AddReaction(ctx, p.ID, "thumbsup"); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "reaction +thumbsup @alice ~ops-team/ops "+p.ID)
		if _, err := w.aliceC.RemoveReaction(ctx, p.ID, "thumbsup"); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "reaction -thumbsup @alice ~ops-team/ops "+p.ID)
	})
	t.Run("presence", func(t *testing.T) {
		// The server sends a status_change to the user it is about
		// only (app/status.go): the bot hears its own. Other users'
		// presence is polled: TestPresenceOfOthersPolled.
		if err := w.srv.SetStatus(w.bot.ID, mm.StatusAway); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "presence @opsbot away")
	})
}

// TestLeaveReachesPlugins: user_removed reaches OnLeave once, for a user
// removed from a channel (the channel's broadcast) and for the bot itself
// (the event sent to the removed user only, which has no user id), also
// from a private channel the bot can no longer read.
func TestLeaveReachesPlugins(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	wt := newWatcher()
	w.startEngine(w.newBackend(w.options()), nil, wt)
	ctx := context.Background()

	if _, _, err := w.aliceC.AddChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	wt.expect(t, "join @bob ~ops-team/ops")
	if _, err := w.aliceC.RemoveChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	wt.expect(t, "leave @bob ~ops-team/ops")

	hidden, _, err := w.aliceC.CreateChannel(ctx, &mm.Channel{TeamID: w.team.ID, Name: "hidden", DisplayName: "Hidden", Type: mm.ChannelPrivate})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.aliceC.AddChannelMember(ctx, hidden.ID, w.bot.ID); err != nil {
		t.Fatal(err)
	}
	wt.expect(t, "join @opsbot ~ops-team/hidden")
	if _, err := w.aliceC.RemoveChannelMember(ctx, hidden.ID, w.bot.ID); err != nil {
		t.Fatal(err)
	}
	wt.expect(t, "leave @opsbot ~ops-team/hidden")

	// Exactly once: a marker event after the removal comes next.
	if _, _, err := w.aliceC.AddChannelMember(ctx, w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-wt.seen:
		if want := "join @bob ~ops-team/ops"; s != want {
			t.Errorf("after the bot's leave the plugin saw %q, want %q", s, want)
		}
	case <-time.After(waitLimit):
		t.Fatal("plugin never saw bob join again")
	}
}

// TestAdminsByName: admins given as "@name" may run admin-only commands;
// others are refused.
func TestAdminsByName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := w.srv.AddChannelMember(w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	w.startEngine(w.newBackend(w.options()), &bot.Options{Admins: []string{"@alice"}}, newWatcher())
	w.say(w.ops, "", "!sudo")
	w.replyText(w.ops, "root for @alice")

	bobC := w.client(w.bob.ID)
	if _, _, err := bobC.CreatePost(context.Background(), &mm.Post{ChannelID: w.ops.ID, Message: "!sudo"}); err != nil {
		t.Fatal(err)
	}
	refusal := w.reply(w.ops, func(p *mm.Post) bool { return p.Message != "root for @alice" })
	if strings.Contains(refusal.Message, "root for") {
		t.Errorf("bob ran an admin-only command: %q", refusal.Message)
	}
}

// TestDivertToThread: DIVERT_TO_THREAD sends a command's answer to a
// thread started on the command, when it was not in a thread already.
func TestDivertToThread(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), &bot.Options{DivertToThread: []string{"where"}})
	cmd := w.say(w.ops, "", "!where v")
	got := w.reply(w.ops, func(p *mm.Post) bool { return strings.HasPrefix(p.Message, "v ") })
	if got.RootID != cmd.ID {
		t.Errorf("diverted reply RootID = %q, want the command %q", got.RootID, cmd.ID)
	}
	w.say(w.ops, "", "!echo not diverted")
	if p := w.replyText(w.ops, "not diverted"); p.RootID != "" {
		t.Errorf("reply to a command not diverted has RootID %q, want none", p.RootID)
	}
}

// TestDivertToPrivate: DIVERT_TO_PRIVATE sends a command's answer to the
// asker in a direct message.
func TestDivertToPrivate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), &bot.Options{DivertToPrivate: []string{"where"}})
	w.say(w.ops, "", "!where private")
	dm := w.botDM()
	w.reply(dm, func(p *mm.Post) bool { return strings.HasPrefix(p.Message, "private ") })
	if posts := w.botPosts(w.ops); len(posts) != 0 {
		t.Errorf("the bot posted %q in ~ops, want its answer in the DM only", posts[0].Message)
	}
}

// TestMentionsIncoming: the usernames a message mentions reach the
// plugin, lowercased, once each, in order. (Names are not checked
// against the server's users, and, unlike RoomMentions, names inside
// code are kept.)
func TestMentionsIncoming(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.startEngine(w.newBackend(w.options()), nil, newWatcher())
	w.say(w.ops, "", "!mentions ping @bob and @Alice. cc @bob")
	w.replyText(w.ops, "mentions: bob,alice")
}

// TestMentionInReply: a user @mentioned in the bot's reply is mentioned
// for the server: the posted event bob's socket receives lists him.
func TestMentionInReply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := w.srv.AddChannelMember(w.ops.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	bobTok, err := w.srv.Login(w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := mm.NewWebSocket(w.srv.URL(), mm.Secret(bobTok), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ws.Run(ctx) }()
	defer func() { cancel(); <-done }()
	events := ws.Events()
	for ev := range events { // the socket is up once it says hello
		if _, ok := ev.Payload.(*mm.HelloEvent); ok {
			break
		}
	}

	w.startEngine(w.newBackend(w.options()), nil)
	w.say(w.ops, "", "!echo @bob have a look")
	for ev := range events {
		p, ok := ev.Payload.(*mm.PostedEvent)
		if !ok || p.Post.UserID != w.bot.ID {
			continue
		}
		if p.Post.Message != "@bob have a look" || !slices.Contains(p.Mentions, w.bob.ID) {
			t.Errorf("bob got the reply %q mentioning %v, want it to mention him (%s)", p.Post.Message, p.Mentions, w.bob.ID)
		}
		return
	}
	t.Fatal("bob's socket ended before the bot's reply")
}

// TestHotPathNoLookups: once the sender and channel are known, a command
// costs one request, its reply.
func TestHotPathNoLookups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts, ct := w.countedOptions()
	w.startEngine(w.newBackend(opts), nil)
	w.say(w.ops, "", "!echo warm")
	w.replyText(w.ops, "warm")
	ct.mu.Lock()
	clear(ct.paths)
	ct.mu.Unlock()
	for i := range 10 {
		w.say(w.ops, "", fmt.Sprintf("!echo hot %d", i))
		w.replyText(w.ops, fmt.Sprintf("hot %d", i))
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if len(ct.paths) != 1 || ct.paths["POST /api/v4/posts"] != 10 {
		t.Errorf("requests for 10 commands = %v, want 10 POST /api/v4/posts only", ct.paths)
	}
}

// TestDirectMessagesAcrossTeams: a user who shares no team with the bot
// gets answers in a DM, and so does a user of a bot that is in no team.
func TestDirectMessagesAcrossTeams(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	far, err := w.srv.AddTeam("far-team", "Far")
	if err != nil {
		t.Fatal(err)
	}
	carol, err := w.srv.AddUser(mmtest.User{Username: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.AddTeamMember(far.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	lone, err := w.srv.AddBot("lonebot", "Lone Bot", "")
	if err != nil {
		t.Fatal(err)
	}
	loneTok, err := w.srv.CreateToken(lone.ID, "lone")
	if err != nil {
		t.Fatal(err)
	}
	be := w.newBackend(w.options())
	w.startEngine(be, nil)
	loneOpts := w.options()
	loneOpts.Token, loneOpts.Teams = mm.Secret(loneTok), nil
	w.startEngine(w.newBackend(loneOpts), nil)

	carolC := w.client(carol.ID)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		from   *mm.Client
		to     *mm.User
		fromID string
	}{
		{"other team to the bot", carolC, w.bot, carol.ID},
		{"to a bot in no team", w.aliceC, lone, w.alice.ID},
		{"other team to a bot in no team", carolC, lone, carol.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dm, _, err := tc.from.CreateDirectChannel(ctx, tc.fromID, tc.to.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := tc.from.CreatePost(ctx, &mm.Post{ChannelID: dm.ID, Message: "echo dm " + tc.name}); err != nil {
				t.Fatal(err)
			}
			w.waitFor(dm, tc.to, "dm "+tc.name)
		})
	}
	t.Run("bot opens a DM across teams", func(t *testing.T) {
		if err := be.Send(ctx, &bot.Outgoing{UserID: carol.ID, Text: "hello carol"}); err != nil {
			t.Fatal(err)
		}
		dm, err := w.srv.DirectChannel(w.bot.ID, carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.waitFor(dm, w.bot, "hello carol")
	})
}
