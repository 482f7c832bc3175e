package matterbot

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/config"
)

// TestEngineOptions: the engine keys of the file reach bot.Options,
// groupchat_nick_prefixed and typing_after included.
func TestEngineOptions(t *testing.T) {
	type engineKeys struct {
		Prefix                 string
		AltPrefixes            []string
		SuppressUnknownCommand bool
		Admins                 []string
		DivertToThread         []string
		DivertToPrivate        []string
		PrefixRoomReplies      bool
		TypingAfter            time.Duration
		Version                string
	}
	keys := func(o *bot.Options) engineKeys {
		return engineKeys{o.Prefix, o.AltPrefixes, o.SuppressUnknownCommand, o.Admins,
			o.DivertToThread, o.DivertToPrivate, o.PrefixRoomReplies, o.TypingAfter, o.Version}
	}
	tests := []struct {
		name string
		doc  string
		want engineKeys
	}{
		{
			name: "defaults",
			doc:  `backend = "console"`,
			want: engineKeys{Prefix: "!", TypingAfter: config.DefaultTypingAfter, Version: Version()},
		},
		{
			name: "typing off",
			doc:  "backend = \"console\"\ntyping_after = 0",
			want: engineKeys{Prefix: "!", Version: Version()},
		},
		{
			name: "every engine key",
			doc: `backend = "console"
prefix = "?"
alt_prefixes = ["ops-bot:"]
suppress_cmd_not_found = true
admins = ["@alice"]
divert_to_thread = ["status"]
divert_to_private = ["help"]
groupchat_nick_prefixed = true
typing_after = "1.5s"
`,
			want: engineKeys{Prefix: "?", AltPrefixes: []string{"ops-bot:"}, SuppressUnknownCommand: true,
				Admins: []string{"@alice"}, DivertToThread: []string{"status"}, DivertToPrivate: []string{"help"},
				PrefixRoomReplies: true, TypingAfter: 1500 * time.Millisecond, Version: Version()},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("matterbot.toml", []byte(tc.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := keys(EngineOptions(cfg, nil, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EngineOptions(%q) (-want +got):\n%s", tc.doc, diff)
			}
		})
	}
}
