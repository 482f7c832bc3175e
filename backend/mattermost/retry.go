package mattermost

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// Retries beyond the client's. The client retries an idempotent call 3
// times within a few seconds; a server restarting, or a proxy answering
// 503 while it does, is down for longer. The backend retries the calls
// whose loss would drop a reply or a command (posts, uploads, the cards
// hook, the catch-up's reads) with its own backoff, for at most
// MaxRetryTime per call, and never past the context's deadline.
const (
	// MaxRetryTime bounds how long one reply (or one catch-up read) is
	// retried after transient failures before the error is returned.
	MaxRetryTime = 2 * time.Minute

	retryBackoff    = time.Second
	maxRetryBackoff = 15 * time.Second
)

// transient reports whether err may go away by itself: a 429, a 500,
// 502, 503 or 504 answer, or no answer at all (a network error). Other
// 4xx answers are final; so is a cancelled context.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *mm.APIError
	if errors.As(err, &ae) {
		return answeredTransient(ae.StatusCode)
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// answeredTransient reports whether an answer's status means "not done,
// try later": the request was refused before it had any effect, in
// practice (the server's rate limiter runs before the handler; a 502,
// 503 or 504 comes from a proxy or a server that did not serve it).
func answeredTransient(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retry calls f until it succeeds, fails with an error retryable does not
// accept, ctx is done, or MaxRetryTime has passed since the first call;
// it returns f's last error. Waits double from retryBackoff up to
// maxRetryBackoff, with jitter.
func (b *Backend) retry(ctx context.Context, what string, retryable func(error) bool, f func() error) error {
	start := time.Now()
	for n := 0; ; n++ {
		err := f()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		d := backoff(n)
		if time.Since(start)+d > MaxRetryTime {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
			return err
		}
		b.log.Warn("server unavailable, retrying", "what", what, "attempt", n+1, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff returns the wait before retry n (0-based): retryBackoff*2^n up
// to maxRetryBackoff, its upper half random.
func backoff(n int) time.Duration {
	d := retryBackoff
	for i := 0; i < n && d < maxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, maxRetryBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// createPost creates p, retrying transient failures. p gets its
// pending_post_id before the first attempt and keeps it on every one, so
// the server answers the post already made rather than posting twice
// (the client keeps it across its own retries; this keeps it across the
// backend's).
func (b *Backend) createPost(ctx context.Context, p *mm.Post) error {
	if p.PendingPostID == "" {
		p.PendingPostID = b.client.PendingPostID()
	}
	return b.retry(ctx, "create post", transient, func() error {
		_, _, err := b.client.CreatePost(ctx, p)
		return err
	})
}
