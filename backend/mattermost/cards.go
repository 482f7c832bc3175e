package mattermost

import (
	"context"
	"strings"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// attachment returns c as a message attachment, the element of a post's
// props.attachments (and of a webhook's "attachments"), with its actions
// signed (see Options.PublicURL).
func (b *Backend) attachment(ctx context.Context, c *bot.Card) (*mm.Attachment, error) {
	a := cardAttachment(c)
	acts, err := b.actions(ctx, c)
	if err != nil {
		return nil, err
	}
	a.Actions = acts
	return a, nil
}

// cardAttachment returns c as a message attachment, without its actions.
func cardAttachment(c *bot.Card) *mm.Attachment {
	a := &mm.Attachment{
		Fallback:  cardFallback(c),
		Pretext:   c.Summary,
		Color:     cardColor(c.Color),
		Title:     c.Title,
		TitleLink: c.Link,
		Text:      c.Text,
		ImageURL:  c.Image,
		ThumbURL:  c.Thumbnail,
	}
	for _, f := range c.Fields {
		a.Fields = append(a.Fields, &mm.AttachmentField{Title: f.Title, Value: f.Value, Short: f.Short})
	}
	return a
}

// cardColor maps a colour name to hex with bot.CardColor (Slack's
// values for good, warning and danger, the seed's for white, cyan, blue,
// red, green and yellow), expands "#RGB", and passes anything else
// through unchanged, as the seed does: the web app reads it as a CSS
// colour.
func cardColor(c string) string {
	hex, _ := bot.CardColor(c)
	return hex
}

// cardFallback is the plain text shown where attachments are not drawn
// (notifications): the title, else the first line of the text, else that
// of the summary.
func cardFallback(c *bot.Card) string {
	if c.Title != "" {
		return c.Title
	}
	text := strings.TrimSpace(c.Text)
	if text == "" {
		text = strings.TrimSpace(c.Summary)
	}
	line, _, _ := strings.Cut(text, "\n")
	return line
}

// cardProps returns post props holding c as the only attachment. The
// server stores attachments as []*Attachment; so do we, so that the post
// encodes as the server's would.
func (b *Backend) cardProps(ctx context.Context, c *bot.Card) (map[string]any, error) {
	a, err := b.attachment(ctx, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"attachments": []*mm.Attachment{a}}, nil
}
