package config

import _ "embed"

//go:embed matterbot.example.toml
var template string

// Template returns a commented configuration file holding every key with
// its default value and a line on what it does. The required keys (server,
// team, token) are present but empty.
func Template() string { return template }
