package mattermost

import "encoding/json"

// The JSON shapes below follow server/public/model in mattermost/mattermost
// and, where releases differ, the field set a 5.36 server actually sends
// (see /work/shared/mattermost/recorded). A field is omitempty exactly when
// the server's is, so encoding one of these values (as package mmtest does)
// yields the field set the real server writes. Fields that only newer servers
// send carry omitempty so a 5.36-shaped encoding does not grow them.

// Channel types, the values of [Channel.Type].
const (
	ChannelOpen    = "O" // public channel
	ChannelPrivate = "P" // private channel
	ChannelDirect  = "D" // direct message between two users
	ChannelGroup   = "G" // group message among 3 to 8 users
)

// Team types, the values of [Team.Type].
const (
	TeamOpen   = "O" // anyone on the server may join
	TeamInvite = "I" // invite only
)

// PostMessageMaxRunes is the longest Post.Message the server accepts,
// counted in runes (model.PostMessageMaxRunesV2 = 65535/4). A longer message
// gets 400 model.post.is_valid.msg.app_error.
const PostMessageMaxRunes = 16383

// PostFileIDsMax is the most file ids one post may carry.
const PostFileIDsMax = 10

// Post types a bot meets. Types starting with [PostSystemPrefix] are
// server-generated system messages (joins, header changes...).
const (
	PostSystemPrefix     = "system_"
	PostTypeEphemeral    = "system_ephemeral"
	PostTypeAttachment   = "slack_attachment"
	PostTypeMe           = "me"
	PostTypeHeaderChange = "system_header_change"
)

// Statuses, the values of [Status.Status].
const (
	StatusOnline  = "online"
	StatusAway    = "away"
	StatusDND     = "dnd"
	StatusOffline = "offline"
)

// User is a Mattermost account, human or bot (model.User). Password,
// auth_data contents and the MFA secret are never sent by the server and are
// not modelled. Email and names may be blank for other users depending on
// the server's privacy settings.
type User struct {
	ID                     string            `json:"id"`
	CreateAt               int64             `json:"create_at"`
	UpdateAt               int64             `json:"update_at"`
	DeleteAt               int64             `json:"delete_at"` // > 0: deactivated
	Username               string            `json:"username"`  // lowercase
	AuthData               string            `json:"auth_data"` // "" once sanitized
	AuthService            string            `json:"auth_service"`
	Email                  string            `json:"email"`
	EmailVerified          bool              `json:"email_verified,omitempty"`
	Nickname               string            `json:"nickname"`
	FirstName              string            `json:"first_name"`
	LastName               string            `json:"last_name"`
	Position               string            `json:"position"`
	Roles                  string            `json:"roles"` // space separated, e.g. "system_user"
	AllowMarketing         bool              `json:"allow_marketing,omitempty"`
	Props                  map[string]string `json:"props,omitempty"`
	NotifyProps            map[string]string `json:"notify_props,omitempty"`
	LastPasswordUpdate     int64             `json:"last_password_update,omitempty"`
	LastPictureUpdate      int64             `json:"last_picture_update,omitempty"`
	FailedAttempts         int               `json:"failed_attempts,omitempty"`
	Locale                 string            `json:"locale"`
	Timezone               map[string]string `json:"timezone"` // useAutomaticTimezone, automaticTimezone, manualTimezone
	MFAActive              bool              `json:"mfa_active,omitempty"`
	RemoteID               string            `json:"remote_id,omitempty"`
	LastActivityAt         int64             `json:"last_activity_at,omitempty"`
	IsBot                  bool              `json:"is_bot,omitempty"`
	BotDescription         string            `json:"bot_description,omitempty"`
	BotLastIconUpdate      int64             `json:"bot_last_icon_update,omitempty"`
	TermsOfServiceID       string            `json:"terms_of_service_id,omitempty"`
	TermsOfServiceCreateAt int64             `json:"terms_of_service_create_at,omitempty"`
	DisableWelcomeEmail    bool              `json:"disable_welcome_email"`
	LastLogin              int64             `json:"last_login,omitempty"`
}

// Team is a Mattermost team (model.Team). The server sends scheme_id,
// group_constrained and policy_id as null when unset.
type Team struct {
	ID                 string  `json:"id"`
	CreateAt           int64   `json:"create_at"`
	UpdateAt           int64   `json:"update_at"`
	DeleteAt           int64   `json:"delete_at"`
	DisplayName        string  `json:"display_name"`
	Name               string  `json:"name"` // URL slug
	Description        string  `json:"description"`
	Email              string  `json:"email"`
	Type               string  `json:"type"` // TeamOpen or TeamInvite
	CompanyName        string  `json:"company_name"`
	AllowedDomains     string  `json:"allowed_domains"`
	InviteID           string  `json:"invite_id"`
	AllowOpenInvite    bool    `json:"allow_open_invite"`
	LastTeamIconUpdate int64   `json:"last_team_icon_update,omitempty"`
	SchemeID           *string `json:"scheme_id"`
	GroupConstrained   *bool   `json:"group_constrained"`
	PolicyID           *string `json:"policy_id"`
}

// TeamMember is a user's membership of a team (model.TeamMember).
type TeamMember struct {
	TeamID        string `json:"team_id"`
	UserID        string `json:"user_id"`
	Roles         string `json:"roles"`
	DeleteAt      int64  `json:"delete_at"`
	SchemeGuest   bool   `json:"scheme_guest"`
	SchemeUser    bool   `json:"scheme_user"`
	SchemeAdmin   bool   `json:"scheme_admin"`
	ExplicitRoles string `json:"explicit_roles"`
	CreateAt      int64  `json:"create_at,omitempty"`
}

// Channel is a channel of any type (model.Channel). D and G channels have an
// empty TeamID; a DM's Name is "<smaller id>__<larger id>". The server sends
// scheme_id, props, group_constrained, shared and policy_id as null when
// unset, hence the pointers and the map without omitempty.
type Channel struct {
	ID                string         `json:"id"`
	CreateAt          int64          `json:"create_at"`
	UpdateAt          int64          `json:"update_at"`
	DeleteAt          int64          `json:"delete_at"` // > 0: archived
	TeamID            string         `json:"team_id"`
	Type              string         `json:"type"` // ChannelOpen, ChannelPrivate, ChannelDirect, ChannelGroup
	DisplayName       string         `json:"display_name"`
	Name              string         `json:"name"`
	Header            string         `json:"header"`
	Purpose           string         `json:"purpose"`
	LastPostAt        int64          `json:"last_post_at"`
	TotalMsgCount     int64          `json:"total_msg_count"`
	ExtraUpdateAt     int64          `json:"extra_update_at"`
	CreatorID         string         `json:"creator_id"`
	SchemeID          *string        `json:"scheme_id"`
	Props             map[string]any `json:"props"`
	GroupConstrained  *bool          `json:"group_constrained"`
	Shared            *bool          `json:"shared"`
	TotalMsgCountRoot int64          `json:"total_msg_count_root"`
	PolicyID          *string        `json:"policy_id"`
	LastRootPostAt    int64          `json:"last_root_post_at,omitempty"`
}

// ChannelMember is a user's membership of a channel (model.ChannelMember).
type ChannelMember struct {
	ChannelID          string            `json:"channel_id"`
	UserID             string            `json:"user_id"`
	Roles              string            `json:"roles"`
	LastViewedAt       int64             `json:"last_viewed_at"`
	MsgCount           int64             `json:"msg_count"`
	MentionCount       int64             `json:"mention_count"`
	MentionCountRoot   int64             `json:"mention_count_root"`
	UrgentMentionCount int64             `json:"urgent_mention_count,omitempty"`
	MsgCountRoot       int64             `json:"msg_count_root"`
	NotifyProps        map[string]string `json:"notify_props"`
	LastUpdateAt       int64             `json:"last_update_at"`
	SchemeGuest        bool              `json:"scheme_guest"`
	SchemeUser         bool              `json:"scheme_user"`
	SchemeAdmin        bool              `json:"scheme_admin"`
	ExplicitRoles      string            `json:"explicit_roles"`
}

// Post is a message (model.Post). To create one, fill ChannelID, Message and
// optionally RootID (reply in a thread), FileIDs and Props; the server fills
// ID, CreateAt, UserID and the rest. The server always sends props, {}
// when empty, and so does MarshalJSON; an encoder should hold attachments
// in Props as []*Attachment, as the server does, so they encode with the
// server's field order.
type Post struct {
	ID            string         `json:"id"`
	CreateAt      int64          `json:"create_at"`
	UpdateAt      int64          `json:"update_at"` // bumped on edit, reaction, reply, delete
	EditAt        int64          `json:"edit_at"`   // > 0 once the message was edited
	DeleteAt      int64          `json:"delete_at"` // > 0 once deleted
	IsPinned      bool           `json:"is_pinned"`
	UserID        string         `json:"user_id"`
	ChannelID     string         `json:"channel_id"`
	RootID        string         `json:"root_id"`   // thread root, "" for a root post
	ParentID      string         `json:"parent_id"` // sent by servers <= 5.x, equal to RootID
	OriginalID    string         `json:"original_id"`
	Message       string         `json:"message"` // markdown, at most PostMessageMaxRunes runes
	MessageSource string         `json:"message_source,omitempty"`
	Type          string         `json:"type"` // "" for a normal post; see PostSystemPrefix
	Props         map[string]any `json:"props"`
	Hashtags      string         `json:"hashtags"`
	FileIDs       []string       `json:"file_ids,omitempty"`
	PendingPostID string         `json:"pending_post_id"` // client dedup key, see Client.CreatePost
	HasReactions  bool           `json:"has_reactions,omitempty"`
	RemoteID      string         `json:"remote_id,omitempty"`
	ReplyCount    int64          `json:"reply_count"`
	LastReplyAt   int64          `json:"last_reply_at"`
	Participants  []*User        `json:"participants"`
	IsFollowing   bool           `json:"is_following"`
	Metadata      *PostMetadata  `json:"metadata,omitempty"`
}

// postJSON has Post's fields without its MarshalJSON.
type postJSON Post

// MarshalJSON encodes p as the server does; nil Props encode as {} (the
// server never sends "props": null).
func (p Post) MarshalJSON() ([]byte, error) {
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	return json.Marshal((*postJSON)(&p))
}

// IsSystem reports whether p is a server-generated system message
// (join/leave, header change, ephemeral...), which a bot normally ignores.
func (p *Post) IsSystem() bool {
	return len(p.Type) >= len(PostSystemPrefix) && p.Type[:len(PostSystemPrefix)] == PostSystemPrefix
}

// Attachments decodes props.attachments. It returns nil, nil when there are
// none and an error naming the problem when they are malformed.
func (p *Post) Attachments() ([]*Attachment, error) {
	raw, ok := p.Props["attachments"]
	if !ok || raw == nil {
		return nil, nil
	}
	// Props come from a generic decode; round-trip through JSON to type them.
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var atts []*Attachment
	if err := json.Unmarshal(b, &atts); err != nil {
		return nil, &jsonFieldError{field: "props.attachments", err: err}
	}
	return atts, nil
}

// PostMetadata is what the server computes for a post on the way out
// (model.PostMetadata): embeds, custom emojis, files, image sizes, reactions.
// Every field is omitempty, so an empty value encodes as {}.
type PostMetadata struct {
	Embeds           []*PostEmbed          `json:"embeds,omitempty"`
	Emojis           []*Emoji              `json:"emojis,omitempty"`
	Files            []*FileInfo           `json:"files,omitempty"`
	Images           map[string]*PostImage `json:"images,omitempty"`
	Reactions        []*Reaction           `json:"reactions,omitempty"`
	Priority         json.RawMessage       `json:"priority,omitempty"`
	Acknowledgements json.RawMessage       `json:"acknowledgements,omitempty"`
}

// PostEmbed is one embed of a post: "image", "message_attachment",
// "opengraph", "link" or "permalink" (model.PostEmbed).
type PostEmbed struct {
	Type string          `json:"type"`
	URL  string          `json:"url,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Emoji is a custom emoji used in a post (model.Emoji).
type Emoji struct {
	ID        string `json:"id"`
	CreateAt  int64  `json:"create_at"`
	UpdateAt  int64  `json:"update_at"`
	DeleteAt  int64  `json:"delete_at"`
	CreatorID string `json:"creator_id"`
	Name      string `json:"name"`
}

// PostImage is the size of an image linked from a post (model.PostImage).
type PostImage struct {
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Format     string `json:"format"`
	FrameCount int    `json:"frame_count"`
}

// PostList is a page of posts (model.PostList). Order lists post ids newest
// first; Posts may hold more posts than Order (thread roots of replies).
// Iterate Order and look up Posts, or call [PostList.Ordered].
type PostList struct {
	Order                     []string         `json:"order"`
	Posts                     map[string]*Post `json:"posts"`
	NextPostID                string           `json:"next_post_id"`
	PrevPostID                string           `json:"prev_post_id"`
	HasNext                   *bool            `json:"has_next,omitempty"`
	FirstInaccessiblePostTime int64            `json:"first_inaccessible_post_time,omitempty"`
}

// Ordered returns the posts of l in Order (newest first), skipping ids that
// have no post.
func (l *PostList) Ordered() []*Post {
	if l == nil {
		return nil
	}
	out := make([]*Post, 0, len(l.Order))
	for _, id := range l.Order {
		if p, ok := l.Posts[id]; ok && p != nil {
			out = append(out, p)
		}
	}
	return out
}

// FileInfo describes an uploaded file (model.FileInfo). PostID is empty
// until the file is attached to a post.
type FileInfo struct {
	ID              string  `json:"id"`
	UserID          string  `json:"user_id"`
	PostID          string  `json:"post_id,omitempty"`
	ChannelID       string  `json:"channel_id"`
	CreateAt        int64   `json:"create_at"`
	UpdateAt        int64   `json:"update_at"`
	DeleteAt        int64   `json:"delete_at"`
	Name            string  `json:"name"`
	Extension       string  `json:"extension"` // without the dot
	Size            int64   `json:"size"`      // bytes
	MimeType        string  `json:"mime_type"`
	Width           int     `json:"width,omitempty"`
	Height          int     `json:"height,omitempty"`
	HasPreviewImage bool    `json:"has_preview_image,omitempty"`
	MiniPreview     *[]byte `json:"mini_preview"` // base64 in JSON, null when none
	RemoteID        string  `json:"remote_id"`
	Archived        bool    `json:"archived,omitempty"`
}

// FileUploadResponse is the answer to a file upload (model.FileUploadResponse).
type FileUploadResponse struct {
	FileInfos []*FileInfo `json:"file_infos"`
	ClientIDs []string    `json:"client_ids"`
}

// Reaction is an emoji reaction on a post (model.Reaction). EmojiName has no
// colons ("thumbsup").
type Reaction struct {
	UserID    string `json:"user_id"`
	PostID    string `json:"post_id"`
	EmojiName string `json:"emoji_name"`
	CreateAt  int64  `json:"create_at"`
	UpdateAt  int64  `json:"update_at"`
	DeleteAt  int64  `json:"delete_at"`
	RemoteID  string `json:"remote_id"`
	ChannelID string `json:"channel_id,omitempty"` // sent by newer servers
}

// Status is a user's presence (model.Status).
type Status struct {
	UserID         string `json:"user_id"`
	Status         string `json:"status"` // StatusOnline, StatusAway, StatusDND, StatusOffline
	Manual         bool   `json:"manual"`
	LastActivityAt int64  `json:"last_activity_at"`
	ActiveChannel  string `json:"active_channel,omitempty"`
	DNDEndTime     int64  `json:"dnd_end_time,omitempty"`
	PrevStatus     string `json:"prev_status,omitempty"`
}

// Attachment is one Slack-compatible message attachment, the element type of
// props.attachments (model.MessageAttachment, slack_attachment.go in older
// trees). The server sends every string field, even empty, and "ts" as null
// when unset.
type Attachment struct {
	ID         int64               `json:"id"`
	Fallback   string              `json:"fallback"`
	Color      string              `json:"color"` // "good", "warning", "danger" or "#RRGGBB"
	Pretext    string              `json:"pretext"`
	AuthorName string              `json:"author_name"`
	AuthorLink string              `json:"author_link"`
	AuthorIcon string              `json:"author_icon"`
	Title      string              `json:"title"`
	TitleLink  string              `json:"title_link"`
	Text       string              `json:"text"`
	Fields     []*AttachmentField  `json:"fields"`
	ImageURL   string              `json:"image_url"`
	ThumbURL   string              `json:"thumb_url"`
	Footer     string              `json:"footer"`
	FooterIcon string              `json:"footer_icon"`
	Timestamp  any                 `json:"ts"` // string or number; nil when unset
	Actions    []*AttachmentAction `json:"actions,omitempty"`
}

// AttachmentField is a title/value pair shown in an attachment; Short fields
// are laid out side by side.
type AttachmentField struct {
	Title string `json:"title"`
	Value any    `json:"value"` // string or number
	Short bool   `json:"short"`
}

// AttachmentAction is an interactive button or menu of an attachment
// (model.PostAction). The server strips Integration before sending a post to
// clients.
type AttachmentAction struct {
	ID            string                 `json:"id,omitempty"`
	Type          string                 `json:"type,omitempty"` // "button" or "select"
	Name          string                 `json:"name,omitempty"`
	Disabled      bool                   `json:"disabled,omitempty"`
	Style         string                 `json:"style,omitempty"`
	DataSource    string                 `json:"data_source,omitempty"` // "users" or "channels" for selects
	Options       []*AttachmentOption    `json:"options,omitempty"`
	DefaultOption string                 `json:"default_option,omitempty"`
	Integration   *AttachmentIntegration `json:"integration,omitempty"`
	Cookie        string                 `json:"cookie,omitempty"`
}

// AttachmentOption is one choice of a select action.
type AttachmentOption struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// AttachmentIntegration is where the server POSTs when an action is used.
type AttachmentIntegration struct {
	URL     string         `json:"url,omitempty"`
	Context map[string]any `json:"context,omitempty"`
}

// UserAccessToken is a personal access token (model.UserAccessToken). Token
// is only set in the answer that creates it.
type UserAccessToken struct {
	ID          string `json:"id"`
	Token       string `json:"token,omitempty"`
	UserID      string `json:"user_id"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
}

// Bot is a bot account (model.Bot); the bot's user has the same id.
type Bot struct {
	UserID         string `json:"user_id"`
	Username       string `json:"username"`
	DisplayName    string `json:"display_name,omitempty"`
	Description    string `json:"description,omitempty"`
	OwnerID        string `json:"owner_id"`
	LastIconUpdate int64  `json:"last_icon_update,omitempty"`
	CreateAt       int64  `json:"create_at"`
	UpdateAt       int64  `json:"update_at"`
	DeleteAt       int64  `json:"delete_at"`
}

// jsonFieldError names the JSON field that failed to decode.
type jsonFieldError struct {
	field string
	err   error
}

func (e *jsonFieldError) Error() string {
	return "mattermost: decode " + e.field + ": " + e.err.Error()
}
func (e *jsonFieldError) Unwrap() error { return e.err }

// IncomingWebhook is an incoming webhook (model.IncomingWebhook); posting
// to /hooks/{ID} creates a post in ChannelID.
type IncomingWebhook struct {
	ID            string `json:"id"`
	CreateAt      int64  `json:"create_at"`
	UpdateAt      int64  `json:"update_at"`
	DeleteAt      int64  `json:"delete_at"`
	UserID        string `json:"user_id"`
	ChannelID     string `json:"channel_id"`
	TeamID        string `json:"team_id"`
	DisplayName   string `json:"display_name"`
	Description   string `json:"description"`
	Username      string `json:"username"`
	IconURL       string `json:"icon_url"`
	ChannelLocked bool   `json:"channel_locked"`
}
