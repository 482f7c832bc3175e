package mmtest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/mattermost/mmtest"
)

// A test starts the server with mmtest.NewServer(t, nil); outside a test,
// Start listens on an address of your choice.
func ExampleStart() {
	srv, err := mmtest.Start("127.0.0.1:0", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	team, _ := srv.AddTeam("ops", "Ops")
	alice, _ := srv.AddUser(mmtest.User{Username: "alice", Password: "secret"})
	_ = srv.AddTeamMember(team.ID, alice.ID)

	c, _ := srv.Client("")
	me, _, err := c.Login(context.Background(), "alice", "secret", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", me.Username)

	_, _, err = c.Login(context.Background(), "alice", "wrong", "")
	fmt.Println(err)
	// Output:
	// logged in as alice
	// mattermost: POST /api/v4/users/login: 401 api.user.login.invalid_credentials_email_username: Enter a valid email or username and/or password.
}

// Server.Client gives a client with a token; the back door shows what it
// posted.
func ExampleServer_Client() {
	srv, err := mmtest.Start("127.0.0.1:0", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	team, _ := srv.AddTeam("ops", "Ops")
	bot, _ := srv.AddBot("ops-bot", "Ops Bot", "")
	_ = srv.AddTeamMember(team.ID, bot.ID)
	deploys, _ := srv.AddChannel(team.ID, "deploys", "Deploys", mattermost.ChannelOpen)
	_ = srv.AddChannelMember(deploys.ID, bot.ID)
	token, _ := srv.CreateToken(bot.ID, "example")

	c, _ := srv.Client(token)
	if _, _, err := c.CreatePost(context.Background(), &mattermost.Post{ChannelID: deploys.ID, Message: "deployed api"}); err != nil {
		log.Fatal(err)
	}
	for _, p := range srv.Posts(deploys.ID) {
		fmt.Println(p.Message, p.Props["from_bot"])
	}
	// Output:
	// deployed api true
}
