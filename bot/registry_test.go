package bot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// version is a plugin named "v" whose command "ver" says its version, and
// whose hooks record activations.
func version(ver string, log *[]string, more func(p *bot.Plugin)) plug {
	return plug{"v", func(p *bot.Plugin) error {
		p.Command("ver", reply(ver))
		p.OnActivate(func(context.Context) error { *log = append(*log, "activate "+ver); return nil })
		p.OnDeactivate(func(context.Context) error { *log = append(*log, "deactivate "+ver); return nil })
		if more != nil {
			more(p)
		}
		return nil
	}}
}

func TestRegisterReplaces(t *testing.T) {
	var log []string
	other := plug{"other", func(p *bot.Plugin) error { p.Command("taken", reply("other")); return nil }}
	b := bottest.New(t, version("1", &log, nil), other)
	ctx := context.Background()
	if got := texts(b.Say("!ver")); !cmp.Equal(got, []string{"1"}) {
		t.Fatalf("before: %q", got)
	}

	// A replacement with a new command: activated before the old one is
	// deactivated.
	err := b.Engine.Register(ctx, version("2", &log, func(p *bot.Plugin) { p.Command("new", reply("new")) }))
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got := texts(b.Say("!ver")); !cmp.Equal(got, []string{"2"}) {
		t.Errorf("after: %q", got)
	}
	if got := texts(b.Say("!new")); !cmp.Equal(got, []string{"new"}) {
		t.Errorf("new command: %q", got)
	}
	if diff := cmp.Diff([]string{"activate 1", "activate 2", "deactivate 1"}, log); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}

	// Failures leave version 2 in place.
	failures := []struct {
		name string
		v    bot.Setuper
		want string
	}{
		{"setup fails", plug{"v", func(p *bot.Plugin) error { return errors.New("broken") }}, "broken"},
		{"bad declaration", plug{"v", func(p *bot.Plugin) error { p.Regex("r", "(", reply("")); return nil }}, "missing closing )"},
		{"command taken", version("3", &log, func(p *bot.Plugin) { p.Command("taken", reply("")) }), `"taken" already declared by plugin other`},
		{"activation fails", version("3", &log, func(p *bot.Plugin) {
			p.OnActivate(func(context.Context) error { return errors.New("no database") })
		}), "no database"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Engine.Register(ctx, tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Register = %v, want an error with %q", err, tc.want)
			}
			if got := texts(b.Say("!ver")); !cmp.Equal(got, []string{"2"}) {
				t.Errorf("after the failure: %q", got)
			}
		})
	}

	// Unregister removes the plugin and its commands.
	if err := b.Engine.Unregister(ctx, "v"); err != nil {
		t.Fatalf("Unregister: %v", err)
	}
	if got := texts(b.Say("!ver")); len(got) != 1 || !strings.Contains(got[0], "not found") {
		t.Errorf("after Unregister: %q", got)
	}
	if err := b.Engine.Unregister(ctx, "v"); !errors.Is(err, bot.ErrNoPlugin) {
		t.Errorf("second Unregister = %v, want ErrNoPlugin", err)
	}
	// A new plugin is activated at once.
	if err := b.Engine.Register(ctx, version("4", &log, nil)); err != nil {
		t.Fatalf("Register new: %v", err)
	}
	if got := texts(b.Say("!ver")); !cmp.Equal(got, []string{"4"}) {
		t.Errorf("registered again: %q", got)
	}
}

func TestRegisterKeepsInactive(t *testing.T) {
	var log []string
	b := bottest.New(t, version("1", &log, nil))
	ctx := context.Background()
	if err := b.Engine.Deactivate(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if err := b.Engine.Register(ctx, version("2", &log, nil)); err != nil {
		t.Fatal(err)
	}
	if b.Engine.Active("v") {
		t.Errorf("replacement of an inactive plugin is active")
	}
	if err := b.Engine.Activate(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if got := texts(b.Say("!ver")); !cmp.Equal(got, []string{"2"}) {
		t.Errorf("after activation: %q", got)
	}
}

func TestRegisterWebhooks(t *testing.T) {
	var log []string
	hook := func(path, body string) func(p *bot.Plugin) {
		return func(p *bot.Plugin) {
			p.Webhook("POST "+path, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
		}
	}
	b := bottest.New(t, version("1", &log, hook("/a", "one")))
	ctx := context.Background()
	post := func(path string) (int, string) {
		rec := b.Webhook(httptest.NewRequest("POST", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := post("/a"); code != 200 || body != "one" {
		t.Fatalf("before: %d %q", code, body)
	}
	if err := b.Engine.Register(ctx, version("2", &log, hook("/b", "two"))); err != nil {
		t.Fatal(err)
	}
	if code, _ := post("/a"); code != http.StatusNotFound {
		t.Errorf("old path after replace: %d, want 404", code)
	}
	if code, body := post("/b"); code != 200 || body != "two" {
		t.Errorf("new path: %d %q", code, body)
	}
	if got := len(b.Engine.Webhooks()); got != 1 {
		t.Errorf("Webhooks() has %d, want 1", got)
	}
}

func TestRegisterMissingConfig(t *testing.T) {
	type cfg struct {
		Key string `json:"key" required:""`
	}
	needs := plug{"needs", func(p *bot.Plugin) error {
		var c cfg
		if err := p.Config(&c); err != nil {
			return err
		}
		p.Command("needs", reply("ok"))
		return nil
	}}
	b := bottest.New(t)
	ctx := context.Background()
	var mc *bot.MissingConfigError
	if err := b.Engine.Register(ctx, needs); !errors.As(err, &mc) {
		t.Fatalf("Register = %v, want a *MissingConfigError", err)
	}
	if ps := b.Engine.Plugins(); len(ps) != 1 || ps[0].Active || len(ps[0].Missing) != 1 {
		t.Errorf("Plugins() = %+v, want needs, inactive, missing key", ps)
	}
}
