package matterbot

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

// completionCmd prints a shell completion script made from the command
// line's own model (kong's), so it always lists this binary's subcommands
// and flags, a team's own bot's included.
//
// Why not github.com/willabides/kongplete, the completion library made
// for kong: its v0.4.0 completes by running the binary again on each Tab
// (the script is "complete -C /absolute/path/to/binary"), through
// posener/complete v1, which reads COMP_LINE, writes to os.Stdout and
// exits the process before Command.Run parses anything; the absolute path
// breaks under `go run` and when the binary moves; and it adds three
// dependencies. The subcommands and flags are static, so a static script
// does the same with none.
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish." placeholder:"SHELL"`
}

func (c *completionCmd) Run(e *env, kctx *kong.Context) error {
	root := completionTree(kctx.Model.Node, nil, nil)
	name := e.name
	fn := "_" + shellIdent(name)
	var err error
	switch c.Shell {
	case "bash":
		err = bashCompletion(e.stdout, name, fn, root)
	case "zsh":
		err = zshCompletion(e.stdout, name, fn, root)
	case "fish":
		err = fishCompletion(e.stdout, name, fn, root)
	}
	return err
}

// compNode is a command as the scripts see it.
type compNode struct {
	path  string // "plugin new"; "" for the program
	help  string
	subs  []*compNode
	flags []compFlag // its own and its parents' (kong takes both)
	// words are what may follow: the subcommands, or else the values of
	// an enum argument.
	words []compWord
}

type compWord struct{ word, help string }

type compFlag struct {
	long  string // "config"
	short rune   // 'c', or 0
	help  string
	value bool     // takes a value
	file  bool     // the value is a path
	enum  []string // the values it takes, if a fixed set
}

// names returns "--long" and, if any, "-s".
func (f compFlag) names() []string {
	n := []string{"--" + f.long}
	if f.short != 0 {
		n = append(n, "-"+string(f.short))
	}
	return n
}

func completionTree(n *kong.Node, parent []string, inherited []compFlag) *compNode {
	path := parent
	if n.Type == kong.CommandNode {
		path = append(slices.Clip(parent), n.Name)
	}
	c := &compNode{path: strings.Join(path, " "), help: n.Help}
	for _, f := range n.Flags {
		if f.Hidden {
			continue
		}
		cf := compFlag{long: f.Name, short: f.Short, help: f.Help, value: !f.IsBool() && !f.IsCounter()}
		if cf.value {
			cf.file = f.Tag != nil && (f.Tag.Type == "path" || f.Tag.Type == "existingfile")
			if f.Enum != "" {
				cf.enum = f.EnumSlice()
			}
		}
		c.flags = append(c.flags, cf)
	}
	own := c.flags
	c.flags = append(slices.Clip(own), inherited...)
	for _, ch := range n.Children {
		if ch.Hidden || ch.Type != kong.CommandNode {
			continue
		}
		sub := completionTree(ch, path, c.flags)
		c.subs = append(c.subs, sub)
		c.words = append(c.words, compWord{sub.last(), sub.help})
	}
	if len(c.words) == 0 && len(n.Positional) > 0 {
		for _, v := range n.Positional[0].EnumSlice() {
			if v != "" {
				c.words = append(c.words, compWord{v, n.Positional[0].Help})
			}
		}
	}
	return c
}

// walk calls fn on n and every command under it.
func (n *compNode) walk(fn func(*compNode)) {
	fn(n)
	for _, s := range n.subs {
		s.walk(fn)
	}
}

// valueFlags calls fn for each flag that takes a value, of n and every
// command under it, with the bash and zsh case pattern that matches the
// flag as the word before the cursor: 'run:--config'|'run:-c'.
func (n *compNode) valueFlags(fn func(f compFlag, pattern string)) {
	n.walk(func(c *compNode) {
		for _, f := range c.flags {
			if !f.value {
				continue
			}
			var pats []string
			for _, name := range f.names() {
				pats = append(pats, shellQuote(c.path+":"+name))
			}
			fn(f, strings.Join(pats, "|"))
		}
	})
}

// last is the command's own word: "new" for "plugin new".
func (n *compNode) last() string {
	return n.path[strings.LastIndexByte(n.path, ' ')+1:]
}

// subPatterns is the case patterns "parent:word" that step into a
// subcommand, for the scripts' loop over the words typed so far, each
// quoted with quote.
func (n *compNode) subPatterns(quote func(string) string) []string {
	var pats []string
	n.walk(func(c *compNode) {
		for _, s := range c.subs {
			pats = append(pats, quote(c.path+":"+s.last()))
		}
	})
	if pats == nil {
		pats = []string{quote("\x00")} // matches no word
	}
	return pats
}

func bashCompletion(w io.Writer, name, fn string, root *compNode) error {
	var b strings.Builder
	fmt.Fprintf(&b, `# bash completion for %[1]s.
# Load it now with: source <(%[1]s completion bash)
# or for good with: %[1]s completion bash > ~/.local/share/bash-completion/completions/%[1]s

%[2]s() {
	local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
	local cmd="" w i
	for ((i = 1; i < COMP_CWORD; i++)); do
		w="${COMP_WORDS[i]}"
		case "$cmd:$w" in
		%[3]s) cmd="${cmd:+$cmd }$w" ;;
		esac
	done
	case "$cmd:$prev" in
`, name, fn, strings.Join(root.subPatterns(shellQuote), "|"))
	root.valueFlags(func(f compFlag, pattern string) {
		if len(f.enum) > 0 {
			fmt.Fprintf(&b, "\t%s) COMPREPLY=($(compgen -W %s -- \"$cur\")); return ;;\n",
				pattern, shellQuote(strings.Join(f.enum, " ")))
		} else {
			// A path, or a value to type: the shell's default (file
			// names).
			fmt.Fprintf(&b, "\t%s) return ;;\n", pattern)
		}
	})
	b.WriteString("\tesac\n\tlocal subs=\"\" flags=\"\"\n\tcase \"$cmd\" in\n")
	root.walk(func(c *compNode) {
		var subs, flags []string
		for _, s := range c.words {
			subs = append(subs, s.word)
		}
		for _, f := range c.flags {
			flags = append(flags, f.names()...)
		}
		fmt.Fprintf(&b, "\t%s) subs=%s flags=%s ;;\n", shellQuote(c.path),
			shellQuote(strings.Join(subs, " ")), shellQuote(strings.Join(flags, " ")))
	})
	fmt.Fprintf(&b, `	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	elif [[ -n $subs ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
	fi
}

complete -o bashdefault -o default -F %s %s
`, fn, name)
	_, err := io.WriteString(w, b.String())
	return err
}

func zshCompletion(w io.Writer, name, fn string, root *compNode) error {
	var b strings.Builder
	fmt.Fprintf(&b, `#compdef %[1]s
# zsh completion for %[1]s.
# Load it now with: source <(%[1]s completion zsh)
# or for good, as _%[1]s in a directory of $fpath:
#   %[1]s completion zsh > "${fpath[1]}/_%[1]s"
compdef %[2]s %[1]s

%[2]s() {
	local cmd="" w i
	for ((i = 2; i < CURRENT; i++)); do
		w="${words[i]}"
		case "$cmd:$w" in
		%[3]s) cmd="${cmd:+$cmd }$w" ;;
		esac
	done
	case "$cmd:${words[CURRENT-1]}" in
`, name, fn, strings.Join(root.subPatterns(shellQuote), "|"))
	root.valueFlags(func(f compFlag, pattern string) {
		switch {
		case len(f.enum) > 0:
			fmt.Fprintf(&b, "\t%s) compadd -- %s; return ;;\n", pattern, strings.Join(quoteAll(f.enum), " "))
		case f.file:
			fmt.Fprintf(&b, "\t%s) _files; return ;;\n", pattern)
		default:
			fmt.Fprintf(&b, "\t%s) _message %s; return ;;\n", pattern, shellQuote(f.help))
		}
	})
	b.WriteString("\tesac\n\tlocal -a subs flags\n\tcase \"$cmd\" in\n")
	root.walk(func(c *compNode) {
		var subs, flags []string
		for _, s := range c.words {
			subs = append(subs, shellQuote(s.word+":"+s.help))
		}
		for _, f := range c.flags {
			for _, n := range f.names() {
				flags = append(flags, shellQuote(n+":"+f.help))
			}
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tsubs=(%s)\n\t\tflags=(%s)\n\t\t;;\n", shellQuote(c.path),
			strings.Join(subs, " "), strings.Join(flags, " "))
	})
	fmt.Fprintf(&b, `	esac
	if [[ $PREFIX == -* ]]; then
		_describe -t flags flag flags
	elif (( ${#subs} )); then
		_describe -t commands command subs
	else
		_files
	fi
}

# Run at once when loaded from $fpath, not when sourced.
if [ "$funcstack[1]" = "%[1]s" ]; then
	%[1]s "$@"
fi
`, fn)
	_, err := io.WriteString(w, b.String())
	return err
}

func fishCompletion(w io.Writer, name, fn string, root *compNode) error {
	var b strings.Builder
	fmt.Fprintf(&b, `# fish completion for %[1]s.
# Load it now with: %[1]s completion fish | source
# or for good with: %[1]s completion fish > ~/.config/fish/completions/%[1]s.fish

# %[2]s_cmd prints the subcommand typed so far, such as "plugin new".
function %[2]s_cmd
	set -l cmd ""
	for w in (commandline -opc)[2..-1]
		switch "$cmd:$w"
			case %[3]s
				set cmd (string trim -- "$cmd $w")
		end
	end
	echo $cmd
end

function %[2]s_is
	test (%[2]s_cmd) = "$argv[1]"
end

complete -c %[1]s -f
`, name, fn, strings.Join(root.subPatterns(fishQuote), " "))
	root.walk(func(c *compNode) {
		cond := fishQuote(fn + "_is " + fishQuote(c.path))
		for _, s := range c.words {
			fmt.Fprintf(&b, "complete -c %s -n %s -a %s -d %s\n", name, cond, fishQuote(s.word), fishQuote(s.help))
		}
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c %s -n %s -l %s", name, cond, f.long)
			if f.short != 0 {
				line += " -s " + string(f.short)
			}
			switch {
			case len(f.enum) > 0:
				line += " -x -a " + fishQuote(strings.Join(f.enum, " "))
			case f.file:
				line += " -r -F"
			case f.value:
				line += " -x"
			}
			fmt.Fprintf(&b, "%s -d %s\n", line, fishQuote(f.help))
		}
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s for bash and zsh: in single quotes, where each
// single quote of s closes the quoted text, is escaped with a backslash,
// and opens it again.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shellQuote(s)
	}
	return out
}

// fishQuote quotes s for fish, whose single quotes take \' and \\.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// shellIdent makes name usable in a shell function's name.
func shellIdent(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
}
