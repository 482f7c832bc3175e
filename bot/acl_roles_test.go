package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// TestACLMattermost: rules by role (an admin role covering those below
// it), team and kind of room, beside the user and room rules, and
// Explain naming the rule that decides and why.
func TestACLMattermost(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, ACLs: []bot.ACL{
		{Pattern: "deploy", Rule: bot.Rule{AllowRoles: []string{bot.RoleChannelAdmin}}},
		{Pattern: "status", Rule: bot.Rule{DenyRoles: []string{bot.RoleGuest}, AllowTeams: []string{"te*"}}},
		{Pattern: "joke", Rule: bot.Rule{AllowKinds: []string{bot.RoomDirect, bot.RoomChannel}, DenyTeams: []string{"test"}}},
	}}, opsPlugins()...)
	b.Backend.SetRoles("u-carol", bot.Roles{TeamAdmin: true})
	b.Backend.SetRoles("u-dave", bot.Roles{ChannelAdmin: true})
	b.Backend.SetRoles("u-eve", bot.Roles{Guest: true})
	group := func(user, text string) []bottest.Reply {
		m := b.Message(user, "", text)
		m.Direct, m.Room = false, bot.Room{ID: "g-1", Name: "g1", Kind: bot.RoomGroup}
		return b.Deliver(m)
	}
	refused := func(cmd, why string) []string { return []string{"`!" + cmd + "`: " + why + "."} }
	tests := []struct {
		name string
		got  []bottest.Reply
		want []string
	}{
		{"plain member refused by role", b.SayAs("@bob", "~ops", "!deploy"), refused("deploy", "you are not allowed to run this command")},
		{"channel admin", b.SayAs("@dave", "~ops", "!deploy"), []string{"deployed"}},
		{"team admin counts as channel admin", b.SayAs("@carol", "~ops", "!deploy"), []string{"deployed"}},
		{"guest denied", b.SayAs("@eve", "~ops", "!status"), refused("status", "you are not allowed to run this command")},
		{"team allowed", b.SayAs("@bob", "~ops", "!status"), []string{"ok"}},
		{"team denied", b.SayAs("@bob", "~ops", "!joke"), refused("joke", "this command cannot be run in this team")},
		{"kind allowed, no team", b.DM("@bob", "!joke"), []string{"ha"}},
		{"kind refused", group("@bob", "!joke"), refused("joke", "this command cannot be run in a group message")},
	}
	for _, tc := range tests {
		if got := bottest.Texts(tc.got); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: replies %q, want %q", tc.name, got, tc.want)
		}
	}

	ops := bot.Room{ID: "r-ops", Name: "ops", Team: bottest.DefaultTeam}
	bob := bot.User{ID: "u-bob", Username: "bob"}
	for _, tc := range []struct {
		cmd    string
		user   bot.User
		direct bool
		want   string
	}{
		{"deploy", bob, false, "`!deploy` (ops:deploy) for @bob in ~test/ops: denied by access rule 1 (match deploy): @bob has roles member here, none of allowroles channel_admin."},
		{"deploy", bot.User{ID: "u-carol", Username: "carol"}, false, "`!deploy` (ops:deploy) for @carol in ~test/ops: allowed by access rule 1 (match deploy)."},
		{"status", bot.User{ID: "u-eve", Username: "eve"}, false, "`!status` (ops:status) for @eve in ~test/ops: denied by access rule 2 (match status): @eve is guest here, in denyroles."},
		{"joke", bob, true, "`!joke` (fun:joke) for @bob in a direct message: allowed by access rule 3 (match joke)."},
		{"deploy rollback", bob, false, "`!deploy rollback` (ops:deploy rollback) for @bob in ~test/ops: denied by the command itself (admin only): @bob is not a bot admin."},
		{"DEPLOY  rollback", bot.User{ID: "u-alice", Username: "alice"}, false, "`!deploy rollback` (ops:deploy rollback) for @alice in ~test/ops: allowed by the default access rule."},
	} {
		room := ops
		if tc.direct {
			room = bot.Room{ID: "dm-u-bob", Name: "dm-bob", Kind: bot.RoomDirect}
		}
		got, err := b.Engine.Explain(context.Background(), tc.cmd, tc.user, room, tc.direct)
		if err != nil || got != tc.want {
			t.Errorf("Explain(%q, %s) = %q, %v\nwant %q", tc.cmd, tc.user, got, err, tc.want)
		}
	}
	if _, err := b.Engine.Explain(context.Background(), "nope", bob, ops, false); err == nil {
		t.Error("Explain of an unknown command: no error")
	}
}

// rolelessBackend is a backend that cannot tell roles.
type rolelessBackend struct{ bot.Backend }

// TestACLRolesNeedABackend: a rule naming roles on a backend that cannot
// tell them is refused by New; bad role, kind and team names too.
func TestACLRolesNeedABackend(t *testing.T) {
	for _, tc := range []struct {
		name string
		be   bot.Backend
		rule bot.Rule
		want string
	}{
		{"roles without RoleChecker", rolelessBackend{bottest.NewBackend()}, bot.Rule{DenyRoles: []string{bot.RoleGuest}}, "need a backend that knows roles"},
		{"unknown role", bottest.NewBackend(), bot.Rule{AllowRoles: []string{"owner"}}, `role "owner"`},
		{"unknown kind", bottest.NewBackend(), bot.Rule{AllowKinds: []string{"dm"}}, `kind "dm"`},
		{"team with a sigil", bottest.NewBackend(), bot.Rule{AllowTeams: []string{"~ops"}}, `team "~ops"`},
	} {
		_, err := bot.New(tc.be, &bot.Options{ACLs: []bot.ACL{{Pattern: "x", Rule: tc.rule}}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New() = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
