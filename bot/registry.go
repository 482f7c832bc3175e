package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// registry is what the engine routes by: the registered plugins and what
// they declared. It is built whole and never modified: Register and
// Unregister build a new one and swap it in, so that a message is
// routed against one consistent set from start to end.
type registry struct {
	plugins   []*Plugin
	byName    map[string]*Plugin
	cmds      map[string]*Cmd // by normalized name and alias
	maxWords  int             // words in the longest command name
	regexes   []*Cmd          // regex commands, in declaration order
	listeners []*Cmd
	reactions []*Cmd // reaction triggers (Plugin.Reaction)
	hooks     []Hook
	mux       *http.ServeMux // the plugins' webhooks
}

// registry returns the registry in force.
func (e *Engine) registry() *registry { return e.routes.Load() }

// newRegistry builds the registry of plugins, in that order. It fails
// when two declare the same command name or alias, or webhook patterns
// that conflict.
func newRegistry(plugins []*Plugin) (*registry, error) {
	r := &registry{byName: map[string]*Plugin{}, cmds: map[string]*Cmd{}, mux: http.NewServeMux()}
	for _, p := range plugins {
		r.plugins = append(r.plugins, p)
		r.byName[p.name] = p
		for _, h := range p.hooks {
			if err := safely(func() error { r.mux.Handle(h.Pattern, h.Handler); return nil }); err != nil {
				return nil, fmt.Errorf("bot: plugin %s: webhook %q: %s", p.name, h.Pattern, strings.TrimPrefix(err.Error(), "panic: "))
			}
			r.hooks = append(r.hooks, h)
		}
		if p.bare {
			continue // listed, never routed to
		}
		for _, c := range p.cmds {
			switch {
			case c.emoji != "":
				r.reactions = append(r.reactions, c)
				continue
			case c.listener:
				r.listeners = append(r.listeners, c)
				continue
			case c.re != nil:
				r.regexes = append(r.regexes, c)
			default:
				for _, n := range append([]string{c.name}, c.aliases...) {
					if prev := r.cmds[n]; prev != nil {
						return nil, fmt.Errorf("bot: plugin %s: command %q already declared by plugin %s", p.name, n, prev.plugin.name)
					}
					r.cmds[n] = c
					r.maxWords = max(r.maxWords, strings.Count(n, " ")+1)
				}
			}
		}
	}
	return r, nil
}

// Register adds the plugin v to the engine at run time, or replaces the
// registered plugin of the same name: what a plugin host that loads
// plugins from files (package execplugin) calls to load and reload
// them. v's Setup runs as it does in New, and what it declares is
// checked against the other plugins (a command name or webhook already
// taken is an error).
//
// A new plugin is activated when Run has activated the plugins (before
// that, Run activates it), unless Options.Inactive lists it; a
// replacement is activated when the plugin it replaces is active. The
// new plugin is activated first, and only then put in place of the old
// one, which is then deactivated (its running handlers finish): when
// Setup, the checks or the activation fail, Register returns the error
// and the old plugin goes on as before. A replacement whose required
// configuration is missing is such a failure (a *MissingConfigError); a
// new plugin whose configuration is missing is registered, inactive, as
// New does, and its error is returned.
//
// Register and Unregister are serialized with each other and with
// Reconfigure. Register fails once Run has begun to stop.
func (e *Engine) Register(ctx context.Context, v Setuper) error {
	e.reconf.Lock()
	defer e.reconf.Unlock()
	if e.stopped {
		return errors.New("bot: register: the engine is stopping")
	}
	p, err := e.setup(v)
	if err != nil {
		return err
	}
	cur := e.registry()
	old := cur.byName[p.name]
	plugins := slices.Clone(cur.plugins)
	if i := slices.Index(plugins, old); old != nil {
		plugins[i] = p
	} else {
		plugins = append(plugins, p)
	}
	// Checked with p last, so that a clash is reported as p's.
	others := slices.DeleteFunc(slices.Clone(cur.plugins), func(q *Plugin) bool { return q == old })
	if _, err := newRegistry(append(others, p)); err != nil {
		return err
	}
	next, err := newRegistry(plugins)
	if err != nil {
		return err
	}
	activate := old == nil && !slices.Contains(e.options().Inactive, p.name) || old != nil && old.isActive()
	if p.bare && (old != nil || activate) {
		err := &MissingConfigError{Plugin: p.name, Keys: p.missingKeys()}
		if old != nil {
			return fmt.Errorf("bot: plugin %s not replaced: %w", p.name, err)
		}
		e.routes.Store(next)
		return err
	}
	if activate && e.activated {
		if err := e.activate(ctx, p); err != nil {
			return err
		}
	}
	e.routes.Store(next)
	if old != nil {
		if err := e.deactivate(ctx, old); err != nil {
			e.log.Warn("plugin deactivation failed", "plugin", old.name, "err", err)
		}
		e.log.Info("plugin replaced", "plugin", p.name)
	} else {
		e.log.Info("plugin registered", "plugin", p.name)
	}
	return nil
}

// Unregister deactivates the named plugin (see Deactivate) and removes
// it from the engine: its commands, listeners and webhooks are gone, as
// if it had never been registered.
func (e *Engine) Unregister(ctx context.Context, name string) error {
	e.reconf.Lock()
	defer e.reconf.Unlock()
	cur := e.registry()
	p := cur.byName[name]
	if p == nil {
		return fmt.Errorf("%w: %q", ErrNoPlugin, name)
	}
	next, err := newRegistry(slices.DeleteFunc(slices.Clone(cur.plugins), func(q *Plugin) bool { return q == p }))
	if err != nil {
		return err // cannot happen: removing declarations makes no conflict
	}
	e.routes.Store(next)
	err = e.deactivate(ctx, p)
	e.log.Info("plugin unregistered", "plugin", name)
	return err
}
