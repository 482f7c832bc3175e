package mattermost

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	long := strings.Repeat("x", 30)
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{name: "empty", text: "", limit: 10, want: nil},
		{name: "fits", text: "hello world", limit: 11, want: []string{"hello world"}},
		{name: "fits in runes not bytes", text: "ééééé", limit: 5, want: []string{"ééééé"}},
		{
			name:  "at line ends",
			text:  "one two\nthree four\nfive",
			limit: 12,
			want:  []string{"one two\n", "three four\n", "five"},
		},
		{
			name:  "prefers a paragraph in the second half",
			text:  "aaaa\nbbbb\ncccc dddd eeee",
			limit: 14,
			want:  []string{"aaaa\nbbbb\n", "cccc dddd eeee"},
		},
		{
			name:  "words kept whole",
			text:  "alpha beta gamma delta",
			limit: 12,
			want:  []string{"alpha beta ", "gamma delta"},
		},
		{
			name:  "a line end beats a later space",
			text:  "ab\ncd ef gh ij kl",
			limit: 10,
			want:  []string{"ab\n", "cd ef gh ", "ij kl"},
		},
		{
			name:  "word longer than a part is cut",
			text:  long,
			limit: 12,
			want:  []string{long[:12], long[12:24], long[24:]},
		},
		{
			name:  "runes never cut",
			text:  "ééééééé",
			limit: 3,
			want:  []string{"ééé", "ééé", "é"},
		},
		{
			name:  "combining marks stay with their letter",
			text:  "aae\u0301e\u0301",
			limit: 3,
			want:  []string{"aa", "e\u0301", "e\u0301"},
		},
		{
			name:  "fence closed and reopened with its info string",
			text:  "see:\n```go\nfunc a() {}\nfunc b() {}\nfunc c() {}\n```\ndone",
			limit: 30,
			want: []string{
				"see:\n```go\nfunc a() {}\n```",
				"```go\nfunc b() {}\n```",
				"```go\nfunc c() {}\n```\ndone",
			},
		},
		{
			name:  "tilde fence closed with tildes",
			text:  "~~~~\nline one\nline two\nline three\n~~~~\n",
			limit: 30,
			want: []string{
				"~~~~\nline one\nline two\n~~~~",
				"~~~~\nline three\n~~~~\n",
			},
		},
		{
			name:  "fence too long to repeat in small parts",
			text:  "~~~~\nline one\nline two\nline three\n~~~~\n",
			limit: 24,
			want: []string{
				"~~~~\nline one\nline two\n",
				"line three\n~~~~\n",
			},
		},
		{
			name:  "long code line cut inside the fence",
			text:  "```\n" + long + "\n```",
			limit: 24,
			want: []string{
				"```\n" + long[:16] + "\n```",
				"```\n" + long[16:] + "\n```",
			},
		},
		{
			name:  "no cut that starts a fence in the next part",
			text:  "aaaa ~~~ b",
			limit: 7,
			want:  []string{"aaaa ~~", "~ b"},
		},
		{
			name:  "zero limit means the server's",
			text:  strings.Repeat("a ", 10000),
			limit: 0,
			want:  []string{strings.Repeat("a ", 8191), strings.Repeat("a ", 1809)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Split(tc.text, tc.limit)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Split(%.80q, %d) mismatch (-want +got):\n%.2000s", tc.text, tc.limit, diff)
			}
			checkSplit(t, tc.text, tc.limit)
		})
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("hello world", 5)
	f.Add("one\ntwo\nthree\n```go\nfunc main() {}\n```\nfour five six", 20)
	f.Add("~~~~ text\n```\nnot a close\n~~~~\nafter", 16)
	f.Add("    ```\nindented four: not a fence\n```", 12)
	f.Add("e\u0301e\u0301e\u0301e\u0301 \u200d\u200d x", 2)
	f.Add("```\r\ncrlf\r\n```\r\n", 9)
	f.Add("```go\n"+strings.Repeat("`", 80)+"\n```", 40)
	f.Add("0000000000000000   "+strings.Repeat("`", 49)+"0", 50)
	f.Add(strings.Repeat("word ", 100)+"\n```python title\n"+strings.Repeat("x = 1\n", 50)+"```", 64)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if !utf8.ValidString(text) || limit < 1 || limit > 1<<16 {
			t.Skip()
		}
		checkSplit(t, text, limit)
	})
}

// checkSplit checks the properties every split must have.
func checkSplit(t *testing.T, text string, limit int) {
	t.Helper()
	if limit <= 0 {
		limit = 16383
	}
	parts := Split(text, limit)
	for i, p := range parts {
		if n := utf8.RuneCountInString(p); n > limit || n == 0 {
			t.Fatalf("Split(%.80q, %d): part %d has %d runes, want 1..%d", text, limit, i, n, limit)
		}
	}
	if utf8.RuneCountInString(text) <= limit {
		if text != "" && (len(parts) != 1 || parts[0] != text) {
			t.Fatalf("Split(%.80q, %d) = %q, want the text whole", text, limit, parts)
		}
		return
	}

	var chunks []chunk
	splitChunks(text, limit, func(c chunk) { chunks = append(chunks, c) })
	if len(chunks) != len(parts) {
		t.Fatalf("Split(%.80q, %d): %d parts, %d chunks", text, limit, len(parts), len(chunks))
	}
	var joined strings.Builder
	fenceAt := fenceReader(text)
	// Fences re-open in every part only when their lines are short
	// next to the limit (see limitFence).
	smallFences := true
	for _, line := range strings.Split(text, "\n") {
		if fenceRE.MatchString(line) && 2*utf8.RuneCountInString(line)+2 > limit/3 {
			smallFences = false
		}
	}
	// A run of backticks or tildes about as long as a part cannot be cut
	// without starting a line that reads as a fence.
	if r := longestRun(text, "`~ "); r+4 >= limit/2 {
		smallFences = false
	}
	for i, c := range chunks {
		if got := c.pre + c.body + c.post; got != parts[i] {
			t.Fatalf("part %d = %q, want %q", i, parts[i], got)
		}
		// Fence decorations are exactly the fence open where the body
		// starts and ends, as an independent reading of the text says.
		open := fenceAt(joined.Len())
		switch {
		case c.pre == "":
		case open == "":
			t.Fatalf("Split(%.80q, %d): part %d re-opens %q outside a fence", text, limit, i, c.pre)
		case c.pre != open+"\n" && c.pre != fenceChars(open)+"\n":
			t.Fatalf("Split(%.80q, %d): part %d re-opens %q, want %q", text, limit, i, c.pre, open)
		}
		joined.WriteString(c.body)
		if end := fenceAt(joined.Len()); c.post != "" && (end == "" || strings.Trim(c.post, "\n") != fenceChars(end)) {
			t.Fatalf("Split(%.80q, %d): part %d closes with %q, open fence is %q", text, limit, i, c.post, end)
		}
	}
	if joined.String() != text {
		t.Fatalf("Split(%.80q, %d): bodies join to %q", text, limit, joined.String())
	}
	if !smallFences {
		return // long fence lines are not repeated, so parts may not balance
	}
	// Every part but the last renders on its own: no fence left open.
	for i, p := range parts[:len(parts)-1] {
		if open := openFenceAt(p, len(p)); open != "" {
			t.Fatalf("Split(%.80q, %d): part %d = %q leaves fence %q open", text, limit, i, p, open)
		}
	}
}

// longestRun returns the length of the longest run of bytes from set.
func longestRun(s, set string) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) >= 0 {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}

var fenceRE = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")

// openFenceAt returns the opening line of the code fence open at byte
// offset off of text, or "" outside fences. It reads whole lines only: the
// line holding off counts when off is at its end.
func openFenceAt(text string, off int) string {
	return fenceReader(text)(off)
}

// fenceReader reads text's fences once and returns openFenceAt for it.
func fenceReader(text string) func(off int) string {
	var ends []int     // ends[i] is the offset just past line i
	var after []string // after[i] is the fence open after line i
	open, marker := "", ""
	pos := 0
	for _, line := range strings.SplitAfter(text, "\n") {
		pos += len(line)
		m := fenceRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		switch {
		case m == nil:
		case open == "" && !(m[1][0] == '`' && strings.Contains(m[2], "`")):
			open, marker = strings.TrimRight(line, "\r\n"), m[1]
		case open != "" && m[1][0] == marker[0] && len(m[1]) >= len(marker) && strings.TrimSpace(m[2]) == "":
			open, marker = "", ""
		}
		ends = append(ends, pos)
		after = append(after, open)
	}
	return func(off int) string {
		// The last line ending at or before off.
		i := sort.SearchInts(ends, off+1) - 1
		if i < 0 {
			return ""
		}
		return after[i]
	}
}

// fenceChars returns the fence characters of an opening fence line.
func fenceChars(line string) string {
	m := fenceRE.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

func BenchmarkSplit(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 100_000 {
		sb.WriteString("Some prose with `inline code` and words, enough to wrap a few times over.\n\n")
		sb.WriteString("```go\n")
		for i := range 20 {
			fmt.Fprintf(&sb, "\tx%d := compute(%d) // a comment\n", i, i)
		}
		sb.WriteString("```\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Split(text, 16383)
	}
}
