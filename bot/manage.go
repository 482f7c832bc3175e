package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// PluginInfo describes a registered plugin.
type PluginInfo struct {
	Name        string
	Description string
	Active      bool
	// Missing lists the required configuration keys that are not set
	// (Plugin.Config): the plugin cannot be activated.
	Missing  []string
	Commands []CommandInfo
}

// CommandInfo describes a declared command, for help.
type CommandInfo struct {
	Plugin    string
	Name      string   // "deploy rollback"
	Aliases   []string // other names
	Synopsis  string   // "deploy <service> <env> [--force]", without prefix
	Help      string   // the full help text
	Arguments []string // one line per typed argument: "<env>  target (one of staging, prod)"
	Hidden    bool
	AdminOnly bool
	Regex     string // the pattern of a regex command, or ""
}

// Summary returns the first line of the help text.
func (c CommandInfo) Summary() string {
	s, _, _ := strings.Cut(c.Help, "\n")
	return s
}

func (p *Plugin) isActive() bool { return p.active.Load() }

func (p *Plugin) info() PluginInfo {
	pi := PluginInfo{Name: p.name, Description: p.desc, Active: p.isActive(), Missing: p.missingKeys()}
	for _, c := range p.cmds {
		if c.listener {
			continue
		}
		ci := CommandInfo{
			Plugin: p.name, Name: c.name, Aliases: slices.Clone(c.aliases), Synopsis: c.synopsis(),
			Help: c.help, Hidden: c.hidden, AdminOnly: c.admin,
		}
		if c.args != nil {
			ci.Arguments = c.args.details()
		}
		if c.re != nil {
			ci.Regex = c.re.String()
		}
		pi.Commands = append(pi.Commands, ci)
	}
	slices.SortFunc(pi.Commands, func(a, b CommandInfo) int { return strings.Compare(a.Name, b.Name) })
	return pi
}

// Plugins describes the registered plugins, sorted by name.
func (e *Engine) Plugins() []PluginInfo {
	var ps []PluginInfo
	for _, p := range e.registry().plugins {
		ps = append(ps, p.info())
	}
	slices.SortFunc(ps, func(a, b PluginInfo) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

// Commands describes the commands of the active plugins, sorted by name.
func (e *Engine) Commands() []CommandInfo {
	var cs []CommandInfo
	for _, p := range e.registry().plugins {
		if p.isActive() {
			cs = append(cs, p.info().Commands...)
		}
	}
	slices.SortFunc(cs, func(a, b CommandInfo) int { return strings.Compare(a.Name, b.Name) })
	return cs
}

// Active reports whether the named plugin is registered and active.
func (e *Engine) Active(name string) bool {
	p := e.registry().byName[name]
	return p != nil && p.isActive()
}

// ErrNoPlugin is returned for a plugin name that is not registered.
var ErrNoPlugin = errors.New("bot: no such plugin")

// Activate activates the named plugin: its OnActivate hooks run, then
// its commands and webhooks become available and its schedules start.
// Activating an active plugin does nothing.
func (e *Engine) Activate(ctx context.Context, name string) error {
	p := e.registry().byName[name]
	if p == nil {
		return fmt.Errorf("%w: %q", ErrNoPlugin, name)
	}
	return e.activate(ctx, p)
}

// Deactivate deactivates the named plugin: its commands and webhooks
// become unavailable, its schedules are cancelled and waited for (up to
// ctx), and its OnDeactivate hooks run. Running handlers finish.
func (e *Engine) Deactivate(ctx context.Context, name string) error {
	p := e.registry().byName[name]
	if p == nil {
		return fmt.Errorf("%w: %q", ErrNoPlugin, name)
	}
	return e.deactivate(ctx, p)
}

func (e *Engine) activate(ctx context.Context, p *Plugin) error {
	p.life.Lock()
	defer p.life.Unlock() // hooks run under the lock so that two activations do not interleave
	return e.activateLocked(ctx, p)
}

// activateLocked is activate with p.life held.
func (e *Engine) activateLocked(ctx context.Context, p *Plugin) error {
	if p.active.Load() {
		e.startJobs(p) // activated before Run: its schedules start now
		return nil
	}
	if missing := p.missingKeys(); len(missing) > 0 {
		return &MissingConfigError{Plugin: p.name, Keys: missing}
	}
	for _, f := range p.onActivate {
		if err := safely(func() error { return f(ctx) }); err != nil {
			return fmt.Errorf("bot: activate %s: %w", p.name, err)
		}
	}
	p.active.Store(true)
	// Schedules start after the OnActivate hooks, so that jobs find what
	// the hooks set up.
	e.startJobs(p)
	e.log.Info("plugin activated", "plugin", p.name)
	return nil
}

func (e *Engine) deactivate(ctx context.Context, p *Plugin) error {
	p.life.Lock()
	defer p.life.Unlock()
	jobs, hooks := e.deactivateLocked(ctx, p)
	if err := errors.Join(jobs, hooks); err != nil {
		return fmt.Errorf("bot: deactivate %s: %w", p.name, err)
	}
	return nil
}

// deactivateLocked is deactivate with p.life held. jobs is the failure
// to stop the plugin's schedules, hooks that of its OnDeactivate hooks.
func (e *Engine) deactivateLocked(ctx context.Context, p *Plugin) (jobs, hooks error) {
	if !p.active.Load() {
		return nil, nil
	}
	p.active.Store(false)
	e.log.Info("plugin deactivated", "plugin", p.name)
	// Schedules stop before the OnDeactivate hooks, so that the hooks may
	// release what the jobs use.
	jobs = e.stopJobs(ctx, p)
	var errs []error
	for _, f := range p.onDeactivate {
		errs = append(errs, safely(func() error { return f(ctx) }))
	}
	return jobs, errors.Join(errs...)
}

// reportActivation logs why p was not activated, if err says it was not.
func (e *Engine) reportActivation(p *Plugin, err error) {
	var mc *MissingConfigError
	switch {
	case errors.As(err, &mc):
		e.log.Error("plugin not activated: required config missing", "plugin", p.name,
			"missing", strings.Join(mc.Keys, ", "), "table", "plugins."+p.name)
	case err != nil:
		e.log.Error("plugin activation failed", "plugin", p.name, "err", err)
	}
}

// safely runs f, turning a panic into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// PluginConfig returns the named plugin's configuration (as decoded by
// Plugin.Config) as indented JSON, with fields tagged secret:"" replaced
// by "******". It returns "{}" for a plugin without configuration.
func (e *Engine) PluginConfig(name string) (string, error) {
	p := e.registry().byName[name]
	if p == nil {
		return "", fmt.Errorf("%w: %q", ErrNoPlugin, name)
	}
	// Under cfgMu: Reconfigure may be rewriting the value.
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	if p.config == nil {
		return "{}", nil
	}
	b, err := json.Marshal(p.config)
	if err != nil {
		return "", fmt.Errorf("bot: plugin %s: config: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		// Not an object: nothing to redact.
		return string(b), nil //nolint:nilerr
	}
	v := reflect.Indirect(reflect.ValueOf(p.config))
	if v.Kind() == reflect.Struct {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if _, secret := f.Tag.Lookup("secret"); !secret {
				continue
			}
			key := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" {
				key = tag
			}
			if _, ok := m[key]; ok {
				m[key] = "******"
			}
		}
	}
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("bot: plugin %s: config: %w", name, err)
	}
	return string(b), nil
}
