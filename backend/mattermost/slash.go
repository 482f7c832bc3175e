package mattermost

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// SlashPath is the path of the bot's HTTP listener where the server calls
// the bot's slash commands: the commands the backend registers point at
// SlashOptions.URL, which the program builds as its public address plus
// SlashPath, and serves SlashHandler there.
const SlashPath = "/mattermost/command"

// SlashOptions configures the bot's slash commands (Options.Slash).
type SlashOptions struct {
	// URL is where the server calls the commands: the bot's listener as
	// the server reaches it, plus SlashPath. Default "": no slash
	// commands; SlashHandler refuses every request.
	URL string
	// NoRegister leaves the teams' commands as they are: nothing is
	// created, updated or deleted, and, the bot knowing no command's
	// token, SlashHandler refuses every request. Default false: the
	// backend registers its commands on each served team once it has
	// connected.
	NoRegister bool
	// Trigger is the umbrella command's word: "/TRIGGER COMMAND ARGS"
	// runs any command. Default: the bot's username.
	Trigger string
	// Commands are command words that get a trigger of their own:
	// "deploy" registers "/deploy", which runs "deploy ARGS" (and
	// "deploy status ARGS" when a command is named so).
	Commands []string
	// InChannel posts the replies in the channel, for everyone (the
	// server posts them as the caller, marked as from a webhook); by
	// default they are shown to the caller alone (ephemeral). Replies a
	// command sends as ephemeral are always ephemeral.
	InChannel bool
	// Wait is how long the answer to the server waits for the command's
	// replies; those sent later go through the run's response URL, which
	// the server takes five times within 30 minutes, and are posted by
	// the bot after that. Default DefaultSlashWait.
	Wait time.Duration
}

// DefaultSlashWait is the default of SlashOptions.Wait: long enough for
// most commands to answer at once, well within the 30 s the server waits
// (ServiceSettings.OutgoingIntegrationRequestsTimeout).
const DefaultSlashWait = 5 * time.Second

// slashRunLifetime is how long a run's response URL is taken by the
// server (model.CommandWebhookLifetime, 30 minutes); slashRunUses how
// many answers it takes (five).
const (
	slashRunLifetime = 30 * time.Minute
	slashRunUses     = 5
)

// slashIDPrefix starts the id of a slash command's bot.Message: no post
// id has a colon, so a reply to one is recognised in Send.
const slashIDPrefix = "slash:"

// slashCmd is a command the backend registered: the team, the trigger,
// and for a command's own trigger the command word it stands for.
type slashCmd struct {
	teamID, trigger, word string
	token                 string
}

// slashRun is one run of a slash command: the replies the engine sends
// for it are kept for the answer to the server until it is written
// (sealed), and then posted through the response URL while it takes
// them, and by the bot after that.
type slashRun struct {
	channelID, rootID, userID string
	responseURL               string
	start                     time.Time

	mu     sync.Mutex
	sealed bool                  // guarded by mu: the answer was written
	resps  []*mm.CommandResponse // guarded by mu: replies before the answer
	uses   int                   // guarded by mu: answers sent to responseURL; slashRunUses once it refused one
}

// slashState is the backend's part for slash commands.
type slashState struct {
	mu   sync.Mutex
	cmds []slashCmd           // guarded by mu: registered, with their tokens
	runs map[string]*slashRun // guarded by mu: by message id
	h    bot.Handler          // guarded by mu: the engine, once Run has it
}

// slashTriggers returns the commands to register: the umbrella and the
// configured words, with their autocomplete texts.
func (b *Backend) slashTriggers(cmds []bot.CommandInfo) []*mm.Command {
	o := b.opts.Slash
	trigger := strings.ToLower(o.Trigger)
	if trigger == "" {
		trigger = strings.ToLower(b.self.Username)
	}
	var names []string
	for _, c := range cmds {
		if !c.Hidden && !c.AdminOnly {
			names = append(names, c.Name)
		}
	}
	desc := "Run a command of " + b.self.Username
	if len(names) > 0 {
		desc += ": " + strings.Join(names, ", ")
	}
	out := []*mm.Command{b.slashCommand(trigger, "[command] [arguments]", desc)}
	for _, w := range o.Commands {
		w = strings.ToLower(strings.TrimSpace(w))
		hint, summary := "[arguments]", ""
		for _, c := range cmds {
			switch {
			case c.Name == w:
				hint, summary = strings.TrimSpace(strings.TrimPrefix(c.Synopsis, c.Name)), c.Summary()
			case strings.HasPrefix(c.Name, w+" ") && summary == "":
				hint = "[subcommand] [arguments]"
			}
		}
		if summary == "" {
			summary = "Run " + b.self.Username + "'s " + w + " commands"
		}
		out = append(out, b.slashCommand(w, hint, summary))
	}
	return out
}

// slashCommand returns the command to register for trigger.
func (b *Backend) slashCommand(trigger, hint, desc string) *mm.Command {
	return &mm.Command{
		Trigger: trigger, Method: mm.CommandMethodPost, URL: b.opts.Slash.URL,
		AutoComplete: true, AutoCompleteHint: clip(hint, 1024), AutoCompleteDesc: clip(desc, 1024),
		DisplayName: clip(b.self.Username, 64), Description: clip("Commands of the bot "+b.self.Username, 128),
	}
}

// clip cuts s to n bytes at most, on a rune boundary, with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-3]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	return strings.TrimRight(s[:len(s)-1], " ") + "..."
}

// registerSlash makes the team's slash commands what the bot wants,
// without duplicates across restarts: a command of the bot's with a
// wanted trigger is updated when it differs (keeping its token), a
// missing one created, and one of the bot's pointing at the same URL
// whose trigger is no longer wanted deleted. A trigger taken by a
// command someone else made is left alone, with a warning. A team where
// the bot may not manage commands (it needs to be a team admin) is
// skipped with a warning. The tokens are kept for SlashHandler.
func (b *Backend) registerSlash(ctx context.Context, cmds []bot.CommandInfo) {
	o := b.opts.Slash
	if o.URL == "" || o.NoRegister {
		return
	}
	want := b.slashTriggers(cmds)
	var got []slashCmd
	for _, t := range b.teams {
		existing, _, err := b.client.TeamCommands(ctx, t.ID)
		if errors.Is(err, mm.ErrForbidden) {
			b.log.Warn("slash commands not registered: the bot may not manage the team's slash commands; make it a team admin",
				"team", t.Name)
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("slash commands not registered", "team", t.Name, "err", err)
			}
			continue
		}
		byTrigger := map[string]*mm.Command{}
		for _, c := range existing {
			if c.DeleteAt == 0 {
				byTrigger[c.Trigger] = c
			}
		}
		for i, w := range want {
			c := *w
			c.TeamID = t.ID
			word := ""
			if i > 0 {
				word = c.Trigger
			}
			old := byTrigger[c.Trigger]
			delete(byTrigger, c.Trigger)
			var (
				saved *mm.Command
				err   error
				what  string
			)
			switch {
			case old != nil && old.CreatorID != b.self.ID:
				b.log.Warn("slash command not registered: another command has the trigger", "team", t.Name,
					"trigger", "/"+c.Trigger, "creator_id", old.CreatorID)
				continue
			case old != nil && sameCommand(old, &c):
				saved, what = old, "kept"
			case old != nil:
				c.ID = old.ID
				saved, _, err = b.client.UpdateCommand(ctx, &c)
				what = "updated"
			default:
				saved, _, err = b.client.CreateCommand(ctx, &c)
				what = "created"
			}
			if err != nil {
				if ctx.Err() == nil {
					b.log.Warn("slash command not registered", "team", t.Name, "trigger", "/"+c.Trigger, "err", err)
				}
				continue
			}
			b.log.Info("slash command registered", "team", t.Name, "trigger", "/"+c.Trigger, "action", what)
			got = append(got, slashCmd{teamID: t.ID, trigger: c.Trigger, word: word, token: saved.Token})
		}
		for _, old := range byTrigger {
			if old.CreatorID != b.self.ID || old.URL != o.URL {
				continue
			}
			if _, err := b.client.DeleteCommand(ctx, old.ID); err != nil {
				b.log.Warn("stale slash command not deleted", "team", t.Name, "trigger", "/"+old.Trigger, "err", err)
				continue
			}
			b.log.Info("slash command deleted: no longer configured", "team", t.Name, "trigger", "/"+old.Trigger)
		}
	}
	b.slash.mu.Lock()
	b.slash.cmds = got
	b.slash.mu.Unlock()
}

// sameCommand reports whether the registered command a has what b sets.
func sameCommand(a, b *mm.Command) bool {
	return a.URL == b.URL && a.Method == b.Method && a.AutoComplete == b.AutoComplete &&
		a.AutoCompleteHint == b.AutoCompleteHint && a.AutoCompleteDesc == b.AutoCompleteDesc &&
		a.DisplayName == b.DisplayName && a.Description == b.Description && a.Username == b.Username && a.IconURL == b.IconURL
}

// SlashHandler serves the bot's slash commands (see SlashOptions) on the
// program's HTTP listener, at SlashPath: the server's POST, its form
// checked against the token of a command the backend registered (401
// otherwise), runs the command as a bot.Message with Slash set, from the
// caller in the channel, and answers the command's replies as the
// server's command response: the first as the response, the others as
// extra responses, ephemeral unless SlashOptions.InChannel. It waits
// SlashOptions.Wait for them; later ones are posted to the run's
// response URL, and by the bot once that takes no more (five answers,
// 30 minutes), ephemeral ones as ephemeral posts. A file is posted by
// the bot in the channel as usual.
func (b *Backend) SlashHandler() http.Handler {
	return http.HandlerFunc(b.serveSlash)
}

// maxSlashForm bounds the form of a slash command request.
const maxSlashForm = 64 << 10

func (b *Backend) serveSlash(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSlashForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	cmd, ok := b.slashToken(f.Get("token"), f.Get("team_id"))
	b.slash.mu.Lock()
	h := b.slash.h
	b.slash.mu.Unlock()
	if !ok {
		b.log.Warn("slash command refused: unknown token", "team_id", f.Get("team_id"), "command", f.Get("command"),
			"user_id", f.Get("user_id"))
		http.Error(w, "unknown command token", http.StatusUnauthorized)
		return
	}
	if h == nil || !b.connected.Load() {
		slashAnswer(w, &mm.CommandResponse{ResponseType: mm.CommandResponseEphemeral, Text: "The bot is starting; try again in a moment."})
		return
	}
	ctx := r.Context()
	m, err := b.slashMessage(ctx, f, cmd)
	if err != nil {
		b.log.Warn("slash command dropped", "command", f.Get("command"), "user_id", f.Get("user_id"), "channel_id", f.Get("channel_id"), "err", err)
		slashAnswer(w, &mm.CommandResponse{ResponseType: mm.CommandResponseEphemeral, Text: "Sorry, I could not run this command."})
		return
	}
	run := &slashRun{channelID: f.Get("channel_id"), rootID: f.Get("root_id"), userID: m.From.ID,
		responseURL: f.Get("response_url"), start: b.opts.Now()}
	b.addRun(m.ID, run)
	done := h.HandleMessage(m)
	wait := b.opts.Slash.Wait
	if wait <= 0 {
		wait = DefaultSlashWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	run.mu.Lock()
	run.sealed = true
	resps := run.resps
	run.resps = nil
	run.mu.Unlock()
	if len(resps) == 0 {
		slashAnswer(w, &mm.CommandResponse{})
		return
	}
	first := resps[0]
	first.ExtraResponses = resps[1:]
	slashAnswer(w, first)
}

// slashAnswer writes resp as the command's JSON answer.
func slashAnswer(w http.ResponseWriter, resp *mm.CommandResponse) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp) // the server went away: nothing to do
}

// slashToken returns the registered command whose token is token, on
// teamID.
func (b *Backend) slashToken(token, teamID string) (slashCmd, bool) {
	b.slash.mu.Lock()
	defer b.slash.mu.Unlock()
	for _, c := range b.slash.cmds {
		if token != "" && subtle.ConstantTimeCompare([]byte(c.token), []byte(token)) == 1 && c.teamID == teamID {
			return c, true
		}
	}
	return slashCmd{}, false
}

// addRun keeps run under id, dropping the runs whose response URL has
// expired.
func (b *Backend) addRun(id string, run *slashRun) {
	b.slash.mu.Lock()
	defer b.slash.mu.Unlock()
	if b.slash.runs == nil {
		b.slash.runs = map[string]*slashRun{}
	}
	for k, r := range b.slash.runs {
		if run.start.Sub(r.start) >= slashRunLifetime {
			delete(b.slash.runs, k)
		}
	}
	b.slash.runs[id] = run
}

// dmName matches a direct channel's name: the two user ids.
var dmName = regexp.MustCompile(`^[a-z0-9]{26}__[a-z0-9]{26}$`)

// slashMessage turns a slash command request into the bot.Message the
// engine runs: from the caller, in the channel (a channel the bot cannot
// read, such as a direct message between two others, is described by
// the form), with the command's text.
func (b *Backend) slashMessage(ctx context.Context, f map[string][]string, cmd slashCmd) (*bot.Message, error) {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	u, err := b.dir.user(ctx, get("user_id"))
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", get("user_id"), err)
	}
	channelID := get("channel_id")
	room, typ, _, err := b.tr.room(ctx, channelID, incoming{})
	if err != nil {
		name := get("channel_name")
		room = bot.Room{ID: channelID, Name: name, Team: get("team_domain")}
		switch {
		case dmName.MatchString(name):
			room.Team, room.Kind, typ = "", bot.RoomDirect, mm.ChannelDirect
		case len(name) == 40 && strings.Trim(name, "0123456789abcdef") == "":
			room.Team, room.Kind, typ = "", bot.RoomGroup, mm.ChannelGroup
		default:
			room.Kind = bot.RoomChannel
		}
	}
	text := strings.TrimSpace(get("text"))
	if cmd.word != "" {
		text = strings.TrimSpace(cmd.word + " " + text)
	}
	return &bot.Message{
		ID:       slashIDPrefix + mm.NewID(),
		From:     botUser(u),
		Room:     room,
		ThreadID: get("root_id"),
		Direct:   typ == mm.ChannelDirect && strings.Contains(room.Name, b.self.ID),
		Text:     text,
		Mentions: mentions(text),
		Time:     b.opts.Now(),
		Slash:    true,
		// A handler may open a dialog with it (Request.OpenDialog).
		TriggerID: get("trigger_id"),
	}, nil
}

// slashReply takes out when it answers a slash command (its ReplyTo is
// a slash command's message) in the command's channel: kept for the
// answer, or, once that is written, posted through the run's response
// URL. When the response URL no longer takes it (its uses or its
// lifetime are over by the bot's count, or the server refuses it, or
// cannot be reached there), the bot posts it itself, in the run's
// channel and thread, as an ephemeral post when the response would have
// been ephemeral (see slashFallback). It reports false for anything
// else, which Send posts as usual, and for a file, which no command
// response carries.
func (b *Backend) slashReply(ctx context.Context, out *bot.Outgoing, ephemeral bool) (bool, error) {
	if !strings.HasPrefix(out.ReplyTo, slashIDPrefix) || out.File != nil {
		return false, nil
	}
	b.slash.mu.Lock()
	run := b.slash.runs[out.ReplyTo]
	b.slash.mu.Unlock()
	if run == nil || out.RoomID != run.channelID {
		return false, nil
	}
	resp := &mm.CommandResponse{ResponseType: mm.CommandResponseEphemeral, Text: out.Text,
		Props: map[string]any{PropReplyTo: out.ReplyTo}}
	if b.opts.Slash.InChannel && !ephemeral {
		resp.ResponseType = mm.CommandResponseInChannel
	}
	if out.Card != nil {
		att, err := b.attachment(ctx, out.Card)
		if err != nil {
			return true, err
		}
		resp.Attachments = []any{att}
	}
	run.mu.Lock()
	if !run.sealed {
		run.resps = append(run.resps, resp)
		run.mu.Unlock()
		return true, nil
	}
	// The server's bounds (model.CommandWebhook): TryUse(id, 5), and a
	// hook is found while CreateAt > now - CommandWebhookLifetime.
	if run.uses >= slashRunUses || b.opts.Now().Sub(run.start) >= slashRunLifetime {
		run.mu.Unlock()
		b.log.Debug("slash command reply posted by the bot: the response URL is used up", "channel_id", run.channelID)
		return true, b.slashFallback(ctx, run, out, resp.ResponseType == mm.CommandResponseEphemeral)
	}
	run.uses++
	run.mu.Unlock()
	err := b.postResponse(ctx, run.responseURL, resp)
	if !errors.Is(err, errResponseRefused) {
		return true, err
	}
	// Nothing was posted: the server refused the answer (an expired
	// hook, its uses over, by its count) or was not reached at that
	// address (its SiteURL, which the bot may not reach).
	run.mu.Lock()
	run.uses = slashRunUses
	run.mu.Unlock()
	b.log.Warn("slash command reply posted by the bot: the response URL did not take it", "channel_id", run.channelID, "err", err)
	return true, b.slashFallback(ctx, run, out, resp.ResponseType == mm.CommandResponseEphemeral)
}

// slashFallback posts out, a reply of run the response URL no longer
// takes, as the bot, where the server would have shown it: in the run's
// channel and thread; to the caller alone (an ephemeral post, or a
// direct message, see SendEphemeral) when ephemeral.
func (b *Backend) slashFallback(ctx context.Context, run *slashRun, out *bot.Outgoing, ephemeral bool) error {
	o := *out
	// A reply meant for a thread under the command's message (which is
	// no post) goes where the run's answers went.
	o.RoomID, o.ThreadID = run.channelID, run.rootID
	if ephemeral {
		return b.sendEphemeral(ctx, run.userID, &o)
	}
	return b.send(ctx, &o)
}

// errResponseRefused marks an answer a response URL did not take and
// did not post: the server refused it (4xx), or was not reached.
var errResponseRefused = errors.New("the response URL did not take it")

// postResponse posts resp to a slash command run's response URL (on the
// server: POST /hooks/commands/{id}).
func (b *Backend) postResponse(ctx context.Context, url string, resp *mm.CommandResponse) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("mattermost: slash command reply: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mattermost: slash command reply: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	r, err := b.client.HTTPClient().Do(req)
	if err != nil {
		// A connection never made posted nothing; after that, the
		// server may have posted it.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("mattermost: slash command reply: %w: %w", errResponseRefused, err)
		}
		return fmt.Errorf("mattermost: slash command reply: %w", err)
	}
	defer r.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(r.Body, 1024))
	switch {
	case r.StatusCode == http.StatusOK:
		return nil
	case r.StatusCode >= 400 && r.StatusCode < 500:
		// 404 app.command_webhook.get.missing (expired), 400
		// app.command_webhook.try_use.invalid (used up): checked before
		// anything is posted.
		return fmt.Errorf("mattermost: slash command reply: %w: the server answered %s: %s", errResponseRefused, r.Status, bytes.TrimSpace(msg))
	}
	return fmt.Errorf("mattermost: slash command reply: the server answered %s: %s", r.Status, bytes.TrimSpace(msg))
}

// startSlash notes the engine that serves the slash commands and, on
// the first connection, registers them in the background (Run waits for
// it).
func (b *Backend) startSlash(ctx context.Context, h bot.Handler) {
	b.slash.mu.Lock()
	b.slash.h = h
	b.slash.mu.Unlock()
	if b.opts.Slash.URL == "" || b.opts.Slash.NoRegister {
		return
	}
	var cmds []bot.CommandInfo
	if l, ok := h.(interface{ Commands() []bot.CommandInfo }); ok {
		cmds = l.Commands()
	}
	cmds = slices.Clone(cmds)
	b.bg.Go(func() { b.registerSlash(ctx, cmds) })
}
