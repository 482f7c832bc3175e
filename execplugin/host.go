package execplugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/matterbot/matterbot/bot"
)

// Options configures a Host: the [exec] table of the configuration. The
// zero value loads nothing.
type Options struct {
	// Dirs are the plugin directories: each subdirectory holds a plugin.
	Dirs []string
	// WorkDir, when set, runs each plugin in WorkDir/NAME (created, mode
	// 0700); by default a plugin runs in its own directory.
	WorkDir string
	// AllowToken lists the plugins that get the bot's token and server
	// URL when their manifest asks (token = true).
	AllowToken []string
	// Token and ServerURL are what those plugins get: the bot's
	// Mattermost token, and its server's URL.
	Token, ServerURL string
	// ErrbotRunner runs Errbot plugins (a directory with a .plug file
	// and no manifest): the program and its arguments, to which the
	// .plug file's path is added. Empty: such directories are skipped.
	ErrbotRunner []string
	// Watch reloads a plugin when a file of its directory changes, and
	// loads and unloads directories as they come and go.
	Watch bool
	// Debounce is how long the watch waits after the last change before
	// it reloads. Default 1 second.
	Debounce time.Duration
	// KillGrace is how long a program has between SIGTERM and SIGKILL.
	// Default 2 seconds.
	KillGrace time.Duration
	// RestartDelay is the first wait before a long-lived program that
	// died is started again; it doubles on each failure, up to a
	// minute. Default 1 second.
	RestartDelay time.Duration
	// Logger receives the host's and the plugins' logs, stderr lines
	// included. Default: discard.
	Logger *slog.Logger
	// LookupEnv reads the bot's environment, for what the programs may
	// inherit. Default os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

func (o *Options) killGrace() time.Duration {
	if o.KillGrace > 0 {
		return o.KillGrace
	}
	return 2 * time.Second
}

func (o *Options) restartDelay() time.Duration {
	if o.RestartDelay > 0 {
		return o.RestartDelay
	}
	return time.Second
}

func (o *Options) debounce() time.Duration {
	if o.Debounce > 0 {
		return o.Debounce
	}
	return time.Second
}

// HostName is the name of the Host's own plugin, which declares
// "plugin reload".
const HostName = "exec"

// Host loads exec plugins from directories and reloads them while the
// bot runs. It is itself a plugin (named "exec") that adds the admin
// command "plugin reload [NAME]" and, with Options.Watch, watches the
// directories:
//
//	h := execplugin.NewHost(&execplugin.Options{Dirs: []string{"/etc/matterbot/plugins"}})
//	plugins, err := h.Load(goPluginNames) // err: the plugins that did not load; log them
//	eng, err := bot.New(backend, opts, append(goPlugins, plugins...)...)
type Host struct {
	o   Options
	log *slog.Logger

	engine *bot.Engine // set by Setup

	reload sync.Mutex // serializes loads and reloads

	mu     sync.Mutex
	loaded map[string]*Plugin // guarded by mu: the version of each plugin in force, by directory
	taken  []string           // guarded by mu: the names of the bot's other plugins
	stopW  func()             // guarded by mu: stops the watch
}

// NewHost returns a host with options o (nil: none).
func NewHost(o *Options) *Host {
	h := &Host{loaded: map[string]*Plugin{}}
	if o != nil {
		h.o = *o
	}
	if h.o.Logger == nil {
		h.o.Logger = slog.New(slog.DiscardHandler)
	}
	if h.o.LookupEnv == nil {
		h.o.LookupEnv = osLookup
	}
	h.log = h.o.Logger
	return h
}

// Name returns HostName.
func (h *Host) Name() string { return HostName }

// Setup declares "plugin reload" and the watch.
func (h *Host) Setup(p *bot.Plugin) error {
	h.engine = p.Engine()
	p.Describe("exec plugins: programs in any language, reloaded without a restart")
	type reloadArgs struct {
		Name string `arg:"" optional:"" help:"the plugin to reload; none: every plugin directory is read again"`
	}
	bot.Command(p, "plugin reload", func(ctx context.Context, req *bot.Request, a reloadArgs) error {
		report, err := h.Reload(ctx, a.Name)
		if err != nil {
			return bot.UserErrorf("%v", err)
		}
		return req.Reply(report)
	}).Help("reload an exec plugin from its directory (the old version runs on if the new one is broken)").AdminOnly()
	if h.o.Watch {
		p.OnActivate(h.startWatch)
		p.OnDeactivate(func(context.Context) error { h.stopWatch(); return nil })
	}
	return nil
}

// Load reads the plugin directories and returns the plugins to give to
// bot.New: the host itself, then every exec plugin that loaded. taken
// lists the names of the bot's other plugins: an exec plugin of one of
// those names does not load. The error joins one error per plugin that
// did not load, each naming its file (a *ManifestError for a manifest
// that does not validate); the plugins returned are usable either way:
// log the error and go on.
func (h *Host) Load(taken []string) ([]bot.Setuper, error) {
	h.reload.Lock()
	defer h.reload.Unlock()
	h.mu.Lock()
	h.taken = slices.Clone(taken)
	h.mu.Unlock()
	out := []bot.Setuper{h}
	var errs []error
	names := map[string]string{} // name → dir
	for _, dir := range h.pluginDirs() {
		pl, err := h.loadDir(dir)
		if errors.Is(err, errNotPlugin) {
			continue
		}
		if err == nil {
			err = h.checkName(pl, names)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		names[pl.m.Name] = dir
		h.mu.Lock()
		h.loaded[dir] = pl
		h.mu.Unlock()
		out = append(out, pl)
	}
	return out, errors.Join(errs...)
}

// checkName refuses a plugin whose name is taken: by one of the bot's
// other plugins, the host, or another directory's plugin (names: name →
// directory).
func (h *Host) checkName(pl *Plugin, names map[string]string) error {
	h.mu.Lock()
	taken := slices.Contains(h.taken, pl.m.Name)
	h.mu.Unlock()
	switch {
	case pl.m.Name == HostName:
		return &ManifestError{File: pl.file, Field: "name", Err: fmt.Errorf("%q is the exec host's own name", pl.m.Name)}
	case taken:
		return &ManifestError{File: pl.file, Field: "name", Err: fmt.Errorf("%q is taken by a plugin built into the bot", pl.m.Name)}
	case names[pl.m.Name] != "" && names[pl.m.Name] != pl.dir:
		return &ManifestError{File: pl.file, Field: "name", Err: fmt.Errorf("%q is taken by the plugin in %s", pl.m.Name, names[pl.m.Name])}
	}
	return nil
}

// pluginDirs returns the plugin directories found in the configured
// directories, in order.
func (h *Host) pluginDirs() []string {
	var out []string
	for _, root := range h.o.Dirs {
		entries, err := os.ReadDir(root)
		if err != nil {
			h.log.Error("exec plugin directory unreadable", "dir", root, "err", err)
			continue
		}
		for _, e := range entries {
			if skipName(e.Name()) {
				continue
			}
			p := filepath.Join(root, e.Name())
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
				out = append(out, p)
			}
		}
	}
	return out
}

func skipName(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// errNotPlugin is a directory without a manifest or .plug file.
var errNotPlugin = errors.New("not a plugin directory")

// loadDir loads the plugin in dir.
func (h *Host) loadDir(dir string) (*Plugin, error) {
	m, err := ReadManifest(dir)
	file := ""
	switch {
	case err == nil:
		file = filepath.Join(dir, tomlManifest)
		if _, serr := os.Stat(file); serr != nil {
			file = filepath.Join(dir, jsonManifest)
		}
	case errors.Is(err, errNoManifest):
		plug, perr := findPlug(dir)
		if perr != nil {
			return nil, perr
		}
		if len(h.o.ErrbotRunner) == 0 {
			return nil, &ManifestError{File: plug, Err: errors.New("an Errbot plugin, but [exec] errbot_runner is not set")}
		}
		m, err = errbotManifest(plug, h.o.ErrbotRunner)
		if err != nil {
			return nil, err
		}
		file = plug
	default:
		return nil, err
	}
	return h.newPlugin(m, dir, file)
}

// newPlugin builds the plugin of manifest m, found in dir; file names
// the manifest in errors. A described manifest is completed by running
// the program.
func (h *Host) newPlugin(m *Manifest, dir, file string) (*Plugin, error) {
	work := dir
	if h.o.WorkDir != "" {
		work = filepath.Join(h.o.WorkDir, m.Name)
		if err := os.MkdirAll(work, 0o700); err != nil {
			return nil, fmt.Errorf("%s: working directory: %w", file, err)
		}
	}
	token := false
	if m.Token {
		if slices.Contains(h.o.AllowToken, m.Name) {
			token = true
		} else {
			h.log.Warn("exec plugin asks for the bot's token; not given: [exec] allow_token does not list it", "plugin", m.Name, "file", file)
		}
	}
	conc := m.Limits.Concurrency
	if conc == 0 {
		conc = defaultOneShotConcurrency
		if m.Mode == LongLived {
			conc = defaultLongLivedConcurrncy
		}
	}
	pl := &Plugin{
		m: m, dir: dir, file: file, work: work, o: &h.o,
		env:    environment(m, dir, work, token, &h.o, h.o.LookupEnv),
		log:    h.log.With("plugin", m.Name),
		sem:    make(chan struct{}, conc),
		stderr: newStderrLimiter(),
	}
	if m.Describe {
		if err := pl.describe(file, h.takenCommands(m.Name)); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// takenCommands returns, sorted, the names and aliases of the commands
// (not regex commands: their names do not clash) of the bot's plugins
// other than the one named except; nil before the bot runs (at startup
// the Go plugins' commands are not known yet).
func (h *Host) takenCommands(except string) []string {
	if h.engine == nil {
		return nil
	}
	var out []string
	for _, p := range h.engine.Plugins() {
		if p.Name == except {
			continue
		}
		for _, c := range p.Commands {
			if c.Regex == "" {
				out = append(out, c.Name)
				out = append(out, c.Aliases...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// describe runs the program with a describe hello (telling it the
// command names taken, when known) and completes the manifest with the
// declarations of its ready.
func (pl *Plugin) describe(file string, taken []string) error {
	pl.taken = taken
	s := &supervisor{pl: pl}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer s.cancel()
	ctx, cancel := context.WithTimeout(s.ctx, pl.startTimeout())
	defer cancel()
	p, ready, err := s.spawn(ctx, true)
	if err != nil {
		return fmt.Errorf("%s: describe: %w", file, err)
	}
	_ = p.shutdown(ctx) // what it said is all we need
	if len(ready.Manifest) == 0 {
		return &ManifestError{File: file, Field: "ready.manifest", Err: errors.New("missing: the program must declare its commands (describe)")}
	}
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(string(ready.Manifest)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return &ManifestError{File: file, Field: "ready.manifest", Err: fmt.Errorf("not an object: %v", err)}
	}
	if me := checkShape("ready.manifest", raw, reflectDeclared); me != nil {
		me.File = file
		return me
	}
	var d Declared
	if err := json.Unmarshal(ready.Manifest, &d); err != nil {
		return &ManifestError{File: file, Field: "ready.manifest", Err: err}
	}
	if me := d.validate("ready.manifest."); me != nil {
		me.File = file
		return me
	}
	pl.m.Declared = d
	return nil
}

// Reload reloads the plugin named name from its directory, or, when
// name is empty, reads every plugin directory again: new directories
// are loaded, removed ones unloaded, the others reloaded. A plugin whose
// new version does not load, or does not start, keeps its old version
// running; the error says why. The report lists what was done.
func (h *Host) Reload(ctx context.Context, name string) (string, error) {
	if h.engine == nil {
		return "", errors.New("execplugin: reload before the host was set up")
	}
	h.reload.Lock()
	defer h.reload.Unlock()
	if name != "" {
		dir := h.dirOf(name)
		if dir == "" {
			if h.engine.Active(name) || slices.ContainsFunc(h.engine.Plugins(), func(p bot.PluginInfo) bool { return p.Name == name }) {
				return "", fmt.Errorf("%s is not an exec plugin: restart the bot to reload it", name)
			}
			return "", fmt.Errorf("no exec plugin %s", name)
		}
		return h.reloadDirs(ctx, []string{dir})
	}
	dirs := h.pluginDirs()
	h.mu.Lock()
	for d := range h.loaded {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	h.mu.Unlock()
	return h.reloadDirs(ctx, dirs)
}

// dirOf returns the directory of the plugin named name: the one it was
// loaded from, or a plugin directory of that name (a plugin that has
// not loaded yet).
func (h *Host) dirOf(name string) string {
	h.mu.Lock()
	for d, pl := range h.loaded {
		if pl.m.Name == name {
			h.mu.Unlock()
			return d
		}
	}
	h.mu.Unlock()
	for _, d := range h.pluginDirs() {
		if filepath.Base(d) == name {
			return d
		}
	}
	return ""
}

// reloadDirs reloads the plugins of dirs. Called with h.reload held.
func (h *Host) reloadDirs(ctx context.Context, dirs []string) (string, error) {
	sort.Strings(dirs)
	var (
		lines []string
		errs  []error
	)
	for _, dir := range dirs {
		line, err := h.reloadDir(ctx, dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	if len(errs) > 0 {
		return strings.Join(lines, "\n"), errors.Join(errs...)
	}
	if len(lines) == 0 {
		return "Nothing to reload.", nil
	}
	return strings.Join(lines, "\n"), nil
}

// reloadDir loads dir's plugin again and puts it in place of the old
// version, or unloads it when the directory is gone.
func (h *Host) reloadDir(ctx context.Context, dir string) (string, error) {
	h.mu.Lock()
	old := h.loaded[dir]
	h.mu.Unlock()
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if old == nil {
			return "", nil
		}
		err := h.engine.Unregister(ctx, old.m.Name)
		h.mu.Lock()
		delete(h.loaded, dir)
		h.mu.Unlock()
		h.log.Info("exec plugin unloaded: its directory is gone", "plugin", old.m.Name, "dir", dir)
		if err != nil && !errors.Is(err, bot.ErrNoPlugin) {
			return "", fmt.Errorf("%s unloaded: %w", old.m.Name, err)
		}
		return fmt.Sprintf("Unloaded %s: its directory is gone.", old.m.Name), nil
	}
	keep := func(err error) error {
		if old != nil {
			h.log.Error("exec plugin not reloaded; the running version goes on", "plugin", old.m.Name, "version", old.m.Version, "err", err)
			return fmt.Errorf("%s not reloaded, version %s goes on: %w", old.m.Name, old.m.Version, err)
		}
		h.log.Error("exec plugin not loaded", "dir", dir, "err", err)
		return fmt.Errorf("%s not loaded: %w", filepath.Base(dir), err)
	}
	pl, err := h.loadDir(dir)
	if errors.Is(err, errNotPlugin) {
		if old == nil {
			return "", nil
		}
		err = fmt.Errorf("%s: no manifest any more", dir)
	}
	if err != nil {
		return "", keep(err)
	}
	names := map[string]string{}
	h.mu.Lock()
	for d, q := range h.loaded {
		names[q.m.Name] = d
	}
	h.mu.Unlock()
	if err := h.checkName(pl, names); err != nil {
		return "", keep(err)
	}
	if old != nil && old.m.Name != pl.m.Name {
		return "", keep(fmt.Errorf("%s: the name changed from %q to %q: remove the old directory and add a new one", pl.file, old.m.Name, pl.m.Name))
	}
	var mc *bot.MissingConfigError
	if err := h.engine.Register(ctx, pl); err != nil && !(old == nil && errors.As(err, &mc)) {
		return "", keep(err)
	}
	h.mu.Lock()
	h.loaded[dir] = pl
	h.mu.Unlock()
	if old == nil {
		h.log.Info("exec plugin loaded", "plugin", pl.m.Name, "version", pl.m.Version, "dir", dir)
		return fmt.Sprintf("Loaded %s %s.", pl.m.Name, pl.m.Version), nil
	}
	h.log.Info("exec plugin reloaded", "plugin", pl.m.Name, "version", pl.m.Version, "old_version", old.m.Version)
	return fmt.Sprintf("Reloaded %s: version %s (was %s).", pl.m.Name, pl.m.Version, old.m.Version), nil
}

// New loads the plugin in dir on its own, with options o (nil: none):
// for tests (bottest.New(t, plugin)) and programs that pick their exec
// plugins one by one. The error is a *ManifestError for a manifest that
// does not validate.
func New(dir string, o *Options) (*Plugin, error) {
	h := NewHost(o)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pl, err := h.loadDir(abs)
	if errors.Is(err, errNotPlugin) {
		return nil, fmt.Errorf("execplugin: %s: no plugin.toml, plugin.json or .plug file", dir)
	}
	return pl, err
}
