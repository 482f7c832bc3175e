package bottest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/matterbot/matterbot/bot"
)

// DefaultTeam is the team of the rooms a Backend starts with.
const DefaultTeam = "test"

// Backend is an in-memory bot.Backend: users and rooms live in maps,
// sent messages are recorded, events are injected by the test. It is what
// Bot runs on; use it directly to drive a bot.Engine yourself (to test
// how Run fails, or to benchmark the engine).
//
// A new Backend knows the users alice, bob, carol, dave and eve, the bot
// "ops-bot", and the rooms ~town-square and ~ops in team "test", which
// they are all members of. It implements bot.RoomManager; RoomState
// shows what plugins did to a room.
// Unknown users named in Bot.SayAs are created on first use.
type Backend struct {
	self bot.User

	mu    sync.Mutex
	users map[string]bot.User // guarded by mu: by username
	rooms map[string]bot.Room // guarded by mu: by "team/name"
	// roomStates holds what bot.RoomManager changes, by room id; every
	// room in rooms has one. Guarded by mu.
	roomStates map[string]*roomState
	files      map[string][]byte // guarded by mu: by file id
	sent       []Reply           // guarded by mu
	typing     int               // guarded by mu
	handler    bot.Handler       // guarded by mu: set once connected
	ready      chan struct{}     // closed once connected

	dialogs []*bot.Dialog        // guarded by mu: opened, not yet taken (Dialogs)
	roles   map[string]bot.Roles // guarded by mu: by user id, for bot.RoleChecker (SetRoles)
}

// NewBackend returns a Backend with the default users and rooms.
func NewBackend() *Backend {
	b := &Backend{
		self:       bot.User{ID: "u-ops-bot", Username: "ops-bot", FullName: "Ops Bot", Bot: true},
		users:      map[string]bot.User{},
		rooms:      map[string]bot.Room{},
		roomStates: map[string]*roomState{},
		files:      map[string][]byte{},
		ready:      make(chan struct{}),
	}
	for _, n := range []string{"alice", "bob", "carol", "dave", "eve"} {
		b.AddUser(bot.User{ID: "u-" + n, Username: n, FullName: strings.ToUpper(n[:1]) + n[1:]})
	}
	b.AddUser(b.self)
	b.AddRoom(bot.Room{ID: "r-town-square", Name: "town-square", Team: DefaultTeam})
	b.AddRoom(bot.Room{ID: "r-ops", Name: "ops", Team: DefaultTeam})
	for _, s := range b.roomStates {
		for _, u := range b.users {
			s.members[u.ID] = true
		}
	}
	return b
}

// Self returns the bot's identity.
func (b *Backend) Self() bot.User { return b.self }

// AddUser adds or replaces a user (keyed by username). A user with the
// (non-empty) ID of a known user replaces it: that is how a test renames
// a user, after which "@" + its ID still resolves (bot.Address) and the
// old name does not.
func (b *Backend) AddUser(u bot.User) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.userByID(u.ID); ok && u.ID != "" {
		delete(b.users, old.Username)
	}
	b.users[u.Username] = u
}

// RemoveUser forgets a username.
func (b *Backend) RemoveUser(username string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.users, username)
}

// AddRoom adds or replaces a room. An empty Team means DefaultTeam. A
// new room has no members (see AddMember); a replaced one keeps its
// members, topic and purpose. A room with the (non-empty) ID of a known
// room replaces it: that is how a test renames a room, after which "~" +
// its ID still resolves (bot.Address) and the old name does not.
func (b *Backend) AddRoom(r bot.Room) {
	if r.Team == "" {
		r.Team = DefaultTeam
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, old := range b.rooms {
		if old.ID == r.ID && r.ID != "" {
			delete(b.rooms, k)
		}
	}
	b.addRoom(r)
}

// addRoom adds r. b.mu is held.
func (b *Backend) addRoom(r bot.Room) {
	b.rooms[r.Team+"/"+r.Name] = r
	if _, ok := b.roomStates[r.ID]; !ok {
		b.roomStates[r.ID] = &roomState{members: map[string]bool{}}
	}
}

// AddFile stores content under a file id, for bot.Request.OpenFile.
func (b *Backend) AddFile(id string, content []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[id] = bytes.Clone(content)
}

// Run implements bot.Backend: it connects at once and waits for ctx.
func (b *Backend) Run(ctx context.Context, h bot.Handler) error {
	if err := h.HandleConnect(ctx, b.self); err != nil {
		return err
	}
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	close(b.ready)
	<-ctx.Done()
	return nil
}

// Ready returns a channel closed once the engine has connected.
func (b *Backend) Ready() <-chan struct{} { return b.ready }

// Handler returns the engine the backend delivers to, once Ready.
func (b *Backend) Handler() bot.Handler {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handler
}

// Send implements bot.Backend by recording out. A file's body is read
// into Reply.File.Data.
func (b *Backend) Send(ctx context.Context, out *bot.Outgoing) error {
	if (out.RoomID == "") == (out.UserID == "") {
		return fmt.Errorf("bottest: send: want exactly one of RoomID and UserID, got %q and %q", out.RoomID, out.UserID)
	}
	if out.Text == "" && out.Card == nil && out.File == nil {
		return errors.New("bottest: send: empty message")
	}
	r := Reply{RoomID: out.RoomID, ThreadID: out.ThreadID, Text: out.Text}
	if out.Card != nil {
		c := *out.Card
		r.Card = &c
	}
	if out.File != nil {
		data, err := io.ReadAll(out.File.Body)
		if err != nil {
			return fmt.Errorf("bottest: send: read file %q: %w", out.File.Name, err)
		}
		r.File = &File{Name: out.File.Name, ContentType: out.File.ContentType, Data: data}
	}
	b.record(out, r)
	return nil
}

func (b *Backend) record(out *bot.Outgoing, r Reply) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if out != nil && out.UserID != "" {
		r.RoomID = "dm-" + out.UserID
	}
	if id, ok := strings.CutPrefix(r.RoomID, "dm-"); ok {
		r.Direct = true
		if u, ok := b.userByID(id); ok {
			r.To = "@" + u.Username
		}
	} else {
		for _, room := range b.rooms {
			if room.ID == r.RoomID {
				r.To = room.String()
			}
		}
	}
	b.sent = append(b.sent, r)
}

// React implements bot.Backend by recording the reaction.
func (b *Backend) React(ctx context.Context, messageID, emoji string) error {
	if messageID == "" || emoji == "" {
		return fmt.Errorf("bottest: react: empty message id %q or emoji %q", messageID, emoji)
	}
	b.record(nil, Reply{MessageID: messageID, Reaction: emoji})
	return nil
}

// Unreact implements bot.Unreacter by recording the removal: a Reply
// with Reaction set and Unreact true.
func (b *Backend) Unreact(ctx context.Context, messageID, emoji string) error {
	if messageID == "" || emoji == "" {
		return fmt.Errorf("bottest: unreact: empty message id %q or emoji %q", messageID, emoji)
	}
	b.record(nil, Reply{MessageID: messageID, Reaction: emoji, Unreact: true})
	return nil
}

// SendEphemeral implements bot.EphemeralSender by recording the message
// with Reply.EphemeralTo set.
func (b *Backend) SendEphemeral(ctx context.Context, userID string, out *bot.Outgoing) error {
	r := Reply{RoomID: out.RoomID, ThreadID: out.ThreadID, Text: out.Text, EphemeralTo: userID}
	b.record(out, r)
	return nil
}

// Typing implements bot.Typer by counting calls.
func (b *Backend) Typing(ctx context.Context, roomID, threadID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.typing++
	return nil
}

// OpenFile implements bot.FileOpener for files added with AddFile.
func (b *Backend) OpenFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.files[fileID]
	if !ok {
		return nil, fmt.Errorf("bottest: file %q: %w", fileID, bot.ErrUnknown)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// User implements bot.Backend: username is a user's ID ("u-alice"),
// or else a username.
func (b *Backend) User(ctx context.Context, username string) (bot.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if u, ok := b.userByID(username); ok {
		return u, nil
	}
	u, ok := b.users[strings.ToLower(username)]
	if !ok {
		return bot.User{}, fmt.Errorf("bottest: user @%s: %w", username, bot.ErrUnknown)
	}
	return u, nil
}

// Room implements bot.Backend. With an empty team, name is a room's ID
// ("r-ops", or "dm-u-alice" for the direct messages with alice, as in
// Bot.DM's messages), or else a name in DefaultTeam.
func (b *Backend) Room(ctx context.Context, team, name string) (bot.Room, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if team == "" {
		if r, ok := b.roomByID(name); ok {
			return r, nil
		}
		team = DefaultTeam
	}
	r, ok := b.rooms[team+"/"+strings.ToLower(name)]
	if !ok {
		return bot.Room{}, fmt.Errorf("bottest: room ~%s/%s: %w", team, name, bot.ErrUnknown)
	}
	return r, nil
}

// roomByID returns the room with the given id, a direct-message room
// ("dm-" + a user's ID) included. b.mu is held.
func (b *Backend) roomByID(id string) (bot.Room, bool) {
	for _, r := range b.rooms {
		if r.ID == id {
			return r, true
		}
	}
	if uid, ok := strings.CutPrefix(id, "dm-"); ok {
		if u, ok := b.userByID(uid); ok {
			return bot.Room{ID: id, Name: "dm-" + u.Username}, true
		}
	}
	return bot.Room{}, false
}

// Sent returns and forgets everything sent so far.
func (b *Backend) Sent() []Reply {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sent
	b.sent = nil
	return s
}

// TypingCount returns how often the typing indicator was shown.
func (b *Backend) TypingCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.typing
}
