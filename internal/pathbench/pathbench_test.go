package pathbench

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestID(t *testing.T) {
	tests := []struct {
		in     string
		marker string
		want   int
		ok     bool
	}{
		{`{"message":"!echo bench-42"}`, CommandMarker, 42, true},
		{`"message":"bench-7","channel_id":"x"`, ReplyMarker, 7, true},
		{`"message":"bench-"`, ReplyMarker, 0, false},
		{`"message":"other"`, ReplyMarker, 0, false},
		{`!echo bench-99999999999999999999999`, CommandMarker, 0, false},
		{``, CommandMarker, 0, false},
	}
	for _, tc := range tests {
		got, ok := ID([]byte(tc.in), tc.marker)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ID(%q, %q) = %d, %v, want %d, %v", tc.in, tc.marker, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzID(f *testing.F) {
	f.Add([]byte(`{"message":"!echo bench-42"}`))
	f.Add([]byte(`!echo bench-`))
	f.Add([]byte(`!echo bench--1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := ID(b, CommandMarker)
		if !ok {
			return
		}
		i := bytes.Index(b, []byte(CommandMarker)) + len(CommandMarker)
		if id < 0 || i >= len(b) || b[i] < '0' || b[i] > '9' {
			t.Errorf("ID(%q) = %d, true: want a non-negative id from the digits after the marker", b, id)
		}
		if again, ok := ID([]byte(CommandMarker+strconv.Itoa(id)), CommandMarker); !ok || again != id {
			t.Errorf("ID of command %d = %d, %v", id, again, ok)
		}
	})
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(5), 99, 5 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 50, 3 * time.Millisecond},
		{"p99 of 100", ms(make([]int, 99)...), 99, 0},
		{"p100 clamps", ms(1, 2), 100, 2 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(%v, %d) = %v, want %v", tc.name, tc.sorted, tc.p, got, tc.want)
		}
	}
}

// world is a fake with alice and a bot in a channel, served by pathbench,
// and a minimal client answering as the bot.
type world struct {
	fake  *mmtest.Server
	s     *Server
	alice *mm.User
	ch    *mm.Channel
	token string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{fake: mmtest.New(nil)}
	t.Cleanup(w.fake.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	team, err := w.fake.AddTeam("bench", "Bench")
	must(err)
	w.alice, err = w.fake.AddUser(mmtest.User{Username: "alice"})
	must(err)
	b, err := w.fake.AddBot("benchbot", "Bench Bot", w.alice.ID)
	must(err)
	w.ch, err = w.fake.AddChannel(team.ID, "bench", "Bench", mm.ChannelOpen)
	must(err)
	for _, id := range []string{w.alice.ID, b.ID} {
		must(w.fake.AddTeamMember(team.ID, id))
		must(w.fake.AddChannelMember(w.ch.ID, id))
	}
	w.token, err = w.fake.CreateToken(b.ID, "bench")
	must(err)
	w.s, err = Start(w.fake)
	must(err)
	t.Cleanup(w.s.Close)
	return w
}

// reply posts text as the bot.
func (w *world) reply(t *testing.T, text string) {
	t.Helper()
	c, err := mm.NewClient(w.s.URL, mm.Secret(w.token), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CreatePost(context.Background(), &mm.Post{ChannelID: w.ch.ID, Message: text}); err != nil {
		t.Fatal(err)
	}
}

// echo connects as the bot and answers every command with its reply,
// times copies, until ctx is done.
func (w *world) echo(t *testing.T, ctx context.Context, copies int) <-chan struct{} {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.s.URL, "http")+"/api/v4/websocket",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.token}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, hello, err := ws.Read(ctx); err != nil || !bytes.Contains(hello, []byte(`"hello"`)) {
		t.Fatalf("want a hello frame, got %q, %v", hello, err)
	}
	c, err := mm.NewClient(w.s.URL, mm.Secret(w.token), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ws.CloseNow()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if id, ok := ID(b, CommandMarker); ok {
				for range copies { // all of them, even once ctx is done
					_, _, _ = c.CreatePost(context.WithoutCancel(ctx), &mm.Post{ChannelID: w.ch.ID, Message: "bench-" + strconv.Itoa(id)})
				}
			}
		}
	}()
	return done
}

func TestServerTimesCommands(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	echoed := w.echo(t, ctx, 1)
	defer func() { cancel(); <-echoed }()
	for range 3 {
		c := w.s.NewCommand()
		if _, err := w.fake.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ch.ID, Message: c.Text()}); err != nil {
			t.Fatal(err)
		}
		tm, err := w.s.Wait(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if tm.Written.IsZero() || tm.Arrived.Before(tm.Written) || tm.Added() < 0 {
			t.Errorf("command %d: timing %+v; want written, then arrived", c.ID, tm)
		}
	}
	if err := w.s.Check(); err != nil {
		t.Errorf("Check() = %v, want nil", err)
	}
}

func TestServerCheck(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	echoed := w.echo(t, ctx, 2) // every command answered twice
	defer func() { cancel(); <-echoed }()
	c := w.s.NewCommand()
	if _, err := w.fake.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ch.ID, Message: c.Text()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Wait(ctx, c); err != nil {
		t.Fatal(err)
	}
	w.reply(t, "bench-999") // to no command
	w.s.NewCommand()        // never sent
	cancel()
	<-echoed // both copies posted
	err := w.s.Check()
	for _, want := range []string{"command 1 answered 2 times", "reply to unknown command 999", "command 2 not answered"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to report %q", err, want)
		}
	}
}

func TestWaitTimesOut(t *testing.T) {
	w := newWorld(t)
	synctest.Test(t, func(t *testing.T) {
		c := w.s.NewCommand() // no one answers: the fake clock runs to the timeout
		if _, err := w.s.Wait(context.Background(), c); err == nil || !strings.Contains(err.Error(), "no reply to command 1 in 30s") {
			t.Errorf("Wait with no bot = %v, want no reply in 30s", err)
		}
	})
	w.s.Close()
	w.s.Close() // idempotent
}
