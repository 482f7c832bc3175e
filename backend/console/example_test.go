package console_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/matterbot/matterbot/backend/console"
	"github.com/matterbot/matterbot/bot"
)

type greeter struct{}

func (greeter) Setup(p *bot.Plugin) error {
	p.Command("hello", func(ctx context.Context, req *bot.Request) error {
		return req.Replyf("hello, %s", req.Message.From)
	})
	return nil
}

// A console session fed from a string: each line's replies are printed
// before the next prompt.
func ExampleNew() {
	be, err := console.New(&console.Options{
		Input:       strings.NewReader("!hello\n/as @bob\n!hello\n"),
		Output:      os.Stdout,
		HistoryFile: "-",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := bot.New(be, nil, greeter{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := e.Run(context.Background()); !errors.Is(err, console.ErrQuit) {
		fmt.Println(err)
	}
	// Output:
	// You are @you in ~town-square, talking to @ops-bot with no server.
	// Type !help for the bot's commands, /help for the console's; Ctrl-D quits.
	// #1 @you › ~town-square: !hello
	// #2 ops-bot › ~town-square: hello, @you
	// #3 @you › ~town-square: /as @bob
	// You are now @bob.
	// #3 @bob › ~town-square: !hello
	// #4 ops-bot › ~town-square: hello, @bob
	// #5 @bob › ~town-square:
}
