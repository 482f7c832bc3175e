package deploy_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/config"
	"github.com/matterbot/matterbot/examples/deploy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var clock = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func newBot(t *testing.T, d deploy.Deployer) *bottest.Bot {
	t.Helper()
	opts := &bot.Options{
		Admins: []string{"@alice"},
		PluginConfig: map[string]any{"deploy": map[string]any{
			"services": []string{"api", "web"}, "room": "~ops", "token": "t0ken", "webhook_secret": "hook-s3cret",
		}},
	}
	return bottest.NewWithOptions(t, opts, &deploy.Plugin{Deployer: d, Now: func() time.Time { return clock }})
}

func TestDeploy(t *testing.T) {
	var deployed []string
	b := newBot(t, func(ctx context.Context, service, env, ref string) error {
		if ref == "broken" {
			return errors.New("health check failed")
		}
		deployed = append(deployed, service+"/"+env+"@"+ref)
		return nil
	})
	card := func(title, ref, by string) bottest.Reply {
		return bottest.Reply{To: "~test/town-square", RoomID: "r-town-square", Card: &bot.Card{Title: title, Color: "good",
			Fields: []bot.Field{{Title: "ref", Value: ref, Short: true}, {Title: "by", Value: by, Short: true}}}}
	}
	text := func(s string) bottest.Reply {
		return bottest.Reply{To: "~test/town-square", RoomID: "r-town-square", Text: s}
	}
	steps := []struct {
		user, in string
		want     []bottest.Reply
	}{
		{"@bob", "!deploy status", []bottest.Reply{text("Nothing deployed yet.")}},
		{"@bob", "!deploy api staging --ref v1", []bottest.Reply{text("Deploying api@v1 to staging…"), card("api deployed to staging", "v1", "@bob")}},
		{"@bob", "!deploy db staging", []bottest.Reply{text("`!deploy`: unknown service \"db\"; known: api, web.\nUsage: `!deploy <service> <env> [--ref REF] [--force]`")}},
		{"@bob", "!deploy api qa", []bottest.Reply{text("`!deploy`: <env>: \"qa\" is not one of staging, prod.\nUsage: `!deploy <service> <env> [--ref REF] [--force]`")}},
		{"@bob", "!deploy api prod", []bottest.Reply{text("Deploy api@main to **prod**? (yes/no)")}},
		{"@bob", "no", []bottest.Reply{text("Deploy cancelled.")}},
		{"@bob", "!deploy api prod --ref v1", []bottest.Reply{text("Deploy api@v1 to **prod**? (yes/no)")}},
		{"@bob", "YES", []bottest.Reply{text("Deploying api@v1 to prod…"), card("api deployed to prod", "v1", "@bob")}},
		{"@carol", "!deploy api prod -f --ref v2", []bottest.Reply{text("Deploying api@v2 to prod…"), card("api deployed to prod", "v2", "@carol")}},
		{"@carol", "!deploy web prod -f --ref broken", []bottest.Reply{text("Deploying web@broken to prod…"), text("Sorry, `!deploy` failed (ref REF).")}},
		{"@bob", "!deploy status api", []bottest.Reply{text("• api/staging: `v1` by @bob at 2026-11-26 09:30:00\n• api/prod: `v2` by @carol at 2026-11-26 09:30:00")}},
		{"@bob", "so what's on prod now?", []bottest.Reply{text("On prod: api@v2.")}},
		// Rollback replies go to a thread on the command (message m13...).
		{"@bob", "!deploy rollback api prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m13", Text: "`!deploy rollback`: only bot admins may run this command."}}},
		{"@alice", "!deploy rollback web prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m14", Text: "`!deploy rollback` failed: no earlier deploy of web to prod"}}},
		{"@alice", "!deploy rollback api prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m15", Text: "Rolled api in prod back to `v1`."}}},
	}
	for i, s := range steps {
		got := bottest.Unref(b.SayAs(s.user, "~town-square", s.in))
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("step %d: %s: Say(%q) mismatch (-want +got):\n%s", i, s.user, s.in, diff)
		}
	}
	if diff := cmp.Diff([]string{"api/staging@v1", "api/prod@v1", "api/prod@v2", "api/prod@v1"}, deployed); diff != "" {
		t.Errorf("deploys mismatch (-want +got):\n%s", diff)
	}
	cfg, err := b.Engine.PluginConfig("deploy")
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"room\": \"~ops\",\n  \"services\": [\n    \"api\",\n    \"web\"\n  ],\n  \"token\": \"******\",\n  \"webhook_secret\": \"******\"\n}"
	if cfg != want {
		t.Errorf("PluginConfig() = %s, want %s", cfg, want)
	}
}

// TestDeployNoAnswer: an unanswered confirmation cancels the deploy, and
// says so.
func TestDeployNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deployed := 0
		b := newBot(t, func(ctx context.Context, service, env, ref string) error { deployed++; return nil })
		b.SayAs("@bob", "~ops", "!deploy api prod")
		time.Sleep(5 * time.Minute) // bot.Options.AskTimeout's default
		synctest.Wait()
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "No answer: deploy cancelled."}}
		if diff := cmp.Diff(want, b.Replies()); diff != "" || deployed != 0 {
			t.Errorf("no answer: %d deploys, replies mismatch (-want +got):\n%s", deployed, diff)
		}
	})
}

// TestAnnounce runs the schedule on the fake clock of a synctest bubble.
func TestAnnounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBot(t, nil)
		b.SayAs("@bob", "~ops", "!deploy web staging --ref abc")
		if got := b.Advance(59 * time.Second); len(got) != 0 {
			t.Errorf("before a minute: %v, want nothing yet", got)
		}
		want := []bottest.Reply{{To: "~test/ops", RoomID: "r-ops", Text: "web/staging is now at `abc` (by @bob)."}}
		if diff := cmp.Diff(want, b.Advance(time.Second)); diff != "" {
			t.Errorf("after a minute: mismatch (-want +got):\n%s", diff)
		}
		if got := b.Advance(time.Hour); len(got) != 0 {
			t.Errorf("an hour later: %v, want nothing new", got)
		}
		b.SayAs("@bob", "~ops", "!deploy web staging --ref def")
		b.SayAs("@bob", "~ops", "!deploy api staging --ref v9")
		want = []bottest.Reply{
			{To: "~test/ops", RoomID: "r-ops", Text: "api/staging is now at `v9` (by @bob)."},
			{To: "~test/ops", RoomID: "r-ops", Text: "web/staging is now at `def` (by @bob)."},
		}
		if diff := cmp.Diff(want, b.Advance(time.Minute)); diff != "" {
			t.Errorf("two deploys: mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestWebhookDone posts the deploy system's reports to the plugin's
// webhook, signed with the secret from its configuration.
func TestWebhookDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBot(t, nil)
		post := func(body, signature string) string {
			r := httptest.NewRequest("POST", "/deploy/done", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			if signature != "" {
				r.Header.Set("X-Hub-Signature-256", signature)
			}
			return bottest.Response(b.Webhook(r))
		}
		sign := func(body string) string { return bot.WebhookAuth{Secret: "hook-s3cret"}.Sign([]byte(body)) }
		ok := `{"service":"api","env":"prod","ref":"v7","status":"ok","by":"deploybot"}`
		tests := []struct {
			name, body, signature, want string
			replies                     []string
		}{
			{"ok", ok, sign(ok), "204 ", nil},
			{"failed", `{"service":"web","env":"staging","ref":"v2","status":"failed","by":"ci"}`, sign(`{"service":"web","env":"staging","ref":"v2","status":"failed","by":"ci"}`),
				"204 ", []string{"~test/ops Deploy of web@v2 to staging failed."}},
			{"unsigned", ok, "", "401 missing X-Hub-Signature-256 header", nil},
			{"signed with another key", ok, bot.WebhookAuth{Secret: "guess"}.Sign([]byte(ok)), "403 bad signature in X-Hub-Signature-256 header", nil},
			{"unknown service", `{"service":"db","env":"prod","ref":"v1","status":"ok","by":"ci"}`, sign(`{"service":"db","env":"prod","ref":"v1","status":"ok","by":"ci"}`),
				`422 unknown service "db"`, nil},
			{"bad status", `{"service":"api","env":"prod","ref":"v1","status":"meh","by":"ci"}`, sign(`{"service":"api","env":"prod","ref":"v1","status":"meh","by":"ci"}`),
				`422 status "meh" is not one of ok, failed`, nil},
			{"bad json", `{"service":"api",}`, sign(`{"service":"api",}`), "400 invalid JSON body: invalid character '}' looking for beginning of object key string (at byte 18)", nil},
		}
		for _, tc := range tests {
			if got := post(tc.body, tc.signature); got != tc.want {
				t.Errorf("%s: POST /deploy/done = %q, want %q", tc.name, got, tc.want)
			}
			var got []string
			for _, r := range b.Replies() {
				got = append(got, r.To+" "+r.Text)
			}
			if !cmp.Equal(got, tc.replies, cmpopts.EquateEmpty()) {
				t.Errorf("%s: replies %q, want %q", tc.name, got, tc.replies)
			}
		}
		// The successful report is stored, and announced by the schedule.
		if got, want := bottest.Texts(b.Say("!deploy status api")), []string{"• api/prod: `v7` by @deploybot at 2026-11-26 09:30:00"}; !cmp.Equal(got, want) {
			t.Errorf("status after the webhook = %q, want %q", got, want)
		}
		if got, want := bottest.Texts(b.Advance(time.Minute)), []string{"api/prod is now at `v7` (by @deploybot)."}; !cmp.Equal(got, want) {
			t.Errorf("announced = %q, want %q", got, want)
		}
	})
}

// TestConfigFile reads the plugin's own section of a configuration file.
func TestConfigFile(t *testing.T) {
	doc := `backend = "console"

[plugins.deploy]
services = ["api"]
room = "~ops"
webhook_secret = "from-the-file"
`
	cfg, err := config.Parse("matterbot.toml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := bottest.NewWithOptions(t, &bot.Options{PluginConfig: cfg.PluginTables()}, &deploy.Plugin{})
	got, err := b.Engine.PluginConfig("deploy")
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"room\": \"~ops\",\n  \"services\": [\n    \"api\"\n  ],\n  \"token\": \"******\",\n  \"webhook_secret\": \"******\"\n}"
	if got != want {
		t.Errorf("PluginConfig(deploy) = %s, want %s", got, want)
	}
	r := httptest.NewRequest("POST", "/deploy/done", strings.NewReader("service=api&env=prod&ref=v1&status=ok&by=ci"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Hub-Signature-256", bot.WebhookAuth{Secret: "from-the-file"}.Sign([]byte("service=api&env=prod&ref=v1&status=ok&by=ci")))
	if got, want := bottest.Response(b.Webhook(r)), "204 "; got != want {
		t.Errorf("form POST signed with the file's secret = %q, want %q", got, want)
	}

	bad := strings.Replace(doc, "room =", "rooom =", 1)
	cfg, err = config.Parse("matterbot.toml", []byte(bad), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bot.New(bottest.NewBackend(), &bot.Options{PluginConfig: cfg.PluginTables()}, &deploy.Plugin{})
	wantErr := "bot: plugin deploy: setup: config: matterbot.toml:5: plugins.deploy.rooom: unknown key (did you mean room?)"
	if err == nil || err.Error() != wantErr {
		t.Errorf("New() with a typo = %v, want %s", err, wantErr)
	}
}

func TestConfigRequired(t *testing.T) {
	_, err := bot.New(bottest.NewBackend(), nil, &deploy.Plugin{})
	if err == nil || err.Error() != "bot: plugin deploy: setup: config: no services" {
		t.Errorf("New() without config = %v, want the missing services named", err)
	}
}
