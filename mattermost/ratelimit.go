package mattermost

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is the server's rate-limit state as reported on an answer
// (app/ratelimit.go, throttled's GCRA): X-Ratelimit-Limit,
// X-Ratelimit-Remaining and X-Ratelimit-Reset. Known is false when the
// answer carried none of them (rate limiting is off by default).
type Rate struct {
	Limit     int           // burst size + 1, as the server reports it
	Remaining int           // requests left in the burst
	Reset     time.Duration // until the bucket is full again (the header is in seconds)
	Known     bool
}

// maxHeaderWait caps a duration read from a header, so a hostile or broken
// server cannot make a client wait for years.
const maxHeaderWait = 24 * time.Hour

// parseRate reads the X-Ratelimit-* headers. Malformed values count as absent.
func parseRate(h http.Header) Rate {
	var r Rate
	if v, ok := headerInt(h, "X-Ratelimit-Limit"); ok {
		r.Limit, r.Known = v, true
	}
	if v, ok := headerInt(h, "X-Ratelimit-Remaining"); ok {
		r.Remaining, r.Known = v, true
	}
	if v, ok := headerInt(h, "X-Ratelimit-Reset"); ok {
		r.Reset, r.Known = seconds(v), true
	}
	return r
}

func headerInt(h http.Header, key string) (int, bool) {
	s := strings.TrimSpace(h.Get(key))
	if s == "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

func seconds(v int) time.Duration {
	if v <= 0 {
		return 0
	}
	if int64(v) > int64(maxHeaderWait/time.Second) {
		return maxHeaderWait
	}
	return time.Duration(v) * time.Second
}

// parseRetryAfter reads Retry-After in seconds, the form Mattermost sends
// (an HTTP date is not, and counts as absent). Negative, malformed or
// missing values give 0.
func parseRetryAfter(s string) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 {
		return 0
	}
	if f >= maxHeaderWait.Seconds() {
		return maxHeaderWait
	}
	return time.Duration(math.Ceil(f * float64(time.Second)))
}
