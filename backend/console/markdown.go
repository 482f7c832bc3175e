package console

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file renders the subset of Mattermost markdown that bots send
// (emphasis, inline code, code fences, headers, lists, quotes, links,
// rules and tables) as terminal lines. A small hand-written renderer was
// chosen over glamour: glamour pulls in goldmark, chroma, lipgloss and
// termenv (several MB of binary and a dozen modules) to render a subset
// this file covers in a few hundred lines, and its output is harder to
// pin in golden files.
//
// Mattermost treats every newline as a line break (it does not join the
// lines of a paragraph), so rendering is line by line.

// style is a set of text attributes.
type style uint16

const (
	sBold style = 1 << iota
	sItalic
	sCode
	sStrike
	sLink
	sURL // the URL shown after a link's text
	sDim
	sHeader
	sUnderline
	sMention
)

// span is a run of text in one style.
type span struct {
	text string
	st   style
	fg   string // SGR colour parameters ("32", "38;5;208"), or empty
}

// line is a rendered line: spans printed one after the other.
type line []span

// width returns the number of terminal columns the line takes.
func (l line) width() int {
	n := 0
	for _, s := range l {
		n += textWidth(s.text)
	}
	return n
}

// plain returns the line's text without styles.
func (l line) plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

// markdown renders text. In plain mode (color false) emphasis markers are
// dropped, inline code keeps its backticks, links show their URL in angle
// brackets and headers are underlined with '=' or '-', so the output reads
// well without any escape sequence.
type markdown struct {
	color bool
}

// render returns the lines of text.
func (md markdown) render(text string) []line {
	var out []line
	src := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(src); i++ {
		raw := src[i]
		t := strings.TrimSpace(raw)
		switch {
		case isFence(t):
			fence := t[:3]
			var body []string
			j := i + 1
			for ; j < len(src); j++ {
				if strings.HasPrefix(strings.TrimSpace(src[j]), fence) {
					break
				}
				body = append(body, strings.ReplaceAll(src[j], "\t", "    "))
			}
			out = append(out, md.codeBlock(strings.TrimSpace(t[3:]), body)...)
			i = j // the closing fence, or the end when it is missing
		case isRule(t):
			out = append(out, line{{text: strings.Repeat("─", 40), st: sDim}})
		case headerLevel(t) > 0:
			out = append(out, md.header(t)...)
		case isTableRow(t) && i+1 < len(src) && isTableDelim(strings.TrimSpace(src[i+1])):
			j := i + 2
			rows := [][]string{splitRow(t)}
			for ; j < len(src) && isTableRow(strings.TrimSpace(src[j])); j++ {
				rows = append(rows, splitRow(strings.TrimSpace(src[j])))
			}
			out = append(out, md.table(rows)...)
			i = j - 1
		case strings.HasPrefix(t, ">"):
			q := strings.TrimPrefix(strings.TrimPrefix(t, ">"), " ")
			l := line{{text: "│ ", st: sDim}}
			out = append(out, append(l, md.inline(q, sItalic)...))
		default:
			out = append(out, md.listOrText(raw))
		}
	}
	return out
}

func isFence(t string) bool {
	return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}

func isRule(t string) bool {
	if len(t) < 3 {
		return false
	}
	c := t[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] != c && t[i] != ' ' {
			return false
		}
	}
	return strings.Count(t, string(c)) >= 3
}

// headerLevel returns 1 to 6 for an ATX header ("## Title"), 0 otherwise.
func headerLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n < len(t) && t[n] != ' ' {
		return 0
	}
	return n
}

func (md markdown) header(t string) []line {
	n := headerLevel(t)
	title := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(t[n:]), "#"))
	if md.color {
		st := sBold | sHeader
		if n == 1 {
			st |= sUnderline
		}
		return []line{md.inline(title, st)}
	}
	l := md.inline(title, 0)
	if n > 2 {
		return []line{l}
	}
	mark := "="
	if n == 2 {
		mark = "-"
	}
	return []line{l, {{text: strings.Repeat(mark, max(l.width(), 3))}}}
}

func (md markdown) codeBlock(lang string, body []string) []line {
	var out []line
	if lang != "" && !md.color {
		out = append(out, line{{text: "┌ " + lang, st: sDim}})
	}
	for _, b := range body {
		out = append(out, line{{text: "│ ", st: sDim}, {text: b, st: sCode}})
	}
	if len(body) == 0 {
		out = append(out, line{{text: "│", st: sDim}})
	}
	return out
}

// listOrText renders a list item ("- x", "* x", "+ x", "1. x", keeping
// the indentation) or a line of text.
func (md markdown) listOrText(raw string) line {
	raw = strings.ReplaceAll(raw, "\t", "    ")
	body := strings.TrimLeft(raw, " ")
	indent := raw[:len(raw)-len(body)]
	if len(body) >= 2 && strings.ContainsRune("-*+", rune(body[0])) && body[1] == ' ' {
		rest := strings.TrimLeft(body[2:], " ")
		bullet := "• "
		switch {
		case strings.HasPrefix(rest, "[ ] "):
			bullet, rest = "☐ ", rest[4:]
		case strings.HasPrefix(rest, "[x] "), strings.HasPrefix(rest, "[X] "):
			bullet, rest = "☑ ", rest[4:]
		}
		return append(line{{text: indent + bullet}}, md.inline(rest, 0)...)
	}
	if n := numberedItem(body); n > 0 {
		return append(line{{text: indent + body[:n]}}, md.inline(body[n:], 0)...)
	}
	if indent == "" {
		return md.inline(body, 0)
	}
	return append(line{{text: indent}}, md.inline(body, 0)...)
}

// numberedItem returns the length of "12. " at the start of s, or 0.
func numberedItem(s string) int {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '.' && s[i] != ')' || s[i+1] != ' ' {
		return 0
	}
	return i + 2
}

func isTableRow(t string) bool {
	return len(t) >= 2 && t[0] == '|' && strings.Count(t, "|") >= 2
}

func isTableDelim(t string) bool {
	if !isTableRow(t) {
		return false
	}
	for _, c := range splitRow(t) {
		c = strings.Trim(c, ": ")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// splitRow splits "| a | b |" into its cells, honouring "\|".
func splitRow(t string) []string {
	t = strings.TrimPrefix(t, "|")
	if strings.HasSuffix(t, "|") && !strings.HasSuffix(t, `\|`) {
		t = t[:len(t)-1]
	}
	var cells []string
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '\\' && i+1 < len(t) && t[i+1] == '|':
			b.WriteByte('|')
			i++
		case t[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(t[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// table lays out rows (the first is the header) in aligned columns. An
// all-empty header row (a common trick for a borderless key/value table)
// is left out.
func (md markdown) table(rows [][]string) []line {
	ncol := 0
	for _, r := range rows {
		ncol = max(ncol, len(r))
	}
	cells := make([][]line, len(rows))
	widths := make([]int, ncol)
	emptyHeader := true
	for i, r := range rows {
		cells[i] = make([]line, ncol)
		for j := range ncol {
			var st style
			if i == 0 {
				st = sBold
			}
			if j < len(r) {
				cells[i][j] = md.inline(r[j], st)
				if i == 0 && r[j] != "" {
					emptyHeader = false
				}
			}
			if i > 0 || !emptyHeader || j < len(r) && r[j] != "" {
				widths[j] = max(widths[j], cells[i][j].width())
			}
		}
	}
	var out []line
	for i := range rows {
		if i == 0 && emptyHeader {
			continue
		}
		var l line
		for j, c := range cells[i] {
			l = append(l, c...)
			if j < ncol-1 {
				l = append(l, span{text: strings.Repeat(" ", widths[j]-c.width()+2)})
			}
		}
		out = append(out, trimRight(l))
		if i == 0 {
			var sep []string
			for _, w := range widths {
				sep = append(sep, strings.Repeat("─", w))
			}
			out = append(out, line{{text: strings.Join(sep, "  "), st: sDim}})
		}
	}
	return out
}

// trimRight drops the blanks at the end of the line, whatever their
// style: a line break replaces them.
func trimRight(l line) line {
	for len(l) > 0 {
		last := &l[len(l)-1]
		last.text = strings.TrimRight(last.text, " ")
		if last.text != "" {
			break
		}
		l = l[:len(l)-1]
	}
	return l
}

// inline renders the spans of one line of text, with base added to every
// span's style.
func (md markdown) inline(s string, base style) line {
	var out line
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, span{text: text.String(), st: base})
			text.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_~[]()#+-.!|<>", s[i+1]) >= 0:
			text.WriteByte(s[i+1])
			i += 2
			continue
		case c == '`':
			n := run(s, i, '`')
			if end := strings.Index(s[i+n:], s[i:i+n]); end >= 0 {
				code := s[i+n : i+n+end]
				if t := strings.TrimSpace(code); t != "" && len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' {
					code = code[1 : len(code)-1]
				}
				flush()
				if !md.color {
					code = "`" + code + "`"
				}
				out = append(out, span{text: code, st: base | sCode})
				i += n + end + n
				continue
			}
		case c == '*' || c == '_' || c == '~':
			if inner, n, st, ok := emphasis(s, i); ok {
				flush()
				out = append(out, md.inline(inner, base|st)...)
				i += n
				continue
			}
		case c == '[':
			if label, url, n, ok := link(s, i); ok {
				flush()
				out = append(out, md.link(label, url, base)...)
				i += n
				continue
			}
		case c == '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 && isURL(s[i+1:i+end]) {
				flush()
				out = append(out, md.link(s[i+1:i+end], s[i+1:i+end], base)...)
				i += end + 1
				continue
			}
		case c == '@' && md.color && (i == 0 || !isWord(lastRuneOf(s[:i]))):
			n := 1
			for n < len(s)-i && (isWord(rune(s[i+n])) || s[i+n] == '-' || s[i+n] == '.') {
				n++
			}
			if n > 1 {
				flush()
				out = append(out, span{text: strings.TrimRight(s[i:i+n], "."), st: base | sMention})
				i += len(strings.TrimRight(s[i:i+n], "."))
				continue
			}
		}
		text.WriteByte(c)
		i++
	}
	flush()
	return out
}

func (md markdown) link(label, url string, base style) line {
	l := md.inline(label, base|sLink)
	if label == url {
		if !md.color {
			return line{{text: "<" + url + ">", st: base}}
		}
		return line{{text: url, st: base | sLink}}
	}
	if md.color {
		return append(l, span{text: " (" + url + ")", st: base | sURL})
	}
	return append(l, span{text: " <" + url + ">", st: base})
}

// run returns how many times c repeats from s[i].
func run(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// emphasis recognises **bold**, __bold__, *italic*, _italic_ and
// ~~strike~~ at s[i]. It returns the inner text, the length consumed and
// the style. Underscores only count at word boundaries, so snake_case
// stays as written.
func emphasis(s string, i int) (inner string, n int, st style, ok bool) {
	c := s[i]
	k := min(run(s, i, c), 2)
	switch {
	case c == '~' && k < 2:
		return "", 0, 0, false
	case c == '~':
		st = sStrike
	case k == 2:
		st = sBold
	default:
		st = sItalic
	}
	open := s[i : i+k]
	start := i + k
	if start >= len(s) || s[start] == ' ' {
		return "", 0, 0, false
	}
	if c == '_' && i > 0 && isWord(lastRuneOf(s[:i])) {
		return "", 0, 0, false
	}
	for j := start + 1; j <= len(s)-k; j++ {
		if s[j:j+k] != open || s[j-1] == ' ' || s[j-1] == '\\' {
			continue
		}
		if k == 1 && j+1 < len(s) && s[j+1] == c {
			j++ // "**" inside an italic run closes nothing
			continue
		}
		if c == '_' && j+k < len(s) && isWord(firstRune(s[j+k:])) {
			continue
		}
		return s[start:j], j + k - i, st, true
	}
	return "", 0, 0, false
}

// link recognises [label](url) at s[i].
func link(s string, i int) (label, url string, n int, ok bool) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth > 0 {
				continue
			}
			if j+1 >= len(s) || s[j+1] != '(' {
				return "", "", 0, false
			}
			end := strings.IndexByte(s[j+2:], ')')
			if end < 0 {
				return "", "", 0, false
			}
			url = strings.TrimSpace(s[j+2 : j+2+end])
			if url == "" || strings.ContainsAny(url, " \t") {
				return "", "", 0, false
			}
			return s[i+1 : j], url, j + 2 + end + 1 - i, true
		}
	}
	return "", "", 0, false
}

func isURL(s string) bool {
	return (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "mailto:")) &&
		!strings.ContainsAny(s, " \t<")
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func lastRuneOf(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

// textWidth returns the columns s takes on a terminal: wide (East Asian,
// emoji) runes take two, combining marks none. It is an approximation of
// wcwidth good enough to align boxes.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f:
		return 0
	case r < 0x300:
		return 1
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200b || r == 0xfe0f:
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf, r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60,
		r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1faff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// wrap breaks l into lines of at most width columns, at spaces when it
// can and inside a word when the word alone is too long. Styles carry over
// the break.
func wrap(l line, width int) []line {
	width = max(width, 1)
	if l.width() <= width {
		return []line{l}
	}
	// Cut the line into words (with their trailing space) that remember
	// the style of each piece.
	type piece struct {
		text string
		st   style
		fg   string
	}
	var words [][]piece
	var cur []piece
	for _, s := range l {
		rest := s.text
		for rest != "" {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				cur = append(cur, piece{rest, s.st, s.fg})
				break
			}
			cur = append(cur, piece{rest[:sp+1], s.st, s.fg})
			words = append(words, cur)
			cur = nil
			rest = rest[sp+1:]
		}
	}
	if len(cur) > 0 {
		words = append(words, cur)
	}
	var out []line
	var ln line
	w := 0
	add := func(p piece) {
		if n := len(ln); n > 0 && ln[n-1].st == p.st && ln[n-1].fg == p.fg {
			ln[n-1].text += p.text
		} else {
			ln = append(ln, span(p))
		}
		w += textWidth(p.text)
	}
	breakLine := func() {
		out = append(out, trimRight(ln))
		ln, w = nil, 0
	}
	for _, word := range words {
		ww := 0
		for _, p := range word {
			ww += textWidth(strings.TrimRight(p.text, " "))
		}
		if w > 0 && w+ww > width {
			breakLine()
		}
		for _, p := range word {
			for textWidth(strings.TrimRight(p.text, " "))+w > width {
				// Split a word longer than the line.
				cut, cw := 0, 0
				for k, r := range p.text {
					if cw+runeWidth(r) > width-w {
						cut = k
						break
					}
					cw += runeWidth(r)
				}
				if cut == 0 && w == 0 {
					_, cut = utf8.DecodeRuneInString(p.text) // at least one rune per line
				}
				if cut > 0 {
					add(piece{p.text[:cut], p.st, p.fg})
				}
				breakLine()
				p.text = p.text[cut:]
			}
			if p.text != "" {
				add(p)
			}
		}
	}
	if len(ln) > 0 {
		breakLine()
	}
	return out
}
