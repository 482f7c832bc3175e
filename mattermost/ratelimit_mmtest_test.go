package mattermost_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// handlerTransport serves requests with an http.Handler in memory, as
// synctest wants (no sockets), and counts the 429 answers.
type handlerTransport struct {
	h        http.Handler
	limited  atomic.Int32
	answered atomic.Int32
}

func (t *handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	if resp.StatusCode == http.StatusTooManyRequests {
		t.limited.Add(1)
	} else {
		t.answered.Add(1)
	}
	return resp, nil
}

// TestDefaultClientPacedByServer: a client with default options has no
// cap of its own, and against a server whose rate limit is on with the
// server's settings when enabled (10 requests per second, burst 100) it
// gets every one of 300 requests made 8 at a time through, paced by the
// server's X-Ratelimit-* headers: a few 429s while the burst runs out
// (the requests already sent), then none. Time is synctest's: the 20
// seconds the server's limit imposes pass at once.
func TestDefaultClientPacedByServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := mmtest.New(&mmtest.Options{RateLimit: &mmtest.RateLimit{PerSec: 10, MaxBurst: 100}, Now: time.Now})
		defer srv.Close()
		u, err := srv.AddUser(mmtest.User{Username: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := srv.CreateToken(u.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		tr := &handlerTransport{h: srv}
		c, err := mattermost.NewClient("http://mm.test", mattermost.Secret(tok), &mattermost.ClientOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}

		const total, inFlight = 300, 8
		start := time.Now()
		var next atomic.Int32
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				for next.Add(1) <= total {
					if _, _, err := c.Me(t.Context()); err != nil {
						t.Errorf("Me() = %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)

		if n := tr.answered.Load(); n != total {
			t.Errorf("requests answered = %d, want %d", n, total)
		}
		// The burst (101) at once, then 10 a second: (300-101)/10 s at
		// least; the client's pace, one token's time rounded up by the
		// server's whole-second Reset (11s/101), adds a tenth.
		if lo, hi := 19*time.Second, 25*time.Second; elapsed < lo || elapsed > hi {
			t.Errorf("300 requests took %v, want between %v and %v", elapsed, lo, hi)
		}
		if n := tr.limited.Load(); n > inFlight {
			t.Errorf("429 answers = %d, want at most %d (the requests in flight when the burst ran out)", n, inFlight)
		}
		t.Logf("300 requests in %v, %d answered 429", elapsed, tr.limited.Load())
	})
}

// TestDefaultClientNoCap: without a server limit, the default client
// sends as fast as it is asked: 100 requests take no time at all.
func TestDefaultClientNoCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := mmtest.New(nil)
		defer srv.Close()
		tr := &handlerTransport{h: srv}
		c, err := mattermost.NewClient("http://mm.test", "", &mattermost.ClientOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range 100 {
			if _, _, err := c.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("100 pings took %v, want no wait (no client-side cap by default)", d)
		}
	})
}
