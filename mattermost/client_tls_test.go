package mattermost_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// A certificate the client does not trust, or a server that does not
// speak TLS, is reported after one attempt: retrying cannot fix it and
// only delays the error the operator must act on.
func TestClientDoesNotRetryTLSFailures(t *testing.T) {
	tests := []struct {
		name    string
		start   func(*httptest.Server)
		scheme  string
		wantErr string
	}{
		{"untrusted certificate", (*httptest.Server).StartTLS, "https", "certificate"},
		{"plain HTTP server", (*httptest.Server).Start, "https", "HTTP response to HTTPS client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the handler was reached: %s %s", r.Method, r.URL)
			}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			cl := &countingListener{Listener: srv.Listener}
			srv.Listener = cl
			srv.Config.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			tc.start(srv)
			defer srv.Close()
			var slept []time.Duration
			c, err := mattermost.NewClient(tc.scheme+"://"+srv.Listener.Addr().String(), "token", &mattermost.ClientOptions{
				Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Me(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Me = %v, want an error mentioning %q", err, tc.wantErr)
			}
			if n := cl.n.Load(); n != 1 || len(slept) != 0 {
				t.Errorf("Me made %d connections and waited %v, want 1 and no wait", n, slept)
			}
		})
	}
}
