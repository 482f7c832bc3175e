package mmtest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// wsFrame is one recorded WebSocket event frame.
type wsFrame struct {
	Event     string         `json:"event"`
	Data      map[string]any `json:"data"`
	Broadcast struct {
		OmitUsers map[string]bool `json:"omit_users"`
		UserID    string          `json:"user_id"`
		ChannelID string          `json:"channel_id"`
		TeamID    string          `json:"team_id"`
	} `json:"broadcast"`
}

// TestEventsMatchRecordings performs, through the REST API, the action of
// each ws_* recording made by a REST call, and checks that the server
// published every recorded event with the same broadcast scope, the same
// data keys, the same field set inside the JSON-string values (post,
// reaction, channel) and the same stable values.
func TestEventsMatchRecordings(t *testing.T) {
	postAsBob := func(msg, channel string) func(rp *replay) {
		return func(rp *replay) {
			rp.mustSend(t, "POST", "/posts", "bob", fmt.Sprintf(`{"channel_id":%q,"message":%q}`, rp.ids[channel], msg), 201)
		}
	}
	tests := []struct {
		name string
		act  func(rp *replay)
	}{
		{"ws_posted_channel", postAsBob("hello @alice ~ops", recOps)},
		{"ws_posted_dm", postAsBob("!echo dm", recDM)},
		{"ws_posted_group", postAsBob("hi group", recGM)},
		{"ws_posted_with_file", func(rp *replay) {
			fid := rp.upload(t, rp.tokens["bob"], rp.ids[recOps], "report.txt", "hello file\n")
			rp.mustSend(t, "POST", "/posts", "bob", fmt.Sprintf(`{"channel_id":%q,"message":"see file","file_ids":[%q]}`, rp.ids[recOps], fid), 201)
		}},
		{"ws_posted_bot_attachment", func(rp *replay) {
			rp.mustSend(t, "POST", "/posts", "bot", rp.recordedBody(t, "post_as_bot_with_attachment"), 201)
		}},
		{"ws_posted_from_hook", func(rp *replay) {
			rp.mustSend(t, "POST", "/hooks/"+rp.ids["<hook_id>"], "", rp.recordedBody(t, "hook_post"), 200)
		}},
		{"ws_post_edited", func(rp *replay) {
			rp.mustSend(t, "PUT", "/posts/"+rp.ids[recRoot]+"/patch", "bob", `{"message":"edited"}`, 200)
		}},
		{"ws_post_deleted", func(rp *replay) {
			rp.mustSend(t, "PUT", "/posts/"+rp.ids[recRoot]+"/patch", "bob", `{"message":"edited"}`, 200)
			rp.drain()
			rp.mustSend(t, "DELETE", "/posts/"+rp.ids[recRoot], "bob", "", 200)
		}},
		{"ws_reaction_added", func(rp *replay) {
			rp.mustSend(t, "POST", "/reactions", "bob", rp.recordedBody(t, "reaction_add"), 200)
		}},
		{"ws_reaction_removed", func(rp *replay) {
			rp.mustSend(t, "POST", "/reactions", "bob", fmt.Sprintf(`{"user_id":%q,"post_id":%q,"emoji_name":"tada"}`, rp.ids[recBob], rp.ids[recFilePst]), 200)
			rp.drain()
			rp.mustSend(t, "DELETE", "/users/"+rp.ids[recBob]+"/posts/"+rp.ids[recFilePst]+"/reactions/tada", "bob", "", 200)
		}},
		{"ws_typing", func(rp *replay) {
			rp.mustSend(t, "POST", "/users/"+rp.ids[recBob]+"/typing", "bob", rp.recordedBody(t, "typing_rest"), 200)
		}},
		{"ws_channel_updated", func(rp *replay) {
			rp.mustSend(t, "PUT", "/channels/"+rp.ids[recOps]+"/patch", "bob", `{"header":"ops header"}`, 200)
		}},
		{"ws_user_added", func(rp *replay) {
			rp.mustSend(t, "POST", "/channels/"+rp.ids[recPub]+"/members", "bob", fmt.Sprintf(`{"user_id":%q}`, rp.ids[recAlice]), 201)
		}},
		{"ws_user_removed", func(rp *replay) {
			rp.mustSend(t, "POST", "/channels/"+rp.ids[recPub]+"/members", "bob", fmt.Sprintf(`{"user_id":%q}`, rp.ids[recAlice]), 201)
			rp.drain()
			rp.mustSend(t, "DELETE", "/channels/"+rp.ids[recPub]+"/members/"+rp.ids[recAlice], "bob", "", 200)
		}},
		{"ws_posted_ephemeral_from_admin", func(rp *replay) {
			rp.mustSend(t, "POST", "/posts/ephemeral", "sysadmin", rp.recordedBody(t, "post_ephemeral_as_admin"), 201)
		}},
		{"ws_posted_own_thread_reply", func(rp *replay) {
			rp.mustSend(t, "POST", "/posts", "alice", rp.recordedBody(t, "post_create_in_thread"), 201)
		}},
		// Recorded with no frame at all: the group existed already (the
		// seeded one, as channel_group.json answers it), and the bot may
		// not send ephemeral posts (post_ephemeral_as_bot.json).
		{"ws_group_added", func(rp *replay) {
			rp.mustSend(t, "POST", "/channels/group", "bob", rp.recordedBody(t, "channel_group"), 201)
		}},
		{"ws_posted_ephemeral", func(rp *replay) {
			rp.mustSend(t, "POST", "/posts/ephemeral", "bot", rp.recordedBody(t, "post_ephemeral_as_bot"), 403)
		}},
		{"ws_posted_pending_twice", func(rp *replay) {
			body := rp.recordedBody(t, "post_pending_first")
			rp.mustSend(t, "POST", "/posts", "alice", body, 201)
			rp.mustSend(t, "POST", "/posts", "alice", body, 201)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile("testdata/recorded/" + tc.name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var rec struct {
				Frames []wsFrame `json:"frames"`
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			name := tc.name
			if name == "ws_post_deleted" || name == "ws_posted_own_thread_reply" {
				// No seeded reply on the root: the reply is this case's
				// own, and the recorded pre-delete snapshot says
				// reply_count 0.
				name = "post_create_in_thread"
			}
			rp := newReplay(t, name, nil)
			tc.act(rp)
			got := rp.drain()
			if len(rec.Frames) == 0 {
				for _, e := range got {
					if rp.reaches(e, rp.ids[recAlice]) {
						t.Errorf("published %s to alice, whose socket recorded nothing", e.name)
					}
				}
				return
			}
			// The recorded frames are what alice's socket received: keep
			// the events that would reach her.
			i := 0
			for _, want := range rec.Frames {
				if want.Event == "" {
					continue
				}
				for i < len(got) && !rp.matches(got[i], want) {
					i++
				}
				if i == len(got) {
					t.Fatalf("no %s event with broadcast %+v among %s", want.Event, want.Broadcast, names(got))
				}
				compareEvent(t, rp, want, got[i])
				i++
			}
		})
	}
}

func names(evs []event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.name)
	}
	return strings.Join(s, ",")
}

// reaches reports whether e would be delivered to userID
// (ShouldSendEvent: user, then channel or team membership, less
// omit_users).
func (rp *replay) reaches(e event, userID string) bool {
	s := rp.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case e.omitUsers[userID]:
		return false
	case e.userID != "":
		return e.userID == userID
	case e.channelID != "":
		return s.st.isChannelMember(e.channelID, userID)
	case e.teamID != "":
		return s.st.isTeamMember(e.teamID, userID)
	}
	return true
}

// matches reports whether e has want's name and broadcast scope.
func (rp *replay) matches(e event, want wsFrame) bool {
	b := want.Broadcast
	if e.name != want.Event || e.userID != rp.mapIDs(b.UserID) || e.channelID != rp.mapIDs(b.ChannelID) || e.teamID != rp.mapIDs(b.TeamID) {
		return false
	}
	if len(e.omitUsers) != len(b.OmitUsers) {
		return false
	}
	for u := range b.OmitUsers {
		if !e.omitUsers[rp.mapIDs(u)] {
			return false
		}
	}
	return true
}

// jsonStringKeys are data values the server sends as JSON strings.
var jsonStringKeys = map[string]bool{"post": true, "reaction": true, "channel": true}

func compareEvent(t *testing.T, rp *replay, want wsFrame, got event) {
	t.Helper()
	for k := range want.Data {
		if _, ok := got.data[k]; !ok {
			t.Errorf("%s: data.%s missing", want.Event, k)
		}
	}
	for k := range got.data {
		if _, ok := want.Data[k]; !ok {
			t.Errorf("%s: data.%s extra", want.Event, k)
		}
	}
	for k, wv := range want.Data {
		gv := got.data[k]
		if jsonStringKeys[k] {
			ws, _ := wv.(string)
			gs, ok := gv.(string)
			if !ok {
				t.Errorf("%s: data.%s is %T, want a JSON string", want.Event, k, gv)
				continue
			}
			var wobj, gobj any
			if json.Unmarshal([]byte(ws), &wobj) != nil || json.Unmarshal([]byte(gs), &gobj) != nil {
				t.Errorf("%s: data.%s not JSON: %q", want.Event, k, gs)
				continue
			}
			var diffs []string
			diffShape(k, wobj, gobj, &diffs)
			for _, d := range diffs {
				t.Errorf("%s: %s", want.Event, d)
			}
			checkValues(t, rp, want.Event+"."+k, wobj, gobj)
			continue
		}
		switch k {
		case "channel_name":
			if strings.Contains(wv.(string), "__") || want.Data["channel_type"] == "G" {
				continue // made of ids
			}
		case "mentions", "teammate_ids":
			wv = rp.mapIDs(wv.(string))
		}
		if s, ok := wv.(string); ok {
			wv = rp.mapIDs(s)
		}
		if !jsonEqual(wv, gv) {
			t.Errorf("%s: data.%s = %v, want %v", want.Event, k, gv, wv)
		}
	}
}

// mustSend sends body (a JSON string, or "" for none) as caller and checks
// the status.
func (rp *replay) mustSend(t *testing.T, method, path, caller, body string, want int) {
	t.Helper()
	var b any
	if body != "" {
		b = []byte(body)
	}
	status, got := rp.send(t, method, path, rp.tokens[caller], b)
	if status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, status, got, want)
	}
}

// recordedBody returns the request body of a REST recording, ids mapped.
func (rp *replay) recordedBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/recorded/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var rec recording
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rp.mapIDs(string(rec.Request.Body))
}

// drain returns the events published so far. Requests publish before they
// answer, so after a request returns its events are all here.
func (rp *replay) drain() []event {
	var evs []event
	for {
		select {
		case e := <-rp.events:
			evs = append(evs, e)
		default:
			return evs
		}
	}
}
