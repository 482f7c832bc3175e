package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

type doneBody struct {
	Service string   `json:"service"`
	Env     string   `json:"env"`
	Count   int      `json:"count"`
	Tags    []string `json:"tags"`
}

// hooks is a plugin with one webhook of each kind.
func hooks() bot.Setuper {
	return plug{"hooks", func(p *bot.Plugin) error {
		bot.Webhook(p, "POST /deploy/done", func(ctx context.Context, req *bot.WebhookRequest, b doneBody) error {
			switch b.Service {
			case "":
				return &bot.HTTPError{Code: http.StatusUnprocessableEntity, Message: "service is required"}
			case "boom":
				panic("kaboom")
			case "fail":
				return errors.New("database is down")
			case "zero":
				return &bot.HTTPError{Message: "no code"}
			case "bad status":
				req.Respond(0, nil)
				return nil
			case "queue":
				req.Respond(http.StatusAccepted, map[string]any{"queued": b.Service})
				return nil
			}
			return req.Plugin.Send(ctx, "~ops", bot.Outgoing{Text: fmt.Sprintf("%s deployed to %s (%d, %q)", b.Service, b.Env, b.Count, b.Tags)})
		})
		p.Webhook("GET /raw/{name}", func(w http.ResponseWriter, r *http.Request) {
			switch r.PathValue("name") {
			case "boom":
				panic("raw kaboom")
			case "abort":
				panic(http.ErrAbortHandler)
			}
			fmt.Fprintf(w, "hello %s", r.PathValue("name"))
		})
		bot.Webhook(p, "PUT /bytes", func(ctx context.Context, req *bot.WebhookRequest, b []byte) error {
			req.Respond(http.StatusOK, len(b))
			return nil
		})
		ok := func(ctx context.Context, req *bot.WebhookRequest, b map[string]string) error {
			req.Respond(http.StatusOK, b)
			return nil
		}
		bot.Webhook(p, "POST /signed", ok).HMAC("", "s3cret")
		bot.Webhook(p, "POST /token", ok).Secret("X-Token", "t0ken")
		bot.Webhook(p, "POST /small", ok).MaxBody(16)
		bot.Webhook(p, "POST /open", ok)
		bot.Webhook(p, "POST /public", ok).Public()
		return nil
	}}
}

func request(method, target, contentType, body string, header ...string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

func TestWebhook(t *testing.T) {
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, hooks())
	const js, form = "application/json", "application/x-www-form-urlencoded"
	sign := bot.WebhookAuth{Secret: "s3cret"}.Sign
	tests := []struct {
		name    string
		req     *http.Request
		want    string // status and body
		replies []string
	}{
		{"json", request("POST", "/deploy/done", js, `{"service":"api","env":"prod","count":2,"tags":["a"],"extra":1}`),
			"204 ", []string{`api deployed to prod (2, ["a"])`}},
		{"json with charset", request("POST", "/deploy/done", "application/json; charset=utf-8", `{"service":"api"}`),
			"204 ", []string{`api deployed to  (0, [])`}},
		{"+json", request("POST", "/deploy/done", "application/vnd.github+json", `{"service":"web"}`),
			"204 ", []string{`web deployed to  (0, [])`}},
		{"form", request("POST", "/deploy/done", form, "service=api&ENV=staging&count=3&tags=x&tags=y&unknown=1"),
			"204 ", []string{`api deployed to staging (3, ["x" "y"])`}},
		{"respond", request("POST", "/deploy/done", js, `{"service":"queue"}`), `202 {"queued":"queue"}`, nil},
		{"raw handler", request("GET", "/raw/alice", "", ""), "200 hello alice", nil},
		{"raw bytes", request("PUT", "/bytes", "text/plain", "12345"), "200 5", nil},

		{"wrong method", request("GET", "/deploy/done", "", ""), "405 Method Not Allowed", nil},
		{"unknown path", request("POST", "/deploy/nope", js, `{}`), "404 404 page not found", nil},
		{"bad json", request("POST", "/deploy/done", js, `{"service": x}`),
			"400 invalid JSON body: invalid character 'x' looking for beginning of value (at byte 13)", nil},
		{"wrong json type", request("POST", "/deploy/done", js, `{"service":"api","count":"two"}`),
			"400 invalid JSON body: cannot unmarshal string into Go struct field doneBody.count of type int", nil},
		{"truncated json", request("POST", "/deploy/done", js, `{"service":"api"`), "400 invalid JSON body: truncated", nil},
		{"empty json", request("POST", "/deploy/done", js, ``), "400 invalid JSON body: empty", nil},
		{"two json values", request("POST", "/deploy/done", js, `{} {}`), "400 invalid JSON body: more than one JSON value", nil},
		{"bad form value", request("POST", "/deploy/done", form, "service=api&count=lots"),
			`400 invalid form body: field count: "lots" is not an integer of 64 bits`, nil},
		{"bad form encoding", request("POST", "/deploy/done", form, "service=%zz"),
			`400 invalid form body: invalid URL escape "%zz"`, nil},
		{"text body", request("POST", "/deploy/done", "text/plain", "api"),
			"415 Content-Type text/plain not accepted: send application/json or application/x-www-form-urlencoded", nil},
		{"no content type", request("POST", "/deploy/done", "", `{"service":"api"}`),
			"415 missing Content-Type: send application/json or application/x-www-form-urlencoded", nil},
		{"bad content type", request("POST", "/deploy/done", "json;;", `{}`),
			`415 bad Content-Type "json;;": send application/json or application/x-www-form-urlencoded`, nil},
		{"handler refuses", request("POST", "/deploy/done", js, `{}`), "422 service is required", nil},
		{"handler fails", request("POST", "/deploy/done", js, `{"service":"fail"}`),
			"500 webhook handler failed; the bot's log has the details", nil},
		{"handler panics", request("POST", "/deploy/done", js, `{"service":"boom"}`),
			"500 webhook handler failed; the bot's log has the details", nil},
		{"handler error without a code", request("POST", "/deploy/done", js, `{"service":"zero"}`),
			"500 webhook handler failed; the bot's log has the details", nil},
		{"handler responds with a bad status", request("POST", "/deploy/done", js, `{"service":"bad status"}`),
			"500 webhook handler failed; the bot's log has the details", nil},
		{"raw handler panics", request("GET", "/raw/boom", "", ""),
			"500 webhook handler failed; the bot's log has the details", nil},

		{"hmac", request("POST", "/signed", js, `{"a":"b"}`, "X-Hub-Signature-256", sign([]byte(`{"a":"b"}`))), `200 {"a":"b"}`, nil},
		{"hmac without prefix", request("POST", "/signed", js, `{"a":"b"}`, "X-Hub-Signature-256", strings.TrimPrefix(sign([]byte(`{"a":"b"}`)), "sha256=")), `200 {"a":"b"}`, nil},
		{"hmac missing", request("POST", "/signed", js, `{"a":"b"}`), "401 missing X-Hub-Signature-256 header", nil},
		{"hmac of another body", request("POST", "/signed", js, `{"a":"c"}`, "X-Hub-Signature-256", sign([]byte(`{"a":"b"}`))),
			"403 bad signature in X-Hub-Signature-256 header", nil},
		{"hmac with another key", request("POST", "/signed", js, `{"a":"b"}`, "X-Hub-Signature-256", bot.WebhookAuth{Secret: "guess"}.Sign([]byte(`{"a":"b"}`))),
			"403 bad signature in X-Hub-Signature-256 header", nil},
		{"hmac not hex", request("POST", "/signed", js, `{"a":"b"}`, "X-Hub-Signature-256", "sha256=zz"),
			"403 malformed signature in X-Hub-Signature-256 header: want sha256=<hex HMAC-SHA256 of the body>", nil},
		{"secret", request("POST", "/token", js, `{"a":"b"}`, "X-Token", "t0ken"), `200 {"a":"b"}`, nil},
		{"secret missing", request("POST", "/token", js, `{"a":"b"}`), "401 missing X-Token header", nil},
		{"secret wrong", request("POST", "/token", js, `{"a":"b"}`, "X-Token", "t0ken2"), "403 wrong secret in X-Token header", nil},
		{"secret in the wrong header", request("POST", "/token", js, `{"a":"b"}`, "X-Webhook-Secret", "t0ken"), "401 missing X-Token header", nil},
		{"small body", request("POST", "/small", js, `{"a":"bcdefghi"}`), `200 {"a":"bcdefghi"}`, nil},
		{"body too large", request("POST", "/small", js, `{"a":"bcdefghijk"}`), "413 body larger than 16 bytes", nil},
		{"body too large, no length", func() *http.Request {
			r := request("POST", "/small", js, `{"a":"bcdefghijk"}`)
			r.ContentLength = -1
			return r
		}(), "413 body larger than 16 bytes", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := b.Webhook(tc.req)
			if got := bottest.Response(rec); got != tc.want {
				t.Errorf("%s %s = %q, want %q", tc.req.Method, tc.req.URL, got, tc.want)
			}
			if got := bottest.Texts(b.Replies()); !cmp.Equal(got, tc.replies, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") })) {
				t.Errorf("replies %q, want %q", got, tc.replies)
			}
		})
	}
	if got := b.Webhook(request("GET", "/deploy/done", "", "")).Header().Get("Allow"); got != "POST" {
		t.Errorf("405 Allow = %q, want POST", got)
	}
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("GET /raw/abort panicked with %v, want http.ErrAbortHandler for net/http", v)
			}
		}()
		b.Webhook(request("GET", "/raw/abort", "", ""))
	}()
	if got := bottest.Texts(b.Say("!help")); len(got) == 0 {
		t.Errorf("after the failures the bot does not answer")
	}
	l := logs.String()
	for _, w := range []string{
		`level=WARN msg="webhook failed" plugin=hooks webhook="POST /deploy/done" status=500 err="database is down"`,
		`level=WARN msg="webhook failed" plugin=hooks webhook="POST /deploy/done" status=500 err="HTTPError with code 0, want 4xx or 5xx: 0 : no code"`,
		`level=WARN msg="webhook failed" plugin=hooks webhook="POST /deploy/done" status=500 err="Respond(0): not a final HTTP status"`,
		`level=ERROR msg="webhook handler panicked" plugin=hooks webhook="POST /deploy/done" panic=kaboom stack=`,
		`level=ERROR msg="webhook handler panicked" plugin=hooks webhook="GET /raw/{name}" panic="raw kaboom" stack=`,
		`level=INFO msg="webhook refused" plugin=hooks webhook="POST /signed" status=403 reason="bad signature in X-Hub-Signature-256 header"`,
	} {
		if !strings.Contains(l, w) {
			t.Errorf("log does not contain %q:\n%s", w, l)
		}
	}
	if strings.Contains(l, "s3cret") || strings.Contains(l, "t0ken") {
		t.Errorf("log shows a secret:\n%s", l)
	}
}

func TestWebhookGlobalAuth(t *testing.T) {
	opts := &bot.Options{WebhookAuth: bot.WebhookAuth{Secret: "global", Header: "X-Bot-Secret"}, WebhookMaxBody: 8}
	b := bottest.NewWithOptions(t, opts, hooks())
	tests := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"global secret", request("POST", "/open", "", "", "X-Bot-Secret", "global"), "200 null"},
		{"global secret missing", request("POST", "/open", "", ""), "401 missing X-Bot-Secret header"},
		{"global secret wrong", request("POST", "/open", "", "", "X-Bot-Secret", "local"), "403 wrong secret in X-Bot-Secret header"},
		{"own secret instead", request("POST", "/token", "", "", "X-Token", "t0ken"), "200 null"},
		{"global limit", request("POST", "/open", "application/json", `{"a":"b"}`, "X-Bot-Secret", "global"), "413 body larger than 8 bytes"},
		{"own limit instead", request("POST", "/small", "application/json", `{"a":"b"}`, "X-Bot-Secret", "global"), `200 {"a":"b"}`},
		{"public", request("POST", "/public", "", ""), "200 null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bottest.Response(b.Webhook(tc.req)); got != tc.want {
				t.Errorf("%s %s = %q, want %q", tc.req.Method, tc.req.URL, got, tc.want)
			}
		})
	}
}

func TestWebhookLifecycle(t *testing.T) {
	be := bottest.NewBackend()
	started := make(chan struct{}, 1)
	var returned atomic.Int32
	p := plug{"slow", func(p *bot.Plugin) error {
		bot.Webhook(p, "POST /wait", func(ctx context.Context, req *bot.WebhookRequest, _ []byte) error {
			started <- struct{}{}
			<-ctx.Done()
			returned.Add(1)
			return ctx.Err()
		})
		p.Webhook("GET /ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
		return nil
	}}
	e, err := bot.New(be, &bot.Options{Inactive: []string{"slow"}}, p)
	if err != nil {
		t.Fatal(err)
	}
	h := e.HTTPHandler()
	serve := func(method, path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return bottest.Response(rec)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	if got, want := serve("GET", "/ping"), "404 404 page not found"; got != want {
		t.Errorf("inactive, before Run: GET /ping = %q, want %q", got, want)
	}
	if err := e.Activate(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if got, want := serve("GET", "/ping"), "503 bot is not running"; got != want {
		t.Errorf("before Run: GET /ping = %q, want %q", got, want)
	}
	go func() { stopped <- e.Run(ctx) }()
	<-be.Ready()
	if got, want := serve("GET", "/ping"), "200 pong"; got != want {
		t.Errorf("running: GET /ping = %q, want %q", got, want)
	}
	if err := e.Deactivate(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if got, want := serve("GET", "/ping"), "404 404 page not found"; got != want {
		t.Errorf("deactivated: GET /ping = %q, want %q", got, want)
	}
	if err := e.Activate(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	// A request in progress is cancelled by deactivation, and answered.
	waited := make(chan string, 1)
	go func() { waited <- serve("POST", "/wait") }()
	<-started
	if err := e.Deactivate(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if got, want := <-waited, "500 webhook handler failed; the bot's log has the details"; got != want {
		t.Errorf("POST /wait cut by deactivation = %q, want %q", got, want)
	}
	if err := e.Activate(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	// Shutdown cancels a request in progress, and Run waits for it.
	go func() { waited <- serve("POST", "/wait") }()
	<-started
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	if got := returned.Load(); got != 2 {
		t.Errorf("Run returned with %d of 2 webhook handlers done", got)
	}
	<-waited
	if got, want := serve("GET", "/ping"), "404 404 page not found"; got != want {
		t.Errorf("after Run: GET /ping = %q, want %q", got, want)
	}
}

func TestWebhookDeclarationErrors(t *testing.T) {
	ok := func(context.Context, *bot.WebhookRequest, struct{}) error { return nil }
	raw := func(http.ResponseWriter, *http.Request) {}
	tests := []struct {
		name    string
		opts    *bot.Options
		plugins []bot.Setuper
		want    string
	}{
		{"nil handler", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error {
			bot.Webhook[struct{}](p, "POST /x", nil)
			return nil
		}}}, `bot: plugin a: webhook "POST /x": nil handler`},
		{"bad pattern", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Webhook("POST", raw); return nil }}},
			`bot: plugin a: webhook "POST": parsing "POST": at offset 0: host/path missing /`},
		{"bad method", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { p.Webhook("P(ST /x", raw); return nil }}},
			`bot: plugin a: webhook "P(ST /x": parsing "P(ST /x": at offset 0: invalid method "P(ST"`},
		{"same pattern in two plugins", nil, []bot.Setuper{
			plug{"a", func(p *bot.Plugin) error { p.Webhook("POST /x", raw); return nil }},
			plug{"b", func(p *bot.Plugin) error { bot.Webhook(p, "POST /x", ok); return nil }},
		}, `bot: plugin b: webhook "POST /x": pattern "POST /x"`},
		{"empty secret", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { bot.Webhook(p, "POST /x", ok).HMAC("", ""); return nil }}},
			`bot: plugin a: webhook "POST /x": empty secret`},
		{"bad header", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { bot.Webhook(p, "POST /x", ok).Secret("X Token", "s"); return nil }}},
			`bot: plugin a: webhook "POST /x": bad header name "X Token"`},
		{"bad limit", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error { bot.Webhook(p, "POST /x", ok).MaxBody(0); return nil }}},
			`bot: plugin a: webhook "POST /x": MaxBody(0): the limit must be positive`},
		{"bad body type", nil, []bot.Setuper{plug{"a", func(p *bot.Plugin) error {
			bot.Webhook(p, "POST /x", func(context.Context, *bot.WebhookRequest, func()) error { return nil })
			return nil
		}}}, `bot: plugin a: webhook "POST /x": body type func() cannot be decoded`},
		{"global hmac without secret", &bot.Options{WebhookAuth: bot.WebhookAuth{HMAC: true}}, nil, `bot: webhook auth: empty secret`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.New(bottest.NewBackend(), tc.opts, tc.plugins...)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want %q", err, tc.want)
			}
		})
	}
}

func BenchmarkWebhook(b *testing.B) {
	p := plug{"bench", func(p *bot.Plugin) error {
		bot.Webhook(p, "POST /deploy/done", func(ctx context.Context, req *bot.WebhookRequest, d doneBody) error {
			if d.Service != "api" {
				return errors.New("wrong body")
			}
			return nil
		}).HMAC("", "s3cret")
		return nil
	}}
	bt := bottest.New(b, p)
	h := bt.Engine.HTTPHandler()
	body := `{"service":"api","env":"prod","count":2,"tags":["a","b"]}`
	sig := bot.WebhookAuth{Secret: "s3cret"}.Sign([]byte(body))
	b.ReportAllocs()
	for b.Loop() {
		r := request("POST", "/deploy/done", "application/json", body, "X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("POST /deploy/done = %d %s", rec.Code, rec.Body)
		}
	}
}
