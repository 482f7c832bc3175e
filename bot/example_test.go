package bot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// Deploy is a plugin: its Setup method is its table of contents.
type Deploy struct {
	store bot.Store
}

type deployCmdArgs struct {
	Service string `arg:"" help:"service to deploy"`
	Env     string `arg:"" enum:"staging,prod" help:"where to deploy"`
	Force   bool   `help:"skip the health checks"`
}

func (d *Deploy) Setup(p *bot.Plugin) error {
	d.store = p.Store()
	p.Describe("deploys services")
	bot.Command(p, "deploy", d.deploy).Help("deploy a service")
	p.Command("deploy rollback", d.rollback).Help("roll back the last deploy").AdminOnly()
	p.Listen(`(?i)\bis (\w+) up\b`, d.isUp)
	return nil
}

func (d *Deploy) deploy(ctx context.Context, req *bot.Request, a deployCmdArgs) error {
	if err := req.Replyf("deploying %s to %s…", a.Service, a.Env); err != nil {
		return err
	}
	if err := d.store.Set(ctx, "last", []byte(a.Service)); err != nil {
		return err
	}
	return req.Card(bot.Card{Title: "deployed " + a.Service, Color: "good",
		Fields: []bot.Field{{Title: "env", Value: a.Env, Short: true}}})
}

func (d *Deploy) rollback(ctx context.Context, req *bot.Request) error {
	last, err := d.store.Get(ctx, "last")
	if err != nil {
		return fmt.Errorf("nothing to roll back: %w", err)
	}
	return req.Replyf("rolled back %s", last)
}

func (d *Deploy) isUp(ctx context.Context, req *bot.Request) error {
	return req.Replyf("%s is up", req.Match[1])
}

// exampleT stands in for the *testing.T a real test passes to bottest.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A plugin is tested with bottest: say a line, read the replies.
func Example() {
	t := &exampleT{} // in a test: func TestDeploy(t *testing.T)
	defer t.done()
	b := bottest.NewWithOptions(t, &bot.Options{Admins: []string{"@alice"}}, &Deploy{})

	for _, r := range b.Say("!deploy api prod") {
		if r.Card != nil {
			fmt.Println("card:", r.Card.Title)
		} else {
			fmt.Println(r.Text)
		}
	}
	fmt.Println(bottest.Texts(b.Say("!deploy api dev")))
	fmt.Println(bottest.Texts(b.SayAs("@bob", "~ops", "!deploy rollback")))
	fmt.Println(bottest.Texts(b.Say("!deploy rollback")))
	fmt.Println(bottest.Texts(b.Say("is api up?")))
	// Output:
	// deploying api to prod…
	// card: deployed api
	// [`!deploy`: <env>: "dev" is not one of staging, prod.
	// Usage: `!deploy <service> <env> [--force]`]
	// [`!deploy rollback`: only bot admins may run this command.]
	// [rolled back api]
	// [api is up]
}

// New and Run are the whole life of an engine; a backend (here bottest's
// in-memory one) delivers the messages.
func ExampleNew() {
	be := bottest.NewBackend()
	e, err := bot.New(be, &bot.Options{Prefix: "."}, &Deploy{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-be.Ready()

	<-be.Handler().HandleMessage(&bot.Message{ID: "m1", From: bot.User{ID: "u-bob", Username: "bob"},
		Room: bot.Room{ID: "r-ops", Name: "ops"}, Text: ".deploy web staging"})
	for _, r := range be.Sent() {
		if r.Card != nil {
			fmt.Println(r.To, "card:", r.Card.Title)
		} else {
			fmt.Println(r.To, r.Text)
		}
	}
	cancel()
	fmt.Println(<-done)
	// Output:
	// ~test/ops deploying web to staging…
	// ~test/ops card: deployed web
	// <nil>
}

func ExampleSplit() {
	words, err := bot.Split(`deploy "my api" 'prod eu' --note=it\'s\ fine`)
	fmt.Printf("%q %v\n", words, err)
	// Output:
	// ["deploy" "my api" "prod eu" "--note=it's fine"] <nil>
}

func ExampleParseAddress() {
	for _, s := range []string{"@alice", "~ops", "~eng/ops", "ops"} {
		a, err := bot.ParseAddress(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("user=%q team=%q room=%q\n", a.User, a.Team, a.Room)
	}
	// Output:
	// user="alice" team="" room=""
	// user="" team="" room="ops"
	// user="" team="eng" room="ops"
	// bot: bad address "ops": want @user, ~room or ~team/room
}
