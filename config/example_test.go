package config_test

import (
	"fmt"

	"github.com/matterbot/matterbot/config"
)

func ExampleParse() {
	doc := []byte(`
admins = ["@alice"]

[mattermost]
server = "chat.example.com"
team = "ops"
token = "s3cret"
port = 443
`)
	cfg, err := config.Parse("matterbot.toml", doc, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Mattermost.URL(), cfg.Mattermost.Token, cfg.Prefix, cfg.Admins)
	// Output: https://chat.example.com:443 [REDACTED] ! [@alice]
}

func ExampleParse_errors() {
	doc := []byte(`
admins = ["alice"]

[mattermost]
server = "chat.example.com"
port = 0
token = "s3cret"
`)
	_, err := config.Parse("matterbot.toml", doc, nil)
	fmt.Println(err)
	// Output:
	// matterbot.toml:2: admins[0]: "alice" is not a user name: write it with the @, as "@alice"
	// matterbot.toml:4: mattermost.team: missing: the team the bot works in (or teams = [...])
	// matterbot.toml:6: mattermost.port: 0 is out of range (1-65535)
}

func ExampleConfig_PluginConfig() {
	doc := []byte(`
backend = "console"

[plugins.greeter]
greeting = "hello"
`)
	cfg, err := config.Parse("matterbot.toml", doc, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	type greeterConfig struct {
		Greeting string `toml:"greeting"`
		Times    int    `toml:"times"`
	}
	gc := greeterConfig{Times: 1} // defaults
	if err := cfg.PluginConfig("greeter", &gc); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", gc)
	// Output: {Greeting:hello Times:1}
}
