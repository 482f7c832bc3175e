package mmtest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// Permissions of the bot routes (model/permission.go); system admins hold
// them all by default.
const (
	permCreateBot        = "create_bot"
	permReadBots         = "read_bots"
	permReadOthersBots   = "read_others_bots"
	permManageBots       = "manage_bots"
	permManageOthersBots = "manage_others_bots"
)

// botAddMessage is api.bot.teams_channels.add_message_mobile, the post a
// new bot sends its owner.
const botAddMessage = "Please add me to teams and channels you want me to interact in. To do this, use the browser or Mattermost Desktop App."

// botJSON is the bot rec as model.Bot; a disabled bot's delete_at is the
// time its account was deactivated.
func botJSON(rec *userRec) mattermost.Bot {
	return mattermost.Bot{UserID: rec.user.ID, Username: rec.user.Username, DisplayName: rec.botName,
		Description: rec.user.BotDescription, OwnerID: rec.ownerID, CreateAt: rec.user.CreateAt,
		UpdateAt: rec.user.UpdateAt, DeleteAt: rec.user.DeleteAt}
}

// errBotNotFound is model.MakeBotNotFoundError.
func errBotNotFound() *mattermost.APIError {
	return apiError(http.StatusNotFound, "store.sql_bot.get.missing.app_error", "")
}

// botRec returns the bot with id (a disabled one only with
// includeDeleted), or the 404 of app GetBot. s.mu held.
func (st *state) botRec(id string, includeDeleted bool) (*userRec, *mattermost.APIError) {
	rec := st.users[id]
	if rec == nil || !rec.user.IsBot || rec.user.DeleteAt != 0 && !includeDeleted {
		return nil, errBotNotFound()
	}
	return rec, nil
}

// canManageBot follows app SessionHasPermissionToManageBot: the owner
// needs manage_bots, others manage_others_bots; a caller who may not even
// read the bot is told it does not exist (404), one who may read it gets
// 403. s.mu held.
func (st *state) canManageBot(userID, botID string) (*userRec, *mattermost.APIError) {
	rec, e := st.botRec(botID, true)
	if e != nil {
		return nil, e
	}
	manage, read := permManageOthersBots, permReadOthersBots
	if rec.ownerID == userID {
		manage, read = permManageBots, permReadBots
	}
	if !st.hasPermission(userID, manage) {
		if !st.hasPermission(userID, read) {
			return nil, errBotNotFound()
		}
		return nil, errPerm()
	}
	return rec, nil
}

// botPatch is model.BotPatch.
type botPatch struct {
	Username    *string `json:"username"`
	DisplayName *string `json:"display_name"`
	Description *string `json:"description"`
}

// createBotAPI is POST /bots (api4/bot.go createBot, app/bot.go
// CreateBot): create_bot (admins), and not a bot itself, else 403; then
// 403 api.bot.create_disabled unless Options.EnableBotAccountCreation;
// the fields as model.Bot.IsValidCreate checks them
// (model.bot.is_valid.*, 400), a taken username 400
// app.user.save.username_exists.app_error. 201 with the bot; new_user
// goes out, and the bot opens a direct channel with its owner and posts
// the add_bot_teams_channels message there.
func (q *request) createBotAPI() {
	var body botPatch
	if !q.decode("bot", &body) {
		return
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	name, display, desc := strings.ToLower(str(body.Username)), str(body.DisplayName), str(body.Description)
	s := q.s
	q.locked(http.StatusCreated, func(evs *[]event) (any, *mattermost.APIError) {
		st := s.st
		owner := st.users[q.sess.userID]
		switch {
		case !st.hasPermission(q.sess.userID, permCreateBot), owner.user.IsBot:
			return nil, errPerm()
		case !s.botAPI:
			return nil, apiError(http.StatusForbidden, "api.bot.create_disabled", "")
		case !isValidUsername(name):
			return nil, apiError(http.StatusBadRequest, "model.bot.is_valid.username.app_error", "")
		case runeLen(display) > 64:
			return nil, apiError(http.StatusBadRequest, "model.bot.is_valid.display_name.app_error", "")
		case runeLen(desc) > 1024:
			return nil, apiError(http.StatusBadRequest, "model.bot.is_valid.description.app_error", "")
		}
		rec, e := s.createBot(name, display, desc, q.sess.userID)
		if e != nil {
			return nil, e
		}
		*evs = append(*evs, newUserEvent(rec.user.ID))
		if dm, e := s.directChannel(rec.user.ID, owner.user.ID, rec.user.ID, evs); e == nil {
			_, _, _ = s.createPost(&mattermost.Post{ChannelID: dm.ID, UserID: rec.user.ID, Type: "add_bot_teams_channels",
				Message: botAddMessage}, postOpts{setOnline: true, markViewed: true}, evs)
		}
		return botJSON(rec), nil
	})
}

// getBots is GET /bots (api4/bot.go getBots): every bot with
// read_others_bots, the caller's own with read_bots alone, else 403;
// disabled bots with include_deleted=true, only bots whose owner is gone
// or deactivated with only_orphaned=true. By username, paged.
func (q *request) getBots() {
	v := q.r.URL.Query()
	inclDeleted, _ := strconv.ParseBool(v.Get("include_deleted"))
	orphaned, _ := strconv.ParseBool(v.Get("only_orphaned"))
	page, perPage := pageParams(q.r)
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		owner := ""
		switch {
		case st.hasPermission(uid, permReadOthersBots):
		case st.hasPermission(uid, permReadBots):
			owner = uid
		default:
			return nil, errPerm()
		}
		var recs []*userRec
		for _, rec := range st.users {
			if !rec.user.IsBot || rec.user.DeleteAt != 0 && !inclDeleted || owner != "" && rec.ownerID != owner {
				continue
			}
			if orphaned {
				if o := st.users[rec.ownerID]; o != nil && o.user.DeleteAt == 0 {
					continue
				}
			}
			recs = append(recs, rec)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].user.Username < recs[j].user.Username })
		out := []mattermost.Bot{}
		for _, rec := range pageOf(recs, page, perPage) {
			out = append(out, botJSON(rec))
		}
		return out, nil
	})
}

// getBot is GET /bots/{bot_user_id} (api4/bot.go getBot): 404
// store.sql_bot.get.missing.app_error for an unknown or (without
// include_deleted=true) disabled bot, and for a caller who may not read it
// (read_others_bots, or read_bots for the owner), so its existence does
// not leak.
func (q *request) getBot() {
	id := q.idParam("bot_user_id")
	if id == "" {
		return
	}
	inclDeleted, _ := strconv.ParseBool(q.r.URL.Query().Get("include_deleted"))
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := q.s.st
		uid := q.sess.userID
		rec, e := st.botRec(id, inclDeleted)
		if e != nil {
			return nil, e
		}
		if !st.hasPermission(uid, permReadOthersBots) && !(rec.ownerID == uid && st.hasPermission(uid, permReadBots)) {
			return nil, errBotNotFound()
		}
		return botJSON(rec), nil
	})
}

// patchBot is PUT /bots/{bot_user_id} (api4/bot.go patchBot, app PatchBot):
// the manage permission of canManageBot; username (checked as a user's:
// model.user.is_valid.username.app_error, app.user.save.username_exists.app_error),
// display name (the account's first name: model.user.is_valid.first_name.app_error
// over 64) and description (model.bot.is_valid.description.app_error over
// 1024). user_updated goes out; 200 with the bot.
func (q *request) patchBot() {
	id := q.idParam("bot_user_id")
	if id == "" {
		return
	}
	var patch botPatch
	if !q.decode("bot", &patch) {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(evs *[]event) (any, *mattermost.APIError) {
		st := s.st
		rec, e := st.canManageBot(q.sess.userID, id)
		if e != nil {
			return nil, e
		}
		if patch.Username == nil && patch.DisplayName == nil && patch.Description == nil {
			return botJSON(rec), nil // bot.WouldPatch is false: nothing saved
		}
		if patch.DisplayName != nil && runeLen(*patch.DisplayName) > 64 {
			return nil, apiError(http.StatusBadRequest, "model.user.is_valid.first_name.app_error", "")
		}
		if patch.Description != nil && runeLen(*patch.Description) > 1024 {
			return nil, apiError(http.StatusBadRequest, "model.bot.is_valid.description.app_error", "")
		}
		up := userPatch{Username: patch.Username, FirstName: patch.DisplayName}
		if e := s.patchUser(rec, up); e != nil {
			return nil, e
		}
		// model.UserFromBot: the account's e-mail follows the username.
		delete(st.byEmail, rec.user.Email)
		rec.user.Email = rec.user.Username + "@localhost"
		st.byEmail[rec.user.Email] = rec.user.ID
		if patch.DisplayName != nil {
			rec.botName = *patch.DisplayName
		}
		if patch.Description != nil {
			rec.user.BotDescription = *patch.Description
		}
		*evs = userUpdatedEvents(rec)
		return botJSON(rec), nil
	})
}

// disableBot is POST /bots/{bot_user_id}/disable and enableBot
// /enable (api4/bot.go updateBotActive, app UpdateBotActive): the manage
// permission of canManageBot; the bot's account is deactivated (its
// sessions and tokens stop working at once) or reactivated, user_updated
// goes out, and the answer is the bot, delete_at set while disabled.
func (q *request) disableBot() { q.setBotActive(false) }
func (q *request) enableBot()  { q.setBotActive(true) }

func (q *request) setBotActive(active bool) {
	id := q.idParam("bot_user_id")
	if id == "" {
		return
	}
	s := q.s
	var evs []event
	s.mu.Lock()
	rec, e := s.st.canManageBot(q.sess.userID, id)
	var out mattermost.Bot
	if e == nil {
		switch {
		case active && rec.user.DeleteAt != 0:
			rec.user.DeleteAt, rec.user.UpdateAt = 0, s.millis()
		case !active && rec.user.DeleteAt == 0:
			now := s.millis()
			rec.user.DeleteAt, rec.user.UpdateAt = now, now
		}
		evs = userUpdatedEvents(rec)
		out = botJSON(rec)
		s.touch()
	}
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	if !active {
		s.RevokeSessions(id)
	}
	s.publish(evs)
	q.reply(http.StatusOK, out)
}

// assignBot is POST /bots/{bot_user_id}/assign/{user_id} (api4/bot.go
// assignBot): the manage permission of canManageBot; a bot cannot own a
// bot (403). The new owner is stored as given (app UpdateBotOwner does not
// look the user up).
func (q *request) assignBot() {
	id := q.idParam("bot_user_id")
	if id == "" {
		return
	}
	owner := q.userParam()
	if owner == "" {
		return
	}
	s := q.s
	q.locked(http.StatusOK, func(*[]event) (any, *mattermost.APIError) {
		st := s.st
		rec, e := st.canManageBot(q.sess.userID, id)
		if e != nil {
			return nil, e
		}
		if u := st.users[owner]; u != nil && u.user.IsBot {
			return nil, errPerm()
		}
		rec.ownerID = owner
		rec.user.UpdateAt = s.millis()
		s.touch()
		return botJSON(rec), nil
	})
}
