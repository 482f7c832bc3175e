package mattermost

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Secret is a credential (token, password, MFA code). Its String,
// GoString, LogValue and MarshalText methods redact it, so printing,
// logging or encoding a Secret never shows it; string(s) gives the value.
type Secret string

const redacted = "[REDACTED]"

// String returns "[REDACTED]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON, TOML and other text encodings,
// so dumping a configuration never writes it out.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DefaultUserAgent is the User-Agent sent when ClientOptions.UserAgent is empty.
const DefaultUserAgent = "matterbot-mattermost/1 (+https://github.com/matterbot/matterbot)"

// Defaults of [ClientOptions].
const (
	DefaultTimeout          = 30 * time.Second
	DefaultRateBurst        = 10
	DefaultMaxRateLimitWait = time.Minute
	DefaultMaxRetries       = 3
	DefaultRetryBackoff     = 500 * time.Millisecond
	DefaultMaxRetryBackoff  = 15 * time.Second
)

// ClientOptions configures a [Client]. The zero value (or a nil pointer) is
// valid: every field documents its default.
type ClientOptions struct {
	// HTTPClient sends the requests. Default: a client with no cookie jar
	// (a stale MMAUTHTOKEN cookie would win over the Bearer header on the
	// server) whose transport honours Timeout and Insecure. When set, Timeout
	// still bounds each JSON call, and Insecure is ignored.
	HTTPClient *http.Client

	// Logger receives debug lines per request and warnings per retry; nil
	// discards. Tokens and passwords are never logged.
	Logger *slog.Logger

	// UserAgent is sent on every request. Default DefaultUserAgent.
	UserAgent string

	// Timeout bounds each attempt of a call, from sending the request to
	// reading the whole answer; for downloads it bounds the wait for the
	// answer's headers only. Default 30s; negative means no timeout.
	Timeout time.Duration

	// Insecure skips TLS certificate verification (self-signed servers).
	// Only used when HTTPClient is nil.
	Insecure bool

	// Login (username or email) and Password enable password
	// authentication: the client logs in on first use when it has no
	// token, and once more when the server answers 401. MFAToken is sent
	// with the login when set.
	Login    string
	Password Secret
	MFAToken Secret

	// RateLimit, when positive, caps the requests per second the client
	// sends. Default 0 (and any negative value): no client-side cap. The
	// client paces itself by what the server says instead: when an
	// answer reports X-Ratelimit-Remaining 0, the next request waits
	// until the server's bucket holds a request again (Reset/Limit: the
	// server's GCRA refills it evenly), and a 429 is waited out as its
	// Retry-After says (see MaxRateLimitWait). A stock server does not
	// limit at all (RateLimitSettings.Enable is false); when enabled it
	// allows 10 requests per second per remote address, in bursts of 100.
	RateLimit float64
	// RateBurst is how many requests may go at once above a positive
	// RateLimit. Default 10.
	RateBurst int
	// MaxRateLimitWait bounds the total time one call waits on 429 answers
	// (each wait honours Retry-After, else X-Ratelimit-Reset). When the
	// server asks for longer, the *RateLimitError is returned. Default 1m;
	// negative means never wait.
	MaxRateLimitWait time.Duration

	// MaxRetries is how many times an idempotent call (GET, PUT, DELETE and
	// the POSTs documented as retried, CreatePost included) is retried
	// after a network error or a 500, 502, 503 or 504. Default 3; negative
	// disables retries.
	MaxRetries int
	// RetryBackoff is the wait before the first retry; it doubles on each
	// retry, with jitter, up to MaxRetryBackoff. Defaults 500ms and 15s.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration

	// Now and Sleep replace the clock for tests. Sleep must return early
	// with ctx.Err() when ctx is done. Defaults: time.Now and a timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// Observer is told of every request and rate-limit wait, for
	// metrics. Default nil: nobody.
	Observer Observer
}

// Observer is told of the traffic of a [Client] (ClientOptions.Observer)
// and of a [WebSocket] (WebSocketOptions.Observer), for metrics. Its
// methods are called from the goroutine making the call, on the path of
// every request: they must be quick and safe for concurrent use.
type Observer interface {
	// ObserveRequest reports one attempt of a REST call (a retry is an
	// attempt of its own): its method, its route, the template of its
	// path from the site URL with the ids and names in braces as in the
	// API documentation ("/api/v4/channels/{channel_id}/posts",
	// "/hooks/{hook_id}"), the answer's status code (0 when none came),
	// and the time from sending the request to reading the answer (its
	// headers, for a download).
	ObserveRequest(method, route string, status int, d time.Duration)
	// ObserveRateLimitWait reports that a call waits d before it is
	// sent, as the server asked: a 429's Retry-After, or an empty bucket
	// (X-Ratelimit-Remaining 0; see ClientOptions.RateLimit).
	ObserveRateLimitWait(d time.Duration)
	// ObserveReconnect reports a WebSocket connected again after its
	// connection failed: resumed when the server took the stream up where
	// it was (no event lost), false when it started a new one (the
	// WebSocket then delivers an EventMissed).
	ObserveReconnect(resumed bool)
}

// Client is a Mattermost APIv4 REST client. It is safe for concurrent use.
// Every method takes a context first and returns the answer's [*Response]
// (nil when no answer arrived) and an error that is an [*APIError] for a
// non-2xx answer.
type Client struct {
	server  *url.URL // site URL, with its subpath, without a trailing slash
	api     string   // server + "/api/v4"
	hc      *http.Client
	log     *slog.Logger
	ua      string
	timeout time.Duration

	login    string
	password Secret
	mfa      Secret

	limiter     *rate.Limiter // nil: no client-side limit
	maxRateWait time.Duration
	maxRetries  int
	backoff     time.Duration
	maxBackoff  time.Duration
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	obs         Observer // nil: nobody

	// Header values every request shares, set without an allocation per
	// request (jsonValue is both Accept and a JSON body's Content-Type).
	// Never modified; capacity equals length, so a RoundTripper that
	// appends to one gets a copy.
	uaValue, jsonValue []string
	// bearer is the Authorization value of the last token sent.
	bearer atomic.Pointer[bearerValue]

	loginMu sync.Mutex // one login at a time

	mu          sync.Mutex
	token       Secret        // guarded by mu
	userID      string        // guarded by mu: our own user id, once known
	lastPending int64         // guarded by mu: ms of the last generated pending_post_id
	pendingTag  string        // ends every pending_post_id: this client's own, see pendingPostID
	notBefore   time.Time     // guarded by mu: the server said its bucket is empty until then
	pace        time.Duration // guarded by mu: one request's share of the server's bucket while it is empty; 0 when not
	sending     int           // guarded by mu: requests sent and not answered yet
}

// NewClient returns a client for the server at serverURL (the site URL,
// e.g. "https://chat.example.com" or "http://host:8065/subpath"; a trailing
// "/api/v4" is accepted) that authenticates with token, or with the
// Login/Password of opts when token is empty. No request is sent. A client
// with neither can still call Ping and PostWebhook.
func NewClient(serverURL string, token Secret, opts *ClientOptions) (*Client, error) {
	if opts == nil {
		opts = &ClientOptions{}
	}
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return nil, fmt.Errorf("mattermost: server URL %q: %w", serverURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("mattermost: server URL %q: scheme must be http or https", serverURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mattermost: server URL %q: no host", serverURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("mattermost: server URL %q: user info is not allowed; use a token or ClientOptions.Login", u.Redacted())
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v4")
	u.RawPath = ""
	if opts.Login != "" && opts.Password == "" {
		return nil, fmt.Errorf("mattermost: login %q without a password", opts.Login)
	}
	if opts.RateBurst < 0 {
		return nil, fmt.Errorf("mattermost: negative RateBurst %d", opts.RateBurst)
	}

	c := &Client{
		server:      u,
		api:         u.String() + "/api/v4",
		log:         opts.Logger,
		ua:          opts.UserAgent,
		timeout:     opts.Timeout,
		login:       opts.Login,
		password:    opts.Password,
		mfa:         opts.MFAToken,
		token:       token,
		maxRateWait: opts.MaxRateLimitWait,
		maxRetries:  opts.MaxRetries,
		backoff:     opts.RetryBackoff,
		maxBackoff:  opts.MaxRetryBackoff,
		now:         opts.Now,
		sleep:       opts.Sleep,
		obs:         opts.Observer,
		pendingTag:  NewID()[:8],
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	c.uaValue = []string{c.ua}
	c.jsonValue = []string{"application/json"}
	if c.maxRateWait == 0 {
		c.maxRateWait = DefaultMaxRateLimitWait
	}
	if c.maxRetries == 0 {
		c.maxRetries = DefaultMaxRetries
	}
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxRetryBackoff
	}
	if c.maxBackoff < c.backoff {
		c.maxBackoff = c.backoff
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if opts.RateLimit > 0 {
		burst := opts.RateBurst
		if burst == 0 {
			burst = DefaultRateBurst
		}
		c.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), burst)
	}
	c.hc = opts.HTTPClient
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// The client talks to one host: keep as many idle connections
		// for it as in all. With net/http's default of 2 per host, a bot
		// answering many commands at once opened and closed a TCP
		// connection for every request beyond the second (14% of the
		// bot's CPU in matterbot bench, and TIME_WAIT sockets piling up).
		tr.MaxIdleConnsPerHost = tr.MaxIdleConns
		if c.timeout > 0 {
			tr.ResponseHeaderTimeout = c.timeout
		}
		if opts.Insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by the operator
		}
		c.hc = &http.Client{Transport: tr}
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ServerURL returns a copy of the site URL the client talks to, without a
// trailing slash.
func (c *Client) ServerURL() *url.URL {
	u := *c.server
	return &u
}

// WebSocketURL returns the URL of the server's WebSocket endpoint:
// ws:// or wss:// (for an https site), same host and subpath, path
// /api/v4/websocket.
func (c *Client) WebSocketURL() string {
	u := c.ServerURL()
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path += "/api/v4/websocket"
	return u.String()
}

// HTTPClient returns the *http.Client the client sends with (for a
// WebSocket dial that must share its TLS settings).
func (c *Client) HTTPClient() *http.Client { return c.hc }

// UserAgent returns the User-Agent the client sends.
func (c *Client) UserAgent() string { return c.ua }

// Token returns the session or access token in use ("" when none yet).
func (c *Client) Token() Secret {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetToken replaces the token the client sends.
func (c *Client) SetToken(t Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = t
}

// UserID returns our own user id once a login or Me call made it known,
// else "".
func (c *Client) UserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

func (c *Client) setUserID(id string) {
	if id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userID = id
}

// selfID returns our user id, asking the server once if it is not known.
func (c *Client) selfID(ctx context.Context) (string, error) {
	if id := c.UserID(); id != "" {
		return id, nil
	}
	me, _, err := c.Me(ctx)
	if err != nil {
		return "", err
	}
	return me.ID, nil
}

// Response is the server's answer to a call. Its body has been read and
// closed, except for a download, whose body the caller owns.
type Response struct {
	*http.Response

	// Rate is the rate-limit state the server reported, parsed once.
	Rate Rate
	// RequestID is the server's X-Request-Id, for support requests.
	RequestID string
	// ServerVersion is X-Version-Id:
	// "<version>.<build>.<config hash>.<licensed>".
	ServerVersion string
}

func newResponse(r *http.Response) *Response {
	return &Response{
		Response:      r,
		Rate:          parseRate(r.Header),
		RequestID:     r.Header.Get("X-Request-Id"),
		ServerVersion: r.Header.Get("X-Version-Id"),
	}
}

// request describes one API call.
type request struct {
	method string
	path   string     // under /api/v4, or under the site URL when raw
	route  string     // path's template, from the site URL: "/api/v4/users/{user_id}"; see Observer
	raw    bool       // path is not under /api/v4 (incoming webhooks)
	query  url.Values // may be nil
	body   any        // encoded as JSON when non-nil

	// upload makes the body for one attempt; a streamed body can be sent
	// once, so a second call returns errNoReplay.
	upload func() (body io.ReadCloser, contentType string, done func(), err error)

	idempotent bool   // may be retried on a network error or a 5xx
	anonymous  bool   // sent without a token; no login
	identify   bool   // the answer tells a Mattermost server from another one (see foreign)
	stream     bool   // on success the body stays open for the caller
	logPath    string // path shown in logs and errors when the real one is a secret
}

var errNoReplay = errors.New("streamed body cannot be sent again")

// where names the call in errors ("POST /api/v4/posts"); made only for
// an error, as it costs two allocations.
func (rq *request) where(prefix string) string { return rq.method + " " + rq.shownPath(prefix) }

func (rq *request) shownPath(prefix string) string {
	if rq.logPath != "" {
		return rq.logPath
	}
	return prefix + rq.path
}

// do sends rq, retrying as its kind allows, and decodes a 2xx answer into
// out (when non-nil). It returns the last answer, if any.
func (c *Client) do(ctx context.Context, rq *request, out any) (*Response, error) {
	prefix := c.server.Path + "/api/v4"
	if rq.raw {
		prefix = c.server.Path
	}
	var payload []byte
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, fmt.Errorf("mattermost: %s: encode request: %w", rq.where(prefix), err)
		}
		payload = b
	}

	var (
		retries  int
		waited   time.Duration
		relogged bool
		sent     bool // the streamed upload body was used
	)
	for {
		token, err := c.authToken(ctx, rq)
		if err != nil {
			return nil, err
		}
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return nil, fmt.Errorf("mattermost: %s: wait for the client rate limit: %w", rq.where(prefix), err)
			}
		}
		if rq.upload != nil && sent {
			return nil, fmt.Errorf("mattermost: %s: %w", rq.where(prefix), errNoReplay)
		}
		if d := c.gate(); d > 0 {
			if c.obs != nil {
				c.obs.ObserveRateLimitWait(d)
			}
			if err := c.wait(ctx, d); err != nil {
				c.ended()
				return nil, fmt.Errorf("mattermost: %s: wait for the server rate limit: %w", rq.where(prefix), err)
			}
		}
		sent = rq.upload != nil
		start := c.now()
		resp, err := c.attempt(ctx, rq, payload, token)
		if c.obs != nil {
			status := 0
			if err == nil {
				status = resp.StatusCode
			}
			c.obs.ObserveRequest(rq.method, rq.route, status, c.now().Sub(start))
		}
		if err != nil {
			c.ended()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("mattermost: %s: %w", rq.where(prefix), ctx.Err())
			}
			if d := c.backoffFor(retries); rq.idempotent && rq.upload == nil && retries < c.maxRetries && !permanent(err) && c.fits(ctx, d) {
				retries++
				c.log.Warn("mattermost request failed, retrying", "method", rq.method, "path", rq.shownPath(prefix),
					"attempt", retries, "wait", d, "err", err)
				if werr := c.wait(ctx, d); werr != nil {
					return nil, fmt.Errorf("mattermost: %s: %w; retry abandoned: %w", rq.where(prefix), err, werr)
				}
				continue
			}
			return nil, fmt.Errorf("mattermost: %s: %w", rq.where(prefix), err)
		}
		r := newResponse(resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			c.ended() // waited out below, as Retry-After says
		} else {
			c.observe(r.Rate)
		}
		if c.log.Enabled(ctx, slog.LevelDebug) {
			// Guarded: building the arguments alone cost a dozen
			// allocations per request with the log off (matterbot bench).
			c.log.Debug("mattermost request", "method", rq.method, "path", rq.shownPath(prefix), "status", resp.StatusCode,
				"duration", c.now().Sub(start), "request_id", r.RequestID)
		}

		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			if rq.stream {
				return r, nil
			}
			defer resp.Body.Close()
			if out == nil {
				return r, nil
			}
			if raw, ok := out.(*[]byte); ok {
				// The caller decodes an answer that may not be valid
				// JSON (see AllMyChannels).
				*raw = resp.Body.(*bufferedBody).b
				return r, nil
			}
			// attempt read the whole answer: unmarshal the bytes directly
			// rather than through a Decoder and its buffer.
			if err := unmarshalJSON(resp.Body.(*bufferedBody).b, out); err != nil {
				err = fmt.Errorf("mattermost: %s: decode answer: %w", rq.where(prefix), err)
				if rq.identify && foreign(resp) {
					err = newNotMattermostError(rq.method, rq.shownPath(prefix), resp, err)
				}
				return r, err
			}
			return r, nil
		}

		apiErr := CheckResponse(resp)
		_ = resp.Body.Close() // buffered, or an error answer we are done with
		var ae *APIError
		if errors.As(apiErr, &ae) && rq.logPath != "" {
			ae.Path = rq.logPath
		}
		if rq.identify && resp.StatusCode != http.StatusTooManyRequests && foreign(resp) {
			// Not the server's answer: a web server, or a proxy with no
			// Mattermost behind it. (The server's rate limiter answers
			// 429 in plain text before its handlers set X-Version-Id.)
			apiErr = newNotMattermostError(rq.method, rq.shownPath(prefix), resp, apiErr)
		}
		switch code := resp.StatusCode; {
		case code == http.StatusUnauthorized && !rq.anonymous && !relogged && c.canLogin():
			relogged = true
			c.log.Info("mattermost session rejected, logging in again", "method", rq.method, "path", rq.shownPath(prefix))
			if err := c.relogin(ctx, token); err != nil {
				return r, fmt.Errorf("mattermost: %s: session rejected and login failed: %w", rq.where(prefix), err)
			}
			if rq.upload != nil {
				// The stream is spent: report the 401; the caller's
				// next call goes out with the new token.
				return r, apiErr
			}
			continue

		case code == http.StatusTooManyRequests:
			// The server's limiter rejects before the handler runs, so any
			// method may be sent again; a streamed upload cannot, so its
			// caller gets the 429 at once and waits it out itself.
			if rq.upload != nil {
				return r, apiErr
			}
			var rl *RateLimitError
			d := time.Second
			if errors.As(apiErr, &rl) && rl.RetryAfter > 0 {
				d = rl.RetryAfter
			}
			if c.maxRateWait < 0 || waited+d > c.maxRateWait || !c.fits(ctx, d) {
				return r, apiErr
			}
			waited += d
			c.log.Warn("mattermost rate limited, waiting", "method", rq.method, "path", rq.shownPath(prefix), "wait", d)
			if c.obs != nil {
				c.obs.ObserveRateLimitWait(d)
			}
			if err := c.wait(ctx, d); err != nil {
				return r, apiErr
			}
			continue

		case retryableStatus(code) && rq.idempotent && rq.upload == nil && retries < c.maxRetries:
			d := c.backoffFor(retries)
			if ra := parseRetryAfter(resp.Header.Get("Retry-After")); ra > d && ra <= c.maxBackoff {
				d = ra
			}
			if !c.fits(ctx, d) {
				return r, apiErr
			}
			retries++
			c.log.Warn("mattermost server error, retrying", "method", rq.method, "path", rq.shownPath(prefix),
				"status", code, "attempt", retries, "wait", d)
			if err := c.wait(ctx, d); err != nil {
				return r, apiErr
			}
			continue
		}
		return r, apiErr
	}
}

// unmarshalJSON decodes b into out: a post (the answer to every reply the
// bot posts, and the payload of every "posted" event) through the post
// decoder, anything else with encoding/json.
func unmarshalJSON(b []byte, out any) error {
	if p, ok := out.(*Post); ok {
		return unmarshalPost(b, p)
	}
	return json.Unmarshal(b, out)
}

// observe notes the end of a request sent through gate, answered with
// rt. When no request is left beyond those still in flight, the next one
// waits for about one token (Reset/Limit: with GCRA the bucket refills
// evenly, Limit tokens over Reset) instead of earning a 429 and a full
// Retry-After, and until an answer says the bucket holds more, requests
// go one token's time apart (see gate): calls made at once do not all
// wake up together for all but one to collect a 429. An answer without
// X-Ratelimit-* headers ends the pacing too: the server does not limit
// (a server restarted with its limiter off), and pacing on what it said
// before would cap the client for good.
func (c *Client) observe(rt Rate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sending--
	if !rt.Known {
		c.pace, c.notBefore = 0, time.Time{}
		return
	}
	if rt.Limit <= 0 {
		return
	}
	if rt.Remaining > c.sending || rt.Reset <= 0 {
		// Requests are left: no wait, whatever was reserved.
		c.pace, c.notBefore = 0, time.Time{}
		return
	}
	c.pace = min(rt.Reset/time.Duration(rt.Limit), c.maxBackoff)
	if until := c.now().Add(c.pace); until.After(c.notBefore) {
		c.notBefore = until
	}
}

// ended notes the end of a request sent through gate that brought no
// word on the rate limit: it failed, or it was answered 429, which is
// waited out as its Retry-After says.
func (c *Client) ended() {
	c.mu.Lock()
	c.sending--
	c.mu.Unlock()
}

// gate notes a request about to be sent and returns how long to hold it
// after the server reported an empty bucket; while the bucket is empty
// it takes the next slot, one token's time after the last one taken.
// Every gate is followed by one observe or one ended.
func (c *Client) gate() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sending++
	if c.notBefore.IsZero() {
		return 0
	}
	now := c.now()
	d := c.notBefore.Sub(now)
	if c.pace > 0 {
		c.notBefore = now.Add(max(d, 0) + c.pace)
	}
	return d
}

// permanent reports whether a transport error will not go away by
// itself: a certificate the client does not trust, or a server that does
// not speak TLS. Retrying only delays the error the operator must act on.
func permanent(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) ||
		// net/http replaces the record error of a plain-HTTP server with
		// this sentinel (client.go, send).
		errors.Is(err, http.ErrSchemeMismatch)
}

// retryableStatus reports whether a 5xx may be transient. 501 (feature
// off) and other 5xx are final.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoffFor returns the wait before retry n (0-based): RetryBackoff*2^n
// capped at MaxRetryBackoff, of which the upper half is random ("equal
// jitter"), so concurrent clients spread out but never retry at once.
func (c *Client) backoffFor(n int) time.Duration {
	d := c.backoff
	for i := 0; i < n && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// fits reports whether waiting d leaves time before ctx's deadline; there
// is no point in waiting for a retry the deadline will cut off.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || c.now().Add(d).Before(dl)
}

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.sleep(ctx, d)
}

// attempt sends one request. For a non-stream call the whole answer is read
// (within Timeout) and the returned body is a buffer.
func (c *Client) attempt(ctx context.Context, rq *request, payload []byte, token Secret) (*http.Response, error) {
	base := c.api
	if rq.raw {
		base = c.server.String()
	}
	u := base + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	actx := ctx
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 && !rq.stream {
		actx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()

	var (
		body        io.Reader
		contentType string
		done        = func() {}
	)
	switch {
	case rq.upload != nil:
		rc, ct, fin, err := rq.upload()
		if err != nil {
			return nil, err
		}
		body, contentType, done = rc, ct, fin
	case payload != nil:
		body, contentType = bytes.NewReader(payload), "application/json"
	}
	defer done()

	req, err := http.NewRequestWithContext(actx, rq.method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header["User-Agent"] = c.uaValue
	req.Header["Accept"] = c.jsonValue
	switch contentType {
	case "":
	case "application/json":
		req.Header["Content-Type"] = c.jsonValue
	default:
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header["Authorization"] = c.authorization(token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, scrub(err)
	}
	if rq.stream && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	b, err := readAll(resp)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(b), b: b}
	return resp, nil
}

// bearerValue is the Authorization header value for token.
type bearerValue struct {
	token Secret
	value []string
}

// authorization returns the Authorization header value for token, made
// once per token rather than once per request.
func (c *Client) authorization(token Secret) []string {
	if b := c.bearer.Load(); b != nil && b.token == token {
		return b.value
	}
	b := &bearerValue{token: token, value: []string{"Bearer " + string(token)}}
	c.bearer.Store(b)
	return b.value
}

// bufferedBody is an answer body already read in full.
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func (*bufferedBody) Close() error { return nil }

// readAll reads a body, sized by Content-Length when the server sent one.
func readAll(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= 16<<20 {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(resp.Body)
}

// scrub drops the URL from a transport error (*url.Error repeats it, and a
// webhook URL is a credential) while keeping the cause for errors.Is.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// authToken returns the token to send, logging in first when the client
// has credentials but no token yet.
func (c *Client) authToken(ctx context.Context, rq *request) (Secret, error) {
	if rq.anonymous {
		return "", nil
	}
	tok := c.Token()
	if tok == "" && c.canLogin() {
		if err := c.relogin(ctx, ""); err != nil {
			return "", err
		}
		tok = c.Token()
	}
	return tok, nil
}

func (c *Client) canLogin() bool { return c.login != "" && c.password != "" }

// relogin logs in with the configured credentials unless another call
// already replaced the stale token meanwhile.
func (c *Client) relogin(ctx context.Context, stale Secret) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if cur := c.Token(); cur != stale && cur != "" {
		return nil
	}
	_, _, err := c.Login(ctx, c.login, c.password, c.mfa)
	return err
}

// statusOK is the {"status":"OK"} answer of deletes and actions.
type statusOK struct {
	Status string `json:"status"`
}

// pathEscape escapes one path segment (ids, names, emoji names).
func pathEscape(s string) string { return url.PathEscape(s) }

// pageQuery builds page and per_page; perPage 0 is left to the server's
// default (60, at most 200).
func pageQuery(page, perPage int) url.Values {
	q := url.Values{}
	q.Set("page", strconv.Itoa(max(page, 0)))
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	return q
}
