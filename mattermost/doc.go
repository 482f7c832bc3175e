// Package mattermost is a client for the Mattermost APIv4: a REST [Client],
// the WebSocket event stream, the typed models the server sends (User, Team,
// Channel, Post, FileInfo, Reaction, ...) and the errors it answers with.
//
// It knows nothing of bots; package backend/mattermost builds one on it.
//
//	c, err := mattermost.NewClient("https://chat.example.com", mattermost.Secret(token), nil)
//	if err != nil { ... }
//	me, _, err := c.Me(ctx)
//	ch, _, err := c.ChannelByTeamNameAndName(ctx, "ops", "town-square")
//	post, _, err := c.CreatePost(ctx, &mattermost.Post{ChannelID: ch.ID, Message: "hello from " + me.Username})
//
// Errors: every non-2xx answer becomes an [*APIError] (or a
// [*RateLimitError] for 429), and errors.Is works with the sentinels
// [ErrUnauthorized], [ErrForbidden], [ErrNotFound], [ErrBadRequest],
// [ErrRateLimited] and [ErrServer]:
//
//	if errors.Is(err, mattermost.ErrNotFound) { ... }
//
// Rate limits: by default the client sends as fast as it is asked
// ([ClientOptions].RateLimit caps it when positive) and keeps to what the
// server says: after an answer reporting X-Ratelimit-Remaining 0, requests
// go one token's time apart until the bucket holds some again, and a 429
// is waited out as its Retry-After says. A stock server does not limit
// (RateLimitSettings.Enable is false).
//
// The models follow the JSON the server writes field for field (names,
// omitempty, nulls), as recorded from a real 5.36 server and checked against
// the current server source (server/public/model). Unknown fields sent by
// newer servers are ignored on decode. Package mmtest encodes its answers with
// these same types, so a change of a JSON tag here changes the fake too.
package mattermost
