package mattermost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Event names the server sends on the WebSocket, as in the server's
// server/public/model/websocket_message.go. The server sends about eighty
// more; events with other names are delivered with Data only.
const (
	EventHello                = "hello"
	EventPosted               = "posted"
	EventPostEdited           = "post_edited"
	EventPostDeleted          = "post_deleted"
	EventEphemeralMessage     = "ephemeral_message"
	EventReactionAdded        = "reaction_added"
	EventReactionRemoved      = "reaction_removed"
	EventTyping               = "typing"
	EventStatusChange         = "status_change"
	EventUserAdded            = "user_added"
	EventUserRemoved          = "user_removed"
	EventUserUpdated          = "user_updated"
	EventNewUser              = "new_user"
	EventDirectAdded          = "direct_added"
	EventGroupAdded           = "group_added"
	EventChannelCreated       = "channel_created"
	EventChannelUpdated       = "channel_updated"
	EventChannelDeleted       = "channel_deleted"
	EventChannelViewed        = "channel_viewed"
	EventAddedToTeam          = "added_to_team"
	EventLeaveTeam            = "leave_team"
	EventChannelMemberUpdated = "channel_member_updated"
	EventPreferencesChanged   = "preferences_changed"
	EventOpenDialog           = "open_dialog" // to one user: open data["dialog"], a JSON OpenDialogRequest
)

// EventMissed is the Type of an event made by [WebSocket], not by the
// server: its Payload is an [*EventsMissed] saying that events may have been
// lost. The name holds a dot so that it never collides with a server event.
const EventMissed = "matterbot.events_missed"

// Event is one event from the server's WebSocket.
//
// Payload holds the typed data, decoded once when the frame is read:
//
//	hello                              *HelloEvent
//	posted                             *PostedEvent
//	post_edited                        *PostEditedEvent
//	post_deleted                       *PostDeletedEvent
//	ephemeral_message                  *EphemeralMessageEvent
//	reaction_added, reaction_removed   *ReactionEvent
//	typing                             *TypingEvent
//	status_change                      *StatusChangeEvent
//	user_added                         *UserAddedEvent
//	user_removed                       *UserRemovedEvent
//	user_updated                       *UserUpdatedEvent
//	new_user                           *NewUserEvent
//	direct_added                       *DirectAddedEvent
//	group_added                        *GroupAddedEvent
//	channel_created                    *ChannelCreatedEvent
//	channel_updated                    *ChannelUpdatedEvent
//	channel_deleted                    *ChannelDeletedEvent
//	channel_viewed                     *ChannelViewedEvent
//	added_to_team, leave_team          *TeamMembershipEvent
//	matterbot.events_missed            *EventsMissed (made by WebSocket)
//
// Payload is nil for every other event; Data still holds its raw "data"
// object, for plugins and for events this package does not know.
type Event struct {
	// Type is the event name, e.g. [EventPosted].
	Type string
	// Seq is the per-connection sequence number: 0 for hello, then +1 for
	// every event the server writes on the connection.
	Seq int64
	// Broadcast says to whom the server addressed the event.
	Broadcast Broadcast
	// Data is the raw "data" object of the frame (nil if it had none).
	Data json.RawMessage
	// Payload is the typed form of Data; see the table above.
	Payload any
}

// Broadcast is the "broadcast" object of an event: the audience the server
// chose for it. It is informational for clients.
type Broadcast struct {
	OmitUsers        map[string]bool `json:"omit_users"`
	UserID           string          `json:"user_id"`
	ChannelID        string          `json:"channel_id"`
	TeamID           string          `json:"team_id"`
	ConnectionID     string          `json:"connection_id,omitempty"`
	OmitConnectionID string          `json:"omit_connection_id,omitempty"`
}

// ActionReply is the server's answer to an action sent on the WebSocket
// (a frame with "status" and "seq_reply" and no "event").
type ActionReply struct {
	// Status is "OK" or "FAIL".
	Status string
	// SeqReply is the seq of the action this answers.
	SeqReply int64
	// Data is the raw "data" object (nil if absent), e.g. the statuses map of
	// get_statuses_by_ids or the pong of ping.
	Data json.RawMessage
	// Error is set when Status is "FAIL".
	Error *APIError
}

// Reply status values.
const (
	ReplyOK   = "OK"
	ReplyFail = "FAIL"
)

// HelloEvent is the payload of [EventHello], the first event (seq 0) of every
// fresh connection.
type HelloEvent struct {
	// ConnectionID names the connection for resuming it later.
	ConnectionID string `json:"connection_id"`
	// ServerVersion is "<version>.<build>.<config hash>.<licensed>".
	ServerVersion string `json:"server_version"`
}

// PostedEvent is the payload of [EventPosted]: a new post in a channel the
// user belongs to (the user's own posts included).
type PostedEvent struct {
	Post *Post
	// ChannelType is "O", "P", "D" or "G".
	ChannelType        string
	ChannelName        string
	ChannelDisplayName string
	// SenderName is "@username", the override username of a webhook post,
	// or "System".
	SenderName string
	// TeamID is empty for direct and group messages.
	TeamID string
	// Mentions lists the ids of mentioned users (on newer servers only the
	// receiving user's id, if mentioned).
	Mentions  []string
	SetOnline bool
	// Image and OtherFile report attached images and other files.
	Image     bool
	OtherFile bool
}

// PostEditedEvent is the payload of [EventPostEdited].
type PostEditedEvent struct {
	Post *Post
}

// PostDeletedEvent is the payload of [EventPostDeleted]; Post is the post as
// it was before deletion.
type PostDeletedEvent struct {
	Post *Post
	// DeleteBy is the id of the user who deleted it, when the server says.
	DeleteBy string
}

// EphemeralMessageEvent is the payload of [EventEphemeralMessage]: a post
// only this user sees, never stored by the server.
type EphemeralMessageEvent struct {
	Post *Post
}

// ReactionEvent is the payload of [EventReactionAdded] and
// [EventReactionRemoved].
type ReactionEvent struct {
	Reaction *Reaction
}

// TypingEvent is the payload of [EventTyping].
type TypingEvent struct {
	UserID string `json:"user_id"`
	// ParentID is the thread's root post, or empty.
	ParentID string `json:"parent_id"`
	// ChannelID is taken from the broadcast.
	ChannelID string `json:"-"`
}

// StatusChangeEvent is the payload of [EventStatusChange].
type StatusChangeEvent struct {
	UserID string `json:"user_id"`
	// Status is "online", "away", "dnd" or "offline".
	Status string `json:"status"`
}

// UserAddedEvent is the payload of [EventUserAdded]: a user joined a channel.
type UserAddedEvent struct {
	UserID string `json:"user_id"`
	TeamID string `json:"team_id"`
	// ChannelID is taken from the broadcast.
	ChannelID string `json:"-"`
}

// UserRemovedEvent is the payload of [EventUserRemoved]: a user left or was
// removed from a channel. The removed user's own event has no UserID
// (it is the receiver) and carries ChannelID in its data; the others have
// UserID and the channel in the broadcast. ChannelID is filled either way.
type UserRemovedEvent struct {
	UserID    string `json:"user_id"`
	RemoverID string `json:"remover_id"`
	ChannelID string `json:"channel_id"`
}

// UserUpdatedEvent is the payload of [EventUserUpdated].
type UserUpdatedEvent struct {
	User *User `json:"user"`
}

// NewUserEvent is the payload of [EventNewUser].
type NewUserEvent struct {
	UserID string `json:"user_id"`
}

// DirectAddedEvent is the payload of [EventDirectAdded]: a direct channel was
// created.
type DirectAddedEvent struct {
	CreatorID  string `json:"creator_id"`
	TeammateID string `json:"teammate_id"`
	// ChannelID is taken from the broadcast.
	ChannelID string `json:"-"`
}

// GroupAddedEvent is the payload of [EventGroupAdded]: a group channel was
// created.
type GroupAddedEvent struct {
	TeammateIDs []string
	// ChannelID is taken from the broadcast.
	ChannelID string
}

// ChannelCreatedEvent is the payload of [EventChannelCreated].
type ChannelCreatedEvent struct {
	ChannelID string `json:"channel_id"`
	TeamID    string `json:"team_id"`
}

// ChannelUpdatedEvent is the payload of [EventChannelUpdated].
type ChannelUpdatedEvent struct {
	Channel *Channel
}

// ChannelDeletedEvent is the payload of [EventChannelDeleted] (the channel
// was archived).
type ChannelDeletedEvent struct {
	ChannelID string `json:"channel_id"`
	// DeleteAt is in milliseconds since the epoch.
	DeleteAt int64 `json:"delete_at"`
}

// ChannelViewedEvent is the payload of [EventChannelViewed].
type ChannelViewedEvent struct {
	ChannelID string `json:"channel_id"`
}

// TeamMembershipEvent is the payload of [EventAddedToTeam] and
// [EventLeaveTeam].
type TeamMembershipEvent struct {
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
}

// EventsMissed is the payload of an [EventMissed] event, made by [WebSocket]
// when the server could not resume a connection: events sent since Since may
// have been lost, and the caller should catch up over REST (for example
// GET /channels/{id}/posts?since=...).
type EventsMissed struct {
	// Since is the local time the last event before the gap was received
	// (when Run started, if none was). Allow for clock skew when asking
	// the server for what changed since.
	Since time.Time
	// LastSeq is the seq of the last event received before the gap.
	LastSeq int64
	// OldConnectionID and NewConnectionID are the connection ids before and
	// after; they are equal when the gap was seen inside one connection.
	OldConnectionID string
	NewConnectionID string
}

// FrameError reports a WebSocket frame that could not be decoded.
type FrameError struct {
	// Event is the event name, when the envelope was readable.
	Event string
	// Problem says what was wrong.
	Problem string
	// Err is the underlying decoding error, if any.
	Err error
}

func (e *FrameError) Error() string {
	var b bytes.Buffer
	b.WriteString("mattermost: websocket frame")
	if e.Event != "" {
		b.WriteString(" (event ")
		b.WriteString(strconv.Quote(e.Event))
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FrameError) Unwrap() error { return e.Err }

// DecodeFrame decodes one text frame read from the WebSocket: an event
// (the frame has "event") or the reply to an action (it has "status" or
// "seq_reply"). Exactly one of the two results is non-nil when err is nil.
//
// The frame is checked and split in one pass; only the payload is decoded
// with encoding/json, and only once. Member names match exactly, as the
// server writes them (encoding/json would also accept "Event"). The
// event's Data and the reply's Data keep references into frame: the caller
// must not modify frame afterwards.
//
// If the envelope is sound but the data of a known event is not (a posted
// event whose "post" is not a post), DecodeFrame returns the event without
// Payload together with a [*FrameError], so the caller can still track its
// Seq.
func DecodeFrame(frame []byte) (*Event, *ActionReply, error) {
	return decodeFrame(frame, nil)
}

// decodeFrame is DecodeFrame with a scratch buffer, kept by the caller
// across frames (the WebSocket reader), for the embedded post's unescaped
// JSON; nil makes a new one for each post.
func decodeFrame(frame []byte, scratch *[]byte) (*Event, *ActionReply, error) {
	env, err := scanEnvelope(frame)
	if err != nil {
		if err == errNotObject {
			return nil, nil, &FrameError{Problem: "not a JSON object"}
		}
		return nil, nil, &FrameError{Problem: "invalid JSON", Err: err}
	}
	event, err := eventName(env.event)
	if err != nil {
		return nil, nil, &FrameError{Problem: "bad envelope", Err: err}
	}
	if event == "" {
		status, err := envString(env.status, "status")
		if err != nil {
			return nil, nil, &FrameError{Problem: "bad envelope", Err: err}
		}
		seqReply, err := envInt(env.seqReply, "seq_reply")
		if err != nil {
			return nil, nil, &FrameError{Problem: "bad envelope", Err: err}
		}
		if status == "" && seqReply == 0 {
			return nil, nil, &FrameError{Problem: `neither "event" nor "status"`}
		}
		r := &ActionReply{Status: status, SeqReply: seqReply, Data: nullToNil(env.data)}
		if len(env.errv) > 0 && !isNull(env.errv) {
			var ae APIError
			if err := json.Unmarshal(env.errv, &ae); err != nil {
				return nil, nil, &FrameError{Problem: `bad "error" in reply`, Err: err}
			}
			r.Error = &ae
		}
		return nil, r, nil
	}
	seq, err := envInt(env.seq, "seq")
	if err != nil {
		return nil, nil, &FrameError{Event: event, Problem: "bad envelope", Err: err}
	}
	ev := &Event{Type: event, Seq: seq, Data: nullToNil(env.data)}
	if len(env.broadcast) > 0 && !isNull(env.broadcast) {
		if env.broadcast[0] != '{' {
			return nil, nil, &FrameError{Event: event, Problem: "bad envelope", Err: errors.New(`"broadcast" is not an object`)}
		}
		bc := &ev.Broadcast
		if err := unmarshalFlat(env.broadcast, bc, []flatField{{"user_id", &bc.UserID}, {"channel_id", &bc.ChannelID},
			{"team_id", &bc.TeamID}, {"connection_id", &bc.ConnectionID}, {"omit_connection_id", &bc.OmitConnectionID}},
			"omit_users", &bc.OmitUsers); err != nil {
			return nil, nil, &FrameError{Event: event, Problem: "bad envelope", Err: err}
		}
	}
	p, err := decodePayload(ev, scratch)
	if err != nil {
		return ev, nil, &FrameError{Event: ev.Type, Problem: "bad data", Err: err}
	}
	ev.Payload = p
	return ev, nil, nil
}

// eventName decodes the envelope's "event" as envString does, without an
// allocation for the events this package knows.
func eventName(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' {
		switch name := v[1 : len(v)-1]; string(name) {
		case EventHello:
			return EventHello, nil
		case EventPosted:
			return EventPosted, nil
		case EventPostEdited:
			return EventPostEdited, nil
		case EventPostDeleted:
			return EventPostDeleted, nil
		case EventEphemeralMessage:
			return EventEphemeralMessage, nil
		case EventReactionAdded:
			return EventReactionAdded, nil
		case EventReactionRemoved:
			return EventReactionRemoved, nil
		case EventTyping:
			return EventTyping, nil
		case EventStatusChange:
			return EventStatusChange, nil
		case EventUserAdded:
			return EventUserAdded, nil
		case EventUserRemoved:
			return EventUserRemoved, nil
		case EventUserUpdated:
			return EventUserUpdated, nil
		case EventNewUser:
			return EventNewUser, nil
		case EventDirectAdded:
			return EventDirectAdded, nil
		case EventGroupAdded:
			return EventGroupAdded, nil
		case EventChannelCreated:
			return EventChannelCreated, nil
		case EventChannelUpdated:
			return EventChannelUpdated, nil
		case EventChannelDeleted:
			return EventChannelDeleted, nil
		case EventChannelViewed:
			return EventChannelViewed, nil
		case EventAddedToTeam:
			return EventAddedToTeam, nil
		case EventLeaveTeam:
			return EventLeaveTeam, nil
		case EventChannelMemberUpdated:
			return EventChannelMemberUpdated, nil
		case EventPreferencesChanged:
			return EventPreferencesChanged, nil
		}
	}
	return envString(v, "event")
}

func isNull(b []byte) bool { return string(b) == "null" }

func nullToNil(b []byte) json.RawMessage {
	if len(b) == 0 || isNull(b) {
		return nil
	}
	return json.RawMessage(b)
}

// decodePayload decodes ev.Data by event type. It returns nil, nil for
// unknown events.
func decodePayload(ev *Event, scratch *[]byte) (any, error) {
	switch ev.Type {
	case EventHello:
		p := new(HelloEvent)
		return orNil(p, unmarshalData(ev.Data, p, flatField{"connection_id", &p.ConnectionID}, flatField{"server_version", &p.ServerVersion}))
	case EventPosted:
		return decodePosted(ev.Data, scratch)
	case EventPostEdited, EventPostDeleted, EventEphemeralMessage:
		var d postOnlyJSON
		if err := unmarshalData(ev.Data, &d); err != nil {
			return nil, err
		}
		if d.Post.p == nil {
			return nil, errors.New(`no "post"`)
		}
		switch ev.Type {
		case EventPostEdited:
			return &PostEditedEvent{Post: d.Post.p}, nil
		case EventPostDeleted:
			return &PostDeletedEvent{Post: d.Post.p, DeleteBy: d.DeleteBy}, nil
		default:
			return &EphemeralMessageEvent{Post: d.Post.p}, nil
		}
	case EventReactionAdded, EventReactionRemoved:
		var d struct {
			Reaction embedded[Reaction] `json:"reaction"`
		}
		if err := unmarshalData(ev.Data, &d); err != nil {
			return nil, err
		}
		if d.Reaction.p == nil {
			return nil, errors.New(`no "reaction"`)
		}
		return &ReactionEvent{Reaction: d.Reaction.p}, nil
	case EventTyping:
		p := new(TypingEvent)
		if err := unmarshalData(ev.Data, p, flatField{"user_id", &p.UserID}, flatField{"parent_id", &p.ParentID}); err != nil {
			return nil, err
		}
		p.ChannelID = ev.Broadcast.ChannelID
		return p, nil
	case EventStatusChange:
		p := new(StatusChangeEvent)
		return orNil(p, unmarshalData(ev.Data, p, flatField{"user_id", &p.UserID}, flatField{"status", &p.Status}))
	case EventUserAdded:
		p, err := decodeData[UserAddedEvent](ev.Data)
		if err == nil {
			p.ChannelID = ev.Broadcast.ChannelID
		}
		return p, err
	case EventUserRemoved:
		p, err := decodeData[UserRemovedEvent](ev.Data)
		if err == nil && p.ChannelID == "" {
			p.ChannelID = ev.Broadcast.ChannelID
		}
		return p, err
	case EventUserUpdated:
		p, err := decodeData[UserUpdatedEvent](ev.Data)
		if err == nil && p.User == nil {
			return nil, errors.New(`no "user"`)
		}
		return p, err
	case EventNewUser:
		return decodeData[NewUserEvent](ev.Data)
	case EventDirectAdded:
		p, err := decodeData[DirectAddedEvent](ev.Data)
		if err == nil {
			p.ChannelID = ev.Broadcast.ChannelID
		}
		return p, err
	case EventGroupAdded:
		var d struct {
			TeammateIDs idList `json:"teammate_ids"`
		}
		if err := unmarshalData(ev.Data, &d); err != nil {
			return nil, err
		}
		return &GroupAddedEvent{TeammateIDs: d.TeammateIDs.ids, ChannelID: ev.Broadcast.ChannelID}, nil
	case EventChannelCreated:
		return decodeData[ChannelCreatedEvent](ev.Data)
	case EventChannelUpdated:
		var d struct {
			Channel embedded[Channel] `json:"channel"`
		}
		if err := unmarshalData(ev.Data, &d); err != nil {
			return nil, err
		}
		if d.Channel.p == nil {
			return nil, errors.New(`no "channel"`)
		}
		return &ChannelUpdatedEvent{Channel: d.Channel.p}, nil
	case EventChannelDeleted:
		return decodeData[ChannelDeletedEvent](ev.Data)
	case EventChannelViewed:
		p := new(ChannelViewedEvent)
		return orNil(p, unmarshalData(ev.Data, p, flatField{"channel_id", &p.ChannelID}))
	case EventAddedToTeam, EventLeaveTeam:
		return decodeData[TeamMembershipEvent](ev.Data)
	}
	return nil, nil
}

// unmarshalData decodes an event's data object into v; a missing or null
// data object leaves v zero, as the server sends "data": {} at worst.
// With fields, v is a new struct of exactly those string fields, decoded
// by unmarshalFlat; without, encoding/json decodes it.
func unmarshalData(data []byte, v any, fields ...flatField) error {
	if len(data) == 0 {
		return nil
	}
	if data[0] != '{' {
		return errors.New("data is not an object")
	}
	if len(fields) > 0 {
		return unmarshalFlat(data, v, fields, "", nil)
	}
	return json.Unmarshal(data, v)
}

// orNil returns p, or nil with the error.
func orNil[T any](p *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

func decodeData[T any](data []byte) (*T, error) {
	p := new(T)
	if err := unmarshalData(data, p); err != nil {
		return nil, err
	}
	return p, nil
}

// decodePosted decodes posted's data, the hot path, member by member on
// the already checked frame: only the post itself goes through
// encoding/json.
func decodePosted(data []byte, scratch *[]byte) (*PostedEvent, error) {
	var p PostedEvent
	if len(data) == 0 {
		return nil, errors.New(`no "post"`)
	}
	// The event's strings are made together, in one allocation.
	var sb stringBatch
	str := func(dst *string, v []byte, name string) error {
		if v[0] == '"' {
			if b, ok := jsonStringBytes(v); ok {
				sb.add(dst, b)
				return nil
			}
		}
		s, err := envString(v, name)
		if err == nil {
			sb.flush() // keep the order of repeated keys
			*dst = s
		}
		return err
	}
	err := members(data, func(key, v []byte) error {
		var err error
		switch string(key) {
		case `"post"`:
			var e embedded[Post]
			err = e.decode(v, scratch)
			p.Post = e.p
		case `"channel_type"`:
			err = str(&p.ChannelType, v, "channel_type")
		case `"channel_name"`:
			err = str(&p.ChannelName, v, "channel_name")
		case `"channel_display_name"`:
			err = str(&p.ChannelDisplayName, v, "channel_display_name")
		case `"sender_name"`:
			err = str(&p.SenderName, v, "sender_name")
		case `"team_id"`:
			err = str(&p.TeamID, v, "team_id")
		case `"mentions"`:
			var l idList
			err = l.UnmarshalJSON(v)
			p.Mentions = l.ids
		case `"set_online"`:
			err = (*flag)(&p.SetOnline).UnmarshalJSON(v)
		case `"image"`:
			err = (*flag)(&p.Image).UnmarshalJSON(v)
		case `"otherFile"`:
			err = (*flag)(&p.OtherFile).UnmarshalJSON(v)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sb.flush()
	if p.Post == nil {
		return nil, errors.New(`no "post"`)
	}
	return &p, nil
}

type postOnlyJSON struct {
	Post     embedded[Post] `json:"post"`
	DeleteBy string         `json:"delete_by"`
}

// embedded decodes an object the server sends as a JSON string holding JSON
// ("post": "{\"id\":...}"). It also takes the object itself, which costs
// nothing and lets fakes and future servers skip the double encoding.
type embedded[T any] struct{ p *T }

func (e *embedded[T]) UnmarshalJSON(b []byte) error { return e.decode(b, nil) }

// decode is UnmarshalJSON unescaping into *scratch, when not nil, rather
// than into a new buffer: the caller keeps it across frames (the decoded
// value keeps no reference into it).
func (e *embedded[T]) decode(b []byte, scratch *[]byte) error {
	if isNull(b) {
		return nil
	}
	var buf []byte
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	inner, unescaped, err := unquoteJSONTo(buf, b)
	if err != nil {
		return err
	}
	if scratch != nil && unescaped && cap(inner) <= maxKeptFrameBuffer {
		*scratch = inner[:0]
	}
	if isNull(inner) || len(inner) == 0 {
		return nil
	}
	v := new(T)
	if err := unmarshalJSON(inner, v); err != nil {
		return err
	}
	e.p = v
	return nil
}

// unquoteJSON returns the JSON text held in b: the contents of b when b is
// a JSON string, else b itself. Strings without escapes are returned as a
// slice of b with no copy; others are unescaped into one new buffer.
func unquoteJSON(b []byte) ([]byte, error) {
	out, _, err := unquoteJSONTo(nil, b)
	return out, err
}

// unquoteJSONTo is unquoteJSON unescaping into dst's memory when it is
// large enough. unescaped reports whether out is that buffer (else it is
// a slice of b).
func unquoteJSONTo(dst, b []byte) (out []byte, unescaped bool, err error) {
	if len(b) == 0 || b[0] != '"' {
		return b, false, nil
	}
	if len(b) < 2 || b[len(b)-1] != '"' {
		return nil, false, errors.New("unterminated string")
	}
	s := b[1 : len(b)-1]
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return s, false, nil
	}
	if cap(dst) < len(s) {
		dst = make([]byte, 0, len(s))
	}
	out = append(dst[:0], s[:i]...)
	for i < len(s) {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, false, errors.New("string ends in a backslash")
		}
		c = s[i+1]
		i += 2
		switch c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s[i:])
			if !ok {
				return nil, false, errors.New("bad \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A lone surrogate becomes U+FFFD, as encoding/json does.
				r2, ok := rune(0), false
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false, fmt.Errorf("bad escape \\%c in string", c)
		}
	}
	return out, true, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// idList decodes a list of ids sent either as a JSON string holding a JSON
// array ("mentions": "[\"id\"]", "teammate_ids") or as the array itself.
type idList struct{ ids []string }

func (l *idList) UnmarshalJSON(b []byte) error {
	inner, err := unquoteJSON(b)
	if err != nil {
		return err
	}
	if len(inner) == 0 || isNull(inner) {
		return nil
	}
	return unmarshalStrings(inner, &l.ids)
}

// flag decodes a boolean sent as true/false or as the strings "true" and
// "false" (posted's "image" and "otherFile").
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	case "false", `"false"`, `""`, "null":
		*f = false
	default:
		return fmt.Errorf("want a boolean, got %.20s", b)
	}
	return nil
}
