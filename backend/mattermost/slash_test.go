package mattermost

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	mm "github.com/matterbot/matterbot/mattermost"
)

// TestPostResponseRefused: postResponse tells an answer the response URL
// surely did not post (the server refused it with a 4xx, checked before
// anything is posted, or was never reached), which the bot then posts
// itself, from one the server may have posted (a 5xx, a connection lost
// after the request went), which it must not post again.
func TestPostResponseRefused(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	hangUp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = c.Close()
		}
	})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/hooks/commands/x"
	_ = closed.Close()

	c, err := mm.NewClient("http://127.0.0.1:1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Backend{client: c}
	for _, tc := range []struct {
		name        string
		h           http.Handler // nil: nobody listens
		wantErr     bool
		wantRefused bool
	}{
		{"taken", status(http.StatusOK), false, false},
		{"expired", status(http.StatusNotFound), true, true},
		{"used up", status(http.StatusBadRequest), true, true},
		{"server error", status(http.StatusInternalServerError), true, false},
		{"connection lost", hangUp, true, false},
		{"nobody listens", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := closedURL
			if tc.h != nil {
				hs := httptest.NewServer(tc.h)
				defer hs.Close()
				url = hs.URL + "/hooks/commands/x"
			}
			err := b.postResponse(context.Background(), url, &mm.CommandResponse{Text: "x"})
			if (err != nil) != tc.wantErr || errors.Is(err, errResponseRefused) != tc.wantRefused {
				t.Errorf("postResponse = %v; want an error %v, refused %v", err, tc.wantErr, tc.wantRefused)
			}
		})
	}
}
