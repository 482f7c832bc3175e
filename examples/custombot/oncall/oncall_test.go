package oncall_test

import (
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"

	"example.com/ourbot/oncall"
)

func TestOncall(t *testing.T) {
	week2 := time.Unix(2*7*24*3600+60, 0) // the third week: index 2
	b := bottest.NewWithOptions(t, &bot.Options{
		Admins:       []string{"@alice"},
		PluginConfig: map[string]any{"oncall": map[string]any{"rotation": []string{"@alice", "@bob", "@carol"}}},
	}, &oncall.Plugin{Now: func() time.Time { return week2 }})

	steps := []struct{ user, say, want string }{
		{"@dave", "!oncall", "@carol is on call this week."},
		{"@dave", "!oncall set @dave", "`!oncall set`: only bot admins may run this command."},
		{"@alice", "!oncall set @dave", "@dave has the pager."},
		{"@bob", "!oncall", "@dave is on call (override)."},
		{"@alice", "!oncall clear", "Back to the rotation."},
		{"@bob", "!oncall", "@carol is on call this week."},
	}
	for _, s := range steps {
		got := bottest.Texts(b.SayAs(s.user, "~ops", s.say))
		if len(got) != 1 || got[0] != s.want {
			t.Errorf("%s says %q: replies %q, want %q", s.user, s.say, got, s.want)
		}
	}
}
