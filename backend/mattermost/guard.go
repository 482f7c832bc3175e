package mattermost

import "strings"

// guardKeep is how many post ids a duplicate guard (window) keeps at
// least, whatever their age: the posts a resumed WebSocket replays (the
// server keeps the last 128 events of a connection) are among them.
const guardKeep = 1024

// window is a duplicate guard: a set of post ids that forgets an id only
// when it holds more than keep and the post is older than the floor it
// is given, the earliest create_at a catch-up may still read from (see
// Backend.guardFloor). However many posts a catch-up reads again (the
// look-back margin, on a busy server, may hold thousands), it finds
// every one it delivered before: a fixed ring of 4,096 ids let a
// catch-up that read back further deliver a command twice. Owned by the
// event loop.
type window struct {
	keep  int
	ids   map[string]struct{}
	queue []windowEntry // in the order added, from head on
	head  int
}

type windowEntry struct {
	id string
	at int64 // the post's create_at, ms
}

func newWindow(keep int) window {
	return window{keep: max(keep, 1), ids: make(map[string]struct{}, keep)}
}

// has reports whether id is held.
func (w *window) has(id string) bool {
	_, ok := w.ids[id]
	return ok
}

// add records the id of a post created at at and reports whether it was
// new. It then forgets the oldest ids beyond keep whose posts are older
// than floor, in the order they were added.
func (w *window) add(id string, at, floor int64) bool {
	if _, ok := w.ids[id]; ok {
		return false
	}
	if w.ids == nil {
		w.ids = map[string]struct{}{}
	}
	// A copy: the id of a decoded post shares one allocation with all
	// the post's text (mm's decoder batches them), which the guard
	// would keep alive for as long as it keeps the id.
	id = strings.Clone(id)
	w.ids[id] = struct{}{}
	w.queue = append(w.queue, windowEntry{id, at})
	for len(w.ids) > w.keep && w.head < len(w.queue) && w.queue[w.head].at < floor {
		delete(w.ids, w.queue[w.head].id)
		w.queue[w.head] = windowEntry{}
		w.head++
	}
	if w.head > len(w.queue)/2 && w.head > 64 {
		w.queue = append(w.queue[:0], w.queue[w.head:]...)
		w.head = 0
	}
	return true
}

// len returns the number of ids held.
func (w *window) len() int { return len(w.ids) }
