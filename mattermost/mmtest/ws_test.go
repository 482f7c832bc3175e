package mmtest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/mattermost"
)

// recordedUser is the user id of the bot in the recordings.
const recordedUser = "t7boqukfst88jmcu3mgp8jtrme"

// substitute replaces the recorded ids in a recorded frame with ours, so
// the whole frame can be compared.
func substitute(f map[string]any, repl map[string]string) map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, e := range v {
				if r, ok := repl[k]; ok && k != "" {
					k = r
				}
				out[k] = walk(e)
			}
			return out
		case string:
			if r, ok := repl[v]; ok {
				return r
			}
			return v
		default:
			return v
		}
	}
	return walk(f).(map[string]any)
}

func TestWSHello(t *testing.T) {
	rec := recordedFrames(t, "ws_hello_header_auth.json")[0]
	recCID := rec["data"].(map[string]any)["connection_id"].(string)
	tests := []struct {
		name string
		opts dialOpts
	}{
		{"bearer header", dialOpts{bearer: "tok-alice"}},
		{"bearer any case", dialOpts{header: "BEARER tok-alice"}},
		{"token header", dialOpts{header: "Token tok-alice"}},
		{"cookie", dialOpts{cookie: "tok-alice"}},
		{"cookie wins over header", dialOpts{cookie: "tok-alice", bearer: "tok-bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, nil)
				c := e.dial(tc.opts)
				raw := c.nextRaw()
				got := decodeFrame(t, raw)
				cid := got["data"].(map[string]any)["connection_id"].(string)
				if !mattermost.IsValidID(cid) {
					t.Fatalf("connection_id %q is not a valid id", cid)
				}
				want := substitute(rec, map[string]string{recordedUser: alice, recCID: cid})
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("hello differs from recorded (-want +got):\n%s", d)
				}
				// createHelloMessage is not precomputed: json.Encoder form.
				if !bytes.HasPrefix(raw, []byte(`{"event":"hello","data":`)) || !bytes.HasSuffix(raw, []byte("}\n")) {
					t.Errorf("hello bytes %q, want the json.Encoder form", raw)
				}
				c.none()
			})
		})
	}
}

// TestWSHelloStatus replays recorded/ws_hello_header_auth.json whole: the
// hello, then the status_change the OnConnect hook publishes.
func TestWSHelloStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var h *hub
		e := newWSEnv(t, func(o *hubOptions) { withStatus(o, &h) })
		h = e.h
		c := e.dial(dialOpts{bearer: "tok-alice"})
		got := []map[string]any{c.next(), c.next()}
		rec := recordedFrames(t, "ws_hello_header_auth.json")
		recCID := rec[0]["data"].(map[string]any)["connection_id"].(string)
		cid := got[0]["data"].(map[string]any)["connection_id"].(string)
		want := []map[string]any{
			substitute(rec[0], map[string]string{recordedUser: alice, recCID: cid}),
			substitute(rec[1], map[string]string{recordedUser: alice}),
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("frames differ from recorded (-want +got):\n%s", d)
		}
		c.none()
	})
}

func TestWSConnectHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []string
		var mu sync.Mutex
		record := func(s string) { mu.Lock(); calls = append(calls, s); mu.Unlock() }
		take := func() []string {
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			out := calls
			calls = nil
			return out
		}
		e := newWSEnv(t, func(o *hubOptions) {
			o.OnConnect = func(u string) { record("connect " + u) }
			o.OnDisconnect = func(u string) { record("disconnect " + u) }
		})
		a1 := e.dial(dialOpts{bearer: "tok-alice"})
		a1.hello()
		a2 := e.dial(dialOpts{bearer: "tok-alice2"})
		a2.hello()
		u := e.dial(dialOpts{})
		if d := cmp.Diff([]string{"connect " + alice, "connect " + alice}, take()); d != "" {
			t.Errorf("after connecting (-want +got):\n%s", d)
		}
		u.send("authentication_challenge", map[string]any{"token": "tok-bob"})
		if d := cmp.Diff([]string{"connect " + bob}, take()); d != "" {
			t.Errorf("after the challenge (-want +got):\n%s", d)
		}
		_ = a1.c.CloseNow() // the client goes; alice still has a2
		if d := cmp.Diff([]string(nil), take()); d != "" {
			t.Errorf("after one of two sockets ended (-want +got):\n%s", d)
		}
		e.h.DropUser(alice) // returns after the hook ran
		mu.Lock()
		got := calls
		calls = nil
		mu.Unlock()
		if d := cmp.Diff([]string{"disconnect " + alice}, got); d != "" {
			t.Errorf("after the last socket ended (-want +got):\n%s", d)
		}
		e.h.Close()
		if d := cmp.Diff([]string(nil), take()); d != "" {
			t.Errorf("after Close (-want +got):\n%s", d)
		}
	})
}

func TestWSConnectionIDsDiffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		a := e.dial(dialOpts{bearer: "tok-alice"}).hello()
		b := e.dial(dialOpts{bearer: "tok-alice"}).hello()
		if a == b {
			t.Errorf("two connections got the same id %q", a)
		}
	})
}

func TestWSAuthChallenge(t *testing.T) {
	t.Run("good token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newWSEnv(t, nil)
			c := e.dial(dialOpts{})
			c.none() // no hello before authentication
			seq := c.send("authentication_challenge", map[string]any{"token": "tok-alice"})
			hello := c.next()
			reply := c.next()
			rec := recordedFrames(t, "ws_auth_challenge_ok.json")
			cid := hello["data"].(map[string]any)["connection_id"].(string)
			recCID := rec[0]["data"].(map[string]any)["connection_id"].(string)
			want := []map[string]any{
				substitute(rec[0], map[string]string{recordedUser: alice, recCID: cid}),
				rec[1],
			}
			if d := cmp.Diff(want, []map[string]any{hello, reply}); d != "" {
				t.Errorf("frames differ from recorded (-want +got):\n%s", d)
			}
			if seq != 1 {
				t.Fatalf("seq %d, want 1 as recorded", seq)
			}
			// A second challenge on an authenticated socket is ignored.
			c.send("authentication_challenge", map[string]any{"token": "tok-bob"})
			c.none()
			// Events now flow, numbered after the hello.
			e.h.Publish(postedEvent(opsChan, "m"))
			if f := c.next(); seqOf(f) != 1 {
				t.Errorf("first event %v, want seq 1", f)
			}
			// It outlives the authentication deadline.
			time.Sleep(time.Minute)
			c.wantOpen()
		})
	})
	bad := []struct {
		name string
		data map[string]any
	}{
		{"bad token", map[string]any{"token": "nope"}},
		{"token not a string", map[string]any{"token": 42}},
		{"no token", nil},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, nil)
				c := e.dial(dialOpts{})
				c.send("authentication_challenge", tc.data)
				// recorded/ws_auth_challenge_bad_token.json: closed, 1006,
				// no reply.
				c.wantClosed(true)
				c.none()
				if rec := recordedFrames(t, "ws_auth_challenge_bad_token.json"); len(rec) != 1 || rec[0]["code"] != 1006.0 {
					t.Errorf("recording changed: %v", rec)
				}
			})
		})
	}
}

func TestWSUnauthenticated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "not-a-token"}) // a bad token still upgrades
		c.none()
		c.send("ping", nil)
		c.sendJSON(map[string]any{"seq": 0, "action": "ping"})
		c.sendJSON(map[string]any{"seq": 5})
		c.send("no_such_action", nil)
		e.h.Publish(wsEvent{Event: "new_user", Data: map[string]any{"user_id": bob}})
		c.none() // no replies, no events
		time.Sleep(5*time.Second - time.Millisecond)
		c.wantOpen()
		time.Sleep(time.Millisecond)
		c.wantClosed(true)
	})
}

func TestWSAuthTimeoutOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, func(o *hubOptions) { o.AuthTimeout = time.Second })
		c := e.dial(dialOpts{})
		time.Sleep(time.Second)
		c.wantClosed(true)
	})
}

func TestWSSeqNumbering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-alice"})
		c.hello()
		for i := range 3 {
			e.h.Publish(postedEvent(opsChan, "m"))
			s := c.send("ping", nil)
			ev, reply := c.next(), c.next()
			if seqOf(ev) != int64(i+1) {
				t.Errorf("event %d seq %v, want %d", i, ev["seq"], i+1)
			}
			if _, ok := ev["seq_reply"]; ok {
				t.Errorf("event has seq_reply: %v", ev)
			}
			if _, ok := reply["seq"]; ok {
				t.Errorf("reply has seq: %v", reply)
			}
			if reply["seq_reply"] != float64(s) || reply["status"] != "OK" {
				t.Errorf("reply %v, want OK seq_reply %d", reply, s)
			}
		}
		// A second connection of the same user numbers its own events.
		c2 := e.dial(dialOpts{bearer: "tok-alice"})
		c2.hello()
		e.h.Publish(wsEvent{Event: "status_change", Data: map[string]any{"status": "online", "user_id": alice}, Broadcast: wsBroadcast{UserID: alice}})
		if f := c.next(); seqOf(f) != 4 {
			t.Errorf("first connection got %v, want seq 4", f)
		}
		if f := c2.next(); seqOf(f) != 1 {
			t.Errorf("second connection got %v, want seq 1", f)
		}
	})
}

func TestWSEventBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-alice"})
		c.hello()
		e.h.Publish(wsEvent{Event: "typing", Data: map[string]any{"user_id": bob, "parent_id": ""},
			Broadcast: wsBroadcast{ChannelID: opsChan, OmitUsers: map[string]bool{bob: true}}})
		got := string(c.nextRaw())
		// The hub's precomputed form (websocket_message.go precomputedJSONBuf).
		want := `{"event": "typing", "data": {"parent_id":"","user_id":"` + bob + `"}, "broadcast": {"omit_users":{"` + bob +
			`":true},"user_id":"","channel_id":"` + opsChan + `","team_id":""}, "seq": 1}`
		if got != want {
			t.Errorf("frame\n got %s\nwant %s", got, want)
		}
		// Same shape as recorded/ws_typing.json.
		rec := recordedFrames(t, "ws_typing.json")[0]
		rec = substitute(rec, map[string]string{"tyer6idrmintxmut89i49pydjh": bob, "eofczhjqg7d4pd5iz5pcjmmjfo": opsChan})
		rec["seq"] = 1.0
		if d := cmp.Diff(rec, decodeFrame(t, []byte(got))); d != "" {
			t.Errorf("typing differs from recorded (-want +got):\n%s", d)
		}
	})
}

func TestWSDelivery(t *testing.T) {
	// Sockets: alice (two), bob, carol. ops: alice, bob. team1: alice,
	// carol.
	tests := []struct {
		name string
		b    func(cids map[string]string) wsBroadcast
		want []string
	}{
		{"everyone", func(map[string]string) wsBroadcast { return wsBroadcast{} }, []string{"alice1", "alice2", "bob", "carol"}},
		{"user", func(map[string]string) wsBroadcast { return wsBroadcast{UserID: alice} }, []string{"alice1", "alice2"}},
		{"user beats omit_users", func(map[string]string) wsBroadcast {
			return wsBroadcast{UserID: alice, OmitUsers: map[string]bool{alice: true}}
		}, []string{"alice1", "alice2"}},
		{"channel members", func(map[string]string) wsBroadcast { return wsBroadcast{ChannelID: opsChan} }, []string{"alice1", "alice2", "bob"}},
		{"channel, omit a user", func(map[string]string) wsBroadcast {
			return wsBroadcast{ChannelID: opsChan, OmitUsers: map[string]bool{bob: true}}
		}, []string{"alice1", "alice2"}},
		{"unknown channel", func(map[string]string) wsBroadcast { return wsBroadcast{ChannelID: "nochannel"} }, nil},
		{"team members", func(map[string]string) wsBroadcast { return wsBroadcast{TeamID: team1} }, []string{"alice1", "alice2", "carol"}},
		{"channel wins over team", func(map[string]string) wsBroadcast {
			return wsBroadcast{ChannelID: offChan, TeamID: team1}
		}, []string{"carol"}},
		{"omit users only", func(map[string]string) wsBroadcast {
			return wsBroadcast{OmitUsers: map[string]bool{alice: true, carol: true}}
		}, []string{"bob"}},
		{"connection", func(c map[string]string) wsBroadcast { return wsBroadcast{ConnectionID: c["alice2"]} }, []string{"alice2"}},
		{"connection beats user", func(c map[string]string) wsBroadcast {
			return wsBroadcast{ConnectionID: c["bob"], UserID: alice}
		}, []string{"bob"}},
		{"omit connection", func(c map[string]string) wsBroadcast {
			return wsBroadcast{OmitConnectionID: c["alice1"], ChannelID: opsChan}
		}, []string{"alice2", "bob"}},
		{"unknown connection", func(map[string]string) wsBroadcast { return wsBroadcast{ConnectionID: mattermost.NewID()} }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, nil)
				clients := map[string]*wsClient{
					"alice1": e.dial(dialOpts{bearer: "tok-alice"}),
					"alice2": e.dial(dialOpts{bearer: "tok-alice2"}),
					"bob":    e.dial(dialOpts{bearer: "tok-bob"}),
					"carol":  e.dial(dialOpts{bearer: "tok-carol"}),
				}
				dropped := e.dial(dialOpts{}) // unauthenticated: never gets events
				cids := map[string]string{}
				for n, c := range clients {
					cids[n] = c.hello()
				}
				b := tc.b(cids)
				e.h.Publish(wsEvent{Event: "x", Data: map[string]any{"k": "v"}, Broadcast: b})
				var got []string
				for _, n := range []string{"alice1", "alice2", "bob", "carol"} {
					c := clients[n]
					c.settle()
					select {
					case raw := <-c.frames:
						got = append(got, n)
						f := decodeFrame(t, raw)
						if f["event"] != "x" || seqOf(f) != 1 {
							t.Errorf("%s got %v, want event x seq 1", n, f)
						}
					default:
					}
					c.none()
				}
				dropped.none()
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("receivers (-want +got):\n%s", d)
				}
			})
		})
	}
}

func TestWSMembershipIsLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-carol"})
		c.hello()
		e.h.Publish(postedEvent(opsChan, "before"))
		c.none()
		e.st.mu.Lock()
		e.st.channels[opsChan][carol] = true
		e.st.mu.Unlock()
		e.h.Publish(postedEvent(opsChan, "after"))
		if m := message(t, c.next()); m != "after" {
			t.Errorf("got %q, want after", m)
		}
	})
}

func TestWSActions(t *testing.T) {
	type reply = map[string]any
	errBody := func(id, msg string, status float64) map[string]any {
		return map[string]any{"id": id, "message": msg, "detailed_error": "", "status_code": status}
	}
	invalid := func(name string) map[string]any {
		return errBody("api.websocket_handler.invalid_param.app_error", "Invalid "+name+" parameter.", 400)
	}
	tests := []struct {
		name string
		req  map[string]any
		want reply // nil: no reply at all
	}{
		{"ping", map[string]any{"seq": 1, "action": "ping"},
			reply{"status": "OK", "seq_reply": 1.0, "data": map[string]any{
				"text": "pong", "version": "5.36.1", "server_time": float64(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()), "node_id": ""}}},
		{"typing", map[string]any{"seq": 1, "action": "user_typing", "data": map[string]any{"channel_id": opsChan}},
			substitute(recordedFrames(t, "ws_action_user_typing_reply.json")[0], nil)},
		{"typing in a thread", map[string]any{"seq": 2, "action": "user_typing", "data": map[string]any{"channel_id": opsChan, "parent_id": "root"}},
			reply{"status": "OK", "seq_reply": 2.0}},
		{"typing, malformed channel", map[string]any{"seq": 3, "action": "user_typing", "data": map[string]any{"channel_id": "ops"}},
			reply{"status": "FAIL", "seq_reply": 3.0, "error": invalid("channel_id")}},
		{"typing, no channel", map[string]any{"seq": 3, "action": "user_typing"},
			reply{"status": "FAIL", "seq_reply": 3.0, "error": invalid("channel_id")}},
		{"typing, not a member", map[string]any{"seq": 4, "action": "user_typing", "data": map[string]any{"channel_id": offChan}},
			reply{"status": "FAIL", "seq_reply": 4.0, "error": invalid("channel_id")}},
		{"statuses by ids", map[string]any{"seq": 5, "action": "get_statuses_by_ids", "data": map[string]any{"user_ids": []any{alice, bob, 7}}},
			reply{"status": "OK", "seq_reply": 5.0, "data": map[string]any{alice: "online", bob: "offline"}}},
		{"statuses by ids, empty", map[string]any{"seq": 6, "action": "get_statuses_by_ids", "data": map[string]any{"user_ids": []any{}}},
			reply{"status": "FAIL", "seq_reply": 6.0, "error": invalid("user_ids")}},
		{"statuses by ids, not a list", map[string]any{"seq": 6, "action": "get_statuses_by_ids", "data": map[string]any{"user_ids": alice}},
			reply{"status": "FAIL", "seq_reply": 6.0, "error": invalid("user_ids")}},
		{"all statuses", map[string]any{"seq": 7, "action": "get_statuses"},
			reply{"status": "OK", "seq_reply": 7.0, "data": map[string]any{alice: "online", carol: "away"}}},
		{"active status", map[string]any{"seq": 8, "action": "user_update_active_status", "data": map[string]any{"user_is_active": true}},
			reply{"status": "OK", "seq_reply": 8.0}},
		{"active status, bad", map[string]any{"seq": 8, "action": "user_update_active_status", "data": map[string]any{"user_is_active": "yes"}},
			reply{"status": "FAIL", "seq_reply": 8.0, "error": invalid("user_is_active")}},
		{"posted ack", map[string]any{"seq": 9, "action": "posted_notify_ack", "data": map[string]any{"post_id": "p"}},
			reply{"status": "OK", "seq_reply": 9.0}},
		{"seq zero", map[string]any{"seq": 0, "action": "ping"},
			reply{"status": "FAIL", "error": errBody("api.web_socket_router.bad_seq.app_error", "Invalid sequence for WebSocket message.", 400)}},
		{"seq negative", map[string]any{"seq": -3, "action": "ping"},
			reply{"status": "FAIL", "seq_reply": -3.0, "error": errBody("api.web_socket_router.bad_seq.app_error", "Invalid sequence for WebSocket message.", 400)}},
		{"unknown action", map[string]any{"seq": 10, "action": "fly"},
			reply{"status": "FAIL", "seq_reply": 10.0, "error": errBody("api.web_socket_router.bad_action.app_error", "Unknown WebSocket action.", 500)}},
		{"missing action", map[string]any{"seq": 11},
			reply{"status": "FAIL", "seq_reply": 11.0, "error": errBody("api.web_socket_router.no_action.app_error", "No websocket action.", 400)}},
		{"missing action beats bad seq", map[string]any{"seq": 0},
			reply{"status": "FAIL", "error": errBody("api.web_socket_router.no_action.app_error", "No websocket action.", 400)}},
		{"plugin action", map[string]any{"seq": 12, "action": "custom_plugin_do"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, func(o *hubOptions) {
					o.GetStatuses = func(ids []string) map[string]string {
						all := map[string]string{alice: "online", carol: "away"}
						if ids == nil {
							return all
						}
						out := map[string]string{}
						for _, id := range ids {
							if s, ok := all[id]; ok {
								out[id] = s
							}
						}
						out["stranger"] = "dnd" // not asked for: not returned
						return out
					}
				})
				c := e.dial(dialOpts{bearer: "tok-alice"})
				c.hello()
				c.sendJSON(tc.req)
				if tc.want == nil {
					c.none()
					return
				}
				if d := cmp.Diff(tc.want, c.next()); d != "" {
					t.Errorf("reply (-want +got):\n%s", d)
				}
				c.none()
				c.wantOpen()
			})
		})
	}
}

func TestWSTyping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		a := e.dial(dialOpts{bearer: "tok-alice"})
		b := e.dial(dialOpts{bearer: "tok-bob"})
		cl := e.dial(dialOpts{bearer: "tok-carol"})
		a.hello()
		b.hello()
		cl.hello()
		b.send("user_typing", map[string]any{"channel_id": opsChan, "parent_id": "root"})
		if f := b.next(); f["status"] != "OK" {
			t.Fatalf("typist got %v, want only the OK reply", f)
		}
		b.none()  // the typist is omitted
		cl.none() // not a member
		f := a.next()
		want := map[string]any{
			"event":     "typing",
			"data":      map[string]any{"user_id": bob, "parent_id": "root"},
			"broadcast": map[string]any{"omit_users": map[string]any{bob: true}, "user_id": "", "channel_id": opsChan, "team_id": ""},
			"seq":       1.0,
		}
		if d := cmp.Diff(want, f); d != "" {
			t.Errorf("typing event (-want +got):\n%s", d)
		}
	})
}

func TestWSTypingHook(t *testing.T) {
	type call struct{ user, channel, parent string }
	tests := []struct {
		name    string
		err     error
		wantErr string // error id in the reply, "" for OK
	}{
		{"ok", nil, ""},
		{"app error", &wsAppError{ID: "api.websocket_handler.server_busy.app_error", Message: "busy", StatusCode: 503}, "api.websocket_handler.server_busy.app_error"},
		{"other error", errors.New("no permission"), "api.websocket_handler.invalid_param.app_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls []call
				e := newWSEnv(t, func(o *hubOptions) {
					o.OnTyping = func(u, c, p string) error {
						calls = append(calls, call{u, c, p})
						return tc.err
					}
				})
				c := e.dial(dialOpts{bearer: "tok-carol"})
				c.hello()
				c.send("user_typing", map[string]any{"channel_id": opsChan, "parent_id": "p"})
				f := c.next()
				gotErr := ""
				if er, ok := f["error"].(map[string]any); ok {
					gotErr, _ = er["id"].(string)
				}
				if gotErr != tc.wantErr {
					t.Errorf("reply %v, want error %q", f, tc.wantErr)
				}
				if d := cmp.Diff([]call{{carol, opsChan, "p"}}, calls, cmp.AllowUnexported(call{})); d != "" {
					t.Errorf("OnTyping calls (-want +got):\n%s", d)
				}
			})
		})
	}
}

func TestWSBadFrames(t *testing.T) {
	tests := []struct {
		name string
		typ  websocket.MessageType
		b    []byte
	}{
		{"not json", websocket.MessageText, []byte("hello")},
		{"seq not a number", websocket.MessageText, []byte(`{"seq":"1","action":"ping"}`)},
		{"binary", websocket.MessageBinary, []byte{0x81, 0xa3}},
		{"too big", websocket.MessageText, []byte(`{"seq":1,"action":"ping","data":{"x":"` + strings.Repeat("a", maxFrameSize) + `"}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newWSEnv(t, nil)
				c := e.dial(dialOpts{bearer: "tok-alice"})
				c.hello()
				c.sendRaw(tc.typ, tc.b)
				c.settle()
				if !c.isClosed() {
					t.Fatal("socket still open after a bad frame")
				}
				c.none()
			})
		})
	}
}

func TestWSLargestFrameAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-alice"})
		c.hello()
		head, tail := `{"seq":1,"action":"ping","data":{"x":"`, `"}}`
		c.sendRaw(websocket.MessageText, []byte(head+strings.Repeat("a", maxFrameSize-len(head)-len(tail))+tail))
		if f := c.next(); f["status"] != "OK" {
			t.Errorf("got %v, want the ping reply", f)
		}
	})
}

func TestWSRevokedSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-alice"})
		other := e.dial(dialOpts{bearer: "tok-alice2"}) // same user, other session
		c.hello()
		other.hello()
		e.h.SessionRevoked("tok-alice")
		e.h.Publish(wsEvent{Event: "x", Broadcast: wsBroadcast{UserID: alice}})
		c.none()
		if f := other.next(); f["event"] != "x" {
			t.Errorf("other session got %v, want event x", f)
		}
		c.send("ping", nil)
		want := map[string]any{"status": "FAIL", "seq_reply": 1.0, "error": map[string]any{
			"id": "api.web_socket_router.not_authenticated.app_error", "message": "WebSocket connection is not authenticated. Please log in and try again.",
			"detailed_error": "", "status_code": 401.0}}
		if d := cmp.Diff(want, c.next()); d != "" {
			t.Errorf("ping after revocation (-want +got):\n%s", d)
		}
		time.Sleep(10 * time.Minute)
		c.wantOpen() // not closed, as on the real server
		// A fresh token through the challenge brings it back.
		c.send("authentication_challenge", map[string]any{"token": "tok-alice2"})
		if f := c.next(); f["event"] != "hello" {
			t.Errorf("got %v, want hello", f)
		}
		if f := c.next(); f["status"] != "OK" {
			t.Errorf("got %v, want OK", f)
		}
		e.h.Publish(wsEvent{Event: "y", Broadcast: wsBroadcast{UserID: alice}})
		if f := c.next(); f["event"] != "y" {
			t.Errorf("got %v, want event y", f)
		}
	})
}

func TestWSDropUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		a := e.dial(dialOpts{bearer: "tok-alice"})
		b := e.dial(dialOpts{bearer: "tok-bob"})
		a.hello()
		b.hello()
		e.h.DropUser(alice)
		a.wantClosed(true)
		b.wantOpen()
		e.h.DropAll()
		b.wantClosed(true)
	})
}

func TestWSKeepalive(t *testing.T) {
	t.Run("pings and pongs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newWSEnv(t, nil)
			c := e.dial(dialOpts{bearer: "tok-alice"})
			c.hello()
			time.Sleep(60*time.Second - time.Millisecond)
			c.settle()
			if n := len(c.pings); n != 0 {
				t.Errorf("%d pings before 60s, want 0", n)
			}
			time.Sleep(time.Millisecond)
			c.settle()
			if n := len(c.pings); n != 1 {
				t.Errorf("%d pings at 60s, want 1", n)
			}
			time.Sleep(10 * time.Minute) // pongs keep it alive
			c.wantOpen()
			if n := len(c.pings); n != 11 {
				t.Errorf("%d pings after 11 minutes, want 11", n)
			}
		})
	})
	t.Run("no pong", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newWSEnv(t, nil)
			c := e.dial(dialOpts{bearer: "tok-alice", noPong: true})
			c.hello()
			time.Sleep(100*time.Second - time.Millisecond)
			c.wantOpen()
			time.Sleep(time.Millisecond)
			c.wantClosed(true)
		})
	})
	t.Run("options", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := newWSEnv(t, func(o *hubOptions) { o.PingInterval = time.Second; o.PongWait = 3 * time.Second })
			c := e.dial(dialOpts{bearer: "tok-alice", noPong: true})
			c.hello()
			time.Sleep(3 * time.Second)
			c.wantClosed(true)
			if n := len(c.pings); n != 2 && n != 3 {
				t.Errorf("%d pings in 3s, want 2 or 3", n)
			}
		})
	})
}

func TestWSQueueOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, func(o *hubOptions) { o.SendQueueSize = 8 })
		c := e.dial(dialOpts{bearer: "tok-alice", noRead: true})
		synctest.Wait()
		// The writer is blocked on the unread hello; the queue takes 8.
		for range 8 {
			e.h.Publish(postedEvent(opsChan, "m"))
		}
		synctest.Wait()
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			t.Fatalf("socket closed before the queue overflowed: %v", err)
		}
		cid := decodeFrame(t, b)["data"].(map[string]any)["connection_id"].(string)
		for range 2 { // the writer takes one more; the next overflows
			e.h.Publish(postedEvent(opsChan, "m"))
		}
		synctest.Wait()
		for err == nil {
			_, _, err = c.c.Read(context.Background())
		}
		if websocket.CloseStatus(err) != -1 {
			t.Errorf("read error %v, want an abnormal closure", err)
		}
		// Forgotten: a resume gets a fresh connection.
		c2 := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "1")})
		if id := c2.hello(); id == cid {
			t.Errorf("resumed the overflowed connection %q", cid)
		}
	})
}

func TestWSSlowDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, func(o *hubOptions) { o.SendQueueSize = 8 })
		c := e.dial(dialOpts{bearer: "tok-alice", noRead: true})
		synctest.Wait() // the writer is blocked on the hello
		for range 4 {
			e.h.Publish(postedEvent(opsChan, "m"))
		}
		// Half full: typing and status_change are dropped, posts are not.
		e.h.Publish(wsEvent{Event: "typing", Broadcast: wsBroadcast{ChannelID: opsChan}})
		e.h.Publish(wsEvent{Event: "status_change", Broadcast: wsBroadcast{UserID: alice}})
		e.h.Publish(postedEvent(opsChan, "m"))
		var events []string
		for range 6 {
			_, b, err := c.c.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			f := decodeFrame(t, b)
			events = append(events, f["event"].(string))
		}
		want := []string{"hello", "posted", "posted", "posted", "posted", "posted"}
		if d := cmp.Diff(want, events); d != "" {
			t.Errorf("events (-want +got):\n%s", d)
		}
		// With room again, typing flows.
		e.h.Publish(wsEvent{Event: "typing", Broadcast: wsBroadcast{ChannelID: opsChan}})
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f := decodeFrame(t, b); f["event"] != "typing" || seqOf(f) != 6 {
			t.Errorf("got %v, want typing seq 6", f)
		}
	})
}

func TestWSRefuseNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		open := e.dial(dialOpts{bearer: "tok-alice"})
		open.hello()
		e.h.RefuseNew(time.Minute)
		_, err := e.tryDial(dialOpts{bearer: "tok-alice"})
		var de *dialError
		if !errors.As(err, &de) || de.status != http.StatusServiceUnavailable {
			t.Fatalf("dial while refusing: %v, want status 503", err)
		}
		open.wantOpen()
		time.Sleep(time.Minute)
		e.dial(dialOpts{bearer: "tok-alice"}).hello()
	})
}

func TestWSClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		a := e.dial(dialOpts{bearer: "tok-alice"})
		u := e.dial(dialOpts{})
		a.hello()
		e.h.Close()
		a.wantClosed(true)
		u.wantClosed(true)
		e.h.Close() // idempotent
		e.h.Publish(wsEvent{Event: "x"})
		_, err := e.tryDial(dialOpts{bearer: "tok-alice"})
		var de *dialError
		if !errors.As(err, &de) || de.status != http.StatusServiceUnavailable {
			t.Errorf("dial after Close: %v, want status 503", err)
		}
	})
}

// TestWSLoopback runs a plain flow over real TCP on 127.0.0.1, as the
// fake's users will.
func TestWSLoopback(t *testing.T) {
	st := newWSState()
	h := newHub(st.options())
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	env := &wsEnv{t: t, h: h, st: st, client: srv.Client()}
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v4/websocket",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer tok-alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	wc := &wsClient{t: t, env: env, c: c, frames: make(chan []byte, 16), closed: make(chan struct{})}
	go wc.read()
	defer func() { _ = c.CloseNow(); <-wc.closed }()
	wc.hello()
	h.Publish(postedEvent(opsChan, "over tcp"))
	if m := message(t, wc.next()); m != "over tcp" {
		t.Errorf("got %q", m)
	}
	s := wc.send("ping", nil)
	if f := wc.next(); f["seq_reply"] != float64(s) {
		t.Errorf("got %v, want the ping reply", f)
	}
}

// TestWSWriteDeadline: a client that stops reading is dropped after
// WriteWait, and the unwritten event is kept for its resume.
func TestWSWriteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newWSEnv(t, nil)
		c := e.dial(dialOpts{bearer: "tok-alice", noRead: true})
		_, b, err := c.c.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cid := decodeFrame(t, b)["data"].(map[string]any)["connection_id"].(string)
		e.h.Publish(postedEvent(opsChan, "stuck"))
		sockets := func() int {
			synctest.Wait()
			e.h.mu.Lock()
			defer e.h.mu.Unlock()
			return len(e.h.sockets)
		}
		time.Sleep(30*time.Second - time.Millisecond)
		if n := sockets(); n != 1 {
			t.Fatalf("%d sockets before the write deadline, want 1", n)
		}
		time.Sleep(time.Millisecond)
		if n := sockets(); n != 0 {
			t.Fatalf("%d sockets after the write deadline, want 0", n)
		}
		r := e.dial(dialOpts{bearer: "tok-alice", query: resumeQuery(cid, "1")})
		if f := r.next(); seqOf(f) != 1 || message(t, f) != "stuck" {
			t.Errorf("resume got %v, want the stuck event with seq 1", f)
		}
	})
}
