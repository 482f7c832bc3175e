package mmtest

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sort"
	"strconv"

	"github.com/matterbot/matterbot/mattermost"
)

// getProfileImage is GET /users/{user_id}/image (api4/user.go
// getProfileImage): 404 app.user.missing_account.const for an unknown
// user; otherwise a PNG with Cache-Control "max-age=86400, private" and
// the ETag last_picture_update, or 304 when If-None-Match carries it.
// Nobody uploads a picture to the fake, so the image is always the
// default one: the server draws the user's initial on a colour of its
// palette; the fake a plain 128×128 square whose colour follows the user
// id (the same bytes each time).
func (q *request) getProfileImage() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	s := q.s
	s.mu.Lock()
	rec := s.st.users[uid]
	var etag string
	if rec != nil {
		etag = strconv.FormatInt(rec.user.LastPictureUpdate, 10)
	}
	s.mu.Unlock()
	if rec == nil {
		q.fail(apiError(http.StatusNotFound, "app.user.missing_account.const", ""))
		return
	}
	h := q.w.Header()
	if q.r.Header.Get("If-None-Match") == etag {
		h.Set("ETag", etag)
		q.w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Cache-Control", "max-age=86400, private")
	h.Set("ETag", etag)
	h.Set("Content-Type", "image/png")
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(defaultAvatar(uid))
}

// defaultAvatar draws the fake's default profile picture of userID.
func defaultAvatar(userID string) []byte {
	hs := fnv.New32a()
	_, _ = hs.Write([]byte(userID))
	sum := hs.Sum32()
	c := color.RGBA{R: uint8(sum), G: uint8(sum >> 8), B: uint8(sum >> 16), A: 0xff}
	img := image.NewPaletted(image.Rect(0, 0, 128, 128), color.Palette{c})
	var b bytes.Buffer
	_ = png.Encode(&b, img) // writing to memory does not fail
	return b.Bytes()
}

// sessionOut is model.Session as GET /users/{user_id}/sessions sends it:
// Sanitize blanks the token.
type sessionOut struct {
	ID             string                   `json:"id"`
	Token          string                   `json:"token"`
	CreateAt       int64                    `json:"create_at"`
	ExpiresAt      int64                    `json:"expires_at"`
	LastActivityAt int64                    `json:"last_activity_at"`
	UserID         string                   `json:"user_id"`
	DeviceID       string                   `json:"device_id"`
	Roles          string                   `json:"roles"`
	IsOAuth        bool                     `json:"is_oauth"`
	ExpiredNotify  bool                     `json:"expired_notify"`
	Props          map[string]string        `json:"props"`
	TeamMembers    []*mattermost.TeamMember `json:"team_members"`
	Local          bool                     `json:"local"`
}

const dayMillis = 24 * 60 * 60 * 1000

// getSessions is GET /users/{user_id}/sessions (api4/user.go getSessions):
// the user themself or edit_other_users (admins), else 403; every live
// session of the user, personal access tokens in use included, most
// recently active first (store GetSessions), tokens blanked. Login
// sessions carry the props of app/login.go DoLogin (isMobile, isSaml,
// isOAuthUser, is_guest; the fake records no csrf, platform, os or
// browser) and expire after the web session length (5.36's default
// SessionLengthWebInDays 180; today's SessionLengthWebInHours 720, 30
// days); token sessions the
// props of createSessionForUserAccessToken and a 100-year expiry. The
// fake tracks no activity: last_activity_at is create_at.
func (q *request) getSessions() {
	uid := q.userParam()
	if uid == "" {
		return
	}
	webDays := int64(30)
	if q.s.is536() {
		webDays = 180
	}
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		if !st.canActForUser(q.sess.userID, uid) {
			return nil, errPerm()
		}
		rec := st.users[uid]
		out := []sessionOut{}
		for _, ss := range st.sessions {
			if ss.userID != uid || rec == nil {
				continue
			}
			so := sessionOut{ID: ss.id, CreateAt: ss.createAt, LastActivityAt: ss.createAt, UserID: uid,
				Roles: rec.user.Roles, IsOAuth: ss.oauth, ExpiresAt: ss.createAt + webDays*dayMillis,
				Props: map[string]string{"isMobile": "false", "isSaml": "false", "isOAuthUser": "false", "is_guest": "false"}}
			if ss.patID != "" {
				so.ExpiresAt = ss.createAt + 100*365*dayMillis
				so.Props = map[string]string{"type": "UserAccessToken", "user_access_token_id": ss.patID, "is_guest": "false"}
				if rec.user.IsBot {
					so.Props["is_bot"] = "true"
				}
			}
			out = append(out, so)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].LastActivityAt != out[j].LastActivityAt {
				return out[i].LastActivityAt > out[j].LastActivityAt
			}
			return out[i].ID < out[j].ID
		})
		return out, nil
	})
}
