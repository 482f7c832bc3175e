package mattermost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// lookup fetches users, channels and teams from the server. *mm.Client
// provides it through clientLookup; tests substitute a counting fake.
type lookup interface {
	user(ctx context.Context, id string) (*mm.User, error)
	// usersByIDs returns those of the users with the given ids that exist.
	usersByIDs(ctx context.Context, ids []string) ([]*mm.User, error)
	userByName(ctx context.Context, username string) (*mm.User, error)
	channel(ctx context.Context, id string) (*mm.Channel, error)
	channelByName(ctx context.Context, teamID, name string) (*mm.Channel, error)
	team(ctx context.Context, id string) (*mm.Team, error)
	teamByName(ctx context.Context, name string) (*mm.Team, error)
}

// directory caches users, channels and teams by id and by name, so that
// the path of a message from a known sender in a known channel makes no
// REST call. Events keep it correct (see directory.apply): renames,
// archived channels, new memberships. Users are many on a big server:
// at most Options.UserCache are kept, each for Options.UserCacheTTL (see
// userCache); the bot itself is always. Channels and teams are kept, as
// much of them as the bot uses (chanInfo): the bot's channels are listed
// at connect anyway.
//
// The cached values are shared: callers must not modify them.
type directory struct {
	api  lookup
	self string // the bot's user id
	// observe, when set, is told of each user lookup: hit when the
	// cache answered it.
	observe func(hit bool)

	mu       sync.Mutex
	me       *mm.User              // the bot itself, never evicted
	users    *userCache            // the others
	channels map[string]*chanEntry // by id: the channels held, and those the bot is in
	chanIDs  map[chanKey]*chanEntry
	teams    map[string]*mm.Team // by id
	teamIDs  map[string]string   // name → id
}

// chanEntry is one channel the directory knows of: what it holds of it
// (info, when known), and whether the bot is in it. One entry and one
// copy of its id serve both: a bot in ten thousand channels held them
// in three maps.
type chanEntry struct {
	info   chanInfo // info.ID is the entry's id, known or not
	known  bool     // info holds the channel
	member bool     // the bot is in it
}

type chanKey struct{ teamID, name string }

// dirOptions size a directory's user cache; zero values mean the
// defaults.
type dirOptions struct {
	users    int           // DefaultUserCache when 0
	usersTTL time.Duration // DefaultUserCacheTTL when 0; negative: never expire
	now      func() time.Time
	observe  func(hit bool)
}

func newDirectory(api lookup, self string, o dirOptions) *directory {
	if o.users <= 0 {
		o.users = DefaultUserCache
	}
	switch {
	case o.usersTTL == 0:
		o.usersTTL = DefaultUserCacheTTL
	case o.usersTTL < 0:
		o.usersTTL = 0
	}
	if o.now == nil {
		o.now = time.Now
	}
	return &directory{
		api:      api,
		self:     self,
		observe:  o.observe,
		users:    newUserCache(o.users, o.usersTTL, o.now),
		channels: map[string]*chanEntry{},
		chanIDs:  map[chanKey]*chanEntry{},
		teams:    map[string]*mm.Team{},
		teamIDs:  map[string]string{},
	}
}

// user returns the user with the given id. A user cached but older than
// the cache's expiry is asked again; if the server cannot say, the
// cached one is returned.
func (d *directory) user(ctx context.Context, id string) (*mm.User, error) {
	d.mu.Lock()
	u, fresh := d.lookupUser(id)
	d.mu.Unlock()
	d.observed(fresh)
	if fresh {
		return u, nil
	}
	got, err := d.api.user(ctx, id)
	if err != nil {
		if u != nil && ctx.Err() == nil && !errors.Is(err, mm.ErrNotFound) {
			return u, nil
		}
		return nil, err
	}
	return d.putUser(got), nil
}

// lookupUser returns the cached user with the given id and whether it is
// fresh. d.mu held.
func (d *directory) lookupUser(id string) (*mm.User, bool) {
	if d.me != nil && id == d.me.ID {
		return d.me, true
	}
	return d.users.get(id)
}

func (d *directory) observed(hit bool) {
	if d.observe != nil {
		d.observe(hit)
	}
}

// userByName returns the user with the given username (any case, no @).
func (d *directory) userByName(ctx context.Context, username string) (*mm.User, error) {
	username = strings.ToLower(username)
	d.mu.Lock()
	var (
		u     *mm.User
		fresh bool
	)
	if d.me != nil && strings.ToLower(d.me.Username) == username {
		u, fresh = d.me, true
	} else {
		u, fresh = d.users.getByName(username)
	}
	d.mu.Unlock()
	d.observed(fresh)
	if fresh {
		return u, nil
	}
	got, err := d.api.userByName(ctx, username)
	if err != nil {
		if u != nil && ctx.Err() == nil && !errors.Is(err, mm.ErrNotFound) {
			return u, nil
		}
		return nil, err
	}
	return d.putUser(got), nil
}

// cachedUser returns the user with the given id if it is cached, fresh
// or not.
func (d *directory) cachedUser(id string) *mm.User {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, _ := d.lookupUser(id)
	return u
}

// knowsUser reports whether the user with the given id is cached and
// fresh: user would answer without asking the server.
func (d *directory) knowsUser(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return (d.me != nil && id == d.me.ID) || d.users.isFresh(id)
}

// putUser stores u, forgetting the name it had before if it changed, and
// returns what the directory keeps of it (see person). The bot itself
// is kept whole.
func (d *directory) putUser(u *mm.User) *mm.User {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u.ID == d.self {
		d.me = u
		return u
	}
	d.users.put(u)
	got, _ := d.users.get(u.ID)
	return got
}

// updateUser stores u if it is the bot or a user the directory holds: a
// user_updated event about someone the bot never met does not fill the
// cache.
func (d *directory) updateUser(u *mm.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u.ID == d.self {
		d.me = u
		return
	}
	d.users.update(u)
}

// channel returns the channel with the given id.
func (d *directory) channel(ctx context.Context, id string) (*mm.Channel, error) {
	if ch := d.cachedChannel(id); ch != nil {
		return ch, nil
	}
	ch, err := d.api.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.putChannel(ch), nil
}

// channelByName returns the channel called name in the team.
func (d *directory) channelByName(ctx context.Context, teamID, name string) (*mm.Channel, error) {
	name = strings.ToLower(name)
	d.mu.Lock()
	var ch *mm.Channel
	if e := d.chanIDs[chanKey{teamID, name}]; e != nil {
		ch = e.info.channel()
	}
	d.mu.Unlock()
	if ch != nil {
		return ch, nil
	}
	ch, err := d.api.channelByName(ctx, teamID, name)
	if err != nil {
		return nil, err
	}
	return d.putChannel(ch), nil
}

// putChannel stores what the bot uses of ch (chanInfo), forgetting the
// name it had before if it changed, and returns it.
func (d *directory) putChannel(ch *mm.Channel) *mm.Channel {
	ci := chanInfoOf(ch)
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.teams[ci.TeamID]; t != nil {
		ci.TeamID = t.ID // one copy of a team's id for all its channels
	}
	e := d.channels[ci.ID]
	switch {
	case e == nil:
		ci.ID = strings.Clone(ci.ID) // the key's copy, see join
		e = &chanEntry{}
		d.channels[ci.ID] = e
	case e.known:
		if old := e.info; old.Name != ci.Name || old.TeamID != ci.TeamID {
			delete(d.chanIDs, chanKey{old.TeamID, old.Name})
		}
		fallthrough
	default:
		ci.ID = e.info.ID
	}
	e.info, e.known = ci, true
	d.chanIDs[chanKey{ci.TeamID, ci.Name}] = e
	return ci.channel()
}

// chanInfo is what the directory keeps of a channel: its id, team,
// type, names and whether it is archived. The header, purpose and props
// are most of a channel's size, and a bot in ten thousand channels holds
// them all.
type chanInfo struct {
	ID, TeamID, Type, Name, DisplayName string
	DeleteAt                            int64
}

func chanInfoOf(ch *mm.Channel) chanInfo {
	typ := ch.Type
	switch typ { // one copy of each type for all channels
	case mm.ChannelOpen:
		typ = mm.ChannelOpen
	case mm.ChannelPrivate:
		typ = mm.ChannelPrivate
	case mm.ChannelDirect:
		typ = mm.ChannelDirect
	case mm.ChannelGroup:
		typ = mm.ChannelGroup
	}
	return chanInfo{ID: ch.ID, TeamID: ch.TeamID, Type: typ, Name: ch.Name, DisplayName: ch.DisplayName, DeleteAt: ch.DeleteAt}
}

// channel returns ci as an mm.Channel, new: the caller may keep it.
func (ci chanInfo) channel() *mm.Channel {
	return &mm.Channel{ID: ci.ID, TeamID: ci.TeamID, Type: ci.Type, Name: ci.Name, DisplayName: ci.DisplayName, DeleteAt: ci.DeleteAt}
}

// cachedChannel returns the channel with the given id if it is cached.
func (d *directory) cachedChannel(id string) *mm.Channel {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.channels[id]; e != nil && e.known {
		return e.info.channel()
	}
	return nil
}

// team returns the team with the given id.
func (d *directory) team(ctx context.Context, id string) (*mm.Team, error) {
	d.mu.Lock()
	t := d.teams[id]
	d.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := d.api.team(ctx, id)
	if err != nil {
		return nil, err
	}
	d.putTeam(t)
	return t, nil
}

// teamByName returns the team with the given name.
func (d *directory) teamByName(ctx context.Context, name string) (*mm.Team, error) {
	name = strings.ToLower(name)
	d.mu.Lock()
	t := d.teams[d.teamIDs[name]]
	d.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := d.api.teamByName(ctx, name)
	if err != nil {
		return nil, err
	}
	d.putTeam(t)
	return t, nil
}

// putTeam stores t, forgetting the name it had before if it changed.
func (d *directory) putTeam(t *mm.Team) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.teams[t.ID]; old != nil && old.Name != t.Name {
		delete(d.teamIDs, old.Name)
	}
	d.teams[t.ID] = t
	d.teamIDs[strings.ToLower(t.Name)] = t.ID
}

// channelRef returns the channel a reference names and its team: ref is
// "team/name" or a channel id. A direct or group channel, which has no
// team (and no ~name), is an error.
func (d *directory) channelRef(ctx context.Context, ref string) (*mm.Channel, *mm.Team, error) {
	if teamName, name, ok := strings.Cut(ref, "/"); ok {
		return d.teamChannel(ctx, teamName, name)
	}
	ch, err := d.channel(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if ch.TeamID == "" {
		return nil, nil, fmt.Errorf("channel %s is in no team", ref)
	}
	t, err := d.team(ctx, ch.TeamID)
	if err != nil {
		return nil, nil, err
	}
	return ch, t, nil
}

// teamChannel returns the channel called name in the team called
// teamName, and that team.
func (d *directory) teamChannel(ctx context.Context, teamName, name string) (*mm.Channel, *mm.Team, error) {
	t, err := d.teamByName(ctx, teamName)
	if err != nil {
		return nil, nil, err
	}
	ch, err := d.channelByName(ctx, t.ID, name)
	if err != nil {
		return nil, nil, err
	}
	return ch, t, nil
}

// apply updates the directory from an event that changes what it holds.
// It never calls the server: what an event does not say is fetched when
// next needed.
func (d *directory) apply(ev *mm.Event) {
	switch p := ev.Payload.(type) {
	case *mm.UserUpdatedEvent:
		// The server sanitizes the user it broadcasts (no e-mail, say);
		// what the bot uses (username, names, is_bot) is always there.
		d.updateUser(p.User)
	case *mm.ChannelUpdatedEvent:
		d.putChannel(p.Channel)
	case *mm.ChannelDeletedEvent:
		d.mu.Lock()
		if e := d.channels[p.ChannelID]; e != nil && e.known {
			e.info.DeleteAt = p.DeleteAt
		}
		d.mu.Unlock()
	case *mm.PostedEvent:
		// Only members get a channel's posts.
		d.join(p.Post.ChannelID)
	case *mm.UserAddedEvent:
		if p.UserID == d.self {
			d.join(p.ChannelID)
		}
	case *mm.UserRemovedEvent:
		// The removed user's own event has no user id.
		if p.UserID == d.self || p.UserID == "" {
			d.leave(p.ChannelID)
		}
	case *mm.DirectAddedEvent:
		d.join(p.ChannelID)
	case *mm.GroupAddedEvent:
		d.join(p.ChannelID)
	}
}

// join records that the bot is in a channel.
func (d *directory) join(channelID string) {
	if channelID == "" {
		return
	}
	d.mu.Lock()
	d.entry(channelID).member = true
	d.mu.Unlock()
}

// entry returns the entry of a channel, made on first use. d.mu held.
func (d *directory) entry(channelID string) *chanEntry {
	e := d.channels[channelID]
	if e == nil {
		// A copy: the id of a decoded post shares one allocation with
		// all the post's text.
		channelID = strings.Clone(channelID)
		e = &chanEntry{info: chanInfo{ID: channelID}}
		d.channels[channelID] = e
	}
	return e
}

// channelID returns the directory's copy of a channel's id, made on first
// use, for those that keep it (the catch-up positions): one copy per
// channel for all.
func (d *directory) channelID(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.entry(id).info.ID
}

// leave records that the bot left a channel.
func (d *directory) leave(channelID string) {
	d.mu.Lock()
	if e := d.channels[channelID]; e != nil {
		e.member = false
		if !e.known {
			delete(d.channels, channelID)
		}
	}
	d.mu.Unlock()
}

// myChannels returns the ids of the channels the bot is in, as far as
// the events and the channels loaded at connect tell.
func (d *directory) myChannels() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id, e := range d.channels {
		if e.member {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
