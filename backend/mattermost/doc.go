// Package mattermost is the [bot.Backend] for Mattermost, built on the
// APIv4 client and WebSocket of package
// github.com/matterbot/matterbot/mattermost (imported here as mm).
//
//	be, err := mattermost.New(mattermost.Options{
//		Server: "chat.example.com", Teams: []string{"ops"}, Token: token,
//	})
//	if err != nil { ... }
//	eng, err := bot.New(be, &bot.Options{Prefix: "!"}, plugins...)
//	err = eng.Run(ctx) // connects, serves until ctx is done
//
// # Incoming
//
// Run logs in, checks that the bot is in each configured team, loads its
// channels, and opens the WebSocket; it calls HandleConnect on each hello.
// A posted event becomes a [bot.Message]: sender, room ("~team/name";
// direct and group channels have no team), thread, Direct for one-to-one
// messages, @mentions and attached files. The bot's own posts, system
// posts, and by default other bots' posts (bot accounts', and those of
// other matterbots on any account: every post a matterbot makes carries
// [PropReplyTo]) and webhooks' posts are dropped, with one log line per
// bot ignored. The bots and webhooks let in (Options.AllowBots,
// Options.AllowWebhooks) are watched by a loop guard (Options.LoopLimit);
// people's posts are never counted nor dropped. The server tells a user
// only of its own status changes: the statuses of the people the bot has
// met are polled (Options.PresenceInterval) and their changes delivered.
// Users, channels and teams are cached and kept current by the events
// that change them, so a message from a known sender in a known channel
// costs no REST call; the users cached are bounded (Options.UserCache).
// A post from a sender the bot does not hold waits while the sender is
// looked up in the background, several at once (POST /users/ids): the
// posts of other channels and other people flow meanwhile, and each
// channel's order, and each person's, hold. Posts are delivered once each: replays after a
// resumed connection are dropped by id, and when the server cannot resume
// (events were lost) the bot's channels are listed again and the posts
// since the last one seen are fetched over REST, in the channels whose
// last post is that recent, and delivered in order. A
// channel whose read fails with a 429, a 5xx or no answer is read again
// in the background until it succeeds; its live posts wait for it.
// Each message carries its permalink (bot.Message.Permalink), built as
// the seed builds it: {site}/{team}/pl/{post id}.
//
// # Outgoing
//
// Send keeps the thread, opens the direct channel for a message to a
// user, cuts text longer than a post with [Split] (code fences closed and
// re-opened), posts cards as message attachments (or through
// Options.CardsHook; colours as bot.CardColor maps them, the summary as
// the pretext) and uploads files. The bot's own addresses in the
// text ("~team/name", a channel id) become what the server links. A 429,
// a 5xx or no answer delays a post, an upload or a card by hook; other
// 4xx are final. Each post keeps one pending_post_id across all retries,
// so a retried post appears once. Every post carries [PropReplyTo], the id
// of the post it answers, and [PropPendingPostID].
//
// A post the server does not take at the first try (the client's own
// retries, a few seconds), or before its context ends (a handler's
// deadline, the end of a shutdown), is not dropped: it goes to an outbox
// in Options.Store, with its pending_post_id, and so does every later
// reply to the same command while one waits there, so that none
// overtakes another, and every post at all until the server takes one
// again, so that no handler waits on a failing server. Without the
// outbox (Options.OutboxMaxAge negative), a post is retried with backoff
// for up to [MaxRetryTime] or the context's deadline. The outbox sends
// them, oldest first,
// when the server answers again, also after a restart, and drops those
// older than Options.OutboxMaxAge (one hour by default) with a log line.
// Before it sends a channel's posts it reads the channel's recent posts
// and skips those an attempt whose answer was lost has made already
// ([PropPendingPostID]): the server remembers a pending_post_id for 30
// seconds only.
//
// Addresses ([bot.Address]) may name a user or a channel by id as well
// as by name: "@" + user id, "~" + channel id, so that an id a plugin
// stored still reaches its user or channel after a rename. A name part
// of 26 lowercase letters and digits is looked up as an id first; no
// username is that long, and a channel whose name has that shape is
// found by name when no channel has that id.
//
// Backend also implements [bot.Typer], [bot.FileOpener] and
// [bot.EphemeralSender]; bots lack the permission for ephemeral posts by
// default, and such messages then go as direct messages.
package mattermost
