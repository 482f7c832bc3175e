package bot

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
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
// first connects, so renames do not change rights; a glob ("@ops-*",
// "~team/*") is matched against the current name. A name the server does
// not know then fails closed, with an error in the log: in an allow
// list it lets no one in, in a deny list it makes the rule refuse
// everyone until the configuration is fixed (Engine.Reconfigure refuses
// it).
//
// Beside Errbot's keys, a rule knows the chat system's structure: teams
// (by name, globs allowed, without a sigil: "ops", "dev-*"), kinds of
// room (RoomChannel, RoomGroup, RoomDirect) and the user's roles there
// (RoleSystemAdmin, RoleTeamAdmin, RoleChannelAdmin, RoleGuest), which the
// backend tells (RoleChecker).
//
// The checks, in order, the first failing one refusing: AdminOnly;
// AllowUsers (when set, the user must be in it); DenyUsers (the user must
// not be in it); AllowRoles (when set, the user must have one of them)
// and DenyRoles (none of them); AllowKinds (when set, the room must be of
// one of these kinds); for a room of a team, AllowTeams (when set, the
// team must be in it) and DenyTeams; then for a message in a room
// AllowMUC, AllowRooms (when set, the room must be in it) and DenyRooms;
// for a direct message AllowPrivate.
type Rule struct {
	AdminOnly    bool     `toml:"admin_only"`
	AllowUsers   []string `toml:"allowusers"`
	DenyUsers    []string `toml:"denyusers"`
	AllowRooms   []string `toml:"allowrooms"`
	DenyRooms    []string `toml:"denyrooms"`
	AllowPrivate *bool    `toml:"allowprivate"` // nil means true
	AllowMUC     *bool    `toml:"allowmuc"`     // nil means true: commands in rooms
	AllowTeams   []string `toml:"allowteams"`
	DenyTeams    []string `toml:"denyteams"`
	AllowRoles   []string `toml:"allowroles"`
	DenyRoles    []string `toml:"denyroles"`
	AllowKinds   []string `toml:"allowkinds"`
}

// The roles a Rule names (AllowRoles, DenyRoles). An admin role covers
// those below it, as the chat system's permissions do: a system admin
// counts as a team admin and a channel admin, a team admin as a channel
// admin in the team's channels.
const (
	RoleSystemAdmin  = "system_admin"
	RoleTeamAdmin    = "team_admin"
	RoleChannelAdmin = "channel_admin"
	// RoleGuest is a guest account (Mattermost's guest accounts), to
	// keep guests out with DenyRoles.
	RoleGuest = "guest"
)

// Roles are a user's roles in a room, as a RoleChecker tells them.
type Roles struct {
	SystemAdmin, TeamAdmin, ChannelAdmin, Guest bool
}

// Has reports whether the roles include role (one of the Role
// constants), an admin role covering those below it.
func (r Roles) Has(role string) bool {
	switch role {
	case RoleSystemAdmin:
		return r.SystemAdmin
	case RoleTeamAdmin:
		return r.SystemAdmin || r.TeamAdmin
	case RoleChannelAdmin:
		return r.SystemAdmin || r.TeamAdmin || r.ChannelAdmin
	case RoleGuest:
		return r.Guest
	}
	return false
}

// String lists the roles, "system_admin team_admin", or "member".
func (r Roles) String() string {
	var out []string
	for _, n := range []struct {
		on   bool
		name string
	}{{r.SystemAdmin, RoleSystemAdmin}, {r.TeamAdmin, RoleTeamAdmin}, {r.ChannelAdmin, RoleChannelAdmin}, {r.Guest, RoleGuest}} {
		if n.on {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "member"
	}
	return strings.Join(out, " ")
}

// RoleChecker is implemented by backends that know the chat system's
// roles: the access rules that name roles (Rule.AllowRoles,
// Rule.DenyRoles) ask it, when a command is run, for the user's roles in
// the room (room.Team and room.ID tell where). A backend without it
// cannot serve such rules: New refuses them.
type RoleChecker interface {
	Roles(ctx context.Context, userID string, room Room) (Roles, error)
}

// roomKinds are the kinds a Rule may name.
var roomKinds = []string{RoomChannel, RoomGroup, RoomDirect}

// roleNames are the roles a Rule may name.
var roleNames = []string{RoleSystemAdmin, RoleTeamAdmin, RoleChannelAdmin, RoleGuest}

// usesRoles reports whether the rule needs a RoleChecker.
func (r Rule) usesRoles() bool { return len(r.AllowRoles) > 0 || len(r.DenyRoles) > 0 }

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
	for _, list := range [][]string{r.AllowTeams, r.DenyTeams} {
		for _, t := range list {
			if _, err := path.Match(strings.ToLower(t), ""); err != nil || t == "" || strings.ContainsAny(t, "@~/ ") {
				return fmt.Errorf("team %q: want a team name, such as ops, or a glob like dev-*", t)
			}
		}
	}
	for _, list := range [][]string{r.AllowRoles, r.DenyRoles} {
		for _, role := range list {
			if !slices.Contains(roleNames, role) {
				return fmt.Errorf("role %q: want one of %s", role, strings.Join(roleNames, ", "))
			}
		}
	}
	for _, k := range r.AllowKinds {
		if !slices.Contains(roomKinds, k) {
			return fmt.Errorf("kind %q: want one of %s", k, strings.Join(roomKinds, ", "))
		}
	}
	return nil
}

type compiledACL struct {
	pattern string // lower case
	rule    compiledRule
}

type compiledRule struct {
	name string // "access rule 2 (deploy*)", for Explain
	// broken says why the rule refuses everyone: a name in one of its
	// deny lists that the server did not know.
	broken                   string
	adminOnly                bool
	allowUsers, denyUsers    *nameSet
	allowRooms, denyRooms    *nameSet
	allowPrivate, allowGroup bool
	allowTeams, denyTeams    []string // lower case names and globs; nil: no check
	allowRoles, denyRoles    []string
	allowKinds               []string
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

// compileRule resolves the names of r, the rule called name, to ids. A
// name the server does not know is left out, and noted in unknown under
// the rule's name; in a deny list it also breaks the rule (see
// compiledRule.broken).
func (e *Engine) compileRule(ctx context.Context, r Rule, name string, unknown *[]string) (compiledRule, error) {
	c := compiledRule{
		name:         name,
		adminOnly:    r.AdminOnly,
		allowPrivate: r.AllowPrivate == nil || *r.AllowPrivate,
		allowGroup:   r.AllowMUC == nil || *r.AllowMUC,
		allowTeams:   lower(r.AllowTeams),
		denyTeams:    lower(r.DenyTeams),
		allowRoles:   r.AllowRoles,
		denyRoles:    r.DenyRoles,
		allowKinds:   r.AllowKinds,
	}
	for _, l := range []struct {
		key  string
		list []string
		set  **nameSet
		deny bool
	}{
		{"allowusers", r.AllowUsers, &c.allowUsers, false},
		{"denyusers", r.DenyUsers, &c.denyUsers, true},
		{"allowrooms", r.AllowRooms, &c.allowRooms, false},
		{"denyrooms", r.DenyRooms, &c.denyRooms, true},
	} {
		set, missing, err := e.nameSet(ctx, l.list)
		if err != nil {
			return c, err
		}
		*l.set = set
		for _, m := range missing {
			what := "left out: it lets no one in"
			if l.deny {
				what = "the rule refuses everyone"
				if c.broken == "" {
					c.broken = fmt.Sprintf("%s %s is unknown to the server", l.key, m)
				}
			}
			*unknown = append(*unknown, fmt.Sprintf("%s: %s %s: unknown to the server: %s", name, l.key, m, what))
		}
	}
	return c, nil
}

// nameSet resolves the literal names of list; nil for an empty list. The
// names the server does not know are left out and returned in missing.
func (e *Engine) nameSet(ctx context.Context, list []string) (s *nameSet, missing []string, err error) {
	if len(list) == 0 {
		return nil, nil, nil
	}
	s = &nameSet{ids: map[string]bool{}}
	for _, n := range list {
		if strings.ContainsAny(n, `*?[\`) {
			if _, err := path.Match(n, ""); err != nil {
				return nil, nil, fmt.Errorf("glob %q: %w", n, err)
			}
			s.globs = append(s.globs, strings.ToLower(n))
			continue
		}
		a, err := ParseAddress(n)
		if err != nil {
			return nil, nil, err
		}
		var id string
		if a.User != "" {
			var u User
			u, err = e.backend.User(ctx, a.User)
			id = u.ID
		} else {
			var r Room
			r, err = e.backend.Room(ctx, a.Team, a.Room)
			id = r.ID
		}
		switch {
		case errors.Is(err, ErrUnknown):
			missing = append(missing, n)
		case err != nil && a.User != "":
			return nil, nil, fmt.Errorf("user %s: %w", n, err)
		case err != nil:
			return nil, nil, fmt.Errorf("room %s: %w", n, err)
		default:
			s.ids[id] = true
		}
	}
	return s, missing, nil
}

// lower returns list in lower case; nil for an empty list.
func lower(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}

// matchAny reports whether name matches one of the lower-case globs.
func matchAny(globs []string, name string) bool {
	name = strings.ToLower(name)
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
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

// verdict is an access decision: refused with reason (for the user) or
// allowed (reason ""), with the rule that decided (source) and why
// (detail), for Explain.
type verdict struct {
	reason, source, detail string
}

// refuse returns why the request's user may not run c, or "".
func (e *Engine) refuse(req *Request, c *Cmd) string {
	v := e.decide(req.ctx, req.Message.From, req.Message.Room, req.Message.Direct, c)
	if v.reason != "" && v.detail != "" {
		e.log.Debug("command refused", "plugin", c.plugin.name, "command", c.name, "user_id", req.Message.From.ID,
			"rule", v.source, "why", v.detail)
	}
	return v.reason
}

// decide applies the access rules to user running c in room (a direct
// message to the bot when direct).
func (e *Engine) decide(ctx context.Context, u User, room Room, direct bool, c *Cmd) verdict {
	st := e.settings().conn
	admin := st.admins[u.ID]
	if c.admin && !admin {
		return verdict{"only bot admins may run this command", "the command itself (admin only)", u.String() + " is not a bot admin"}
	}
	r := st.rule(c.plugin.name, c.name)
	deny := func(reason, detail string) verdict { return verdict{reason, r.name, detail} }
	switch {
	case r.broken != "":
		return deny("this command is locked until a bot admin fixes its access rule", r.broken+": the rule refuses everyone")
	case r.adminOnly && !admin:
		return deny("only bot admins may run this command", "admin_only, and "+u.String()+" is not a bot admin")
	case r.allowUsers != nil && !r.allowUsers.user(u):
		return deny("you are not allowed to run this command", u.String()+" is not in allowusers")
	case r.denyUsers != nil && r.denyUsers.user(u):
		return deny("you are not allowed to run this command", u.String()+" is in denyusers")
	}
	if len(r.allowRoles) > 0 || len(r.denyRoles) > 0 {
		rc, ok := e.backend.(RoleChecker)
		if !ok {
			return deny("you are not allowed to run this command", "the backend cannot tell roles")
		}
		roles, err := rc.Roles(ctx, u.ID, room)
		if err != nil {
			e.log.Warn("roles not known: command refused", "user_id", u.ID, "room_id", room.ID, "err", err)
			return deny("your roles could not be checked; try again", "the roles of "+u.String()+" could not be read: "+err.Error())
		}
		if len(r.allowRoles) > 0 && !slices.ContainsFunc(r.allowRoles, roles.Has) {
			return deny("you are not allowed to run this command",
				fmt.Sprintf("%s has roles %s here, none of allowroles %s", u, roles, strings.Join(r.allowRoles, ", ")))
		}
		if i := slices.IndexFunc(r.denyRoles, roles.Has); i >= 0 {
			return deny("you are not allowed to run this command", fmt.Sprintf("%s is %s here, in denyroles", u, r.denyRoles[i]))
		}
	}
	kind := room.Kind
	if kind == "" {
		kind = RoomChannel
		if direct {
			kind = RoomDirect
		}
	}
	if len(r.allowKinds) > 0 && !slices.Contains(r.allowKinds, kind) {
		return deny(fmt.Sprintf("this command cannot be run in a %s", kindName(kind)),
			fmt.Sprintf("a %s is not in allowkinds %s", kindName(kind), strings.Join(r.allowKinds, ", ")))
	}
	if room.Team != "" {
		switch {
		case r.allowTeams != nil && !matchAny(r.allowTeams, room.Team):
			return deny("this command cannot be run in this team", "team "+room.Team+" is not in allowteams")
		case r.denyTeams != nil && matchAny(r.denyTeams, room.Team):
			return deny("this command cannot be run in this team", "team "+room.Team+" is in denyteams")
		}
	}
	if direct {
		if !r.allowPrivate {
			return deny("this command cannot be run in a direct message", "allowprivate is false")
		}
		return verdict{source: r.name}
	}
	switch {
	case !r.allowGroup:
		return deny("this command can only be run in a direct message", "allowmuc is false")
	case r.allowRooms != nil && !r.allowRooms.room(room):
		return deny("this command cannot be run in this room", room.String()+" is not in allowrooms")
	case r.denyRooms != nil && r.denyRooms.room(room):
		return deny("this command cannot be run in this room", room.String()+" is in denyrooms")
	}
	return verdict{source: r.name}
}

// kindName names a kind of room for people.
func kindName(kind string) string {
	switch kind {
	case RoomDirect:
		return "direct message"
	case RoomGroup:
		return "group message"
	}
	return kind
}

// Explain tells which access rule lets user run the named command
// ("deploy", "plugin list") in room (direct: a direct message with the
// bot), and why: a line for an admin, such as "`!deploy` for @bob in
// ~ops/ops: denied by access rule 2 (match deploy*): @bob is not in
// allowusers." It asks the backend for roles when the rule names some.
// It returns an error wrapping ErrUnknown for a command that does not
// exist.
func (e *Engine) Explain(ctx context.Context, command string, user User, room Room, direct bool) (string, error) {
	reg := e.registry()
	c, _ := reg.lookup(strings.TrimSpace(strings.ToLower(command)))
	if c == nil {
		for _, rc := range reg.regexes {
			if rc.name == normalizeName(command) {
				c = rc
			}
		}
	}
	if c == nil || e.settings().conn == nil {
		return "", fmt.Errorf("bot: explain: command %q: %w", command, ErrUnknown)
	}
	where := room.String()
	if direct {
		where = "a direct message"
	}
	v := e.decide(ctx, user, room, direct, c)
	head := fmt.Sprintf("`%s%s` (%s:%s) for %s in %s: ", e.options().Prefix, c.name, c.plugin.name, c.name, user, where)
	if v.reason == "" {
		return head + "allowed by " + v.source + ".", nil
	}
	return head + "denied by " + v.source + ": " + v.detail + ".", nil
}
