package mattermost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// Retries beyond the client's. The client retries an idempotent call 3
// times within a few seconds; a server restarting, or a proxy answering
// 503 while it does, is down for longer. The backend retries the calls
// whose loss would drop a command (the catch-up's reads) with its own
// backoff (see RetryPolicy), for at most RetryPolicy.MaxTotal per call,
// and never past the context's deadline. Replies (posts, uploads, the
// cards hook) go to the outbox instead, which retries them with the same
// backoff, its waits capped (outboxProbeMax); without an outbox they are
// retried like the reads.
const (
	// MaxRetryTime is the default of RetryPolicy.MaxTotal: how long one
	// catch-up read (or, without an outbox, one reply) is retried after
	// transient failures before the error is returned.
	MaxRetryTime = 2 * time.Minute
	// DefaultRetryBase and DefaultRetryMax are the defaults of
	// RetryPolicy.Base and RetryPolicy.Max.
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 15 * time.Second
)

// RetryPolicy is the backend's backoff for requests that failed with a
// 429, a 500, 502, 503 or 504, or no answer (see Options.Retry). The zero
// value means the defaults, which suit a production server; tests
// against a fake server shorten them to milliseconds.
//
// The wait before retry n (0-based) is Base*2^n capped at Max, drawn at
// random in its upper half; a 429 waits at least what the server asked
// (Retry-After, else X-Ratelimit-Reset). A call is retried until
// MaxTotal has passed since its first attempt, or its context's deadline
// would cut the next wait short, whichever comes first.
//
// The client's own retries of one request (mattermost.ClientOptions
// RetryBackoff and MaxRetryBackoff), which run within each of the
// backend's attempts, start at Base/2 and are capped by Max as well: one
// policy sets the time scale of both layers.
type RetryPolicy struct {
	// Base is the wait before the first retry. Default DefaultRetryBase
	// (1s), so the client's first retry waits 500ms, its own default.
	Base time.Duration
	// Max caps one wait (a server's Retry-After excepted). Default
	// DefaultRetryMax (15s); raised to Base when below it.
	Max time.Duration
	// MaxTotal bounds how long one call is retried. Default
	// MaxRetryTime (2m).
	MaxTotal time.Duration
}

// withDefaults returns p with its zero fields set to their defaults, or
// an error naming a negative field.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	for _, f := range []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{{"Base", &p.Base, DefaultRetryBase}, {"Max", &p.Max, DefaultRetryMax}, {"MaxTotal", &p.MaxTotal, MaxRetryTime}} {
		if *f.d < 0 {
			return p, fmt.Errorf("mattermost: negative Retry.%s %v", f.name, *f.d)
		}
		if *f.d == 0 {
			*f.d = f.def
		}
	}
	p.Max = max(p.Max, p.Base)
	return p, nil
}

// ceiling returns the longest wait before retry n (0-based): Base*2^n
// capped at Max.
func (p RetryPolicy) ceiling(n int) time.Duration {
	d := p.Base
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// equalJitter draws a wait at random in [d/2, d] ("equal jitter"): retries
// of concurrent calls spread out, yet none comes back at once.
func equalJitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// retry calls f until it succeeds, fails with an error retryable does not
// accept, ctx is done, or the next wait would end past the policy's
// MaxTotal since the first call or past ctx's deadline; it returns f's
// last error. See RetryPolicy for the waits.
func (b *Backend) retry(ctx context.Context, what string, retryable func(error) bool, f func() error) error {
	return b.retryFor(ctx, b.opts.Retry.MaxTotal, what, retryable, f)
}

// retryFor is retry with budget in place of the policy's MaxTotal.
func (b *Backend) retryFor(ctx context.Context, budget time.Duration, what string, retryable func(error) bool, f func() error) error {
	p := b.opts.Retry
	jitter := b.jitter
	if jitter == nil {
		jitter = equalJitter
	}
	start := time.Now()
	for n := 0; ; n++ {
		err := f()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		d := jitter(p.ceiling(n))
		var rl *mm.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > d {
			d = rl.RetryAfter // the server said when; sooner is refused again
		}
		if time.Since(start)+d > budget {
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

// createPost creates p, retrying transient failures: for a backend
// without an outbox (with one, see post). p gets its pending_post_id
// before the first attempt and keeps it on every one, so the server
// answers the post already made rather than posting twice (the client
// keeps it across its own retries; this keeps it across the backend's).
func (b *Backend) createPost(ctx context.Context, p *mm.Post) error {
	b.stamp(p)
	return b.retry(ctx, "create post", mm.Transient, func() error {
		made, _, err := b.client.CreatePost(ctx, p)
		if err == nil {
			b.noteReply(made)
		}
		return err
	})
}

// maxBufferedUpload is the largest file body that is not an io.Seeker
// which is kept in memory so that its upload can be retried. A bot's
// files are reports and logs, well under it; a larger one is streamed
// once and not retried.
const maxBufferedUpload = 8 << 20

// uploadFile uploads a file, retrying transient failures when the body
// can be sent again (see replayable). A retry after a lost answer may
// leave an unused copy of the file on the server, attached to no post:
// harmless.
func (b *Backend) uploadFile(ctx context.Context, channelID, name string, body io.Reader) (*mm.FileInfo, error) {
	body, rewind, err := replayable(name, body)
	if err != nil {
		return nil, err
	}
	return b.uploadReplayable(ctx, channelID, name, body, rewind)
}

// replayable returns a body that can be sent again with rewind: an
// io.Seeker is rewound to where it was, another body is buffered up to
// maxBufferedUpload. A larger one is streamed once: rewind is nil.
func replayable(name string, body io.Reader) (io.Reader, func() error, error) {
	if s, ok := body.(io.Seeker); ok {
		if off, err := s.Seek(0, io.SeekCurrent); err == nil {
			return body, func() error { _, err := s.Seek(off, io.SeekStart); return err }, nil
		}
	}
	buf, err := io.ReadAll(io.LimitReader(body, maxBufferedUpload+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read file %q: %w", name, err)
	}
	if len(buf) > maxBufferedUpload {
		return io.MultiReader(bytes.NewReader(buf), body), nil, nil
	}
	r := bytes.NewReader(buf)
	return r, func() error { _, err := r.Seek(0, io.SeekStart); return err }, nil
}

// uploadReplayable uploads body, retrying transient failures when rewind
// is not nil.
func (b *Backend) uploadReplayable(ctx context.Context, channelID, name string, body io.Reader, rewind func() error) (*mm.FileInfo, error) {
	retryable := func(err error) bool {
		if rewind == nil || !mm.Transient(err) {
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
// answers for up to Retry.MaxTotal; with an outbox, for up to
// outboxProbeMax only (a few seconds: a handler does not wait on a
// failing server), after which its caller posts the card itself,
// through the outbox. A webhook post has no pending_post_id, so a retry has no
// server-side dedup: it relies on such an answer meaning the post was
// not made, which holds in practice (a 429 is refused before the handler
// runs; a 502, 503 or 504 comes from a proxy or a server that did not
// serve the request). The small risk left is a 500 from a server that
// saved the post and failed afterwards: the card would show twice. A
// network error (no answer, the post may have been made) is not retried.
func (b *Backend) postWebhook(ctx context.Context, hookID string, msg *mm.WebhookMessage) error {
	answered := func(err error) bool {
		var ae *mm.APIError
		return errors.As(err, &ae) && mm.Transient(err)
	}
	budget := b.opts.Retry.MaxTotal
	if b.ob != nil {
		budget = outboxProbeMax(b.opts.Retry)
	}
	return b.retryFor(ctx, budget, "post through the cards hook", answered, func() error {
		_, err := b.client.PostWebhook(ctx, hookID, msg)
		return err
	})
}
