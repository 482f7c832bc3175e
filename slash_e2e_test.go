package matterbot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// publicProxy stands for what is in front of the bot in production (a
// reverse proxy): the fixed address the server calls, [http] public_url,
// forwarding to whichever bot runs now, whose listener takes a free port.
type publicProxy struct {
	srv *httptest.Server
	mu  sync.Mutex
	to  string // host:port of the running bot's listener
}

func newPublicProxy(t *testing.T) *publicProxy {
	p := &publicProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		to := p.to
		p.mu.Unlock()
		if to == "" {
			http.Error(w, "no bot", http.StatusBadGateway)
			return
		}
		httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: to}).ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// point sends the proxy's requests to the bot b.
func (p *publicProxy) point(t *testing.T, b *runningBot) {
	t.Helper()
	addr := b.httpAddr(t)
	p.mu.Lock()
	p.to = addr
	p.mu.Unlock()
}

// slash runs command in ~ops as alice and returns the response.
func (w *runWorld) slash(t *testing.T, command string) *mm.CommandResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, _, err := w.alice.ExecuteCommand(ctx, w.ops.ID, "", "", command)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return r
}

// teamCommands returns the team's custom commands, as the team admin sees
// them.
func (w *runWorld) teamCommands(t *testing.T) []*mm.Command {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := w.srv.Client(w.token)
	if err != nil {
		t.Fatal(err)
	}
	cmds, _, err := c.TeamCommands(ctx, w.ops.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

// newSlashRunWorld is a world for matterbot run whose bot is a team admin
// (it may register slash commands), reached by the server through a
// proxy at its public_url, with slash, lines of the [mattermost.slash]
// table.
func newSlashRunWorld(t *testing.T, slash string) (*runWorld, *publicProxy) {
	t.Helper()
	w := newRunWorld(t)
	if err := w.srv.SetTeamAdmin(w.ops.TeamID, w.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	proxy := newPublicProxy(t)
	w.editConfig(t, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:0"
public_url = "`+proxy.srv.URL+`/"`,
		`team = "ops-team"`, `team = "ops-team"

[mattermost.slash]
`+slash)
	return w, proxy
}

// TestSlashCommands: the bot registers /opsbot and /hello on its team, once
// across two restarts (kept, never duplicated; a trigger no longer
// configured is deleted), and a slash command answers what the "!"
// command answers, to the caller alone.
func TestSlashCommands(t *testing.T) {
	w, proxy := newSlashRunWorld(t, `commands = ["hello"]`)

	var ids []string
	for run, action := range []string{"created", "kept", "kept"} {
		b := startRun(t, w, hello{})
		proxy.point(t, b)
		b.waitLog(t, `msg="slash command registered" team=ops-team trigger=/opsbot action=`+action)
		b.waitLog(t, `msg="slash command registered" team=ops-team trigger=/hello action=`+action)
		var got []string
		for _, c := range w.teamCommands(t) {
			got = append(got, c.Trigger+" "+c.ID)
		}
		slices.Sort(got)
		if run == 0 {
			ids = got
		}
		if len(got) != 2 || !slices.Equal(got, ids) {
			t.Errorf("run %d: the team's commands are %q, want the first run's two %q", run+1, got, ids)
		}
		for _, tc := range []struct{ bang, slash string }{
			{"!echo hello there", "/opsbot echo hello there"},
			{"!echo hello there", "/OpsBot   echo hello there"},
			{"!hello", "/hello"},
			{"!hello", "/opsbot hello"},
		} {
			want := w.reply(t, w.say(t, tc.bang))
			if r := w.slash(t, tc.slash); r.Text != want || r.ResponseType != mm.CommandResponseEphemeral {
				t.Errorf("run %d: %s answered %q (%s), want %q as %s does, ephemeral", run+1, tc.slash, r.Text, r.ResponseType, want, tc.bang)
			}
		}
		if run == 0 {
			// A forged request: a token the bot did not get from the server.
			form := url.Values{"token": {"forged"}, "team_id": {w.ops.TeamID}, "channel_id": {w.ops.ID}, "text": {"echo x"}}
			resp, err := http.PostForm(proxy.srv.URL+mmbackend.SlashPath, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a forged slash command = %d, want 401", resp.StatusCode)
			}
		}
		if r := w.slash(t, "/opsbot"); !strings.Contains(r.Text, "echo") {
			t.Errorf("/opsbot alone answered %q, want the help", r.Text)
		}
		b.stop(t)
	}

	// A trigger no longer configured is deleted; replies in the channel.
	w.editConfig(t, `commands = ["hello"]`, `response = "in_channel"`)
	b := startRun(t, w, hello{})
	proxy.point(t, b)
	b.waitLog(t, `msg="slash command deleted: no longer configured" team=ops-team trigger=/hello`)
	b.waitLog(t, `msg="slash command registered" team=ops-team trigger=/opsbot action=kept`)
	if cmds := w.teamCommands(t); len(cmds) != 1 || cmds[0].Trigger != "opsbot" {
		t.Errorf("after hello left the configuration the commands are %+v, want /opsbot alone", cmds)
	}
	if r := w.slash(t, "/opsbot echo in the open"); r.Text != "in the open" || r.ResponseType != mm.CommandResponseInChannel {
		t.Errorf("in_channel answer = %q (%s)", r.Text, r.ResponseType)
	}
	alice, _ := w.srv.User("alice")
	posts := w.srv.Posts(w.ops.ID)
	if last := posts[len(posts)-1]; last.Message != "in the open" || last.UserID != alice.ID || last.Props["from_webhook"] != "true" {
		t.Errorf("in_channel post = %+v, want alice's, from a webhook, as the server posts it", last)
	}
}

// confirm asks the caller to confirm, then says what the answer was.
type confirm struct{}

func (confirm) Name() string { return "confirm" }

func (confirm) Setup(p *bot.Plugin) error {
	p.Command("confirm", func(ctx context.Context, req *bot.Request) error {
		m, err := req.Ask(ctx, "deploy api to prod?")
		if err != nil {
			return err
		}
		return req.Reply("confirmed: " + m.Text)
	})
	return nil
}

// TestSlashFollowUp: through matterbot run, a slash command's question
// is its response, and the reply that follows the caller's answer goes
// through the run's response_url: the server posts it in the channel, as
// the caller's, from_webhook, as it posts the response.
func TestSlashFollowUp(t *testing.T) {
	w, proxy := newSlashRunWorld(t, `response = "in_channel"`)
	b := startRun(t, w, confirm{})
	proxy.point(t, b)
	b.waitLog(t, `msg="slash command registered" team=ops-team trigger=/opsbot`)
	if r := w.slash(t, "/opsbot confirm"); r.Text != "deploy api to prod?" || r.ResponseType != mm.CommandResponseInChannel {
		t.Errorf("/opsbot confirm answered %q (%s), want the question, in_channel", r.Text, r.ResponseType)
	}
	w.say(t, "yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, _ := w.srv.User("alice")
	p, err := w.srv.WaitForPost(ctx, w.ops.ID, func(p *mm.Post) bool { return p.Message == "confirmed: yes" })
	if err != nil {
		t.Fatalf("the follow-up never came: %v\n%s", err, b.stderr.String())
	}
	if p.UserID != alice.ID || p.Props["from_webhook"] != "true" {
		t.Errorf("the follow-up = %+v, want alice's, from_webhook, as the server posts a response_url's answer", p)
	}
}

// TestAccessByRole: a rule by Mattermost role follows the roles the
// server gives, read when the command runs (a channel admin, a team
// admin counting as one, the role taken away), and "!acl why" tells an
// admin which rule decides.
func TestAccessByRole(t *testing.T) {
	w := newRunWorld(t)
	bob := w.addBob(t)
	bobUser, _ := w.srv.User("bob")
	alice, _ := w.srv.User("alice")
	w.editConfig(t, `team = "ops-team"`, `team = "ops-team"

[[access.rule]]
match = "echo"
allowroles = ["channel_admin"]`)
	b := startRun(t, w)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.ask(t, bob, "!echo hi", "`!echo`: you are not allowed to run this command.", b.stderr.String)
	w.ask(t, w.alice, "!acl why echo @bob", "for @bob in ~ops: denied by access rule 1 (match echo): @bob has roles member here, none of allowroles channel_admin.", b.stderr.String)
	must(w.srv.SetChannelAdmin(w.ops.ID, bobUser.ID, true))
	w.ask(t, bob, "!echo as a channel admin", "as a channel admin", b.stderr.String)
	w.ask(t, w.alice, "!acl why echo @bob", "allowed by access rule 1 (match echo).", b.stderr.String)
	must(w.srv.SetChannelAdmin(w.ops.ID, bobUser.ID, false))
	w.ask(t, bob, "!echo again", "`!echo`: you are not allowed to run this command.", b.stderr.String)
	w.ask(t, w.alice, "!echo before", "`!echo`: you are not allowed to run this command.", b.stderr.String)
	must(w.srv.SetTeamAdmin(w.ops.TeamID, alice.ID, true))
	w.ask(t, w.alice, "!echo as a team admin", "as a team admin", b.stderr.String)
}
