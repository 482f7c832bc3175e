package bot

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// ACL is an access rule for the commands whose name matches Pattern.
//
// Pattern is "plugin:command" or "command" (meaning "*:command"), each
// part a glob in the syntax of path.Match, compared without regard to
// case: "deploy:*" covers a whole plugin, "*:deploy rollback" one command
// wherever it comes from, "*" everything. The first ACL in
// Options.ACLs that matches decides; with none, Options.DefaultACL does.
// Listeners are checked as the command "listen".
type ACL struct {
	Pattern string
	Rule
}

// Rule says who may run a command, with Errbot's semantics.
//
// Users are written "@username", rooms "~room" or "~team/room". A name
// without glob characters is resolved to its stable id when the backend
// first connects (an unknown name is a startup error), so renames do not
// change rights; a glob ("@ops-*", "~team/*") is matched against the
// current name.
//
// The checks, in order, the first failing one refusing: AdminOnly;
// AllowUsers (when set, the user must be in it); DenyUsers (the user must
// not be in it); then for a message in a room AllowMUC, AllowRooms (when
// set, the room must be in it) and DenyRooms; for a direct message
// AllowPrivate.
type Rule struct {
	AdminOnly    bool     `toml:"admin_only"`
	AllowUsers   []string `toml:"allowusers"`
	DenyUsers    []string `toml:"denyusers"`
	AllowRooms   []string `toml:"allowrooms"`
	DenyRooms    []string `toml:"denyrooms"`
	AllowPrivate *bool    `toml:"allowprivate"` // nil means true
	AllowMUC     *bool    `toml:"allowmuc"`     // nil means true: commands in rooms
}

// check validates the syntax of the rule's names.
func (r Rule) check() error {
	for _, list := range [][]string{r.AllowUsers, r.DenyUsers} {
		for _, u := range list {
			if !strings.HasPrefix(u, "@") || len(u) < 2 {
				return fmt.Errorf("user %q: want @username or a glob like @ops-*", u)
			}
		}
	}
	for _, list := range [][]string{r.AllowRooms, r.DenyRooms} {
		for _, room := range list {
			if !strings.HasPrefix(room, "~") || len(room) < 2 {
				return fmt.Errorf("room %q: want ~room, ~team/room or a glob like ~team/*", room)
			}
		}
	}
	return nil
}

type compiledACL struct {
	pattern string // lower case
	rule    compiledRule
}

type compiledRule struct {
	adminOnly                bool
	allowUsers, denyUsers    *nameSet
	allowRooms, denyRooms    *nameSet
	allowPrivate, allowGroup bool
}

// nameSet is a list of resolved ids and globs.
type nameSet struct {
	ids   map[string]bool
	globs []string // lower case, with their @ or ~
}

func (s *nameSet) user(u User) bool {
	if s.ids[u.ID] {
		return true
	}
	name := "@" + strings.ToLower(u.Username)
	for _, g := range s.globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (s *nameSet) room(r Room) bool {
	if s.ids[r.ID] {
		return true
	}
	short := "~" + strings.ToLower(r.Name)
	long := "~" + strings.ToLower(r.Team) + "/" + strings.ToLower(r.Name)
	for _, g := range s.globs {
		if ok, _ := path.Match(g, short); ok {
			return true
		}
		if ok, _ := path.Match(g, long); ok {
			return true
		}
	}
	return false
}

func (e *Engine) compileRule(ctx context.Context, r Rule) (compiledRule, error) {
	c := compiledRule{
		adminOnly:    r.AdminOnly,
		allowPrivate: r.AllowPrivate == nil || *r.AllowPrivate,
		allowGroup:   r.AllowMUC == nil || *r.AllowMUC,
	}
	var err error
	if c.allowUsers, err = e.nameSet(ctx, r.AllowUsers); err != nil {
		return c, err
	}
	if c.denyUsers, err = e.nameSet(ctx, r.DenyUsers); err != nil {
		return c, err
	}
	if c.allowRooms, err = e.nameSet(ctx, r.AllowRooms); err != nil {
		return c, err
	}
	if c.denyRooms, err = e.nameSet(ctx, r.DenyRooms); err != nil {
		return c, err
	}
	return c, nil
}

// nameSet resolves the literal names of list; nil for an empty list.
func (e *Engine) nameSet(ctx context.Context, list []string) (*nameSet, error) {
	if len(list) == 0 {
		return nil, nil
	}
	s := &nameSet{ids: map[string]bool{}}
	for _, n := range list {
		if strings.ContainsAny(n, `*?[\`) {
			if _, err := path.Match(n, ""); err != nil {
				return nil, fmt.Errorf("glob %q: %w", n, err)
			}
			s.globs = append(s.globs, strings.ToLower(n))
			continue
		}
		a, err := ParseAddress(n)
		if err != nil {
			return nil, err
		}
		if a.User != "" {
			u, err := e.backend.User(ctx, a.User)
			if err != nil {
				return nil, fmt.Errorf("user %s: %w", n, err)
			}
			s.ids[u.ID] = true
			continue
		}
		r, err := e.backend.Room(ctx, a.Team, a.Room)
		if err != nil {
			return nil, fmt.Errorf("room %s: %w", n, err)
		}
		s.ids[r.ID] = true
	}
	return s, nil
}

// rule returns the rule for a command of a plugin.
func (st *connState) rule(plugin, cmd string) *compiledRule {
	if len(st.acls) > 0 {
		full := strings.ToLower(plugin + ":" + cmd)
		for i := range st.acls {
			p := st.acls[i].pattern
			if !strings.Contains(p, ":") {
				p = "*:" + p
			}
			if ok, _ := path.Match(p, full); ok {
				return &st.acls[i].rule
			}
		}
	}
	return &st.defACL
}

// refuse returns why the request's user may not run c, or "".
func (e *Engine) refuse(req *Request, c *Cmd) string {
	st := e.settings().conn
	m := req.Message
	admin := st.admins[m.From.ID]
	if c.admin && !admin {
		return "only bot admins may run this command"
	}
	r := st.rule(c.plugin.name, c.name)
	switch {
	case r.adminOnly && !admin:
		return "only bot admins may run this command"
	case r.allowUsers != nil && !r.allowUsers.user(m.From):
		return "you are not allowed to run this command"
	case r.denyUsers != nil && r.denyUsers.user(m.From):
		return "you are not allowed to run this command"
	}
	if m.Direct {
		if !r.allowPrivate {
			return "this command cannot be run in a direct message"
		}
		return ""
	}
	switch {
	case !r.allowGroup:
		return "this command can only be run in a direct message"
	case r.allowRooms != nil && !r.allowRooms.room(m.Room):
		return "this command cannot be run in this room"
	case r.denyRooms != nil && r.denyRooms.room(m.Room):
		return "this command cannot be run in this room"
	}
	return ""
}
