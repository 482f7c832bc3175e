package mmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// wsEvent is one server event to publish on the WebSocket, before it is
// addressed to connections. Data is encoded with encoding/json (keys sorted,
// HTML escaped), as the real server's json.Marshal does; a nil Data is sent
// as {} because model.NewWebSocketEvent always allocates the map.
type wsEvent struct {
	Event     string
	Data      map[string]any
	Broadcast wsBroadcast
}

// wsBroadcast says who receives an event; it is also sent to clients
// verbatim (server/public/model/websocket_message.go WebsocketBroadcast).
// The rules are WebConn.ShouldSendEvent's
// (server/channels/app/platform/web_conn.go), checked in this order:
// ConnectionID, OmitConnectionID, UserID, OmitUsers, ChannelID (current
// members only), TeamID (members only), else every authenticated socket.
type wsBroadcast struct {
	OmitUsers        map[string]bool
	UserID           string
	ChannelID        string
	TeamID           string
	ConnectionID     string
	OmitConnectionID string
}

// broadcastJSON is the broadcast object as the 5.36 server writes it
// (recorded/ws_*.json): omit_users (null when empty), user_id, channel_id,
// team_id, always present. Newer servers always add connection_id and
// omit_connection_id; the fake writes them only when they are set, so the
// recorded frames are matched exactly and a targeted event still says where
// it went.
type broadcastJSON struct {
	OmitUsers        map[string]bool `json:"omit_users"`
	UserID           string          `json:"user_id"`
	ChannelID        string          `json:"channel_id"`
	TeamID           string          `json:"team_id"`
	ConnectionID     string          `json:"connection_id,omitempty"`
	OmitConnectionID string          `json:"omit_connection_id,omitempty"`
}

// preEvent is an event encoded once for every connection: only its seq
// differs per connection, so a frame is prefix + seq + suffix. This follows
// WebSocketEvent.PrecomputeJSON (server/public/model/websocket_message.go),
// which the hub calls once per broadcast.
type preEvent struct {
	name   string // event name, for the slow-queue drop rule
	prefix []byte // everything up to and including `"seq": `
	suffix string
}

// appendFrame appends the frame for seq to dst.
func (p *preEvent) appendFrame(dst []byte, seq int64) []byte {
	dst = append(dst, p.prefix...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, p.suffix...)
}

// encodeEvent encodes ev in the precomputed form the real hub writes for
// broadcasts (precomputedJSONBuf: a space after each colon, no newline).
func encodeEvent(ev wsEvent) (*preEvent, error) {
	return encode(ev, `{"event": `, `, "data": `, `, "broadcast": `, `, "seq": `, "}")
}

// encodeDirect encodes ev as a plain json.Encoder writes it, which is how
// the real server sends the hello event (createHelloMessage is not
// precomputed): compact, with a trailing newline.
func encodeDirect(ev wsEvent) (*preEvent, error) {
	return encode(ev, `{"event":`, `,"data":`, `,"broadcast":`, `,"seq":`, "}\n")
}

func encode(ev wsEvent, open, data, bcast, seq, suffix string) (*preEvent, error) {
	name, err := json.Marshal(ev.Event)
	if err != nil {
		return nil, fmt.Errorf("mmtest: encode event name %q: %w", ev.Event, err)
	}
	d := []byte("{}")
	if ev.Data != nil {
		if d, err = json.Marshal(ev.Data); err != nil {
			return nil, fmt.Errorf("mmtest: encode data of event %q: %w", ev.Event, err)
		}
	}
	b := ev.Broadcast
	var omit map[string]bool
	if len(b.OmitUsers) > 0 {
		omit = b.OmitUsers
	}
	bc, err := json.Marshal(broadcastJSON{
		OmitUsers: omit, UserID: b.UserID, ChannelID: b.ChannelID, TeamID: b.TeamID,
		ConnectionID: b.ConnectionID, OmitConnectionID: b.OmitConnectionID,
	})
	if err != nil {
		return nil, fmt.Errorf("mmtest: encode broadcast of event %q: %w", ev.Event, err)
	}
	p := make([]byte, 0, len(open)+len(name)+len(data)+len(d)+len(bcast)+len(bc)+len(seq))
	p = append(p, open...)
	p = append(p, name...)
	p = append(p, data...)
	p = append(p, d...)
	p = append(p, bcast...)
	p = append(p, bc...)
	p = append(p, seq...)
	return &preEvent{name: ev.Event, prefix: p, suffix: suffix}, nil
}

// wsResponse is the reply to a client request
// (server/public/model/websocket_message.go WebSocketResponse). It has no
// event and no seq, and does not advance the connection's seq.
type wsResponse struct {
	Status   string         `json:"status"`
	SeqReply int64          `json:"seq_reply,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Error    *wsAppError    `json:"error,omitempty"`
}

// encodeResponse encodes r as the server's json.Encoder does (trailing
// newline).
func encodeResponse(r wsResponse) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		return nil, fmt.Errorf("mmtest: encode response to seq %d: %w", r.SeqReply, err)
	}
	return buf.Bytes(), nil
}

// wsAppError is model.AppError as the server sends it on the WebSocket:
// detailed_error present and wiped to "" (websocket_router.go
// returnWebSocketError), request_id empty and so omitted.
type wsAppError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
}

// Error implements error, so a hook such as hubOptions.OnTyping can return a
// *wsAppError to choose the reply's error.
func (e *wsAppError) Error() string {
	return fmt.Sprintf("mmtest: websocket %d %s: %s", e.StatusCode, e.ID, e.Message)
}

// The router and handler errors, with the English messages of
// server/i18n/en.json.
func errNoAction() *wsAppError {
	return &wsAppError{ID: "api.web_socket_router.no_action.app_error", Message: "No websocket action.", StatusCode: 400}
}

func errBadSeq() *wsAppError {
	return &wsAppError{ID: "api.web_socket_router.bad_seq.app_error", Message: "Invalid sequence for WebSocket message.", StatusCode: 400}
}

func errBadAction() *wsAppError {
	return &wsAppError{ID: "api.web_socket_router.bad_action.app_error", Message: "Unknown WebSocket action.", StatusCode: 500}
}

func errNotAuthenticated() *wsAppError {
	return &wsAppError{ID: "api.web_socket_router.not_authenticated.app_error", Message: "WebSocket connection is not authenticated. Please log in and try again.", StatusCode: 401}
}

// errInvalidParam is wsapi.NewInvalidWebSocketParamError
// (server/channels/wsapi/websocket_handler.go).
func errInvalidParam(name string) *wsAppError {
	return &wsAppError{ID: "api.websocket_handler.invalid_param.app_error", Message: "Invalid " + name + " parameter.", StatusCode: 400}
}

// wsRequest is a client request (server/public/model/websocket_request.go
// WebSocketRequest).
type wsRequest struct {
	Seq    int64          `json:"seq"`
	Action string         `json:"action"`
	Data   map[string]any `json:"data"`
}

// decodeRequest decodes one text frame the way WebConn.readPump does: a
// json.Decoder reads the first JSON value and ignores what follows. Any
// error closes the socket in the real server.
func decodeRequest(b []byte) (wsRequest, error) {
	var req wsRequest
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&req); err != nil {
		return wsRequest{}, fmt.Errorf("mmtest: decode websocket request: %w", err)
	}
	return req, nil
}
