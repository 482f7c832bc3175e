package matterbot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/matterbot/matterbot/bot"
)

// pluginCmd groups the plugin subcommands.
type pluginCmd struct {
	New pluginNewCmd `cmd:"" help:"Write a new plugin, with a passing test, into the Go module of the current directory."`
}

// pluginNewCmd writes a plugin skeleton, Errbot's --new-plugin: a package
// NAME with one command and its bottest test, in the Go module that holds
// Dir, ready to be added to the bot's main.
type pluginNewCmd struct {
	Name string `arg:"" help:"The plugin's name: a lowercase Go package name, also its command (e.g. greet)."`
	Dir  string `default:"." type:"path" help:"The directory to create the plugin's package in." placeholder:"DIR"`
}

// validPluginName: a Go package name that gofmt and golint accept, and a
// command a user can type.
var validPluginName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// skeletonNames are the names the skeleton's test file uses beside the
// plugin's package: a plugin named so would not compile.
var skeletonNames = []string{"testing", "bottest", "t"}

func (c *pluginNewCmd) Run(e *env) error {
	if !validPluginName.MatchString(c.Name) {
		return &cliError{msg: fmt.Sprintf("plugin name %q: use lowercase letters and digits, starting with a letter (it is a Go package name and a command)", c.Name)}
	}
	if token.IsKeyword(c.Name) || slices.Contains(skeletonNames, c.Name) {
		return &cliError{msg: fmt.Sprintf("plugin name %q: a Go keyword or a name the plugin's test uses; choose another", c.Name)}
	}
	for _, p := range e.plugins {
		if bot.PluginName(p) == c.Name {
			return &cliError{msg: fmt.Sprintf("plugin name %q: this bot has a plugin of that name already; choose another", c.Name)}
		}
	}
	dir, err := filepath.Abs(filepath.Join(c.Dir, c.Name))
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		return &cliError{msg: fmt.Sprintf("%s already exists: choose another name or directory", dir)}
	}
	modDir, modPath, err := findModule(filepath.Dir(dir))
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(modDir, dir)
	if err != nil {
		return err
	}
	data := pluginTemplateData{Name: c.Name, Import: path.Join(modPath, filepath.ToSlash(rel))}
	files := []struct {
		name, tmpl string
		src        []byte
	}{
		{name: c.Name + ".go", tmpl: pluginSource},
		{name: c.Name + "_test.go", tmpl: pluginTestSource},
	}
	// Rendered before anything is written: a failure leaves nothing.
	for i := range files {
		if files[i].src, err = renderGo(files[i].tmpl, data); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.src, 0o644); err != nil {
			return err
		}
	}
	relDir := "./" + filepath.ToSlash(rel)
	var next strings.Builder
	fmt.Fprintf(&next, "wrote %s/%s.go and %s/%s_test.go\nnext:\n", relDir, c.Name, relDir, c.Name)
	if !requiresMatterbot(filepath.Join(modDir, "go.mod")) {
		fmt.Fprintf(&next, "  go get %s@latest    # the module does not require matterbot yet\n", modulePath)
	}
	fmt.Fprintf(&next, "  go test %s                  # the plugin's test passes as written\n", relDir)
	fmt.Fprintf(&next, "  add &%s.Plugin{} to the plugins your main.go passes to matterbot.Main, importing %q\n", c.Name, data.Import)
	_, err = io.WriteString(e.stdout, next.String())
	return err
}

// requiresMatterbot reports whether the go.mod file gomod names this
// module (a require or a replace).
func requiresMatterbot(gomod string) bool {
	b, err := os.ReadFile(gomod)
	return err == nil && bytes.Contains(b, []byte(modulePath))
}

// findModule returns the directory and the module path of the Go module
// that holds dir: the nearest go.mod at or above it.
func findModule(dir string) (modDir, modPath string, err error) {
	for d := dir; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			p := modulePathOf(b)
			if p == "" {
				return "", "", fmt.Errorf("%s: no module line", filepath.Join(d, "go.mod"))
			}
			return d, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", &cliError{msg: fmt.Sprintf("no go.mod in %s or above: a plugin lives in your bot's Go module (create one with go mod init example.com/ourbot)", dir)}
		}
		d = parent
	}
}

// modulePathOf returns the path of go.mod's module directive, "" if it
// has none. The directive is one line, "module path" with the path
// possibly quoted (go.dev/ref/mod#go-mod-file-module).
func modulePathOf(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		return strings.Trim(strings.TrimSpace(rest), "\"`")
	}
	return ""
}

type pluginTemplateData struct {
	Name   string // package, plugin and command name
	Import string // the package's import path
}

// renderGo executes tmpl with data and gofmts the result.
func renderGo(tmpl string, data pluginTemplateData) ([]byte, error) {
	var buf bytes.Buffer
	if err := template.Must(template.New("").Parse(tmpl)).Execute(&buf, data); err != nil {
		return nil, err
	}
	return format.Source(buf.Bytes())
}

const pluginSource = `// Package {{.Name}} is a matterbot plugin: "!{{.Name}}" greets whoever
// asks, "!{{.Name}} bob" greets @bob. Make it yours: its commands, its
// configuration ([plugins.{{.Name}}] in matterbot.toml), its storage.
package {{.Name}}

import (
	"context"
	"fmt"

	"github.com/matterbot/matterbot/bot"
)

// Plugin is the {{.Name}} plugin. The zero value is ready to use.
type Plugin struct{}

// Name returns "{{.Name}}": the plugin's name in help, in access rules and
// in the configuration.
func (*Plugin) Name() string { return "{{.Name}}" }

// args are the command's arguments: help and usage errors are made from
// these fields and their tags.
type args struct {
	Who string ` + "`" + `arg:"" optional:"" help:"who to greet (default: you)"` + "`" + `
}

// Setup declares the plugin's commands; the bot calls it once.
func (*Plugin) Setup(p *bot.Plugin) error {
	p.Describe("greets people")
	bot.Command(p, "{{.Name}}", greet).Help("greet someone")
	return nil
}

func greet(ctx context.Context, req *bot.Request, a args) error {
	who := a.Who
	if who == "" {
		who = "@" + req.Message.From.Username
	}
	return req.Reply(fmt.Sprintf("Hello, %s!", who))
}
`

const pluginTestSource = `package {{.Name}}_test

import (
	"testing"

	"github.com/matterbot/matterbot/bottest"

	"{{.Import}}"
)

func TestGreet(t *testing.T) {
	b := bottest.New(t, &{{.Name}}.Plugin{})
	tests := []struct{ say, want string }{
		{"!{{.Name}}", "Hello, @alice!"}, // bottest's Say speaks as @alice
		{"!{{.Name}} @bob", "Hello, @bob!"},
	}
	for _, tc := range tests {
		got := bottest.Texts(b.Say(tc.say))
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("Say(%q) = %q, want %q", tc.say, got, tc.want)
		}
	}
}
`
