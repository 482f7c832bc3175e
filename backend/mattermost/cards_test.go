package mattermost

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

func TestAttachment(t *testing.T) {
	tests := []struct {
		name string
		card bot.Card
		want mm.Attachment
	}{
		{
			name: "full",
			card: bot.Card{
				Title: "deployed api", Link: "https://example.com", Text: "all good", Color: "good",
				Fields: []bot.Field{{Title: "env", Value: "prod", Short: true}},
				Image:  "https://example.com/i.png", Thumbnail: "https://example.com/t.png",
			},
			want: mm.Attachment{
				Fallback: "deployed api", Color: "#2EB886", Title: "deployed api", TitleLink: "https://example.com",
				Text: "all good", Fields: []*mm.AttachmentField{{Title: "env", Value: "prod", Short: true}},
				ImageURL: "https://example.com/i.png", ThumbURL: "https://example.com/t.png",
			},
		},
		{name: "warning", card: bot.Card{Color: "Warning"}, want: mm.Attachment{Color: "#DAA038"}},
		{name: "danger", card: bot.Card{Color: "danger"}, want: mm.Attachment{Color: "#A30200"}},
		{name: "hex passes", card: bot.Card{Color: "#123456"}, want: mm.Attachment{Color: "#123456"}},
		// The seed's names, with the seed's values.
		{name: "white", card: bot.Card{Color: "white"}, want: mm.Attachment{Color: "#FFFFFF"}},
		{name: "cyan", card: bot.Card{Color: "cyan"}, want: mm.Attachment{Color: "#00FFFF"}},
		{name: "blue", card: bot.Card{Color: "Blue"}, want: mm.Attachment{Color: "#0000FF"}},
		{name: "red", card: bot.Card{Color: "red"}, want: mm.Attachment{Color: "#FF0000"}},
		{name: "green", card: bot.Card{Color: "green"}, want: mm.Attachment{Color: "#008000"}},
		{name: "yellow", card: bot.Card{Color: "yellow"}, want: mm.Attachment{Color: "#FFA500"}},
		// The server's check (model.SlackAttachment.IsValid) wants six digits.
		{name: "short hex expanded", card: bot.Card{Color: "#0a0"}, want: mm.Attachment{Color: "#00aa00"}},
		// Unknown names go through unchanged, as in the seed.
		{name: "unknown passes", card: bot.Card{Color: "purple"}, want: mm.Attachment{Color: "purple"}},
		{
			name: "summary is the pretext",
			card: bot.Card{Summary: "build **42**", Title: "deployed"},
			want: mm.Attachment{Pretext: "build **42**", Fallback: "deployed", Title: "deployed"},
		},
		{
			name: "fallback from summary",
			card: bot.Card{Summary: "only a summary\nsecond"},
			want: mm.Attachment{Pretext: "only a summary\nsecond", Fallback: "only a summary"},
		},
		{
			name: "fallback from text",
			card: bot.Card{Text: "\n first line\nsecond"},
			want: mm.Attachment{Fallback: "first line", Text: "\n first line\nsecond"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(&tc.want, cardAttachment(&tc.card)); diff != "" {
				t.Errorf("attachment(%+v) mismatch (-want +got):\n%s", tc.card, diff)
			}
		})
	}
}

// A card posted through props reads back, through the post's JSON, as
// the recorded attachment of a real server does.
func TestCardPropsRoundTrip(t *testing.T) {
	card := &bot.Card{Title: "deployed api", Link: "https://example.com", Text: "all good",
		Fields: []bot.Field{{Title: "env", Value: "prod", Short: true}}}
	props, err := new(Backend).cardProps(context.Background(), card)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&mm.Post{Message: "", Props: props})
	if err != nil {
		t.Fatal(err)
	}
	var p mm.Post
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	got, err := p.Attachments()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recordedPost(t, "ws_posted_bot_attachment.json").Post.Attachments()
	if err != nil {
		t.Fatal(err)
	}
	want := rec[0]
	want.Color = ""                // the recording set a colour, the card none
	want.Fallback = "deployed api" // and its own fallback; ours is the title
	if diff := cmp.Diff([]*mm.Attachment{want}, got); diff != "" {
		t.Errorf("attachment round trip (-recorded +ours):\n%s", diff)
	}
}
