package mattermost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// envelope holds the raw JSON values of the top-level members of a frame
// that DecodeFrame uses; nil when absent.
type envelope struct {
	event, seq, broadcast, data, status, seqReply, errv []byte
}

// maxDepth bounds the nesting of a frame, as encoding/json bounds its own.
const maxDepth = 10000

// scanError is a syntax error in a frame, at byte offset off.
type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// scanEnvelope checks that frame is one valid JSON object and returns the
// raw values of the members DecodeFrame needs, in a single pass and without
// decoding the others: the bulk of a frame ("data", with the post inside)
// is only checked here and decoded later, once, by the payload decoder.
// Keys match exactly (the server writes them in lower case); a repeated key
// keeps its last value, as with encoding/json.
func scanEnvelope(frame []byte) (envelope, error) {
	var env envelope
	s := scanner{b: frame}
	s.space()
	if !s.eat('{') {
		return env, errNotObject
	}
	s.space()
	if !s.eat('}') {
		for {
			s.space()
			ks := s.i
			if err := s.str(); err != nil {
				return env, err
			}
			key := frame[ks:s.i]
			if bytes.IndexByte(key, '\\') >= 0 {
				// An escaped key ("\u0065vent"): compare it decoded.
				var k string
				if err := json.Unmarshal(key, &k); err == nil {
					key = []byte(strconv.Quote(k))
				}
			}
			s.space()
			if !s.eat(':') {
				return env, s.fail("want ':' after object key")
			}
			s.space()
			vs := s.i
			if err := s.value(2); err != nil {
				return env, err
			}
			v := frame[vs:s.i]
			switch string(key) {
			case `"event"`:
				env.event = v
			case `"seq"`:
				env.seq = v
			case `"broadcast"`:
				env.broadcast = v
			case `"data"`:
				env.data = v
			case `"status"`:
				env.status = v
			case `"seq_reply"`:
				env.seqReply = v
			case `"error"`:
				env.errv = v
			}
			s.space()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return env, s.fail("want ',' or '}' in object")
			}
		}
	}
	s.space()
	if s.i != len(frame) {
		return env, s.fail("data after the object")
	}
	return env, nil
}

var errNotObject = errors.New("not a JSON object")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) fail(msg string) error { return &scanError{off: s.i, msg: msg} }

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value skips one JSON value, checking it. depth is the nesting level the
// value has if it is an object or an array (the frame's object is level 1).
func (s *scanner) value(depth int) error {
	if s.i >= len(s.b) {
		return s.fail("unexpected end")
	}
	switch c := s.b[s.i]; c {
	case '"':
		return s.str()
	case '{':
		if depth > maxDepth {
			return s.fail("nested too deeply")
		}
		s.i++
		s.space()
		if s.eat('}') {
			return nil
		}
		for {
			s.space()
			if err := s.str(); err != nil {
				return err
			}
			s.space()
			if !s.eat(':') {
				return s.fail("want ':' after object key")
			}
			s.space()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.eat('}') {
				return nil
			}
			if !s.eat(',') {
				return s.fail("want ',' or '}' in object")
			}
		}
	case '[':
		if depth > maxDepth {
			return s.fail("nested too deeply")
		}
		s.i++
		s.space()
		if s.eat(']') {
			return nil
		}
		for {
			s.space()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.eat(']') {
				return nil
			}
			if !s.eat(',') {
				return s.fail("want ',' or ']' in array")
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return s.number()
		}
		return s.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	s.eat('-')
	switch {
	case s.eat('0'):
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return s.fail("invalid number")
	}
	if s.eat('.') {
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	return nil
}

func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// str skips a string, checking its escapes and that it holds no control
// characters. Like encoding/json, it accepts invalid UTF-8.
func (s *scanner) str() error {
	if !s.eat('"') {
		return s.fail("want a string")
	}
	// Locals, not s.i, in the loop: this walk over every string of a
	// frame (the embedded post is one) is the scanner's hot spot.
	b, i := s.b, s.i
	for i < len(b) {
		c := b[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(b) {
				s.i = i
				return s.fail("unexpected end in string escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					s.i = i
					return s.fail(`invalid \u escape`)
				}
				i += 6
			default:
				s.i = i
				return s.fail("invalid escape in string")
			}
		default:
			s.i = i
			return s.fail("control character in string")
		}
	}
	s.i = i
	return s.fail("unterminated string")
}

// plainByte reports the bytes a JSON string holds as they are: not '"',
// '\\' or a control character. A table lookup is one load per byte in
// the scanner's hottest loop. Read-only.
var plainByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// envString decodes a member that must be a string (or null, read as "").
// Plain ASCII strings, all the server sends, are sliced without a detour.
func envString(v []byte, name string) (string, error) {
	if len(v) == 0 || isNull(v) {
		return "", nil
	}
	if v[0] != '"' {
		return "", fmt.Errorf("%q is not a string", name)
	}
	if in := v[1 : len(v)-1]; plainJSON(in) {
		return string(in), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	return s, nil
}

// envInt decodes a member that must be an integer (or null, read as 0).
func envInt(v []byte, name string) (int64, error) {
	if len(v) == 0 || isNull(v) {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || v[0] == '+' {
		return 0, fmt.Errorf("%q is not an integer: %s", name, v)
	}
	return n, nil
}

// members calls fn with the raw key (quotes included) and value of each
// member of obj, a JSON object already checked by scanEnvelope, so this
// second walk is cheap and never fails on syntax.
func members(obj []byte, fn func(key, val []byte) error) error {
	s := scanner{b: obj}
	s.space()
	if !s.eat('{') {
		return errors.New("data is not an object")
	}
	s.space()
	if s.eat('}') {
		return nil
	}
	for {
		s.space()
		ks := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := obj[ks:s.i]
		s.space()
		s.eat(':')
		s.space()
		vs := s.i
		if err := s.value(2); err != nil {
			return err
		}
		if err := fn(key, obj[vs:s.i]); err != nil {
			return err
		}
		s.space()
		if s.eat('}') {
			return nil
		}
		if !s.eat(',') {
			return s.fail("want ',' or '}' in object")
		}
	}
}
