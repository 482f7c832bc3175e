package matterbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/matterbot/matterbot/config"
)

// healthcheckCmd asks a running bot's HTTP listener whether it serves, for
// a container's HEALTHCHECK: a static image has no curl.
type healthcheckCmd struct {
	Addr    string        `env:"MATTERBOT_HTTP_LISTEN" help:"The bot's [http] listen address (default ${default_listen}); a wildcard host, as in \":8066\", is asked on the loopback address." placeholder:"HOST:PORT"`
	Ready   bool          `help:"Ask /readyz (logged in, connected, caught up) instead of /healthz (the process serves)."`
	URL     string        `name:"url" help:"The URL to GET, instead of --addr." placeholder:"URL"`
	Timeout time.Duration `default:"5s" help:"How long the answer may take."`
}

func (c *healthcheckCmd) Run(e *env) error {
	u := c.URL
	if u == "" {
		path := "/healthz"
		if c.Ready {
			path = "/readyz"
		}
		var err error
		if u, err = healthURL(c.Addr, path); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(e.ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &cliError{fmt.Sprintf("--url %q: %v", u, err), err}
	}
	// No proxy: the listener is on this machine, and a container's
	// HTTP_PROXY must not route its health check elsewhere.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &cliError{fmt.Sprintf("%s: connection refused: is the bot running, with [http] listen on that address?", u), err}
	}
	if err != nil {
		return &cliError{fmt.Sprintf("%s: %v", u, errors.Unwrap(err)), err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return &cliError{fmt.Sprintf("%s: reading the answer: %v", u, err), err}
	}
	line := fmt.Sprintf("%s: %d %s", u, resp.StatusCode, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		return &cliError{line, nil}
	}
	_, err = fmt.Fprintln(e.stdout, line)
	return err
}

// healthURL is the URL of path on the listener at addr (an [http] listen
// address; "" is the default), asked on the loopback address when addr's
// host is a wildcard.
func healthURL(addr, path string) (string, error) {
	if addr == "" {
		addr = config.DefaultListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", &cliError{fmt.Sprintf("--addr %q is not an address such as \"127.0.0.1:8066\" or \":8066\"", addr), err}
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
