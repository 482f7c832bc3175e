package whoami_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins/whoami"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWhoami(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, whoami.Plugin{})
	got := bottest.Texts(b.SayInThread("@alice", "~ops", "root7", "!whoami"))
	want := "| | |\n|---|---|\n| user | @alice |\n| user id | `u-alice` |\n| full name | Alice |\n| admin | yes |\n" +
		"| room | ~test/ops |\n| room id | `r-ops` |\n| thread | root7 |"
	if diff := cmp.Diff([]string{want}, got); diff != "" {
		t.Errorf("whoami in a thread mismatch (-want +got):\n%s", diff)
	}
	b.Backend.AddUser(bot.User{ID: "u-zed", Username: "zed"})
	got = bottest.Texts(b.DM("@zed", "whoami"))
	want = "| | |\n|---|---|\n| user | @zed |\n| user id | `u-zed` |\n| full name | — |\n| admin | no |\n" +
		"| room | direct message |\n| room id | `dm-u-zed` |\n| thread | — |"
	if diff := cmp.Diff([]string{want}, got); diff != "" {
		t.Errorf("whoami in a DM mismatch (-want +got):\n%s", diff)
	}
}
