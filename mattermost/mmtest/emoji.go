package mmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// emojiRec is a stored custom emoji; the fake keeps no image.
type emojiRec struct {
	emoji mattermost.Emoji
}

// AddEmoji stores a custom emoji named name (1–64 of [A-Za-z0-9_+-],
// unique) created by creatorID, as the System Console's upload would
// (the fake keeps no image). The server's custom emoji setting is on
// (ServiceSettings.EnableCustomEmoji, the current default).
func (s *Server) AddEmoji(name, creatorID string) (*mattermost.Emoji, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !isValidEmojiName(name) {
		return nil, fmt.Errorf("mmtest: add emoji: invalid name %q", name)
	}
	if s.st.users[creatorID] == nil {
		return nil, fmt.Errorf("mmtest: add emoji %q: no user %s", name, creatorID)
	}
	if s.st.emojiByName(name) != nil {
		return nil, fmt.Errorf("mmtest: add emoji: %q exists", name)
	}
	if s.st.emojis == nil {
		s.st.emojis = map[string]*emojiRec{}
	}
	now := s.millis()
	rec := &emojiRec{emoji: mattermost.Emoji{ID: mattermost.NewID(), CreateAt: now, UpdateAt: now, CreatorID: creatorID, Name: name}}
	s.st.emojis[rec.emoji.ID] = rec
	s.touch()
	e := rec.emoji
	return &e, nil
}

// emojiByName returns the live emoji called name, or nil. s.mu held.
func (st *state) emojiByName(name string) *emojiRec {
	for _, e := range st.emojis {
		if e.emoji.Name == name && e.emoji.DeleteAt == 0 {
			return e
		}
	}
	return nil
}

// liveEmojis returns copies of the live emojis keep accepts, by name.
// s.mu held.
func (st *state) liveEmojis(keep func(*mattermost.Emoji) bool) []mattermost.Emoji {
	out := []mattermost.Emoji{}
	for _, e := range st.emojis {
		if e.emoji.DeleteAt == 0 && keep(&e.emoji) {
			out = append(out, e.emoji)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// getEmojiList is GET /emoji (api4/emoji.go getEmojiList): sort is "" or
// "name" (else 400 invalid_url_param sort); the live custom emojis, paged;
// by name with sort=name, else in creation order (the store's order is
// unspecified without a sort).
func (q *request) getEmojiList() {
	sortBy := q.r.URL.Query().Get("sort")
	if sortBy != "" && sortBy != "name" {
		q.failURLParam("sort")
		return
	}
	page, perPage := pageParams(q.r)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := q.s.st.liveEmojis(func(*mattermost.Emoji) bool { return true })
		if sortBy == "" {
			sort.SliceStable(out, func(i, j int) bool { return out[i].CreateAt < out[j].CreateAt })
		}
		return pageOf(out, page, perPage), nil
	})
}

// getEmoji is GET /emoji/{emoji_id}: 400 invalid_url_param emoji_id for a
// malformed id, 404 app.emoji.get.no_result for an unknown one (app
// GetEmoji).
func (q *request) getEmoji() {
	id := q.idParam("emoji_id")
	if id == "" {
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		e := q.s.st.emojis[id]
		if e == nil || e.emoji.DeleteAt != 0 {
			return nil, apiError(http.StatusNotFound, "app.emoji.get.no_result", "")
		}
		return e.emoji, nil
	})
}

// getEmojiByName is GET /emoji/name/{emoji_name}: 400 invalid_url_param
// emoji_name for a name over 64 characters, 404
// app.emoji.get_by_name.no_result for an unknown one (system emojis such
// as "smile" are not custom emojis and are unknown here too).
func (q *request) getEmojiByName() {
	name := q.params["emoji_name"]
	if !isValidEmojiName(name) {
		q.failURLParam("emoji_name")
		return
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		e := q.s.st.emojiByName(name)
		if e == nil {
			return nil, apiError(http.StatusNotFound, "app.emoji.get_by_name.no_result", "")
		}
		return e.emoji, nil
	})
}

// searchEmojis is POST /emoji/search (api4/emoji.go searchEmojis): body
// {"term", "prefix_only"}, 400 term when empty; names containing the
// term (or starting with it with prefix_only), by name, at most 200
// (web.PerPageMaximum).
func (q *request) searchEmojis() {
	var body struct {
		Term       string `json:"term"`
		PrefixOnly bool   `json:"prefix_only"`
	}
	if err := decodeJSON(q, &body); err != nil {
		q.failParam("term")
		return
	}
	if body.Term == "" {
		q.failParam("term")
		return
	}
	q.emojiSearch(strings.ToLower(body.Term), body.PrefixOnly, 200)
}

// autocompleteEmojis is GET /emoji/autocomplete?name= (api4/emoji.go
// autocompleteEmojis): 400 invalid_url_param name when empty; names
// starting with it, at most 100.
func (q *request) autocompleteEmojis() {
	name := q.r.URL.Query().Get("name")
	if name == "" {
		q.failURLParam("name")
		return
	}
	q.emojiSearch(strings.ToLower(name), true, 100)
}

func (q *request) emojiSearch(term string, prefixOnly bool, limit int) {
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		out := q.s.st.liveEmojis(func(e *mattermost.Emoji) bool {
			n := strings.ToLower(e.Name)
			return strings.HasPrefix(n, term) || !prefixOnly && strings.Contains(n, term)
		})
		return out[:min(len(out), limit)], nil
	})
}

// decodeJSON decodes the request body into v, limited to the server's
// maximum payload, and returns the error without answering.
func decodeJSON(q *request, v any) error {
	return json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, maxPayload)).Decode(v)
}
