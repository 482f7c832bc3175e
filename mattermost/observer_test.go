package mattermost_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// observed is one ObserveRequest call.
type observed struct {
	Method, Route string
	Status        int
	D             time.Duration
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu         sync.Mutex
	requests   []observed
	waits      []time.Duration
	reconnects chan bool // size 16: a test reads them as they come
}

func newRecorder() *recorder { return &recorder{reconnects: make(chan bool, 16)} }

func (r *recorder) ObserveRequest(method, route string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, observed{method, route, status, d})
}

func (r *recorder) ObserveRateLimitWait(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
}

func (r *recorder) ObserveReconnect(resumed bool) { r.reconnects <- resumed }

// take returns the requests and waits seen since the last take.
func (r *recorder) take() ([]observed, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	req, w := r.requests, r.waits
	r.requests, r.waits = nil, nil
	return req, w
}

// failOnce fails the first request it is asked to send, with no answer,
// and hands the others to next.
type failOnce struct {
	next   http.RoundTripper
	failed atomic.Bool
}

func (f *failOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.failed.CompareAndSwap(false, true) {
		return nil, errors.New("connection reset by peer")
	}
	return f.next.RoundTrip(r)
}

// TestObserveRequests: every attempt of a call is reported with its
// route (ids as placeholders), status and duration, a network failure
// with status 0, and the wait a 429 asks for.
func TestObserveRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := mmtest.New(nil)
		defer srv.Close()
		s, err := seedMMTest(srv)
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		ft := &failOnce{next: &handlerTransport{h: srv}}
		c, err := mattermost.NewClient("http://mm.test", mattermost.Secret(s.token),
			&mattermost.ClientOptions{HTTPClient: &http.Client{Transport: ft}, Observer: rec})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		const (
			me    = "/api/v4/users/me"
			posts = "/api/v4/channels/{channel_id}/posts"
			user  = "/api/v4/users/{user_id}"
		)
		tests := []struct {
			name      string
			call      func() error
			latency   time.Duration
			fail      int // FailNext(1, fail) before the call
			want      []observed
			wantWaits []time.Duration
		}{
			{"no answer, retried", func() error { _, _, err := c.Me(ctx); return err }, 0, 0,
				[]observed{{"GET", me, 0, 0}, {"GET", me, 200, 0}}, nil},
			{"latency", func() error { _, _, err := c.ChannelPosts(ctx, s.channel.ID, 0, 10); return err }, 2 * time.Second, 0,
				[]observed{{"GET", posts, 200, 2 * time.Second}}, nil},
			{"404", func() error { _, _, err := c.User(ctx, mattermost.NewID()); return err }, 0, 0,
				[]observed{{"GET", user, 404, 0}}, nil},
			{"429 waited out", func() error { _, _, err := c.Me(ctx); return err }, 0, http.StatusTooManyRequests,
				[]observed{{"GET", me, 429, 0}, {"GET", me, 200, 0}}, []time.Duration{time.Second}},
			{"503 retried", func() error {
				_, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: s.channel.ID, Message: "hi"})
				return err
			}, 0, http.StatusServiceUnavailable,
				[]observed{{"POST", "/api/v4/posts", 503, 0}, {"POST", "/api/v4/posts", 201, 0}}, nil},
		}
		for _, tc := range tests {
			srv.SetLatency(tc.latency)
			if tc.fail != 0 {
				srv.FailNext(1, tc.fail)
			}
			err := tc.call()
			if tc.name != "404" && err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			got, waits := rec.take()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: requests mismatch (-want +got):\n%s", tc.name, diff)
			}
			// The wait after a 429 whose Retry-After is 1 s; the wait for
			// the server's empty bucket (X-Ratelimit-Remaining 0) then
			// comes before the next request, whatever it is.
			if len(tc.wantWaits) > 0 && (len(waits) == 0 || waits[0] != tc.wantWaits[0]) {
				t.Errorf("%s: waits %v, want %v first", tc.name, waits, tc.wantWaits)
			}
		}
	})
}

// TestRequestRoutes: every request the client makes names its route, and
// the route is the template of its path: the same text, with a
// placeholder where the path has a value. A request without one would
// be reported with an empty route; one with a wrong template would count
// its requests under another route.
func TestRequestRoutes(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			lit, ok := node.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "request" {
				return true
			}
			n++
			fields := map[string]ast.Expr{}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					fields[kv.Key.(*ast.Ident).Name] = kv.Value
				}
			}
			pos := fset.Position(lit.Pos())
			route, ok := fields["route"]
			if !ok {
				t.Errorf("%s: request without a route", pos)
				return true
			}
			rl, ok := route.(*ast.BasicLit)
			if !ok {
				return true // passed in by a helper; its callers are checked by the tests of their calls
			}
			tmpl, _ := strconv.Unquote(rl.Value)
			path := pathSample(fields["path"])
			if path == "" {
				return true
			}
			if _, raw := fields["raw"]; !raw {
				path = "/api/v4" + path
			}
			re := "^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
			if !regexp.MustCompile(re).MatchString(path) || strings.Count(tmpl, "{") != strings.Count(path, "VALUE") {
				t.Errorf("%s: route %q is not the template of path %q", pos, tmpl, path)
			}
			return true
		})
	}
	if n < 40 {
		t.Errorf("found %d requests, want the 40 or more the client makes", n)
	}
}

// pathSample renders a path expression ("/users/" + pathEscape(id)) with
// VALUE for each value; "" when it is not made of literals and calls.
func pathSample(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return s
	case *ast.CallExpr:
		return "VALUE"
	case *ast.BinaryExpr:
		l, r := pathSample(e.X), pathSample(e.Y)
		if l == "" || r == "" {
			return ""
		}
		return l + r
	}
	return ""
}
