package mattermost

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// postSeeds are posts as servers send them (recorded answers and the posts
// inside recorded events) plus the cases the fast decoder must hand back
// to encoding/json.
func postSeeds(t testing.TB) [][]byte {
	t.Helper()
	var seeds [][]byte
	for _, name := range []string{"post_create.json", "post_with_file.json", "post_as_bot_with_attachment.json",
		"post_patch.json", "post_create_in_thread.json", "post_create_dm.json"} {
		seeds = append(seeds, []byte(loadRecorded(t, name).Response.Body))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		for _, frame := range recordedFrames(t, filepath.Base(file)) {
			var f struct {
				Data struct {
					Post string `json:"post"`
				} `json:"data"`
			}
			if json.Unmarshal(frame, &f) == nil && f.Data.Post != "" {
				seeds = append(seeds, []byte(f.Data.Post))
			}
		}
	}
	for _, s := range []string{
		`{}`, ` { "id" : "a" } `, `null`, `[]`, `"x"`, `{"id":"a"} x`, `{"id":"a",}`,
		`{"ID":"a"}`, `{"Id":"a","id":"b"}`, `{"\u0069d":"a"}`, `{"ſ":1}`, `{"unknown":{"deep":[1,{"x":null}]},"id":"a"}`,
		`{"id":5}`, `{"create_at":"5"}`, `{"create_at":1.5}`, `{"create_at":1e3}`, `{"create_at":-0}`,
		`{"create_at":9223372036854775807}`, `{"create_at":9223372036854775808}`, `{"create_at":-9223372036854775808}`,
		`{"is_pinned":"true"}`, `{"is_pinned":null,"id":null}`, `{"is_pinned":true,"is_pinned":false}`,
		`{"message":"caf\u00e9 \ud83d\ude00 \n \"q\" \/"}`, "{\"message\":\"caf\xc3\xa9\"}", "{\"message\":\"bad \xff\"}",
		`{"message":"\ud800"}`, "{\"message\":\"a\tb\"}",
		`{"props":null}`, `{"props":{}}`, `{"props":[]}`, `{"props":"x"}`, `{"props":{"a":1},"props":{"b":2}}`,
		`{"props":{"from_bot":"true","n":-1.5e3,"big":1e400,"l":[],"o":{"x":[true,false,null]},"a":1,"a":2}}`,
		`{"props":{"k\u00e9y":"v","attachments":[{"fields":[{"value":1.5}],"ts":"12"}]}}`,
		`{"file_ids":null}`, `{"file_ids":[]}`, `{"file_ids":["a",null,"b"]}`, `{"file_ids":[1]}`, `{"file_ids":["a"],"file_ids":["b","c"]}`,
		`{"participants":null}`, `{"participants":[null,{"id":"u"}]}`, `{"participants":[],"participants":[{"id":"u"}]}`,
		`{"metadata":null}`, `{"metadata":{}}`, `{"metadata":{ }}`, `{"metadata":{"images":{"a":null}}}`, `{"metadata":{},"metadata":{"embeds":[]}}`,
		`{"metadata":5}`, `{"id":"a","message":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"unknown":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"props":{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// checkPostDecode decodes in with unmarshalPost and with json.Unmarshal,
// into copies of start, and fails if post or error differ.
func checkPostDecode(t *testing.T, start Post, in []byte) {
	t.Helper()
	want, got := start, start
	werr := json.Unmarshal(in, &want)
	gerr := unmarshalPost(in, &got)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("unmarshalPost(%q) error = %v, want %v", in, gerr, werr)
	}
	// reflect.DeepEqual first: cmp.Diff is slow on deeply nested props.
	// Both tell a nil slice or map from an empty one.
	if reflect.DeepEqual(want, got) {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("unmarshalPost(%q) differs from json.Unmarshal (-want +got):\n%s", in, diff)
	}
}

func TestUnmarshalPost(t *testing.T) {
	for i, in := range postSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkPostDecode(t, Post{}, in)
			checkPostDecode(t, Post{ID: "old", CreateAt: 7, IsPinned: true, Message: "old"}, in)
		})
	}
}

// TestUnmarshalPostFast checks that the posts servers send take the fast
// path (the comparison above would pass with encoding/json alone).
func TestUnmarshalPostFast(t *testing.T) {
	for i, in := range postSeeds(t)[:6] {
		var p Post
		if !decodePostFast(in, &p) {
			t.Errorf("recorded post %d: decodePostFast declined it: %s", i, in)
		}
	}
}

// FuzzUnmarshalPost checks the post decoder against encoding/json: the
// same post and the same error for any input, from an empty post and from
// one with fields already set.
func FuzzUnmarshalPost(f *testing.F) {
	for _, s := range postSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkPostDecode(t, Post{}, in)
		checkPostDecode(t, Post{ID: "old", CreateAt: 7, IsPinned: true, Message: "old"}, in)
	})
}

// FuzzUnmarshalStrings checks unmarshalStrings against encoding/json.
func FuzzUnmarshalStrings(f *testing.F) {
	for _, s := range []string{`[]`, `null`, `["a","b"]`, ` [ "a" , null ] `, `["\u00e9"]`, `[1]`, `["a"]x`, `{}`, "[\"\xff\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want, got []string
		werr := json.Unmarshal(in, &want)
		gerr := unmarshalStrings(in, &got)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("unmarshalStrings(%q) error = %v, want %v", in, gerr, werr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("unmarshalStrings(%q) differs from json.Unmarshal (-want +got):\n%s", in, diff)
		}
	})
}

// decodeBroadcast decodes b as DecodeFrame decodes a frame's broadcast.
func decodeBroadcast(b []byte, bc *Broadcast) error {
	return unmarshalFlat(b, bc, []flatField{{"user_id", &bc.UserID}, {"channel_id", &bc.ChannelID},
		{"team_id", &bc.TeamID}, {"connection_id", &bc.ConnectionID}, {"omit_connection_id", &bc.OmitConnectionID}},
		"omit_users", &bc.OmitUsers)
}

// FuzzUnmarshalFlat checks unmarshalFlat against encoding/json, on the
// broadcast (strings and a map of booleans) and on an event of strings.
func FuzzUnmarshalFlat(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, frame := range recordedFrames(f, filepath.Base(file)) {
			var fr struct {
				Broadcast json.RawMessage `json:"broadcast"`
				Data      json.RawMessage `json:"data"`
			}
			if json.Unmarshal(frame, &fr) == nil {
				f.Add([]byte(fr.Broadcast))
				f.Add([]byte(fr.Data))
			}
		}
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"user_id":5}`, `{"User_ID":"a"}`, `{"\u0075ser_id":"a"}`, `{"user_id":"a","user_id":null}`,
		`{"omit_users":{"a":true,"b":false,"c":null}}`, `{"omit_users":{"a":1}}`, `{"omit_users":[]}`, `{"omit_users":{},"omit_users":{"a":true}}`,
		`{"omit_users":null,"channel_id":"c\u00e9"}`, `{"x":[{"y":null}],"team_id":"t"} `, `{"parent_id":"p","status":"s"}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want, got Broadcast
		werr := json.Unmarshal(in, &want)
		gerr := decodeBroadcast(in, &got)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(want, got) {
			t.Fatalf("decode broadcast %q = %+v, %v; want %+v, %v", in, got, gerr, want, werr)
		}
		var wantT, gotT TypingEvent
		werr = json.Unmarshal(in, &wantT)
		gerr = unmarshalFlat(in, &gotT, []flatField{{"user_id", &gotT.UserID}, {"parent_id", &gotT.ParentID}}, "", nil)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || wantT != gotT {
			t.Fatalf("decode typing %q = %+v, %v; want %+v, %v", in, gotT, gerr, wantT, werr)
		}
	})
}

// TestDecodePostedStrings checks the strings of a posted event, made in
// one batch: repeated keys keep the last value (null reads as ""), and
// escapes, UTF-8 and invalid UTF-8 decode as encoding/json decodes them.
func TestDecodePostedStrings(t *testing.T) {
	tests := []struct {
		name, data string
		want       PostedEvent
		wantErr    bool
	}{
		{"plain", `{"channel_name":"ops","channel_display_name":"Ops","channel_type":"O","sender_name":"@bob","team_id":"t"}`,
			PostedEvent{ChannelName: "ops", ChannelDisplayName: "Ops", ChannelType: "O", SenderName: "@bob", TeamID: "t"}, false},
		{"repeated then null", `{"channel_name":"a","channel_name":null}`, PostedEvent{}, false},
		{"null then repeated", `{"channel_name":null,"channel_name":"b","sender_name":"s"}`, PostedEvent{ChannelName: "b", SenderName: "s"}, false},
		{"escaped between plain", `{"channel_name":"a","channel_display_name":"caf\u00e9 \"x\"","sender_name":"@b"}`,
			PostedEvent{ChannelName: "a", ChannelDisplayName: `café "x"`, SenderName: "@b"}, false},
		{"utf-8", `{"channel_display_name":"Café ☕","team_id":"t"}`, PostedEvent{ChannelDisplayName: "Café ☕", TeamID: "t"}, false},
		{"invalid utf-8 repaired", "{\"channel_display_name\":\"a\xffb\",\"channel_name\":\"n\"}", PostedEvent{ChannelDisplayName: "a\ufffdb", ChannelName: "n"}, false},
		{"not a string", `{"team_id":5}`, PostedEvent{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data[:len(tc.data)-1] + `,"post":"{\"id\":\"p\"}"}`
			got, err := decodePosted([]byte(data), nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decodePosted(%q) error = %v, want error %v", data, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got.Post = nil
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("decodePosted(%q) mismatch (-want +got):\n%s", data, diff)
			}
		})
	}
}

func TestEventName(t *testing.T) {
	for _, in := range []string{`"posted"`, `"typing"`, `"preferences_changed"`, `"p\u006fsted"`, `"new_event"`, `""`, `null`, `"caf\u00e9"`} {
		want, werr := envString([]byte(in), "event")
		got, err := eventName([]byte(in))
		if got != want || fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Errorf("eventName(%s) = %q, %v; want %q, %v", in, got, err, want, werr)
		}
	}
}

// TestDecodeFrameScratch decodes every recorded frame through one reused
// scratch buffer, as the WebSocket reader does, and checks each event
// against a fresh decode after all of them: no decoded post may keep a
// reference into the buffer later frames overwrite.
func TestDecodeFrameScratch(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for _, file := range files {
		frames = append(frames, recordedFrames(t, filepath.Base(file))...)
	}
	// First, a post with escapes in every string: the recorded posts
	// that follow overwrite its buffer (its metadata and props first,
	// where they overwrite it).
	long := `{"event":"posted","seq":9,"data":{"post":"{\"id\":\"p\\u00e9\",` +
		`\"metadata\":{\"priority\":{\"priority\":\"urgent\"},\"embeds\":[{\"type\":\"opengraph\",\"data\":{\"x\":\"y\"}}]},` +
		`\"props\":{\"k\\u00e9\":\"v\\n\",\"o\":{\"a\":[\"b\\t\"]}},` +
		`\"message\":\"line\\nline \\\"q\\\" ` + strings.Repeat("x", 3000) + `\"}"}}`
	frames = append([][]byte{[]byte(long)}, frames...)
	var scratch []byte
	type result struct {
		ev  *Event
		err error
	}
	var got []result
	for _, f := range frames {
		ev, _, err := decodeFrame(f, &scratch)
		got = append(got, result{ev, err})
	}
	if cap(scratch) == 0 {
		t.Fatal("scratch buffer never used: the test decodes no escaped post")
	}
	for i, f := range frames {
		want, _, werr := DecodeFrame(f)
		if fmt.Sprint(got[i].err) != fmt.Sprint(werr) {
			t.Errorf("frame %d: decodeFrame error %v, DecodeFrame error %v", i, got[i].err, werr)
		}
		if diff := cmp.Diff(want, got[i].ev); diff != "" {
			t.Errorf("frame %d: decoded through the reused scratch differs (-fresh +reused):\n%s", i, diff)
		}
	}
}

// TestDecodeBotPropsAllocs: the props of a bot's reply cost the map and
// the id of the post answered, not their keys nor "true".
func TestDecodeBotPropsAllocs(t *testing.T) {
	const id = `"id":"p1","user_id":"u1","channel_id":"c1","message":"pong"`
	bare := []byte(`{` + id + `,"props":{}}`)
	marked := []byte(`{` + id + `,"props":{"from_bot":"true","matterbot_reply_to":"` + strings.Repeat("x", 26) + `"}}`)
	allocs := func(b []byte) float64 {
		return testing.AllocsPerRun(100, func() {
			var p Post
			if err := unmarshalPost(b, &p); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The map's slots, the id string and its interface (the map itself
	// is made for "props":{} too).
	if extra := allocs(marked) - allocs(bare); extra > 3 {
		t.Errorf("the props of a bot's reply cost %v allocations more than none, want at most 3", extra)
	}
}
