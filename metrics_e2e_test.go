package matterbot

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// metricsSnapshot is one scrape of /metrics: the samples by name and
// labels as exposed (`matterbot_commands_total{command="echo",
// outcome="ok",plugin="echo"}`), and the families by name.
type metricsSnapshot struct {
	samples  map[string]float64
	families map[string]bool
}

// scrapeMetrics gets http://addr/metrics and parses the text format.
func scrapeMetrics(t *testing.T, addr string) metricsSnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("GET /metrics: Content-Type = %q, want the Prometheus text format", ct)
	}
	s := metricsSnapshot{samples: map[string]float64{}, families: map[string]bool{}}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			s.families[strings.Fields(rest)[0]] = true
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("GET /metrics: line %q: %v", line, err)
		}
		s.samples[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// sum adds the samples whose key starts with prefix.
func (s metricsSnapshot) sum(prefix string) float64 {
	var n float64
	for k, v := range s.samples {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// probe is a plugin with a command that fails and one for admins.
type probe struct{}

func (probe) Name() string { return "probe" }

func (probe) Setup(p *bot.Plugin) error {
	p.Command("fail", func(ctx context.Context, req *bot.Request) error {
		return errors.New("probe: the database is down")
	})
	p.Command("secret", func(ctx context.Context, req *bot.Request) error { return req.Reply("for admins") }).AdminOnly()
	return nil
}

// addBob adds bob, no admin, to the world's team and ~ops, and returns
// a client logged in as him.
func (w *runWorld) addBob(t *testing.T) *mm.Client {
	t.Helper()
	bob, err := w.srv.AddUser(mmtest.User{Username: "bob"})
	if err == nil {
		err = w.srv.AddTeamMember(w.ops.TeamID, bob.ID)
	}
	if err == nil {
		err = w.srv.AddChannelMember(w.ops.ID, bob.ID)
	}
	if err != nil {
		t.Fatal(err)
	}
	tok, err := w.srv.Login(bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.srv.Client(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMetricsMove: /metrics of a bot run by "run -c FILE" against the
// fake server counts what the bot does: commands by outcome, replies,
// API requests by route template and status, a resumed reconnect, and a
// reconnect that could not resume with the post it caught up; and
// matterbot_ready follows the socket.
func TestMetricsMove(t *testing.T) {
	w := newRunWorld(t)
	bob := w.addBob(t)
	b := startRun(t, w, probe{})
	addr := b.httpAddr(t)
	before := scrapeMetrics(t, addr)

	for _, say := range []string{"!echo one", "!echo two", "!fail"} {
		w.reply(t, w.say(t, say))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, _, err := bob.CreatePost(ctx, &mm.Post{ChannelID: w.ops.ID, Message: "!secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.reply(t, p); !strings.Contains(got, "only bot admins") {
		t.Errorf("!secret from bob = %q, want a refusal", got)
	}

	// A drop the server can resume (its end seen before the bot is back),
	// then a restart it cannot, with a command posted meanwhile.
	mark := b.mark()
	w.srv.RefuseWebSockets(time.Hour)
	w.srv.DropWebSockets()
	w.srv.RefuseWebSockets(0)
	b.waitLogSince(t, mark, `msg="websocket connected"`)
	mark = b.mark()
	w.srv.RefuseWebSockets(time.Hour)
	w.srv.RestartWebSockets()
	missed := w.say(t, "!echo missed")
	b.waitLogSince(t, mark, `msg="websocket disconnected"`)
	if got := scrapeMetrics(t, addr).samples["matterbot_ready"]; got != 0 {
		t.Errorf("socket down: matterbot_ready = %v, want 0", got)
	}
	w.srv.RefuseWebSockets(0)
	if got := w.reply(t, missed); got != "missed" {
		t.Errorf("reply to the missed command = %q, want missed", got)
	}
	b.waitLogSince(t, mark, `msg="websocket connected"`)
	// The line per command comes once its replies are sent and counted:
	// the fake server shows a reply a moment before the bot has its
	// answer.
	b.waitLog(t, `(?s)(msg=command .*){5}`)

	after := scrapeMetrics(t, addr)
	for _, tc := range []struct {
		key  string
		want float64 // after - before
	}{
		{`matterbot_commands_total{command="echo",outcome="ok",plugin="echo"}`, 3},
		{`matterbot_commands_total{command="fail",outcome="error",plugin="probe"}`, 1},
		{`matterbot_commands_total{command="secret",outcome="denied",plugin="probe"}`, 1},
		{`matterbot_command_duration_seconds_count{command="echo",plugin="echo"}`, 3},
		{`matterbot_command_duration_seconds_count{command="secret",plugin="probe"}`, 0},
		{`matterbot_replies_sent_total`, 5},
		{`matterbot_replies_failed_total`, 0},
		{`matterbot_mattermost_requests_total{code="201",method="POST",route="/api/v4/posts"}`, 5},
		{`matterbot_mattermost_request_duration_seconds_count{method="POST",route="/api/v4/posts"}`, 5},
		{`matterbot_websocket_reconnects_total{resumed="true"}`, 1},
		{`matterbot_websocket_reconnects_total{resumed="false"}`, 1},
		{`matterbot_catchup_posts_total`, 1},
	} {
		if got := after.samples[tc.key] - before.samples[tc.key]; got != tc.want {
			t.Errorf("%s moved by %v (from %v), want %v", tc.key, got, before.samples[tc.key], tc.want)
		}
	}
	// The catch-up read the channel's posts since the last one seen.
	if n := after.sum(`matterbot_mattermost_requests_total{code="200",method="GET",route="/api/v4/channels/{channel_id}/posts"}`); n < 1 {
		t.Errorf("no catch-up read counted: GET /api/v4/channels/{channel_id}/posts 200 = %v", n)
	}
	// Routes are templates: no id is a label value.
	for k := range after.samples {
		for _, id := range []string{w.ops.ID, w.bot.ID} {
			if strings.Contains(k, id) {
				t.Errorf("a sample is labelled with an id: %s", k)
			}
		}
	}
	for _, g := range []string{"matterbot_handlers_running", "matterbot_handlers_queued", "matterbot_plugins_active",
		"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := after.samples[g]; !ok {
			t.Errorf("%s not exported", g)
		}
	}
	if got := after.samples["matterbot_ready"]; got != 1 {
		t.Errorf("after the catch-up: matterbot_ready = %v, want 1", got)
	}
	if n := after.samples["matterbot_plugins_active"]; n < 2 {
		t.Errorf("matterbot_plugins_active = %v, want the built-ins and probe", n)
	}
	if n := after.sum(`matterbot_build_info{`); n != 1 {
		t.Errorf("matterbot_build_info = %v, want one series at 1", n)
	}
}
