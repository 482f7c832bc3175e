package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	mm "github.com/matterbot/matterbot/mattermost"
)

// statusServer answers POST /api/v4/users/status/ids from memory, as a
// RoundTripper: no network, so it runs inside a synctest bubble.
type statusServer struct {
	mu     sync.Mutex
	status map[string]string // user id → status; unknown ids are offline
	fail   int               // answer the next fail requests with a 500
	asked  [][]string        // the ids of each request
}

func (s *statusServer) set(id, status string) {
	s.mu.Lock()
	s.status[id] = status
	s.mu.Unlock()
}

func (s *statusServer) RoundTrip(r *http.Request) (*http.Response, error) {
	answer := func(code int, v any) (*http.Response, error) {
		b, _ := json.Marshal(v)
		return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v4/users/status/ids" {
		return answer(http.StatusNotFound, mm.APIError{ID: "api.context.404.app_error", StatusCode: 404})
	}
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, ids)
	if s.fail > 0 {
		s.fail--
		return answer(http.StatusInternalServerError, mm.APIError{ID: "app.status.get.app_error", StatusCode: 500})
	}
	out := []mm.Status{}
	for _, id := range ids {
		st := s.status[id]
		if st == "" {
			st = mm.StatusOffline
		}
		out = append(out, mm.Status{UserID: id, Status: st})
	}
	return answer(http.StatusOK, out)
}

// presenceBackend is a Backend over srv whose directory knows alice (the
// bot) and the users of ids, connected (one hello seen).
func presenceBackend(t *testing.T, srv *statusServer, ids ...string) *Backend {
	t.Helper()
	b, err := New(Options{Server: "http://mm.test", Token: "tok", HTTPClient: &http.Client{Transport: srv}})
	if err != nil {
		t.Fatal(err)
	}
	b.dir = newDirectory(newFakeLookup(), aliceID, dirOptions{})
	for _, id := range append([]string{aliceID}, ids...) {
		if _, err := b.dir.user(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	b.self = b.dir.cachedUser(aliceID)
	b.hellos = 1
	return b
}

// TestPresencePolling: every interval the backend asks for the statuses
// of the users it knows, not its own; the first answer about a user is
// the baseline, later changes are delivered once, an unchanged status is
// not, and a failed poll is skipped.
func TestPresencePolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &statusServer{status: map[string]string{bobID: mm.StatusOnline, adminID: mm.StatusAway}}
		b := presenceBackend(t, srv, bobID, adminID)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.pollPresence(ctx, time.Minute)
		}()
		start := time.Now()
		h := &recorder{}
		// poll waits for the next poll, checks when it came, and hands
		// it to the event loop's handler; it returns what was delivered.
		poll := func(at time.Duration) []string {
			t.Helper()
			ss := <-b.polled
			if got := time.Since(start); got != at {
				t.Errorf("poll at %v, want %v", got, at)
			}
			n := len(h.presences)
			b.presenceIn(h, ss)
			var out []string
			for _, p := range h.presences[n:] {
				out = append(out, p.User.Username+" "+p.Status)
			}
			return out
		}
		steps := []struct {
			name   string
			before func()
			at     time.Duration
			want   []string
		}{
			{"first poll: the baseline", nil, time.Minute, nil},
			{"bob goes away", func() { srv.set(bobID, mm.StatusAway) }, 2 * time.Minute, []string{"bob away"}},
			{"nothing changes", nil, 3 * time.Minute, nil},
			{"the poll at 4 minutes fails; admin's change comes with the next", func() {
				srv.mu.Lock()
				srv.fail = 1 + mm.DefaultMaxRetries // the client's attempts
				srv.mu.Unlock()
				srv.set(adminID, mm.StatusDND)
			}, 5 * time.Minute, []string{"admin dnd"}},
			{"a user met later: baseline first", func() {
				if _, err := b.dir.user(ctx, botID); err != nil {
					t.Fatal(err)
				}
				srv.set(botID, mm.StatusOnline)
			}, 6 * time.Minute, nil},
			{"then changes", func() {
				srv.set(botID, mm.StatusOffline)
				srv.set(bobID, mm.StatusOnline)
			}, 7 * time.Minute, []string{"matterbot-bot offline", "bob online"}}, // in id order,
		}
		for _, st := range steps {
			if st.before != nil {
				st.before()
			}
			if diff := cmp.Diff(st.want, poll(st.at)); diff != "" {
				t.Errorf("%s: delivered (-want +got):\n%s", st.name, diff)
			}
		}
		cancel()
		<-done
		srv.mu.Lock()
		defer srv.mu.Unlock()
		for i, ids := range srv.asked {
			if slices.Contains(ids, aliceID) {
				t.Errorf("poll %d asked for the bot's own status: %v", i, ids)
			}
		}
	})
}

// TestPresenceBeforeHello: statuses polled before the first hello are
// the baseline, not delivered.
func TestPresenceBeforeHello(t *testing.T) {
	srv := &statusServer{status: map[string]string{}}
	b := presenceBackend(t, srv, bobID)
	b.hellos = 0
	h := &recorder{}
	b.presenceIn(h, []*mm.Status{{UserID: bobID, Status: mm.StatusOnline}})
	b.presenceIn(h, []*mm.Status{{UserID: bobID, Status: mm.StatusAway}})
	if len(h.presences) != 0 {
		t.Errorf("delivered %d presences before the first hello, want none", len(h.presences))
	}
	b.hellos = 1
	b.presenceIn(h, []*mm.Status{{UserID: bobID, Status: mm.StatusOnline}, nil, {UserID: aliceID, Status: mm.StatusDND}})
	if len(h.presences) != 1 || h.presences[0].Status != mm.StatusOnline {
		t.Errorf("presences = %+v, want bob online only", h.presences)
	}
}

// TestPresenceEventAndPoll: a status_change event and a poll saying the
// same thing deliver it once, whichever comes first.
func TestPresenceEventAndPoll(t *testing.T) {
	srv := &statusServer{status: map[string]string{}}
	b := presenceBackend(t, srv, bobID)
	h := &recorder{}
	event := func(status string) {
		t.Helper()
		frame := fmt.Sprintf(`{"event":"status_change","data":{"status":%q,"user_id":%q},"broadcast":{"user_id":""},"seq":1}`, status, bobID)
		ev, _, err := mm.DecodeFrame([]byte(frame))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.handle(t.Context(), h, ev); err != nil {
			t.Fatal(err)
		}
	}
	poll := func(status string) { b.presenceIn(h, []*mm.Status{{UserID: bobID, Status: status}}) }
	poll(mm.StatusOnline) // baseline
	event(mm.StatusAway)  // delivered
	poll(mm.StatusAway)   // known
	poll(mm.StatusDND)    // delivered
	event(mm.StatusDND)   // known
	var got []string
	for _, p := range h.presences {
		got = append(got, p.Status)
	}
	if diff := cmp.Diff([]string{mm.StatusAway, mm.StatusDND}, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// TestPresenceEveryUser: a poll asks about every user the directory
// holds, 1,234 of them, never the bot, in requests of at most
// presenceBatch users; a change of the last one is delivered.
func TestPresenceEveryUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1234
		srv := &statusServer{status: map[string]string{}}
		b := presenceBackend(t, srv)
		var ids []string
		for i := range n {
			id := fmt.Sprintf("user%022d", i)
			ids = append(ids, id)
			b.dir.putUser(&mm.User{ID: id, Username: fmt.Sprintf("u%d", i)})
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.pollPresence(ctx, time.Minute)
		}()
		h := &recorder{}
		b.presenceIn(h, <-b.polled) // the baseline
		srv.set(ids[n-1], mm.StatusOnline)
		b.presenceIn(h, <-b.polled)
		cancel()
		<-done
		if len(h.presences) != 1 || h.presences[0].User.ID != ids[n-1] {
			t.Errorf("presences = %+v, want the last user online", h.presences)
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		var asked []string
		for _, req := range srv.asked[:len(srv.asked)/2] { // the first poll
			if len(req) > presenceBatch {
				t.Errorf("a request asked about %d users, want at most %d", len(req), presenceBatch)
			}
			asked = append(asked, req...)
		}
		slices.Sort(asked)
		if diff := cmp.Diff(ids, asked); diff != "" {
			t.Errorf("users asked about in one poll (-want +got):\n%s", diff)
		}
		if got, want := len(srv.asked), 2*((n+presenceBatch-1)/presenceBatch); got != want {
			t.Errorf("%d requests for two polls, want %d", got, want)
		}
	})
}
