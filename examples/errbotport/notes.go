// Package errbotport is the Errbot plugin contrib/errbotshim/examples/notes
// ported to Go, line for line where it can be: the second half of
// docs/errbot-migration.md, which shows the two side by side. Both keep
// their notes under the same key in the same JSON, so a team can run the
// Python plugin on matterbot first and switch to this one later without
// losing a note.
//
//	[plugins.Notes]
//	MAX_NOTES = 5
//	BULLET = "-"
package errbotport

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/matterbot/matterbot/bot"
)

// Config is the [plugins.Notes] table: the Errbot plugin's
// CONFIG_TEMPLATE, with the same keys and defaults.
type Config struct {
	MaxNotes int    `json:"MAX_NOTES"`
	Bullet   string `json:"BULLET"`
}

// Note is one note, stored as the Errbot plugin stores it.
type Note struct {
	Text string `json:"text"`
	Tag  string `json:"tag"`
	By   string `json:"by"`
}

// Notes is the plugin.
type Notes struct {
	cfg   Config
	store bot.Store
}

// Name returns "Notes", the Errbot plugin's name (its .plug's Name), so
// that the [plugins.Notes] table and the store stay the same.
func (*Notes) Name() string { return "Notes" }

// notesKey is the store key of the list, the Errbot plugin's self["notes"].
const notesKey = "notes"

type addArgs struct {
	Words []string `arg:"" help:"the note"`
	Tag   string   `help:"a tag for the note"`
}

type listArgs struct {
	Tag string `arg:"" optional:"" help:"only the notes with this tag"`
}

type delArgs struct {
	Index int `arg:"" help:"the note's number"`
}

// Setup reads the configuration and declares the commands.
func (n *Notes) Setup(p *bot.Plugin) error {
	n.cfg = Config{MaxNotes: 5, Bullet: "-"} // the defaults: configure() merged CONFIG_TEMPLATE
	if err := p.Config(&n.cfg); err != nil {
		return err
	}
	n.store = p.Store()
	p.Describe("Keeps notes: storage, configuration and typed arguments.")
	bot.Command(p, "note add", n.add).Help("Add a note.")
	bot.Command(p, "note list", n.list).Help("List the notes (of a tag).")
	bot.Command(p, "note del", n.del).Help("Delete a note by its number.")
	return nil
}

func (n *Notes) add(ctx context.Context, req *bot.Request, a addArgs) error {
	var count int
	full := false
	err := bot.UpdateJSON(ctx, n.store, notesKey, func(notes []Note, _ bool) ([]Note, error) {
		if len(notes) >= n.cfg.MaxNotes {
			full = true
			return notes, nil
		}
		notes = append(notes, Note{Text: strings.Join(a.Words, " "), Tag: a.Tag, By: "@" + req.Message.From.Username})
		count = len(notes)
		return notes, nil
	})
	switch {
	case err != nil:
		return err
	case full:
		return req.Replyf("I keep %d notes at most.", n.cfg.MaxNotes)
	}
	return req.Replyf("Noted (%d).", count)
}

func (n *Notes) notes(ctx context.Context) ([]Note, error) {
	notes, err := bot.GetJSON[[]Note](ctx, n.store, notesKey)
	if err != nil && !errors.Is(err, bot.ErrNotFound) {
		return nil, err
	}
	return notes, nil
}

func (n *Notes) list(ctx context.Context, req *bot.Request, a listArgs) error {
	notes, err := n.notes(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	i := 0
	for _, note := range notes {
		if a.Tag != "" && note.Tag != a.Tag {
			continue
		}
		i++
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s %d. %s", n.cfg.Bullet, i, note.Text)
		if note.Tag != "" {
			fmt.Fprintf(&b, " [%s]", note.Tag)
		}
	}
	if b.Len() == 0 {
		return req.Reply("No notes.")
	}
	return req.Reply(b.String())
}

func (n *Notes) del(ctx context.Context, req *bot.Request, a delArgs) error {
	var gone *Note
	err := bot.UpdateJSON(ctx, n.store, notesKey, func(notes []Note, _ bool) ([]Note, error) {
		if a.Index < 1 || a.Index > len(notes) {
			return notes, nil
		}
		g := notes[a.Index-1]
		gone = &g
		return append(notes[:a.Index-1], notes[a.Index:]...), nil
	})
	switch {
	case err != nil:
		return err
	case gone == nil:
		return req.Replyf("There is no note %d.", a.Index)
	}
	return req.Reply("Deleted: " + gone.Text)
}
