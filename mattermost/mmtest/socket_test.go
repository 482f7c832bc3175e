package mmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matterbot/matterbot/mattermost"
)

// TestWebSocketDelivery connects a real WebSocket to the server and checks
// that REST actions reach it as the recorded frames do: hello then
// status_change on connect, posted with the post and mentions as JSON
// strings, typing, and nothing from a private channel the user is not in.
func TestWebSocketDelivery(t *testing.T) {
	w := newWorld(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(w.srv.URL(), "http") + "/api/v4/websocket"
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.aliceTok}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	next := func() map[string]any {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("frame %s: %v", b, err)
		}
		return f
	}
	expect := func(event string, seq float64) map[string]any {
		t.Helper()
		f := next()
		if f["event"] != event || f["seq"] != seq {
			t.Fatalf("frame = %v, want %s seq %v", f, event, seq)
		}
		d, _ := f["data"].(map[string]any)
		return d
	}
	if d := expect("hello", 0); !mattermost.IsValidID(d["connection_id"].(string)) {
		t.Errorf("hello connection_id = %v", d["connection_id"])
	}
	if d := expect("status_change", 1); d["status"] != "online" || d["user_id"] != w.alice.ID {
		t.Errorf("status_change = %v, want alice online", d)
	}

	secret, _ := w.srv.AddChannel(w.team.ID, "secret", "Secret", mattermost.ChannelPrivate)
	_ = w.srv.AddChannelMember(secret.ID, w.bob.ID)
	if r := w.do(t, "POST", "/posts", w.bobTok, map[string]any{"channel_id": secret.ID, "message": "not for alice"}); r.status != 201 {
		t.Fatalf("post = %d", r.status)
	}
	if r := w.do(t, "POST", "/posts", w.bobTok, map[string]any{"channel_id": w.ops.ID, "message": "hi @alice"}); r.status != 201 {
		t.Fatalf("post = %d", r.status)
	}
	d := expect("posted", 2)
	ps, ok := d["post"].(string)
	if !ok {
		t.Fatalf("posted data.post is %T, want a JSON string", d["post"])
	}
	var p mattermost.Post
	if err := json.Unmarshal([]byte(ps), &p); err != nil || p.Message != "hi @alice" || p.UserID != w.bob.ID {
		t.Errorf("posted post = %+v (%v), want bob's hi @alice", p, err)
	}
	if d["mentions"] != `["`+w.alice.ID+`"]` || d["sender_name"] != "@bob" || d["channel_type"] != "O" || d["team_id"] != w.team.ID {
		t.Errorf("posted data = %v", d)
	}
	if r := w.do(t, "POST", "/users/"+w.bob.ID+"/typing", w.bobTok, map[string]any{"channel_id": w.ops.ID}); r.status != 200 {
		t.Fatalf("typing = %d %s", r.status, r.body)
	}
	if d := expect("typing", 3); d["user_id"] != w.bob.ID {
		t.Errorf("typing = %v", d)
	}
	// A user_typing action from alice herself is answered and reaches the
	// channel without her (so not her socket).
	req := `{"seq":1,"action":"user_typing","data":{"channel_id":"` + w.ops.ID + `"}}`
	if err := c.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		t.Fatal(err)
	}
	if f := next(); f["status"] != "OK" || f["seq_reply"] != 1.0 {
		t.Errorf("user_typing reply = %v", f)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Logf("close: %v", err)
	}
}
