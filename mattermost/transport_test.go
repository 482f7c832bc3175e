package mattermost

import (
	"net/http"
	"testing"
)

// TestDefaultTransportKeepsConnections checks that the default client
// keeps enough idle connections to its one host that concurrent requests
// reuse them instead of dialing anew (net/http's default is 2 per host).
func TestDefaultTransportKeepsConnections(t *testing.T) {
	c, err := NewClient("http://h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.HTTPClient().Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want *http.Transport", c.HTTPClient().Transport)
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.MaxIdleConnsPerHost > tr.MaxIdleConns {
		t.Errorf("MaxIdleConnsPerHost = %d, want between 64 and MaxIdleConns (%d)", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
}
