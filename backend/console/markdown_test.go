package console

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// renderText renders markdown and joins the lines, styled when color.
func renderText(in string, color bool) string {
	r := newRenderer(color, false, 80)
	var b strings.Builder
	r.lines(&b, "", r.md.render(in))
	return b.String()
}

func TestMarkdownPlain(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"text", "just text", "just text\n"},
		{"bold", "**bold** and __bold__", "bold and bold\n"},
		{"italic", "*it* and _it_", "it and it\n"},
		{"snake case stays", "use snake_case_names and 2 * 3 * 4", "use snake_case_names and 2 * 3 * 4\n"},
		{"unclosed emphasis", "**not closed and * alone", "**not closed and * alone\n"},
		{"strike", "~~gone~~ ~single~", "gone ~single~\n"},
		{"inline code keeps backticks", "run `!deploy **api**`", "run `!deploy **api**`\n"},
		{"double backtick code", "``a ` b``", "`a ` b`\n"},
		{"unclosed code", "a `b", "a `b\n"},
		{"link", "[docs](https://x.org/a)", "docs <https://x.org/a>\n"},
		{"link with emphasis", "[**docs**](https://x.org)", "docs <https://x.org>\n"},
		{"autolink", "<https://x.org>", "<https://x.org>\n"},
		{"not a link", "[a] (b) [c](d e)", "[a] (b) [c](d e)\n"},
		{"escapes", `\*not italic\* \_x\_`, "*not italic* _x_\n"},
		{"header 1", "# Title", "Title\n=====\n"},
		{"header 2", "## Sub **bold**", "Sub bold\n--------\n"},
		{"header 3", "### Small ###", "Small\n"},
		{"not a header", "#hashtag", "#hashtag\n"},
		{"lists", "- a\n* b\n+ c\n  - nested\n1. one\n10) ten", "• a\n• b\n• c\n  • nested\n1. one\n10) ten\n"},
		{"task list", "- [ ] todo\n- [x] done", "☐ todo\n☑ done\n"},
		{"quote", "> quoted *text*", "│ quoted text\n"},
		{"rule", "---\n* * *", strings.Repeat("─", 40) + "\n" + strings.Repeat("─", 40) + "\n"},
		{"code fence", "```go\nx := **1**\n\tindented\n```\nafter", "┌ go\n│ x := **1**\n│     indented\nafter\n"},
		{"unclosed fence", "~~~\ncode", "│ code\n"},
		{"empty fence", "```\n```", "│\n"},
		{"table", "| a | bb |\n|---|:--:|\n| ccc | d \\| e |", "a    bb\n───  ─────\nccc  d | e\n"},
		{"table with empty header", "| | |\n|---|---|\n| user | @you |\n| admin | yes |", "user   @you\nadmin  yes\n"},
		{"not a table", "| a | b |\nno delimiter", "| a | b |\nno delimiter\n"},
		{"blank lines kept", "a\n\nb", "a\n\nb\n"},
		{"crlf", "a\r\nb", "a\nb\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderText(tc.in, false); got != tc.want {
				t.Errorf("render(%q) =\n%s\nwant\n%s\ndiff (-want +got):\n%s", tc.in, got, tc.want, cmp.Diff(tc.want, got))
			}
		})
	}
}

func TestMarkdownColor(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bold", "**b**", "\x1b[1mb\x1b[0m\n"},
		{"nested", "**b _i_**", "\x1b[1mb \x1b[0m\x1b[1;3mi\x1b[0m\n"},
		{"code", "`x`", "\x1b[36mx\x1b[0m\n"},
		{"link", "[a](https://x)", "\x1b[4;34ma\x1b[0m\x1b[2m (https://x)\x1b[0m\n"},
		{"mention", "hi @bob.", "hi \x1b[33m@bob\x1b[0m.\n"},
		{"email is not a mention", "a@b.c", "a@b.c\n"},
		{"header", "# T", "\x1b[1;4;35mT\x1b[0m\n"},
		{"strike", "~~s~~", "\x1b[9ms\x1b[0m\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderText(tc.in, true); got != tc.want {
				t.Errorf("render(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		in    line
		width int
		want  []string
	}{
		{"fits", line{{text: "a b c"}}, 5, []string{"a b c"}},
		{"at spaces", line{{text: "aaa bbb ccc"}}, 7, []string{"aaa bbb", "ccc"}},
		{"long word", line{{text: "abcdefghij"}}, 4, []string{"abcd", "efgh", "ij"}},
		{"word after text", line{{text: "ab cdefghij"}}, 4, []string{"ab", "cdef", "ghij"}},
		{"styles", line{{text: "bold ", st: sBold}, {text: "plain words"}}, 10, []string{"bold plain", "words"}},
		{"wide runes", line{{text: "日本語 日本語"}}, 6, []string{"日本語", "日本語"}},
		{"zero width", line{{text: "abc"}}, 0, []string{"a", "b", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range wrap(tc.in, tc.width) {
				got = append(got, l.plain())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wrap(%q, %d) (-want +got):\n%s", tc.in.plain(), tc.width, diff)
			}
		})
	}
}

func TestTextWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"abc", 3}, {"", 0}, {"日本", 4}, {"é", 1}, {"e\u0301", 1}, {"👍", 2}, {"│─┌", 3},
	}
	for _, tc := range tests {
		if got := textWidth(tc.in); got != tc.want {
			t.Errorf("textWidth(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzMarkdown checks that any text renders without panicking, that
// plain rendering emits no escape sequence, and that wrapping respects
// the width.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"**b** *i* `c` ~~s~~ [l](https://x) <https://y>", "# h\n## h2\n- a\n1. b\n> q\n---",
		"```go\ncode\n```", "| a | b |\n|---|---|\n| 1 | 2 |", "\\*esc\\* _a_b_ __", "[[a]](b)", "`` ` ``", "日本語 👍 e\u0301",
	} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		if !utf8.ValidString(s) || width < 1 || width > 200 {
			t.Skip()
		}
		s = sanitize(s)
		plain := renderText(s, false)
		if strings.Contains(plain, "\x1b") {
			t.Errorf("plain render of %q contains an escape: %q", s, plain)
		}
		_ = renderText(s, true)
		md := markdown{}
		for _, l := range md.render(s) {
			for _, w := range wrap(l, width) {
				if w.width() > width && len([]rune(w.plain())) > 1 {
					t.Errorf("wrap(%q, %d) gave a line of width %d: %q", l.plain(), width, w.width(), w.plain())
				}
			}
		}
	})
}
