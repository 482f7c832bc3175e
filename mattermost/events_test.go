package mattermost

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// recordedFrames returns the frames of a recorded exchange
// (testdata/ws_*.json, copied from a real 5.36 server), without the
// {"closed": true} markers.
func recordedFrames(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Frames []json.RawMessage `json:"frames"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out [][]byte
	for _, f := range rec.Frames {
		var closed struct {
			Closed bool `json:"closed"`
		}
		if err := json.Unmarshal(f, &closed); err == nil && closed.Closed {
			continue
		}
		out = append(out, f)
	}
	return out
}

// postSummary keeps the post fields the decoding tests check, so that they
// do not depend on every field of Post.
type postSummary struct {
	ID, UserID, ChannelID, RootID, Message, Type string
	CreateAt                                     int64
}

func summarize(p *Post) *postSummary {
	if p == nil {
		return nil
	}
	return &postSummary{ID: p.ID, UserID: p.UserID, ChannelID: p.ChannelID, RootID: p.RootID, Message: p.Message, Type: p.Type, CreateAt: p.CreateAt}
}

func TestDecodeFrameRecordedPosted(t *testing.T) {
	tests := []struct {
		file string
		seq  int64
		want PostedEvent
		post postSummary
	}{
		{
			file: "ws_posted_channel.json", seq: 2,
			want: PostedEvent{ChannelType: "O", ChannelName: "ops", ChannelDisplayName: "ops", SenderName: "@bob",
				TeamID: "g4abhgi4hfb3xqdwp4ixd58t4r", Mentions: []string{"t7boqukfst88jmcu3mgp8jtrme"}, SetOnline: true},
			post: postSummary{ID: "g77s5139uin4tcxikynebsumua", UserID: "tyer6idrmintxmut89i49pydjh",
				ChannelID: "eofczhjqg7d4pd5iz5pcjmmjfo", Message: "hello @alice ~ops", CreateAt: 1795686534335},
		},
		{
			file: "ws_posted_dm.json", seq: 9,
			want: PostedEvent{ChannelType: "D", ChannelName: "t7boqukfst88jmcu3mgp8jtrme__tyer6idrmintxmut89i49pydjh",
				ChannelDisplayName: "@bob", SenderName: "@bob", Mentions: []string{"t7boqukfst88jmcu3mgp8jtrme"}, SetOnline: true},
			post: postSummary{ID: "o3u86zm587rd8b9tdw8okmya5r", UserID: "tyer6idrmintxmut89i49pydjh",
				ChannelID: "5g5stom4x3f8ikrcy6huy6wpnw", Message: "!echo dm", CreateAt: 1795686539319},
		},
		{
			file: "ws_posted_group.json", seq: 5,
			want: PostedEvent{ChannelType: "G", ChannelName: "40bb2a2a44f0d47287885db355b086b6e55af470",
				ChannelDisplayName: "alice, bob, errbot", SenderName: "@bob", SetOnline: true},
			post: postSummary{ID: "mt648xugo3rmxnp8arq3ujroga", UserID: "tyer6idrmintxmut89i49pydjh",
				ChannelID: "8r9k3ddu1jfkdjjs4cdbzk7bio", Message: "hi group", CreateAt: 1795688458685},
		},
		{
			file: "ws_posted_with_file.json", seq: 2,
			want: PostedEvent{ChannelType: "O", ChannelName: "ops", ChannelDisplayName: "ops", SenderName: "@bob",
				TeamID: "g4abhgi4hfb3xqdwp4ixd58t4r", SetOnline: true, OtherFile: true},
			post: postSummary{ID: "7ky7uqpxuidstmodde7rrpro6o", UserID: "tyer6idrmintxmut89i49pydjh",
				ChannelID: "eofczhjqg7d4pd5iz5pcjmmjfo", Message: "see file", CreateAt: 1795688455820},
		},
		{
			file: "ws_posted_from_hook.json", seq: 12,
			want: PostedEvent{ChannelType: "O", ChannelName: "ops", ChannelDisplayName: "ops", SenderName: "webhook",
				TeamID: "g4abhgi4hfb3xqdwp4ixd58t4r", SetOnline: true},
			post: postSummary{ID: "feiufjhgqtg6tkhibzr6fzr6yy", UserID: "jgjux68grjye3jr6e3azqjatrc",
				ChannelID: "eofczhjqg7d4pd5iz5pcjmmjfo", Message: "from hook", Type: "slack_attachment", CreateAt: 1795688464403},
		},
		{
			file: "ws_posted_own_thread_reply.json", seq: 3,
			want: PostedEvent{ChannelType: "O", ChannelName: "ops", ChannelDisplayName: "ops", SenderName: "@alice",
				TeamID: "g4abhgi4hfb3xqdwp4ixd58t4r", SetOnline: true},
			post: postSummary{ID: "6nb61998wifn5k9dbnckwfxwsw", UserID: "t7boqukfst88jmcu3mgp8jtrme",
				ChannelID: "eofczhjqg7d4pd5iz5pcjmmjfo", RootID: "g77s5139uin4tcxikynebsumua", Message: "reply", CreateAt: 1795686535051},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			frame := recordedFrames(t, tc.file)[0]
			ev, reply, err := DecodeFrame(frame)
			if err != nil || reply != nil {
				t.Fatalf("DecodeFrame = reply %v, err %v; want an event", reply, err)
			}
			if ev.Type != EventPosted || ev.Seq != tc.seq {
				t.Errorf("event = %q seq %d, want %q seq %d", ev.Type, ev.Seq, EventPosted, tc.seq)
			}
			got, ok := ev.Payload.(*PostedEvent)
			if !ok {
				t.Fatalf("Payload = %T, want *PostedEvent", ev.Payload)
			}
			if diff := cmp.Diff(tc.want, *got, cmpopts.IgnoreFields(PostedEvent{}, "Post")); diff != "" {
				t.Errorf("PostedEvent mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tc.post, summarize(got.Post)); diff != "" {
				t.Errorf("Post mismatch (-want +got):\n%s", diff)
			}
			if ev.Broadcast.ChannelID != tc.post.ChannelID {
				t.Errorf("Broadcast.ChannelID = %q, want %q", ev.Broadcast.ChannelID, tc.post.ChannelID)
			}
			if !json.Valid(ev.Data) || !strings.Contains(string(ev.Data), `"sender_name"`) {
				t.Errorf("Data = %s, want the raw data object", ev.Data)
			}
		})
	}
}

func TestDecodeFrameRecordedEvents(t *testing.T) {
	const (
		alice = "t7boqukfst88jmcu3mgp8jtrme"
		bob   = "tyer6idrmintxmut89i49pydjh"
		ops   = "eofczhjqg7d4pd5iz5pcjmmjfo"
		team  = "g4abhgi4hfb3xqdwp4ixd58t4r"
	)
	tests := []struct {
		file  string
		index int
		typ   string
		seq   int64
		want  any
	}{
		{"ws_hello_header_auth.json", 0, EventHello, 0,
			&HelloEvent{ConnectionID: "3p3oueow9trbipmo86yi5nxsjr", ServerVersion: "5.36.1..482d74aa791d53ed59a63fb53a266ea0.false"}},
		{"ws_hello_header_auth.json", 1, EventStatusChange, 1, &StatusChangeEvent{UserID: alice, Status: "online"}},
		{"ws_typing.json", 0, EventTyping, 7, &TypingEvent{UserID: bob, ChannelID: ops}},
		{"ws_user_added.json", 0, EventUserAdded, 6, &UserAddedEvent{UserID: alice, TeamID: team, ChannelID: "188iztdi8fg6pytd39mjid798c"}},
		{"ws_user_removed.json", 0, EventUserRemoved, 8, &UserRemovedEvent{RemoverID: bob, ChannelID: "188iztdi8fg6pytd39mjid798c"}},
		{"ws_posted_own_thread_reply.json", 1, EventChannelViewed, 4, &ChannelViewedEvent{ChannelID: ops}},
		{"ws_reaction_added.json", 0, EventReactionAdded, 5,
			&ReactionEvent{Reaction: &Reaction{UserID: bob, PostID: "g77s5139uin4tcxikynebsumua", EmojiName: "thumbsup", CreateAt: 1795686535767}}},
		{"ws_reaction_removed.json", 0, EventReactionRemoved, 4,
			&ReactionEvent{Reaction: &Reaction{UserID: bob, PostID: "7ky7uqpxuidstmodde7rrpro6o", EmojiName: "tada"}}},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.typ, func(t *testing.T) {
			ev, reply, err := DecodeFrame(recordedFrames(t, tc.file)[tc.index])
			if err != nil || reply != nil {
				t.Fatalf("DecodeFrame = reply %v, err %v; want an event", reply, err)
			}
			if ev.Type != tc.typ || ev.Seq != tc.seq {
				t.Errorf("event = %q seq %d, want %q seq %d", ev.Type, ev.Seq, tc.typ, tc.seq)
			}
			// Reaction has more fields than the test sets: compare those set.
			if r, ok := ev.Payload.(*ReactionEvent); ok && r.Reaction != nil {
				w := tc.want.(*ReactionEvent).Reaction
				g := r.Reaction
				if g.UserID != w.UserID || g.PostID != w.PostID || g.EmojiName != w.EmojiName || g.CreateAt != w.CreateAt {
					t.Errorf("Reaction = %+v, want %+v", g, w)
				}
				return
			}
			if diff := cmp.Diff(tc.want, ev.Payload); diff != "" {
				t.Errorf("Payload mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFrameRecordedPostEvents(t *testing.T) {
	tests := []struct {
		file    string
		typ     string
		message string
		post    func(any) *Post
	}{
		{"ws_post_edited.json", EventPostEdited, "edited", func(p any) *Post { return p.(*PostEditedEvent).Post }},
		{"ws_post_deleted.json", EventPostDeleted, "edited", func(p any) *Post { return p.(*PostDeletedEvent).Post }},
		{"ws_posted_ephemeral_from_admin.json", EventEphemeralMessage, "only you", func(p any) *Post { return p.(*EphemeralMessageEvent).Post }},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, _, err := DecodeFrame(recordedFrames(t, tc.file)[0])
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tc.typ {
				t.Fatalf("Type = %q, want %q", ev.Type, tc.typ)
			}
			p := tc.post(ev.Payload)
			if p == nil || p.Message != tc.message || p.ChannelID != "eofczhjqg7d4pd5iz5pcjmmjfo" {
				t.Errorf("Post = %+v, want message %q in ops", p, tc.message)
			}
		})
	}
}

func TestDecodeFrameRecordedChannelUpdated(t *testing.T) {
	ev, _, err := DecodeFrame(recordedFrames(t, "ws_channel_updated.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ev.Payload.(*ChannelUpdatedEvent)
	if !ok || p.Channel == nil {
		t.Fatalf("Payload = %#v, want *ChannelUpdatedEvent with a channel", ev.Payload)
	}
	if p.Channel.ID != "eofczhjqg7d4pd5iz5pcjmmjfo" || p.Channel.Header != "ops header" || p.Channel.Type != "O" {
		t.Errorf("Channel = %+v, want ops with header %q", p.Channel, "ops header")
	}
}

func TestDecodeFrameRecordedReplies(t *testing.T) {
	frames := recordedFrames(t, "ws_auth_challenge_ok.json")
	if ev, _, err := DecodeFrame(frames[0]); err != nil || ev == nil || ev.Type != EventHello {
		t.Fatalf("DecodeFrame(frame 0) = %v, %v; want hello", ev, err)
	}
	for _, frame := range [][]byte{frames[1], recordedFrames(t, "ws_action_user_typing_reply.json")[0]} {
		ev, reply, err := DecodeFrame(frame)
		if err != nil || ev != nil {
			t.Fatalf("DecodeFrame(%s) = %v, %v; want a reply", frame, ev, err)
		}
		want := &ActionReply{Status: ReplyOK, SeqReply: 1}
		if diff := cmp.Diff(want, reply); diff != "" {
			t.Errorf("reply mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestDecodeFrameSynthetic(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  any // *Event or *ActionReply
	}{
		{
			name:  "fail reply with app error",
			frame: `{"status":"FAIL","seq_reply":3,"error":{"id":"api.web_socket_router.bad_seq.app_error","message":"Invalid sequence.","detailed_error":"","status_code":400}}`,
			want:  &ActionReply{Status: ReplyFail, SeqReply: 3, Error: &APIError{ID: "api.web_socket_router.bad_seq.app_error", Message: "Invalid sequence.", StatusCode: 400}},
		},
		{
			name:  "ping reply with data",
			frame: `{"status": "OK", "seq_reply": 2, "data": {"text":"pong","version":"10.5.0","server_time":1,"node_id":""}}`,
			want:  &ActionReply{Status: ReplyOK, SeqReply: 2, Data: json.RawMessage(`{"text":"pong","version":"10.5.0","server_time":1,"node_id":""}`)},
		},
		{
			name:  "unknown event keeps data",
			frame: `{"event": "custom_plugin_thing", "data": {"a": [1, 2]}, "broadcast": {"omit_users": null, "user_id": "", "channel_id": "c", "team_id": ""}, "seq": 7}`,
			want:  &Event{Type: "custom_plugin_thing", Seq: 7, Broadcast: Broadcast{ChannelID: "c"}, Data: json.RawMessage(`{"a": [1, 2]}`)},
		},
		{
			name:  "event with null data and no broadcast",
			frame: `{"event":"new_user","data":null,"seq":1}`,
			want:  &Event{Type: EventNewUser, Seq: 1, Payload: &NewUserEvent{}},
		},
		{
			name:  "group_added with teammate ids as a JSON string",
			frame: `{"event":"group_added","data":{"teammate_ids":"[\"a\",\"b\"]"},"broadcast":{"channel_id":"g"},"seq":3}`,
			want: &Event{Type: EventGroupAdded, Seq: 3, Broadcast: Broadcast{ChannelID: "g"},
				Data: json.RawMessage(`{"teammate_ids":"[\"a\",\"b\"]"}`), Payload: &GroupAddedEvent{TeammateIDs: []string{"a", "b"}, ChannelID: "g"}},
		},
		{
			name:  "direct_added",
			frame: `{"event":"direct_added","data":{"creator_id":"a","teammate_id":"b"},"broadcast":{"channel_id":"d"},"seq":4}`,
			want: &Event{Type: EventDirectAdded, Seq: 4, Broadcast: Broadcast{ChannelID: "d"},
				Data: json.RawMessage(`{"creator_id":"a","teammate_id":"b"}`), Payload: &DirectAddedEvent{CreatorID: "a", TeammateID: "b", ChannelID: "d"}},
		},
		{
			name:  "channel_deleted",
			frame: `{"event":"channel_deleted","data":{"channel_id":"c","delete_at":1795686534335},"seq":5}`,
			want: &Event{Type: EventChannelDeleted, Seq: 5,
				Data: json.RawMessage(`{"channel_id":"c","delete_at":1795686534335}`), Payload: &ChannelDeletedEvent{ChannelID: "c", DeleteAt: 1795686534335}},
		},
		{
			name:  "added_to_team",
			frame: `{"event":"added_to_team","data":{"team_id":"t","user_id":"u"},"seq":6}`,
			want: &Event{Type: EventAddedToTeam, Seq: 6,
				Data: json.RawMessage(`{"team_id":"t","user_id":"u"}`), Payload: &TeamMembershipEvent{TeamID: "t", UserID: "u"}},
		},
		{
			name:  "posted with the post as an object and bool flags",
			frame: `{"event":"posted","data":{"post":{"id":"p","message":"m\"q"},"image":true,"otherFile":"false","mentions":["u"]},"seq":8}`,
			want: &Event{Type: EventPosted, Seq: 8,
				Data:    json.RawMessage(`{"post":{"id":"p","message":"m\"q"},"image":true,"otherFile":"false","mentions":["u"]}`),
				Payload: &PostedEvent{Post: &Post{ID: "p", Message: `m"q`}, Image: true, Mentions: []string{"u"}}},
		},
		{
			name:  "posted with unicode escapes in the post string",
			frame: `{"event":"posted","data":{"post":"{\"id\":\"p\",\"message\":\"caf\\u00e9 \\ud83d\\ude00 \\\\ \\/\"}"},"seq":9}`,
			want: &Event{Type: EventPosted, Seq: 9,
				Data:    json.RawMessage(`{"post":"{\"id\":\"p\",\"message\":\"caf\\u00e9 \\ud83d\\ude00 \\\\ \\/\"}"}`),
				Payload: &PostedEvent{Post: &Post{ID: "p", Message: "café 😀 \\ /"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, reply, err := DecodeFrame([]byte(tc.frame))
			if err != nil {
				t.Fatalf("DecodeFrame(%s) error: %v", tc.frame, err)
			}
			var got any = ev
			if reply != nil {
				got = reply
			}
			if ev != nil && reply != nil {
				t.Fatalf("DecodeFrame returned both an event and a reply")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeFrame(%s) mismatch (-want +got):\n%s", tc.frame, diff)
			}
		})
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	tests := []struct {
		name      string
		frame     string
		wantEvent bool   // the event is returned along with the error
		wantMsg   string // substring of the error
	}{
		{"empty", ``, false, "not a JSON object"},
		{"not json", `hello`, false, "not a JSON object"},
		{"array", `[1,2]`, false, "not a JSON object"},
		{"truncated", `{"event":"posted","data":{"post":"{}"`, false, "invalid JSON"},
		{"neither event nor status", `{"seq":3,"data":{}}`, false, `neither "event" nor "status"`},
		{"seq is a string", `{"event":"typing","seq":"7"}`, false, "bad envelope"},
		{"broadcast is a list", `{"event":"typing","broadcast":[]}`, false, "bad envelope"},
		{"error is a string", `{"status":"FAIL","seq_reply":1,"error":"boom"}`, false, `bad "error"`},
		{"posted without post", `{"event":"posted","data":{"channel_type":"O"},"seq":1}`, true, `(event "posted"): bad data: no "post"`},
		{"post is not json", `{"event":"posted","data":{"post":"{not json"},"seq":1}`, true, `(event "posted"): bad data`},
		{"post is a number", `{"event":"post_edited","data":{"post":12},"seq":1}`, true, `(event "post_edited"): bad data`},
		{"mentions not a list", `{"event":"posted","data":{"post":"{}","mentions":"{}"},"seq":1}`, true, `bad data`},
		{"image not a bool", `{"event":"posted","data":{"post":"{}","image":"yes"},"seq":1}`, true, `want a boolean`},
		{"data is a string", `{"event":"typing","data":"x","seq":1}`, true, "data is not an object"},
		{"reaction missing", `{"event":"reaction_added","data":{},"seq":1}`, true, `no "reaction"`},
		{"channel missing", `{"event":"channel_updated","data":{"channel":""},"seq":1}`, true, `no "channel"`},
		{"user missing", `{"event":"user_updated","data":{},"seq":1}`, true, `no "user"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, reply, err := DecodeFrame([]byte(tc.frame))
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeFrame(%q) error = %v, want a *FrameError", tc.frame, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("DecodeFrame(%q) error = %q, want it to contain %q", tc.frame, err, tc.wantMsg)
			}
			if reply != nil {
				t.Errorf("DecodeFrame(%q) reply = %v, want nil", tc.frame, reply)
			}
			if got := ev != nil; got != tc.wantEvent {
				t.Errorf("DecodeFrame(%q) event returned = %v, want %v", tc.frame, got, tc.wantEvent)
			}
			if ev != nil && ev.Payload != nil {
				t.Errorf("DecodeFrame(%q) Payload = %#v, want nil on error", tc.frame, ev.Payload)
			}
		})
	}
}

// FuzzDecodeFrame checks that no frame makes DecodeFrame panic, that its
// results are consistent, and that a decoded event keeps valid JSON data.
func FuzzDecodeFrame(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, frame := range recordedFrames(f, filepath.Base(file)) {
			f.Add(frame)
		}
	}
	f.Add([]byte(`{"event":"posted","data":{"post":{"id":"p"},"mentions":["u"],"image":"true"},"seq":1}`))
	f.Add([]byte(`{"event":"group_added","data":{"teammate_ids":"[\"a\"]"},"seq":1}`))
	f.Add([]byte(`{"status":"FAIL","seq_reply":1,"error":{"id":"x","status_code":401}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		ev, reply, err := DecodeFrame(frame)
		switch {
		case err == nil && (ev == nil) == (reply == nil):
			t.Fatalf("DecodeFrame(%q) = %v, %v, nil: want exactly one result", frame, ev, reply)
		case err != nil && reply != nil:
			t.Fatalf("DecodeFrame(%q) returned a reply with error %v", frame, err)
		case err != nil && ev != nil && ev.Payload != nil:
			t.Fatalf("DecodeFrame(%q) returned a payload with error %v", frame, err)
		}
		if ev != nil {
			if ev.Type == "" {
				t.Fatalf("DecodeFrame(%q) event without type", frame)
			}
			if ev.Data != nil && !json.Valid(ev.Data) {
				t.Fatalf("DecodeFrame(%q) Data %q is not valid JSON", frame, ev.Data)
			}
		}
	})
}

func BenchmarkDecodePosted(b *testing.B) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, recordedFrames(b, "ws_posted_channel.json")[0]); err != nil {
		b.Fatal(err)
	}
	frame := buf.Bytes()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		ev, _, err := DecodeFrame(frame)
		if err != nil {
			b.Fatal(err)
		}
		if ev.Payload.(*PostedEvent).Post.ID == "" {
			b.Fatal("no post")
		}
	}
}

// FuzzUnquoteJSON checks unquoteJSON against encoding/json on JSON strings.
func FuzzUnquoteJSON(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b\\c\/d\n\t\r\b\f"`, `"caf\u00e9 \ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00x"`, `"{\"id\":\"p\"}"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := unquoteJSON(b)
		if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
			return // encoding/json hands UnmarshalJSON values without surrounding space
		}
		var want string
		if json.Unmarshal(b, &want) != nil || !utf8.Valid(b) {
			return // not a valid JSON string: unquoteJSON only has to not panic
		}
		if err != nil {
			t.Fatalf("unquoteJSON(%q) error %v, want %q", b, err, want)
		}
		if string(got) != want {
			t.Fatalf("unquoteJSON(%q) = %q, want %q", b, got, want)
		}
	})
}

// FuzzScanEnvelope checks the hand-written scanner against encoding/json:
// it accepts exactly the valid JSON objects, and finds the same members.
func FuzzScanEnvelope(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, frame := range recordedFrames(f, filepath.Base(file)) {
			f.Add(frame)
		}
	}
	for _, s := range []string{`{}`, ` { "a" : [ 1 , -0.5e+3 , true , null , "\u00e9\"" ] } `, `{"a":1}x`, `{"a":01}`, `{"a":"\x01"}`, `[1]`, `{"a":{"b":[{}]}}`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := scanEnvelope(b)
		var m map[string]json.RawMessage
		jerr := json.Unmarshal(b, &m)
		wantOK := json.Valid(b) && jerr == nil && m != nil
		if (err == nil) != wantOK {
			t.Fatalf("scanEnvelope(%q) error = %v, want ok = %v (json.Valid %v, Unmarshal %v)", b, err, wantOK, json.Valid(b), jerr)
		}
		if err != nil {
			return
		}
		for key, got := range map[string][]byte{"event": env.event, "seq": env.seq, "broadcast": env.broadcast, "data": env.data,
			"status": env.status, "seq_reply": env.seqReply, "error": env.errv} {
			if want, ok := exactMember(t, b, key); ok != (got != nil) || !bytes.Equal(got, want) {
				t.Fatalf("scanEnvelope(%q) %s = %q, want %q (present %v)", b, key, got, want, ok)
			}
		}
		n := 0
		err = members(b, func(key, val []byte) error {
			n++
			var k string
			if err := json.Unmarshal(key, &k); err != nil {
				t.Fatalf("members(%q) key %q: %v", b, key, err)
			}
			if !json.Valid(val) {
				t.Fatalf("members(%q) value %q of %q is not valid JSON", b, val, k)
			}
			return nil
		})
		if err != nil || n < len(m) {
			t.Fatalf("members(%q) = %d members, %v; want at least %d, nil", b, n, err, len(m))
		}
	})
}

// exactMember returns the last value of key in the JSON object b, matching
// the key exactly (encoding/json would fold case).
func exactMember(t *testing.T, b []byte, key string) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	if _, err := d.Token(); err != nil { // {
		t.Fatal(err)
	}
	var val []byte
	found := false
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if tok.(string) == key {
			val, found = raw, true
		}
	}
	return val, found
}

func TestScanEnvelopeLimits(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(`{"data":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	tests := []struct {
		name  string
		frame []byte
	}{
		{"deepest allowed", nest(maxDepth - 1)},
		{"too deep", nest(maxDepth)},
		{"escaped key", []byte(`{"\u0065vent":"posted","data":{"post":"{}"},"seq":1}`)},
		{"number forms", []byte(`{"a":[0,-0,1.5,-2e10,3E-2,4e+1],"seq":-1}`)},
		{"bad numbers", []byte(`{"a":[01]}`)},
		{"bad escape", []byte(`{"a":"\x"}`)},
		{"raw control", []byte("{\"a\":\"\t\"}")},
		{"trailing comma", []byte(`{"a":1,}`)},
		{"unterminated", []byte(`{"a":"x`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanEnvelope(tc.frame)
			if want := json.Valid(tc.frame); (err == nil) != want {
				t.Errorf("scanEnvelope(%.40q) error = %v, want ok = %v as json.Valid", tc.frame, err, want)
			}
		})
	}
	ev, _, err := DecodeFrame([]byte(`{"\u0065vent":"typing","data":{"user_id":"u"},"seq":4}`))
	if err != nil || ev.Type != EventTyping || ev.Seq != 4 {
		t.Errorf("DecodeFrame with an escaped key = %+v, %v; want typing seq 4", ev, err)
	}
}
