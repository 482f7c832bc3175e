package execplugin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/matterbot/matterbot/bot"
)

// The wire types of docs/exec-plugins.md. Field names are the
// protocol's; the JSON Schemas in docs/exec-plugins/schema describe
// them.

type wireUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	FullName string `json:"full_name,omitempty"`
	Bot      bool   `json:"bot,omitempty"`
}

type wireRoom struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Team string `json:"team,omitempty"`
}

type wireFileRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size,omitempty"`
	MIME string `json:"mime,omitempty"`
}

type wireMessage struct {
	ID        string        `json:"id"`
	Text      string        `json:"text"`
	From      wireUser      `json:"from"`
	Room      wireRoom      `json:"room"`
	ThreadID  string        `json:"thread_id"`
	Direct    bool          `json:"direct"`
	Mentions  []string      `json:"mentions,omitempty"`
	Files     []wireFileRef `json:"files,omitempty"`
	Permalink string        `json:"permalink,omitempty"`
	Time      string        `json:"time,omitempty"`
}

func userOf(u bot.User) wireUser {
	return wireUser{ID: u.ID, Username: u.Username, FullName: u.FullName, Bot: u.Bot}
}

func roomOf(r bot.Room) wireRoom { return wireRoom{ID: r.ID, Name: r.Name, Team: r.Team} }

func messageOf(m *bot.Message) *wireMessage {
	w := &wireMessage{
		ID: m.ID, Text: m.Text, From: userOf(m.From), Room: roomOf(m.Room), ThreadID: m.ThreadID,
		Direct: m.Direct, Mentions: m.Mentions, Permalink: m.Permalink,
	}
	for _, f := range m.Files {
		w.Files = append(w.Files, wireFileRef{ID: f.ID, Name: f.Name, Size: f.Size, MIME: f.MIME})
	}
	if !m.Time.IsZero() {
		w.Time = m.Time.UTC().Format(time.RFC3339Nano)
	}
	return w
}

type wireWebhook struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Pattern    string              `json:"pattern"`
	PathValues map[string]string   `json:"path_values,omitempty"`
	Query      map[string][]string `json:"query,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
	RemoteAddr string              `json:"remote_addr,omitempty"`
	Body       *string             `json:"body,omitempty"`
	BodyBase64 string              `json:"body_base64,omitempty"`
}

type wireEvent struct {
	Kind      string    `json:"kind"`
	MessageID string    `json:"message_id,omitempty"`
	Emoji     string    `json:"emoji,omitempty"`
	Removed   bool      `json:"removed,omitempty"`
	Status    string    `json:"status,omitempty"`
	User      *wireUser `json:"user,omitempty"`
	Room      *wireRoom `json:"room,omitempty"`
}

// wireRequest is a request, one-shot (stdin) or long-lived (a line).
type wireRequest struct {
	Type      string          `json:"type"`
	Protocol  int             `json:"protocol"`
	ID        string          `json:"id"`
	Ref       string          `json:"ref"`
	Plugin    string          `json:"plugin"`
	Kind      string          `json:"kind"`
	Handler   string          `json:"handler"`
	Command   string          `json:"command,omitempty"`
	Message   *wireMessage    `json:"message,omitempty"`
	User      *wireUser       `json:"user,omitempty"`
	Room      *wireRoom       `json:"room,omitempty"`
	ThreadID  *string         `json:"thread_id,omitempty"`
	Admin     *bool           `json:"admin,omitempty"`
	Args      *string         `json:"args,omitempty"`
	Words     []string        `json:"words,omitzero"`
	Arguments map[string]any  `json:"arguments,omitempty"`
	Match     []string        `json:"match,omitzero"`
	Webhook   *wireWebhook    `json:"webhook,omitempty"`
	Event     *wireEvent      `json:"event,omitempty"`
	Config    json.RawMessage `json:"config,omitempty"`
	Bot       *wireBot        `json:"bot,omitempty"`
	Deadline  string          `json:"deadline"`
	Answers   []*wireMessage  `json:"answers,omitempty"`
	State     json.RawMessage `json:"state,omitempty"`
}

type wireHello struct {
	Type     string          `json:"type"`
	Protocol int             `json:"protocol"`
	Plugin   string          `json:"plugin"`
	Version  string          `json:"version"`
	Config   json.RawMessage `json:"config"`
	Bot      *wireBot        `json:"bot"`
	Describe bool            `json:"describe"`
	Limits   wireLimits      `json:"limits"`
	// TakenCommands: in a describe hello, when the bot runs (a reload), the
	// names and aliases of the other plugins' commands.
	TakenCommands []string `json:"taken_commands,omitempty"`
}

// wireBot describes the bot: hello's bot, the bot message, a one-shot
// request's bot.
type wireBot struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Prefix      string    `json:"prefix"`
	AltPrefixes []string  `json:"alt_prefixes"`
	Admins      []string  `json:"admins"`
	User        *wireUser `json:"user,omitempty"` // the bot's account, once connected
}

// equal reports whether b and o say the same.
func (b *wireBot) equal(o *wireBot) bool {
	return b.Name == o.Name && b.Version == o.Version && b.Prefix == o.Prefix &&
		slices.Equal(b.AltPrefixes, o.AltPrefixes) && slices.Equal(b.Admins, o.Admins) &&
		(b.User == nil) == (o.User == nil) && (b.User == nil || *b.User == *o.User)
}

// wireBotMessage tells a long-lived program that what hello's bot said
// changed.
type wireBotMessage struct {
	Type string   `json:"type"`
	Bot  *wireBot `json:"bot"`
}

type wireLimits struct {
	Timeout     float64 `json:"timeout"`
	Concurrency int     `json:"concurrency"`
	MaxOutput   int     `json:"max_output"`
}

type wireCancel struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type wireResult struct {
	Type  string     `json:"type"`
	Call  string     `json:"call"`
	Value any        `json:"value,omitempty"`
	Error *callError `json:"error,omitempty"`
}

// callError is a call's failure, with a code of §7.
type callError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *callError) Error() string { return e.Code + ": " + e.Message }

type wireCard struct {
	Summary   string      `json:"summary,omitempty"`
	Title     string      `json:"title,omitempty"`
	Link      string      `json:"link,omitempty"`
	Text      string      `json:"text,omitempty"`
	Color     string      `json:"color,omitempty"`
	Image     string      `json:"image,omitempty"`
	Thumbnail string      `json:"thumbnail,omitempty"`
	Fields    []wireField `json:"fields,omitempty"`
}

type wireField struct {
	Title string `json:"title,omitempty"`
	Value string `json:"value,omitempty"`
	Short bool   `json:"short,omitempty"`
}

func (c *wireCard) card() bot.Card {
	out := bot.Card{Summary: c.Summary, Title: c.Title, Link: c.Link, Text: c.Text, Color: c.Color, Image: c.Image, Thumbnail: c.Thumbnail}
	for _, f := range c.Fields {
		out.Fields = append(out.Fields, bot.Field{Title: f.Title, Value: f.Value, Short: f.Short})
	}
	return out
}

type wireFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Text        string `json:"text,omitempty"`
	Data        string `json:"data,omitempty"`
	Path        string `json:"path,omitempty"`
}

type wireError struct {
	Message string `json:"message"`
	Kind    string `json:"kind,omitempty"`
	Status  int    `json:"status,omitempty"`
}

// inbound is any line from a plugin: replies, done, ready, call, log.
// One flat struct decodes them all in one pass; which fields matter
// depends on Type.
type inbound struct {
	Type string `json:"type"`
	ID   string `json:"id"`

	// text, ephemeral, ask, send; file's caption
	Text *string `json:"text"`
	// card, send
	Card *wireCard `json:"card"`
	// file (its fields at the top level)
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
	Path        string `json:"path"`
	// react, unreact
	Emoji string `json:"emoji"`
	// send
	To       string    `json:"to"`
	ThreadID string    `json:"thread_id"`
	File     *wireFile `json:"file"`
	// ask
	State json.RawMessage `json:"state"`
	// http
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Body       *string             `json:"body"`
	BodyBase64 string              `json:"body_base64"`
	// done
	Error   *wireError `json:"error"`
	NoMatch bool       `json:"no_match"`
	// ready
	Protocol int             `json:"protocol"`
	Manifest json.RawMessage `json:"manifest"`
	// call
	Call   string          `json:"call"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	// log
	Level string         `json:"level"`
	Msg   string         `json:"msg"`
	Attrs map[string]any `json:"attrs"`
}

// Reply types, and the other types a plugin writes.
const (
	typeText      = "text"
	typeCard      = "card"
	typeFile      = "file"
	typeReact     = "react"
	typeUnreact   = "unreact"
	typeEphemeral = "ephemeral"
	typeSend      = "send"
	typeTyping    = "typing"
	typeAsk       = "ask"
	typeHTTP      = "http"
	typeDone      = "done"
	typeReady     = "ready"
	typeCall      = "call"
	typeLog       = "log"
)

// isReply reports whether t is a reply type of §6 (done included).
func isReply(t string) bool {
	switch t {
	case typeText, typeCard, typeFile, typeReact, typeUnreact, typeEphemeral, typeSend, typeTyping, typeAsk, typeHTTP, typeDone:
		return true
	}
	return false
}

// decodeLine decodes one line from a plugin. The error says what is
// wrong with it, for the log.
func decodeLine(line []byte) (*inbound, error) {
	var in inbound
	if err := json.Unmarshal(line, &in); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v: %s", err, excerpt(line))
	}
	if in.Type == "" {
		return nil, fmt.Errorf("no type: %s", excerpt(line))
	}
	return &in, nil
}

// excerpt returns the start of line, for an error.
func excerpt(line []byte) string {
	const n = 120
	s := line
	if len(s) > n {
		s = s[:n]
	}
	for !utf8.Valid(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	if len(s) < len(line) {
		return fmt.Sprintf("%q…", s)
	}
	return fmt.Sprintf("%q", s)
}

// check validates a reply's fields.
func (in *inbound) check() error {
	switch in.Type {
	case typeText, typeEphemeral:
		if in.Text == nil {
			return fmt.Errorf("%s reply without text", in.Type)
		}
	case typeCard:
		if in.Card == nil {
			return errors.New("card reply without card")
		}
	case typeFile:
		return in.fileSpec().check()
	case typeReact, typeUnreact:
		if strings.Trim(in.Emoji, ":") == "" {
			return fmt.Errorf("%s reply without emoji", in.Type)
		}
	case typeSend:
		if _, err := bot.ParseAddress(in.To); err != nil {
			return fmt.Errorf("send reply: to: %w", err)
		}
		if in.Text == nil && in.Card == nil && in.File == nil {
			return errors.New("send reply without text, card or file")
		}
		if in.File != nil {
			return in.File.check()
		}
	case typeAsk:
		if in.Text == nil || *in.Text == "" {
			return errors.New("ask reply without text")
		}
	case typeHTTP:
		if in.Status != 0 && (in.Status < 200 || in.Status > 599) {
			return fmt.Errorf("http reply: status %d is not between 200 and 599", in.Status)
		}
		if in.BodyBase64 != "" {
			if _, err := base64.StdEncoding.DecodeString(in.BodyBase64); err != nil {
				return fmt.Errorf("http reply: body_base64: %v", err)
			}
		}
	case typeDone:
		if in.NoMatch && in.Error != nil {
			return errors.New("done: no_match with an error: one or the other")
		}
		if in.Error != nil {
			switch in.Error.Kind {
			case "", "internal", "user", "usage", "no_answer":
			default:
				return fmt.Errorf("done: error.kind %q is not user, usage, no_answer or internal", in.Error.Kind)
			}
		}
	}
	return nil
}

func (in *inbound) fileSpec() *wireFile {
	f := &wireFile{Name: in.Name, ContentType: in.ContentType, Data: in.Data, Path: in.Path}
	if in.Text != nil {
		f.Text = *in.Text
	}
	return f
}

func (f *wireFile) check() error {
	switch {
	case f.Name == "":
		return errors.New("file without name")
	case (f.Data == "") == (f.Path == ""):
		return errors.New("file needs exactly one of data and path")
	}
	return nil
}

// maxFile bounds a file reply read from a path.
const maxFile = 100 << 20

// open returns the file's content. A path must resolve inside one of
// roots (the working directory, the plugin's directory); a relative path
// is relative to roots[0].
func (f *wireFile) open(roots ...string) (io.Reader, func(), error) {
	if f.Data != "" {
		b, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("file %q: data: %v", f.Name, err)
		}
		return bytes.NewReader(b), func() {}, nil
	}
	p := f.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(roots[0], p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, nil, fmt.Errorf("file %q: %w", f.Name, err)
	}
	inside := false
	for _, r := range roots {
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				inside = true
			}
		}
	}
	if !inside {
		return nil, nil, fmt.Errorf("file %q: path %s is outside the plugin's directories", f.Name, f.Path)
	}
	fh, err := os.Open(real)
	if err != nil {
		return nil, nil, fmt.Errorf("file %q: %w", f.Name, err)
	}
	if fi, err := fh.Stat(); err == nil && fi.Size() > maxFile {
		_ = fh.Close()
		return nil, nil, fmt.Errorf("file %q: %d bytes is more than %d", f.Name, fi.Size(), maxFile)
	}
	return fh, func() { _ = fh.Close() }, nil
}

// httpReply is a webhook's response.
type httpReply struct {
	status  int
	headers http.Header
	body    []byte
}

func (in *inbound) httpReply() *httpReply {
	r := &httpReply{status: in.Status, headers: http.Header(in.Headers)}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if in.Body != nil {
		r.body = []byte(*in.Body)
	} else if in.BodyBase64 != "" {
		r.body, _ = base64.StdEncoding.DecodeString(in.BodyBase64) // checked
	}
	return r
}
