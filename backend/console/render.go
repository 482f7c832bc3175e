package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

// renderer turns posts, cards, files and notices into terminal text,
// with ANSI styles when color is set.
type renderer struct {
	color     bool
	trueColor bool       // the terminal takes 24-bit colours (COLORTERM)
	width     int        // columns available; cards are wrapped to fit
	widthFn   func() int // when set, asked for the width each time (a terminal may be resized)
	md        markdown
}

// cols returns the columns available now.
func (r *renderer) cols() int {
	if r.widthFn != nil {
		if w := r.widthFn(); w > 0 {
			return w
		}
	}
	return r.width
}

func newRenderer(color, trueColor bool, width int) *renderer {
	if width <= 0 {
		width = 80
	}
	return &renderer{color: color, trueColor: trueColor, width: width, md: markdown{color: color}}
}

// sgr returns the SGR parameters for a span, or "".
func sgr(s span) string {
	var p []string
	add := func(st style, code string) {
		if s.st&st != 0 {
			p = append(p, code)
		}
	}
	add(sBold, "1")
	add(sDim|sURL, "2")
	add(sItalic, "3")
	add(sUnderline|sLink, "4")
	add(sStrike, "9")
	switch {
	case s.fg != "":
		p = append(p, s.fg)
	case s.st&sCode != 0:
		p = append(p, "36")
	case s.st&sLink != 0:
		p = append(p, "34")
	case s.st&sMention != 0:
		p = append(p, "33")
	case s.st&sHeader != 0:
		p = append(p, "35")
	}
	return strings.Join(p, ";")
}

// write appends l to b, styled when r.color is set.
func (r *renderer) write(b *strings.Builder, l line) {
	for _, s := range l {
		if code := sgr(s); r.color && code != "" {
			b.WriteString("\x1b[" + code + "m" + s.text + "\x1b[0m")
		} else {
			b.WriteString(s.text)
		}
	}
}

// lines writes ls, each prefixed with indent and ended with a newline.
func (r *renderer) lines(b *strings.Builder, indent string, ls []line) {
	for _, l := range ls {
		if len(l) > 0 {
			b.WriteString(indent)
		}
		r.write(b, l)
		b.WriteByte('\n')
	}
}

// message is a post to show: who sent it, where, and what.
type message struct {
	id        string // post id, shown as #id
	author    line
	where     line   // "~ops", "@you (direct)"
	thread    string // root post id, or ""
	ephemeral string // "@you" when only that user sees it
	text      string
	card      *bot.Card
	file      *savedFile
}

// savedFile is a file the bot sent, as the console kept it.
type savedFile struct {
	name string
	size int64
	path string // where it was saved; "" when saving failed
	err  error  // why it was not saved
}

// post renders m: a header line "#5 ops-bot › ~ops:" followed by the
// text (on the same line when it is one short line), the card and the
// file, indented by two spaces.
func (r *renderer) post(m message) string {
	var b strings.Builder
	h := line{{text: "#" + m.id + " ", st: sDim}}
	h = append(h, m.author...)
	h = append(h, span{text: " › ", st: sDim})
	h = append(h, m.where...)
	if m.thread != "" {
		h = append(h, span{text: " (thread #" + m.thread + ")", st: sDim})
	}
	if m.ephemeral != "" {
		h = append(h, span{text: " (only " + m.ephemeral + " sees this)", st: sItalic | sDim})
	}
	h = append(h, span{text: ":"})
	var body []line
	if m.text != "" {
		body = r.md.render(sanitize(m.text))
	}
	if len(body) == 1 && m.card == nil && m.file == nil && h.width()+1+body[0].width() <= r.cols() {
		r.write(&b, append(append(h, span{text: " "}), body[0]...))
		b.WriteByte('\n')
		return b.String()
	}
	r.write(&b, h)
	b.WriteByte('\n')
	r.lines(&b, "  ", body)
	if m.card != nil {
		r.lines(&b, "  ", r.card(m.card))
	}
	if m.file != nil {
		r.lines(&b, "  ", []line{r.file(m.file)})
	}
	return b.String()
}

// notice renders a line from the console itself (not from the bot).
func (r *renderer) notice(format string, args ...any) string {
	var b strings.Builder
	r.write(&b, line{{text: sanitize(fmt.Sprintf(format, args...)), st: sDim}})
	b.WriteByte('\n')
	return b.String()
}

// problem renders a console error: a bad console command or address.
func (r *renderer) problem(err error) string {
	var b strings.Builder
	r.write(&b, line{{text: "console: " + sanitize(err.Error()), fg: "31"}})
	b.WriteByte('\n')
	return b.String()
}

// file describes a file the bot sent.
func (r *renderer) file(f *savedFile) line {
	l := line{{text: "file ", st: sDim}, {text: sanitize(f.name), st: sBold}, {text: " (" + humanSize(f.size) + ")"}}
	if f.path != "" {
		return append(l, span{text: " saved to "}, span{text: f.path, st: sURL})
	}
	return append(l, span{text: " not saved: " + sanitize(f.err.Error()), fg: "31"})
}

// humanSize formats n bytes as "532 B", "1.2 KB", "3.4 MB".
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		f /= 1024
		if f < 1024 || u == "TB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	panic("unreachable")
}

// cardColor returns the SGR colour of a card's bar: the terminal's green,
// yellow and red for Mattermost's good, warning and danger (so they
// follow the terminal's theme), and for the other colours bot.CardColor
// knows (Errbot's names, #RRGGBB, #RGB) their hex value as a 24-bit
// colour, or the nearest of the 256 when the terminal does not say it
// takes 24 bits. Unknown colours get none.
func (r *renderer) cardColor(c string) string {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "good":
		return "32"
	case "warning":
		return "33"
	case "danger":
		return "31"
	}
	hex, ok := bot.CardColor(c)
	if !ok {
		return ""
	}
	v, _ := strconv.ParseUint(hex[1:], 16, 32) // "#" and six hex digits: cannot fail
	red, green, blue := int(v>>16), int(v>>8&0xff), int(v&0xff)
	if r.trueColor {
		return fmt.Sprintf("38;2;%d;%d;%d", red, green, blue)
	}
	six := func(x int) int { return (x*5 + 127) / 255 }
	return fmt.Sprintf("38;5;%d", 16+36*six(red)+6*six(green)+six(blue))
}

// card renders c as its summary, then a box. Short fields sit two by
// two; the left edge is a bar in the card's colour; without colour, or
// when the colour is unknown, the colour is named in the top edge.
func (r *renderer) card(c *bot.Card) []line {
	var summary []line
	if c.Summary != "" {
		// Above the box, as Mattermost draws an attachment's pretext,
		// and like the text of a post.
		summary = r.md.render(sanitize(c.Summary))
	}
	return append(summary, r.box(c)...)
}

// block is a part of a card's box: lines, or a pair of short fields.
type block struct {
	lines []line // before wrapping
	pair  *[2]*bot.Field
}

// actions renders a card's buttons on one line, "[ Approve ] [ Reject ]",
// and each menu on a line of its own with its choices: "[ Env ▾ ]
// Staging, Production", "[ Owner ▾ ] (a user)". The console cannot
// click them; they show what the card offers on Mattermost.
func (r *renderer) actions(acts []bot.Action) []block {
	var out []block
	var buttons line
	for _, a := range acts {
		st := sBold
		if a.Disabled {
			st = sDim
		}
		if a.Kind == bot.ActionButton {
			if len(buttons) > 0 {
				buttons = append(buttons, span{text: " "})
			}
			buttons = append(buttons, span{text: "[ " + sanitize(a.Label) + " ]", st: st})
			continue
		}
		var choices string
		switch a.Kind {
		case bot.ActionUsers:
			choices = "(a user)"
		case bot.ActionChannels:
			choices = "(a channel)"
		default:
			names := make([]string, len(a.Options))
			for i, o := range a.Options {
				names[i] = sanitize(o.Text)
			}
			choices = strings.Join(names, ", ")
		}
		out = append(out, block{lines: []line{{{text: "[ " + sanitize(a.Label) + " ▾ ] ", st: st}, {text: choices, st: sDim}}}})
	}
	if len(buttons) > 0 {
		out = append([]block{{lines: []line{buttons}}}, out...)
	}
	return out
}

// box renders c, but its summary, as a box.
func (r *renderer) box(c *bot.Card) []line {
	maxInner := max(r.cols()-2-4, 16) // two for the post's indent, four for the edges
	var sections [][]block

	var head []block
	if t := sanitize(c.Title); t != "" {
		st := sBold
		if c.Link != "" {
			st |= sLink
		}
		head = append(head, block{lines: []line{r.md.inline(t, st)}})
	}
	if c.Link != "" {
		l := sanitize(c.Link)
		if !r.color {
			l = "<" + l + ">"
		}
		head = append(head, block{lines: []line{{{text: l, st: sURL}}}})
	}
	sections = append(sections, head)
	if c.Text != "" {
		sections = append(sections, []block{{lines: r.md.render(sanitize(c.Text))}})
	}
	var fields []block
	for i := 0; i < len(c.Fields); i++ {
		f := &c.Fields[i]
		if f.Short && i+1 < len(c.Fields) && c.Fields[i+1].Short {
			fields = append(fields, block{pair: &[2]*bot.Field{f, &c.Fields[i+1]}})
			i++
			continue
		}
		fields = append(fields, block{lines: r.field(f)})
	}
	fieldSection := len(sections) // its blocks are spaced by a blank line
	sections = append(sections, fields)
	var images []block
	for _, im := range []struct{ label, url string }{{"image", c.Image}, {"thumbnail", c.Thumbnail}} {
		if im.url != "" {
			images = append(images, block{lines: []line{{{text: im.label + ": ", st: sDim}, {text: sanitize(im.url), st: sURL}}}})
		}
	}
	sections = append(sections, images)
	sections = append(sections, r.actions(c.Actions))

	// The box is as wide as its widest unwrapped line, within the screen.
	// Pairs of short fields share one left column width, so they align.
	inner, maxL, maxR := 0, 0, 0
	for _, s := range sections {
		for _, b := range s {
			if b.pair != nil {
				for k, f := range b.pair {
					for _, l := range r.field(f) {
						if k == 0 {
							maxL = max(maxL, l.width())
						} else {
							maxR = max(maxR, l.width())
						}
					}
				}
				inner = max(inner, maxL+3+maxR)
			}
			for _, l := range b.lines {
				inner = max(inner, l.width())
			}
		}
	}
	inner = min(max(inner, 12), maxInner)
	colL := maxL
	if maxL+3+maxR > inner {
		colL = (inner - 3) / 2
	}

	var content []line
	for i, s := range sections {
		if len(s) == 0 {
			continue
		}
		if len(content) > 0 {
			content = append(content, nil)
		}
		for k, b := range s {
			if k > 0 && i == fieldSection {
				content = append(content, nil)
			}
			if b.pair != nil {
				content = append(content, r.pair(b.pair, colL, inner-3-colL)...)
				continue
			}
			for _, l := range b.lines {
				content = append(content, wrap(l, inner)...)
			}
		}
	}
	if len(content) == 0 {
		content = []line{{{text: "(empty card)", st: sDim | sItalic}}}
	}

	fg := r.cardColor(c.Color)
	edge := span{text: "│", st: sDim}
	if fg != "" && r.color {
		edge = span{text: "┃", fg: fg}
	}
	top := "┌" + strings.Repeat("─", inner+2) + "┐"
	// Named when it is not drawn: always without colour, and in colour
	// when the colour is unknown, so that a typo shows.
	if name := sanitize(strings.TrimSpace(c.Color)); name != "" && (!r.color || fg == "") && textWidth(name)+4 <= inner {
		top = "┌─ " + name + " " + strings.Repeat("─", inner-textWidth(name)-1) + "┐"
	}
	corner := func(s string) line {
		first, rest := s[:len("┌")], s[len("┌"):]
		if fg != "" && r.color {
			return line{{text: first, fg: fg}, {text: rest, st: sDim}}
		}
		return line{{text: first + rest, st: sDim}}
	}
	out := []line{corner(top)}
	for _, l := range content {
		row := line{edge, {text: " "}}
		row = append(row, l...)
		row = append(row, span{text: strings.Repeat(" ", max(inner-l.width(), 0)) + " "}, span{text: "│", st: sDim})
		out = append(out, row)
	}
	return append(out, corner("└"+strings.Repeat("─", inner+2)+"┘"))
}

// field renders a field: its title in bold over its value.
func (r *renderer) field(f *bot.Field) []line {
	var ls []line
	if t := sanitize(f.Title); t != "" {
		ls = append(ls, line{{text: t, st: sBold}})
	}
	if f.Value != "" {
		ls = append(ls, r.md.render(sanitize(f.Value))...)
	}
	return ls
}

// pair lays out two short fields side by side, in columns left and right
// wide with three blanks between them.
func (r *renderer) pair(p *[2]*bot.Field, left, right int) []line {
	var cols [2][]line
	for k, f := range p {
		for _, l := range r.field(f) {
			cols[k] = append(cols[k], wrap(l, []int{left, right}[k])...)
		}
	}
	var out []line
	for i := range max(len(cols[0]), len(cols[1])) {
		var l line
		if i < len(cols[0]) {
			l = append(l, cols[0][i]...)
		}
		if i < len(cols[1]) {
			l = append(l, span{text: strings.Repeat(" ", left-l.width()+3)})
			l = append(l, cols[1][i]...)
		}
		out = append(out, l)
	}
	return out
}

// sanitize replaces control characters (escape sequences from a plugin
// or a user could repaint the terminal) with the visible U+FFFD, and tabs
// with four spaces (a terminal's tab stops would break the alignment of
// boxes and tables). Newlines stay.
func sanitize(s string) string {
	s = strings.ReplaceAll(s, "\t", "    ")
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
