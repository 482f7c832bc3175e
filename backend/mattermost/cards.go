package mattermost

import (
	"strings"

	"github.com/matterbot/matterbot/bot"
	mm "github.com/matterbot/matterbot/mattermost"
)

// Colours of the named card colours. Mattermost draws an attachment's
// colour bar from a hex value only; these are the values Slack gives the
// same names, so cards written for either look alike.
var cardColors = map[string]string{
	"good":    "#2EB886",
	"warning": "#DAA038",
	"danger":  "#A30200",
}

// attachment returns c as a message attachment, the element of a post's
// props.attachments (and of a webhook's "attachments").
func attachment(c *bot.Card) *mm.Attachment {
	a := &mm.Attachment{
		Fallback:  cardFallback(c),
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

// cardColor maps a named colour to hex and passes anything else through.
func cardColor(c string) string {
	if hex, ok := cardColors[strings.ToLower(c)]; ok {
		return hex
	}
	return c
}

// cardFallback is the plain text shown where attachments are not drawn
// (notifications): the title, else the first line of the text.
func cardFallback(c *bot.Card) string {
	if c.Title != "" {
		return c.Title
	}
	line, _, _ := strings.Cut(strings.TrimSpace(c.Text), "\n")
	return line
}

// cardProps returns post props holding c as the only attachment. The
// server stores attachments as []*Attachment; so do we, so that the post
// encodes as the server's would.
func cardProps(c *bot.Card) map[string]any {
	return map[string]any{"attachments": []*mm.Attachment{attachment(c)}}
}
