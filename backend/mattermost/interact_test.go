package mattermost

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
	"github.com/matterbot/matterbot/storage/memory"
)

// TestActionTokens: a token verifies with its key only, for its kind
// only, until it expires.
func TestActionTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	tok := token{Kind: "a", Plugin: "deploy", Name: "approve", Value: "api", Expires: now.Add(time.Hour).Unix()}
	s := sign(key, tok)
	if got, err := verify(key, s, "a", now); err != nil || got != tok {
		t.Errorf("verify = %+v, %v; want the token", got, err)
	}
	for _, tc := range []struct {
		name string
		key  []byte
		s    string
		kind string
		at   time.Time
		want error
	}{
		{"other key", []byte("another key of thirty-two bytes!"), s, "a", now, errForged},
		{"other kind", key, s, "d", now, errForged},
		{"tampered", key, strings.Replace(s, "v1.e", "v1.f", 1), "a", now, errForged},
		{"garbage", key, "hello", "a", now, errForged},
		{"empty", key, "", "a", now, errForged},
		{"expired", key, s, "a", now.Add(2 * time.Hour), errExpired},
	} {
		if _, err := verify(tc.key, tc.s, tc.kind, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: verify = %v, want %v", tc.name, err, tc.want)
		}
	}
	forever := sign(key, token{Kind: "d", Plugin: "p", Name: "n"})
	if _, err := verify(key, forever, "d", now.Add(100*365*24*time.Hour)); err != nil {
		t.Errorf("a token without expiry: %v", err)
	}
}

// TestActionKey: without action_secret a key is made once, kept in the
// store and logged; a second backend on the same store uses it; a
// configured secret wins.
func TestActionKey(t *testing.T) {
	ctx := context.Background()
	store := memory.New().Store("backend:mattermost")
	var logs bytes.Buffer
	b1 := &Backend{opts: Options{Store: store}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	k1, err := b1.actionKey(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("actionKey = %x, %v; want 32 bytes", k1, err)
	}
	if !strings.Contains(logs.String(), "generated a key to sign interactive messages and kept it in the store") {
		t.Errorf("no log line says the key was generated:\n%s", logs.String())
	}
	logs.Reset()
	b2 := &Backend{opts: Options{Store: store}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	if k2, _ := b2.actionKey(ctx); !bytes.Equal(k1, k2) || logs.Len() != 0 {
		t.Errorf("second backend key %x (logged %q), want the stored %x", k2, logs.String(), k1)
	}
	b3 := &Backend{opts: Options{Store: store, ActionSecret: mm.Secret("configured")}, log: slog.New(slog.DiscardHandler)}
	if k3, _ := b3.actionKey(ctx); string(k3) != "configured" {
		t.Errorf("configured secret: key %q", k3)
	}
}

// TestCardActions: each kind of action becomes the server's action,
// signed; a card with actions needs the public URL.
func TestCardActions(t *testing.T) {
	ctx := context.Background()
	b := &Backend{opts: Options{PublicURL: "https://bot.example.com", ActionSecret: "k", ActionLifetime: time.Hour,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}, log: slog.New(slog.DiscardHandler)}
	c := &bot.Card{Actions: []bot.Action{
		{Plugin: "p", Name: "go", Label: "Go", Style: "danger", Value: "v"},
		{Plugin: "p", Name: "env", Label: "Env", Kind: bot.ActionMenu, Options: []bot.Option{{Text: "Prod", Value: "prod"}}, Default: "prod"},
		{Plugin: "p", Name: "who", Label: "Who", Kind: bot.ActionUsers},
		{Plugin: "p", Name: "where", Label: "Where", Kind: bot.ActionChannels, Disabled: true},
	}}
	acts, err := b.actions(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mb0 button Go danger  ", "mb1 select Env  prod ", "mb2 select Who   users", "mb3 select Where   channels"}
	for i, a := range acts {
		got := strings.Join([]string{a.ID, a.Type, a.Name, a.Style, a.DefaultOption, a.DataSource}, " ")
		if got != want[i] || a.Integration.URL != "https://bot.example.com/mattermost/action" {
			t.Errorf("action %d = %q at %s, want %q", i, got, a.Integration.URL, want[i])
		}
		tok, err := verify([]byte("k"), a.Integration.Context[tokenKey].(string), "a", time.Unix(1_800_000_000, 0))
		if err != nil || tok.Name != c.Actions[i].Name || tok.Plugin != "p" || tok.Expires != 1_800_003_600 {
			t.Errorf("action %d token = %+v, %v", i, tok, err)
		}
	}
	if !acts[3].Disabled || len(acts[1].Options) != 1 {
		t.Errorf("disabled or options lost: %+v %+v", acts[3], acts[1])
	}
	b.opts.PublicURL = ""
	if _, err := b.actions(ctx, c); !errors.Is(err, errNoPublicURL) {
		t.Errorf("without a public URL: %v", err)
	}
	b.opts.PublicURL = "https://x"
	if _, err := b.actions(ctx, &bot.Card{Actions: []bot.Action{{Name: "x", Label: "X"}}}); err == nil {
		t.Errorf("an action without a plugin was signed")
	}
}
