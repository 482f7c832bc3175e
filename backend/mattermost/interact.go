package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// Interactive messages: the buttons and menus of cards (bot.Action) and
// dialogs (bot.Dialog).
//
// Each action of a card the bot posts carries an integration: the URL
// Options.PublicURL + ActionPath, and a context holding one signed token
// that names the plugin, the action and its value, and when it expires.
// The server never shows a post's integrations to clients
// (model.Post.StripActionIntegrations), and POSTs the context back, as
// is, with the click (app/integration_action.go DoPostActionWithCookie).
// The bot checks the token's HMAC-SHA256 with its key before anything
// else: a request that does not carry a token the bot made is refused
// with 403 and runs nothing. A dialog carries the same kind of token in
// its state, which the server hands back with the submission.

// Paths of the bot's HTTP listener that the Mattermost server calls back
// (Interactions serves them). The URLs given to the server are
// Options.PublicURL followed by these.
const (
	ActionPath = "/mattermost/action"
	DialogPath = "/mattermost/dialog"
)

// DefaultActionLifetime is the default of Options.ActionLifetime.
const DefaultActionLifetime = 7 * 24 * time.Hour

// tokenKey is the key of the token in an action's context.
const tokenKey = "matterbot"

// actionKeyStoreKey is where a generated key is kept in Options.Store.
const actionKeyStoreKey = "actions/key"

// Errors of a token that does not check out.
var (
	errForged  = errors.New("not signed by this bot")
	errExpired = errors.New("expired")
)

// token is what an action's context or a dialog's state carries, signed.
type token struct {
	Kind    string `json:"k"` // "a" for an action, "d" for a dialog
	Plugin  string `json:"p"`
	Name    string `json:"n"`
	Value   string `json:"v,omitempty"`
	Expires int64  `json:"x,omitempty"` // unix seconds; 0: never
}

// actionKey returns the key that signs tokens: Options.ActionSecret, or
// the one kept in Options.Store, or a new one, kept there and logged.
func (b *Backend) actionKey(ctx context.Context) ([]byte, error) {
	b.keyMu.Lock()
	defer b.keyMu.Unlock()
	if b.key != nil {
		return b.key, nil
	}
	if s := string(b.opts.ActionSecret); s != "" {
		b.key = []byte(s)
		return b.key, nil
	}
	if b.opts.Store == nil {
		k := make([]byte, 32)
		_, _ = rand.Read(k) // never fails (crypto/rand)
		b.key = k
		b.log.Warn("generated a key to sign interactive messages, kept in memory only: buttons stop working at restart; set [http] action_secret or a store")
		return b.key, nil
	}
	var made bool
	err := b.opts.Store.Update(ctx, actionKeyStoreKey, func(old []byte, exists bool) ([]byte, error) {
		if exists && len(old) >= 32 {
			made = false
			return old, nil
		}
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		made = true
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mattermost: the key of interactive messages: %w", err)
	}
	k, err := b.opts.Store.Get(ctx, actionKeyStoreKey)
	if err != nil {
		return nil, fmt.Errorf("mattermost: the key of interactive messages: %w", err)
	}
	if made {
		b.log.Info("generated a key to sign interactive messages and kept it in the store; [http] action_secret sets one instead")
	}
	b.key = k
	return k, nil
}

// sign returns t as "v1.<payload>.<mac>", base64url without padding.
func sign(key []byte, t token) string {
	payload, _ := json.Marshal(t) // strings and an integer: never fails
	p := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(p))
	return "v1." + p + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verify checks s, a token of the given kind, against key at now.
func verify(key []byte, s, kind string, now time.Time) (token, error) {
	rest, ok := strings.CutPrefix(s, "v1.")
	p, m, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return token{}, errForged
	}
	got, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return token{}, errForged
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(p))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return token{}, errForged
	}
	var t token
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &t) != nil || t.Kind != kind {
		return token{}, errForged
	}
	if t.Expires != 0 && now.Unix() > t.Expires {
		return t, errExpired
	}
	return t, nil
}

// expiry returns the Expires of a token made now.
func (b *Backend) expiry() int64 {
	if b.opts.ActionLifetime < 0 {
		return 0
	}
	return b.opts.Now().Add(b.opts.ActionLifetime).Unix()
}

// errNoPublicURL is returned for a card with actions, or a dialog, when
// the server has nowhere to call back.
var errNoPublicURL = errors.New("mattermost: interactive messages need the bot's public address ([http] public_url, Options.PublicURL)")

// actions returns the attachment actions of c, signed.
func (b *Backend) actions(ctx context.Context, c *bot.Card) ([]*mm.AttachmentAction, error) {
	if len(c.Actions) == 0 {
		return nil, nil
	}
	if b.opts.PublicURL == "" {
		return nil, errNoPublicURL
	}
	key, err := b.actionKey(ctx)
	if err != nil {
		return nil, err
	}
	url := b.opts.PublicURL + ActionPath
	x := b.expiry()
	out := make([]*mm.AttachmentAction, len(c.Actions))
	for i, a := range c.Actions {
		if a.Plugin == "" || a.Name == "" || a.Label == "" {
			return nil, fmt.Errorf("mattermost: card action %d (%q): want a plugin, a name and a label", i, a.Label)
		}
		act := &mm.AttachmentAction{
			// The server takes [A-Za-z0-9]+ ids (api4 InitAction), unique
			// in the post.
			ID: fmt.Sprintf("mb%d", i), Name: a.Label, Style: a.Style, Disabled: a.Disabled,
			Integration: &mm.AttachmentIntegration{URL: url, Context: map[string]any{
				tokenKey: sign(key, token{Kind: "a", Plugin: a.Plugin, Name: a.Name, Value: a.Value, Expires: x}),
			}},
		}
		switch a.Kind {
		case bot.ActionButton:
			act.Type = mm.ActionTypeButton
		case bot.ActionMenu:
			act.Type, act.DefaultOption = mm.ActionTypeSelect, a.Default
			for _, o := range a.Options {
				act.Options = append(act.Options, &mm.AttachmentOption{Text: o.Text, Value: o.Value})
			}
			if len(act.Options) == 0 {
				return nil, fmt.Errorf("mattermost: card menu %q: no options", a.Label)
			}
		case bot.ActionUsers:
			act.Type, act.DataSource = mm.ActionTypeSelect, mm.DataSourceUsers
		case bot.ActionChannels:
			act.Type, act.DataSource = mm.ActionTypeSelect, mm.DataSourceChannels
		default:
			return nil, fmt.Errorf("mattermost: card action %q: unknown kind %q", a.Label, a.Kind)
		}
		out[i] = act
	}
	return out, nil
}

// OpenDialog opens d in the client of the user whose click or slash
// command gave triggerID (POST /actions/dialogs/open). It implements
// bot.DialogOpener.
func (b *Backend) OpenDialog(ctx context.Context, triggerID string, d *bot.Dialog) error {
	if b.opts.PublicURL == "" {
		return errNoPublicURL
	}
	key, err := b.actionKey(ctx)
	if err != nil {
		return err
	}
	md := mm.Dialog{
		CallbackID: d.Plugin + "/" + d.Name, Title: d.Title, IntroductionText: d.Intro, SubmitLabel: d.SubmitLabel,
		State: sign(key, token{Kind: "d", Plugin: d.Plugin, Name: d.Name, Value: d.Value, Expires: b.expiry()}),
	}
	for _, e := range d.Elements {
		me := mm.DialogElement{DisplayName: e.Label, Name: e.Name, Type: e.Type, SubType: e.Subtype, Default: e.Default,
			Placeholder: e.Placeholder, HelpText: e.Help, Optional: e.Optional, MinLength: e.MinLength, MaxLength: e.MaxLength,
			DataSource: e.DataSource}
		for _, o := range e.Options {
			me.Options = append(me.Options, &mm.AttachmentOption{Text: o.Text, Value: o.Value})
		}
		md.Elements = append(md.Elements, me)
	}
	_, err = b.client.OpenDialog(ctx, &mm.OpenDialogRequest{TriggerID: triggerID, URL: b.opts.PublicURL + DialogPath, Dialog: md})
	if err != nil {
		return fmt.Errorf("mattermost: open dialog %s/%s: %w", d.Plugin, d.Name, err)
	}
	return nil
}

// maxInteractionBody bounds the body of a click or a submission.
const maxInteractionBody = 1 << 20

// Interactions returns the handler of what the server sends back for
// the bot's interactive messages: clicks (POST ActionPath) and dialog
// submissions (POST DialogPath), which h (the engine) runs. Mount it on
// the bot's HTTP listener, which the server must reach at
// Options.PublicURL:
//
//	mux.Handle(mmbackend.ActionPath, be.Interactions(eng))
//	mux.Handle(mmbackend.DialogPath, be.Interactions(eng))
//
// A request without a token the bot signed is refused with 403 and runs
// nothing; an expired one gets an ephemeral message (a dialog, an error)
// that says so. The clicking user is the server's user_id, resolved
// through the API; the server is trusted to give it, as it is the only
// one that can present a signed token (a token is never shown to
// clients).
func (b *Backend) Interactions(h bot.ActionHandler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ActionPath, func(w http.ResponseWriter, r *http.Request) { b.serveClick(w, r, h) })
	mux.HandleFunc("POST "+DialogPath, func(w http.ResponseWriter, r *http.Request) { b.serveSubmission(w, r, h) })
	return mux
}

// readInteraction decodes the JSON body of r into v, answering 400 or
// 413 and returning false when it cannot.
func readInteraction(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		http.Error(w, "invalid JSON body: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// writeJSON answers 200 with v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // the server hung up: nothing to do
}

// Answers to clicks and submissions the bot cannot take.
const (
	expiredAction = "This button has expired: run the command again for a new one."
	expiredDialog = "This form has expired: open it again."
)

// checkToken verifies a token, answering 403 for a forged one. It
// returns the token, whether it expired, and false when it answered.
func (b *Backend) checkToken(w http.ResponseWriter, r *http.Request, raw any, kind string) (token, bool, bool) {
	s, _ := raw.(string)
	key, err := b.actionKey(r.Context())
	if err != nil {
		b.log.Error("interaction refused: no key", "err", err)
		http.Error(w, "the bot cannot check requests right now", http.StatusServiceUnavailable)
		return token{}, false, false
	}
	t, err := verify(key, s, kind, b.opts.Now())
	switch {
	case errors.Is(err, errExpired):
		b.log.Info("interaction expired", "plugin", t.Plugin, "name", t.Name)
		return t, true, true
	case err != nil:
		b.log.Warn("interaction refused: not signed by this bot", "path", r.URL.Path, "remote_addr", r.RemoteAddr)
		http.Error(w, "forbidden: not an interactive message of this bot", http.StatusForbidden)
		return t, false, false
	}
	return t, false, true
}

// where resolves the user and the channel of an interaction.
func (b *Backend) where(ctx context.Context, userID, channelID string) (bot.User, bot.Room, bool, error) {
	if !b.connected.Load() {
		return bot.User{}, bot.Room{}, false, errNotConnected
	}
	u, err := b.dir.user(ctx, userID)
	if err != nil {
		return bot.User{}, bot.Room{}, false, fmt.Errorf("user %s: %w", userID, err)
	}
	room, typ, _, err := b.tr.room(ctx, channelID, incoming{})
	if err != nil {
		return bot.User{}, bot.Room{}, false, fmt.Errorf("channel %s: %w", channelID, err)
	}
	return botUser(u), room, typ == mm.ChannelDirect, nil
}

// serveClick serves a click: model.PostActionIntegrationRequest in,
// model.PostActionIntegrationResponse out.
func (b *Backend) serveClick(w http.ResponseWriter, r *http.Request, h bot.ActionHandler) {
	var req mm.PostActionIntegrationRequest
	if !readInteraction(w, r, &req) {
		return
	}
	t, expired, ok := b.checkToken(w, r, req.Context[tokenKey], "a")
	if !ok {
		return
	}
	if expired {
		writeJSON(w, mm.PostActionIntegrationResponse{EphemeralText: expiredAction, SkipSlackParsing: true})
		return
	}
	ctx := r.Context()
	user, room, direct, err := b.where(ctx, req.UserID, req.ChannelID)
	if err != nil {
		b.log.Warn("click not run", "plugin", t.Plugin, "action", t.Name, "err", err)
		writeJSON(w, mm.PostActionIntegrationResponse{EphemeralText: "Sorry, the bot could not take this click; try again in a moment.", SkipSlackParsing: true})
		return
	}
	c := &bot.Click{Plugin: t.Plugin, Action: t.Name, Value: t.Value, User: user, Room: room, Direct: direct,
		MessageID: req.PostID, TriggerID: req.TriggerID}
	if s, ok := req.Context["selected_option"].(string); ok {
		c.Selected = s
	}
	// The card's post gives its thread, and the mark to keep on an update.
	var orig *mm.Post
	if p, _, err := b.client.Post(ctx, req.PostID); err == nil {
		orig = p
		c.ThreadID = p.RootID
	}
	h.HandleClick(ctx, c)
	ans := c.Answer()
	resp := mm.PostActionIntegrationResponse{EphemeralText: ans.Ephemeral, SkipSlackParsing: true}
	if u := ans.Update; u != nil {
		up := &mm.Post{Message: u.Text, Props: map[string]any{}}
		if u.Card != nil {
			props, err := b.cardProps(ctx, u.Card)
			if err != nil {
				b.log.Warn("click: update not sent", "plugin", t.Plugin, "action", t.Name, "err", err)
				props = nil
			}
			for k, v := range props {
				up.Props[k] = v
			}
		}
		replyTo := ""
		if orig != nil {
			replyTo, _ = orig.Props[PropReplyTo].(string)
		}
		mark(up, replyTo)
		resp.Update = up
	}
	writeJSON(w, resp)
}

// serveSubmission serves a dialog's submission: model.SubmitDialogRequest
// in, model.SubmitDialogResponse out.
func (b *Backend) serveSubmission(w http.ResponseWriter, r *http.Request, h bot.ActionHandler) {
	var req mm.SubmitDialogRequest
	if !readInteraction(w, r, &req) {
		return
	}
	t, expired, ok := b.checkToken(w, r, req.State, "d")
	if !ok {
		return
	}
	switch {
	case req.Cancelled:
		writeJSON(w, struct{}{})
		return
	case expired:
		writeJSON(w, mm.SubmitDialogResponse{Error: expiredDialog})
		return
	}
	ctx := r.Context()
	user, room, direct, err := b.where(ctx, req.UserID, req.ChannelID)
	if err != nil {
		b.log.Warn("submission not run", "plugin", t.Plugin, "dialog", t.Name, "err", err)
		writeJSON(w, mm.SubmitDialogResponse{Error: "Sorry, the bot could not take this form; try again in a moment."})
		return
	}
	s := &bot.Submission{Plugin: t.Plugin, Dialog: t.Name, Value: t.Value, User: user, Room: room, Direct: direct,
		Fields: req.Submission}
	h.HandleSubmission(ctx, s)
	ans := s.Answer()
	writeJSON(w, mm.SubmitDialogResponse{Error: ans.Error, Errors: ans.Errors})
}
