package matterbot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"

	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// TestNoSecretInLogs: a bot run at debug level, with a token and with a
// login and password, through commands, an internal error, a dropped
// socket, a session the server revoked (the bot logs in again) and a
// shutdown (it logs out), never writes its token or its password in a
// log line, at any level.
func TestNoSecretInLogs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// account makes the bot's credentials in w: a token in
		// w.token, or a user and password in the config file. It
		// returns the secrets.
		account func(t *testing.T, w *runWorld) []string
	}{
		{"token", func(t *testing.T, w *runWorld) []string {
			appendConfig(t, w, "token = \""+w.token+"\"\n")
			return []string{w.token}
		}},
		{"password", func(t *testing.T, w *runWorld) []string {
			const password = "correct-horse-battery-staple-7f3a"
			u, err := w.srv.AddUser(mmtest.User{Username: "opsuser", Password: password})
			if err == nil {
				err = w.srv.AddTeamMember(w.ops.TeamID, u.ID)
			}
			if err == nil {
				err = w.srv.AddChannelMember(w.ops.ID, u.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			w.bot = u
			w.token = "" // no token in the environment
			appendConfig(t, w, "login = \"opsuser\"\npassword = \""+password+"\"\n")
			return []string{password}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRunWorld(t)
			secrets := tc.account(t, w)
			appendConfig(t, w, "\n[log]\nlevel = \"debug\"\n")
			b := startRun(t, w, probe{}, &poster{})

			for _, say := range []string{"!echo one", "!fail", "!help"} {
				w.reply(t, w.say(t, say))
			}
			w.srv.DropWebSockets()
			b.waitLog(t, `(?s)(msg="websocket connected".*){2}`)
			if got := w.reply(t, w.say(t, "!echo two")); got != "two" {
				t.Errorf("reply = %q, want two", got)
			}
			if tc.name == "password" {
				// The server forgets the session: the next request, a
				// post made for a webhook, gets a 401 and the bot logs
				// in again (the socket, which the server stops feeding,
				// finds out at its next ping).
				w.srv.RevokeSessions(w.bot.ID)
				if code, body := get(t, http.MethodPost, b.httpAddr(t), "/poster"); code != http.StatusNoContent {
					t.Errorf("POST /poster = %d %s, want 204", code, body)
				}
				b.waitLog(t, `msg="mattermost session rejected, logging in again"`)
			}
			if code := b.stop(t); code != 0 {
				t.Errorf("exit code = %d, want 0", code)
			}

			out := b.stderr.String()
			if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, `msg="mattermost request"`) {
				t.Fatalf("no debug lines: the test proves nothing; output:\n%s", out)
			}
			for i, line := range strings.Split(out, "\n") {
				for _, s := range secrets {
					if strings.Contains(line, s) {
						t.Errorf("line %d has the secret %q: %s", i+1, s, line)
					}
				}
			}
		})
	}
}

// poster is a plugin whose webhook POST /poster posts "posted" in ~ops.
type poster struct{ p *bot.Plugin }

func (*poster) Name() string { return "poster" }

func (ps *poster) Setup(p *bot.Plugin) error {
	ps.p = p
	p.Webhook("POST /poster", func(w http.ResponseWriter, r *http.Request) {
		if err := ps.p.Send(r.Context(), "~ops", bot.Outgoing{Text: "posted"}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return nil
}
