package execplugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// sourceExts are the files whose change reloads a plugin, besides its
// manifest and its program: code, not the data a plugin may write in its
// own directory (which would reload it over and over).
var sourceExts = []string{".py", ".sh", ".bash", ".zsh", ".rb", ".js", ".mjs", ".pl", ".pm", ".php", ".lua", ".tcl", ".plug", ".toml", ".json"}

// startWatch watches the plugin directories: the host's activation.
func (h *Host) startWatch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("execplugin: watch: %w", err)
	}
	var roots []string
	for _, r := range h.o.Dirs {
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if err := w.Add(abs); err != nil {
			h.log.Error("exec plugin directory not watched", "dir", r, "err", err)
			continue
		}
		roots = append(roots, abs)
	}
	for _, d := range h.pluginDirs() {
		if err := w.Add(d); err != nil {
			h.log.Warn("exec plugin directory not watched", "dir", d, "err", err)
		}
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.watchLoop(wctx, w, roots)
	}()
	h.mu.Lock()
	h.stopW = func() {
		cancel()
		<-done
		_ = w.Close()
	}
	h.mu.Unlock()
	h.log.Info("exec plugin directories watched", "dirs", strings.Join(roots, ", "))
	return nil
}

// stopWatch stops the watch, if it runs.
func (h *Host) stopWatch() {
	h.mu.Lock()
	stop := h.stopW
	h.stopW = nil
	h.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// watchLoop reloads the plugin directories that changed, debounced.
func (h *Host) watchLoop(ctx context.Context, w *fsnotify.Watcher, roots []string) {
	pending := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			dir, isDir := h.changed(ev, roots)
			if dir == "" {
				continue
			}
			if isDir && ev.Op.Has(fsnotify.Create) {
				if err := w.Add(dir); err != nil {
					h.log.Warn("exec plugin directory not watched", "dir", dir, "err", err)
				}
			}
			pending[dir] = true
			if timer == nil {
				timer = time.NewTimer(h.o.debounce())
			} else {
				timer.Reset(h.o.debounce())
			}
			fire = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			h.log.Warn("exec plugin watch", "err", err)
		case <-fire:
			fire = nil
			dirs := make([]string, 0, len(pending))
			for d := range pending {
				dirs = append(dirs, d)
			}
			clear(pending)
			h.reload.Lock()
			report, err := h.reloadDirs(ctx, dirs)
			h.reload.Unlock()
			if report != "" && report != "Nothing to reload." {
				h.log.Info("exec plugins reloaded after a change", "report", report)
			}
			_ = err // each failure is logged by reloadDir
		case <-ctx.Done():
			return
		}
	}
}

// changed returns the plugin directory an event concerns, if it should
// reload it, and whether the event is about that directory itself.
func (h *Host) changed(ev fsnotify.Event, roots []string) (dir string, isDir bool) {
	for _, root := range roots {
		rel, err := filepath.Rel(root, ev.Name)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		first, rest, _ := strings.Cut(rel, string(filepath.Separator))
		if skipName(first) {
			return "", false
		}
		dir = filepath.Join(root, first)
		if rest == "" {
			fi, err := os.Stat(dir)
			if err == nil && !fi.IsDir() {
				return "", false
			}
			return dir, true // created, removed or renamed
		}
		if strings.Contains(rest, string(filepath.Separator)) || skipName(rest) {
			return "", false
		}
		if slices.Contains(sourceExts, strings.ToLower(filepath.Ext(rest))) || h.isProgram(dir, filepath.Join(dir, rest)) {
			return dir, false
		}
		return "", false
	}
	return "", false
}

// isProgram reports whether file is the program, or a file argument, of
// the plugin loaded from dir.
func (h *Host) isProgram(dir, file string) bool {
	h.mu.Lock()
	pl := h.loaded[dir]
	h.mu.Unlock()
	if pl == nil {
		return true // not loaded: any change may fix it
	}
	return slices.Contains(pl.m.Exec, file)
}
