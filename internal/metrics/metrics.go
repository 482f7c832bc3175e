// Package metrics turns what the engine and the Mattermost backend
// report (bot.Observer, mmbackend.Observer) into Prometheus metrics, on
// a registry of its own, and serves them. It is the only package that
// imports the Prometheus client: bot, mattermost and backend/mattermost
// expose small observer interfaces and counters instead.
//
//	m := metrics.New(version)
//	opts.Observer = m // mmbackend.Options and bot.Options
//	eng, _ := bot.New(be, engOpts, plugins...)
//	m.Engine(eng)
//	mux.Handle("GET /metrics", m.Handler())
//
// The metrics and their labels are documented in docs/operations.md;
// Names lists them.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
)

// The metrics' names.
const (
	Commands             = "matterbot_commands_total"
	CommandDuration      = "matterbot_command_duration_seconds"
	RepliesSent          = "matterbot_replies_sent_total"
	RepliesFailed        = "matterbot_replies_failed_total"
	HandlersRunning      = "matterbot_handlers_running"
	HandlersQueued       = "matterbot_handlers_queued"
	PluginsActive        = "matterbot_plugins_active"
	Ready                = "matterbot_ready"
	BuildInfo            = "matterbot_build_info"
	APIRequests          = "matterbot_mattermost_requests_total"
	APIRequestDuration   = "matterbot_mattermost_request_duration_seconds"
	RateLimitWaits       = "matterbot_mattermost_rate_limit_waits_total"
	RateLimitWaitSeconds = "matterbot_mattermost_rate_limit_wait_seconds_total"
	WebSocketReconnects  = "matterbot_websocket_reconnects_total"
	CatchUpPosts         = "matterbot_catchup_posts_total"
	OutboxWaiting        = "matterbot_outbox_waiting"
	OutboxDropped        = "matterbot_outbox_dropped_total"
	CacheLookups         = "matterbot_cache_lookups_total"
)

// Names returns the names of the metrics the package defines, without
// those of the Go runtime (go_*) and process (process_*) collectors.
func Names() []string {
	return []string{Commands, CommandDuration, RepliesSent, RepliesFailed, HandlersRunning, HandlersQueued,
		PluginsActive, Ready, BuildInfo, APIRequests, APIRequestDuration, RateLimitWaits, RateLimitWaitSeconds,
		WebSocketReconnects, CatchUpPosts, OutboxWaiting, OutboxDropped, CacheLookups}
}

// commandBuckets spans what handlers take: a lookup in milliseconds, a
// deploy in minutes (the default command timeout is one).
var commandBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// apiBuckets spans a REST call on a LAN to one held up by a slow server
// (the client's timeout is 30 s).
var apiBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics is the bot's metrics. It implements bot.Observer and
// mmbackend.Observer; its methods are safe for concurrent use. Make one
// with New.
type Metrics struct {
	reg *prometheus.Registry

	commands        *prometheus.CounterVec   // plugin, command, outcome
	commandDuration *prometheus.HistogramVec // plugin, command
	requests        *prometheus.CounterVec   // method, route, code
	requestDuration *prometheus.HistogramVec // method, route
	waits           prometheus.Counter
	waitSeconds     prometheus.Counter
	reconnects      *prometheus.CounterVec // resumed
	catchUp         prometheus.Counter
	outboxWaiting   prometheus.Gauge
	outboxDropped   *prometheus.CounterVec // reason
	cacheLookups    *prometheus.CounterVec // cache, result
	userHits        prometheus.Counter     // cacheLookups' users/hit, found once
	userMisses      prometheus.Counter     // cacheLookups' users/miss

	// The children of the vectors by label values, found without the
	// vectors' hashing of the values on every command and request.
	cmds sync.Map // cmdKey → *cmdSeries
	reqs sync.Map // reqKey → *reqSeries

	engine atomic.Pointer[engineSource] // nil until Engine
}

// cmdKey names one command's series.
type cmdKey struct{ plugin, command string }

// cmdSeries holds one command's counters, by outcome, and its histogram.
type cmdSeries struct {
	outcomes []prometheus.Counter // by outcomeIndex
	duration prometheus.Observer
}

// reqKey names one route's series with one status.
type reqKey struct {
	method, route string
	code          int
}

// reqSeries holds one route's counter for one status, and its histogram.
type reqSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// Engine is what Metrics reads from the engine at each scrape.
type Engine interface {
	Stats() bot.Stats
}

// Readiness is the optional part of an Engine: whether the bot serves
// (bot.Engine.Ready), for matterbot_ready.
type Readiness interface {
	Ready() error
}

// engineSource is what Engine was given.
type engineSource struct{ e Engine }

var (
	_ bot.Observer       = (*Metrics)(nil)
	_ mmbackend.Observer = (*Metrics)(nil)
)

// New returns the metrics of a bot of the given version, with the Go
// runtime and process collectors, on a registry of their own.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Commands,
			Help: "Commands and listeners run, by plugin, command (\"listen\" for listeners) and outcome (ok, usage, error, denied, busy, timeout, no_answer, cancelled, no_match)."},
			[]string{"plugin", "command", "outcome"}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: CommandDuration,
			Help:    "Time the handlers of commands and listeners ran, by plugin and command.",
			Buckets: commandBuckets},
			[]string{"plugin", "command"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: APIRequests,
			Help: "Requests to the Mattermost REST API, each attempt counted, by method, route template and status code (0: no answer)."},
			[]string{"method", "route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: APIRequestDuration,
			Help:    "Time from sending a request to the Mattermost REST API to reading its answer, by method and route template.",
			Buckets: apiBuckets},
			[]string{"method", "route"}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{Name: RateLimitWaits,
			Help: "Waits the Mattermost server's rate limit imposed before a request (a 429's Retry-After, or an empty bucket)."}),
		waitSeconds: prometheus.NewCounter(prometheus.CounterOpts{Name: RateLimitWaitSeconds,
			Help: "Time spent waiting for the Mattermost server's rate limit."}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: WebSocketReconnects,
			Help: "WebSocket reconnects after a drop: resumed=\"true\" when the server replayed what was missed, \"false\" when the bot caught up over REST."},
			[]string{"resumed"}),
		catchUp: prometheus.NewCounter(prometheus.CounterOpts{Name: CatchUpPosts,
			Help: "Posts missed while the WebSocket was away and delivered by a catch-up over REST."}),
		outboxWaiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: OutboxWaiting,
			Help: "Posts the Mattermost server could not take within the retry budget, kept in the outbox to be sent again."}),
		outboxDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: OutboxDropped,
			Help: "Posts dropped from the outbox: reason=\"expired\" when older than outbox_max_age, \"refused\" when the server refused them when sent again."},
			[]string{"reason"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: CacheLookups,
			Help: "Lookups in the Mattermost backend's caches, by cache (users) and result: hit, or miss when the server was asked."},
			[]string{"cache", "result"}),
	}
	m.userHits = m.cacheLookups.WithLabelValues(mmbackend.CacheUsers, "hit")
	m.userMisses = m.cacheLookups.WithLabelValues(mmbackend.CacheUsers, "miss")
	m.reconnects.WithLabelValues("true")
	m.reconnects.WithLabelValues("false")
	m.outboxDropped.WithLabelValues("expired")
	m.outboxDropped.WithLabelValues("refused")
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: BuildInfo,
		Help:        "Always 1; the labels say which matterbot runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	build.Set(1)
	m.reg.MustRegister(m.commands, m.commandDuration, m.requests, m.requestDuration, m.waits, m.waitSeconds,
		m.reconnects, m.catchUp, m.outboxWaiting, m.outboxDropped, m.cacheLookups, build, (*engineCollector)(m),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Engine makes the metrics read the engine's state (handlers running and
// queued, plugins active, replies, and readiness when e has it) at each
// scrape. Until it is called they are not exported.
func (m *Metrics) Engine(e Engine) { m.engine.Store(&engineSource{e}) }

// Handler serves the metrics in the Prometheus text format (or
// OpenMetrics, when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Registry returns the registry the metrics are on, for a program that
// adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// outcomeIndex maps an outcome to its place in cmdSeries.outcomes.
var outcomeIndex = func() map[bot.Outcome]int {
	idx := map[bot.Outcome]int{}
	for i, o := range bot.Outcomes() {
		idx[o] = i
	}
	return idx
}()

// ObserveCommand implements bot.Observer.
func (m *Metrics) ObserveCommand(r bot.CommandRun) {
	k := cmdKey{r.Plugin, r.Command}
	s, ok := m.cmds.Load(k)
	if !ok {
		s = m.newCmdSeries(k)
	}
	cs := s.(*cmdSeries)
	i, ok := outcomeIndex[r.Outcome]
	if !ok { // an outcome newer than this package
		m.commands.WithLabelValues(r.Plugin, r.Command, string(r.Outcome)).Inc()
	} else {
		cs.outcomes[i].Inc()
	}
	if r.Outcome != bot.OutcomeDenied && r.Outcome != bot.OutcomeBusy { // the handler ran
		cs.duration.Observe(r.Duration.Seconds())
	}
}

// newCmdSeries makes, once, the series of a command seen for the first
// time: every outcome at 0, so that rates and ratios have both sides
// from the start.
func (m *Metrics) newCmdSeries(k cmdKey) any {
	cs := &cmdSeries{duration: m.commandDuration.WithLabelValues(k.plugin, k.command)}
	for _, o := range bot.Outcomes() {
		cs.outcomes = append(cs.outcomes, m.commands.WithLabelValues(k.plugin, k.command, string(o)))
	}
	s, _ := m.cmds.LoadOrStore(k, cs)
	return s
}

// ObserveRequest implements mattermost.Observer.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	k := reqKey{method, route, status}
	s, ok := m.reqs.Load(k)
	if !ok {
		s, _ = m.reqs.LoadOrStore(k, &reqSeries{
			count:    m.requests.WithLabelValues(method, route, strconv.Itoa(status)),
			duration: m.requestDuration.WithLabelValues(method, route),
		})
	}
	rs := s.(*reqSeries)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
}

// ObserveRateLimitWait implements mattermost.Observer.
func (m *Metrics) ObserveRateLimitWait(d time.Duration) {
	m.waits.Inc()
	m.waitSeconds.Add(d.Seconds())
}

// ObserveReconnect implements mattermost.Observer.
func (m *Metrics) ObserveReconnect(resumed bool) {
	m.reconnects.WithLabelValues(strconv.FormatBool(resumed)).Inc()
}

// ObserveCatchUp implements mmbackend.Observer.
func (m *Metrics) ObserveCatchUp(posts int) { m.catchUp.Add(float64(posts)) }

// ObserveOutbox implements mmbackend.Observer.
func (m *Metrics) ObserveOutbox(waiting int) { m.outboxWaiting.Set(float64(waiting)) }

// ObserveOutboxDropped implements mmbackend.Observer.
func (m *Metrics) ObserveOutboxDropped(reason string) { m.outboxDropped.WithLabelValues(reason).Inc() }

// ObserveCache implements mmbackend.Observer.
func (m *Metrics) ObserveCache(cache string, hit bool) {
	switch {
	case cache == mmbackend.CacheUsers && hit:
		m.userHits.Inc()
	case cache == mmbackend.CacheUsers:
		m.userMisses.Inc()
	case hit:
		m.cacheLookups.WithLabelValues(cache, "hit").Inc()
	default:
		m.cacheLookups.WithLabelValues(cache, "miss").Inc()
	}
}

// engineCollector collects the engine's state at scrape time, from one
// Stats call.
type engineCollector Metrics

var (
	runningDesc = prometheus.NewDesc(HandlersRunning, "Command, listener and callback handlers running now.", nil, nil)
	queuedDesc  = prometheus.NewDesc(HandlersQueued, "Handlers waiting for a slot (the queue's depth).", nil, nil)
	activeDesc  = prometheus.NewDesc(PluginsActive, "Plugins active now.", nil, nil)
	sentDesc    = prometheus.NewDesc(RepliesSent, "Messages sent for commands and listeners: their replies and the bot's answers for them.", nil, nil)
	failedDesc  = prometheus.NewDesc(RepliesFailed, "Messages for commands and listeners that could not be sent.", nil, nil)
	readyDesc   = prometheus.NewDesc(Ready, "1 when the bot serves (logged in, WebSocket connected, caught up), else 0, as /readyz says.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runningDesc, queuedDesc, activeDesc, sentDesc, failedDesc, readyDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.engine.Load()
	if src == nil {
		return
	}
	s := src.e.Stats()
	ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(s.Running))
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued))
	ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(s.Active))
	ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.RepliesSent))
	ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(s.RepliesFailed))
	if r, ok := src.e.(Readiness); ok {
		ready := 0.0
		if r.Ready() == nil {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready)
	}
}
