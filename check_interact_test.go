package matterbot

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/examples/release"
	"github.com/matterbot/matterbot/plugins"
)

// TestCheckInteractions: check says when a plugin uses buttons and
// [http] public_url is unset, and whether the address answers.
func TestCheckInteractions(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer healthy.Close()
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	tests := []struct {
		name      string
		public    string
		code      int
		want      string
		noRelease bool
	}{
		{name: "unset", code: 1, want: "FAIL  [http] public_url is not set, but plugin release uses buttons, menus or dialogs"},
		{name: "unset, no buttons", noRelease: true, want: ""},
		{name: "answers", public: healthy.URL, want: "ok    public_url " + healthy.URL + ": the bot's listener answers from here; it serves the clicks of release at /mattermost/action and /mattermost/dialog"},
		{name: "private", public: healthy.URL, want: "note  public_url " + healthy.URL + ": a private or loopback address; Mattermost calls it only if its ServiceSettings.AllowedUntrustedInternalConnections lists 127.0.0.1"},
		{name: "not the bot", public: other.URL, code: 1, want: "FAIL  public_url " + other.URL + ": " + other.URL + "/healthz answers 404"},
		{name: "down", public: gone.URL, want: "note  public_url " + gone.URL + ": no answer from the bot's listener from here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newRunWorld(t)
			t.Setenv("MATTERBOT_MATTERMOST_TOKEN", w.token)
			t.Setenv("MATTERBOT_HTTP_PUBLIC_URL", tc.public)
			ps := plugins.Builtin()
			if !tc.noRelease {
				ps = append(ps, &release.Plugin{})
			}
			var out bytes.Buffer
			c := &Command{Name: "matterbot", Plugins: ps, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
			code := c.Run(context.Background(), []string{"check", "-c", w.config})
			if code != tc.code {
				t.Errorf("check = %d, want %d:\n%s", code, tc.code, out.String())
			}
			if tc.want == "" {
				if strings.Contains(out.String(), "public_url") {
					t.Errorf("check mentions public_url:\n%s", out.String())
				}
				return
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("check output lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}
