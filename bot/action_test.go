package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

type deployForm struct {
	Service  string `label:"Service" min:"2" max:"10"`
	Env      string `label:"Environment" options:"Staging=staging,Production=prod" default:"staging"`
	Replicas int    `label:"Replicas" optional:""`
	Owner    string `label:"Owner" data:"users" optional:""`
	Force    bool   `label:"Force"`
	Notes    string `label:"Notes" textarea:"" optional:""`
}

// approvals is a plugin with a card of buttons and a menu, and a dialog.
func approvals(got *[]string) bot.Setuper {
	return plug{"approvals", func(p *bot.Plugin) error {
		p.Command("ask", func(ctx context.Context, req *bot.Request) error {
			return req.Card(bot.Card{Title: "deploy api?", Actions: []bot.Action{
				bot.Button("Approve", "approve", "api").Styled("primary"),
				bot.Button("Boom", "boom", ""),
				bot.Button("Fail", "fail", ""),
				bot.Button("Slow", "slow", ""),
				bot.Button("Form", "form", "api"),
				bot.Button("Admin", "admin", ""),
				bot.Menu("Env", "env", bot.Option{Text: "Staging", Value: "staging"}),
			}})
		})
		p.Command("bad", func(ctx context.Context, req *bot.Request) error {
			return req.Card(bot.Card{Title: "x", Actions: []bot.Action{bot.Button("Nope", "undeclared", "")}})
		})
		p.OnClick("approve", func(ctx context.Context, c *bot.Click) error {
			*got = append(*got, "approve "+c.Value+" by "+c.User.Username+" in "+c.Room.Name)
			if err := c.Reply("approved"); err != nil {
				return err
			}
			c.Ephemeral("thanks")
			return c.Update("done", &bot.Card{Title: "approved", Actions: []bot.Action{bot.Button("Again", "approve", "api")}})
		})
		p.OnClick("env", func(ctx context.Context, c *bot.Click) error {
			*got = append(*got, "env "+c.Selected)
			return bot.UserErrorf("no deploys to %s today", c.Selected)
		})
		p.OnClick("boom", func(ctx context.Context, c *bot.Click) error { panic("kaboom") })
		p.OnClick("fail", func(ctx context.Context, c *bot.Click) error { return errors.New("database down") })
		p.OnClick("slow", func(ctx context.Context, c *bot.Click) error {
			<-ctx.Done()
			return ctx.Err()
		}).Timeout(time.Millisecond)
		p.OnClick("form", func(ctx context.Context, c *bot.Click) error {
			return c.OpenDialog("deploy", bot.DialogOptions{Value: c.Value, Intro: "Deploy " + c.Value,
				Defaults: deployForm{Service: c.Value, Replicas: 3}})
		})
		p.OnClick("admin", func(ctx context.Context, c *bot.Click) error { return nil }).AdminOnly()
		bot.Form(p, "deploy", "Deploy", func(ctx context.Context, s *bot.Submission, f deployForm) error {
			if f.Service == "nope" {
				return bot.FieldErrors{"service": "no such service"}
			}
			if f.Service == "down" {
				return bot.UserErrorf("the deployer is down")
			}
			*got = append(*got, "deploy "+s.Value+": "+strings.Join([]string{f.Service, f.Env, f.Owner, f.Notes}, ",")+
				" x"+string(rune('0'+f.Replicas))+map[bool]string{true: " forced", false: ""}[f.Force])
			return s.Reply("deploying " + f.Service)
		})
		return nil
	}}
}

func TestClick(t *testing.T) {
	var got []string
	var logs syncBuffer
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs), Admins: []string{"@alice"}}, approvals(&got))
	rs := b.SayAs("@bob", "~ops", "!ask")
	if len(rs) != 1 || rs[0].Card == nil || len(rs[0].Card.Actions) != 7 {
		t.Fatalf("!ask = %+v, want one card with 7 actions", rs)
	}
	card := rs[0]
	for _, a := range card.Card.Actions {
		if a.Plugin != "approvals" {
			t.Errorf("action %q: Plugin = %q, want approvals", a.Name, a.Plugin)
		}
	}

	c := b.Click("@bob", card, "Approve", "")
	if diff := cmp.Diff([]string{"approve api by bob in ops"}, got); diff != "" {
		t.Errorf("handler calls (-want +got):\n%s", diff)
	}
	if c.Answer.Ephemeral != "thanks" || c.Answer.Update == nil || c.Answer.Update.Text != "done" ||
		c.Answer.Update.Card.Title != "approved" || c.Answer.Update.Card.Actions[0].Plugin != "approvals" {
		t.Errorf("answer = %+v, want ephemeral thanks and an update with a stamped card", c.Answer)
	}
	if len(c.Replies) != 1 || c.Replies[0].Text != "approved" || c.Replies[0].To != "~test/ops" {
		t.Errorf("replies = %+v, want approved in ~ops", c.Replies)
	}
	if !strings.Contains(logs.String(), `msg=command request_id=`) || !strings.Contains(logs.String(), `command="click approve" outcome=ok`) {
		t.Errorf("log has no line for the click:\n%s", logs.String())
	}

	tests := []struct {
		label, selected, user string
		ephemeral             string
	}{
		{"Env", "staging", "@bob", "no deploys to staging today"},
		{"Boom", "", "@bob", "Sorry, that failed (ref REF)."},
		{"Fail", "", "@bob", "Sorry, that failed (ref REF)."},
		{"Slow", "", "@bob", "That took too long (more than 1ms): I stopped."},
		{"Admin", "", "@bob", "You cannot use this: only bot admins may run this command."},
		{"Admin", "", "@alice", ""},
	}
	for _, tc := range tests {
		c := b.Click(tc.user, card, tc.label, tc.selected)
		got := bottest.Unref([]bottest.Reply{{Text: c.Answer.Ephemeral}})[0].Text
		if got != tc.ephemeral || c.Answer.Update != nil {
			t.Errorf("click %s as %s: answer %+v, want ephemeral %q", tc.label, tc.user, c.Answer, tc.ephemeral)
		}
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "database down") {
		t.Errorf("the log lacks the panic or the error:\n%s", logs.String())
	}

	// A card naming an action the plugin did not declare is not sent.
	if rs := bottest.Unref(b.Say("!bad")); len(rs) != 1 || rs[0].Card != nil || !strings.HasPrefix(rs[0].Text, "Sorry") {
		t.Errorf("!bad = %+v, want only the engine's apology", rs)
	}
}

func TestClickUnknownOrInactive(t *testing.T) {
	var got []string
	b := bottest.New(t, approvals(&got))
	card := b.Say("!ask")[0]
	forged := card
	forged.Card = &bot.Card{Actions: []bot.Action{{Name: "gone", Label: "Gone", Plugin: "approvals"}}}
	if c := b.Click("@bob", forged, "Gone", ""); c.Answer.Ephemeral != "This button no longer works: the bot does not know it any more." {
		t.Errorf("unknown action: %+v", c.Answer)
	}
	if err := b.Engine.Deactivate(context.Background(), "approvals"); err != nil {
		t.Fatal(err)
	}
	if c := b.Click("@bob", card, "Approve", ""); c.Answer.Ephemeral != "This button does not work right now: the approvals plugin is not active." {
		t.Errorf("inactive plugin: %+v", c.Answer)
	}
	if len(got) != 0 {
		t.Errorf("handlers ran: %q", got)
	}
}

func TestClickACL(t *testing.T) {
	var got []string
	b := bottest.NewWithOptions(t, &bot.Options{ACLs: []bot.ACL{
		{Pattern: "approvals:approve", Rule: bot.Rule{AllowUsers: []string{"@carol"}}},
	}}, approvals(&got))
	card := b.Say("!ask")[0]
	if c := b.Click("@bob", card, "Approve", ""); c.Answer.Ephemeral != "You cannot use this: you are not allowed to run this command." {
		t.Errorf("bob: %+v", c.Answer)
	}
	if c := b.Click("@carol", card, "Approve", ""); c.Answer.Ephemeral != "thanks" {
		t.Errorf("carol: %+v", c.Answer)
	}
}

func TestDialog(t *testing.T) {
	var got []string
	b := bottest.New(t, approvals(&got))
	card := b.Say("!ask")[0]
	c := b.Click("@bob", card, "Form", "")
	if c.Answer.Ephemeral != "" || len(c.Dialogs) != 1 {
		t.Fatalf("click Form: %+v, want one dialog", c)
	}
	d := c.Dialogs[0]
	want := &bot.Dialog{Plugin: "approvals", Name: "deploy", Value: "api", Title: "Deploy", Intro: "Deploy api", Elements: []bot.DialogElement{
		{Name: "service", Label: "Service", Type: "text", Default: "api", MinLength: 2, MaxLength: 10},
		{Name: "env", Label: "Environment", Type: "select", Default: "staging",
			Options: []bot.Option{{Text: "Staging", Value: "staging"}, {Text: "Production", Value: "prod"}}},
		{Name: "replicas", Label: "Replicas", Type: "text", Subtype: "number", Default: "3", Optional: true},
		{Name: "owner", Label: "Owner", Type: "select", DataSource: "users", Optional: true},
		{Name: "force", Label: "Force", Type: "bool", Optional: true},
		{Name: "notes", Label: "Notes", Type: "textarea", Optional: true, MaxLength: 3000},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("dialog (-want +got):\n%s", diff)
	}

	tests := []struct {
		name   string
		fields map[string]any
		want   bot.SubmissionAnswer
		calls  []string
	}{
		{"missing and bad", map[string]any{"service": "a", "env": "qa", "replicas": "many", "force": "maybe"},
			bot.SubmissionAnswer{Errors: map[string]string{"service": "Enter at least 2 characters.", "env": "Pick one of the choices.",
				"replicas": "Enter a number.", "force": "Check it or leave it."}}, nil},
		{"required", map[string]any{"env": "prod"}, bot.SubmissionAnswer{Errors: map[string]string{"service": "This field is required."}}, nil},
		{"too long, not whole", map[string]any{"service": "abcdefghijk", "env": "prod", "replicas": 2.5},
			bot.SubmissionAnswer{Errors: map[string]string{"service": "Enter at most 10 characters.", "replicas": "Enter a whole number."}}, nil},
		{"handler field error", map[string]any{"service": "nope", "env": "prod"},
			bot.SubmissionAnswer{Errors: map[string]string{"service": "no such service"}}, nil},
		{"handler user error", map[string]any{"service": "down", "env": "prod"}, bot.SubmissionAnswer{Error: "the deployer is down"}, nil},
		{"ok", map[string]any{"service": "web", "env": "prod", "replicas": 4.0, "owner": "u-carol", "force": true, "notes": ""},
			bot.SubmissionAnswer{}, []string{"deploy api: web,prod,u-carol, x4 forced"}},
		{"ok with strings", map[string]any{"service": "web", "env": "staging", "replicas": "2", "force": "false"},
			bot.SubmissionAnswer{}, []string{"deploy api: web,staging,, x2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			ans, rs := b.Submit("@bob", "~ops", d, tc.fields)
			if diff := cmp.Diff(tc.want, ans); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.calls, got); diff != "" {
				t.Errorf("handler (-want +got):\n%s", diff)
			}
			if tc.calls != nil && (len(rs) != 1 || rs[0].To != "~test/ops") {
				t.Errorf("replies = %+v, want one in ~ops", rs)
			}
		})
	}
	unknown := *d
	unknown.Name = "gone"
	if ans, _ := b.Submit("@bob", "~ops", &unknown, nil); ans.Error != "This dialog no longer works: the bot does not know it any more." {
		t.Errorf("unknown dialog: %+v", ans)
	}
}

func TestInteractDeclarationErrors(t *testing.T) {
	h := func(context.Context, *bot.Click) error { return nil }
	type bad struct {
		Tags []string
	}
	type badDefault struct {
		Env string `options:"a,b" default:"c"`
	}
	tests := []struct {
		name  string
		setup func(p *bot.Plugin)
		want  string
	}{
		{"empty click", func(p *bot.Plugin) { p.OnClick("", h) }, "click handler: empty name"},
		{"nil click", func(p *bot.Plugin) { p.OnClick("x", nil) }, `click handler "x": nil handler`},
		{"twice", func(p *bot.Plugin) { p.OnClick("x", h); p.OnClick("x", h) }, `click handler "x" declared twice`},
		{"long title", func(p *bot.Plugin) {
			bot.Form(p, "f", "a title far too long for a dialog", func(context.Context, *bot.Submission, deployForm) error { return nil })
		}, "want 1 to 24 characters"},
		{"field type", func(p *bot.Plugin) {
			bot.Form(p, "f", "F", func(context.Context, *bot.Submission, bad) error { return nil })
		}, "field Tags: type []string: want string, bool or a number"},
		{"default", func(p *bot.Plugin) {
			bot.Form(p, "f", "F", func(context.Context, *bot.Submission, badDefault) error { return nil })
		}, `default:"c": not one of the options`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bot.New(bottest.NewBackend(), nil, plug{"p", func(p *bot.Plugin) error { tc.setup(p); return nil }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestDialogFromSlashCommand: a command with a trigger id (a slash
// command) opens a dialog; one without says it cannot.
func TestDialogFromSlashCommand(t *testing.T) {
	var got []string
	b := bottest.New(t, approvals(&got), plug{"opener", func(p *bot.Plugin) error {
		p.Command("open", func(ctx context.Context, req *bot.Request) error {
			if err := req.OpenDialog("deploy", bot.DialogOptions{Value: "slash"}); err != nil {
				return bot.UserErrorf("%v", err)
			}
			return nil
		})
		bot.Form(p, "deploy", "Deploy", func(ctx context.Context, s *bot.Submission, f deployForm) error { return nil })
		return nil
	}})
	m := b.Message("@bob", "~ops", "!open")
	m.TriggerID = "trigger-1"
	if rs := b.Deliver(m); len(rs) != 0 {
		t.Errorf("!open with a trigger id answered %+v", rs)
	}
	if ds := b.Backend.Dialogs(); len(ds) != 1 || ds[0].Plugin != "opener" || ds[0].Value != "slash" {
		t.Errorf("dialogs = %+v, want the opener's deploy", ds)
	}
	if rs := b.Say("!open"); len(rs) != 1 || !strings.Contains(rs[0].Text, "no trigger id") {
		t.Errorf("!open as a message = %+v, want the error", rs)
	}
}
