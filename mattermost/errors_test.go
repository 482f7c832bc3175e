package mattermost

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var sentinels = []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer}

// classOf returns the sentinel errors.Is matches for err (nil if none).
func classOf(err error) []error {
	var out []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestCheckResponseRecorded(t *testing.T) {
	tests := []struct {
		file  string
		class error
		want  *APIError
	}{
		{"users_me_no_token.json", ErrUnauthorized, &APIError{
			ID: "api.context.session_expired.app_error", Message: "Invalid or expired session, please login again.",
			StatusCode: 401,
		}},
		{"login_bad_password.json", ErrUnauthorized, &APIError{
			ID: "api.user.login.invalid_credentials_email_username", Message: "Enter a valid email or username and/or password.",
			StatusCode: 401, RequestID: "41apgn4e8jn3j8i5jdoxgrbsqc",
		}},
		{"post_not_member_private.json", ErrForbidden, nil},
		{"post_too_long.json", ErrBadRequest, nil},
		{"teams_name_unknown.json", ErrNotFound, nil},
		{"unknown_route.json", ErrNotFound, &APIError{
			ID: "api.context.404.app_error", Message: "Sorry, we could not find the page.", StatusCode: 404,
			DetailedError: "There doesn't appear to be an api call for the url='/api/v4/no/such/route'.  Typo? are you missing a team_id or user_id as part of the url?",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rec := loadRecorded(t, tc.file)
			h := http.Header{}
			for k, v := range rec.Response.Headers {
				h.Set(k, v)
			}
			resp := &http.Response{
				StatusCode: rec.Response.Status,
				Header:     h,
				Body:       io.NopCloser(strings.NewReader(string(rec.Response.Body))),
				Request:    &http.Request{Method: rec.Request.Method, URL: &url.URL{Path: "/api/v4" + rec.Request.Path}},
			}
			err := CheckResponse(resp)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("CheckResponse() = %v, want an *APIError", err)
			}
			if got := classOf(err); len(got) != 1 || got[0] != tc.class {
				t.Errorf("CheckResponse() matches %v, want only %v", got, tc.class)
			}
			if apiErr.Method != rec.Request.Method || !strings.HasPrefix(apiErr.Path, "/api/v4/") {
				t.Errorf("APIError at %s %s, want %s /api/v4%s", apiErr.Method, apiErr.Path, rec.Request.Method, rec.Request.Path)
			}
			if apiErr.ID == "" || apiErr.Message == "" {
				t.Errorf("APIError = %+v, want id and message from the body", apiErr)
			}
			if tc.want != nil {
				tc.want.Method, tc.want.Path = apiErr.Method, apiErr.Path
				if tc.want.RequestID == "" {
					tc.want.RequestID = apiErr.RequestID
				}
				if diff := cmp.Diff(tc.want, apiErr); diff != "" {
					t.Errorf("APIError mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCheckResponseRateLimited(t *testing.T) {
	rec := loadRecorded(t, "rate_limited_429.json")
	var body string
	if err := json.Unmarshal(rec.Response.Body, &body); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range rec.Response.Headers {
		h.Set(k, v)
	}
	resp := &http.Response{StatusCode: 429, Header: h, Body: io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: "GET", URL: &url.URL{Path: "/api/v4/users/me", RawQuery: "x=1"}}}
	err := CheckResponse(resp)
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("CheckResponse(429) = %T %v, want *RateLimitError", err, err)
	}
	want := &RateLimitError{RetryAfter: time.Second, Limit: 4, Remaining: 0, Reset: 2 * time.Second,
		Err: &APIError{StatusCode: 429, Message: "limit exceeded", Method: "GET", Path: "/api/v4/users/me"}}
	if diff := cmp.Diff(want, rl); diff != "" {
		t.Errorf("RateLimitError mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrRateLimited) {
		t.Error("errors.Is(err, ErrRateLimited) = false")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("errors.As(err, *APIError) = %v, want the 429 answer", apiErr)
	}
	if got, want := err.Error(), "mattermost: GET /api/v4/users/me: rate limited, retry after 1s"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		want    *APIError // nil: want a nil error
		class   error
		wantErr string
	}{
		{name: "200", status: 200, body: `{"id":"x"}`},
		{name: "201", status: 201},
		{name: "204", status: 204},
		{
			name: "AppError", status: 403,
			body:  `{"id":"api.context.permissions.app_error","message":"You do not have the appropriate permissions.","detailed_error":"","request_id":"r1","status_code":403}`,
			want:  &APIError{ID: "api.context.permissions.app_error", Message: "You do not have the appropriate permissions.", RequestID: "r1", StatusCode: 403},
			class: ErrForbidden, wantErr: "mattermost: POST /api/v4/posts: 403 api.context.permissions.app_error: You do not have the appropriate permissions.",
		},
		{
			name: "body status differs from HTTP status", status: 500,
			body:  `{"id":"x.y","message":"m","status_code":200}`,
			want:  &APIError{ID: "x.y", Message: "m", StatusCode: 500},
			class: ErrServer,
		},
		{
			name: "request id from header", status: 404, header: http.Header{"X-Request-Id": {"hdr"}},
			body:  `{"id":"a","message":"b"}`,
			want:  &APIError{ID: "a", Message: "b", StatusCode: 404, RequestID: "hdr"},
			class: ErrNotFound,
		},
		{
			name: "hardened 500", status: 500,
			body:  `{"id":"","message":"Internal Server Error","detailed_error":"","status_code":500}`,
			want:  &APIError{Message: "Internal Server Error", StatusCode: 500},
			class: ErrServer,
		},
		{
			name: "plain text", status: 502, body: "<html>\r\n<body>Bad Gateway</body></html>\n",
			want:  &APIError{Message: "<html>  <body>Bad Gateway</body></html>", StatusCode: 502},
			class: ErrServer, wantErr: "mattermost: POST /api/v4/posts: 502: <html>  <body>Bad Gateway</body></html>",
		},
		{
			name: "empty body", status: 503,
			want:  &APIError{Message: "service unavailable", StatusCode: 503},
			class: ErrServer,
		},
		{
			name: "JSON that is not an AppError", status: 400, body: `{"foo": 1}`,
			want:  &APIError{Message: `{"foo": 1}`, StatusCode: 400},
			class: ErrBadRequest,
		},
		{
			name: "JSON with wrong types", status: 400, body: `{"id": 5, "message": ["x"]}`,
			want:  &APIError{Message: `{"id": 5, "message": ["x"]}`, StatusCode: 400},
			class: ErrBadRequest,
		},
		{
			name: "truncated JSON", status: 401, body: `{"id":"api.context`,
			want:  &APIError{Message: `{"id":"api.context`, StatusCode: 401},
			class: ErrUnauthorized,
		},
		{
			name: "invalid UTF-8 and control bytes", status: 400, body: "bad\xff\x00\x1b[31mred",
			want:  &APIError{Message: "bad\uFFFD[31mred", StatusCode: 400},
			class: ErrBadRequest,
		},
		{
			name: "odd status", status: 302, body: "moved",
			want: &APIError{Message: "moved", StatusCode: 302},
		},
		{
			name: "unknown status", status: 599,
			want:  &APIError{Message: "unexpected status", StatusCode: 599},
			class: ErrServer,
		},
		{
			name: "413", status: 413, body: `{"id":"api.context.request_body_too_large.app_error","message":"too large"}`,
			want: &APIError{ID: "api.context.request_body_too_large.app_error", Message: "too large", StatusCode: 413},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			err := classify("POST", "/api/v4/posts", tc.status, h, []byte(tc.body))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("classify(%d) = %v, want nil", tc.status, err)
				}
				return
			}
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("classify(%d) = %T %v, want *APIError", tc.status, err, err)
			}
			tc.want.Method, tc.want.Path = "POST", "/api/v4/posts"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("classify(%d, %q) mismatch (-want +got):\n%s", tc.status, tc.body, diff)
			}
			classes := classOf(err)
			switch {
			case tc.class == nil && len(classes) != 0:
				t.Errorf("classify(%d) matches %v, want none", tc.status, classes)
			case tc.class != nil && (len(classes) != 1 || classes[0] != tc.class):
				t.Errorf("classify(%d) matches %v, want %v", tc.status, classes, tc.class)
			}
			if tc.wantErr != "" && err.Error() != tc.wantErr {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.wantErr)
			}
		})
	}
}

func TestClassifyLongBody(t *testing.T) {
	body := strings.Repeat("é", 1000)
	err := classify("GET", "/x", 500, http.Header{}, []byte(body))
	var e *APIError
	if !errors.As(err, &e) {
		t.Fatalf("classify = %v", err)
	}
	if len(e.Message) > maxErrorText+len("…") || !utf8.ValidString(e.Message) || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("Message = %q (%d bytes), want a valid truncated text", e.Message, len(e.Message))
	}
}

func TestCheckResponseBoundedRead(t *testing.T) {
	body := strings.NewReader(strings.Repeat("x", 10*maxErrorBody))
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(body)}
	if err := CheckResponse(resp); !errors.Is(err, ErrServer) {
		t.Fatalf("CheckResponse() = %v, want ErrServer", err)
	}
	if got, want := body.Len(), 9*maxErrorBody; got != want {
		t.Errorf("unread after CheckResponse = %d, want %d", got, want)
	}
	if err := CheckResponse(&http.Response{StatusCode: 404}); !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckResponse(no body, no request) = %v, want ErrNotFound", err)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	tests := []struct {
		name       string
		h          http.Header
		wantRate   Rate
		retryAfter time.Duration
	}{
		{"none", http.Header{}, Rate{}, 0},
		{"recorded", http.Header{"X-Ratelimit-Limit": {"4"}, "X-Ratelimit-Remaining": {"1"}, "X-Ratelimit-Reset": {"2"}},
			Rate{Limit: 4, Remaining: 1, Reset: 2 * time.Second, Known: true}, 0},
		{"garbage", http.Header{"X-Ratelimit-Limit": {"x"}, "X-Ratelimit-Remaining": {"-3"}, "Retry-After": {"soon"}}, Rate{}, 0},
		{"huge", http.Header{"X-Ratelimit-Reset": {"99999999999999999999"}, "Retry-After": {"1e30"}},
			Rate{Reset: 0, Known: false}, maxHeaderWait},
		{"capped", http.Header{"X-Ratelimit-Reset": {"999999"}, "Retry-After": {"0.5"}},
			Rate{Reset: maxHeaderWait, Known: true}, 500 * time.Millisecond},
		{"negative retry", http.Header{"Retry-After": {"-1"}}, Rate{}, 0},
		{"NaN retry", http.Header{"Retry-After": {"NaN"}}, Rate{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantRate, parseRate(tc.h)); diff != "" {
				t.Errorf("parseRate mismatch (-want +got):\n%s", diff)
			}
			if got := parseRetryAfter(tc.h.Get("Retry-After")); got != tc.retryAfter {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.h.Get("Retry-After"), got, tc.retryAfter)
			}
		})
	}
}

func TestRateLimitErrorRetryFallsBackToReset(t *testing.T) {
	err := classify("GET", "/x", 429, http.Header{"X-Ratelimit-Reset": {"3"}}, []byte("limit exceeded\n"))
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("classify(429, reset 3) = %v, want RetryAfter 3s", err)
	}
	var zero RateLimitError
	if zero.Unwrap() != nil || !zero.Is(ErrRateLimited) || zero.Error() == "" {
		t.Errorf("zero RateLimitError: Unwrap=%v Is=%v Error=%q", zero.Unwrap(), zero.Is(ErrRateLimited), zero.Error())
	}
}

func TestAPIErrorWireForm(t *testing.T) {
	e := &APIError{ID: "a.b", Message: "m", StatusCode: 404, Method: "GET", Path: "/secret"}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"id":"a.b","message":"m","detailed_error":"","status_code":404}`; got != want {
		t.Errorf("json.Marshal(APIError) = %s, want %s", got, want)
	}
}

func FuzzClassify(f *testing.F) {
	for _, name := range []string{"users_me_no_token.json", "unknown_route.json", "post_too_long.json", "login_bad_password.json"} {
		rec := loadRecorded(f, name)
		f.Add(rec.Response.Status, "", []byte(rec.Response.Body))
	}
	f.Add(429, "1", []byte("limit exceeded\n"))
	f.Add(502, "", []byte("<html>bad gateway</html>"))
	f.Add(500, "-1", []byte(`{"id":1}`))
	f.Add(400, "x", []byte("\xff\xfe{"))
	f.Add(0, "", []byte(nil))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{"Retry-After": {retryAfter}, "X-Ratelimit-Reset": {retryAfter}}
		err := classify("GET", "/api/v4/x", status, h, body)
		if status >= 200 && status <= 299 {
			if err != nil {
				t.Fatalf("classify(%d) = %v, want nil", status, err)
			}
			return
		}
		var e *APIError
		if !errors.As(err, &e) {
			t.Fatalf("classify(%d) = %T %v, want an *APIError", status, err, err)
		}
		if e.StatusCode != status {
			t.Errorf("StatusCode = %d, want %d", e.StatusCode, status)
		}
		if e.ID == "" && e.Message == "" {
			t.Errorf("classify(%d, %q): empty id and message", status, body)
		}
		if e.ID == "" && (!utf8.ValidString(e.Message) || len(e.Message) > maxErrorText+len("…")) {
			t.Errorf("Message = %q, want short valid UTF-8", e.Message)
		}
		if err.Error() == "" {
			t.Error("Error() is empty")
		}
		var rl *RateLimitError
		if isRL := errors.As(err, &rl); isRL != (status == 429) {
			t.Errorf("RateLimitError = %v for status %d", isRL, status)
		} else if isRL && (rl.RetryAfter < 0 || rl.RetryAfter > maxHeaderWait) {
			t.Errorf("RetryAfter = %v, want within [0, %v]", rl.RetryAfter, maxHeaderWait)
		}
	})
}

func TestTransient(t *testing.T) {
	t.Parallel()
	api := func(code int) error { return fmt.Errorf("send: %w", &APIError{StatusCode: code}) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", fmt.Errorf("post: %w", &RateLimitError{Err: &APIError{StatusCode: 429}}), true},
		{"500", api(500), true},
		{"502", api(502), true},
		{"503", api(503), true},
		{"504", api(504), true},
		{"501", api(501), false},
		{"400", api(400), false},
		{"403", api(403), false},
		{"404", api(404), false},
		{"network", fmt.Errorf("post: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), true},
		{"untrusted certificate", &url.Error{Op: "Post", URL: "https://x", Err: x509.UnknownAuthorityError{}}, false},
		{"canceled", fmt.Errorf("post: %w", context.Canceled), false},
		{"deadline", context.DeadlineExceeded, false},
		{"other", errors.New("decode answer"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Transient(tc.err); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
