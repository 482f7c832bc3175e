package matterbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// probeTimeout bounds check's request to the bot's public address.
const probeTimeout = 3 * time.Second

// checkInteractions reports whether the Mattermost server can call the
// bot back for the buttons, menus and dialogs of its plugins: [http]
// public_url set when a plugin uses them, the listener on, and the
// address answering (from here: the server has no API that says what it
// reaches).
func checkInteractions(ctx context.Context, r *report, cfg *config.Config, plugins []bot.Setuper) {
	var interactive []string
	if eng, err := bot.New(noBackend{}, EngineOptions(cfg, nil, nil), plugins...); err == nil {
		interactive = eng.Interactive()
	}
	pub := cfg.HTTP.PublicURL
	switch {
	case pub == "" && len(interactive) > 0:
		r.fail("[http] public_url is not set, but plugin %s uses buttons, menus or dialogs: the server has nowhere to send the clicks; set it to the listener's address as the Mattermost server reaches it",
			strings.Join(interactive, ", "))
		return
	case pub == "":
		return
	case cfg.HTTP.Listen == "":
		r.fail("[http] public_url is %s but listen is \"\": no listener serves it", pub)
		return
	}
	u, err := url.Parse(pub)
	if err != nil {
		return // config.Load refused it already
	}
	if private(u.Hostname()) {
		r.note("public_url %s: a private or loopback address; Mattermost calls it only if its ServiceSettings.AllowedUntrustedInternalConnections lists %s", pub, u.Hostname())
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	probe := strings.TrimSuffix(pub, "/") + "/healthz"
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, probe, nil)
	if err != nil {
		r.fail("public_url %s: %v", pub, err)
		return
	}
	resp, err := (&http.Client{Timeout: probeTimeout}).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		r.note("public_url %s: no answer from the bot's listener from here (%v): if the bot is not running yet, start it and check again", pub, err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		r.fail("public_url %s: %s answers %d %q, not the bot's listener (GET /healthz, want 200 ok)", pub, probe, resp.StatusCode, strings.TrimSpace(string(body)))
		return
	}
	what := "it serves"
	if len(interactive) > 0 {
		what = fmt.Sprintf("it serves the clicks of %s at %s and %s", strings.Join(interactive, ", "), mmbackend.ActionPath, mmbackend.DialogPath)
	}
	r.ok("public_url %s: the bot's listener answers from here; %s (the server must reach it too)", pub, what)
}

// private reports whether host is a loopback or private address, or a
// name that stands for one ("localhost").
func private(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

// noBackend lets check build an engine to read what the plugins declare;
// it is never run.
type noBackend struct{}

var errNoBackend = errors.New("check: no backend")

func (noBackend) Run(context.Context, bot.Handler) error         { return errNoBackend }
func (noBackend) Send(context.Context, *bot.Outgoing) error      { return errNoBackend }
func (noBackend) React(context.Context, string, string) error    { return errNoBackend }
func (noBackend) User(context.Context, string) (bot.User, error) { return bot.User{}, errNoBackend }
func (noBackend) Room(context.Context, string, string) (bot.Room, error) {
	return bot.Room{}, errNoBackend
}
