package bot

import (
	"context"
	"io"
)

// Backend is what the engine needs from a chat system. Backends (package
// backend/mattermost, backend/console, the in-memory one in bottest)
// implement it; the engine is the only caller.
//
// The life of a backend:
//
//  0. If the backend implements Connector, Engine.Run calls Connect
//     first, before it activates the plugins.
//  1. Engine.Run calls Run with the engine as the Handler.
//  2. Run connects and calls h.HandleConnect with the bot's own identity
//     before it delivers any other event. If HandleConnect returns an
//     error (an admin name that does not resolve, say), Run must return
//     it. On a reconnect, Run calls HandleConnect again.
//  3. Run delivers events by calling the Handle methods from any
//     goroutine. They never block for long: the engine queues work and
//     runs handlers in goroutines of its own.
//  4. Run returns when ctx is done (the engine is shutting down), or with
//     an error it cannot recover from. It must not return before every
//     goroutine it started has exited.
//
// Backends drop the bot's own messages; whether other bots' messages are
// delivered is the backend's choice (User.Bot tells the engine).
//
// Send, React, User and Room are called concurrently from handler
// goroutines, after HandleConnect and while Run is running.
//
// bottest.Backend is a complete, small implementation to copy the shape
// from.
type Backend interface {
	// Run connects and delivers events to h until ctx is done.
	Run(ctx context.Context, h Handler) error
	// Send posts a message (text, card and/or file) to a room, a thread or
	// a person. See Outgoing.
	Send(ctx context.Context, out *Outgoing) error
	// React adds the emoji reaction (a name without colons, "white_check_mark")
	// to the message with the given id, as the bot.
	React(ctx context.Context, messageID, emoji string) error
	// User resolves a username (without @), or a user id (User.ID), to
	// a user: an id kept from an earlier message still finds the user
	// after a rename. An id the backend knows wins over a username
	// spelled the same. It returns an error wrapping ErrUnknown when
	// there is no such user.
	User(ctx context.Context, username string) (User, error)
	// Room resolves a room name (without ~) in a team to a room. An empty
	// team means the backend's default team; with an empty team, name
	// may also be a room id (Room.ID, a direct-message conversation's
	// included), which wins over a room name spelled the same. It
	// returns an error wrapping ErrUnknown when there is no such room.
	Room(ctx context.Context, team, name string) (Room, error)
}

// Handler receives a backend's events. *Engine implements it; backends
// call it from Run. Every method returns quickly.
//
// The channel returned by HandleMessage and the other event methods is
// closed once every handler the event started has returned or is waiting
// for the user's next message (Request.Ask). Backends may ignore it;
// bottest and the console backend use it to know that a command is done.
// A backend that needs to know whether a message was handled to the end,
// or cut short by shutdown, sets Message.Handled instead: a callback
// costs no goroutine per message.
//
// The engine does not modify the values passed in, and keeps them (a
// handler may hold a *Message as long as it runs): pass a fresh value for
// each event.
type Handler interface {
	// HandleConnect reports that the backend is connected as self. It
	// must be called before any other method, and again after each
	// reconnect. It returns once the plugins' OnConnect hooks are done;
	// an error (the first connect could not resolve the admins) is fatal.
	HandleConnect(ctx context.Context, self User) error
	// HandleMessage delivers a message posted where the bot can see it,
	// except the bot's own.
	HandleMessage(m *Message) (done <-chan struct{})
	// HandleReaction delivers a reaction added to or removed from a message.
	HandleReaction(r *Reaction) (done <-chan struct{})
	// HandlePresence delivers a user's change of status.
	HandlePresence(p *Presence) (done <-chan struct{})
	// HandleJoin delivers a user (or the bot) joining a room.
	HandleJoin(j *Join) (done <-chan struct{})
}

// LeaveHandler is the optional part of Handler for leave events; *Engine
// implements it. A backend that knows when a user (or the bot) leaves or
// is removed from a room calls HandleLeave when its Handler implements
// LeaveHandler (a type assertion), under the same rules as HandleJoin.
// It is separate from Handler so that existing Handler implementations
// stay valid.
type LeaveHandler interface {
	HandleLeave(l *Leave) (done <-chan struct{})
}

// Addresser is the optional part of Handler that tells, without handling
// it, whether a message is addressed to the bot: a command (the prefix,
// an alternative prefix, the bot's @mention, a direct message without
// the prefix unless Options.RequirePrefixInDirect, or a regex command
// that matches). *Engine implements it. The Mattermost backend asks it
// to count the commands a catch-up skips as too old to answer. It is
// false before the first HandleConnect.
type Addresser interface {
	Addressed(m *Message) bool
}

// Outgoing is a message the bot sends. Exactly one of RoomID and UserID is
// set: RoomID posts to a room; UserID posts a direct message to that
// person (the backend opens the conversation). ThreadID, when set, posts
// in that thread of the room. At least one of Text, Card and File is set;
// a backend sends them as one post when it can, in that order otherwise.
type Outgoing struct {
	RoomID   string
	UserID   string
	ThreadID string
	Text     string // markdown
	Card     *Card
	File     *File
	// ReplyTo is the id of the message this answers: the engine sets it
	// on everything a command, a listener or the engine itself sends
	// about a message, and leaves it "" for what answers none (a
	// schedule, a webhook). A backend may record it with the post (the
	// Mattermost backend does, so that a bot can tell another bot's
	// replies from people's posts).
	ReplyTo string
}

// Card is a rich message: Mattermost's message attachment, Slack's
// attachment, a box in the console. Every field is optional.
type Card struct {
	// Summary is markdown shown above the card, outside it: Errbot's
	// summary, Mattermost's pretext.
	Summary string
	Title   string
	Link    string // URL the title links to
	Text    string // markdown
	// Color colours the card's edge: a name CardColor knows ("good",
	// "warning", "danger", or Errbot's "white", "cyan", "blue", "red",
	// "green", "yellow"), or "#RRGGBB". Backends draw it as CardColor
	// maps it; anything else is passed to the chat client unchanged (see
	// CardColor).
	Color     string
	Fields    []Field
	Image     string // URL of a large image
	Thumbnail string // URL of a small image
	// Actions are buttons and menus shown on the card (see Action); a
	// click runs the handler the sending plugin declared with
	// Plugin.OnClick. Backends without interactive messages show them
	// as text, or leave them out.
	Actions []Action
}

// Field is a title/value pair in a Card. Short fields may be laid out side
// by side.
type Field struct {
	Title string
	Value string
	Short bool
}

// File is a file to upload. The backend reads Body to its end (streaming,
// not buffering when it can) and does not close it.
type File struct {
	Name        string
	ContentType string // empty means guess from Name
	Body        io.Reader
}

// Optional backend behaviour, discovered by type assertion.

// Connector is implemented by backends that can connect before the
// engine activates the plugins, so that a failure to start (a bad token,
// an unknown team, a server that does not answer) is the one error
// Engine.Run returns, with no plugin activated and nothing of theirs
// logged. Engine.Run calls Connect once, before anything else, and then
// resolves the admins and ACL names (User and Room work once Connect has
// returned); a Connect error (a *StartupError for what the operator must
// fix) is returned as is. Run, called next, uses the connection Connect
// made and calls HandleConnect as usual when events start to flow. A
// backend without Connect connects in Run.
type Connector interface {
	Connect(ctx context.Context) error
}

// Readiness is implemented by backends that know whether they can serve
// right now: the Mattermost backend is not ready while it logs in, while
// its WebSocket is down, or while it catches up on the events it missed.
// Ready returns nil when the backend is ready, or an error whose text is
// a short reason for an operator ("websocket disconnected:
// reconnecting"). It is called from any goroutine, often (a readiness
// probe), and must not block. Engine.Ready asks it; a backend without
// it is ready once it has connected (Handler.HandleConnect).
type Readiness interface {
	Ready() error
}

// Closer is implemented by backends with something to release once the
// engine has stopped: after Run has returned, the handlers have drained
// and the plugins are deactivated (or after Connect or the resolution
// of the admins failed), Engine.Run calls Close once, with a context
// bounded by Options.ShutdownTimeout. The Mattermost backend logs out of
// the session its password login opened. An error is logged.
type Closer interface {
	Close(ctx context.Context) error
}

// Typer is implemented by backends that can show a "bot is typing"
// indicator. Handlers show it with Request.Typing.
type Typer interface {
	Typing(ctx context.Context, roomID, threadID string) error
}

// Unreacter is implemented by backends that can remove a reaction the
// bot added. Handlers remove one with Request.Unreact. Removing a
// reaction the bot has not added is not an error.
type Unreacter interface {
	Unreact(ctx context.Context, messageID, emoji string) error
}

// EphemeralSender is implemented by backends that can post a message only
// one user sees. Without it, Request.Ephemeral falls back to a direct
// message.
type EphemeralSender interface {
	SendEphemeral(ctx context.Context, userID string, out *Outgoing) error
}

// FileOpener is implemented by backends that can download the files
// attached to incoming messages. The caller closes the returned reader.
type FileOpener interface {
	OpenFile(ctx context.Context, fileID string) (io.ReadCloser, error)
}
