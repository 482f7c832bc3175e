package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

func TestTransient(t *testing.T) {
	t.Parallel()
	api := func(code int) error { return fmt.Errorf("send: %w", &mm.APIError{StatusCode: code}) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", fmt.Errorf("post: %w", &mm.RateLimitError{Err: &mm.APIError{StatusCode: 429}}), true},
		{"500", api(500), true},
		{"502", api(502), true},
		{"503", api(503), true},
		{"504", api(504), true},
		{"501", api(501), false},
		{"400", api(400), false},
		{"403", api(403), false},
		{"404", api(404), false},
		{"network", fmt.Errorf("post: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), true},
		{"canceled", fmt.Errorf("post: %w", context.Canceled), false},
		{"deadline", context.DeadlineExceeded, false},
		{"other", errors.New("decode answer"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.want {
				t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for n := range 10 {
		want := min(retryBackoff<<n, maxRetryBackoff)
		for range 50 {
			if d := backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if maxRetryBackoff > MaxRetryTime || time.Duration(0) >= retryBackoff {
		t.Errorf("retryBackoff %v, maxRetryBackoff %v, MaxRetryTime %v: not ordered", retryBackoff, maxRetryBackoff, MaxRetryTime)
	}
}
