package mattermost_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// fastRetry is the retry policy of the e2e tests: the production
// schedule scaled down timeScale times (5ms doubling to 75ms; the
// client's own retries from 2.5ms), so that a fault costs milliseconds,
// not seconds.
// MaxTotal keeps its default (2m): on a loaded machine a reply is
// delayed, never given up on.
func fastRetry() mmbackend.RetryPolicy {
	return mmbackend.RetryPolicy{Base: mmbackend.DefaultRetryBase / timeScale, Max: mmbackend.DefaultRetryMax / timeScale}
}

// timeScale is how much faster than in production the e2e tests' retry
// and rate-limit waits run.
const timeScale = 200

// warm has each user say one command, so that the bot knows them and
// its later requests are replies only.
func warm(t *testing.T, w *world, users []*mm.User, chans []*mm.Channel) {
	t.Helper()
	for i, u := range users {
		if _, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: chans[i].ID, Message: "!echo warm"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans {
		w.replyText(ch, "warm")
	}
}

// send has users[i] send n commands in chans[i], all users at once.
func send(t *testing.T, w *world, users []*mm.User, chans []*mm.Channel, n int) [][]string {
	t.Helper()
	want := make([][]string, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		for k := range n {
			want[i] = append(want[i], fmt.Sprintf("%s-%d", u.Username, k))
		}
		wg.Go(func() {
			for _, text := range want[i] {
				if _, err := w.srv.CreatePost(u.ID, mm.Post{ChannelID: chans[i].ID, Message: "!echo " + text}); err != nil {
					t.Errorf("%s posts: %v", u.Username, err)
				}
			}
		})
	}
	wg.Wait()
	return want
}

// checkAll waits for every reply and checks each is posted once, in the
// order of the commands in its channel.
func checkAll(t *testing.T, w *world, chans []*mm.Channel, want [][]string) {
	t.Helper()
	for i, ch := range chans {
		posts := w.answers(ch, want[i])
		checkOnceInOrder(t, "~"+ch.Name, posts, append([]string{"warm"}, want[i]...), func(string) string { return "" })
	}
}

// faultWorld is a world with 5 users, each with a channel of their own
// with the bot, and a running bot (MaxPerUser 1, so that each channel's
// replies come in order) that already knows them. clock, if not nil, is
// the server's clock (srvOpts.Now), moved by each 429 (see
// statusCounter).
func faultWorld(t *testing.T, srvOpts *mmtest.Options, clock *fakeClock) (*world, []*mm.User, []*mm.Channel, *statusCounter) {
	t.Helper()
	sc := &statusCounter{codes: map[int]int{}, clock: clock}
	w := newWorldOn(t, srvOpts)
	users := w.addUsers("usr", 5)
	chans := make([]*mm.Channel, len(users))
	for i, u := range users {
		chans[i] = w.addChannels(fmt.Sprintf("chan%d-", i), 1, []*mm.User{u})[0]
	}
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: sc}
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
	warm(t, w, users, chans)
	return w, users, chans, sc
}

// statusCounter counts the statuses of the answers the bot gets. It
// also scales a 429's Retry-After to the tests' time (see fastRetry),
// as if the server's clock ran as fast: mmtest, like the server, asks
// for whole seconds (at least 1s), which the client honours, and a storm
// of them would cost seconds per test. The bot still waits what the
// answer asks before it tries again. With a clock, the server's clock
// (mmtest.Options.Now), each 429 moves it by the wait asked for, the
// only time the server sees pass.
type statusCounter struct {
	clock *fakeClock

	mu    sync.Mutex
	codes map[int]int
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		c.mu.Lock()
		c.codes[resp.StatusCode]++
		c.mu.Unlock()
		if ra, perr := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); perr == nil && resp.StatusCode == http.StatusTooManyRequests {
			if c.clock != nil {
				c.clock.advance(time.Duration(ra * float64(time.Second)))
			}
			resp.Header.Set("Retry-After", strconv.FormatFloat(ra/timeScale, 'f', -1, 64))
		}
	}
	return resp, err
}

func (c *statusCounter) count(code int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[code]
}

// TestRateLimitStormSurvived: the server answers 429 to a run of the
// bot's requests while 5 users send commands at once. Every command is
// answered once, in order in each channel: a 429 delays a reply, never
// drops it.
func TestRateLimitStormSurvived(t *testing.T) {
	t.Parallel()
	t.Run("FailNext", func(t *testing.T) {
		t.Parallel()
		w, users, chans, sc := faultWorld(t, nil, nil)
		w.srv.FailNext(12, http.StatusTooManyRequests)
		want := send(t, w, users, chans, 4)
		checkAll(t, w, chans, want)
		if n := sc.count(http.StatusTooManyRequests); n != 12 {
			t.Errorf("the bot got %d 429s, want the 12 injected", n)
		}
	})
	t.Run("server limiter", func(t *testing.T) {
		t.Parallel()
		// 50 requests a second with a burst of 5, keyed by token: the
		// bot's 20 replies overflow it, alice's never. The server's
		// clock moves only when the server tells the bot to wait: the
		// bot, which paces itself by the X-Ratelimit-* headers, cannot
		// stay under the limit by being slow (on a loaded machine it
		// did, and got no 429), and each 429 it gets refills the bucket.
		clock := newFakeClock()
		w, users, chans, sc := faultWorld(t, &mmtest.Options{Now: clock.now,
			RateLimit: &mmtest.RateLimit{PerSec: 50, MaxBurst: 5, VaryByUser: true}}, clock)
		want := send(t, w, users, chans, 4)
		checkAll(t, w, chans, want)
		if sc.count(http.StatusTooManyRequests) == 0 {
			t.Error("the server limiter never answered 429: no storm")
		}
	})
}

// TestServerErrorsDelayReplies: 5xx answers to the bot's reply POSTs
// delay the replies; each is still posted once, in order per channel.
func TestServerErrorsDelayReplies(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			w, users, chans, sc := faultWorld(t, nil, nil)
			w.srv.FailNext(3, code)
			want := send(t, w, users[:2], chans[:2], 2)
			checkAll(t, w, chans[:2], want)
			if n := sc.count(code); n != 3 {
				t.Errorf("the bot got %d answers %d, want the 3 injected", n, code)
			}
		})
	}
}

// TestLongOutageDelaysReply: more 5xx in a row than the client's retries
// (3) on one reply. The issue says 5xx delay replies and never drop
// them.
func TestLongOutageDelaysReply(t *testing.T) {
	t.Parallel()
	w, users, chans, _ := faultWorld(t, nil, nil)
	w.srv.FailNext(5, http.StatusServiceUnavailable)
	want := send(t, w, users[:1], chans[:1], 1)
	defer func() {
		for _, p := range w.srv.Posts(chans[0].ID) {
			t.Logf("post by %s: %q", p.UserID, p.Message)
		}
	}()
	checkAll(t, w, chans[:1], want)
}

// TestSocketLostAnsweredOnce: the bot's WebSocket connection cannot be
// resumed because the server forgot it, so the backend catches up over
// REST. Every command sent meanwhile is answered exactly once, in order.
func TestSocketLostAnsweredOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		srvOpts *mmtest.Options
		n       int
	}{
		// The connection is reaped as soon as an event finds it
		// disconnected (the hub's reaper, ReapInactiveAfter).
		{"reaped", &mmtest.Options{WebSocket: mmtest.WebSocketOptions{ReapInactiveAfter: time.Nanosecond}}, 5},
		// More events than the send queue holds (256) while the socket
		// is down: the server closes and forgets the connection.
		{"queue overflow", nil, 270},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOn(t, tc.srvOpts)
			opts := w.options()
			connects := w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
			w.say(w.ops, "", "!echo before")
			w.replyText(w.ops, "before")

			w.srv.RefuseWebSockets(time.Hour)
			w.srv.DropWebSockets()
			want := []string{"before"}
			for i := range tc.n {
				text := fmt.Sprintf("during %d", i)
				want = append(want, text)
				if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo " + text}); err != nil {
					t.Fatal(err)
				}
			}
			w.srv.RefuseWebSockets(0)
			want = append(want, "after")
			w.say(w.ops, "", "!echo after")
			posts := w.answers(w.ops, want)
			checkOnceInOrder(t, "~ops", posts, want, func(string) string { return "" })
			select {
			case <-connects:
			default:
				t.Error("no HandleConnect after a fresh connection")
			}
			if t.Failed() {
				var got []string
				for _, p := range posts {
					got = append(got, p.Message)
				}
				t.Logf("bot posts: %s", strings.Join(got, " | "))
			}
		})
	}
}

// TestCatchUpSurvivesServerErrors: the catch-up after a socket that
// cannot be resumed meets a run of 503s longer than the client's
// retries; the commands sent while the socket was down are still
// answered.
func TestCatchUpSurvivesServerErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	opts := w.options()
	w.start(opts)
	w.say(w.ops, "", "!echo before")
	w.replyText(w.ops, "before")
	w.srv.RefuseWebSockets(time.Hour)
	w.srv.RestartWebSockets()
	if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: "!echo during"}); err != nil {
		t.Fatal(err)
	}
	// The bot's next requests are the catch-up's GETs, one per channel.
	w.srv.FailNext(8, http.StatusServiceUnavailable)
	w.srv.RefuseWebSockets(0)
	w.replyText(w.ops, "during")
}

// TestServerErrorOnce: one 503 on a request that the client does not
// retry (a file upload, a post through the cards webhook) delays the
// reply; it is still posted, once. The card goes through the hook when
// the backend's retry comes within its budget; when it does not (a
// loaded machine: the budget is a few milliseconds at the tests' time
// scale), the bot posts it as an attachment, as designed (see
// sendCardByHook): either is the reply, and only one may be posted.
func TestServerErrorOnce(t *testing.T) {
	t.Parallel()
	isCard := func(p *mm.Post) bool {
		_, att := p.Props["attachments"]
		return p.Props["from_webhook"] == "true" || att
	}
	for _, tc := range []struct {
		name  string
		cmd   string
		match func(*mm.Post) bool
	}{
		{"upload", "!file up", func(p *mm.Post) bool { return p.Message == "here it is" && len(p.FileIDs) == 1 }},
		{"card hook", "!card hook", isCard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			hook := w.cardsHook()
			opts := w.options()
			opts.CardsHook = hook.ID
			w.start(opts)
			w.say(w.ops, "", "!echo warm")
			w.replyText(w.ops, "warm")
			w.srv.FailNext(1, http.StatusServiceUnavailable)
			if _, err := w.srv.CreatePost(w.alice.ID, mm.Post{ChannelID: w.ops.ID, Message: tc.cmd}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if _, err := w.srv.WaitForPost(ctx, w.ops.ID, tc.match); err != nil {
				for _, p := range w.srv.Posts(w.ops.ID) {
					t.Logf("post by %s: %q", p.UserID, p.Message)
				}
				t.Fatal(err)
			}
			// A second copy would come right after the first: a later
			// command's reply says the bot is past it.
			w.say(w.ops, "", "!echo after")
			w.replyText(w.ops, "after")
			n := 0
			for _, p := range w.srv.Posts(w.ops.ID) {
				if tc.match(p) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d replies to %q, want 1", n, tc.cmd)
			}
		})
	}
}

// TestSlowServerTimeout: a server slower than the timeout setting stops
// startup with one line naming the timeout, after the client's bounded
// retries.
func TestSlowServerTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.SetLatency(time.Hour) // never answers; the client gives up
	opts := w.options()
	opts.Timeout = 50 * time.Millisecond
	eng, err := bot.New(w.newBackend(opts), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err = eng.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 50ms") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Run against a slow server = %v; want one line naming the timeout 50ms", err)
	}
}

// loseAnswers forwards every request to the server, but while armed
// replaces the answers to the first n reply POSTs (/api/v4/posts) with a
// 503: the post is made, the bot never hears of it.
type loseAnswers struct {
	mu    sync.Mutex
	armed bool
	n     int
}

func (l *loseAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/api/v4/posts") {
		return resp, err
	}
	l.mu.Lock()
	lose := l.armed && l.n > 0
	if lose {
		l.n--
	}
	l.mu.Unlock()
	if !lose {
		return resp, nil
	}
	resp.Body.Close()
	return unavailable(r, `{"id":"test.lost","message":"answer lost","status_code":503}`), nil
}

// unavailable is a 503 answer to r with the JSON error body, made up by
// a test transport.
func unavailable(r *http.Request, body string) *http.Response {
	return &http.Response{
		StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}
}

// TestLostAnswersPostOnce: the server makes the reply but its answer is
// lost more times in a row than the client retries (4 tries in all), so
// the reply goes to the outbox. Every attempt carries the same
// pending_post_id, and the outbox looks for the post made before it
// sends again (or sends with that id, which the server answers with the
// post made): the reply is posted once.
func TestLostAnswersPostOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	lose := &loseAnswers{n: 5}
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: lose}
	// One command at a time: "next" is answered after the reply to
	// "once" is done, retries included.
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
	w.say(w.ops, "", "!echo warm")
	w.replyText(w.ops, "warm")
	lose.mu.Lock()
	lose.armed = true
	lose.mu.Unlock()
	w.say(w.ops, "", "!echo once")
	w.replyText(w.ops, "once")
	w.say(w.ops, "", "!echo next")
	w.replyText(w.ops, "next")
	lose.mu.Lock()
	left := lose.n
	lose.mu.Unlock()
	if left > 1 {
		t.Errorf("%d answers left to lose, want the client's 4 tries lost at least", left)
	}
	var got []string
	for _, p := range w.botPosts(w.ops) {
		got = append(got, p.Message)
	}
	if diff := cmp.Diff([]string{"warm", "once", "next"}, got); diff != "" {
		t.Errorf("bot posts in ~ops (-want +got):\n%s", diff)
	}
}

// TestUploadBodyReplayed: a file whose body is no io.Seeker is still
// uploaded after a 503, whole: the backend buffered it.
func TestUploadBodyReplayed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.start(w.options())
	w.say(w.ops, "", "!echo warm")
	w.replyText(w.ops, "warm")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	const content = "streamed file body"
	w.srv.FailNext(1, http.StatusServiceUnavailable)
	body := io.MultiReader(strings.NewReader(content)) // hides Seek
	out := &bot.Outgoing{RoomID: w.ops.ID, Text: "streamed", File: &bot.File{Name: "s.txt", Body: body}}
	if err := r.be.Send(ctx, out); err != nil {
		t.Fatalf("Send after one 503: %v", err)
	}
	p := w.replyText(w.ops, "streamed")
	if got := attachedFile(ctx, t, w.aliceC, p); got != content {
		t.Errorf("downloaded %q, want %q", got, content)
	}
}

// failReads answers 503, without asking the server, to the bot's reads
// of one channel's posts (GET /channels/{id}/posts) while armed. After
// the first 4 failures it signals first; once more is set, it fails
// that many more reads, then lets them through.
type failReads struct {
	path  string
	first chan struct{} // closed after 4 failures: the client gave up once
	mu    sync.Mutex
	armed bool
	fails int
	more  int // -1: not set yet
}

func (f *failReads) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.armed && r.Method == http.MethodGet && r.URL.Path == f.path && f.more != 0
	if fail {
		f.fails++
		if f.fails == 4 {
			close(f.first)
		}
		if f.more > 0 {
			f.more--
		}
	}
	f.mu.Unlock()
	if !fail {
		return http.DefaultTransport.RoundTrip(r)
	}
	return unavailable(r, `{"id":"test.unavailable","message":"unavailable","status_code":503}`), nil
}

// TestCatchUpHoldsLivePosts: a channel's catch-up read fails, and a
// command posted there once the socket is back arrives live while the
// read is still retried. The command missed is answered first: the live
// one waits for the catch-up of its channel.
func TestCatchUpHoldsLivePosts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fr := &failReads{path: "/api/v4/channels/" + w.ops.ID + "/posts", first: make(chan struct{}), more: -1}
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: fr}
	w.startEngine(w.newBackend(opts), &bot.Options{MaxPerUser: 1})
	w.say(w.ops, "", "!echo before")
	w.replyText(w.ops, "before")
	w.downtime(func() {
		w.say(w.ops, "", "!echo during")
		fr.mu.Lock()
		fr.armed = true
		fr.mu.Unlock()
	})
	select {
	case <-fr.first: // the read failed after the client's retries
	case <-time.After(waitLimit):
		t.Fatal("the bot never read ~ops's posts after the drop")
	}
	// The socket is back (catch-up runs after its hello): this command
	// arrives live while the read of ~ops is retried in the background.
	// Held, it is as late as the posts caught up (bot.Message.CaughtUp).
	w.say(w.ops, "", "!late after")
	fr.mu.Lock()
	fr.more = 2 // the background read's next two attempts fail too
	fr.mu.Unlock()
	want := []string{"before", "during", "after caught_up=true"}
	posts := w.answers(w.ops, want)
	checkOnceInOrder(t, "~ops", posts, want, func(string) string { return "" })
}
