package mattermost_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// logWatch is a slog.Handler that reports the messages starting with a
// prefix on a channel.
type logWatch struct {
	prefix string
	seen   chan slog.Record
}

func (l logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l logWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, l.prefix) {
		select {
		case l.seen <- r:
		default:
		}
	}
	return nil
}
func (l logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logWatch) WithGroup(string) slog.Handler      { return l }

// wait returns the next record reported, or fails the test.
func (l logWatch) wait(t *testing.T, who string) slog.Record {
	t.Helper()
	select {
	case r := <-l.seen:
		return r
	case <-time.After(waitLimit):
		t.Fatalf("%s never logged %q", who, l.prefix)
	}
	return slog.Record{}
}

// TestLoopBetweenUserBots: two bots that run as ordinary user accounts
// (their posts carry no from_bot and their users no is_bot), each
// repeating every message it hears in ~ops. alice's message starts an
// exchange that would never end; the loop guard of the bot that counts
// LoopLimit exchanges first stops answering the other and logs it (the
// other then has nothing left to answer), and both still answer alice.
func TestLoopBetweenUserBots(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const limit = 5
	logs := logWatch{prefix: "loop suspected", seen: make(chan slog.Record, 4)}
	type peer struct{ user *mm.User }
	var peers []peer
	// Registered before the engines start, so it runs after they stop:
	// nothing is still being posted when the posts are counted.
	t.Cleanup(func() {
		for _, p := range peers {
			n := 0
			for _, post := range w.srv.Posts(w.ops.ID) {
				if post.UserID == p.user.ID {
					n++
				}
			}
			t.Logf("@%s posted %d times in ~ops", p.user.Username, n)
			// Two chains of answers run at once (alice's message starts
			// one through each bot), so a bot answers the other at most
			// limit times per chain, plus alice's three messages.
			if n < limit || n > 2*limit+3 {
				t.Errorf("@%s posted %d times in ~ops, want between %d and %d", p.user.Username, n, limit, 2*limit+3)
			}
		}
	})
	for _, name := range []string{"parrot1", "parrot2"} {
		u, err := w.srv.AddUser(mmtest.User{Username: name})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.srv.AddTeamMember(w.team.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.srv.AddChannelMember(w.ops.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		tok, err := w.srv.CreateToken(u.ID, "bot")
		if err != nil {
			t.Fatal(err)
		}
		opts := w.options()
		opts.Token = mm.Secret(tok)
		opts.LoopLimit = limit
		opts.Logger = slog.New(logs)
		w.startEngine(w.newBackend(opts), nil, parrot{name})
		peers = append(peers, peer{u})
	}

	w.say(w.ops, "", "hello")
	r := logs.wait(t, "either bot")
	var blamed string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "user_id" {
			blamed = a.Value.String()
		}
		return true
	})
	if blamed != peers[0].user.ID && blamed != peers[1].user.ID {
		t.Errorf("the loop guard blamed user %s, want one of the two bots", blamed)
	}
	// Each bot's events come in order: once both have answered the
	// second sentinel, each has seen the other's answer to the first,
	// and ignored it.
	for _, s := range []string{"sentinel 1", "sentinel 2"} {
		w.say(w.ops, "", s)
		for _, p := range peers {
			w.waitFor(w.ops, p.user, p.user.Username+" heard: "+s)
		}
	}
}
