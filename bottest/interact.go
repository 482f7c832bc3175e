package bottest

import (
	"context"
	"errors"
	"strconv"

	"github.com/matterbot/matterbot/bot"
)

// OpenDialog implements bot.DialogOpener by recording d; Dialogs returns
// it.
func (b *Backend) OpenDialog(ctx context.Context, triggerID string, d *bot.Dialog) error {
	if triggerID == "" {
		return errors.New("bottest: open dialog: empty trigger id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := *d
	b.dialogs = append(b.dialogs, &c)
	return nil
}

// Dialogs returns the dialogs opened (bot.Plugin.OpenDialog) since the
// previous call.
func (b *Backend) Dialogs() []*bot.Dialog {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.dialogs
	b.dialogs = nil
	return d
}

// Clicked is what a click did: the handler's answer (an update of the
// card's message, an ephemeral text), the messages sent meanwhile, and
// the dialogs it opened.
type Clicked struct {
	Answer  bot.ClickAnswer
	Replies []Reply
	Dialogs []*bot.Dialog
}

// Click clicks the action labelled label (or named so) on the card of
// reply r, as user ("@alice"), and returns once the handler is done. For
// a menu, selected is the chosen value (a user's or room's id for user
// and channel menus); "" for a button. The test fails when r has no such
// action.
func (b *Bot) Click(user string, r Reply, label, selected string) Clicked {
	b.t.Helper()
	var act *bot.Action
	if r.Card != nil {
		for i, a := range r.Card.Actions {
			if a.Label == label || a.Name == label && act == nil {
				act = &r.Card.Actions[i]
			}
		}
	}
	if act == nil {
		b.t.Fatalf("bottest: click %q: the reply has no such action", label)
		return Clicked{}
	}
	c := &bot.Click{
		Plugin: act.Plugin, Action: act.Name, Value: act.Value, Selected: selected,
		User: b.user(user), MessageID: "m" + strconv.FormatInt(b.nextID.Add(1), 10), ThreadID: r.ThreadID,
		TriggerID: "trigger-" + strconv.FormatInt(b.nextID.Add(1), 10),
	}
	c.Room, c.Direct = b.replyRoom(r)
	ah := b.actions()
	ah.HandleClick(context.Background(), c)
	return Clicked{Answer: c.Answer(), Replies: b.Backend.Sent(), Dialogs: b.Backend.Dialogs()}
}

// Submit submits dialog d, opened for user in room ("~ops"; "" for a
// direct message), with the given field values (strings, float64
// numbers, bools, as a chat client sends them), and returns the answer
// for the dialog and the messages sent meanwhile.
func (b *Bot) Submit(user, room string, d *bot.Dialog, fields map[string]any) (bot.SubmissionAnswer, []Reply) {
	b.t.Helper()
	u := b.user(user)
	s := &bot.Submission{Plugin: d.Plugin, Dialog: d.Name, Value: d.Value, User: u, Fields: fields}
	if room == "" {
		s.Direct, s.Room = true, bot.Room{ID: "dm-" + u.ID, Name: "dm-" + u.Username}
	} else {
		s.Room = b.room(room)
	}
	b.actions().HandleSubmission(context.Background(), s)
	return s.Answer(), b.Backend.Sent()
}

func (b *Bot) actions() bot.ActionHandler {
	b.t.Helper()
	ah, ok := b.Backend.Handler().(bot.ActionHandler)
	if !ok {
		b.t.Fatalf("bottest: the handler does not implement bot.ActionHandler")
	}
	return ah
}

// replyRoom returns the room a reply went to.
func (b *Bot) replyRoom(r Reply) (bot.Room, bool) {
	if r.Direct {
		return bot.Room{ID: r.RoomID, Name: r.RoomID}, true
	}
	b.Backend.mu.Lock()
	rm, ok := b.Backend.roomByID(r.RoomID)
	b.Backend.mu.Unlock()
	if ok {
		return rm, false
	}
	return bot.Room{ID: r.RoomID}, false
}
