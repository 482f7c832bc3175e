package mattermost

import (
	"context"
	"strings"
	"sync"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// answersKept bounds how many answered posts the backend remembers the
// replies of, for re-runs on edit (bot.Cmd.RerunOnEdit): the most recent
// ones, far more than are edited within a command's window.
const answersKept = 4096

// answers remembers, for the posts the bot answered lately, the ids of
// its replies in the order it posted them, as its own posts come back
// over the WebSocket (their PropReplyTo). While an edited post's command
// runs again, its replies replace the old ones in order (edit) instead
// of being posted anew.
type answers struct {
	mu    sync.Mutex
	by    map[string]*replyRec // guarded by mu: by the id of the post answered
	order []string             // guarded by mu: ids of by, oldest first
}

// replyRec is the bot's replies to one post.
type replyRec struct {
	replies []string // post ids, in order
	editing bool     // a re-run is under way: Send replaces replies[next:]
	next    int      // the next reply to replace
}

// add notes that the bot's post replyID answers postID.
func (a *answers) add(postID, replyID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by == nil {
		a.by = map[string]*replyRec{}
	}
	an := a.by[postID]
	if an == nil {
		// Copies: a decoded post's ids share its text's allocation.
		postID = strings.Clone(postID)
		an = &replyRec{}
		a.by[postID] = an
		a.order = append(a.order, postID)
		if len(a.order) > answersKept {
			delete(a.by, a.order[0])
			a.order = a.order[1:]
		}
	}
	for _, id := range an.replies {
		if id == replyID {
			return // the edit of a reply comes back as post_edited, not posted; a replay
		}
	}
	replyID = strings.Clone(replyID)
	if !an.editing || an.next >= len(an.replies) {
		an.replies = append(an.replies, replyID)
		if an.editing {
			an.next = len(an.replies)
		}
	}
}

// noteReply notes a post the bot made that answers another (its
// PropReplyTo) as soon as the server takes it, before it comes back over
// the WebSocket, which a catch-up may hold back: an edit right after is
// then still matched to the reply.
func (b *Backend) noteReply(p *mm.Post) {
	if p == nil {
		return
	}
	if replyTo := replyToOf(p); replyTo != "" {
		b.answers.add(replyTo, p.ID)
	}
}

// has reports whether the bot answered postID lately.
func (a *answers) has(postID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.by[postID] != nil
}

// startEdit begins a re-run for postID; false when the bot did not answer
// it lately.
func (a *answers) startEdit(postID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	an := a.by[postID]
	if an == nil {
		return false
	}
	an.editing, an.next = true, 0
	return true
}

// take returns the id of the next old reply to replace for postID, or
// "" when there is none (the reply is posted anew).
func (a *answers) take(postID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	an := a.by[postID]
	if an == nil || !an.editing || an.next >= len(an.replies) {
		return ""
	}
	id := an.replies[an.next]
	an.next++
	return id
}

// finishEdit ends the re-run for postID and returns the old replies it
// did not replace, to delete; none when it replaced none (nothing ran
// again, or it said nothing).
func (a *answers) finishEdit(postID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	an := a.by[postID]
	if an == nil || !an.editing {
		return nil
	}
	an.editing = false
	if an.next == 0 || an.next >= len(an.replies) {
		return nil
	}
	stale := append([]string(nil), an.replies[an.next:]...)
	an.replies = an.replies[:an.next]
	return stale
}

// edited delivers an edited post, when the bot answered it lately, as a
// bot.Message with Edited set: the engine runs its command again if the
// command asked for it (bot.Cmd.RerunOnEdit), and the replies replace
// the old ones (see editReply). Edits of other posts, and of the bot's
// own, are not the engine's business. The edit of a post whose sender
// the directory no longer holds waits for the sender's lookup (see
// Backend.event); a is that lookup's answer.
func (b *Backend) edited(ctx context.Context, h bot.Handler, ev *mm.Event, p *mm.Post, a *lookupAnswer) {
	if p == nil || p.UserID == b.self.ID || !b.answers.has(p.ID) {
		return
	}
	if a == nil && b.eventWaits(ev, p.UserID, p.ChannelID) {
		return
	}
	in := incoming{post: p}
	if a != nil {
		u, err := b.userOf(ctx, p.UserID, a)
		if err != nil {
			b.log.Debug("edited post dropped", "post_id", p.ID, "err", err)
			return
		}
		in.sender = u
	}
	if !b.answers.startEdit(p.ID) {
		return
	}
	m, err := b.tr.message(ctx, in)
	if err != nil || m == nil {
		b.answers.finishEdit(p.ID)
		if err != nil {
			b.log.Debug("edited post dropped", "post_id", p.ID, "err", err)
		}
		return
	}
	m.Edited = true
	id := p.ID
	m.Handled = func(bool) {
		stale := b.answers.finishEdit(id)
		if len(stale) == 0 {
			return
		}
		b.bg.Go(func() {
			for _, r := range stale {
				if _, err := b.client.DeletePost(b.bgCtx, r); err != nil {
					b.log.Warn("old reply not deleted after a re-run", "post_id", r, "err", err)
				}
			}
		})
	}
	h.HandleMessage(m)
}

// editReply replaces, with out, the next old reply of a re-run (see
// answers): the post keeps its place and gets out's text and card. It
// reports false when out is not part of a re-run, has a file, or is
// longer than a post, for Send to post it anew.
func (b *Backend) editReply(ctx context.Context, out *bot.Outgoing) (bool, error) {
	if out.ReplyTo == "" || out.File != nil || len([]rune(out.Text)) > b.limit {
		return false, nil
	}
	id := b.answers.take(out.ReplyTo)
	if id == "" {
		return false, nil
	}
	// A patch replaces the props whole: those the post was made with go
	// in again.
	props := map[string]any{PropReplyTo: out.ReplyTo}
	if b.self.IsBot {
		props["from_bot"] = "true"
	}
	if out.Card != nil {
		cp, err := b.cardProps(ctx, out.Card)
		if err != nil {
			return true, err
		}
		for k, v := range cp {
			props[k] = v
		}
	}
	text := out.Text
	if _, _, err := b.client.PatchPost(ctx, id, &mm.PostPatch{Message: &text, Props: &props}); err != nil {
		return true, err
	}
	return true, nil
}
