// Command matterbot is a chat-ops bot for Mattermost.
//
// Each subcommand is a struct in its own file (fakeserver.go, run.go, ...);
// main only parses the command line, wires signals and turns the result
// into an exit code.
//
// Exit codes: 0 on success and after a graceful stop, 1 when the command
// failed (one "matterbot: " line says why; one per problem in a bad
// configuration file), 2 on a usage error. The first SIGINT or SIGTERM
// stops gracefully: the bot stops taking commands and waits for the
// running ones, and their replies, up to its shutdown timeout. A second
// one exits at once with 128+signal (130 for SIGINT).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// cli is the whole command line. Kong was chosen for the CLI because its
// struct-and-tags style matches the option structs used everywhere else,
// it generates help from the same place flags are declared, and it is
// small and maintained.
type cli struct {
	Version    versionCmd    `cmd:"" help:"Print the version and exit."`
	FakeServer fakeServerCmd `cmd:"" name:"fake-server" help:"Run a fake Mattermost server for demos and manual tests."`
	Console    consoleCmd    `cmd:"" help:"Run the bot in this terminal, with no server: try it, develop plugins."`
	Run        runCmd        `cmd:"" help:"Run the bot on a Mattermost server (matterbot run -c matterbot.toml)."`
	Bench      benchCmd      `cmd:"" help:"Measure the bot against a fake server: latency, commands/s, allocations, RSS."`
}

// env is what a subcommand gets to work with: no globals.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "matterbot %s\n", version)
	return err
}

func main() {
	ctx, stop := onSignals(context.Background(), os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen subcommand. It returns the process
// exit code: 0 on success, 1 when the command failed, 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("matterbot"),
		kong.Description("A chat-ops bot for Mattermost."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "matterbot: %v\n", err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help and friends
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "matterbot: %v\n", err)
		return 2
	}
	if err := kctx.Run(&env{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr}); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}
