package mattermost

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PostPatch is a partial update of a post: nil fields are left as they are.
type PostPatch struct {
	Message      *string         `json:"message,omitempty"`
	IsPinned     *bool           `json:"is_pinned,omitempty"`
	FileIDs      *[]string       `json:"file_ids,omitempty"`
	HasReactions *bool           `json:"has_reactions,omitempty"`
	Props        *map[string]any `json:"props,omitempty"`
}

// postCreate is what a client sends to create a post: the fields the
// server takes from the client, and no zero-valued server fields.
type postCreate struct {
	ChannelID     string         `json:"channel_id"`
	Message       string         `json:"message"`
	RootID        string         `json:"root_id,omitempty"`
	FileIDs       []string       `json:"file_ids,omitempty"`
	Props         map[string]any `json:"props,omitempty"`
	Type          string         `json:"type,omitempty"`
	PendingPostID string         `json:"pending_post_id,omitempty"`
}

func newPostCreate(p *Post) postCreate {
	return postCreate{ChannelID: p.ChannelID, Message: p.Message, RootID: p.RootID, FileIDs: p.FileIDs,
		Props: p.Props, Type: p.Type, PendingPostID: p.PendingPostID}
}

var errNilPost = errors.New("mattermost: nil post")

// CreatePost creates a post from ChannelID, Message, RootID (to reply in a
// thread), FileIDs (at most 10, from UploadFile), Props (e.g.
// "attachments": []*Attachment) and Type of p; p is not modified.
//
// When p.PendingPostID is empty the client sets one ("<user_id>:<ms>", the
// webapp's convention, with a tag of the client's own, so that it is
// unique across clients and restarts; a fresh id until our user id is
// known). The server answers the same post for the same pending_post_id
// for 30 s, so CreatePost is retried like an idempotent call: a retry after
// a lost answer does not post twice.
// https://developers.mattermost.com/api-documentation/#/operations/CreatePost
func (c *Client) CreatePost(ctx context.Context, p *Post) (*Post, *Response, error) {
	if p == nil {
		return nil, nil, errNilPost
	}
	body := newPostCreate(p)
	if body.PendingPostID == "" {
		body.PendingPostID = c.pendingPostID()
	}
	out := new(Post)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/posts", route: "/api/v4/posts", body: body, idempotent: true}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// PendingPostID returns a fresh pending_post_id in the client's
// convention (see CreatePost). A caller that retries CreatePost itself,
// beyond the client's own retries, sets it on the Post once and sends the
// same Post on every attempt, so that the server answers the first post
// made instead of posting again (for as long as the server remembers the
// id: 30 s after the first attempt).
func (c *Client) PendingPostID() string { return c.pendingPostID() }

// pendingPostID returns "<user_id>:<ms>:<tag>" with ms strictly
// increasing for this client, so two posts created in the same
// millisecond do not collide (the server would answer the first post for
// the second), and tag drawn at random for each client, so that a
// process restarted within the server's 30 s (whose last ms may run
// ahead of the clock after a burst of posts) does not reuse the ids of
// the one before and have its posts answered with the old ones; or a
// fresh id while our user id is unknown. The server keys its cache by
// this string alone (app/post.go deduplicateCreatePost) and does not
// parse it.
func (c *Client) pendingPostID() string {
	ms := c.now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.userID == "" {
		return NewID()
	}
	if ms <= c.lastPending {
		ms = c.lastPending + 1
	}
	c.lastPending = ms
	// One allocation: the id, built in place.
	var id strings.Builder
	id.Grow(len(c.userID) + 1 + 20 + 1 + len(c.pendingTag))
	id.WriteString(c.userID)
	id.WriteByte(':')
	var digits [20]byte
	id.Write(strconv.AppendInt(digits[:0], ms, 10))
	id.WriteByte(':')
	id.WriteString(c.pendingTag)
	return id.String()
}

// CreateEphemeralPost shows a post to one user only, without storing it
// (ChannelID, Message and Props of p are used). It needs the
// create_post_ephemeral permission, which system admins have and plain
// users and bots by default do not (403): fall back to a DM then. Not
// retried.
// https://developers.mattermost.com/api-documentation/#/operations/CreatePostEphemeral
func (c *Client) CreateEphemeralPost(ctx context.Context, userID string, p *Post) (*Post, *Response, error) {
	if p == nil {
		return nil, nil, errNilPost
	}
	pc := newPostCreate(p)
	pc.PendingPostID = ""
	body := struct {
		UserID string     `json:"user_id"`
		Post   postCreate `json:"post"`
	}{userID, pc}
	out := new(Post)
	r, err := c.do(ctx, &request{method: http.MethodPost, path: "/posts/ephemeral", route: "/api/v4/posts/ephemeral", body: body}, out)
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// Post returns a post by id (404 when unknown or deleted).
// https://developers.mattermost.com/api-documentation/#/operations/GetPost
func (c *Client) Post(ctx context.Context, postID string) (*Post, *Response, error) {
	p := new(Post)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: "/posts/" + pathEscape(postID), route: "/api/v4/posts/{post_id}", idempotent: true}, p)
	if err != nil {
		return nil, r, err
	}
	return p, r, nil
}

// PatchPost changes the fields of a post that are set in patch.
// https://developers.mattermost.com/api-documentation/#/operations/PatchPost
func (c *Client) PatchPost(ctx context.Context, postID string, patch *PostPatch) (*Post, *Response, error) {
	if patch == nil {
		patch = &PostPatch{}
	}
	p := new(Post)
	r, err := c.do(ctx, &request{method: http.MethodPut, path: "/posts/" + pathEscape(postID) + "/patch", route: "/api/v4/posts/{post_id}/patch", body: patch, idempotent: true}, p)
	if err != nil {
		return nil, r, err
	}
	return p, r, nil
}

// EditPost replaces the message of a post.
func (c *Client) EditPost(ctx context.Context, postID, message string) (*Post, *Response, error) {
	return c.PatchPost(ctx, postID, &PostPatch{Message: &message})
}

// DeletePost deletes a post (soft delete: its delete_at is set). A retry
// after a lost answer reports 404 for a post that was in fact deleted.
// https://developers.mattermost.com/api-documentation/#/operations/DeletePost
func (c *Client) DeletePost(ctx context.Context, postID string) (*Response, error) {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/posts/" + pathEscape(postID), route: "/api/v4/posts/{post_id}", idempotent: true}, &statusOK{})
}

// PostThread returns a thread: the root post and all its replies, postID
// being the root or any reply.
// https://developers.mattermost.com/api-documentation/#/operations/GetPostThread
func (c *Client) PostThread(ctx context.Context, postID string) (*PostList, *Response, error) {
	return c.postList(ctx, "/posts/"+pathEscape(postID)+"/thread", "/api/v4/posts/{post_id}/thread", nil)
}

// ChannelPosts returns a page of a channel's posts, newest first. page is
// 0-based; perPage 0 means the server's default (60, at most 200).
// https://developers.mattermost.com/api-documentation/#/operations/GetPostsForChannel
func (c *Client) ChannelPosts(ctx context.Context, channelID string, page, perPage int) (*PostList, *Response, error) {
	return c.postList(ctx, "/channels/"+pathEscape(channelID)+"/posts", "/api/v4/channels/{channel_id}/posts", pageQuery(page, perPage))
}

// ChannelPostsSince returns every post of a channel created, edited or
// deleted after since (Unix milliseconds, e.g. the largest update_at seen),
// without paging: the way to catch up after a WebSocket gap.
func (c *Client) ChannelPostsSince(ctx context.Context, channelID string, since int64) (*PostList, *Response, error) {
	q := url.Values{"since": {strconv.FormatInt(since, 10)}}
	return c.postList(ctx, "/channels/"+pathEscape(channelID)+"/posts", "/api/v4/channels/{channel_id}/posts", q)
}

// ChannelPostsAfter returns a page of the posts newer than postID.
func (c *Client) ChannelPostsAfter(ctx context.Context, channelID, postID string, page, perPage int) (*PostList, *Response, error) {
	q := pageQuery(page, perPage)
	q.Set("after", postID)
	return c.postList(ctx, "/channels/"+pathEscape(channelID)+"/posts", "/api/v4/channels/{channel_id}/posts", q)
}

// ChannelPostsBefore returns a page of the posts older than postID.
func (c *Client) ChannelPostsBefore(ctx context.Context, channelID, postID string, page, perPage int) (*PostList, *Response, error) {
	q := pageQuery(page, perPage)
	q.Set("before", postID)
	return c.postList(ctx, "/channels/"+pathEscape(channelID)+"/posts", "/api/v4/channels/{channel_id}/posts", q)
}

func (c *Client) postList(ctx context.Context, path, route string, q url.Values) (*PostList, *Response, error) {
	l := new(PostList)
	r, err := c.do(ctx, &request{method: http.MethodGet, path: path, route: route, query: q, idempotent: true}, l)
	if err != nil {
		return nil, r, err
	}
	return l, r, nil
}
