package mattermost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	mm "github.com/matterbot/matterbot/mattermost"
)

func TestEqualJitterBounds(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 1, 2, 3, time.Millisecond, time.Second, DefaultRetryMax} {
		for range 100 {
			if got := equalJitter(d); got < d/2 || got > d {
				t.Fatalf("equalJitter(%v) = %v, want in [%v, %v]", d, got, d/2, d)
			}
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      RetryPolicy
		want    RetryPolicy
		wantErr string
	}{
		{"zero", RetryPolicy{}, RetryPolicy{Base: time.Second, Max: 15 * time.Second, MaxTotal: 2 * time.Minute}, ""},
		{"set", RetryPolicy{Base: time.Millisecond, Max: 8 * time.Millisecond, MaxTotal: time.Second},
			RetryPolicy{Base: time.Millisecond, Max: 8 * time.Millisecond, MaxTotal: time.Second}, ""},
		{"max below base", RetryPolicy{Base: 20 * time.Second}, RetryPolicy{Base: 20 * time.Second, Max: 20 * time.Second, MaxTotal: MaxRetryTime}, ""},
		{"negative base", RetryPolicy{Base: -1}, RetryPolicy{}, "negative Retry.Base"},
		{"negative max", RetryPolicy{Max: -time.Second}, RetryPolicy{}, "negative Retry.Max"},
		{"negative total", RetryPolicy{MaxTotal: -time.Second}, RetryPolicy{}, "negative Retry.MaxTotal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%+v.withDefaults() error = %v, want one naming %q", tc.in, err, tc.wantErr)
				}
				// New refuses it too, with the same error.
				if _, err := New(Options{Server: "chat.example.com", Token: "t", Retry: tc.in}); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("New with Retry %+v: error %v, want one naming %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%+v.withDefaults(): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("%+v.withDefaults() = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// sec is a number of seconds as a Duration, for readable schedules.
func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func upperJitter(d time.Duration) time.Duration { return d }
func lowerJitter(d time.Duration) time.Duration { return d / 2 }

// newRetryBackend returns a Backend, not connected, whose requests go to
// rt, with the retry policy p and the retry waits drawn by jitter.
func newRetryBackend(t *testing.T, p RetryPolicy, jitter func(time.Duration) time.Duration, rt http.RoundTripper) *Backend {
	t.Helper()
	b, err := New(Options{Server: "http://mm.test", Token: "tok", Retry: p, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	b.jitter = jitter
	return b
}

// rateLimited returns the error the client makes of a 429 with the
// headers h: the Retry-After and X-Ratelimit-Reset it carries are parsed
// by the client, as on the wire.
func rateLimited(h map[string]string) error {
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("limit exceeded"))}
	for k, v := range h {
		resp.Header.Set(k, v)
	}
	return fmt.Errorf("mattermost: POST /api/v4/posts: %w", mm.CheckResponse(resp))
}

// TestRetrySchedule runs retry in a synctest bubble with a fake
// operation and checks the virtual time of every attempt.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	unavailable := &mm.APIError{StatusCode: http.StatusServiceUnavailable, Message: "unavailable"}
	always := func(err error) func(int) error { return func(int) error { return err } }
	for _, tc := range []struct {
		name     string
		policy   RetryPolicy
		jitter   func(time.Duration) time.Duration
		deadline time.Duration // of the context, from the start; 0: none
		op       func(attempt int) error
		want     []time.Duration // when each attempt started
		wantOK   bool            // retry returns nil
	}{
		{
			// Doubling from 1s, capped at 15s, until 2m: the last
			// attempt starts at 2m exactly, the next would be past it.
			name: "defaults", jitter: upperJitter, op: always(unavailable),
			want: []time.Duration{0, sec(1), sec(3), sec(7), sec(15), sec(30), sec(45), sec(60), sec(75), sec(90), sec(105), sec(120)},
		},
		{
			name: "defaults, shortest jitter", jitter: lowerJitter, op: always(unavailable),
			want: func() []time.Duration {
				w := []time.Duration{0, sec(0.5), sec(1.5), sec(3.5), sec(7.5)}
				for at := sec(15); at <= MaxRetryTime; at += sec(7.5) {
					w = append(w, at)
				}
				return w
			}(),
		},
		{
			name:   "short policy",
			policy: RetryPolicy{Base: 10 * time.Millisecond, Max: 40 * time.Millisecond, MaxTotal: 200 * time.Millisecond},
			jitter: upperJitter, op: always(unavailable),
			want: []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond, 70 * time.Millisecond, 110 * time.Millisecond, 150 * time.Millisecond, 190 * time.Millisecond},
		},
		{
			// At 7s the next wait (8s) would end past the deadline (10s):
			// retry gives up at once rather than wait for nothing.
			name: "context deadline", jitter: upperJitter, deadline: sec(10), op: always(unavailable),
			want: []time.Duration{0, sec(1), sec(3), sec(7)},
		},
		{
			name: "succeeds on the third attempt", jitter: upperJitter, wantOK: true,
			op: func(n int) error {
				if n < 2 {
					return unavailable
				}
				return nil
			},
			want: []time.Duration{0, sec(1), sec(3)},
		},
		{
			name: "Retry-After longer than the backoff", jitter: upperJitter,
			policy: RetryPolicy{MaxTotal: sec(12)}, op: always(rateLimited(map[string]string{"Retry-After": "5"})),
			want: []time.Duration{0, sec(5), sec(10)},
		},
		{
			// X-Ratelimit-Reset stands in for a missing Retry-After.
			name: "X-Ratelimit-Reset", jitter: upperJitter,
			policy: RetryPolicy{MaxTotal: sec(12)}, op: always(rateLimited(map[string]string{"X-Ratelimit-Reset": "4", "X-Ratelimit-Remaining": "0"})),
			want: []time.Duration{0, sec(4), sec(8), sec(12)},
		},
		{
			// A shorter Retry-After does not shorten the backoff.
			name: "Retry-After shorter than the backoff", jitter: upperJitter,
			policy: RetryPolicy{MaxTotal: sec(10)}, op: always(rateLimited(map[string]string{"Retry-After": "0.1"})),
			want: []time.Duration{0, sec(1), sec(3), sec(7)},
		},
		{
			// The server asks for more than the time left: no retry.
			name: "Retry-After past MaxTotal", jitter: upperJitter,
			op:   always(rateLimited(map[string]string{"Retry-After": "3600"})),
			want: []time.Duration{0},
		},
		{
			name: "final error", jitter: upperJitter,
			op:   always(&mm.APIError{StatusCode: http.StatusBadRequest}),
			want: []time.Duration{0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newRetryBackend(t, tc.policy, tc.jitter, nil)
				ctx := t.Context()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				start := time.Now()
				var got []time.Duration
				var last error
				err := b.retry(ctx, "test", mm.Transient, func() error {
					got = append(got, time.Since(start))
					last = tc.op(len(got) - 1)
					return last
				})
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("attempt times (-want +got):\n%s", diff)
				}
				if tc.wantOK != (err == nil) || err != last {
					t.Errorf("retry = %v, want the last attempt's error %v", err, last)
				}
				// retry returns right after the last attempt: it never
				// waits for a retry it will not make.
				if end := time.Since(start); end != got[len(got)-1] {
					t.Errorf("retry returned at %v, want at the last attempt, %v", end, got[len(got)-1])
				}
			})
		})
	}
}

// TestRetryCancelled: a context cancelled during a wait ends retry at
// once with the last error.
func TestRetryCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newRetryBackend(t, RetryPolicy{}, upperJitter, nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(sec(2), cancel)
		start := time.Now()
		var got []time.Duration
		unavailable := &mm.APIError{StatusCode: http.StatusServiceUnavailable}
		err := b.retry(ctx, "test", mm.Transient, func() error {
			got = append(got, time.Since(start))
			return unavailable
		})
		if want := []time.Duration{0, sec(1)}; !cmp.Equal(want, got) {
			t.Errorf("attempts at %v, want %v", got, want)
		}
		if err != unavailable {
			t.Errorf("retry = %v, want the last error %v", err, unavailable)
		}
		if end := time.Since(start); end != sec(2) {
			t.Errorf("retry returned at %v, want at the cancel, 2s", end)
		}
	})
}

// TestRetryWhichErrors: which failures are retried, as the client
// reports them. Each retried one is tried at 0, 1s, 2s and 3s (Base and
// Max 1s, MaxTotal 3s); the others once.
func TestRetryWhichErrors(t *testing.T) {
	t.Parallel()
	answer := func(code int) error {
		body := fmt.Sprintf(`{"id":"x","message":"m","status_code":%d}`, code)
		return mm.CheckResponse(&http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))})
	}
	retried := []time.Duration{0, sec(1), sec(2), sec(3)}
	once := []time.Duration{0}
	for _, tc := range []struct {
		name string
		err  error
		want []time.Duration
	}{
		{"429 without headers", answer(http.StatusTooManyRequests), retried},
		{"500", answer(http.StatusInternalServerError), retried},
		{"502", answer(http.StatusBadGateway), retried},
		{"503", answer(http.StatusServiceUnavailable), retried},
		{"504", answer(http.StatusGatewayTimeout), retried},
		{"connection refused", fmt.Errorf("mattermost: POST /api/v4/posts: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), retried},
		{"400", answer(http.StatusBadRequest), once},
		{"401", answer(http.StatusUnauthorized), once},
		{"403", answer(http.StatusForbidden), once},
		{"404", answer(http.StatusNotFound), once},
		{"413", answer(http.StatusRequestEntityTooLarge), once},
		{"501", answer(http.StatusNotImplemented), once},
		{"context canceled", fmt.Errorf("mattermost: POST /api/v4/posts: %w", context.Canceled), once},
		{"decode", errors.New("mattermost: POST /api/v4/posts: decode answer: unexpected EOF"), once},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newRetryBackend(t, RetryPolicy{Base: sec(1), Max: sec(1), MaxTotal: sec(3)}, upperJitter, nil)
				start := time.Now()
				var got []time.Duration
				err := b.retry(t.Context(), "test", mm.Transient, func() error {
					got = append(got, time.Since(start))
					return tc.err
				})
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("attempts for %v (-want +got):\n%s", tc.err, diff)
				}
				if err != tc.err {
					t.Errorf("retry = %v, want %v", err, tc.err)
				}
			})
		})
	}
}

// fakeServer is an in-memory http.RoundTripper: answer decides each
// answer from the request and its body; every request is recorded with
// its virtual time.
type fakeServer struct {
	start  time.Time
	answer func(n int, r *http.Request, body string) (*http.Response, error)

	mu   sync.Mutex
	reqs []fakeRequest
}

type fakeRequest struct {
	at   time.Duration
	path string
	body string
}

func (f *fakeServer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, fakeRequest{at: time.Since(f.start), path: r.Method + " " + r.URL.Path, body: string(body)})
	f.mu.Unlock()
	return f.answer(n, r, string(body))
}

func (f *fakeServer) times() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []time.Duration
	for _, r := range f.reqs {
		ts = append(ts, r.at)
	}
	return ts
}

// reply builds an answer with a JSON (or plain) body and headers.
func reply(r *http.Request, code int, body string, h ...string) *http.Response {
	hdr := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(h); i += 2 {
		hdr.Set(h[i], h[i+1])
	}
	return &http.Response{
		StatusCode: code, Status: http.StatusText(code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}
}

func failure(r *http.Request, code int, h ...string) *http.Response {
	return reply(r, code, fmt.Sprintf(`{"id":"fake.error","message":"%s","status_code":%d}`, http.StatusText(code), code), h...)
}

// TestRetryThroughClient: the backend's retries of an upload, a post
// through the cards hook and a post, over the REST client and an
// in-memory server, in a synctest bubble. The client does not retry an
// upload or a webhook's 5xx itself, so their times are the backend's
// alone, exactly.
func TestRetryThroughClient(t *testing.T) {
	t.Parallel()
	policy := RetryPolicy{Base: sec(1), Max: sec(4), MaxTotal: sec(20)}
	const content = "report body"
	upload := func(ctx context.Context, b *Backend) error {
		// A body that is no io.Seeker: buffered, so it can be replayed.
		fi, err := b.uploadFile(ctx, "chan", "r.txt", io.MultiReader(strings.NewReader(content)))
		if err == nil && fi.ID != "file1" {
			err = fmt.Errorf("uploadFile = file %q, want file1", fi.ID)
		}
		return err
	}
	hook := func(ctx context.Context, b *Backend) error {
		return b.postWebhook(ctx, "hook1", &mm.WebhookMessage{Text: "card"})
	}
	uploaded := func(r *http.Request) *http.Response {
		return reply(r, http.StatusCreated, `{"file_infos":[{"id":"file1","name":"r.txt"}],"client_ids":[]}`)
	}
	refused := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		call    func(context.Context, *Backend) error
		answer  func(n int, r *http.Request) (*http.Response, error)
		want    []time.Duration
		wantErr bool
	}{
		{"upload after two 503s", upload, func(n int, r *http.Request) (*http.Response, error) {
			if n < 2 {
				return failure(r, http.StatusServiceUnavailable), nil
			}
			return uploaded(r), nil
		}, []time.Duration{0, sec(1), sec(3)}, false},
		{
			// The client hands a streamed upload's 429 back at once
			// (mattermost Client.do), and the backend waits the
			// Retry-After once before it sends the file again.
			"upload after a 429 with Retry-After", upload, func(n int, r *http.Request) (*http.Response, error) {
				if n == 0 {
					return failure(r, http.StatusTooManyRequests, "Retry-After", "6", "X-Ratelimit-Reset", "6"), nil
				}
				return uploaded(r), nil
			}, []time.Duration{0, sec(6)}, false,
		},
		{"upload rejected", upload, func(n int, r *http.Request) (*http.Response, error) {
			return failure(r, http.StatusRequestEntityTooLarge), nil
		}, []time.Duration{0}, true},
		{"upload until MaxTotal", upload, func(n int, r *http.Request) (*http.Response, error) {
			return failure(r, http.StatusBadGateway), nil
		}, []time.Duration{0, sec(1), sec(3), sec(7), sec(11), sec(15), sec(19)}, true},
		{"hook after two 503s", hook, func(n int, r *http.Request) (*http.Response, error) {
			if n < 2 {
				return failure(r, http.StatusServiceUnavailable), nil
			}
			return reply(r, http.StatusOK, "ok"), nil
		}, []time.Duration{0, sec(1), sec(3)}, false},
		{"hook rejected", hook, func(n int, r *http.Request) (*http.Response, error) {
			return failure(r, http.StatusBadRequest), nil
		}, []time.Duration{0}, true},
		{
			// No answer: the card may have been posted, and a webhook
			// post has no pending_post_id to dedup a retry.
			"hook without an answer", hook, func(n int, r *http.Request) (*http.Response, error) {
				return nil, refused
			}, []time.Duration{0}, true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fs := &fakeServer{start: time.Now(), answer: func(n int, r *http.Request, _ string) (*http.Response, error) { return tc.answer(n, r) }}
				b := newRetryBackend(t, policy, upperJitter, fs)
				err := tc.call(t.Context(), b)
				if tc.wantErr != (err != nil) {
					t.Errorf("call error = %v, want error %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, fs.times()); diff != "" {
					t.Errorf("request times (-want +got):\n%s", diff)
				}
				for _, r := range fs.reqs {
					if strings.HasSuffix(r.path, "/files") && !strings.Contains(r.body, content) {
						t.Errorf("upload at %v lacks the file's content: the body was not replayed", r.at)
					}
				}
			})
		})
	}
}

// TestRetryPostThroughClient: a post meets more 503s than the client
// retries. The client's retries wait Base/2 doubling, with jitter; the
// backend's wait Base; every attempt carries the same pending_post_id.
func TestRetryPostThroughClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const fails = 6 // the client's 4 attempts, and 2 of the backend's second
		fs := &fakeServer{start: time.Now(), answer: func(n int, r *http.Request, body string) (*http.Response, error) {
			if n < fails {
				return failure(r, http.StatusServiceUnavailable), nil
			}
			return reply(r, http.StatusCreated, `{"id":"post1","channel_id":"chan","message":"hi"}`), nil
		}}
		b := newRetryBackend(t, RetryPolicy{Base: sec(2), Max: sec(8), MaxTotal: sec(60)}, upperJitter, fs)
		if err := b.createPost(t.Context(), &mm.Post{ChannelID: "chan", Message: "hi"}); err != nil {
			t.Fatalf("createPost after %d 503s: %v", fails, err)
		}
		at := fs.times()
		if len(at) != fails+1 {
			t.Fatalf("%d requests at %v, want %d", len(at), at, fails+1)
		}
		// Gaps between requests: the client's jittered waits (1s, 2s,
		// 4s ceilings: Base/2 doubling), the backend's 2s, then the
		// client's again.
		ceil := []time.Duration{sec(1), sec(2), sec(4), sec(2), sec(1), sec(2)}
		for i := 1; i < len(at); i++ {
			gap, c := at[i]-at[i-1], ceil[i-1]
			lo := c / 2
			if i == 4 {
				lo = c // the backend's wait, drawn by upperJitter
			}
			if gap < lo || gap > c {
				t.Errorf("wait before request %d = %v, want in [%v, %v]", i, gap, lo, c)
			}
		}
		var pending string
		for i, r := range fs.reqs {
			var p struct {
				PendingPostID string `json:"pending_post_id"`
			}
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.PendingPostID == "" {
				t.Fatalf("request %d body %q: no pending_post_id (%v)", i, r.body, err)
			}
			if i == 0 {
				pending = p.PendingPostID
			} else if p.PendingPostID != pending {
				t.Errorf("request %d pending_post_id = %q, want %q as on the first", i, p.PendingPostID, pending)
			}
		}
	})
}

// TestCatchUpReadRetried: a background catch-up read (fetchLater) is
// retried on the backend's policy. A 429 asking for 90s, more than the
// client waits itself (1m), is waited out by the backend: the read is
// sent again at 90s exactly. A read still failing is handed back when
// the next wait would pass MaxTotal; a read under a cancelled context
// ends at once.
func TestCatchUpReadRetried(t *testing.T) {
	t.Parallel()
	const list = `{"order":["p1"],"posts":{"p1":{"id":"p1","channel_id":"c1","create_at":5000,"message":"missed"}}}`
	for _, tc := range []struct {
		name     string
		answer   func(n int, r *http.Request) *http.Response
		cancelAt time.Duration // 0: never
		want     []time.Duration
		wantPost bool
		wantAt   time.Duration // when the result reaches the event loop
	}{
		{"429 then posts", func(n int, r *http.Request) *http.Response {
			if n == 0 {
				return failure(r, http.StatusTooManyRequests, "Retry-After", "90")
			}
			return reply(r, http.StatusOK, list)
		}, 0, []time.Duration{0, sec(90)}, true, sec(90)},
		{"429 until MaxTotal", func(n int, r *http.Request) *http.Response {
			return failure(r, http.StatusTooManyRequests, "Retry-After", "90")
		}, 0, []time.Duration{0, sec(90)}, false, sec(90)},
		{"stopped while waiting", func(n int, r *http.Request) *http.Response {
			return failure(r, http.StatusTooManyRequests, "Retry-After", "90")
		}, sec(10), []time.Duration{0}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fs := &fakeServer{start: time.Now(), answer: func(n int, r *http.Request, _ string) (*http.Response, error) {
					if r.URL.Path != "/api/v4/channels/c1/posts" || r.URL.Query().Get("since") != "1000" {
						return failure(r, http.StatusNotFound), nil
					}
					return tc.answer(n, r), nil
				}}
				b := newRetryBackend(t, RetryPolicy{}, upperJitter, fs)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.cancelAt > 0 {
					time.AfterFunc(tc.cancelAt, cancel)
				}
				b.bgCtx = ctx
				b.fetchLater("c1", readFrom{since: 1001}, true)
				if bh := b.behind["c1"]; bh == nil || bh.reads != 1 {
					t.Fatalf("behind[c1] = %+v, want one held read", bh)
				}
				start := time.Now()
				if tc.cancelAt > 0 {
					// Nobody takes the result: the read must end with
					// its context alone.
					b.bg.Wait()
					if end := time.Since(start); end != tc.cancelAt {
						t.Errorf("read ended at %v, want at the cancel, %v", end, tc.cancelAt)
					}
				} else {
					r := <-b.caught
					if at := time.Since(start); at != tc.wantAt {
						t.Errorf("result at %v, want %v", at, tc.wantAt)
					}
					if !r.held || r.channelID != "c1" || r.from.since != 1001 {
						t.Errorf("result = %+v, want held, c1, since 1001", r)
					}
					var got []*mm.Post
					if r.list != nil {
						got = r.list.Ordered()
					}
					if gotPost := len(got) == 1 && got[0].ID == "p1"; gotPost != tc.wantPost || (r.err == nil) != tc.wantPost {
						t.Errorf("result posts %v, err %v; want the post: %v", got, r.err, tc.wantPost)
					}
					b.bg.Wait()
				}
				if diff := cmp.Diff(tc.want, fs.times()); diff != "" {
					t.Errorf("read times (-want +got):\n%s", diff)
				}
			})
		})
	}
}
