package bot

import (
	"fmt"
	"strings"
	"time"
)

// User is a person (or another bot) on the chat system.
type User struct {
	// ID is the backend's stable identifier. It survives renames; the
	// engine keys admins, ACLs and conversations on it.
	ID string
	// Username is the current handle, without the @.
	Username string
	// FullName is the display name ("Alice Liddell"); it may be empty.
	FullName string
	// Bot reports whether the account is a bot.
	Bot bool
}

// String returns the user as an @mention: "@alice".
func (u User) String() string { return "@" + u.Username }

// Room is a channel, group or direct-message conversation.
type Room struct {
	// ID is the backend's stable identifier.
	ID string
	// Name is the room's handle, without the ~ ("town-square").
	Name string
	// Team is the handle of the team that owns the room; empty for
	// direct messages and for backends without teams.
	Team string
	// Kind is what sort of room it is: RoomChannel, RoomGroup or
	// RoomDirect; "" when the backend does not say.
	Kind string
}

// The kinds of room (Room.Kind).
const (
	// RoomChannel is a channel of a team, public or private.
	RoomChannel = "channel"
	// RoomGroup is a group conversation of a few people, outside teams
	// (Mattermost's group message).
	RoomGroup = "group"
	// RoomDirect is a conversation of two people (a direct message).
	RoomDirect = "direct"
)

// String returns the room as "~name", or "~team/name" when it has a team.
func (r Room) String() string {
	if r.Team == "" {
		return "~" + r.Name
	}
	return "~" + r.Team + "/" + r.Name
}

// FileRef describes a file attached to an incoming message. Read it with
// Request.OpenFile when the backend supports downloads (FileOpener).
type FileRef struct {
	ID   string
	Name string
	Size int64
	MIME string
}

// Message is an incoming chat message, as a backend delivers it to the
// engine. The engine does not modify a Message; handlers must not either.
type Message struct {
	// ID is the backend's identifier of the message (the post id).
	ID string
	// Permalink is a link that opens the message in the chat system's
	// own client (Errbot's extras["url"]), such as
	// "https://chat.example.com/ops/pl/<post id>"; empty when the
	// backend has none.
	Permalink string
	// From is the author.
	From User
	// Room is where the message was posted.
	Room Room
	// ThreadID is the id of the thread's root message when the message was
	// posted in a thread, and empty otherwise.
	ThreadID string
	// Direct reports whether the message is a direct (one-to-one) message
	// to the bot.
	Direct bool
	// Text is the message as typed, markdown included.
	Text string
	// Mentions lists the usernames (without @) the message mentions.
	Mentions []string
	// RoomMentions lists the rooms the message mentions ("~ops",
	// "~team/ops"), resolved by the backend, in order of appearance and
	// without duplicates. References inside code, and those the backend
	// cannot resolve to a room, are left out. Backends that do not resolve
	// room mentions leave it nil.
	RoomMentions []Room
	// Files lists attached files.
	Files []FileRef
	// Time is when the message was posted; zero when unknown.
	Time time.Time
	// CaughtUp reports that the backend delivers the message late: it
	// was posted while the bot could not hear it (stopped, or its
	// connection down), and a catch-up found it. The engine never refuses
	// such a message for a full queue (EngineOptions.MaxQueue): its author
	// is not there to be told to try again.
	CaughtUp bool
	// Slash reports that the message is a slash command ("/ops deploy
	// api"), delivered by a backend that serves them: no post holds it
	// and nobody else saw it. Text is the command without the trigger and
	// without the prefix ("deploy api"); it is addressed to the bot as a
	// prefixed message is, and it reaches no listener, no OnMessage
	// callback and no pending question (Request.Ask). The replies go
	// where the backend shows a slash command's answer.
	Slash bool
	// TriggerID, set by a backend for a slash command, lets the handler
	// open a dialog in the caller's client (Request.OpenDialog) for a few
	// seconds; "" otherwise.
	TriggerID string
	// Edited reports that the message is a new version of one the
	// engine saw: its author edited it. Only a command declared with
	// Cmd.RerunOnEdit runs again, when the message was posted (Time)
	// within the command's window; nothing else sees it. The backend
	// replaces the first run's replies with the new run's (the
	// Mattermost backend edits its posts).
	Edited bool

	// Handled, when the backend sets it, is called once when the engine
	// is done with the message: when the channel HandleMessage returned
	// is closed (just before), or at once when the message starts
	// nothing. complete is false when the message may not have been
	// answered because the engine is stopping: shutdown cancelled one
	// of its handlers or dropped one before it ran, or the engine was
	// not connected yet. A backend that persists how far it has handled
	// a channel advances past the message only when complete is true.
	// It is called from any goroutine and must return quickly. Only the
	// engine calls it; handlers leave it alone.
	Handled func(complete bool)
}

// Reaction is an emoji reaction added to or removed from a message.
type Reaction struct {
	MessageID string
	Emoji     string // name without colons: "thumbsup"
	User      User
	Room      Room
	Removed   bool // true when the reaction was taken away
}

// Presence is a user's change of status.
type Presence struct {
	User   User
	Status string // StatusOnline, StatusAway, StatusDND or StatusOffline
}

// Join reports that a user, possibly the bot itself, joined a room.
type Join struct {
	User User
	Room Room
}

// Leave reports that a user, possibly the bot itself, left a room or was
// removed from it.
type Leave struct {
	User User
	Room Room
}

// Address names a person or a room independently of the backend:
// "@alice", "~ops" or "~team/ops". Exactly one of User and Room is set.
// Backends resolve addresses to ids (Backend.User, Backend.Room).
//
// The name may also be an id, with the sigil of what it names: "@" +
// User.ID, "~" + Room.ID (without a team). A name changes when the user
// or room is renamed; an id does not, so an address kept in a store
// should be built from the id. The backend tells an id from a name: an
// id it knows wins over a name spelled the same. On Mattermost an id is
// 26 lowercase letters and digits; no username is that long (22 at
// most), and a channel whose name looks like an id is still found by
// its name when no channel has that id. bottest and the console give
// readable ids ("u-alice", "r-ops"; see their docs).
type Address struct {
	User string // username without @
	Team string // team of Room; empty means the backend's default team
	Room string // room name without ~
}

// ParseAddress parses "@user", "~room" or "~team/room", where user and
// room may also be ids (see Address).
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) > 1 && s[0] == '@' && validName(s[1:]):
		return Address{User: s[1:]}, nil
	case len(s) > 1 && s[0] == '~':
		team, room, ok := strings.Cut(s[1:], "/")
		if !ok {
			team, room = "", team
		}
		if validName(room) && (!ok || validName(team)) {
			return Address{Team: team, Room: room}, nil
		}
	}
	return Address{}, fmt.Errorf("bot: bad address %q: want @user, ~room or ~team/room", s)
}

// validName reports whether s is a plausible handle: non-empty, no
// whitespace, no address punctuation.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '@' || r == '~' || r == '/' {
			return false
		}
	}
	return true
}

// String returns the address in the form ParseAddress accepts, or "" for
// the zero Address.
func (a Address) String() string {
	switch {
	case a.User != "":
		return "@" + a.User
	case a.Room == "":
		return ""
	case a.Team != "":
		return "~" + a.Team + "/" + a.Room
	default:
		return "~" + a.Room
	}
}
