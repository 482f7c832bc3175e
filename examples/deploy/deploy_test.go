package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/examples/deploy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var clock = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func newBot(t *testing.T, d deploy.Deployer) *bottest.Bot {
	t.Helper()
	opts := &bot.Options{
		Admins: []string{"@alice"},
		PluginConfig: map[string]any{"deploy": map[string]any{
			"services": []string{"api", "web"}, "room": "~ops", "token": "t0ken",
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
		{"@carol", "!deploy web prod -f --ref broken", []bottest.Reply{text("Deploying web@broken to prod…"), text("`!deploy` failed: deploy web to prod: health check failed")}},
		{"@bob", "!deploy status api", []bottest.Reply{text("• api/staging: `v1` by @bob at 2026-11-26 09:30:00\n• api/prod: `v2` by @carol at 2026-11-26 09:30:00")}},
		{"@bob", "so what's on prod now?", []bottest.Reply{text("On prod: api@v2.")}},
		// Rollback replies go to a thread on the command (message m13...).
		{"@bob", "!deploy rollback api prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m13", Text: "`!deploy rollback`: only bot admins may run this command."}}},
		{"@alice", "!deploy rollback web prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m14", Text: "`!deploy rollback` failed: no earlier deploy of web to prod"}}},
		{"@alice", "!deploy rollback api prod", []bottest.Reply{{To: "~test/town-square", RoomID: "r-town-square", ThreadID: "m15", Text: "Rolled api in prod back to `v1`."}}},
	}
	for i, s := range steps {
		got := b.SayAs(s.user, "~town-square", s.in)
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
	want := "{\n  \"room\": \"~ops\",\n  \"services\": [\n    \"api\",\n    \"web\"\n  ],\n  \"token\": \"******\"\n}"
	if cfg != want {
		t.Errorf("PluginConfig() = %s, want %s", cfg, want)
	}
}

func TestAnnounce(t *testing.T) {
	b := newBot(t, nil)
	b.SayAs("@bob", "~ops", "!deploy web staging --ref abc")
	scheds := b.Engine.Schedules()
	if len(scheds) != 1 || scheds[0].Plugin != "deploy" || scheds[0].Interval != time.Minute {
		t.Fatalf("Schedules() = %+v, want one every minute for deploy", scheds)
	}
	// The scheduler is not part of package bot: run the job as it would.
	run := func() []string {
		if err := scheds[0].Run(context.Background()); err != nil {
			t.Fatalf("announce: %v", err)
		}
		var out []string
		for _, r := range b.Replies() {
			out = append(out, r.To+" "+r.Text)
		}
		return out
	}
	if diff := cmp.Diff([]string{"~test/ops web/staging is now at `abc` (by @bob)."}, run()); diff != "" {
		t.Errorf("first run mismatch (-want +got):\n%s", diff)
	}
	if got := run(); len(got) != 0 {
		t.Errorf("second run = %q, want nothing new", got)
	}
}

func TestConfigRequired(t *testing.T) {
	_, err := bot.New(bottest.NewBackend(), nil, &deploy.Plugin{})
	if err == nil || err.Error() != "bot: plugin deploy: setup: config: no services" {
		t.Errorf("New() without config = %v, want the missing services named", err)
	}
}
