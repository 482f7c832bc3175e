package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors for the classes of failure a caller branches on. An
// [*APIError] or [*RateLimitError] matches the sentinel of its status with
// errors.Is:
//
//	if errors.Is(err, mattermost.ErrNotFound) { ... }
var (
	ErrBadRequest   = errors.New("mattermost: bad request")  // 400
	ErrUnauthorized = errors.New("mattermost: unauthorized") // 401
	ErrForbidden    = errors.New("mattermost: forbidden")    // 403
	ErrNotFound     = errors.New("mattermost: not found")    // 404
	ErrRateLimited  = errors.New("mattermost: rate limited") // 429
	ErrServer       = errors.New("mattermost: server error") // 5xx

	// ErrNotMattermost is matched by a [*NotMattermostError].
	ErrNotMattermost = errors.New("mattermost: not a Mattermost server")
)

// NotMattermostError is the error of a call that tells whether the server
// is Mattermost ([Client.Ping], [Client.Me], [Client.Login]: the calls a
// program makes first) when the answer came from something else: a plain
// web server on the configured port, or a proxy with no Mattermost behind
// it. Such an answer has no X-Version-Id header, which the server sets on
// every answer of its API, and a body that is not JSON (an HTML page, say).
// It matches [ErrNotMattermost] with errors.Is and unwraps to the error the
// answer would have given otherwise: the [*APIError] of a non-2xx answer
// (so errors.Is(err, ErrNotFound) still holds for a 404), or the decoding
// error of a 2xx one.
type NotMattermostError struct {
	Method      string // request method, e.g. "GET"
	Path        string // request path, e.g. "/api/v4/users/me"
	StatusCode  int    // HTTP status of the answer
	ContentType string // media type of the answer, e.g. "text/html"; "" if none
	Err         error  // what the answer would have given otherwise
}

// newNotMattermostError describes resp, the answer to method path.
func newNotMattermostError(method, path string, resp *http.Response, err error) *NotMattermostError {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &NotMattermostError{Method: method, Path: path, StatusCode: resp.StatusCode, ContentType: ct, Err: err}
}

// Error returns "mattermost: METHOD PATH: not a Mattermost server: ANSWER"
// (see Answer).
func (e *NotMattermostError) Error() string {
	return "mattermost: " + e.Method + " " + e.Path + ": not a Mattermost server: " + e.Answer()
}

// Answer describes the answer in a few words, without its body (a web
// server's page says nothing useful in one line):
// "404 Not Found, text/html, no X-Version-Id".
func (e *NotMattermostError) Answer() string {
	s := strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if e.ContentType != "" {
		s += ", " + e.ContentType
	}
	return s + ", no X-Version-Id"
}

// Is reports whether target is ErrNotMattermost.
func (e *NotMattermostError) Is(target error) bool { return target == ErrNotMattermost }

// Unwrap returns the error the answer would have given otherwise.
func (e *NotMattermostError) Unwrap() error { return e.Err }

// foreign reports whether resp, whose body was read in full, is not an
// answer of a Mattermost server: no X-Version-Id (web/handlers.go sets it
// on every API answer) and a body that is not a JSON object. Both are
// asked for, so that neither a proxy that drops headers nor an error
// page of the server's own makes a Mattermost server look foreign.
func foreign(resp *http.Response) bool {
	if resp.Header.Get("X-Version-Id") != "" {
		return false
	}
	var body []byte
	if b, ok := resp.Body.(*bufferedBody); ok {
		body = b.b
	}
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) == 0 || trimmed[0] != '{'
}

// APIError is a non-2xx answer of the server. Its JSON form is the server's
// AppError body (model.AppError: id, message, detailed_error, request_id,
// status_code, is_oauth in that order; detailed_error is always present), so
// package mmtest encodes its errors with it. Method and Path name the request
// and are not part of the wire form.
//
// When the body is not an AppError (429 "limit exceeded", a proxy's HTML
// page), ID is empty and Message holds the body text. StatusCode is always
// the HTTP status of the answer.
type APIError struct {
	ID            string `json:"id"`      // stable error id, e.g. "api.context.session_expired.app_error"
	Message       string `json:"message"` // human text, translated
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
	IsOAuth       bool   `json:"is_oauth,omitempty"`

	Method string `json:"-"` // request method, e.g. "GET"
	Path   string `json:"-"` // request path without the query, e.g. "/api/v4/users/me"
}

// Error returns "mattermost: METHOD PATH: STATUS ID: MESSAGE", leaving out
// the parts that are empty.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("mattermost: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.Path))
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.ID != "" {
		b.WriteString(" ")
		b.WriteString(e.ID)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether the status of e belongs to the class of target, one of
// the sentinels ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound,
// ErrRateLimited or ErrServer.
func (e *APIError) Is(target error) bool {
	return statusIs(e.StatusCode, target)
}

func statusIs(code int, target error) bool {
	switch target {
	case ErrBadRequest:
		return code == http.StatusBadRequest
	case ErrUnauthorized:
		return code == http.StatusUnauthorized
	case ErrForbidden:
		return code == http.StatusForbidden
	case ErrNotFound:
		return code == http.StatusNotFound
	case ErrRateLimited:
		return code == http.StatusTooManyRequests
	case ErrServer:
		return code >= 500 && code <= 599
	}
	return false
}

// RateLimitError is a 429 answer. RetryAfter is how long the server asked us
// to wait (Retry-After, else X-Ratelimit-Reset; 0 if it said neither). It
// matches ErrRateLimited with errors.Is and unwraps to the *APIError of the
// answer.
type RateLimitError struct {
	RetryAfter time.Duration
	Limit      int           // X-Ratelimit-Limit, 0 if absent
	Remaining  int           // X-Ratelimit-Remaining
	Reset      time.Duration // X-Ratelimit-Reset: until the bucket is full again
	Err        *APIError     // the answer itself
}

// Error returns "mattermost: METHOD PATH: rate limited, retry after D".
func (e *RateLimitError) Error() string {
	where := ""
	if e.Err != nil && (e.Err.Method != "" || e.Err.Path != "") {
		where = strings.TrimSpace(e.Err.Method+" "+e.Err.Path) + ": "
	}
	return fmt.Sprintf("mattermost: %srate limited, retry after %v", where, e.RetryAfter)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the *APIError of the answer, or nil.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// maxErrorBody bounds how much of an error answer is read: AppError bodies
// are small, and a misbehaving proxy must not make us buffer a huge page.
const maxErrorBody = 64 << 10

// maxErrorText bounds the Message built from a non-JSON body.
const maxErrorText = 512

// CheckResponse classifies an HTTP answer of the server: nil for a 2xx,
// otherwise an [*APIError] (a [*RateLimitError] for 429) built from the
// AppError body, or from the body text when it is not one. It reads at most
// 64 KiB of a non-2xx body and does not close it; the caller owns resp.Body.
// The request method and path are taken from resp.Request when set.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	var body []byte
	if resp.Body != nil {
		// A read error leaves what was read; the status alone still classifies.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	method, path := "", ""
	if resp.Request != nil {
		method = resp.Request.Method
		if resp.Request.URL != nil {
			path = resp.Request.URL.Path
		}
	}
	return classify(method, path, resp.StatusCode, resp.Header, body)
}

// classify is the one place where an answer becomes an error. It never
// panics, whatever the body.
func classify(method, path string, status int, h http.Header, body []byte) error {
	if status >= 200 && status <= 299 {
		return nil
	}
	e := &APIError{Method: method, Path: path}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		// The server writes AppError JSON whatever the Content-Type says (its
		// 404 for unknown routes is JSON labelled text/plain), so sniff the body.
		var wire APIError
		if err := json.Unmarshal(trimmed, &wire); err == nil && (wire.ID != "" || wire.Message != "") {
			e.ID = wire.ID
			e.Message = wire.Message
			e.DetailedError = wire.DetailedError
			e.RequestID = wire.RequestID
			e.IsOAuth = wire.IsOAuth
		} else {
			e.Message = bodyText(trimmed)
		}
	} else {
		e.Message = bodyText(trimmed)
	}
	if e.Message == "" && e.ID == "" {
		if t := http.StatusText(status); t != "" {
			e.Message = strings.ToLower(t)
		} else {
			e.Message = "unexpected status"
		}
	}
	// The HTTP status is the truth, whatever the body claims.
	e.StatusCode = status
	if e.RequestID == "" {
		e.RequestID = h.Get("X-Request-Id")
	}
	if status == http.StatusTooManyRequests {
		r := parseRate(h)
		wait := parseRetryAfter(h.Get("Retry-After"))
		if wait <= 0 {
			wait = r.Reset
		}
		return &RateLimitError{RetryAfter: wait, Limit: r.Limit, Remaining: r.Remaining, Reset: r.Reset, Err: e}
	}
	return e
}

// bodyText makes a short, printable, valid UTF-8 message from a body.
func bodyText(b []byte) string {
	s := strings.ToValidUTF8(string(bytes.TrimSpace(b)), "\uFFFD")
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// Transient reports whether err, from a Client call, may go away if the
// call is made again later: a 429, a 500, 502, 503 or 504 answer, or no
// answer at all (a network error), except a TLS failure the operator must
// fix (an untrusted certificate, a server that does not speak TLS). Other
// answers are final; so is a cancelled or expired context. The Client
// retries on the same grounds; callers that retry beyond it, such as a
// bot whose reply must not be lost, use Transient to decide.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || retryableStatus(ae.StatusCode)
	}
	var ne net.Error
	return errors.As(err, &ne) && !permanent(err)
}
