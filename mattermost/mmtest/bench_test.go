package mmtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/matterbot/matterbot/mattermost"
)

// benchWorld is a server with one user in one channel, and a body to post.
func benchWorld(b *testing.B) (srv *Server, token string, body []byte) {
	b.Helper()
	srv = NewServer(b, nil)
	team, _ := srv.AddTeam("bench", "Bench")
	u, _ := srv.AddUser(User{Username: "bencher"})
	_ = srv.AddTeamMember(team.ID, u.ID)
	ch, _ := srv.AddChannel(team.ID, "load", "Load", mattermost.ChannelOpen)
	_ = srv.AddChannelMember(ch.ID, u.ID)
	token, _ = srv.Login(u.ID)
	body = []byte(`{"channel_id":"` + ch.ID + `","message":"deploy api to prod: done in 42s"}`)
	return srv, token, body
}

func postOnce(b *testing.B, c *http.Client, url, token string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("POST /posts = %d", resp.StatusCode)
	}
}

// BenchmarkCreatePost measures POST /api/v4/posts over loopback HTTP/1.1
// with keep-alive, one request at a time.
func BenchmarkCreatePost(b *testing.B) {
	srv, token, body := benchWorld(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	url := srv.URL() + "/api/v4/posts"
	b.ReportAllocs()
	for b.Loop() {
		postOnce(b, c, url, token, body)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkCreatePostParallel is BenchmarkCreatePost with GOMAXPROCS
// clients at once.
func BenchmarkCreatePostParallel(b *testing.B) {
	srv, token, body := benchWorld(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer c.CloseIdleConnections()
	url := srv.URL() + "/api/v4/posts"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postOnce(b, c, url, token, body)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkCreatePostHandler measures the server without the network:
// ServeHTTP on a recorder.
func BenchmarkCreatePostHandler(b *testing.B) {
	srv, token, body := benchWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", "/api/v4/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := discardRecorder{h: http.Header{}}
		srv.ServeHTTP(&rec, req)
		if rec.code != http.StatusCreated {
			b.Fatalf("POST /posts = %d", rec.code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

type discardRecorder struct {
	h    http.Header
	code int
}

func (d *discardRecorder) Header() http.Header         { return d.h }
func (d *discardRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardRecorder) WriteHeader(c int)           { d.code = c }

// BenchmarkCreatePostWithListener is BenchmarkCreatePost with one
// WebSocket connected as a channel member, reading every posted event:
// the path a bot's reply takes to other clients.
func BenchmarkCreatePostWithListener(b *testing.B) {
	srv, token, body := benchWorld(b)
	ctx, cancel := context.WithCancel(context.Background())
	wsURL := "ws" + strings.TrimPrefix(srv.URL(), "http") + "/api/v4/websocket"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		b.Fatal(err)
	}
	var events atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
			events.Add(1)
		}
	}()
	defer func() {
		cancel()
		_ = conn.CloseNow()
		<-done
	}()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	url := srv.URL() + "/api/v4/posts"
	b.ReportAllocs()
	for b.Loop() {
		postOnce(b, c, url, token, body)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
