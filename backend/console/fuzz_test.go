package console

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
)

// nopHandler is an engine that does nothing, at once.
type nopHandler struct{}

func (nopHandler) HandleConnect(context.Context, bot.User) error { return nil }
func (nopHandler) HandleMessage(*bot.Message) <-chan struct{}    { return closedChan }
func (nopHandler) HandleReaction(*bot.Reaction) <-chan struct{}  { return closedChan }
func (nopHandler) HandlePresence(*bot.Presence) <-chan struct{}  { return closedChan }
func (nopHandler) HandleJoin(*bot.Join) <-chan struct{}          { return closedChan }

// FuzzLine feeds any lines to the console's line handling: console
// commands with any arguments never panic, only /quit ends the session,
// and the user always stays somewhere that exists.
func FuzzLine(f *testing.F) {
	for _, s := range []string{
		"/help", "/as @bob\n/dm\n/as carol", "/room ~eng/ops\nhi\n/thread 1\n/react #1 :tada:", "//x", "/thread\n/thread off",
		"/as ~ops\n/room @x\n/room ~a/b/c\n/react 1\n/react 99 :x:\n/dm x\n/join now\n/upload\n/upload testdata", "/quit", "/EXIT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		be, err := New(&Options{Input: strings.NewReader(""), Output: io.Discard, HistoryFile: "-", FileDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		be.handler = nopHandler{}
		for _, l := range strings.Split(input, "\n") {
			_, err := be.handleLine(context.Background(), l)
			if err != nil {
				name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
				if !errors.Is(err, ErrQuit) || (strings.ToLower(name) != "/quit" && strings.ToLower(name) != "/exit") {
					t.Fatalf("handleLine(%q) = %v", l, err)
				}
				return
			}
			cur := be.current()
			be.mu.Lock()
			_, ok := be.rooms[cur.room]
			be.mu.Unlock()
			if !ok || cur.user.ID == "" || cur.user.ID == be.self.ID {
				t.Fatalf("after %q the user is %+v in room %q (known: %v)", l, cur.user, cur.room, ok)
			}
		}
	})
}

// FuzzCard renders any card at any width: it never panics, the summary
// comes first, and the box is whole: every line has the same width.
func FuzzCard(f *testing.F) {
	f.Add("Deployed", "https://x", "**done** in `3s`", "good", "Env", "prod", true, "Long title", "value\nmore", false, 40, "")
	f.Add("", "", "", "#ff0000", "", "", true, "", "", true, 10, "build **42**\n- a list")
	f.Add("日本語のタイトル", "", "👍 wide", "warning", "a", "b", false, "c", "d", true, 25, "")
	f.Add("x", "", "", "cyan", "", "", false, "", "", false, 30, "summary")
	f.Fuzz(func(t *testing.T, title, link, text, color, t1, v1 string, s1 bool, t2, v2 string, s2 bool, width int, summary string) {
		if width < 1 || width > 300 {
			t.Skip()
		}
		c := &bot.Card{Summary: summary, Title: title, Link: link, Text: text, Color: color, Fields: []bot.Field{{Title: t1, Value: v1, Short: s1}, {Title: t2, Value: v2, Short: s2}}}
		for _, colored := range []bool{false, true} {
			r := newRenderer(colored, false, width)
			all, box := r.card(c), r.box(c)
			if len(all) < len(box) || boxText(all[len(all)-len(box):]) != boxText(box) {
				t.Fatalf("card %+v at width %d (color %v) does not end with its box:\n%s", c, width, colored, boxText(all))
			}
			w := box[0].width()
			for i, l := range box {
				if l.width() != w {
					t.Fatalf("card %+v at width %d (color %v): line %d is %d wide, line 0 is %d:\n%s", c, width, colored, i, l.width(), w, boxText(box))
				}
			}
		}
	})
}

func boxText(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.plain() + "\n")
	}
	return b.String()
}
