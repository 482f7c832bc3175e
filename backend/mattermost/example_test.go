package mattermost_test

import (
	"context"
	"fmt"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
	"github.com/matterbot/matterbot/plugins/echo"
)

func ExampleSplit() {
	text := "Results:\n```go\nok  pkg/a\nok  pkg/b\nok  pkg/c\n```"
	for _, part := range mmbackend.Split(text, 30) {
		fmt.Printf("%s\n--\n", part)
	}
	// Output:
	// Results:
	// ```go
	// ok  pkg/a
	// ```
	// --
	// ```go
	// ok  pkg/b
	// ok  pkg/c
	// ```
	// --
}

// readyPlugin reports when the bot has connected.
type readyPlugin chan bot.User

func (readyPlugin) Name() string { return "ready" }

func (r readyPlugin) Setup(p *bot.Plugin) error {
	p.OnConnect(func(ctx context.Context, self bot.User) error {
		select {
		case r <- self:
		default: // reported already
		}
		return nil
	})
	return nil
}

// A bot on a (here, fake) Mattermost server: New takes the settings of
// the [mattermost] table; the engine runs the backend.
func ExampleNew() {
	srv, err := mmtest.Start("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	team, _ := srv.AddTeam("ops", "Ops")
	alice, _ := srv.AddUser(mmtest.User{Username: "alice"})
	botUser, _ := srv.AddBot("opsbot", "Ops Bot", alice.ID)
	_ = srv.AddTeamMember(team.ID, alice.ID)
	_ = srv.AddTeamMember(team.ID, botUser.ID)
	token, _ := srv.CreateToken(botUser.ID, "example")
	square, _ := srv.Channel(team.ID, "town-square")

	be, err := mmbackend.New(mmbackend.Options{
		Server: srv.URL(), // or Server: "chat.example.com" with Scheme and Port
		Teams:  []string{"ops"},
		Token:  mm.Secret(token),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ready := make(readyPlugin, 1)
	eng, err := bot.New(be, nil, echo.Plugin{}, ready)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	fmt.Println("connected as", <-ready)

	_, _ = srv.CreatePost(alice.ID, mm.Post{ChannelID: square.ID, Message: "!echo hello"})
	reply, err := srv.WaitForPost(ctx, square.ID, func(p *mm.Post) bool { return p.UserID == botUser.ID })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reply:", reply.Message)
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// connected as @opsbot
	// reply: hello
	// stopped: <nil>
}
