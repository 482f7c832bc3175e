package mmtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/matterbot/matterbot/mattermost"
)

// Interactive messages and dialogs, after server/channels/api4/integration_action.go
// (routes), server/channels/app/integration_action.go (DoPostActionWithCookie,
// DoActionRequest, OpenInteractiveDialog, SubmitInteractiveDialog) and
// server/public/model/integration_action.go (trigger ids, PostActionCookie).
//
// The fake calls integration URLs on any address, the loopback included:
// it behaves as a server whose ServiceSettings.AllowedUntrustedInternalConnections
// lists the bot's host. A default server refuses to call private and
// loopback addresses.

// integrationTimeout is ServiceSettings.OutgoingIntegrationRequestsTimeout's
// default (30 seconds): how long the server waits for an integration, and
// how long a trigger id is good for.
const integrationTimeout = 30 * time.Second

// integrationClient is the client the fake calls integrations with. No
// keep-alive: an idle connection would outlive the test that made it.
var integrationClient = &http.Client{
	Timeout:   integrationTimeout,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// signingKey is the server's asymmetric signing key (app
// AsymmetricSigningKey), made on first use.
func (s *Server) signingKey() *ecdsa.PrivateKey {
	s.keyOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic("mmtest: signing key: " + err.Error())
		}
		s.key = k
	})
	return s.key
}

// newTriggerID returns a trigger id for userID, as model.GenerateTriggerId
// makes it: base64 of "clientTriggerId:userId:millis:" and the base64
// ECDSA signature of its SHA-256; and the client trigger id, which the
// clicking client gets back.
func (s *Server) newTriggerID(userID string) (clientID, triggerID string) {
	clientID = mattermost.NewID()
	data := clientID + ":" + userID + ":" + strconv.FormatInt(s.millis(), 10) + ":"
	sum := sha256.Sum256([]byte(data))
	sig, err := s.signingKey().Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		panic("mmtest: sign trigger id: " + err.Error())
	}
	return clientID, base64.StdEncoding.EncodeToString([]byte(data + base64.StdEncoding.EncodeToString(sig)))
}

// verifyTriggerID is model.DecodeAndVerifyTriggerId: it returns the
// client trigger id and the user id of a trigger id this server made
// less than integrationTimeout ago, or the server's 400.
func (s *Server) verifyTriggerID(triggerID string) (clientID, userID string, e *mattermost.APIError) {
	bad := func(what string) *mattermost.APIError {
		return apiError(http.StatusBadRequest, "interactive_message.decode_trigger_id."+what, "")
	}
	raw, err := base64.StdEncoding.DecodeString(triggerID)
	if err != nil {
		return "", "", bad("base64_decode_failed")
	}
	split := strings.Split(string(raw), ":")
	if len(split) != 4 {
		return "", "", bad("missing_data")
	}
	ms, _ := strconv.ParseInt(split[2], 10, 64)
	if s.now().Sub(time.UnixMilli(ms)) > integrationTimeout {
		return "", "", bad("expired")
	}
	sig, err := base64.StdEncoding.DecodeString(split[3])
	if err != nil {
		return "", "", bad("base64_decode_failed_signature")
	}
	var esig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &esig); err != nil {
		return "", "", bad("signature_decode_failed")
	}
	sum := sha256.Sum256([]byte(split[0] + ":" + split[1] + ":" + split[2] + ":"))
	if !ecdsa.Verify(&s.signingKey().PublicKey, sum[:], esig.R, esig.S) {
		return "", "", bad("verify_signature_failed")
	}
	return split[0], split[1], nil
}

// generateActionIDs gives an id to each action without one
// (model.Post.GenerateActionIds, run by Post.PreCommit on every save).
func generateActionIDs(atts []*mattermost.Attachment) {
	for _, a := range atts {
		for _, act := range a.Actions {
			if act != nil && act.ID == "" {
				act.ID = mattermost.NewID()
			}
		}
	}
}

// retainPropKeys is model.PostActionRetainPropKeys: the props an
// integration's update of its post keeps from the original.
var retainPropKeys = []string{"from_webhook", "override_username", "override_icon_url"}

// actionIDRE is the action_id of the route (api4/integration_action.go InitAction).
var actionIDRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// doPostAction is POST /posts/{post_id}/actions/{action_id}
// (api4/integration_action.go doPostAction, app DoPostActionWithCookie):
// the caller must read the post's channel (403); an unknown post is 404
// app.post.get.app_error, an action without integration 404
// api.post.do_action.action_id.app_error. The server POSTs a
// PostActionIntegrationRequest to the action's URL (its context, with
// selected_option for a select, and a new trigger id) and waits
// integrationTimeout; no answer, or a status other than 200, is 400
// api.post.do_action.action_integration.app_error. It then applies the
// answer: update replaces the post (app UpdatePost, props whole, keeping
// those of retainPropKeys; the original props when update has none; pin
// and reactions kept), ephemeral_text goes to the clicking user alone,
// in the post's thread, with Slack links made markdown unless
// skip_slack_parsing. 200 {"status":"OK","trigger_id":<client trigger id>}.
//
// Ephemeral posts carry no stored actions: the fake does not issue the
// encrypted cookies that let a real server run their actions, and
// answers a request with a cookie 400.
func (q *request) doPostAction() {
	postID := q.idParam("post_id")
	if postID == "" {
		return
	}
	actionID := q.params["action_id"]
	if !actionIDRE.MatchString(actionID) {
		handle404(q.w, q.r)
		return
	}
	var body struct {
		SelectedOption string `json:"selected_option"`
		Cookie         string `json:"cookie"`
	}
	_ = json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, maxPayload)).Decode(&body) // the server only logs a bad body
	if body.Cookie != "" {
		q.fail(apiError(http.StatusBadRequest, "api.post.do_action.action_integration.app_error", ""))
		return
	}
	s := q.s
	uid := q.sess.userID

	s.mu.Lock()
	st := s.st
	p := st.posts[postID]
	if p == nil || !st.canReadChannel(st.channels[p.ChannelID], uid) {
		s.mu.Unlock()
		// SessionHasPermissionToChannelByPost fails for a post it cannot find.
		q.failPerm()
		return
	}
	if p.DeleteAt != 0 {
		s.mu.Unlock()
		q.fail(apiError(http.StatusNotFound, "app.post.get.app_error", ""))
		return
	}
	ch := st.channels[p.ChannelID]
	var act *mattermost.AttachmentAction
	if atts, ok := p.Props["attachments"].([]*mattermost.Attachment); ok {
		for _, a := range atts {
			for _, x := range a.Actions {
				if x != nil && x.ID == actionID && act == nil {
					act = x
				}
			}
		}
	}
	if act == nil || act.Integration == nil {
		s.mu.Unlock()
		q.fail(apiError(http.StatusNotFound, "api.post.do_action.action_id.app_error", ""))
		return
	}
	up := mattermost.PostActionIntegrationRequest{
		UserID: uid, PostID: postID, ChannelID: ch.ID, ChannelName: ch.Name, TeamID: ch.TeamID,
		Type: act.Type, Context: copyMap(act.Integration.Context),
	}
	if u := st.users[uid]; u != nil {
		up.UserName = u.user.Username
	}
	if t := st.teams[ch.TeamID]; t != nil {
		up.TeamName = t.Name
	}
	if up.Type == mattermost.ActionTypeSelect && body.SelectedOption != "" {
		if up.Context == nil {
			up.Context = map[string]any{}
		}
		up.DataSource = act.DataSource
		up.Context["selected_option"] = body.SelectedOption
	}
	retain, remove := map[string]any{}, []string{}
	for _, k := range retainPropKeys {
		if v, ok := p.Props[k]; ok {
			retain[k] = v
		} else {
			remove = append(remove, k)
		}
	}
	rootID := p.RootID
	if rootID == "" {
		rootID = p.ID
	}
	url := act.Integration.URL
	clientID, triggerID := s.newTriggerID(uid)
	up.TriggerID = triggerID
	s.mu.Unlock()

	// No lock while the integration runs: it calls the server back.
	var resp mattermost.PostActionIntegrationResponse
	b, e := s.doActionRequest(q.r.Context(), url, up)
	if e != nil {
		q.fail(e)
		return
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &resp); err != nil {
			q.fail(apiError(http.StatusBadRequest, "api.post.do_action.action_integration.app_error", ""))
			return
		}
	}

	var evs []event
	s.mu.Lock()
	if u := resp.Update; u != nil {
		p := st.posts[postID]
		if p == nil || p.DeleteAt != 0 {
			s.mu.Unlock()
			q.fail(apiError(http.StatusBadRequest, "api.post.update_post.find.app_error", ""))
			return
		}
		props := u.Props
		if props == nil {
			props = copyMap(p.Props)
		} else {
			props = copyMap(props)
			for k, v := range retain {
				props[k] = v
			}
			for _, k := range remove {
				delete(props, k)
			}
		}
		pinned := p.IsPinned
		if _, e := s.updatePostLocked(p, &u.Message, &pinned, &props, nil, false, &evs); e != nil {
			s.mu.Unlock()
			q.fail(e)
			return
		}
	}
	if resp.EphemeralText != "" {
		text := resp.EphemeralText
		if !resp.SkipSlackParsing {
			text = parseSlackLinks(text)
		}
		ep := &mattermost.Post{ChannelID: up.ChannelID, RootID: rootID, UserID: uid, Message: text, Props: copyMap(retain)}
		s.sendEphemeralLocked(uid, ep, &evs)
	}
	s.mu.Unlock()
	s.publish(evs)
	q.reply(http.StatusOK, mattermost.PostActionAPIResponse{Status: "OK", TriggerID: clientID})
}

// sendEphemeralLocked shows p to userID alone (app SendEphemeralPost):
// a new id, now, type ephemeral, published as ephemeral_message. s.mu
// held.
func (s *Server) sendEphemeralLocked(userID string, p *mattermost.Post, evs *[]event) {
	p.ID, p.CreateAt, p.Type, p.ParentID = mattermost.NewID(), s.millis(), mattermost.PostTypeEphemeral, p.RootID
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	out := s.postOut(p)
	*evs = append(*evs, event{name: "ephemeral_message", userID: userID, channelID: p.ChannelID,
		data: map[string]any{"post": jsonString(&out)}})
}

// doActionRequest POSTs v as JSON to an integration's url (app
// DoActionRequest) and returns the body of its 200 answer; anything else
// is 400 api.post.do_action.action_integration.app_error.
func (s *Server) doActionRequest(ctx context.Context, url string, v any) ([]byte, *mattermost.APIError) {
	fail := apiError(http.StatusBadRequest, "api.post.do_action.action_integration.app_error", "")
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fail
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), integrationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fail
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := integrationClient.Do(req)
	if err != nil {
		s.logger.Debug("integration request failed", "err", err)
		return nil, fail
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		s.logger.Debug("integration refused", "status", resp.StatusCode)
		return nil, fail
	}
	return b, nil
}

// slackLinkRE matches Slack's <url|text> and <url> links.
var slackLinkRE = regexp.MustCompile(`<([^<>|\s]+)(?:\|([^<>]+))?>`)

// parseSlackLinks is model.ParseSlackLinksToMarkdown: <url|text> becomes
// [text](url), <url> becomes url.
func parseSlackLinks(text string) string {
	return slackLinkRE.ReplaceAllStringFunc(text, func(m string) string {
		sm := slackLinkRE.FindStringSubmatch(m)
		if !strings.Contains(sm[1], "://") && !strings.HasPrefix(sm[1], "mailto:") {
			return m
		}
		if sm[2] == "" {
			return sm[1]
		}
		return "[" + sm[2] + "](" + sm[1] + ")"
	})
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// openDialog is POST /actions/dialogs/open (api4/integration_action.go
// openDialog, app OpenInteractiveDialog). It needs no session: the
// trigger id is the proof. A body that does not decode is 400
// invalid_body_param dialog, an empty url 400 invalid_param url, a bad
// or expired trigger id 400 interactive_message.decode_trigger_id.*. An
// invalid dialog is only logged, as the server does. The dialog goes to
// the trigger's user as open_dialog, its data["dialog"] the request
// encoded, with the client trigger id. 200 {"status":"OK"}.
func (q *request) openDialog() {
	var req mattermost.OpenDialogRequest
	if !q.decode("dialog", &req) {
		return
	}
	if req.URL == "" {
		q.failParam("url")
		return
	}
	s := q.s
	clientID, userID, e := s.verifyTriggerID(req.TriggerID)
	if e != nil {
		q.fail(e)
		return
	}
	if d := req.Dialog; d.Title == "" || len(d.Title) > 24 {
		s.logger.Warn("interactive dialog is invalid", "title", d.Title)
	}
	req.TriggerID = clientID
	s.publish([]event{{name: mattermost.EventOpenDialog, userID: userID, data: map[string]any{"dialog": jsonString(&req)}}})
	q.ok()
}

// submitDialog is POST /actions/dialogs/submit (api4/integration_action.go
// submitDialog, app SubmitInteractiveDialog): the body a
// SubmitDialogRequest (400 invalid_body_param dialog), url required (400
// invalid_param url); user_id becomes the caller's; the caller must read
// channel_id (404 for an unknown channel, 403) and view team_id (403,
// also for an empty team). The server POSTs the request to url with type
// "dialog_submission" and no url, waits integrationTimeout (400
// api.post.do_action.action_integration.app_error for no answer or a
// status other than 200), and answers 200 with the integration's
// SubmitDialogResponse, an undecodable answer counting as empty.
func (q *request) submitDialog() {
	var sub mattermost.SubmitDialogRequest
	if !q.decode("dialog", &sub) {
		return
	}
	if sub.URL == "" {
		q.failParam("url")
		return
	}
	s := q.s
	sub.UserID = q.sess.userID
	s.mu.Lock()
	ch := s.st.channels[sub.ChannelID]
	var e *mattermost.APIError
	switch {
	case ch == nil:
		e = apiError(http.StatusNotFound, "app.channel.get.existing.app_error", "")
	case !s.st.canReadChannel(ch, sub.UserID):
		e = errPerm()
	case !s.st.hasTeamPermission(sub.TeamID, sub.UserID, permViewTeam):
		e = errPerm()
	}
	s.mu.Unlock()
	if e != nil {
		q.fail(e)
		return
	}
	url := sub.URL
	sub.URL, sub.Type = "", "dialog_submission"
	b, e := s.doActionRequest(q.r.Context(), url, sub)
	if e != nil {
		q.fail(e)
		return
	}
	var resp struct {
		Error  string            `json:"error,omitempty"`
		Errors map[string]string `json:"errors,omitempty"`
		Type   string            `json:"type,omitempty"`
		Form   json.RawMessage   `json:"form,omitempty"`
	}
	_ = json.Unmarshal(b, &resp) // an empty answer is acceptable
	q.reply(http.StatusOK, resp)
}
