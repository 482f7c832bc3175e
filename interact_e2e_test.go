package matterbot

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/examples/release"
	mm "github.com/matterbot/matterbot/mattermost"
)

// TestRunButtons: through the command as run runs it, with [http]
// public_url behind a proxy, a click on a card's button reaches the
// plugin and updates the post; a request that does not come from the
// bot's card is refused. The key that signs the buttons is generated
// once, kept, and logged.
func TestRunButtons(t *testing.T) {
	w := newRunWorld(t)
	proxy := newPublicProxy(t)
	w.editConfig(t, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:0"
public_url = "`+proxy.srv.URL+`"`)
	b := startRun(t, w, &release.Plugin{})
	proxy.point(t, b)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := w.say(t, "!release api 1.4.2")
	card, err := w.srv.WaitForPost(ctx, w.ops.ID, func(q *mm.Post) bool {
		return q.UserID == w.bot.ID && q.CreateAt >= p.CreateAt && q.Props["attachments"] != nil
	})
	if err != nil {
		t.Fatalf("no card: %v", err)
	}
	b.waitLog(t, `msg="generated a key to sign interactive messages and kept it in the store`)
	atts, _ := card.Attachments()
	if len(atts) != 1 || len(atts[0].Actions) != 3 {
		t.Fatalf("card = %+v, want three actions", atts)
	}
	if _, _, err := w.alice.DoPostAction(ctx, card.ID, atts[0].Actions[0].ID, "", ""); err != nil {
		t.Fatalf("click Approve: %v", err)
	}
	np, _ := w.srv.Post(card.ID)
	natts, _ := np.Attachments()
	if len(natts) != 1 || len(natts[0].Actions) != 0 || natts[0].Fields[1].Value != "released, approved by @alice" {
		t.Errorf("card after the click = %+v, want approved by alice, without actions", natts)
	}
	b.waitLog(t, `msg=command request_id=\w+ plugin=release command="click approve" outcome=ok`)

	resp, err := http.Post(proxy.srv.URL+mmbackend.ActionPath, "application/json",
		strings.NewReader(`{"user_id":"x","post_id":"`+card.ID+`","context":{"matterbot":"v1.e30.AAAA"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a forged click = %d, want 403", resp.StatusCode)
	}
	b.waitLog(t, `msg="interaction refused: not signed by this bot"`)
}
