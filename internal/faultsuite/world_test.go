package faultsuite

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matterbot/matterbot/internal/faultproxy"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// Sizes of the world.
const (
	numUsers    = 16
	numChannels = 4
)

// world is the fake server, the proxy the bot reaches it through, and
// the accounts and channels of the users.
type world struct {
	srv   *mmtest.Server
	proxy *faultproxy.Proxy
	team  *mm.Team
	bot   *mm.User
	token string
	users []*simUser
	dir   string
	cfg   string // the bot's configuration file

	// misbehaving makes some users send the misbehaving plugin's
	// commands (see badCommand).
	misbehaving atomic.Bool
}

// simUser is one simulated user and the places it sends commands to.
type simUser struct {
	*mm.User
	channel *mm.Channel // a public channel shared with other users and the bot
	root    *mm.Post    // a post in channel whose thread it also uses
	dm      *mm.Channel // its direct messages with the bot
	gm      *mm.Channel // a group message with another user and the bot
}

// newWorld builds the world; deadLink is the bot's dead_link_after, 0
// for its default.
func newWorld(t *testing.T, deadLink time.Duration) *world {
	t.Helper()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &world{srv: mmtest.NewServer(t, nil), dir: t.TempDir()}
	if dir := os.Getenv("MATTERBOT_FAULTS_DIR"); dir != "" {
		// Kept after the test: the bot's logs, its configuration, its
		// store.
		w.dir = filepath.Join(dir, time.Now().Format("20060102-150405"))
		check(os.MkdirAll(w.dir, 0o700))
		t.Logf("the bot's files are in %s", w.dir)
	}
	u, err := url.Parse(w.srv.URL())
	check(err)
	w.proxy, err = faultproxy.New(u.Host)
	check(err)
	t.Cleanup(func() { _ = w.proxy.Close() })

	w.team, err = w.srv.AddTeam("faults", "Faults")
	check(err)
	owner, err := w.srv.AddUser(mmtest.User{Username: "owner"})
	check(err)
	w.bot, err = w.srv.AddBot("faultbot", "Fault Bot", owner.ID)
	check(err)
	check(w.srv.AddTeamMember(w.team.ID, w.bot.ID))
	w.token, err = w.srv.CreateToken(w.bot.ID, "fault suite")
	check(err)
	var chans []*mm.Channel
	for i := range numChannels {
		ch, err := w.srv.AddChannel(w.team.ID, fmt.Sprintf("room-%d", i), fmt.Sprintf("Room %d", i), mm.ChannelOpen)
		check(err)
		check(w.srv.AddChannelMember(ch.ID, w.bot.ID))
		chans = append(chans, ch)
	}
	for i := range numUsers {
		mu, err := w.srv.AddUser(mmtest.User{Username: fmt.Sprintf("user%02d", i)})
		check(err)
		check(w.srv.AddTeamMember(w.team.ID, mu.ID))
		su := &simUser{User: mu, channel: chans[i%numChannels]}
		check(w.srv.AddChannelMember(su.channel.ID, mu.ID))
		su.root, err = w.srv.CreatePost(mu.ID, mm.Post{ChannelID: su.channel.ID, Message: "a thread of " + mu.Username})
		check(err)
		su.dm, err = w.srv.DirectChannel(mu.ID, w.bot.ID)
		check(err)
		w.users = append(w.users, su)
	}
	for i, su := range w.users { // pairs of users share a group message
		other := w.users[i^1]
		su.gm, err = w.srv.GroupChannel(su.ID, other.ID, w.bot.ID)
		check(err)
	}

	w.cfg = filepath.Join(w.dir, "matterbot.toml")
	host, port := splitHostPort(t, w.proxy.Addr())
	extra := ""
	if deadLink > 0 {
		extra = fmt.Sprintf("dead_link_after = %q\n", deadLink)
	}
	conf := fmt.Sprintf(`backend = "mattermost"
prefix = "!"

[mattermost]
server = %q
scheme = "http"
port = %s
team = "faults"
%s
[storage]
path = %q

[log]
level = "info"

[http]
listen = "127.0.0.1:0"
pprof = true # for a look inside a soak: /debug/pprof/ at the address in the log
`, host, port, extra, filepath.Join(w.dir, "matterbot.db"))
	check(os.WriteFile(w.cfg, []byte(conf), 0o600))
	return w
}

func splitHostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	u, err := url.Parse("tcp://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}
