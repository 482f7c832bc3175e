package mmtest

import (
	"encoding/json"
	"testing"

	"github.com/matterbot/matterbot/mattermost"
)

// FuzzWSRequest feeds arbitrary client frames through the decoder and the
// router of an authenticated connection: no panic, and every reply is a
// well-formed response to the request's seq.
func FuzzWSRequest(f *testing.F) {
	for _, s := range []string{
		`{"seq":1,"action":"ping"}`,
		`{"seq":1,"action":"authentication_challenge","data":{"token":"tok-alice"}}`,
		`{"seq":2,"action":"user_typing","data":{"channel_id":"` + opsChan + `","parent_id":""}}`,
		`{"seq":3,"action":"get_statuses_by_ids","data":{"user_ids":["` + alice + `",1,null]}}`,
		`{"seq":4,"action":"get_statuses"}`,
		`{"seq":5,"action":"user_update_active_status","data":{"user_is_active":true,"manual":false}}`,
		`{"seq":0,"action":"ping"}`,
		`{"seq":-1}`,
		`{"action":"custom_x"}`,
		`{"seq":1,"action":"ping"} trailing`,
		`{"seq":"1"}`,
		`[]`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	st := newWSState()
	opts := st.options()
	opts.OnTyping = func(string, string, string) error { return nil }
	h := newHub(opts)
	defer h.Close()
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := decodeRequest(frame)
		if err != nil {
			return // the socket would be closed
		}
		h.mu.Lock()
		conn := newConn(h, mattermost.NewID(), alice, "tok-alice")
		h.register(conn)
		h.mu.Unlock()
		<-conn.send // the hello
		s := newSocket(h)
		s.conn = conn
		h.route(s, req)
		s.stop()
		for {
			select {
			case m := <-conn.send:
				if m.ev != nil {
					if m.ev.name != "hello" {
						t.Errorf("request %q queued event %q", frame, m.ev.name)
					}
					continue
				}
				var r wsResponse
				if err := json.Unmarshal(m.resp, &r); err != nil {
					t.Fatalf("reply %q to %q: %v", m.resp, frame, err)
				}
				if r.SeqReply != req.Seq || (r.Status != "OK" && r.Status != "FAIL") || (r.Status == "FAIL") != (r.Error != nil) {
					t.Errorf("reply %q to %q is malformed", m.resp, frame)
				}
			default:
				h.mu.Lock()
				h.forget(conn)
				h.mu.Unlock()
				return
			}
		}
	})
}

// FuzzWSEncodeEvent checks that any event name and data encode to a frame
// that decodes back to them with the seq spliced in.
func FuzzWSEncodeEvent(f *testing.F) {
	f.Add("posted", "post", `{"id":"x","message":"<b>&</b>"}`, int64(7))
	f.Add("hello", "connection_id", "", int64(0))
	f.Add("typing", "user_id", "\xff\x00\"\\", int64(-1))
	f.Fuzz(func(t *testing.T, name, key, val string, seq int64) {
		ev := wsEvent{Event: name, Data: map[string]any{key: val}, Broadcast: wsBroadcast{ChannelID: val, OmitUsers: map[string]bool{key: true}}}
		for _, enc := range []func(wsEvent) (*preEvent, error){encodeEvent, encodeDirect} {
			pe, err := enc(ev)
			if err != nil {
				t.Fatal(err)
			}
			frame := pe.appendFrame(nil, seq)
			var got struct {
				Event     string
				Data      map[string]string
				Broadcast broadcastJSON
				Seq       int64
			}
			if err := json.Unmarshal(frame, &got); err != nil {
				t.Fatalf("frame %q: %v", frame, err)
			}
			// encoding/json replaces each invalid UTF-8 byte with U+FFFD.
			valid := func(s string) string {
				b, _ := json.Marshal(s)
				var out string
				_ = json.Unmarshal(b, &out)
				return out
			}
			if got.Event != valid(name) || got.Data[valid(key)] != valid(val) || got.Seq != seq ||
				got.Broadcast.ChannelID != valid(val) || !got.Broadcast.OmitUsers[valid(key)] {
				t.Errorf("frame %q does not round-trip %+v seq %d", frame, ev, seq)
			}
		}
	})
}
