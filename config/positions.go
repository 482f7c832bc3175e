package config

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// A path names a value in the document: table keys, and "\x01N" for the
// N-th element of an array (see index). Paths are what the decoder, the
// position index and the error messages share.

// index returns the path element for array element i.
func index(i int) string { return "\x01" + strconv.Itoa(i) }

// sub returns path extended by elem, never aliasing path's array.
func sub(path []string, elem ...string) []string {
	return append(path[:len(path):len(path)], elem...)
}

// pathKey turns a path into a map key.
func pathKey(path []string) string { return strings.Join(path, "\x00") }

// displayKey formats a path as TOML would: mattermost.port, admins[1],
// access.rule[0].match, plugins."my.plugin".
func displayKey(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if n, ok := strings.CutPrefix(p, "\x01"); ok {
			b.WriteString("[" + n + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if isBareKey(p) {
			b.WriteString(p)
		} else {
			b.WriteString(strconv.Quote(p))
		}
	}
	return b.String()
}

// isBareKey reports whether k can be written unquoted in TOML.
func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// origin says where a value came from: a line of the file or an
// environment variable.
type origin struct {
	line int
	env  string
}

// positions maps every key, table header and array element of a
// syntactically valid document to the line it starts on. It walks the AST
// of go-toml's unstable parser, which exposes the byte range of each node
// (BurntSushi/toml keeps key positions private). It must be called only
// after the document decoded without error, so the parser cannot fail here.
func positions(data []byte) map[string]origin {
	idx := make(map[string]origin)
	w := posWalker{idx: idx, arrays: make(map[string]int)}
	w.p.Reset(data)
	var table []string
	for w.p.NextExpression() {
		e := w.p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = w.resolve(keyParts(e))
			w.mark(table, e)
		case unstable.ArrayTable:
			keys := keyParts(e)
			parent := w.resolve(keys[:len(keys)-1])
			arr := sub(parent, keys[len(keys)-1])
			n := w.arrays[pathKey(arr)]
			w.arrays[pathKey(arr)] = n + 1
			w.mark(arr, e)
			table = sub(arr, index(n))
			w.mark(table, e)
		case unstable.KeyValue:
			w.keyValue(table, e)
		}
	}
	return idx
}

type posWalker struct {
	p      unstable.Parser
	idx    map[string]origin
	arrays map[string]int // array-of-tables path → elements so far
}

// resolve turns a header's keys into a path, stepping into the last element
// of each array of tables on the way ([[a]] then [a.b] means a[last].b).
func (w *posWalker) resolve(keys []string) []string {
	var path []string
	for _, k := range keys {
		path = sub(path, k)
		if n, ok := w.arrays[pathKey(path)]; ok && n > 0 {
			path = sub(path, index(n-1))
		}
	}
	return path
}

// mark records n's line for path and for each implicit parent table not
// seen before.
func (w *posWalker) mark(path []string, n *unstable.Node) {
	line := w.line(n, 0)
	for i := 1; i <= len(path); i++ {
		k := pathKey(path[:i])
		if _, ok := w.idx[k]; !ok || i == len(path) {
			w.idx[k] = origin{line: line}
		}
	}
}

// line returns the line n starts on. Headers and arrays carry no byte range
// of their own; their first child does. fallback serves an empty array.
func (w *posWalker) line(n *unstable.Node, fallback int) int {
	if n.Raw.Length > 0 {
		return w.p.Shape(n.Raw).Start.Line
	}
	if c := n.Child(); c != nil {
		return w.line(c, fallback)
	}
	return fallback
}

func (w *posWalker) keyValue(table []string, e *unstable.Node) {
	keys := keyParts(e)
	path := sub(table, keys...)
	it := e.Key()
	it.Next()
	w.mark(path, it.Node())
	w.value(path, e.Value(), w.idx[pathKey(path)].line)
}

// value records the positions inside an inline table or an array.
func (w *posWalker) value(path []string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				w.keyValue(path, kv)
			}
		}
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); {
			el := it.Node()
			if el.Kind == unstable.Comment {
				continue
			}
			ep := sub(path, index(i))
			l := w.line(el, line)
			w.idx[pathKey(ep)] = origin{line: l}
			w.value(ep, el, l)
			i++
		}
	}
}

// keyParts returns the (unescaped) parts of a node's dotted key.
func keyParts(n *unstable.Node) []string {
	var parts []string
	for it := n.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}
