package mmtest

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter is the server's optional limiter
// (server/channels/app/ratelimit.go), which uses the GCRA of
// github.com/throttled/throttled: each key has a theoretical arrival time
// (tat); a request is allowed when tat+interval-tolerance <= now.
type rateLimiter struct {
	interval   time.Duration // emission interval, 1/PerSec
	tolerance  time.Duration // interval * (MaxBurst+1), as throttled computes it
	limit      int           // MaxBurst + 1, what X-Ratelimit-Limit reports
	varyByUser bool
	now        func() time.Time

	mu  sync.Mutex
	tat map[string]time.Time // under mu
}

func newRateLimiter(o RateLimit, now func() time.Time) *rateLimiter {
	if o.PerSec <= 0 {
		o.PerSec = 10
	}
	if o.MaxBurst <= 0 {
		o.MaxBurst = 100
	}
	iv := time.Second / time.Duration(o.PerSec)
	return &rateLimiter{
		interval:   iv,
		tolerance:  iv * time.Duration(o.MaxBurst+1),
		limit:      o.MaxBurst + 1,
		varyByUser: o.VaryByUser,
		now:        now,
		tat:        make(map[string]time.Time),
	}
}

// allow applies the limit to r, sets the X-Ratelimit-* headers, and on
// refusal answers 429 with the plain-text body of throttled's
// DeniedHandler ("limit exceeded"). It returns false when it answered.
func (l *rateLimiter) allow(w http.ResponseWriter, r *http.Request, token string) bool {
	key := ""
	if l.varyByUser && token != "" {
		key = "token:" + token
	} else {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		key = "ip:" + host
	}
	limited, remaining, reset, retry := l.take(key)
	h := w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(l.limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(ceilSeconds(reset)))
	if !limited {
		return true
	}
	h.Set("Retry-After", strconv.Itoa(ceilSeconds(retry)))
	http.Error(w, "limit exceeded", http.StatusTooManyRequests)
	return false
}

// take is GCRARateLimiter.RateLimit for one request.
func (l *rateLimiter) take(key string) (limited bool, remaining int, reset, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	tat, ok := l.tat[key]
	if !ok || now.After(tat) {
		tat = now
	}
	newTat := tat.Add(l.interval)
	allowAt := newTat.Add(-l.tolerance)
	var ttl time.Duration
	if diff := now.Sub(allowAt); diff < 0 {
		limited = true
		retry = -diff
		ttl = tat.Sub(now)
	} else {
		l.tat[key] = newTat
		ttl = newTat.Sub(now)
	}
	if next := l.tolerance - ttl; next > -l.interval {
		remaining = int(next / l.interval)
	}
	return limited, remaining, ttl, retry
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
