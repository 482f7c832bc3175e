package mattermost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// PropReplyTo is the post prop that marks every post the backend creates
// (replies, cards, files, each part of a split text, ephemeral posts, and
// the cards hook's posts) as a matterbot's. Its value is the id of the
// post answered (bot.Outgoing.ReplyTo), or "" for a post that answers
// none. A matterbot ignores the posts of other accounts that carry it,
// as it ignores bot accounts' posts, unless Options.AllowBots is set: two
// matterbots on ordinary user accounts never answer each other.
const PropReplyTo = "matterbot_reply_to"

// mark sets PropReplyTo on p.
func mark(p *mm.Post, replyTo string) {
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	p.Props[PropReplyTo] = replyTo
}

// Send posts out: to RoomID, or to a direct message with UserID (opening
// the conversation if needed), in ThreadID when set. Text longer than a
// post is split (see Split); the card and the file ride on the last part,
// so that a reply is one post whenever it fits in one. Each post gets a
// pending_post_id, kept on every retry (the client's and the outbox's),
// so a retry after a lost answer never posts twice. A post the server
// does not take at the first try (no answer, a 429 or 5xx, after the
// client's own retries), or before ctx ends, goes to the outbox (see
// Options.OutboxMaxAge), and so do the posts after it, every post to a
// channel with posts waiting there, and every post while the server
// fails: Send returns nil for them. Without the outbox, a post is
// retried for up to Options.Retry.MaxTotal. It returns an error for what the server
// refused, or what could not be kept.
func (b *Backend) Send(ctx context.Context, out *bot.Outgoing) error {
	if out == nil || (out.Text == "" && out.Card == nil && out.File == nil) {
		return errors.New("mattermost: send: nothing to send")
	}
	if taken, err := b.slashReply(ctx, out, false); taken {
		return err
	}
	return b.send(ctx, out)
}

// send is Send for what is no slash command's reply: posted by the bot.
func (b *Backend) send(ctx context.Context, out *bot.Outgoing) error {
	if !b.connected.Load() {
		return errNotConnected
	}
	b.sending.add()
	defer b.sending.done()
	if taken, err := b.editReply(ctx, out); taken {
		if err != nil {
			return fmt.Errorf("mattermost: edit a reply to %s: %w", out.ReplyTo, err)
		}
		return nil
	}
	channelID, err := b.destination(ctx, out)
	if err != nil {
		return err
	}

	text := out.Text
	if strings.IndexByte(text, '~') >= 0 {
		if dest, err := b.dir.channel(ctx, channelID); err == nil {
			text = b.linkChannels(ctx, text, dest)
		}
	}
	parts := Split(text, b.limit)
	// Whitespace-only parts (the tail of a text ending in blank lines)
	// would be rejected or show as empty posts.
	parts = dropBlank(parts)
	last := &mm.Post{ChannelID: channelID, RootID: out.ThreadID}
	if len(parts) > 0 {
		last.Message = parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	for _, text := range parts {
		p := &mm.Post{ChannelID: channelID, RootID: out.ThreadID, Message: text}
		mark(p, out.ReplyTo)
		if err := b.post(ctx, p, nil); err != nil {
			return fmt.Errorf("mattermost: send to channel %s: %w", channelID, err)
		}
	}

	var file *outboxFile // the file to keep with the last post
	if out.File != nil {
		fi, kept, err := b.upload(ctx, channelID, out.ReplyTo, out.File)
		if err != nil {
			return fmt.Errorf("mattermost: upload %q to channel %s: %w", out.File.Name, channelID, err)
		}
		if fi != nil {
			last.FileIDs = []string{fi.ID}
		}
		file = kept
	}
	if out.Card != nil {
		sent, err := b.sendCardByHook(ctx, channelID, out, last, file)
		if sent || err != nil {
			return err
		}
		if last.Props, err = b.cardProps(ctx, out.Card); err != nil {
			return err
		}
	}
	if last.Message == "" && last.Props == nil && last.FileIDs == nil && file == nil {
		return nil
	}
	mark(last, out.ReplyTo)
	if err := b.post(ctx, last, file); err != nil {
		return fmt.Errorf("mattermost: send to channel %s: %w", channelID, err)
	}
	return nil
}

// waitingFor reports whether posts that a post to a channel answering
// replyTo must not overtake wait in the outbox (see outbox.waitingFor).
func (b *Backend) waitingFor(channelID, replyTo string) bool {
	return b.ob != nil && b.ob.waitingFor(channelID, replyTo)
}

// upload uploads f to a channel and returns its FileInfo: tried once
// (the client's own retries included) when the backend has an outbox,
// retried on transient failures otherwise. When posts to the channel
// wait in the outbox (see outbox.waitingFor), or the server is failing, or the upload fails in a
// way the outbox keeps (see keepable), it returns the file's content
// instead, to keep with the post.
func (b *Backend) upload(ctx context.Context, channelID, replyTo string, f *bot.File) (*mm.FileInfo, *outboxFile, error) {
	body, rewind, err := replayable(f.Name, f.Body)
	if err != nil {
		return nil, nil, err
	}
	if b.ob == nil {
		fi, err := b.uploadReplayable(ctx, channelID, f.Name, body, rewind)
		return fi, nil, err
	}
	if b.ob.waitingFor(channelID, replyTo) || b.ob.failing.Load() {
		kept, err := keepFile(f.Name, body)
		return nil, kept, err
	}
	fi, _, err := b.client.UploadFile(ctx, channelID, f.Name, body)
	if err == nil || rewind == nil || !keepable(ctx, err) {
		return fi, nil, err
	}
	if rerr := rewind(); rerr != nil {
		return nil, nil, err
	}
	kept, kerr := keepFile(f.Name, body)
	if kerr != nil {
		return nil, nil, fmt.Errorf("%w; %w", err, kerr)
	}
	return nil, kept, nil
}

// keepFile reads a file to keep in the outbox, up to maxBufferedUpload.
func keepFile(name string, body io.Reader) (*outboxFile, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxBufferedUpload+1))
	if err != nil {
		return nil, fmt.Errorf("read file %q: %w", name, err)
	}
	if len(data) > maxBufferedUpload {
		return nil, fmt.Errorf("file %q is too large to keep in the outbox (more than %d bytes)", name, maxBufferedUpload)
	}
	return &outboxFile{Name: name, Data: data}, nil
}

func dropBlank(parts []string) []string {
	out := parts[:0]
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// sendCardByHook posts the card through the cards webhook when one is
// set and can reach the destination. A webhook names its channel by name
// in its own team, which Errbot's backend (single-team) took to be the
// bot's team: the default team here. It cannot post in a thread, and a
// "@user" channel would be a DM of the hook's owner, not of the bot; those
// cards go as attachments. The text of the last part and the file go in
// a post of their own first, since a webhook carries neither files nor
// the bot's name. It reports whether it sent the card.
//
// A webhook post cannot be kept in the outbox (it has no
// pending_post_id): a card to a channel with posts waiting there, or
// whose text went there, or that the hook refused with a 429 or 5xx to
// the end of its retries, is posted by the bot as an attachment, which
// the outbox keeps.
func (b *Backend) sendCardByHook(ctx context.Context, channelID string, out *bot.Outgoing, last *mm.Post, file *outboxFile) (bool, error) {
	if b.opts.CardsHook == "" || out.ThreadID != "" || len(b.teams) == 0 || b.waitingFor(channelID, out.ReplyTo) ||
		(b.ob != nil && b.ob.failing.Load()) {
		return false, nil
	}
	ch, err := b.dir.channel(ctx, channelID)
	if err != nil || ch.TeamID != b.teams[0].ID || (ch.Type != mm.ChannelOpen && ch.Type != mm.ChannelPrivate) {
		return false, nil // post the card as an attachment instead
	}
	if last.Message != "" || last.FileIDs != nil || file != nil {
		mark(last, out.ReplyTo)
		if err := b.post(ctx, last, file); err != nil {
			return true, fmt.Errorf("mattermost: send to channel %s: %w", channelID, err)
		}
		if b.waitingFor(channelID, out.ReplyTo) {
			return true, b.sendCardPost(ctx, channelID, out)
		}
	}
	att, err := b.attachment(ctx, out.Card)
	if err != nil {
		return true, err
	}
	msg := &mm.WebhookMessage{Channel: ch.Name, Attachments: []*mm.Attachment{att},
		Props: map[string]any{PropReplyTo: out.ReplyTo}}
	err = b.postWebhook(ctx, b.opts.CardsHook, msg)
	var ae *mm.APIError
	if err != nil && b.ob != nil && errors.As(err, &ae) && mm.Transient(err) {
		// Answered, so not posted: the bot posts it.
		return true, b.sendCardPost(ctx, channelID, out)
	}
	if err != nil {
		return true, fmt.Errorf("mattermost: send card through the cards hook to ~%s: %w", ch.Name, err)
	}
	return true, nil
}

// sendCardPost posts out's card alone, as an attachment.
func (b *Backend) sendCardPost(ctx context.Context, channelID string, out *bot.Outgoing) error {
	props, err := b.cardProps(ctx, out.Card)
	if err != nil {
		return err
	}
	p := &mm.Post{ChannelID: channelID, RootID: out.ThreadID, Props: props}
	mark(p, out.ReplyTo)
	if err := b.post(ctx, p, nil); err != nil {
		return fmt.Errorf("mattermost: send to channel %s: %w", channelID, err)
	}
	return nil
}

// destination returns the channel out goes to, opening the direct channel
// for a message to a user.
func (b *Backend) destination(ctx context.Context, out *bot.Outgoing) (string, error) {
	switch {
	case out.RoomID != "" && out.UserID != "":
		return "", errors.New("mattermost: send: both a room and a user")
	case out.RoomID != "":
		return out.RoomID, nil
	case out.UserID != "":
		return b.directChannel(ctx, out.UserID)
	}
	return "", errors.New("mattermost: send: no room and no user")
}

// directChannel returns the id of the direct channel with a user,
// creating it on first use.
func (b *Backend) directChannel(ctx context.Context, userID string) (string, error) {
	b.mu.Lock()
	id := b.dms[userID]
	b.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ch, _, err := b.client.CreateDirectChannel(ctx, b.self.ID, userID)
	if err != nil {
		if errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrBadRequest) {
			return "", fmt.Errorf("mattermost: direct message to user %s: %w: %w", userID, bot.ErrUnknown, err)
		}
		return "", fmt.Errorf("mattermost: direct message to user %s: %w", userID, err)
	}
	b.dir.putChannel(ch)
	b.dir.join(ch.ID)
	b.mu.Lock()
	b.dms[userID] = ch.ID
	b.mu.Unlock()
	return ch.ID, nil
}

// React adds an emoji reaction, as the bot, to a post.
func (b *Backend) React(ctx context.Context, messageID, emoji string) error {
	if _, _, err := b.client.AddReaction(ctx, messageID, strings.Trim(emoji, ":")); err != nil {
		return fmt.Errorf("mattermost: react %q to post %s: %w", emoji, messageID, err)
	}
	return nil
}

// Unreact removes the bot's emoji reaction from a post. The server
// answers 200 when there was no such reaction
// (server/channels/app/reaction.go DeleteReactionForPost), so removing
// one twice is not an error.
func (b *Backend) Unreact(ctx context.Context, messageID, emoji string) error {
	if _, err := b.client.RemoveReaction(ctx, messageID, strings.Trim(emoji, ":")); err != nil {
		return fmt.Errorf("mattermost: remove reaction %q from post %s: %w", emoji, messageID, err)
	}
	return nil
}

// Typing shows the bot as typing in a channel or thread: through the
// WebSocket, which costs no request, or over REST when that fails.
func (b *Backend) Typing(ctx context.Context, roomID, threadID string) error {
	b.mu.Lock()
	ws := b.ws
	b.mu.Unlock()
	if ws != nil && ws.UserTyping(ctx, roomID, threadID) == nil {
		return nil
	}
	if _, err := b.client.Typing(ctx, roomID, threadID); err != nil {
		return fmt.Errorf("mattermost: typing in channel %s: %w", roomID, err)
	}
	return nil
}

// SendEphemeral shows out to one user only, in out's room. A bot needs
// the create_post_ephemeral permission for that, which by default only
// system admins have: on 403 the text goes to the user as a direct
// message instead, as the bot package does for backends without
// ephemeral messages.
func (b *Backend) SendEphemeral(ctx context.Context, userID string, out *bot.Outgoing) error {
	if out == nil || out.RoomID == "" || out.File != nil {
		return b.sendDirect(ctx, userID, out)
	}
	if taken, err := b.slashReply(ctx, out, true); taken {
		return err
	}
	return b.sendEphemeral(ctx, userID, out)
}

// sendEphemeral is SendEphemeral for what is no slash command's reply:
// the bot's ephemeral post, or its direct message.
func (b *Backend) sendEphemeral(ctx context.Context, userID string, out *bot.Outgoing) error {
	p := &mm.Post{ChannelID: out.RoomID, RootID: out.ThreadID, Message: out.Text}
	if out.Card != nil {
		props, err := b.cardProps(ctx, out.Card)
		if err != nil {
			return err
		}
		p.Props = props
	}
	mark(p, out.ReplyTo)
	_, _, err := b.client.CreateEphemeralPost(ctx, userID, p)
	if errors.Is(err, mm.ErrForbidden) {
		b.log.Debug("ephemeral post forbidden, sending a direct message", "user_id", userID)
		return b.sendDirect(ctx, userID, out)
	}
	if err != nil {
		return fmt.Errorf("mattermost: ephemeral post to user %s: %w", userID, err)
	}
	return nil
}

func (b *Backend) sendDirect(ctx context.Context, userID string, out *bot.Outgoing) error {
	dm := bot.Outgoing{UserID: userID}
	if out != nil {
		dm.Text, dm.Card, dm.File, dm.ReplyTo = out.Text, out.Card, out.File, out.ReplyTo
	}
	return b.Send(ctx, &dm)
}

// OpenFile downloads a file attached to a post. The caller closes it.
func (b *Backend) OpenFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	rc, _, err := b.client.DownloadFile(ctx, fileID)
	if err != nil {
		return nil, fmt.Errorf("mattermost: download file %s: %w", fileID, err)
	}
	return rc, nil
}

// User resolves a user: a username with or without the @, or a user id.
// The error wraps bot.ErrUnknown when there is no such user.
func (b *Backend) User(ctx context.Context, username string) (bot.User, error) {
	if !b.connected.Load() {
		return bot.User{}, errNotConnected
	}
	name := strings.TrimPrefix(strings.TrimSpace(username), "@")
	if name == "" {
		return bot.User{}, fmt.Errorf("mattermost: empty user name: %w", bot.ErrUnknown)
	}
	if mm.IsValidID(name) {
		u, err := b.dir.user(ctx, name)
		if err == nil {
			return botUser(u), nil
		}
		if !errors.Is(err, mm.ErrNotFound) && !errors.Is(err, mm.ErrBadRequest) {
			return bot.User{}, fmt.Errorf("mattermost: user %q: %w", name, err)
		}
		// A 26-letter username: look it up by name.
	}
	u, err := b.dir.userByName(ctx, name)
	if errors.Is(err, mm.ErrNotFound) {
		return bot.User{}, fmt.Errorf("mattermost: user @%s: %w", name, bot.ErrUnknown)
	}
	if err != nil {
		return bot.User{}, fmt.Errorf("mattermost: user @%s: %w", name, err)
	}
	return botUser(u), nil
}

// Room resolves a channel: a name ("ops", "~ops"), a name with its team
// ("~team/ops", or team given apart), or a channel id. A name without a
// team is looked for in the default team (the first configured), then in
// the bot's other teams. The error wraps bot.ErrUnknown when there is no
// such channel or team, or when it is private and the bot not in it.
func (b *Backend) Room(ctx context.Context, team, name string) (bot.Room, error) {
	if !b.connected.Load() {
		return bot.Room{}, errNotConnected
	}
	name = strings.TrimPrefix(strings.TrimSpace(name), "~")
	if t, n, ok := strings.Cut(name, "/"); ok && team == "" {
		team, name = t, n
	}
	if name == "" {
		return bot.Room{}, fmt.Errorf("mattermost: empty room name: %w", bot.ErrUnknown)
	}
	if mm.IsValidID(name) && team == "" {
		if r, _, _, err := b.tr.room(ctx, name, incoming{}); err == nil {
			return r, nil
		}
	}
	// Without a team, the default team is tried first, then the others
	// in the order configured.
	teams := b.teams
	if team != "" {
		t, err := b.dir.teamByName(ctx, team)
		if errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) {
			return bot.Room{}, fmt.Errorf("mattermost: team %q: %w", team, bot.ErrUnknown)
		}
		if err != nil {
			return bot.Room{}, fmt.Errorf("mattermost: team %q: %w", team, err)
		}
		teams = []*mm.Team{t}
	}
	if len(teams) == 0 {
		return bot.Room{}, fmt.Errorf("mattermost: room ~%s: the bot is in no team: %w", name, bot.ErrUnknown)
	}
	for _, t := range teams {
		ch, err := b.dir.channelByName(ctx, t.ID, name)
		if errors.Is(err, mm.ErrNotFound) || errors.Is(err, mm.ErrForbidden) {
			continue
		}
		if err != nil {
			return bot.Room{}, fmt.Errorf("mattermost: room ~%s/%s: %w", t.Name, name, err)
		}
		return bot.Room{ID: ch.ID, Name: ch.Name, Team: t.Name, Kind: roomKind(ch.Type)}, nil
	}
	if len(teams) == 1 {
		return bot.Room{}, fmt.Errorf("mattermost: room ~%s/%s: %w", teams[0].Name, name, bot.ErrUnknown)
	}
	return bot.Room{}, fmt.Errorf("mattermost: room ~%s in none of the bot's teams: %w", name, bot.ErrUnknown)
}
