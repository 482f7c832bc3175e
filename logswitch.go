package matterbot

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/matterbot/matterbot/config"
)

// logSwitch is run's logger: its level and format ([log] level and
// format) change while the bot logs, when the configuration is reloaded.
// Loggers derived from it (With, WithGroup) follow the changes.
type logSwitch struct {
	level  slog.LevelVar
	w      io.Writer                     // shared by the handlers of every format, one record a Write
	root   atomic.Pointer[formatHandler] // the handler of the format in force
	logger *slog.Logger
}

// formatHandler is the handler of one format, at the switch's level.
type formatHandler struct {
	format string
	h      slog.Handler
}

// newLogSwitch returns a logSwitch writing to w as l says.
func newLogSwitch(w io.Writer, l config.Log) *logSwitch {
	s := &logSwitch{w: &lockedWriter{w: w}}
	s.set(l)
	s.logger = slog.New(&switchHandler{s: s})
	return s
}

// set puts l's level and format in force. Records being written finish
// in the old format.
func (s *logSwitch) set(l config.Log) {
	s.level.Set(l.SlogLevel())
	if cur := s.root.Load(); cur != nil && cur.format == l.Format {
		return
	}
	opts := &slog.HandlerOptions{Level: &s.level}
	var h slog.Handler = slog.NewTextHandler(s.w, opts)
	if l.Format == "json" {
		h = slog.NewJSONHandler(s.w, opts)
	}
	s.root.Store(&formatHandler{format: l.Format, h: h})
}

// switchHandler passes records to the handler of the format in force,
// with the attributes and groups added to it.
type switchHandler struct {
	s   *logSwitch
	ops []handlerOp // WithAttrs and WithGroup calls, in order
	// built is ops applied to a format's handler, for the last format
	// seen: rebuilt once after a change of format.
	built atomic.Pointer[builtHandler]
}

// handlerOp is a WithGroup (group set) or a WithAttrs call.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

type builtHandler struct {
	root *formatHandler
	h    slog.Handler
}

func (h *switchHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.s.level.Level()
}

func (h *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *switchHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &switchHandler{s: h.s, ops: append(slices.Clip(h.ops), handlerOp{attrs: attrs})}
}

func (h *switchHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &switchHandler{s: h.s, ops: append(slices.Clip(h.ops), handlerOp{group: name})}
}

// handler returns the handler of the format in force with h's
// attributes and groups.
func (h *switchHandler) handler() slog.Handler {
	root := h.s.root.Load()
	if b := h.built.Load(); b != nil && b.root == root {
		return b.h
	}
	out := root.h
	for _, op := range h.ops {
		if op.group != "" {
			out = out.WithGroup(op.group)
		} else {
			out = out.WithAttrs(op.attrs)
		}
	}
	h.built.Store(&builtHandler{root: root, h: out})
	return out
}

// lockedWriter serializes writes: the text and the JSON handlers each
// lock their own writes only, and both may write while the format
// changes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
