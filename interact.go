package matterbot

import (
	"net/http"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
	mm "github.com/matterbot/matterbot/mattermost"
)

// interactOptions sets the backend's options for interactive messages
// from the [http] table: where the server calls back, the key that signs
// the actions and how long they work (the file's 0, never, is the
// backend's negative).
func interactOptions(h config.HTTP, o *mmbackend.Options) {
	if h.Listen != "" {
		o.PublicURL = h.PublicURL
	}
	o.ActionSecret = mm.Secret(h.ActionSecret.Reveal())
	o.ActionLifetime = h.ActionLifetime
	if o.ActionLifetime == 0 {
		o.ActionLifetime = -1
	}
}

// mountInteractions serves the server's calls for the bot's buttons,
// menus and dialogs on the listener.
func mountInteractions(mux *http.ServeMux, be *mmbackend.Backend, eng *bot.Engine) {
	h := be.Interactions(eng)
	mux.Handle(mmbackend.ActionPath, h)
	mux.Handle(mmbackend.DialogPath, h)
}
