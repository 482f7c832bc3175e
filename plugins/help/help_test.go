package help_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/plugins/help"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type deploy struct{}

type deployArgs struct {
	Service string `arg:"" help:"service to deploy"`
	Env     string `arg:"" enum:"staging,prod"`
	Force   bool   `help:"skip the health checks"`
}

func (deploy) Setup(p *bot.Plugin) error {
	p.Describe("deploys services")
	bot.Command(p, "deploy", func(context.Context, *bot.Request, deployArgs) error { return nil }).
		Help("deploy a service\nIt waits for the health checks.").Alias("ship")
	p.Command("deploy rollback", func(context.Context, *bot.Request) error { return nil }).Help("roll back").AdminOnly()
	p.Command("secret", func(context.Context, *bot.Request) error { return nil }).Hidden()
	return nil
}

type other struct{}

func (other) Setup(p *bot.Plugin) error {
	p.Command("other", func(context.Context, *bot.Request) error { return nil })
	return nil
}

func TestHelp(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}, Inactive: []string{"other"}}, &help.Plugin{}, deploy{}, other{})
	tests := []struct {
		name, user, in, want string
	}{
		{"list for a user", "@bob", "!help", "**deploy** — deploys services\n" +
			"• `!deploy <service> <env> [--force]` — deploy a service\n\n" +
			"**help** — lists and explains commands\n" +
			"• `!help [<command or plugin>]` — list the commands, or explain one command or plugin\n\n" +
			"Type `!help <command>` for more."},
		{"list for an admin", "@alice", "!help", "**deploy** — deploys services\n" +
			"• `!deploy <service> <env> [--force]` — deploy a service\n" +
			"• `!deploy rollback` — roll back (admin)\n\n" +
			"**help** — lists and explains commands\n" +
			"• `!help [<command or plugin>]` — list the commands, or explain one command or plugin\n\n" +
			"Type `!help <command>` for more."},
		{"one command", "@bob", "!help deploy", "`!deploy <service> <env> [--force]`\n" +
			"deploy a service\nIt waits for the health checks.\n" +
			"Aliases: `!ship`\n" +
			"    <service>  service to deploy\n" +
			"    <env>  (one of staging, prod)\n" +
			"    --force  skip the health checks\n"},
		{"by alias with prefix", "@bob", "!help !SHIP", "`!deploy <service> <env> [--force]`\n" +
			"deploy a service\nIt waits for the health checks.\n" +
			"Aliases: `!ship`\n" +
			"    <service>  service to deploy\n" +
			"    <env>  (one of staging, prod)\n" +
			"    --force  skip the health checks\n"},
		{"command with subcommands, for an admin", "@alice", "!help deploy", "`!deploy <service> <env> [--force]`\n" +
			"deploy a service\nIt waits for the health checks.\n" +
			"Aliases: `!ship`\n" +
			"Subcommands: `!deploy rollback`\n" +
			"    <service>  service to deploy\n" +
			"    <env>  (one of staging, prod)\n" +
			"    --force  skip the health checks\n"},
		{"admin command for admin", "@alice", "!help deploy rollback", "`!deploy rollback` (admin only)\nroll back\n"},
		{"admin command hidden from users", "@bob", "!help deploy rollback", "No command or plugin \"deploy rollback\". Type `!help` for the list."},
		{"hidden command", "@alice", "!help secret", "No command or plugin \"secret\". Type `!help` for the list."},
		{"inactive plugin", "@alice", "!help other", "No command or plugin \"other\". Type `!help` for the list."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bottest.Texts(b.SayAs(tc.user, "~ops", tc.in))
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("%s: Say(%q) mismatch (-want +got):\n%s", tc.user, tc.in, diff)
			}
		})
	}
	got := bottest.Texts(b.SayAs("@bob", "~ops", "!help help"))
	want := "`!help [<command or plugin>]`\nlist the commands, or explain one command or plugin\n"
	if diff := cmp.Diff([]string{want}, got); diff != "" {
		t.Errorf("Say(!help help) mismatch (-want +got):\n%s", diff)
	}
}

type tools struct{}

func (tools) Setup(p *bot.Plugin) error {
	p.Command("lint", func(context.Context, *bot.Request) error { return nil }).Help("lint the repo")
	p.Command("fmt", func(context.Context, *bot.Request) error { return nil })
	return nil
}

func TestHelpPlugin(t *testing.T) {
	b := bottest.New(t, &help.Plugin{}, tools{})
	want := "**tools**\n• `!fmt`\n• `!lint` — lint the repo\n\nType `!help <command>` for more."
	if diff := cmp.Diff([]string{want}, bottest.Texts(b.Say("!help Tools"))); diff != "" {
		t.Errorf("Say(!help Tools) mismatch (-want +got):\n%s", diff)
	}
}

type database struct{}

func (database) Setup(p *bot.Plugin) error {
	p.Command("db backup", func(context.Context, *bot.Request) error { return nil }).Help("back up the database\nTakes a minute.")
	p.Command("db restore", func(context.Context, *bot.Request) error { return nil }).Usage("<backup>").Help("restore a backup").AdminOnly()
	p.Command("db vacuum", func(context.Context, *bot.Request) error { return nil }).Hidden()
	return nil
}

func TestHelpGroup(t *testing.T) {
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &help.Plugin{}, database{})
	tests := []struct {
		name, user, in, want string
	}{
		{"for a user", "@bob", "!help db", "`!db` commands:\n" +
			"• `!db backup` — back up the database\n\n" +
			"Type `!help <command>` for more."},
		{"for an admin", "@alice", "!help DB", "`!db` commands:\n" +
			"• `!db backup` — back up the database\n" +
			"• `!db restore <backup>` — restore a backup (admin)\n\n" +
			"Type `!help <command>` for more."},
		{"not a group", "@alice", "!help d", "No command or plugin \"d\". Type `!help` for the list."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bottest.Texts(b.SayAs(tc.user, "~ops", tc.in))
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("%s: Say(%q) mismatch (-want +got):\n%s", tc.user, tc.in, diff)
			}
		})
	}
}
