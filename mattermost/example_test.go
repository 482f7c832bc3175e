package mattermost_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

func ExampleNewClient() {
	// A stand-in for a Mattermost server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v4/users/me" && r.Header.Get("Authorization") == "Bearer my-token" {
			_, _ = io.WriteString(w, `{"id":"t7boqukfst88jmcu3mgp8jtrme","username":"matterbot"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","detailed_error":"","status_code":401}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	c, err := mattermost.NewClient(srv.URL, mattermost.Secret("my-token"), &mattermost.ClientOptions{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	me, _, err := c.Me(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logged in as", me.Username)

	expired, _ := mattermost.NewClient(srv.URL, "expired", nil)
	_, _, err = expired.Me(ctx)
	fmt.Println(errors.Is(err, mattermost.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// logged in as matterbot
	// true
	// mattermost: GET /api/v4/users/me: 401 api.context.session_expired.app_error: Invalid or expired session, please login again.
}
