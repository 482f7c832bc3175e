package mattermost_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/plugins/echo"
)

// pollSpy is a RoundTripper that reports, after each answered presence
// poll (POST /users/status/ids), the ids it asked about.
type pollSpy struct {
	base  *http.Transport
	polls chan []string
}

func (s *pollSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	var ids []string
	if r.Method == http.MethodPost && r.URL.Path == "/api/v4/users/status/ids" && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		_ = json.Unmarshal(b, &ids)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := s.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusOK && ids != nil {
		// The fake has computed the statuses before it wrote the
		// header: the answer is fixed once RoundTrip returns.
		select {
		case s.polls <- ids:
		default:
		}
	}
	return resp, err
}

// TestPresenceOfOthersPolled: the server tells alice, not the bot, that
// her status changed; the bot, which has met her, polls the statuses and
// the plugin's OnPresence sees each change.
func TestPresenceOfOthersPolled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	spy := &pollSpy{base: http.DefaultTransport.(*http.Transport).Clone(), polls: make(chan []string, 1)}
	t.Cleanup(spy.base.CloseIdleConnections)
	opts := w.options()
	opts.HTTPClient = &http.Client{Transport: spy}
	opts.PresenceInterval = 10 * time.Millisecond
	wt := newWatcher()
	w.startEngine(w.newBackend(opts), nil, wt, echo.Plugin{})

	w.say(w.ops, "", "!echo hi")
	w.replyText(w.ops, "hi") // the bot has met alice
	// A poll that asked about alice sets her baseline.
	timeout := time.After(waitLimit)
	for baseline := false; !baseline; {
		select {
		case ids := <-spy.polls:
			baseline = slices.Contains(ids, w.alice.ID)
			if slices.Contains(ids, w.bot.ID) {
				t.Errorf("a poll asked for the bot's own status: %v", ids)
			}
		case <-timeout:
			t.Fatal("no presence poll asked about alice")
		}
	}
	for _, status := range []string{mm.StatusAway, mm.StatusDND, mm.StatusOnline} {
		if err := w.srv.SetStatus(w.alice.ID, status); err != nil {
			t.Fatal(err)
		}
		wt.expect(t, "presence @alice "+status)
	}
}
