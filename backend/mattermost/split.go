package mattermost

import (
	"strings"
	"unicode"
	"unicode/utf8"

	mm "github.com/matterbot/matterbot/mattermost"
)

// Split cuts text into parts of at most limit runes each, the unit in
// which the server counts a post's length. A limit of 0 or less means
// [mm.PostMessageMaxRunes]. Text that fits is returned as the only part;
// an empty text gives no parts.
//
// Cuts fall, in order of preference, at the end of a line outside code
// fences, at the end of any line, after a space inside a line, and only
// when a single word is longer than a part at a character boundary (never
// inside a combining sequence when that can be helped). A code fence open
// at a cut is closed at the end of the part and re-opened, with its info
// string ("```go"), at the start of the next, so that every part renders
// on its own; a cut inside a line never starts the next part with what
// reads as a fence, unless a run of backticks or tildes is about as long
// as a part. Removing the added fence lines and joining the parts gives
// back text exactly.
func Split(text string, limit int) []string {
	if limit <= 0 {
		limit = mm.PostMessageMaxRunes
	}
	if text == "" {
		return nil
	}
	if len(text) <= limit || utf8.RuneCountInString(text) <= limit {
		return []string{text}
	}
	var parts []string
	splitChunks(text, limit, func(c chunk) {
		parts = append(parts, c.pre+c.body+c.post)
	})
	return parts
}

// chunk is one part of a split: body is a piece of the original text, pre
// re-opens the code fence body starts in, post closes the one it ends in.
type chunk struct {
	pre, body, post string
}

// fence is an open code fence (CommonMark fenced code block).
type fence struct {
	char   byte   // '`' or '~'
	n      int    // number of fence characters, >= 3
	reopen string // line that re-opens it in the next part, with "\n"; "" when too long to repeat
}

// close returns what closes f after body.
func (f *fence) close(body string) string {
	if f == nil || f.reopen == "" {
		return ""
	}
	s := strings.Repeat(string(f.char), f.n)
	if !strings.HasSuffix(body, "\n") {
		s = "\n" + s
	}
	return s
}

// closeRunes is the length of f.close(body) given whether body ends in a
// newline, without building it.
func (f *fence) closeRunes(endsInNewline bool) int {
	if f == nil || f.reopen == "" {
		return 0
	}
	if endsInNewline {
		return f.n
	}
	return f.n + 1
}

// Cut classes, best last: where a cut may fall and what it costs the
// reader.
const (
	cutHard  = iota // inside a word
	cutSpace        // after a space inside a line
	cutLine         // at the end of a line inside a code fence
	cutPara         // at the end of a line outside code fences
)

// cut is a candidate end of a chunk's body.
type cut struct {
	at    int    // byte offset in text; 0 means none
	runes int    // runes of text[start:at]
	state *fence // fence open at at
}

// splitChunks calls emit for each chunk of text, in order. Each chunk
// holds at most limit runes, pre and post included.
func splitChunks(text string, limit int, emit func(chunk)) {
	var state *fence // the fence open at start
	left := utf8.RuneCountInString(text)
	for start := 0; start < len(text); {
		pre := ""
		if state != nil {
			pre = state.reopen
		}
		budget := limit - utf8.RuneCountInString(pre)
		if left <= budget {
			emit(chunk{pre: pre, body: text[start:]})
			return
		}
		c := bestCut(text, start, budget, limit, state)
		body := text[start:c.at]
		emit(chunk{pre: pre, body: body, post: c.state.close(body)})
		start, state, left = c.at, c.state, left-c.runes
	}
}

// bestCut scans text from start, where fence state is open, and returns
// the best place to end a chunk whose body and closing fence fit in budget
// runes. It always makes progress: the cut is past start.
func bestCut(text string, start, budget, limit int, state *fence) cut {
	state0 := state
	var best [cutPara + 1]cut
	runes := 0  // runes of text[start:i]
	ls := start // where line starts in text
	for line := range strings.Lines(text[start:]) {
		if runes > budget {
			break
		}
		le := ls + len(line)
		next, delim := fenceLine(line, state, limit)

		n := utf8.RuneCountInString(line)
		if runes+n+next.closeRunes(true) <= budget && line[len(line)-1] == '\n' {
			// The whole line fits: its end is a better cut than any
			// inside it, or inside the lines before it.
			runes += n
		} else {
			// Inside the line: spaces and rune boundaries, with the
			// state the line starts in.
			closeIn := state.closeRunes(false)
			for i := range line {
				pos := ls + i
				// A cut inside a line starts a line in the next part:
				// never one that would read as a fence there.
				if runes+closeIn <= budget && pos > start && !looksLikeFence(line[i:]) {
					best[cutHard] = cut{at: pos, runes: runes, state: state}
					if !delim && i > 0 && isBlank(line[i-1]) && !isBlank(line[i]) && line[i] != '\n' {
						best[cutSpace] = best[cutHard]
					}
				}
				runes++
				if runes > budget {
					break
				}
			}
		}
		if line[len(line)-1] == '\n' && runes+next.closeRunes(true) <= budget {
			c := cut{at: le, runes: runes, state: next}
			switch {
			case next == nil:
				best[cutPara] = c
			case next != state: // the line opened the fence: cut before it instead
			default:
				best[cutLine] = c
			}
		}
		state, ls = next, le
	}

	switch {
	case best[cutPara].at > 0 && (best[cutPara].runes >= budget/2 || best[cutLine].at == 0):
		return best[cutPara]
	case best[cutLine].at > 0 && best[cutLine].at > best[cutPara].at:
		return best[cutLine]
	case best[cutPara].at > 0:
		return best[cutPara]
	case best[cutSpace].at > 0:
		return best[cutSpace]
	}
	return backOffCombining(text, start, best[cutHard], state0)
}

// backOffCombining moves a hard cut back so that it does not separate a
// character from the combining marks, joiners and variation selectors
// that follow it, unless that would leave the chunk empty. state is the
// fence open at start.
func backOffCombining(text string, start int, c cut, state *fence) cut {
	if c.at == 0 {
		// No place in the window is fit for a cut: every one would
		// start a line that reads as a fence (a run of backticks longer
		// than a part), or the limit is too small for anything beside
		// the fence lines. Cut after one rune, still inside the first
		// line: re-opened fences take at most a third of a part (see
		// limitFence), so the part fits.
		_, n := utf8.DecodeRuneInString(text[start:])
		return cut{at: start + n, runes: 1, state: state}
	}
	at, runes := c.at, c.runes
	for at > start {
		r, _ := utf8.DecodeRuneInString(text[at:])
		p, n := utf8.DecodeLastRuneInString(text[:at])
		if !joins(r) && p != '\u200d' {
			break
		}
		at -= n
		runes--
	}
	if at == start {
		return c
	}
	return cut{at: at, runes: runes, state: c.state}
}

// joins reports whether r attaches to the rune before it.
func joins(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me) || r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f')
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// looksLikeFence reports whether s, at the start of a line, could be a
// fence delimiter: up to three spaces, then ``` or ~~~.
func looksLikeFence(s string) bool {
	for i := 0; i < 3 && strings.HasPrefix(s, " "); i++ {
		s = s[1:]
	}
	return strings.HasPrefix(s, "```") || strings.HasPrefix(s, "~~~")
}

// fenceLine reports the fence state after line, given the state before
// it, and whether line is a fence delimiter (it opens or closes a fence).
// A fence it opens is re-opened in parts of limit runes (see limitFence).
func fenceLine(line string, state *fence, limit int) (*fence, bool) {
	s := strings.TrimRight(line, "\r\n")
	indent := 0
	for indent < len(s) && indent < 4 && s[indent] == ' ' {
		indent++
	}
	if indent > 3 || indent == len(s) {
		return state, false
	}
	s = s[indent:]
	ch := s[0]
	if ch != '`' && ch != '~' {
		return state, false
	}
	n := 0
	for n < len(s) && s[n] == ch {
		n++
	}
	if n < 3 {
		return state, false
	}
	info := s[n:]
	if state != nil {
		if ch == state.char && n >= state.n && strings.TrimLeft(info, " \t") == "" {
			return nil, true
		}
		return state, false
	}
	if ch == '`' && strings.IndexByte(info, '`') >= 0 {
		return state, false // not a fence: an inline code span
	}
	reopen := line // saves a copy when the line ends in a plain "\n"
	if !strings.HasSuffix(line, "\n") || strings.HasSuffix(line, "\r\n") {
		reopen = strings.TrimRight(line, "\r\n") + "\n"
	}
	f := &fence{char: ch, n: n, reopen: reopen}
	limitFence(f, limit)
	return f, true
}

// limitFence drops the re-open line of a fence too long to repeat in
// parts of limit runes, where it would leave little room for the text. A
// fence whose line is long only by its info string is re-opened without
// it.
func limitFence(f *fence, limit int) {
	if utf8.RuneCountInString(f.reopen)+f.n+1 <= limit/3 {
		return
	}
	if 2*f.n+2 <= limit/3 {
		f.reopen = strings.Repeat(string(f.char), f.n) + "\n"
		return
	}
	f.reopen = ""
}
