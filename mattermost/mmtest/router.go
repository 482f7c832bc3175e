package mmtest

import "strings"

// A route is one row of the REST table. Patterns are slash-separated; a
// segment written {name} captures one path segment whose characters must
// belong to the class named by param kinds below. Routes are tried in table
// order and the first match wins, as gorilla/mux does in the real server
// (server/channels/api4/api.go registers the routes the same way).
type route struct {
	method  string
	pattern string
	// auth says whether the route needs a session; false means a bad or
	// missing token is ignored and the request runs anonymously
	// (web/handlers.go APIHandler versus APISessionRequired).
	auth    bool
	handler func(*request)
	// since is the first server version that has the route ("6.1");
	// a server claiming an older ServerVersion answers 404 for it, as
	// the real one did before the route existed. Empty: every version.
	since string

	segs []string
}

// paramClass returns the character class of a path parameter, copied from
// the regular expressions in server/channels/api4/api.go (Init), so a value
// outside the class misses the route and ends in the 404 handler, exactly as
// it does on the real server.
func paramClass(name string) func(byte) bool {
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	switch name {
	case "username":
		return func(c byte) bool { return alnum(c) || c == '_' || c == '-' || c == '.' }
	case "category", "preference_name":
		return func(c byte) bool { return alnum(c) || c == '_' }
	case "team_name", "channel_name":
		return func(c byte) bool { return alnum(c) || c == '_' || c == '-' }
	case "emoji_name":
		return func(c byte) bool { return alnum(c) || c == '_' || c == '-' || c == '+' }
	case "email":
		return func(c byte) bool { return c != '/' }
	default:
		return alnum
	}
}

// router matches request paths against the route table.
type router struct {
	routes []*route
}

func newRouter(routes []route) *router {
	rt := &router{}
	for i := range routes {
		r := routes[i]
		r.segs = strings.Split(strings.Trim(r.pattern, "/"), "/")
		rt.routes = append(rt.routes, &r)
	}
	return rt
}

// match finds the route for method and path. It returns the route and the
// captured parameters, or nil when nothing matches (including a known path
// with another method: the real server's catch-all answers 404 then too,
// see api4/api.go Handle404).
func (rt *router) match(method, path string) (*route, map[string]string) {
	path = strings.Trim(path, "/")
	var segs [12]string
	parts := segs[:0]
	for len(path) > 0 && len(parts) < len(segs) {
		i := strings.IndexByte(path, '/')
		if i < 0 {
			parts = append(parts, path)
			break
		}
		parts = append(parts, path[:i])
		path = path[i+1:]
	}
	if len(path) > 0 && len(parts) == len(segs) {
		return nil, nil
	}
next:
	for _, r := range rt.routes {
		if r.method != method || len(r.segs) != len(parts) {
			continue
		}
		for i, s := range r.segs {
			if len(s) > 1 && s[0] == '{' {
				continue
			}
			if s != parts[i] {
				continue next
			}
		}
		var params map[string]string
		for i, s := range r.segs {
			if len(s) < 2 || s[0] != '{' {
				continue
			}
			name := s[1 : len(s)-1]
			v := parts[i]
			if v == "" {
				continue next
			}
			ok := paramClass(name)
			for j := 0; j < len(v); j++ {
				if !ok(v[j]) {
					continue next
				}
			}
			if params == nil {
				params = make(map[string]string, 4)
			}
			params[name] = v
		}
		return r, params
	}
	return nil, nil
}
