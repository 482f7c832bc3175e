package mattermost_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

// These tests restart the server under a running bot, as a restart of
// `matterbot fake-server` on the same port does: the world the bot
// reconnects to is a new one. The bot goes on when that world knows it
// as the same account, and stops with one line otherwise.

// restartable serves a fake server at a fixed URL, and can swap it for
// another, as a server restarted on the same port.
type restartable struct {
	t   *testing.T
	ts  *httptest.Server
	cur atomic.Pointer[restartWorld]
}

// restartWorld is one life of the server: team ops-team with alice (a
// user with a password), bob and the bot opsbot, all in channel ~ops.
type restartWorld struct {
	srv   *mmtest.Server
	alice *mm.User
	bob   *mm.User
	bot   *mm.User
	ops   *mm.Channel
}

func newRestartable(t *testing.T, first *restartWorld) *restartable {
	r := &restartable{t: t}
	r.cur.Store(first)
	r.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.cur.Load().srv.ServeHTTP(w, req)
	}))
	t.Cleanup(r.ts.Close)
	return r
}

// restart replaces the server with next; the old one's WebSockets end.
func (r *restartable) restart(next *restartWorld) {
	r.cur.Swap(next).srv.Close()
}

// newRestartWorld seeds a world. With stable, ids derive from names
// (mmtest.Options.StableIDs), so that the same world built again has
// the same ids; sessions and tokens are new either way.
func newRestartWorld(t *testing.T, stable bool) *restartWorld {
	t.Helper()
	srv := mmtest.New(&mmtest.Options{
		StableIDs: stable,
		// A socket without a valid token is closed at once, not after 5 s.
		WebSocket: mmtest.WebSocketOptions{AuthTimeout: 20 * time.Millisecond},
	})
	t.Cleanup(srv.Close)
	w := &restartWorld{srv: srv}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := srv.AddTeam("ops-team", "Ops Team")
	must(err)
	w.alice, err = srv.AddUser(mmtest.User{Username: "alice", Password: "alice-password"})
	must(err)
	w.bob, err = srv.AddUser(mmtest.User{Username: "bob"})
	must(err)
	w.bot, err = srv.AddBot("opsbot", "Ops Bot", w.alice.ID)
	must(err)
	w.ops, err = srv.AddChannel(team.ID, "ops", "Ops", mm.ChannelOpen)
	must(err)
	for _, u := range []*mm.User{w.alice, w.bob, w.bot} {
		must(srv.AddTeamMember(team.ID, u.ID))
		must(srv.AddChannelMember(w.ops.ID, u.ID))
	}
	return w
}

// ask posts text as bob in ~ops and waits for an answer by the account
// with id from, with the given text.
func (r *restartable) ask(from, text, answer string) {
	r.t.Helper()
	w := r.cur.Load()
	tok, err := w.srv.Login(w.bob.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := mm.NewClient(r.ts.URL, mm.Secret(tok), &mm.ClientOptions{RateLimit: -1})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, _, err := c.CreatePost(context.Background(), &mm.Post{ChannelID: w.ops.ID, Message: text}); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool { return p.UserID == from && p.Message == answer }); err != nil {
		r.t.Fatalf("no answer %q to %q: %v", answer, text, err)
	}
}

// runBot runs an engine with the echo plugin on a backend for the
// server, and waits for it to connect. The returned channel gets Run's
// error; connects gets one value per HandleConnect.
func (r *restartable) runBot(opts mmbackend.Options) (done chan error, connects chan bot.User) {
	r.t.Helper()
	opts.Server = r.ts.URL
	opts.Teams = []string{"ops-team"}
	opts.WebSocket = mm.WebSocketOptions{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	opts.Retry = fastRetry()
	connects = make(chan bot.User, 8)
	eng := mustEngine(r.t, mustBackend(r.t, opts), nil, &testPlugin{connects: connects}, echo.Plugin{})
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			r.t.Error("Run did not return after the test")
		}
	})
	select {
	case <-connects:
	case err := <-done:
		r.t.Fatalf("Run = %v before connecting", err)
	case <-time.After(waitLimit):
		r.t.Fatal("bot not connected")
	}
	return done, connects
}

// waitStop waits for Run to return and checks that its error says want.
func waitStop(t *testing.T, done chan error, want string) {
	t.Helper()
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Run = %v, want one line with %q", err, want)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run still running; want it stopped with %q", want)
	}
}

// waitConnected waits for the bot's next HandleConnect.
func waitConnected(t *testing.T, connects chan bot.User, done chan error) bot.User {
	t.Helper()
	select {
	case self := <-connects:
		return self
	case err := <-done:
		done <- err
		t.Fatalf("Run = %v, want it reconnected", err)
	case <-time.After(waitLimit):
		t.Fatal("bot not reconnected")
	}
	return bot.User{}
}

// TestRestartTokenForgotten: the new world does not know the bot's
// token. Run goes on, saying so in the log, and trying again: the token
// may come back (a server restored from a backup).
func TestRestartTokenForgotten(t *testing.T) {
	t.Parallel()
	first := newRestartWorld(t, true)
	token, err := first.srv.CreateToken(first.bot.ID, "bot")
	if err != nil {
		t.Fatal(err)
	}
	r := newRestartable(t, first)
	logs := newLogLines()
	refused := logs.next(t, "the server no longer accepts the bot's token; trying again until it does")
	retried := logs.next(t, "the server still does not accept the bot's token")
	done, _ := r.runBot(mmbackend.Options{Token: mm.Secret(token), Logger: slog.New(logs)})
	r.ask(first.bot.ID, "!echo before", "before")

	r.restart(newRestartWorld(t, true))
	refused()
	retried()
	select {
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("Run = %v, want it running, trying again", err)
	default:
	}
}

// TestRestartSameAccount: the new world is the same one built again (the
// same ids) and knows the bot's token: the bot goes on answering.
func TestRestartSameAccount(t *testing.T) {
	t.Parallel()
	const token = "restarttokenrestarttoken12"
	first := newRestartWorld(t, true)
	if err := first.srv.AddToken(first.bot.ID, token, "bot"); err != nil {
		t.Fatal(err)
	}
	r := newRestartable(t, first)
	done, connects := r.runBot(mmbackend.Options{Token: token})
	r.ask(first.bot.ID, "!echo before", "before")

	second := newRestartWorld(t, true)
	if err := second.srv.AddToken(second.bot.ID, token, "bot"); err != nil {
		t.Fatal(err)
	}
	r.restart(second)
	if self := waitConnected(t, connects, done); self.ID != second.bot.ID {
		t.Errorf("reconnected as %+v, want %s", self, second.bot.ID)
	}
	r.ask(second.bot.ID, "!echo after", "after")
}

// TestRestartAnotherAccount: the new world knows the token, but as
// another account (new ids): every id the bot holds is wrong, so it
// stops rather than answer as someone else.
func TestRestartAnotherAccount(t *testing.T) {
	t.Parallel()
	const token = "restarttokenrestarttoken34"
	first := newRestartWorld(t, false)
	if err := first.srv.AddToken(first.bot.ID, token, "bot"); err != nil {
		t.Fatal(err)
	}
	r := newRestartable(t, first)
	done, _ := r.runBot(mmbackend.Options{Token: token})

	second := newRestartWorld(t, false)
	if err := second.srv.AddToken(second.bot.ID, token, "bot"); err != nil {
		t.Fatal(err)
	}
	r.restart(second)
	waitStop(t, done, r.ts.URL+" now knows the bot as another account (user id "+second.bot.ID+", was "+first.bot.ID+"): the server was reset; restart matterbot")
}

// TestRestartPasswordLogin: a bot that logs in with a password logs in
// again in the new world; it goes on if that is the same account, and
// stops if it is another.
func TestRestartPasswordLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		stable bool
	}{
		{"same account", true},
		{"another account", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first := newRestartWorld(t, tc.stable)
			r := newRestartable(t, first)
			done, connects := r.runBot(mmbackend.Options{Login: "alice", Password: "alice-password"})
			r.ask(first.alice.ID, "!echo before", "before")

			second := newRestartWorld(t, tc.stable)
			r.restart(second)
			if !tc.stable {
				waitStop(t, done, "now knows the bot as another account (user id "+second.alice.ID+", was "+first.alice.ID+")")
				return
			}
			waitConnected(t, connects, done)
			r.ask(second.alice.ID, "!echo after", "after")
		})
	}
}
