package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

func TestCommandArgs(t *testing.T) {
	args := []bot.Arg{
		{Name: "service", Positional: true, Help: "service to deploy"},
		{Name: "env", Positional: true, Enum: []string{"staging", "prod"}},
		{Name: "force", Type: bot.ArgBool, Short: "f"},
		{Name: "replicas", Type: bot.ArgInt, Default: "2"},
		{Name: "wait", Type: bot.ArgDuration},
		{Name: "ratio", Type: bot.ArgFloat},
		{Name: "tag", Type: bot.ArgStrings},
	}
	p := plug{"typed", func(p *bot.Plugin) error {
		p.CommandArgs("deploy", args, func(ctx context.Context, req *bot.Request, v map[string]any) error {
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range v {
					if !yield(k) {
						return
					}
				}
			})
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%#v", k, v[k]))
			}
			return req.Reply(strings.Join(parts, " "))
		}).Help("deploy a service")
		return nil
	}}
	b := bottest.New(t, p)
	usage := "\nUsage: `!deploy <service> <env> [--force] [--replicas REPLICAS] [--wait WAIT] [--ratio RATIO] [--tag TAG]`"
	tests := []struct {
		name, in, want string
	}{
		{"all", "!deploy api prod -f --replicas 3 --wait 1m30s --ratio 0.5 --tag a --tag b",
			`env="prod" force=true ratio=0.5 replicas=3 service="api" tag=[]string{"a", "b"} wait=90000000000`},
		{"defaults", "!deploy api staging",
			`env="staging" force=false ratio=0 replicas=2 service="api" tag=[]string(nil) wait=0`},
		{"missing", "!deploy api", "`!deploy`: missing <env>." + usage},
		{"enum", "!deploy api dev", "`!deploy`: <env>: \"dev\" is not one of staging, prod." + usage},
		{"bad int", "!deploy api prod --replicas x", "`!deploy`: --replicas: \"x\" is not a whole number." + usage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff([]string{tc.want}, texts(b.Say(tc.in))); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	var info bot.CommandInfo
	for _, c := range b.Engine.Commands() {
		if c.Name == "deploy" {
			info = c
		}
	}
	if want := "<service>  service to deploy"; len(info.Arguments) == 0 || info.Arguments[0] != want {
		t.Errorf("Arguments = %q, want first %q", info.Arguments, want)
	}
}

func TestCommandArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []bot.Arg
		want string
	}{
		{"unknown type", []bot.Arg{{Name: "x", Type: "integer"}}, `argument "x": unknown type "integer"`},
		{"twice", []bot.Arg{{Name: "x"}, {Name: "x"}}, `argument "x" declared twice`},
		{"bool positional", []bot.Arg{{Name: "x", Positional: true, Type: bot.ArgBool}}, "a positional cannot be a bool"},
		{"bad default", []bot.Arg{{Name: "n", Type: bot.ArgInt, Default: "many"}}, `argument "n": default: --n: "many" is not a whole number`},
		{"comma in enum", []bot.Arg{{Name: "x", Enum: []string{"a,b"}}}, `enum value "a,b"`},
		{"required after optional", []bot.Arg{{Name: "a", Positional: true, Optional: true}, {Name: "b", Positional: true}}, `argument "b" is required but follows an optional one`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := plug{"typed", func(p *bot.Plugin) error {
				p.CommandArgs("c", tc.args, func(context.Context, *bot.Request, map[string]any) error { return nil })
				return nil
			}}
			_, err := bot.New(bottest.NewBackend(), nil, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
