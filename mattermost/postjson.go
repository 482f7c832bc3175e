package mattermost

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// unmarshalPost decodes the JSON post b into p exactly as json.Unmarshal(b,
// p) does (same fields, same nulls, same errors), at a fraction of the
// cost: posts are the hot path (every posted event, every reply's answer).
//
// A hand-written decoder handles the posts servers send: exact lower-case
// keys, well-typed values, valid UTF-8. Anything else it has not been
// written for (a key in another case or escaped, a value of the wrong
// type, a number out of range, invalid UTF-8, a syntax error) sends the
// whole post back through encoding/json from where it started, so the
// result never depends on which decoder ran. Unknown keys are skipped, as
// encoding/json skips them: newer servers add fields.
func unmarshalPost(b []byte, p *Post) error {
	// The fast decoder starts only from a post without maps or slices,
	// so that undoing its work is restoring a copy (it never writes into
	// memory the copy shares).
	if p.Props == nil && p.FileIDs == nil && p.Participants == nil && p.Metadata == nil {
		orig := *p
		if decodePostFast(b, p) {
			return nil
		}
		*p = orig
	}
	return json.Unmarshal(b, p)
}

// unmarshalStrings decodes a JSON array of strings into *dst as
// json.Unmarshal(b, dst) does, through the same fast path as posts.
func unmarshalStrings(b []byte, dst *[]string) error {
	if *dst == nil {
		s := scanner{b: b}
		s.space()
		if s.stringsField(dst) {
			s.space()
			if s.i == len(b) {
				return nil
			}
		}
		*dst = nil
	}
	return json.Unmarshal(b, dst)
}

// maxFastDepth bounds the nesting the fast decoder follows; deeper posts
// (none real) go to encoding/json, which has its own limit.
const maxFastDepth = 100

// decodePostFast decodes b into p and reports whether it could; see
// unmarshalPost.
func decodePostFast(b []byte, p *Post) bool {
	var sb stringBatch
	if !decodePostMembers(b, p, &sb) {
		return false
	}
	sb.flush()
	return true
}

func decodePostMembers(b []byte, p *Post, sb *stringBatch) bool {
	s := scanner{b: b}
	return s.wholeObject(func(key []byte) bool { return s.postMember(key, p, sb) })
}

// wholeObject walks the object that is all of s.b, calling member with
// each raw key (quotes off, escapes kept: a key with an escape matches no
// name, which sends the caller to encoding/json); member consumes the
// value. It reports false on anything it does not accept.
func (s *scanner) wholeObject(member func(key []byte) bool) bool {
	s.space()
	if !s.eat('{') {
		return false
	}
	s.space()
	if !s.eat('}') {
		for {
			s.space()
			ks := s.i
			if s.str() != nil {
				return false
			}
			key := s.b[ks+1 : s.i-1]
			s.space()
			if !s.eat(':') {
				return false
			}
			s.space()
			if !member(key) {
				return false
			}
			s.space()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return false
			}
		}
	}
	s.space()
	return s.i == len(s.b)
}

// postFieldNames are the JSON names of Post's fields, for telling an
// unknown key from one encoding/json would match case-insensitively.
var postFieldNames = [...]string{"id", "create_at", "update_at", "edit_at", "delete_at", "is_pinned",
	"user_id", "channel_id", "root_id", "parent_id", "original_id", "message", "message_source", "type",
	"props", "hashtags", "file_ids", "pending_post_id", "has_reactions", "remote_id", "reply_count",
	"last_reply_at", "participants", "is_following", "metadata"}

// postMember decodes the value at s.i, the member key (unquoted, as in
// the input) of a post, into p.
func (s *scanner) postMember(key []byte, p *Post, sb *stringBatch) bool {
	switch string(key) {
	case "id":
		return s.strField(&p.ID, sb)
	case "create_at":
		return s.intField(&p.CreateAt)
	case "update_at":
		return s.intField(&p.UpdateAt)
	case "edit_at":
		return s.intField(&p.EditAt)
	case "delete_at":
		return s.intField(&p.DeleteAt)
	case "is_pinned":
		return s.boolField(&p.IsPinned)
	case "user_id":
		return s.strField(&p.UserID, sb)
	case "channel_id":
		return s.strField(&p.ChannelID, sb)
	case "root_id":
		return s.strField(&p.RootID, sb)
	case "parent_id":
		return s.strField(&p.ParentID, sb)
	case "original_id":
		return s.strField(&p.OriginalID, sb)
	case "message":
		return s.strField(&p.Message, sb)
	case "message_source":
		return s.strField(&p.MessageSource, sb)
	case "type":
		return s.strField(&p.Type, sb)
	case "props":
		return s.propsField(&p.Props)
	case "hashtags":
		return s.strField(&p.Hashtags, sb)
	case "file_ids":
		return s.stringsField(&p.FileIDs)
	case "pending_post_id":
		return s.strField(&p.PendingPostID, sb)
	case "has_reactions":
		return s.boolField(&p.HasReactions)
	case "remote_id":
		return s.strField(&p.RemoteID, sb)
	case "reply_count":
		return s.intField(&p.ReplyCount)
	case "last_reply_at":
		return s.intField(&p.LastReplyAt)
	case "participants":
		if p.Participants != nil {
			return false // a repeated key: encoding/json reuses the slice
		}
		if s.isNullAt() {
			return true // what 5.x servers send
		}
		return s.jsonField(&p.Participants)
	case "is_following":
		return s.boolField(&p.IsFollowing)
	case "metadata":
		if p.Metadata != nil {
			return false // a repeated key: encoding/json decodes into it
		}
		if s.isNullAt() {
			return true
		}
		if bytes.HasPrefix(s.b[s.i:], []byte("{}")) {
			s.i += 2
			p.Metadata = new(PostMetadata) // what the server sends to a bot
			return true
		}
		return s.jsonField(&p.Metadata)
	}
	// An unknown key is skipped, unless it is one encoding/json would
	// match to a field: escaped, not ASCII, or in another case.
	if !plainJSON(key) {
		return false
	}
	for _, name := range postFieldNames {
		if bytes.EqualFold(key, []byte(name)) {
			return false
		}
	}
	return s.value(3) == nil
}

// isNullAt reports whether the value at s.i is null, and skips it if so.
func (s *scanner) isNullAt() bool {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// strField decodes a string into *dst; null leaves it as it is. With a
// batch, the string is made when the batch is flushed.
func (s *scanner) strField(dst *string, sb *stringBatch) bool {
	if s.isNullAt() {
		return true
	}
	if sb == nil {
		v, ok := s.string()
		if ok {
			*dst = v
		}
		return ok
	}
	b, ok := s.stringBytes()
	if ok {
		sb.add(dst, b)
	}
	return ok
}

// string decodes the string at s.i as encoding/json does. It declines
// strings that are not valid UTF-8, which encoding/json repairs.
func (s *scanner) string() (string, bool) {
	b, ok := s.stringBytes()
	return string(b), ok
}

// stringBytes is string without the string: the decoded bytes are a slice
// of s.b when the string holds no escapes, else a new buffer.
func (s *scanner) stringBytes() ([]byte, bool) {
	start := s.i
	if s.str() != nil {
		return nil, false
	}
	return jsonStringBytes(s.b[start:s.i])
}

// plainJSON reports whether b, the inside of a JSON string, is ASCII
// without escapes: its bytes are the string, as encoding/json decodes it.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsonStringBytes returns the contents of raw, a JSON string (quotes
// included) already checked by the scanner, as encoding/json decodes
// them: a slice of raw when it holds no escapes, else a new buffer. It
// reports false for invalid UTF-8, which encoding/json repairs.
func jsonStringBytes(raw []byte) ([]byte, bool) {
	in := raw[1 : len(raw)-1]
	if plainJSON(in) {
		return in, true
	}
	if !utf8.Valid(in) {
		return nil, false
	}
	if bytes.IndexByte(in, '\\') < 0 {
		return in, true
	}
	out, err := unquoteJSON(raw)
	return out, err == nil
}

// stringBatch makes the strings of one decoded object with one allocation:
// each is noted when found and they all become slices of one string when
// the object is complete (flush). A post's dozen strings thus cost one
// allocation instead of one each; they share their memory, which a post's
// fields do anyway.
type stringBatch struct {
	n, size int
	dst     [16]*string
	src     [16][]byte
}

// add notes that *dst is to be b (which must not change until flush).
// Strings are assigned in the order added, so a repeated key keeps its
// last value.
func (sb *stringBatch) add(dst *string, b []byte) {
	if sb.n == len(sb.dst) {
		sb.flush()
	}
	sb.dst[sb.n], sb.src[sb.n] = dst, b
	sb.n++
	sb.size += len(b)
}

// flush assigns the strings noted so far.
func (sb *stringBatch) flush() {
	var all strings.Builder
	all.Grow(sb.size)
	for _, b := range sb.src[:sb.n] {
		all.Write(b)
	}
	s := all.String()
	for i, dst := range sb.dst[:sb.n] {
		n := len(sb.src[i])
		*dst, s = s[:n], s[n:]
		sb.src[i] = nil
	}
	sb.n, sb.size = 0, 0
}

// intField decodes an integer into *dst; null leaves it as it is. A
// number with a fraction or an exponent is declined, as encoding/json
// refuses it for an int64.
func (s *scanner) intField(dst *int64) bool {
	if s.isNullAt() {
		return true
	}
	start := s.i
	if s.i >= len(s.b) || (s.b[s.i] != '-' && (s.b[s.i] < '0' || s.b[s.i] > '9')) || s.number() != nil {
		return false
	}
	v := s.b[start:s.i]
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) > 18 { // may overflow: let strconv say
		n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
		*dst = n
		return err == nil
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

// boolField decodes true or false into *dst; null leaves it as it is.
func (s *scanner) boolField(dst *bool) bool {
	rest := s.b[s.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		*dst = true
		s.i += 4
	case bytes.HasPrefix(rest, []byte("false")):
		*dst = false
		s.i += 5
	case bytes.HasPrefix(rest, []byte("null")):
		s.i += 4
	default:
		return false
	}
	return true
}

// stringsField decodes an array of strings into *dst (nil), null elements
// as "", as encoding/json does into a new slice; null sets *dst to nil.
func (s *scanner) stringsField(dst *[]string) bool {
	if *dst != nil {
		return false // a repeated key: encoding/json reuses the slice
	}
	if s.isNullAt() {
		return true
	}
	if !s.eat('[') {
		return false
	}
	out := []string{}
	s.space()
	if !s.eat(']') {
		for {
			s.space()
			if s.isNullAt() {
				out = append(out, "")
			} else {
				v, ok := s.string()
				if !ok {
					return false
				}
				out = append(out, v)
			}
			s.space()
			if s.eat(']') {
				break
			}
			if !s.eat(',') {
				return false
			}
		}
	}
	*dst = out
	return true
}

// propsField decodes an object into *dst, adding to the map if there is
// one (a repeated key), as encoding/json does; null sets *dst to nil.
func (s *scanner) propsField(dst *map[string]any) bool {
	if s.isNullAt() {
		*dst = nil
		return true
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	if *dst == nil {
		*dst = make(map[string]any)
	}
	return s.objectInto(*dst, 3)
}

// jsonField hands the value at s.i to encoding/json, for the parts of a
// post that are rare or empty (metadata, participants).
func (s *scanner) jsonField(dst any) bool {
	start := s.i
	if s.value(3) != nil {
		return false
	}
	return json.Unmarshal(s.b[start:s.i], dst) == nil
}

// anyValue decodes the value at s.i as encoding/json decodes into an any:
// map[string]any, []any, string, float64, bool or nil.
func (s *scanner) anyValue(depth int) (any, bool) {
	if s.i >= len(s.b) || depth > maxFastDepth {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		if bytes.HasPrefix(s.b[s.i:], []byte(`"true"`)) {
			// from_bot, from_webhook: a constant in an interface
			// costs no allocation, a decoded string two.
			s.i += len(`"true"`)
			return "true", true
		}
		return s.string()
	case c == '{':
		m := make(map[string]any)
		return m, s.objectInto(m, depth)
	case c == '[':
		s.i++
		a := make([]any, 0)
		s.space()
		if s.eat(']') {
			return a, true
		}
		for {
			s.space()
			v, ok := s.anyValue(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			s.space()
			if s.eat(']') {
				return a, true
			}
			if !s.eat(',') {
				return nil, false
			}
		}
	case c == 't' || c == 'f' || c == 'n':
		var v bool
		if s.isNullAt() {
			return nil, true
		}
		return v, s.boolField(&v)
	case c == '-' || '0' <= c && c <= '9':
		start := s.i
		if s.number() != nil {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
		return f, err == nil
	}
	return nil, false
}

// objectInto decodes the object at s.i into m; a repeated key keeps its
// last value.
func (s *scanner) objectInto(m map[string]any, depth int) bool {
	if depth > maxFastDepth || !s.eat('{') {
		return false
	}
	s.space()
	if s.eat('}') {
		return true
	}
	for {
		s.space()
		kb, ok := s.stringBytes()
		if !ok {
			return false
		}
		k := propKey(kb)
		s.space()
		if !s.eat(':') {
			return false
		}
		s.space()
		v, ok := s.anyValue(depth + 1)
		if !ok {
			return false
		}
		m[k] = v
		s.space()
		if s.eat('}') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// propKey returns the key b as a string, without allocating for the
// props that come with every post of a bot: the server's from_bot and
// from_webhook, and matterbot_reply_to, which package
// backend/mattermost puts on every post it makes (so a bot decodes it
// twice for each of its replies: in the answer and in the event).
func propKey(b []byte) string {
	switch string(b) {
	case "from_bot":
		return "from_bot"
	case "from_webhook":
		return "from_webhook"
	case "matterbot_reply_to":
		return "matterbot_reply_to"
	}
	return string(b)
}

// flatField is a string member of a small object: its JSON name and where
// its value goes.
type flatField struct {
	name string
	dst  *string
}

// unmarshalFlat decodes the object b into v, a new (zero) struct whose
// JSON members are the string fields listed in fields and, if boolMap is
// not nil, one map[string]bool member named mapName: the broadcast of
// every event and the data of the small events. The result is exactly
// json.Unmarshal(b, v)'s; as for posts, whatever the fast decoder is not
// written for goes to encoding/json, after the fields are set back to
// zero.
func unmarshalFlat(b []byte, v any, fields []flatField, mapName string, boolMap *map[string]bool) error {
	if decodeFlatFast(b, fields, mapName, boolMap) {
		return nil
	}
	for _, f := range fields {
		*f.dst = ""
	}
	if boolMap != nil {
		*boolMap = nil
	}
	return json.Unmarshal(b, v)
}

func decodeFlatFast(b []byte, fields []flatField, mapName string, boolMap *map[string]bool) bool {
	s := scanner{b: b}
	return s.wholeObject(func(key []byte) bool { return s.flatMember(key, fields, mapName, boolMap) })
}

func (s *scanner) flatMember(key []byte, fields []flatField, mapName string, boolMap *map[string]bool) bool {
	for _, f := range fields {
		if string(key) == f.name {
			return s.strField(f.dst, nil)
		}
	}
	if boolMap != nil && string(key) == mapName {
		return s.boolMapField(boolMap)
	}
	if !plainJSON(key) {
		return false
	}
	for _, f := range fields {
		if bytes.EqualFold(key, []byte(f.name)) {
			return false
		}
	}
	if boolMap != nil && bytes.EqualFold(key, []byte(mapName)) {
		return false
	}
	return s.value(3) == nil
}

// boolMapField decodes an object of booleans into *dst (nil), null values
// as false, as encoding/json does; null sets *dst to nil.
func (s *scanner) boolMapField(dst *map[string]bool) bool {
	if *dst != nil {
		return false // a repeated key: encoding/json adds to the map
	}
	if s.isNullAt() {
		return true
	}
	if !s.eat('{') {
		return false
	}
	m := make(map[string]bool)
	s.space()
	if !s.eat('}') {
		for {
			s.space()
			k, ok := s.string()
			if !ok {
				return false
			}
			s.space()
			if !s.eat(':') {
				return false
			}
			s.space()
			var v bool
			if !s.boolField(&v) {
				return false
			}
			m[k] = v
			s.space()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return false
			}
		}
	}
	*dst = m
	return true
}
