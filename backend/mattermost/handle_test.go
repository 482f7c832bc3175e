package mattermost

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// recorder is a bot.Handler that keeps what it is given.
type recorder struct {
	connects  int
	messages  []*bot.Message
	reactions []*bot.Reaction
	presences []*bot.Presence
	joins     []*bot.Join
}

func closed() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (r *recorder) HandleConnect(context.Context, bot.User) error { r.connects++; return nil }
func (r *recorder) HandleMessage(m *bot.Message) <-chan struct{} {
	r.messages = append(r.messages, m)
	return closed()
}
func (r *recorder) HandleReaction(x *bot.Reaction) <-chan struct{} {
	r.reactions = append(r.reactions, x)
	return closed()
}
func (r *recorder) HandlePresence(p *bot.Presence) <-chan struct{} {
	r.presences = append(r.presences, p)
	return closed()
}
func (r *recorder) HandleJoin(j *bot.Join) <-chan struct{} {
	r.joins = append(r.joins, j)
	return closed()
}

// offlineBackend is a Backend connected to a fake directory, for
// handling events without a server.
func offlineBackend(self string) *Backend {
	dir := newDirectory(newFakeLookup(), self, dirOptions{})
	me, _ := dir.user(context.Background(), self)
	return &Backend{
		log:     slog.New(slog.DiscardHandler),
		self:    me,
		dir:     dir,
		tr:      &translator{dir: dir, self: self},
		seen:    newWindow(64),
		ignored: newRecent(64),
	}
}

func TestHandleRecordings(t *testing.T) {
	b := offlineBackend(aliceID)
	h := &recorder{}
	for _, f := range []string{"ws_posted_channel.json", "ws_posted_dm.json", "ws_resume_replay.json", "ws_resume_replay.json",
		"ws_user_added.json", "ws_posted_own_thread_reply.json"} {
		for _, ev := range recordedEvents(t, f) {
			if err := b.handle(t.Context(), h, ev); err != nil {
				t.Fatalf("%s: handle(%s): %v", f, ev.Type, err)
			}
		}
	}
	// channel, dm, and the three replayed posts once, though the replay
	// came twice; alice's own reply and the system post are dropped.
	if len(h.messages) != 5 {
		for _, m := range h.messages {
			t.Logf("message %q", m.Text)
		}
		t.Errorf("delivered %d messages, want 5", len(h.messages))
	}
	for _, f := range []string{"ws_reaction_added.json", "ws_reaction_removed.json"} {
		for _, ev := range recordedEvents(t, f) {
			if err := b.handle(t.Context(), h, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(h.reactions) != 2 || h.reactions[0].Emoji != "thumbsup" || h.reactions[0].Room.Name != "ops" ||
		h.reactions[0].User.Username != "bob" || h.reactions[0].Removed || !h.reactions[1].Removed {
		t.Errorf("reactions = %+v, want bob's thumbsup in ~ops added, then one removed", h.reactions)
	}
	if len(h.joins) != 1 || h.joins[0].User.Username != "alice" || h.joins[0].Room.Name != "secret" {
		t.Errorf("joins = %+v, want alice joining ~secret", h.joins)
	}
}

func FuzzHandle(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "ws_*.json"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var rec struct{ Frames []json.RawMessage }
		if err := json.Unmarshal(raw, &rec); err != nil {
			f.Fatal(err)
		}
		for _, fr := range rec.Frames {
			f.Add([]byte(fr))
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		ev, _, err := mm.DecodeFrame(frame)
		if err != nil || ev == nil {
			return
		}
		b := offlineBackend(aliceID)
		if err := b.handle(context.Background(), &recorder{}, ev); err != nil {
			t.Fatalf("handle(%s): %v", ev.Type, err)
		}
	})
}

// countHandler counts the records of each message.
type countHandler struct{ counts map[string]int }

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	h.counts[r.Message]++
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// TestIgnoredBotsLoggedOnce: the posts of another matterbot (marked) and
// of a bot account are not delivered, and each sender is named once in
// the log, however many posts it makes; a person's posts go through.
func TestIgnoredBotsLoggedOnce(t *testing.T) {
	b := offlineBackend(aliceID)
	logs := countHandler{counts: map[string]int{}}
	b.log = slog.New(logs)
	h := &recorder{}
	for i := range 3 {
		for _, p := range []*mm.Post{
			{UserID: bobID, Props: map[string]any{PropReplyTo: "x"}},
			{UserID: adminID, Props: map[string]any{"from_bot": "true"}},
			{UserID: bobID, Message: "a person's post: no mark"},
		} {
			p.ID = mm.NewID()
			p.ChannelID = opsID
			p.CreateAt = int64(1000 + i)
			b.deliver(t.Context(), h, incoming{post: p})
		}
	}
	if len(h.messages) != 3 {
		t.Errorf("delivered %d messages, want bob's 3 unmarked posts", len(h.messages))
	}
	const line = "ignoring the posts of another bot; set allow_bots to answer them"
	if n := logs.counts[line]; n != 2 {
		t.Errorf("%q logged %d times, want twice (once per bot); all: %v", line, n, logs.counts)
	}
}
