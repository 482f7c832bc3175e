// Package playground is the web page the fake Mattermost server of
// matterbot fake-server and matterbot demo serves at /playground: a small
// chat client, one HTML file embedded in the binary (no build step, no
// external assets), where a person picks an account and a channel, talks
// to the bot, and clicks its buttons, menus and dialogs.
//
// The page is a client like any other: it logs in with the account's
// password (or uses its token) through POST /api/v4/users/login and then
// speaks only the REST API and the WebSocket. The one thing it learns
// outside the API is the list of accounts it offers, served beside it:
//
//	srv, _ := mmtest.Start(addr, &mmtest.Options{WebApp: playground.Handler(logins)})
//
// The accounts' passwords are served to anyone who asks, as the fake
// server's welcome prints them: the fake server is for demos and tests,
// never for secrets.
package playground

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// Path is where the page is served.
const Path = "/playground"

// page is the whole page: HTML, CSS and JavaScript.
//
//go:embed index.html
var page []byte

// Login is an account the page offers: its username, and the password
// the page logs in with, or, for an account without one, its personal
// access token.
type Login struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	// Admin marks a system admin, shown as such in the list.
	Admin bool `json:"admin,omitempty"`
}

// Handler returns the handler of the page, for mmtest.Options.WebApp:
// GET /playground the page, GET /playground/logins the logins as a JSON
// array, and GET / a redirect to the page. Anything else is 404.
func Handler(logins []Login) http.Handler {
	list, err := json.Marshal(append([]Login{}, logins...))
	if err != nil {
		panic("playground: " + err.Error()) // a []Login always encodes
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		// Nothing is loaded from elsewhere: inline script and style,
		// the API and the WebSocket of this server; images of cards
		// come from where their authors put them.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "+
			"connect-src 'self'; img-src * data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page) // the client went away
	})
	mux.HandleFunc("GET "+Path+"/logins", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(list)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path, http.StatusFound)
	})
	return mux
}
