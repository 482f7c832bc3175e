// Package help is the built-in help plugin: "!help" lists the commands a
// user may run, "!help deploy" describes one command or plugin, and
// "!help plugin" lists a group of commands ("plugin list", "plugin
// activate", ...).
//
//	e, err := bot.New(backend, opts, &help.Plugin{}, &Deploy{})
package help

import (
	"context"
	"strings"
	"text/template"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the help plugin. The zero value is ready to use.
type Plugin struct {
	engine *bot.Engine
}

// Name returns "help".
func (*Plugin) Name() string { return "help" }

// Setup declares the help command.
func (h *Plugin) Setup(p *bot.Plugin) error {
	h.engine = p.Engine()
	p.Describe("lists and explains commands")
	p.Command("help", h.help).Usage("[<command or plugin>]").
		Help("list the commands, or explain one command or plugin")
	return nil
}

var funcs = template.FuncMap{"first": func(s string) string { f, _, _ := strings.Cut(s, "\n"); return f }}

var listTmpl = template.Must(template.New("list").Funcs(funcs).Parse(
	`{{range .Plugins}}**{{.Name}}**{{with .Description}} — {{.}}{{end}}
{{range .Commands}}• ` + "`{{$.Prefix}}{{.Synopsis}}`" + `{{with first .Help}} — {{.}}{{end}}{{if .AdminOnly}} (admin){{end}}
{{end}}
{{end}}Type ` + "`{{.Prefix}}help <command>`" + ` for more.`))

var cmdTmpl = template.Must(template.New("cmd").Parse(
	"`{{.Prefix}}{{.Cmd.Synopsis}}`" + `{{if .Cmd.AdminOnly}} (admin only){{end}}
{{with .Cmd.Help}}{{.}}
{{end}}{{with .Cmd.Aliases}}Aliases: {{range $i, $a := .}}{{if $i}}, {{end}}` + "`{{$.Prefix}}{{$a}}`" + `{{end}}
{{end}}{{with .Subcommands}}Subcommands: {{range $i, $c := .}}{{if $i}}, {{end}}` + "`{{$.Prefix}}{{$c.Name}}`" + `{{end}}
{{end}}{{range .Cmd.Arguments}}    {{.}}
{{end}}`))

var groupTmpl = template.Must(template.New("group").Funcs(funcs).Parse(
	"`{{.Prefix}}{{.Group}}` commands:\n" +
		`{{range .Commands}}• ` + "`{{$.Prefix}}{{.Synopsis}}`" + `{{with first .Help}} — {{.}}{{end}}{{if .AdminOnly}} (admin){{end}}
{{end}}
Type ` + "`{{.Prefix}}help <command>`" + ` for more.`))

type listData struct {
	Prefix  string
	Plugins []bot.PluginInfo
}

// visible returns the commands the user may see: not hidden, and not
// admin-only unless the user is an admin.
func visible(cs []bot.CommandInfo, admin bool) []bot.CommandInfo {
	var out []bot.CommandInfo
	for _, c := range cs {
		if !c.Hidden && (admin || !c.AdminOnly) {
			out = append(out, c)
		}
	}
	return out
}

func (h *Plugin) help(ctx context.Context, req *bot.Request) error {
	admin := req.IsAdmin()
	topic := strings.ToLower(strings.Join(strings.Fields(req.Args), " "))
	prefix := h.engine.Prefix()
	topic = strings.TrimPrefix(topic, prefix)
	if topic == "" {
		d := listData{Prefix: prefix}
		for _, pi := range h.engine.Plugins() {
			if !pi.Active {
				continue
			}
			if pi.Commands = visible(pi.Commands, admin); len(pi.Commands) > 0 {
				d.Plugins = append(d.Plugins, pi)
			}
		}
		return req.ReplyTemplate(listTmpl, d)
	}
	cmds := visible(h.engine.Commands(), admin)
	for _, c := range cmds {
		if c.Name == topic || containsFold(c.Aliases, topic) {
			return req.ReplyTemplate(cmdTmpl, struct {
				Prefix      string
				Cmd         bot.CommandInfo
				Subcommands []bot.CommandInfo
			}{prefix, c, group(cmds, c.Name)})
		}
	}
	for _, pi := range h.engine.Plugins() {
		if pi.Name == topic && pi.Active {
			pi.Commands = visible(pi.Commands, admin)
			return req.ReplyTemplate(listTmpl, listData{Prefix: prefix, Plugins: []bot.PluginInfo{pi}})
		}
	}
	if g := group(cmds, topic); len(g) > 0 {
		return req.ReplyTemplate(groupTmpl, struct {
			Prefix, Group string
			Commands      []bot.CommandInfo
		}{prefix, topic, g})
	}
	return req.Replyf("No command or plugin %q. Type `%shelp` for the list.", topic, prefix)
}

// group returns the commands of cs whose names start with the words of
// name and have more: "plugin list" and "plugin activate" for "plugin".
func group(cs []bot.CommandInfo, name string) []bot.CommandInfo {
	var out []bot.CommandInfo
	for _, c := range cs {
		if strings.HasPrefix(c.Name, name+" ") {
			out = append(out, c)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
