package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Reconfigurer is implemented by a plugin that takes a new configuration
// while it stays active. When its table in Options.PluginConfig changes,
// Engine.Reconfigure calls its Reconfigure method instead of
// deactivating it, re-reading its configuration and activating it again.
// The method reads the new table with p.Config into a new value and puts
// it in force in a way that is safe for the plugin's handlers, which keep
// running (behind a mutex, or an atomic.Pointer). It returns an error to
// keep the configuration it had: the error is logged. The
// *MissingConfigError of p.Config, returned as is, leaves the plugin
// inactive until a configuration with the keys comes.
type Reconfigurer interface {
	Reconfigure(ctx context.Context, p *Plugin) error
}

// Reconfigure puts in force, while the engine runs, the fields of opts
// that can change safely: Prefix, AltPrefixes, RequirePrefixInDirect,
// SuppressUnknownCommand, Admins, ACLs, DefaultACL, DivertToThread,
// DivertToPrivate, PrefixRoomReplies, CommandTimeout, TypingAfter,
// AskTimeout and PluginConfig. Their zero values mean the defaults, as
// for New. The other fields of opts are ignored: they keep the values
// New was given.
//
// It checks everything first: the admins and the names in the ACLs are
// resolved through the backend as on connect (once the backend has
// connected; before, the first connect resolves them), and each changed
// plugin table is decoded into a new value of the plugin's
// configuration type (unknown keys and wrong types are errors). On any
// problem it returns an error naming each one, and nothing changes.
// Otherwise the new settings replace the old at once: each message is
// decided under the old ones or the new ones, never a mix. Handlers
// already running finish under the settings they started with, except
// that they see the new admins and prefix when they ask.
//
// Then each plugin whose table changed is reconfigured as Errbot does:
// deactivated, its running handlers waited for (up to ctx), its
// configuration re-read into the value it gave Plugin.Config, and
// activated again. A Reconfigurer is asked to reconfigure itself
// instead, and stays active. A plugin whose new table lacks required
// keys is left inactive, logged as at start, and a later table that has
// them activates it again. A plugin that could not be activated at start
// for want of required keys needs a restart. What happens to each plugin
// is logged, and does not make Reconfigure fail.
//
// Calls are serialized. Reconfigure fails once Run has begun to stop.
func (e *Engine) Reconfigure(ctx context.Context, opts *Options) error {
	if opts == nil {
		opts = &Options{}
	}
	e.reconf.Lock()
	defer e.reconf.Unlock()
	if e.stopped {
		return errors.New("bot: reconfigure: the engine is stopping")
	}
	next := *e.options()
	next.Prefix = opts.Prefix
	next.AltPrefixes = opts.AltPrefixes
	next.RequirePrefixInDirect = opts.RequirePrefixInDirect
	next.SuppressUnknownCommand = opts.SuppressUnknownCommand
	next.Admins = opts.Admins
	next.ACLs = opts.ACLs
	next.DefaultACL = opts.DefaultACL
	next.DivertToThread = opts.DivertToThread
	next.DivertToPrivate = opts.DivertToPrivate
	next.PrefixRoomReplies = opts.PrefixRoomReplies
	next.CommandTimeout = opts.CommandTimeout
	next.TypingAfter = opts.TypingAfter
	next.AskTimeout = opts.AskTimeout
	next.PluginConfig = opts.PluginConfig
	next.setChangeableDefaults()
	if err := next.checkAccess(); err != nil {
		return err
	}
	changes, err := e.pluginChanges(&next)
	errs := []error{err}

	// Resolved under the lock of connects, so that a connect meanwhile
	// cannot store names resolved from the old options.
	e.resolve.Lock()
	s := e.settings()
	var conn *connState
	if s.conn != nil {
		var unknown []string
		conn, unknown, err = e.connect(ctx, &next, s.conn.self)
		if err != nil {
			errs = append(errs, fmt.Errorf("bot: %w", err))
		}
		// Someone is there to fix it: the settings in force stay.
		for _, u := range unknown {
			errs = append(errs, fmt.Errorf("bot: %s", u))
		}
	}
	if err := errors.Join(errs...); err != nil {
		e.resolve.Unlock()
		return err
	}
	e.set.Store(&settings{opts: &next, conn: conn})
	e.resolve.Unlock()
	e.log.Info("settings reconfigured", "prefix", next.Prefix, "admins", len(next.Admins), "acls", len(next.ACLs))

	e.checkPluginTables()
	for _, c := range changes {
		e.reconfigurePlugin(ctx, c)
	}
	return nil
}

// pluginChange is a plugin whose table changed, with the new
// configuration decoded.
type pluginChange struct {
	p     *Plugin
	table []byte        // the new table as JSON, nil for none
	value reflect.Value // the new configuration; invalid when the plugin never called Config
}

// pluginChanges returns the plugins whose table in opts differs from the
// one they read, each with its new configuration decoded into a copy of
// the defaults, and an error for each table that does not decode.
func (e *Engine) pluginChanges(opts *Options) ([]pluginChange, error) {
	var (
		out  []pluginChange
		errs []error
	)
	for _, p := range e.registry().plugins {
		raw, ok := opts.PluginConfig[p.name]
		table, err := tableJSON(raw, ok)
		p.cfgMu.Lock()
		same := err == nil && bytes.Equal(table, p.table)
		config, defaults := p.config, p.defaults
		p.cfgMu.Unlock()
		if same {
			continue
		}
		c := pluginChange{p: p, table: table}
		if config != nil {
			c.value = deepCopy(defaults)
			if ok {
				if err := decodeTable(raw, c.value.Addr().Interface()); err != nil {
					errs = append(errs, fmt.Errorf("bot: plugin %s: %w", p.name, err))
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// tableJSON returns raw, a plugin's table, as JSON: what tells a changed
// table. It is nil when there is no table (ok false).
func tableJSON(raw any, ok bool) ([]byte, error) {
	if !ok {
		return nil, nil
	}
	return json.Marshal(raw)
}

// reconfigurePlugin puts c's configuration in force for its plugin.
func (e *Engine) reconfigurePlugin(ctx context.Context, c pluginChange) {
	p := c.p
	p.life.Lock() // no activation or deactivation by an admin meanwhile
	defer p.life.Unlock()
	wasActive := p.active.Load()
	// A plugin left inactive by a table without its required keys comes
	// back when they do.
	resume := wasActive || len(p.missingKeys()) > 0
	switch r, live := p.value.(Reconfigurer); {
	case p.bare:
		// Its handlers never ran: the configuration is rewritten in place,
		// for Engine.PluginConfig and PluginInfo.Missing.
		if !c.value.IsValid() {
			p.setTable(c.table)
			return
		}
		p.setConfig(c.value, c.table)
		if len(p.missingKeys()) == 0 {
			e.log.Warn("plugin config complete: restart to activate the plugin", "plugin", p.name)
		}
	case live:
		e.reconfigureLive(ctx, p, r, c.table, resume)
	case !c.value.IsValid():
		p.setTable(c.table) // the plugin reads no configuration
	default:
		if jobs, hooks := e.deactivateLocked(ctx, p); jobs != nil {
			// A job that did not stop still reads the configuration.
			e.log.Error("plugin config not reloaded, plugin left inactive: its scheduled jobs did not stop", "plugin", p.name, "err", jobs)
			return
		} else if hooks != nil {
			e.log.Warn("plugin deactivation failed", "plugin", p.name, "err", hooks)
		}
		if err := p.drain(ctx); err != nil {
			e.log.Error("plugin config not reloaded: handlers still running", "plugin", p.name, "err", err)
			if wasActive {
				e.reportActivation(p, e.activateLocked(ctx, p))
			}
			return
		}
		p.setConfig(c.value, c.table)
		e.log.Info("plugin config reloaded", "plugin", p.name)
		if resume {
			e.reportActivation(p, e.activateLocked(ctx, p))
		}
	}
}

// reconfigureLive asks r, the value of p, to take its new table. Called
// with p.life held.
func (e *Engine) reconfigureLive(ctx context.Context, p *Plugin, r Reconfigurer, table []byte, resume bool) {
	p.cfgMu.Lock()
	config, defaults, missing := p.config, p.defaults, p.missing
	p.cfgMu.Unlock()
	err := safely(func() error { return r.Reconfigure(ctx, p) })
	var mc *MissingConfigError
	switch {
	case errors.As(err, &mc):
		p.setTable(table)
		_, hooks := e.deactivateLocked(ctx, p)
		if hooks != nil {
			e.log.Warn("plugin deactivation failed", "plugin", p.name, "err", hooks)
		}
		e.reportActivation(p, mc)
	case err != nil:
		// What Config recorded belongs to the table it refused.
		p.cfgMu.Lock()
		p.config, p.defaults, p.missing = config, defaults, missing
		p.cfgMu.Unlock()
		e.log.Error("plugin kept its config: reconfigure failed", "plugin", p.name, "err", err)
	default:
		p.setTable(table)
		e.log.Info("plugin config reloaded", "plugin", p.name)
		if resume && !p.active.Load() {
			e.reportActivation(p, e.activateLocked(ctx, p))
		}
	}
}

// setConfig writes v into the value the plugin gave Config, and records
// table as the one read. The plugin's handlers must not be running.
func (p *Plugin) setConfig(v reflect.Value, table []byte) {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	reflect.ValueOf(p.config).Elem().Set(v)
	p.missing = requiredKeys(v)
	p.table = table
}

// setTable records table as the one the plugin read.
func (p *Plugin) setTable(table []byte) {
	p.cfgMu.Lock()
	p.table = table
	p.cfgMu.Unlock()
}

// enter counts a handler, callback or webhook request of the plugin
// about to run, and reports true, while the plugin is active; the caller
// calls leave when it is over. It reports false when the plugin is
// inactive: what was queued before a deactivation does not run.
func (p *Plugin) enter() bool {
	p.runMu.Lock()
	defer p.runMu.Unlock()
	// Read under runMu: a deactivation that stores false and then calls
	// drain sees every enter that read true.
	if !p.active.Load() {
		return false
	}
	p.running++
	return true
}

// leave ends what enter counted.
func (p *Plugin) leave() {
	p.runMu.Lock()
	defer p.runMu.Unlock()
	p.running--
	if p.running == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// drain waits until none of the plugin's handlers, callbacks and webhook
// requests runs, or for ctx. The plugin must be inactive, so that none
// starts.
func (p *Plugin) drain(ctx context.Context) error {
	p.runMu.Lock()
	n := p.running
	if n == 0 {
		p.runMu.Unlock()
		return nil
	}
	if p.drained == nil {
		p.drained = make(chan struct{})
	}
	drained := p.drained
	p.runMu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d handlers of plugin %s still running: %w", n, p.name, ctx.Err())
	}
}

// stopReconfigure makes Reconfigure refuse from now on, once a
// Reconfigure in progress has returned.
func (e *Engine) stopReconfigure() {
	e.reconf.Lock()
	e.stopped = true
	e.reconf.Unlock()
}

// maxCopyDepth bounds deepCopy's recursion, which a cyclic value would
// make endless.
const maxCopyDepth = 32

// deepCopy returns an addressable copy of v that shares no slice, map or
// pointer with v through exported fields, so that decoding into the copy
// leaves v as it was. What is reachable only through unexported fields,
// and pointers to structs with unexported fields, are shared.
func deepCopy(v reflect.Value) reflect.Value {
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	unshare(c, 0)
	return c
}

// unshare replaces, in c (settable), the slices, maps and pointers
// reachable through exported fields by copies.
func unshare(c reflect.Value, depth int) {
	if depth > maxCopyDepth {
		return
	}
	switch c.Kind() {
	case reflect.Pointer:
		if c.IsNil() || !plainData(c.Type().Elem()) {
			return
		}
		n := reflect.New(c.Type().Elem())
		n.Elem().Set(c.Elem())
		unshare(n.Elem(), depth+1)
		c.Set(n)
	case reflect.Interface:
		if c.IsNil() {
			return
		}
		n := reflect.New(c.Elem().Type()).Elem()
		n.Set(c.Elem())
		unshare(n, depth+1)
		c.Set(n)
	case reflect.Struct:
		for i := range c.NumField() {
			if c.Type().Field(i).IsExported() {
				unshare(c.Field(i), depth+1)
			}
		}
	case reflect.Array:
		for i := range c.Len() {
			unshare(c.Index(i), depth+1)
		}
	case reflect.Slice:
		if c.IsNil() {
			return
		}
		n := reflect.MakeSlice(c.Type(), c.Len(), c.Len())
		reflect.Copy(n, c)
		for i := range n.Len() {
			unshare(n.Index(i), depth+1)
		}
		c.Set(n)
	case reflect.Map:
		if c.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(c.Type(), c.Len())
		for it := c.MapRange(); it.Next(); {
			v := reflect.New(c.Type().Elem()).Elem()
			v.Set(it.Value())
			unshare(v, depth+1)
			n.SetMapIndex(it.Key(), v)
		}
		c.Set(n)
	}
}

// plainData reports whether a value of type t may be copied: not a
// struct with unexported fields (a mutex, a compiled regexp), which may
// not be copied and which a decoder does not write into.
func plainData(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return true
	}
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			return false
		}
	}
	return true
}
