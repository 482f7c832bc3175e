package matterbot

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The files an operator loads into Prometheus and Grafana.
const (
	alertsFile    = "ops/prometheus/alerts.yml"
	dashboardFile = "ops/grafana/matterbot.json"
)

// alertRules is the part of a Prometheus rule file the test reads.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestOpsFiles: the alert rules and the Grafana dashboard parse, are
// complete, and query only metrics and labels that a bot run by "run -c
// FILE" against the fake server exports (a renamed metric breaks this
// test, not an operator's dashboard).
func TestOpsFiles(t *testing.T) {
	w := newRunWorld(t)
	b := startRun(t, w)
	if got := w.reply(t, w.say(t, "!echo metrics")); got != "metrics" {
		t.Fatalf("reply = %q, want metrics", got)
	}
	b.waitLog(t, `msg=command `)
	exported := exportedLabels(scrapeMetrics(t, b.httpAddr(t)))

	var exprs []string // with where each comes from
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	var names []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := fmt.Sprintf("%s: alert %s", alertsFile, r.Alert)
			switch {
			case r.Alert == "" || slices.Contains(names, r.Alert):
				t.Errorf("%s: an alert without a name, or a name used twice", where)
			case r.Expr == "":
				t.Errorf("%s: no expr", where)
			case r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("%s: want a severity label, a summary and a description", where)
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", where, err)
				}
			}
			names = append(names, r.Alert)
			exprs = append(exprs, where+"\x00"+r.Expr)
		}
	}
	// The alerts the issue asks for.
	for _, want := range []string{"MatterbotNotReady", "MatterbotCommandErrors", "MatterbotReconnectStorm"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s: no alert %s", alertsFile, want)
		}
	}

	data, err = os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string            `json:"title"`
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Errorf("%s: want a title, a uid and panels", dashboardFile)
	}
	ids := map[int]bool{}
	for _, raw := range dash.Panels {
		var p struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				H, W, X, Y int
			} `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%s: panel: %v", dashboardFile, err)
		}
		where := fmt.Sprintf("%s: panel %d %q", dashboardFile, p.ID, p.Title)
		if ids[p.ID] || p.Title == "" || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: want a unique id, a title and a place in the 24 columns", where)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, where+"\x00"+tg.Expr)
		}
	}
	// The template variables' queries.
	var all any
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	for _, q := range stringsUnder(all, "definition") {
		exprs = append(exprs, dashboardFile+": variable\x00"+q)
	}

	for _, e := range exprs {
		where, expr, _ := strings.Cut(e, "\x00")
		for _, problem := range checkExpr(expr, exported) {
			t.Errorf("%s: %s\n%s", where, problem, expr)
		}
	}
}

// exportedLabels returns, for every family of a scrape (and each
// histogram's _bucket, _sum and _count series), the label names of its
// samples, with the ones Prometheus adds (instance, job).
func exportedLabels(s metricsSnapshot) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	labelRE := regexp.MustCompile(`([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"`)
	for key := range s.samples {
		name, labels, _ := strings.Cut(key, "{")
		if out[name] == nil {
			out[name] = map[string]bool{"instance": true, "job": true}
		}
		for _, m := range labelRE.FindAllStringSubmatch(labels, -1) {
			out[name][m[1]] = true
		}
	}
	for f := range s.families {
		if out[f] == nil {
			out[f] = map[string]bool{"instance": true, "job": true}
		}
	}
	return out
}

var (
	// metricRE finds the metric names in a query: ours, the Go runtime's,
	// the process's, and Prometheus's own up; and their label matchers.
	metricRE  = regexp.MustCompile(`\b((?:matterbot|go|process)_[a-zA-Z0-9_]+|up)\b(\{[^}]*\})?`)
	matcherRE = regexp.MustCompile(`([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"`)
	byRE      = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// checkExpr returns what is wrong with a PromQL expression: a metric we
// do not export, a label it does not have, a grouping by a label none of
// its metrics has, or unbalanced brackets.
func checkExpr(expr string, exported map[string]map[string]bool) []string {
	var problems []string
	for _, pair := range [][2]string{{"(", ")"}, {"{", "}"}, {"[", "]"}} {
		if strings.Count(expr, pair[0]) != strings.Count(expr, pair[1]) {
			problems = append(problems, "unbalanced "+pair[0]+pair[1])
		}
	}
	labels := map[string]bool{} // of the expression's metrics
	for _, m := range metricRE.FindAllStringSubmatch(expr, -1) {
		name := m[1]
		if name == "up" {
			labels["job"], labels["instance"] = true, true
			continue
		}
		have, ok := exported[name]
		if !ok {
			problems = append(problems, "metric "+name+" is not exported")
			continue
		}
		for l := range have {
			labels[l] = true
		}
		for _, lm := range matcherRE.FindAllStringSubmatch(m[2], -1) {
			if !have[lm[1]] {
				problems = append(problems, fmt.Sprintf("metric %s has no label %s", name, lm[1]))
			}
		}
	}
	for _, m := range byRE.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !labels[l] {
				problems = append(problems, "grouping by "+l+", a label none of its metrics has")
			}
		}
	}
	return problems
}

// stringsUnder returns the strings held under key anywhere in v, a
// decoded JSON value.
func stringsUnder(v any, key string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == key {
				out = append(out, s)
			}
			out = append(out, stringsUnder(x, key)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, stringsUnder(x, key)...)
		}
	}
	return out
}
