package bot_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// notifier announces finished builds that a CI system posts to it.
type notifier struct{}

type build struct {
	Project string `json:"project"`
	Status  string `json:"status"`
}

func (notifier) Setup(p *bot.Plugin) error {
	bot.Webhook(p, "POST /builds", func(ctx context.Context, req *bot.WebhookRequest, b build) error {
		if b.Project == "" {
			return &bot.HTTPError{Code: 422, Message: "project is required"}
		}
		return req.Plugin.Send(ctx, "~ops", bot.Outgoing{Text: b.Project + ": " + b.Status})
	}).HMAC("X-Signature", "s3cret")
	return nil
}

func ExampleWebhook() {
	// A test bot; a daemon serves e.HTTPHandler() on its HTTP server.
	t := &exampleT{}
	defer t.done()
	b := bottest.New(t, notifier{})
	post := func(body, signature string) {
		r := httptest.NewRequest("POST", "/builds", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Signature", signature)
		rec := httptest.NewRecorder()
		b.Engine.HTTPHandler().ServeHTTP(rec, r)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()), bottest.Texts(b.Replies()))
	}
	auth := bot.WebhookAuth{Secret: "s3cret"}
	body := `{"project":"api","status":"green"}`
	post(body, auth.Sign([]byte(body)))
	post(body, "sha256=00")
	post(`{}`, auth.Sign([]byte(`{}`)))
	// Output:
	// 204  [api: green]
	// 403 bad signature in X-Signature header []
	// 422 project is required []
}
