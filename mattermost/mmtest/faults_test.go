package mmtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

func TestSetLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(nil)
		defer s.Close()
		s.SetLatency(2 * time.Second)
		start := time.Now()
		if rec := httptestRecorder(s, "GET", "/api/v4/system/ping"); rec.Code != 200 {
			t.Fatalf("ping = %d", rec.Code)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("ping with 2s latency took %v, want 2s", d)
		}

		// A client that gives up ends the wait; nothing is answered.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		req := httptest.NewRequest("GET", "/api/v4/system/ping", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		start = time.Now()
		s.ServeHTTP(rec, req)
		if d := time.Since(start); d != 500*time.Millisecond || rec.Body.Len() != 0 {
			t.Errorf("cancelled request took %v and answered %q, want 500ms and nothing", d, rec.Body)
		}

		s.SetLatency(0)
		start = time.Now()
		httptestRecorder(s, "GET", "/api/v4/system/ping")
		if d := time.Since(start); d != 0 {
			t.Errorf("ping without latency took %v", d)
		}
	})
}

func TestDropNextResponsesWithoutHijack(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.DropNextResponses(1)
	if rec := httptestRecorder(s, "GET", "/api/v4/system/ping"); rec.Code != http.StatusBadGateway {
		t.Errorf("dropped answer on a recorder = %d, want 502", rec.Code)
	}
	if rec := httptestRecorder(s, "GET", "/api/v4/system/ping"); rec.Code != http.StatusOK {
		t.Errorf("next answer = %d, want 200", rec.Code)
	}
}
