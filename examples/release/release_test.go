package release_test

import (
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/examples/release"
)

func TestRelease(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &release.Plugin{})
	rs := b.Say("!release api 1.4.2")
	if len(rs) != 1 || rs[0].Card == nil || len(rs[0].Card.Actions) != 3 {
		t.Fatalf("!release = %+v, want a card with three actions", rs)
	}
	card := rs[0]

	// The menu moves the release to production; the card says so.
	c := b.Click("@bob", card, "Environment", "prod")
	if c.Answer.Update == nil || c.Answer.Update.Card.Fields[0].Value != "prod" {
		t.Errorf("choosing prod: %+v", c.Answer)
	}
	// Only an admin approves.
	if c := b.Click("@bob", card, "Approve", ""); !strings.Contains(c.Answer.Ephemeral, "only bot admins") {
		t.Errorf("bob approves: %+v", c.Answer)
	}
	c = b.Click("@alice", card, "Approve", "")
	if c.Answer.Ephemeral != "Released api 1.4.2 to prod." || len(c.Answer.Update.Card.Actions) != 0 ||
		c.Answer.Update.Card.Fields[1].Value != "released, approved by @alice" {
		t.Errorf("alice approves: %+v %+v", c.Answer, c.Answer.Update)
	}

	// Schedule… opens the dialog; a bad answer stays in it.
	c = b.Click("@bob", card, "Schedule…", "")
	if len(c.Dialogs) != 1 || c.Dialogs[0].Elements[1].Default != "prod" {
		t.Fatalf("Schedule…: %+v", c)
	}
	ans, _ := b.Submit("@bob", "~ops", c.Dialogs[0], map[string]any{"when": "never", "env": "prod"})
	if ans.Errors["when"] != "pick a time, or close the dialog" {
		t.Errorf("never: %+v", ans)
	}
	ans, got := b.Submit("@bob", "~ops", c.Dialogs[0], map[string]any{"when": "tonight", "env": "prod", "notes": "after the freeze"})
	if ans.Error != "" || len(ans.Errors) != 0 || len(got) != 1 ||
		got[0].Text != "api 1.4.2 will go to prod tonight (scheduled by @bob).\n> after the freeze" {
		t.Errorf("tonight: %+v %+v", ans, got)
	}
}

// As a slash command, release posts its card in the channel (others
// approve it), and release schedule opens the dialog at once; as a
// message, release schedule answers with the card, whose button opens it.
func TestReleaseSlash(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &release.Plugin{})
	m := b.Message("@bob", "~town-square", "release api 1.4.2")
	m.Slash, m.TriggerID = true, "trigger-1"
	rs := b.Deliver(m)
	if len(rs) != 1 || rs[0].Card == nil || len(rs[0].Card.Actions) != 3 || rs[0].RoomID != m.Room.ID {
		t.Fatalf("/release = %+v, want the card in the room", rs)
	}

	m = b.Message("@bob", "~town-square", "release schedule api 1.4.2")
	m.Slash, m.TriggerID = true, "trigger-2"
	if rs := b.Deliver(m); len(rs) != 0 {
		t.Errorf("/release schedule replied %+v, want only the dialog", rs)
	}
	ds := b.Backend.Dialogs()
	if len(ds) != 1 || ds[0].Value != "api 1.4.2" || ds[0].Elements[1].Default != "staging" {
		t.Fatalf("/release schedule opened %+v, want the schedule dialog of api 1.4.2", ds)
	}
	if ans, _ := b.Submit("@bob", "~town-square", ds[0], map[string]any{"when": "never", "env": "prod"}); ans.Errors["when"] == "" {
		t.Errorf("never: %+v, want an error on when", ans)
	}

	rs = b.SayAs("@bob", "~town-square", "!release schedule api 1.4.2")
	if len(rs) != 1 || rs[0].Card == nil || !strings.Contains(rs[0].Card.Summary, "Schedule…") {
		t.Fatalf("!release schedule = %+v, want the card and a hint", rs)
	}
	if c := b.Click("@bob", rs[0], "Schedule…", ""); len(c.Dialogs) != 1 {
		t.Errorf("Schedule… on that card opened %d dialogs, want 1", len(c.Dialogs))
	}
}
