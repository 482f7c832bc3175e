// Package matterbot is the matterbot command line as a library: a team
// builds its own bot, with its own plugins, as a main.go of a few lines
// that calls [Main], the way a Caddy or k6 build adds its modules.
//
//	package main
//
//	import (
//		"github.com/matterbot/matterbot"
//		"github.com/matterbot/matterbot/plugins"
//
//		"example.com/ourbot/deploy"
//	)
//
//	func main() {
//		matterbot.Main(append(plugins.Builtin(), &deploy.Plugin{})...)
//	}
//
// The binary then has every subcommand of the matterbot command (run,
// console, demo, check, init, fake-server, bench, backup, healthcheck,
// version), each serving the plugins it was given. [EngineOptions] and [BackendOptions] map a
// loaded configuration onto the engine's and the Mattermost backend's
// options, for programs that assemble a bot themselves.
//
// Exit codes: 0 on success and after a graceful stop, 1 when the command
// failed (one "matterbot: " line says why; one per problem in a bad
// configuration file), 2 on a usage error. The first SIGINT or SIGTERM
// stops gracefully: the bot stops taking commands and waits for the
// running ones, and their replies, up to its shutdown timeout. A second
// one exits at once with 128+signal (130 for SIGINT). SIGHUP makes run
// reload its configuration file (see the README); the other subcommands
// say they ignore it.
package matterbot

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alecthomas/kong"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// Main runs the command line of a bot with the given plugins, reading
// os.Args, and exits the process with the command's exit code. It never
// returns. The plugins are the values bot.New receives: one subcommand
// runs per process, so each is set up once.
func Main(plugins ...bot.Setuper) {
	(&Command{Plugins: plugins}).Main()
}

// Main is [Main] for c: it runs c's command line on os.Args, with the
// signals handled as Main handles them (a graceful stop, SIGHUP to
// reload), and exits the process with the exit code. It never returns.
// c's Stdin, Stdout and Stderr are left to their defaults, the process's.
func (c *Command) Main() {
	if c.Name == "" {
		c.Name = programName()
	}
	hup := &hangup{}
	ctx, stop := onSignals(context.Background(), os.Stderr, c.Name, os.Exit, hup)
	c.hangup = hup
	code := c.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Command is the command line of a bot: its plugins and where it reads
// and writes. The zero value is a bot with no plugins on the process's
// standard input and outputs.
type Command struct {
	// Name is the program's name in usage and errors. Default: the base
	// name of os.Args[0], or "matterbot".
	Name string
	// Plugins are the bot's plugins, for run, console, demo and bench.
	Plugins []bot.Setuper
	// Version is printed by version and --version, and reported by the
	// about plugin. Default: the version stamped at link time
	// (-ldflags "-X github.com/matterbot/matterbot.version=v1.2.3"), else
	// the module version and VCS revision from the build information.
	Version string

	// Stdin, Stdout and Stderr default to the process's.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Backend, when set, adjusts the Mattermost backend's options that
	// run and check build from the configuration ([BackendOptions]),
	// before the backend is made: an HTTP client through a corporate
	// proxy or with a client certificate, a WebSocket or retry policy
	// the file has no key for. The store and the observer are set after
	// it.
	Backend func(*mmbackend.Options)

	// hangup delivers SIGHUP to run (Main sets it); nil: run does not
	// reload.
	hangup *hangup
}

// cli is the whole command line. Kong was chosen for the CLI because its
// struct-and-tags style matches the option structs used everywhere else,
// it generates help from the same place flags are declared, and it is
// small and maintained.
type cli struct {
	Version     versionCmd       `cmd:"" help:"Print the version and exit."`
	VersionFlg  kong.VersionFlag `name:"version" help:"Print the version and exit."`
	Demo        demoCmd          `cmd:"" help:"Try it: a fake Mattermost server, the bot and a chat in this terminal, in one process."`
	FakeServer  fakeServerCmd    `cmd:"" name:"fake-server" help:"Run a fake Mattermost server for demos and manual tests."`
	Console     consoleCmd       `cmd:"" help:"Run the bot in this terminal, with no server: try it, develop plugins."`
	Check       checkCmd         `cmd:"" help:"Check a configuration against its server: the login, the teams and channels, and what the bot may do there (matterbot check -c matterbot.toml)."`
	Completion  completionCmd    `cmd:"" help:"Print a shell completion script: source <(matterbot completion bash)."`
	Init        initCmd          `cmd:"" help:"Write a commented configuration file to start from (matterbot init --server URL --team TEAM)."`
	Run         runCmd           `cmd:"" help:"Run the bot on a Mattermost server (matterbot run -c matterbot.toml)."`
	Bench       benchCmd         `cmd:"" help:"Measure the bot against a fake server: latency, commands/s, allocations, RSS."`
	Backup      backupCmd        `cmd:"" help:"Copy the plugins' store while the bot is stopped (matterbot backup matterbot.db backup.db)."`
	Healthcheck healthcheckCmd   `cmd:"" help:"Ask a running bot's HTTP listener whether it serves: exit 0 if /healthz answers 200, else 1 (a container's HEALTHCHECK)."`
	Plugin      pluginCmd        `cmd:"" help:"Write plugins: plugin new NAME."`
}

// env is what a subcommand gets to work with: no globals.
type env struct {
	ctx     context.Context
	name    string
	version string
	plugins []bot.Setuper
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	hangup  *hangup // SIGHUP, for run; nil when nothing sends it
	backend func(*mmbackend.Options)
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "%s %s\n", e.name, e.version)
	return err
}

// Run parses args (without the program name) and runs the chosen
// subcommand until it ends or ctx is cancelled (cancel it on SIGINT or
// SIGTERM for a graceful stop). It returns the process exit code: 0 on
// success, 1 when the command failed, 2 on a usage error.
func (c *Command) Run(ctx context.Context, args []string) int {
	e := &env{ctx: ctx, name: c.Name, version: c.Version, plugins: c.Plugins,
		stdin: c.Stdin, stdout: c.Stdout, stderr: c.Stderr, hangup: c.hangup, backend: c.Backend}
	if e.name == "" {
		e.name = programName()
	}
	if e.version == "" {
		e.version = Version()
	}
	if e.stdin == nil {
		e.stdin = os.Stdin
	}
	if e.stdout == nil {
		e.stdout = os.Stdout
	}
	if e.stderr == nil {
		e.stderr = os.Stderr
	}
	return e.main(args)
}

// programName is the name of this program, as Command.Name defaults to:
// the base name of os.Args[0], or "matterbot".
func programName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "matterbot"
}

func (e *env) main(args []string) int {
	var c cli
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name(e.name),
		kong.Description("A chat-ops bot for Mattermost."),
		kong.Writers(e.stdout, e.stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.Vars{"version": e.name + " " + e.version, "default_listen": config.DefaultListen},
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", e.name, err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help, --version and friends
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", e.name, err)
		return 2
	}
	e.warnUnknownEnv(kctx)
	if err := kctx.Run(e); err != nil {
		printError(e.stderr, e.name, err)
		return 1
	}
	return 0
}
