package mattermost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// Ids of the recordings in testdata (a 5.36 server): alice is the user
// whose socket recorded them, and plays the bot here.
const (
	aliceID  = "t7boqukfst88jmcu3mgp8jtrme"
	bobID    = "tyer6idrmintxmut89i49pydjh"
	botID    = "6is3m41xxb8p9gkg474uqxtqaa"
	adminID  = "jgjux68grjye3jr6e3azqjatrc"
	teamID   = "g4abhgi4hfb3xqdwp4ixd58t4r"
	opsID    = "eofczhjqg7d4pd5iz5pcjmmjfo"
	dmID     = "5g5stom4x3f8ikrcy6huy6wpnw"
	groupID  = "8r9k3ddu1jfkdjjs4cdbzk7bio"
	secretID = "188iztdi8fg6pytd39mjid798c"
)

// fakeLookup is a lookup over maps that counts its calls.
type fakeLookup struct {
	mu       sync.Mutex
	users    map[string]*mm.User
	channels map[string]*mm.Channel
	teams    map[string]*mm.Team
	calls    int
}

func newFakeLookup() *fakeLookup {
	f := &fakeLookup{users: map[string]*mm.User{}, channels: map[string]*mm.Channel{}, teams: map[string]*mm.Team{}}
	for _, u := range []*mm.User{
		{ID: aliceID, Username: "alice"},
		{ID: bobID, Username: "bob", FirstName: "Bob", LastName: "Builder"},
		{ID: botID, Username: "matterbot-bot", Nickname: "The Bot", IsBot: true},
		{ID: adminID, Username: "admin"},
	} {
		f.users[u.ID] = u
	}
	for _, c := range []*mm.Channel{
		{ID: opsID, TeamID: teamID, Type: "O", Name: "ops", DisplayName: "Ops"},
		{ID: secretID, TeamID: teamID, Type: "P", Name: "secret"},
		{ID: dmID, Type: "D", Name: aliceID + "__" + bobID},
		{ID: groupID, Type: "G", Name: "40bb2a2a44f0d47287885db355b086b6e55af470"},
	} {
		f.channels[c.ID] = c
	}
	f.teams[teamID] = &mm.Team{ID: teamID, Name: "testteam"}
	return f
}

func (f *fakeLookup) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func find[T any](f *fakeLookup, m map[string]*T, match func(*T) bool, what string) (*T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for _, v := range m {
		if match(v) {
			cp := *v
			return &cp, nil
		}
	}
	return nil, &mm.APIError{StatusCode: 404, ID: "not_found", Message: what}
}

func (f *fakeLookup) user(_ context.Context, id string) (*mm.User, error) {
	return find(f, f.users, func(u *mm.User) bool { return u.ID == id }, "user "+id)
}
func (f *fakeLookup) usersByIDs(_ context.Context, ids []string) ([]*mm.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var out []*mm.User
	for _, id := range ids {
		if u := f.users[id]; u != nil {
			cp := *u
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (f *fakeLookup) userByName(_ context.Context, name string) (*mm.User, error) {
	return find(f, f.users, func(u *mm.User) bool { return u.Username == name }, "user "+name)
}
func (f *fakeLookup) channel(_ context.Context, id string) (*mm.Channel, error) {
	return find(f, f.channels, func(c *mm.Channel) bool { return c.ID == id }, "channel "+id)
}
func (f *fakeLookup) channelByName(_ context.Context, team, name string) (*mm.Channel, error) {
	return find(f, f.channels, func(c *mm.Channel) bool { return c.TeamID == team && c.Name == name }, "channel "+name)
}
func (f *fakeLookup) team(_ context.Context, id string) (*mm.Team, error) {
	return find(f, f.teams, func(t *mm.Team) bool { return t.ID == id }, "team "+id)
}
func (f *fakeLookup) teamByName(_ context.Context, name string) (*mm.Team, error) {
	return find(f, f.teams, func(t *mm.Team) bool { return t.Name == name }, "team "+name)
}

// recordedEvents decodes the events of a recording in testdata.
func recordedEvents(t *testing.T, name string) []*mm.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Frames []json.RawMessage }
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var evs []*mm.Event
	for _, fr := range rec.Frames {
		ev, _, err := mm.DecodeFrame(fr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev != nil {
			evs = append(evs, ev)
		}
	}
	return evs
}

// recordedPost returns the first posted event of a recording.
func recordedPost(t *testing.T, name string) *mm.PostedEvent {
	t.Helper()
	for _, ev := range recordedEvents(t, name) {
		if p, ok := ev.Payload.(*mm.PostedEvent); ok {
			return p
		}
	}
	t.Fatalf("%s: no posted event", name)
	return nil
}

func TestMessageFromRecordings(t *testing.T) {
	bob := bot.User{ID: bobID, Username: "bob", FullName: "Bob Builder"}
	ops := bot.Room{ID: opsID, Name: "ops", Team: "testteam", Kind: bot.RoomChannel}
	tests := []struct {
		name          string
		file          string
		allowBots     bool
		allowWebhooks bool
		want          *bot.Message // nil: dropped
	}{
		{
			name: "channel",
			file: "ws_posted_channel.json",
			want: &bot.Message{From: bob, Room: ops, Text: "hello @alice ~ops", Mentions: []string{"alice"},
				RoomMentions: []bot.Room{ops}},
		},
		{
			name: "direct",
			file: "ws_posted_dm.json",
			// The server lists alice (the bot here) as mentioned in a DM.
			want: &bot.Message{
				From: bob, Room: bot.Room{ID: dmID, Name: aliceID + "__" + bobID, Kind: bot.RoomDirect},
				Direct: true, Text: "!echo dm", Mentions: []string{"alice"},
			},
		},
		{
			name: "group",
			file: "ws_posted_group.json",
			want: &bot.Message{
				From: bob, Room: bot.Room{ID: groupID, Name: "40bb2a2a44f0d47287885db355b086b6e55af470", Kind: bot.RoomGroup},
				Text: "hi group",
			},
		},
		{
			name: "file",
			file: "ws_posted_with_file.json",
			want: &bot.Message{
				From: bob, Room: ops, Text: "see file",
				Files: []bot.FileRef{{ID: "f9srhq8qipgouctf4qqm61x5ie", Name: "report.txt", Size: 11, MIME: "text/plain; charset=utf-8"}},
			},
		},
		{name: "own thread reply", file: "ws_posted_own_thread_reply.json"},
		{name: "bot", file: "ws_posted_bot_attachment.json"},
		{
			name: "bot allowed", file: "ws_posted_bot_attachment.json", allowBots: true,
			want: &bot.Message{
				From: bot.User{ID: botID, Username: "matterbot-bot", FullName: "The Bot", Bot: true},
				Room: ops,
			},
		},
		{name: "webhook", file: "ws_posted_from_hook.json"},
		{
			name: "webhook allowed", file: "ws_posted_from_hook.json", allowWebhooks: true,
			want: &bot.Message{From: bot.User{ID: adminID, Username: "admin"}, Room: ops, Text: "from hook"},
		},
		{name: "system", file: "ws_user_added.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeLookup()
			tr := &translator{dir: newDirectory(api, aliceID, dirOptions{}), self: aliceID, allowBots: tc.allowBots, allowWebhooks: tc.allowWebhooks}
			ev := recordedPost(t, tc.file)
			got, err := tr.message(t.Context(), fromEvent(ev))
			if err != nil {
				t.Fatalf("message: %v", err)
			}
			if tc.want != nil {
				tc.want.ID = ev.Post.ID
				tc.want.ThreadID = ev.Post.RootID
				tc.want.Time = time.UnixMilli(ev.Post.CreateAt)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("message(%s) mismatch (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

func TestMessageThread(t *testing.T) {
	tr := &translator{dir: newDirectory(newFakeLookup(), botID, dirOptions{}), self: botID}
	ev := recordedPost(t, "ws_posted_own_thread_reply.json") // alice's post, not ours here
	got, err := tr.message(t.Context(), fromEvent(ev))
	if err != nil || got == nil {
		t.Fatalf("message = %v, %v; want a message", got, err)
	}
	if got.ThreadID != "g77s5139uin4tcxikynebsumua" || got.Direct {
		t.Errorf("ThreadID, Direct = %q, %v; want the root id, false", got.ThreadID, got.Direct)
	}
}

func TestMessageNoRESTForKnownSender(t *testing.T) {
	api := newFakeLookup()
	dir := newDirectory(api, aliceID, dirOptions{})
	dir.putUser(api.users[aliceID]) // as connect does with the bot's user
	tr := &translator{dir: dir, self: aliceID}
	ev := recordedPost(t, "ws_posted_channel.json")
	// Without its "~ops", whose lookup TestRoomMentions counts.
	ev.Post.Message, ev.Post.Props = "hello @alice", nil
	if _, err := tr.message(t.Context(), fromEvent(ev)); err != nil {
		t.Fatal(err)
	}
	first := api.count()
	if first != 2 { // the sender and the team; the event names the channel
		t.Errorf("first message made %d lookups, want 2", first)
	}
	for range 3 {
		if _, err := tr.message(t.Context(), fromEvent(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if n := api.count() - first; n != 0 {
		t.Errorf("known sender and channel made %d lookups, want 0", n)
	}
	// A post read over REST (no event) looks its channel up once.
	in := incoming{post: ev.Post}
	for range 2 {
		m, err := tr.message(t.Context(), in)
		if err != nil || m.Room.Name != "ops" || m.Room.Team != "testteam" {
			t.Fatalf("message = %+v, %v; want room ~testteam/ops", m, err)
		}
	}
	if n := api.count() - first; n != 1 {
		t.Errorf("catch-up post made %d lookups, want 1", n)
	}
}

func TestMessageUnknownSender(t *testing.T) {
	tr := &translator{dir: newDirectory(newFakeLookup(), aliceID, dirOptions{}), self: aliceID}
	p := &mm.Post{ID: "p1", UserID: "nobodynobodynobodynobodyxx", ChannelID: opsID, Message: "hi"}
	_, err := tr.message(t.Context(), incoming{post: p})
	if err == nil {
		t.Fatal("message from an unknown user: no error")
	}
}

func TestSkip(t *testing.T) {
	tests := []struct {
		name string
		post mm.Post
		want string
	}{
		{"plain", mm.Post{UserID: bobID}, ""},
		{"own", mm.Post{UserID: aliceID}, skipOwn},
		{"own marked", mm.Post{UserID: aliceID, Props: map[string]any{PropReplyTo: "p1"}}, skipOwn},
		{"join", mm.Post{UserID: bobID, Type: "system_join_channel"}, skipSystem},
		{"ephemeral", mm.Post{UserID: bobID, Type: mm.PostTypeEphemeral}, skipSystem},
		{"deleted", mm.Post{UserID: bobID, DeleteAt: 1}, skipDeleted},
		{"from_bot", mm.Post{UserID: bobID, Props: map[string]any{"from_bot": "true"}}, skipBot},
		{"from_bot false", mm.Post{UserID: bobID, Props: map[string]any{"from_bot": "false"}}, ""},
		{"from_webhook", mm.Post{UserID: bobID, Props: map[string]any{"from_webhook": "true"}}, skipWebhook},
		{"from_plugin bool", mm.Post{UserID: bobID, Props: map[string]any{"from_plugin": true}}, skipWebhook},
		{"another matterbot", mm.Post{UserID: bobID, Props: map[string]any{PropReplyTo: "p1"}}, skipPeer},
		{"another matterbot, unprompted", mm.Post{UserID: bobID, Props: map[string]any{PropReplyTo: ""}}, skipPeer},
		{"another matterbot on a bot account", mm.Post{UserID: bobID, Props: map[string]any{PropReplyTo: "p1", "from_bot": "true"}}, skipPeer},
		{"me", mm.Post{UserID: bobID, Type: mm.PostTypeMe}, ""},
	}
	tr := &translator{self: aliceID}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tr.skip(&tc.post); got != tc.want {
				t.Errorf("skip(%+v) = %q, want %q", tc.post, got, tc.want)
			}
		})
	}
	ignoring := &translator{self: aliceID, ignored: map[string]bool{bobID: true}}
	if got := ignoring.skip(&mm.Post{UserID: bobID}); got != skipIgnored {
		t.Errorf("skip(a post of an ignored user) = %q, want %q", got, skipIgnored)
	}
	allowed := &translator{self: aliceID, allowBots: true, allowWebhooks: true}
	for _, p := range []mm.Post{
		{UserID: bobID, Props: map[string]any{PropReplyTo: "p1"}},
		{UserID: bobID, Props: map[string]any{"from_bot": "true"}},
		{UserID: bobID, Props: map[string]any{"from_webhook": "true"}},
	} {
		if got := allowed.skip(&p); got != "" {
			t.Errorf("skip(%v) with bots and webhooks allowed = %q, want \"\"", p.Props, got)
		}
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"hello @alice ~ops", []string{"alice"}},
		{"@Bob, @bob and @carol.", []string{"bob", "carol"}},
		{"mail bob@example.com", nil},
		{"@first.last-name_x: hi", []string{"first.last-name_x"}},
		{"@ @. @-x @all", []string{"all"}},
		{"", nil},
		{"ask `@alice` or @bob", []string{"bob"}},
		{"``code with ` and @alice`` @carol", []string{"carol"}},
		{"lone ` tick @alice", []string{"alice"}},
		{"```\n@alice in a block\n```\n@bob after", []string{"bob"}},
		{"~~~sh\necho @alice\n", nil}, // an unclosed fence runs to the end
		{"    @alice indented\n@bob", []string{"alice", "bob"}},
	}
	for _, tc := range tests {
		if got := mentions(tc.text); !cmp.Equal(got, tc.want) {
			t.Errorf("mentions(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestDirectoryEvents(t *testing.T) {
	api := newFakeLookup()
	d := newDirectory(api, aliceID, dirOptions{})
	ctx := t.Context()
	mustUser := func(name string) *mm.User {
		t.Helper()
		u, err := d.userByName(ctx, name)
		if err != nil {
			t.Fatalf("userByName(%q): %v", name, err)
		}
		return u
	}

	// A rename is seen by id and by the new name, and the old name is
	// forgotten, without a REST call.
	mustUser("bob")
	n := api.count()
	api.users[bobID].Username = "robert" // the server's side of the rename
	d.apply(&mm.Event{Type: mm.EventUserUpdated, Payload: &mm.UserUpdatedEvent{User: &mm.User{ID: bobID, Username: "robert"}}})
	if u := mustUser("robert"); u.ID != bobID {
		t.Errorf("userByName(robert).ID = %q, want %q", u.ID, bobID)
	}
	if u, _ := d.user(ctx, bobID); u.Username != "robert" {
		t.Errorf("user(bob's id).Username = %q, want robert", u.Username)
	}
	if got := api.count() - n; got != 0 {
		t.Errorf("lookups after rename = %d, want 0", got)
	}
	if _, err := d.userByName(ctx, "bob"); err == nil {
		t.Error("old name bob still resolves after the rename")
	}

	// A channel renamed by channel_updated, then archived.
	if _, err := d.channelByName(ctx, teamID, "ops"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range recordedEvents(t, "ws_channel_updated.json") {
		d.apply(ev)
	}
	renamed := &mm.Channel{ID: opsID, TeamID: teamID, Type: "O", Name: "operations"}
	api.channels[opsID].Name = "operations"
	d.apply(&mm.Event{Type: mm.EventChannelUpdated, Payload: &mm.ChannelUpdatedEvent{Channel: renamed}})
	n = api.count()
	if ch, err := d.channelByName(ctx, teamID, "operations"); err != nil || ch.ID != opsID {
		t.Errorf("channelByName(operations) = %v, %v; want ops's id", ch, err)
	}
	if api.count() != n {
		t.Error("renamed channel looked up over REST")
	}
	if _, err := d.channelByName(ctx, teamID, "ops"); err == nil {
		t.Error("old channel name still resolves")
	}
	d.apply(&mm.Event{Type: mm.EventChannelDeleted, Payload: &mm.ChannelDeletedEvent{ChannelID: opsID, DeleteAt: 42}})
	if ch, _ := d.channel(ctx, opsID); ch.DeleteAt != 42 || renamed.DeleteAt != 0 {
		t.Errorf("archived channel DeleteAt = %d (event value %d); want 42, event untouched", ch.DeleteAt, renamed.DeleteAt)
	}
}

func TestDirectoryMembership(t *testing.T) {
	d := newDirectory(newFakeLookup(), aliceID, dirOptions{})
	for _, f := range []string{"ws_user_added.json", "ws_posted_dm.json", "ws_posted_group.json"} {
		for _, ev := range recordedEvents(t, f) {
			d.apply(ev)
		}
	}
	d.apply(&mm.Event{Type: mm.EventUserAdded, Payload: &mm.UserAddedEvent{UserID: bobID, ChannelID: "someoneelseschannelxxxxxxx"}})
	want := []string{secretID, dmID, groupID}
	if diff := cmp.Diff(sorted(want), d.myChannels()); diff != "" {
		t.Errorf("myChannels after joins (-want +got):\n%s", diff)
	}
	for _, ev := range recordedEvents(t, "ws_user_removed.json") {
		d.apply(ev)
	}
	if diff := cmp.Diff(sorted([]string{dmID, groupID}), d.myChannels()); diff != "" {
		t.Errorf("myChannels after removal (-want +got):\n%s", diff)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestDirectoryConcurrent(t *testing.T) {
	api := newFakeLookup()
	d := newDirectory(api, aliceID, dirOptions{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if _, err := d.user(t.Context(), bobID); err != nil {
					t.Error(err)
				}
				d.apply(&mm.Event{Payload: &mm.UserUpdatedEvent{User: &mm.User{ID: bobID, Username: fmt.Sprintf("bob%d", (i+j)%3)}}})
				_, _ = d.userByName(t.Context(), "bob1")
			}
		})
	}
	wg.Wait()
}

// BenchmarkMessage measures the backend's share of the hot path: a
// recorded posted frame decoded and turned into a bot.Message, sender and
// team cached.
func BenchmarkMessage(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "ws_posted_channel.json"))
	if err != nil {
		b.Fatal(err)
	}
	var rec struct{ Frames []json.RawMessage }
	if err := json.Unmarshal(raw, &rec); err != nil {
		b.Fatal(err)
	}
	frame := []byte(rec.Frames[0])
	tr := &translator{dir: newDirectory(newFakeLookup(), aliceID, dirOptions{}), self: aliceID}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf := append([]byte(nil), frame...) // DecodeFrame keeps the frame
		ev, _, err := mm.DecodeFrame(buf)
		if err != nil {
			b.Fatal(err)
		}
		m, err := tr.message(ctx, fromEvent(ev.Payload.(*mm.PostedEvent)))
		if err != nil || m == nil {
			b.Fatalf("message = %v, %v", m, err)
		}
	}
}

func FuzzMentions(f *testing.F) {
	for _, s := range []string{"hello @alice ~ops", "@Bob, @bob and @carol.", "a@b @-x @", "@\u00e9t\u00e9 @x.y."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		seen := map[string]bool{}
		for _, name := range mentions(text) {
			if name == "" || seen[name] || strings.HasSuffix(name, ".") || name != strings.ToLower(name) {
				t.Fatalf("mentions(%q) gave %q", text, name)
			}
			if !strings.Contains(strings.ToLower(text), "@"+name) {
				t.Fatalf("mentions(%q) gave %q, not in the text", text, name)
			}
			seen[name] = true
		}
	})
}
