package metrics_test

import (
	"bufio"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/internal/metrics"
)

// scrape serves GET /metrics from m and returns its samples, keyed by
// name and labels as exposed ("matterbot_commands_total{command=\"echo\",
// outcome=\"ok\",plugin=\"echo\"}"), and the names of the families.
func scrape(t *testing.T, m *metrics.Metrics) (samples map[string]float64, families map[string]bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	samples, families = map[string]float64{}, map[string]bool{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(name)[0]] = true
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, families
}

// engine stands for a bot.Engine.
type engine struct {
	stats bot.Stats
	ready error
}

func (e *engine) Stats() bot.Stats { return e.stats }
func (e *engine) Ready() error     { return e.ready }

func TestMetrics(t *testing.T) {
	m := metrics.New("v1.2.3")
	e := &engine{stats: bot.Stats{Running: 2, Queued: 5, Active: 4, RepliesSent: 10, RepliesFailed: 1}, ready: errors.New("connecting")}
	m.Engine(e)

	echo := bot.CommandRun{Plugin: "echo", Command: "echo", Outcome: bot.OutcomeOK, Duration: 30 * time.Millisecond}
	m.ObserveCommand(echo)
	m.ObserveCommand(echo)
	m.ObserveCommand(bot.CommandRun{Plugin: "admin", Command: "plugin list", Outcome: bot.OutcomeDenied})
	m.ObserveCommand(bot.CommandRun{Plugin: "ops", Command: "deploy", Outcome: bot.OutcomeError, Duration: 3 * time.Second})
	m.ObserveRequest("POST", "/api/v4/posts", 201, 4*time.Millisecond)
	m.ObserveRequest("POST", "/api/v4/posts", 201, 6*time.Millisecond)
	m.ObserveRequest("GET", "/api/v4/users/{user_id}", 0, time.Second)
	m.ObserveRateLimitWait(1500 * time.Millisecond)
	m.ObserveRateLimitWait(500 * time.Millisecond)
	m.ObserveReconnect(true)
	m.ObserveCatchUp(3)
	m.ObserveCatchUp(2)
	m.ObserveOutbox(4)
	m.ObserveOutbox(3)
	m.ObserveOutboxDropped("expired")
	m.ObserveCache(mmbackend.CacheUsers, true)
	m.ObserveCache(mmbackend.CacheUsers, true)
	m.ObserveCache(mmbackend.CacheUsers, false)
	m.ObserveCache("other", false)

	got, families := scrape(t, m)
	want := map[string]float64{
		`matterbot_commands_total{command="echo",outcome="ok",plugin="echo"}`:                        2,
		`matterbot_commands_total{command="echo",outcome="error",plugin="echo"}`:                     0,
		`matterbot_commands_total{command="plugin list",outcome="denied",plugin="admin"}`:            1,
		`matterbot_commands_total{command="deploy",outcome="error",plugin="ops"}`:                    1,
		`matterbot_command_duration_seconds_count{command="echo",plugin="echo"}`:                     2,
		`matterbot_command_duration_seconds_sum{command="echo",plugin="echo"}`:                       0.06,
		`matterbot_command_duration_seconds_bucket{command="echo",plugin="echo",le="0.025"}`:         0,
		`matterbot_command_duration_seconds_bucket{command="echo",plugin="echo",le="0.05"}`:          2,
		`matterbot_command_duration_seconds_count{command="deploy",plugin="ops"}`:                    1,
		`matterbot_command_duration_seconds_count{command="plugin list",plugin="admin"}`:             0, // never ran
		`matterbot_mattermost_requests_total{code="201",method="POST",route="/api/v4/posts"}`:        2,
		`matterbot_mattermost_requests_total{code="0",method="GET",route="/api/v4/users/{user_id}"}`: 1,
		`matterbot_mattermost_request_duration_seconds_count{method="POST",route="/api/v4/posts"}`:   2,
		`matterbot_mattermost_request_duration_seconds_sum{method="POST",route="/api/v4/posts"}`:     0.01,
		`matterbot_mattermost_rate_limit_waits_total`:                                                2,
		`matterbot_mattermost_rate_limit_wait_seconds_total`:                                         2,
		`matterbot_websocket_reconnects_total{resumed="true"}`:                                       1,
		`matterbot_websocket_reconnects_total{resumed="false"}`:                                      0,
		`matterbot_catchup_posts_total`:                                                              5,
		`matterbot_outbox_waiting`:                                                                   3,
		`matterbot_outbox_dropped_total{reason="expired"}`:                                           1,
		`matterbot_outbox_dropped_total{reason="refused"}`:                                           0,
		`matterbot_cache_lookups_total{cache="users",result="hit"}`:                                  2,
		`matterbot_cache_lookups_total{cache="users",result="miss"}`:                                 1,
		`matterbot_cache_lookups_total{cache="other",result="miss"}`:                                 1,
		`matterbot_handlers_running`:                                                                 2,
		`matterbot_handlers_queued`:                                                                  5,
		`matterbot_plugins_active`:                                                                   4,
		`matterbot_replies_sent_total`:                                                               10,
		`matterbot_replies_failed_total`:                                                             1,
		`matterbot_ready`:                                                                            0,
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || v != w {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, w)
		}
	}
	var build string
	for k, v := range got {
		if strings.HasPrefix(k, metrics.BuildInfo+"{") && v == 1 {
			build = k
		}
	}
	if !strings.Contains(build, `version="v1.2.3"`) || !strings.Contains(build, `goversion="go`) {
		t.Errorf("build info = %q, want version v1.2.3 and the Go version", build)
	}
	for _, name := range append(metrics.Names(), "go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_start_time_seconds") {
		if !families[name] {
			t.Errorf("family %s not exported", name)
		}
	}

	e.ready = nil
	if got, _ := scrape(t, m); got[metrics.Ready] != 1 {
		t.Errorf("ready engine: %s = %v, want 1", metrics.Ready, got[metrics.Ready])
	}
}

// TestMetricsNoEngine: before Engine, the engine's metrics are absent
// rather than zero, and the rest is served.
func TestMetricsNoEngine(t *testing.T) {
	got, families := scrape(t, metrics.New("dev"))
	for _, name := range []string{metrics.Ready, metrics.HandlersRunning, metrics.RepliesSent} {
		if families[name] {
			t.Errorf("%s exported without an engine", name)
		}
	}
	if _, ok := got[`matterbot_websocket_reconnects_total{resumed="false"}`]; !ok {
		t.Errorf("reconnects not exported at 0")
	}
}

// BenchmarkObserve measures the observers on the path of a command: one
// command run and the two requests of its reply.
func BenchmarkObserve(b *testing.B) {
	m := metrics.New("dev")
	run := bot.CommandRun{Plugin: "echo", Command: "echo", Outcome: bot.OutcomeOK, Duration: time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveCommand(run)
		m.ObserveRequest("POST", "/api/v4/posts", 201, time.Millisecond)
		m.ObserveRequest("POST", "/api/v4/users/{user_id}/typing", 200, time.Millisecond)
	}
}
