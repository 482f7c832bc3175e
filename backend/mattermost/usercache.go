package mattermost

import (
	"strings"
	"time"

	mm "github.com/matterbot/matterbot/mattermost"
)

// Defaults of Options.UserCache and Options.UserCacheTTL. 5,000 people
// are about 1.2 MB, and more than most bots meet in the hour an entry is
// trusted; past them, a sender costs a lookup made in the background,
// up to 100 senders a request (POST /users/ids), and the presence poll
// asks about every user held, 500 a request. At 10,000 the cache was a
// quarter of the live heap of a bot in 10,000 channels, doubled by the
// collector's headroom.
const (
	DefaultUserCache    = 5000
	DefaultUserCacheTTL = time.Hour
)

// CacheUsers is the cache name Observer.ObserveCache reports the user
// cache under.
const CacheUsers = "users"

// userCache holds the users the directory has met: at most size, the
// least recently used forgotten first, each good for ttl after the server
// last described it (a lookup, or a user_updated event). It is not safe
// for concurrent use: the directory's mutex guards it.
//
// A company's server may hold tens of thousands of people, and a bot
// that answers them all met every one: without a bound the cache grew by
// about 2 KiB of resident memory per person met, forever. An entry keeps
// only what the bot uses of a user (person): about 240 bytes with its
// share of the maps, for a user with short names.
type userCache struct {
	size int
	ttl  time.Duration // 0: entries never expire
	now  func() time.Time
	base time.Time // entries' times are counted from it (userEntry.at)

	byID   map[string]*userEntry
	byName map[string]*userEntry // lowercase username → entry
	// The entries from the most recently used (head) to the least
	// (tail).
	head, tail *userEntry
}

type userEntry struct {
	u          person
	at         time.Duration // when the server last described u, from the cache's base
	prev, next *userEntry
}

// person is what the directory keeps of a user: what the bot uses (its
// id, names, roles, whether it is a bot or deactivated). A whole mm.User
// is three times the size, before its settings (notify props, time
// zone), which are most of it. The six strings are kept end to end in
// one: one allocation rather than six, and 48 bytes of struct rather
// than 112.
type person struct {
	s        string    // id, username, first name, last name, nickname, roles
	ends     [5]uint32 // where each of the first five ends in s
	deleteAt int64
	isBot    bool
}

func personOf(u *mm.User) person {
	p := person{deleteAt: u.DeleteAt, isBot: u.IsBot}
	fields := [...]string{u.ID, u.Username, u.FirstName, u.LastName, u.Nickname, u.Roles}
	var b strings.Builder
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	b.Grow(n)
	for i, f := range fields {
		b.WriteString(f)
		if i < len(p.ends) {
			p.ends[i] = uint32(b.Len())
		}
	}
	p.s = b.String()
	return p
}

// field returns the i-th string of p (see person.s).
func (p *person) field(i int) string {
	start, end := uint32(0), uint32(len(p.s))
	if i > 0 {
		start = p.ends[i-1]
	}
	if i < len(p.ends) {
		end = p.ends[i]
	}
	return p.s[start:end]
}

func (p *person) id() string       { return p.field(0) }
func (p *person) username() string { return p.field(1) }

// user returns p as an mm.User, new: the caller may keep it.
func (p *person) user() *mm.User {
	return &mm.User{ID: p.field(0), Username: p.field(1), FirstName: p.field(2), LastName: p.field(3),
		Nickname: p.field(4), Roles: p.field(5), DeleteAt: p.deleteAt, IsBot: p.isBot}
}

func newUserCache(size int, ttl time.Duration, now func() time.Time) *userCache {
	return &userCache{size: max(size, 1), ttl: ttl, now: now, base: now(),
		byID: map[string]*userEntry{}, byName: map[string]*userEntry{}}
}

// since returns now as a time from the cache's base (see userEntry.at):
// 8 bytes an entry rather than a time.Time's 24, on the monotonic clock.
func (c *userCache) since() time.Duration { return c.now().Sub(c.base) }

// get returns the user with the given id, marking it used, and whether
// it is fresh (not older than ttl). A stale user is still returned, for
// when the server cannot be asked.
func (c *userCache) get(id string) (u *mm.User, fresh bool) {
	e := c.byID[id]
	if e == nil {
		return nil, false
	}
	c.touch(e)
	return e.u.user(), c.fresh(e)
}

// getByName is get by lowercase username.
func (c *userCache) getByName(name string) (u *mm.User, fresh bool) {
	e := c.byName[name]
	if e == nil {
		return nil, false
	}
	c.touch(e)
	return e.u.user(), c.fresh(e)
}

// isFresh reports whether the user with the given id is cached and not
// older than ttl, without marking it used.
func (c *userCache) isFresh(id string) bool {
	e := c.byID[id]
	return e != nil && c.fresh(e)
}

func (c *userCache) fresh(e *userEntry) bool {
	return c.ttl <= 0 || c.since()-e.at < c.ttl
}

// put stores what the bot uses of u (person) as fresh and most recently used, forgetting
// the name it had before if it changed, and the least recently used
// users beyond size. It reports how many were forgotten.
func (c *userCache) put(mu *mm.User) (evicted int) {
	u := personOf(mu)
	name := strings.ToLower(u.username())
	if e := c.byID[mu.ID]; e != nil {
		if old := strings.ToLower(e.u.username()); old != name && c.byName[old] == e {
			delete(c.byName, old)
		}
		e.u, e.at = u, c.since()
		// The keys are the entry's own strings: re-keyed, so that the
		// old person's string can go.
		delete(c.byID, mu.ID)
		c.byID[u.id()] = e
		delete(c.byName, name)
		c.byName[name] = e
		c.touch(e)
		return 0
	}
	e := &userEntry{u: u, at: c.since()}
	c.byID[e.u.id()] = e
	c.byName[name] = e
	c.pushFront(e)
	for len(c.byID) > c.size {
		c.remove(c.tail)
		evicted++
	}
	return evicted
}

// update stores u if its id is cached: an event about a user the bot
// has not met does not fill the cache.
func (c *userCache) update(u *mm.User) {
	if c.byID[u.ID] != nil {
		c.put(u)
	}
}

// len returns the number of users cached.
func (c *userCache) len() int { return len(c.byID) }

// ids returns the ids of the cached users, most recently used first.
func (c *userCache) ids() []string {
	ids := make([]string, 0, len(c.byID))
	for e := c.head; e != nil; e = e.next {
		ids = append(ids, e.u.id())
	}
	return ids
}

func (c *userCache) remove(e *userEntry) {
	c.unlink(e)
	delete(c.byID, e.u.id())
	if name := strings.ToLower(e.u.username()); c.byName[name] == e {
		delete(c.byName, name)
	}
}

func (c *userCache) touch(e *userEntry) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *userCache) pushFront(e *userEntry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *userCache) unlink(e *userEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
