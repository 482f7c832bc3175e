package mmtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkWSPublish measures a posted event published to a channel and
// written to every member's socket: one op is one event, delivered to
// conns sockets over in-memory pipes, read by coder/websocket clients.
func BenchmarkWSPublish(b *testing.B) {
	for _, conns := range []int{1, 20, 100} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			st := newWSState()
			h := newHub(st.options())
			ln := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
			srv := &http.Server{Handler: h}
			served := make(chan struct{})
			go func() { defer close(served); _ = srv.Serve(ln) }()
			tr := &http.Transport{DialContext: ln.dial}
			defer func() { h.Close(); _ = srv.Close(); <-served; tr.CloseIdleConnections() }()

			delivered := make(chan struct{}, 1<<16)
			var clients []*websocket.Conn
			done := make(chan struct{}, conns)
			for range conns {
				c, _, err := websocket.Dial(context.Background(), "ws://mm.test/api/v4/websocket", &websocket.DialOptions{
					HTTPClient: &http.Client{Transport: tr},
					HTTPHeader: http.Header{"Authorization": {"Bearer tok-alice"}},
				})
				if err != nil {
					b.Fatal(err)
				}
				clients = append(clients, c)
				go func() {
					defer func() { done <- struct{}{} }()
					for {
						if _, _, err := c.Read(context.Background()); err != nil {
							return
						}
						delivered <- struct{}{}
					}
				}()
			}
			defer func() {
				for _, c := range clients {
					_ = c.CloseNow()
				}
				for range conns {
					<-done
				}
			}()
			for range conns { // the hellos
				<-delivered
			}
			ev := postedEvent(opsChan, "a message of ordinary length for a chat-ops bot to read")
			const batch = 64 // below the send queue, so no connection overflows
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				h.Publish(ev)
				if n++; n%batch == 0 {
					for range batch * conns {
						<-delivered
					}
				}
			}
			for range (n % batch) * conns {
				<-delivered
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(n*conns)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkWSEncodeEvent measures the once-per-publish encoding of a
// posted event and the per-connection splice of its seq.
func BenchmarkWSEncodeEvent(b *testing.B) {
	ev := postedEvent(opsChan, "a message of ordinary length for a chat-ops bot to read")
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		pe, err := encodeEvent(ev)
		if err != nil {
			b.Fatal(err)
		}
		buf = pe.appendFrame(buf[:0], 12345)
	}
}
