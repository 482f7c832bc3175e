package mattermost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// maxBufferedUpload is the largest file body that is not an io.Seeker
// which is kept in memory so that its upload can be retried. A bot's
// files are reports and logs, well under it; a larger one is streamed
// once and not retried.
const maxBufferedUpload = 8 << 20

// uploadFile uploads a file, retrying transient failures when the body
// can be sent again: an io.Seeker is rewound to where it was, another
// body is buffered up to maxBufferedUpload. A retry after a lost answer
// may leave an unused copy of the file on the server, attached to no
// post: harmless.
func (b *Backend) uploadFile(ctx context.Context, channelID, name string, body io.Reader) (*mm.FileInfo, error) {
	var rewind func() error
	if s, ok := body.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			rewind = func() error { _, err := s.Seek(off, io.SeekStart); return err }
		}
	}
	if rewind == nil {
		buf, err := io.ReadAll(io.LimitReader(body, maxBufferedUpload+1))
		if err != nil {
			return nil, fmt.Errorf("read file %q: %w", name, err)
		}
		if len(buf) > maxBufferedUpload {
			body = io.MultiReader(bytes.NewReader(buf), body)
		} else {
			r := bytes.NewReader(buf)
			body = r
			rewind = func() error { _, err := r.Seek(0, io.SeekStart); return err }
		}
	}
	retryable := func(err error) bool {
		if rewind == nil || !transient(err) {
			return false
		}
		if rerr := rewind(); rerr != nil {
			b.log.Warn("file cannot be sent again", "name", name, "err", rerr)
			return false
		}
		return true
	}
	var fi *mm.FileInfo
	err := b.retry(ctx, "upload file", retryable, func() error {
		var err error
		fi, _, err = b.client.UploadFile(ctx, channelID, name, body)
		return err
	})
	return fi, err
}

// postWebhook posts through an incoming webhook, retrying 429 and 5xx
// answers. A webhook post has no pending_post_id, so a retry has no
// server-side dedup: it relies on such an answer meaning the post was
// not made, which holds in practice (a 429 is refused before the handler
// runs; a 502, 503 or 504 comes from a proxy or a server that did not
// serve the request). The small risk left is a 500 from a server that
// saved the post and failed afterwards: the card would show twice. A
// network error (no answer, the post may have been made) is not retried.
func (b *Backend) postWebhook(ctx context.Context, hookID string, msg *mm.WebhookMessage) error {
	answered := func(err error) bool {
		var ae *mm.APIError
		return errors.As(err, &ae) && answeredTransient(ae.StatusCode)
	}
	return b.retry(ctx, "post through the cards hook", answered, func() error {
		_, err := b.client.PostWebhook(ctx, hookID, msg)
		return err
	})
}
