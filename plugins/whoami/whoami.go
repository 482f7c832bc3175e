// Package whoami is the built-in plugin that shows how the bot sees you
// and the message: "!whoami".
package whoami

import (
	"context"
	"text/template"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the whoami plugin. The zero value is ready to use.
type Plugin struct{}

// Name returns "whoami".
func (Plugin) Name() string { return "whoami" }

var tmpl = template.Must(template.New("whoami").Parse(
	`| | |
|---|---|
| user | {{.M.From}} |
| user id | ` + "`{{.M.From.ID}}`" + ` |
| full name | {{or .M.From.FullName "—"}} |
| admin | {{if .Admin}}yes{{else}}no{{end}} |
| room | {{if .M.Direct}}direct message{{else}}{{.M.Room}}{{end}} |
| room id | ` + "`{{.M.Room.ID}}`" + ` |
| thread | {{or .M.ThreadID "—"}} |`))

// Setup declares the whoami command.
func (Plugin) Setup(p *bot.Plugin) error {
	p.Describe("shows who you are to the bot")
	p.Command("whoami", func(ctx context.Context, req *bot.Request) error {
		return req.ReplyTemplate(tmpl, struct {
			M     *bot.Message
			Admin bool
		}{req.Message, req.IsAdmin()})
	}).Help("show your identity as the bot sees it")
	return nil
}
