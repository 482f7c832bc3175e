// Package bot is matterbot's public plugin API and its engine.
//
// A plugin is a Go value with a Setup method. Setup reads like the plugin's
// table of contents: it declares commands, listeners, callbacks and
// lifecycle hooks on the *Plugin it is given.
//
//	type Hello struct{}
//
//	func (Hello) Setup(p *bot.Plugin) error {
//		p.Command("hello", func(ctx context.Context, req *bot.Request) error {
//			return req.Reply("hello, " + req.Message.From.String())
//		}).Help("say hello")
//		return nil
//	}
//
// Commands may take typed arguments from a struct (see Command), match a
// regular expression (Plugin.Regex), or listen to every message
// (Plugin.Listen). Handlers answer through the Request: Reply, Card, File,
// React, Ask (a question, waiting for the user's answer).
//
// A handler's error reaches the user only when it is written for them: a
// *UsageError (Usagef) gets the command's usage line, a *UserError
// (UserErrorf) its text. Any other error is internal: the user reads a
// short line with a reference, "Sorry, `!deploy` failed (ref 7f3a9c).",
// and the log has the plugin, the command and the error, with the same
// reference as its request_id.
//
//	if !exists {
//		return bot.UserErrorf("no earlier deploy of %s", svc)
//	}
//	if err := d.api.Rollback(ctx, svc); err != nil {
//		return fmt.Errorf("rollback %s: %w", svc, err) // logged, not shown
//	}
//
// Every command and listener run is logged in one line at Info, "command",
// with its request_id (Request.ID), the user, the room, the plugin, the
// command, its Outcome and its duration, and reported to Options.Observer
// for metrics.
//
// An Engine runs plugins against a Backend: the chat system (Mattermost, a
// console, or the in-memory one in package bottest). Package bot never
// imports a backend; backends import bot and implement Backend, calling
// the engine's Handler methods with the events they receive.
//
//	e, err := bot.New(backend, &bot.Options{Admins: []string{"@alice"}}, Hello{})
//	if err != nil { ... }
//	err = e.Run(ctx) // until ctx is cancelled
//
// Plugins manage rooms through Request.Rooms (or Plugin.Rooms): create,
// join, leave, invite, kick, set the topic and purpose, list the
// occupants. Backends that cannot make these methods fail with an error
// wrapping ErrUnsupported. Engine.Room and Engine.User resolve "~room" and
// "@user" addresses to the ids they take.
//
//	r, err := req.Rooms().CreateRoom(ctx, "", "incident-42", true)
//	if err == nil {
//		err = req.Rooms().InviteToRoom(ctx, r.ID, req.Message.From.ID)
//	}
//
// Plugins keep state in a Store, a private key/value namespace opened from
// Options.Storage. Implementations live in package storage.
//
// Plugins also run jobs on a schedule and serve HTTP endpoints. Run runs
// the schedules (Plugin.Every, Plugin.Cron) while their plugin is active;
// Engine.HTTPHandler serves the webhooks (Plugin.Webhook, and Webhook
// with a typed body) for the daemon's HTTP server, with shared secrets
// (Options.WebhookAuth, Endpoint.HMAC) and a body size limit.
//
//	p.Every(time.Minute, d.poll)
//	p.Cron("0 9 * * MON-FRI", d.report)
//	bot.Webhook(p, "POST /deploy/done", d.done).HMAC("", d.cfg.Secret)
//
// One-shot timers (a reminder) survive restarts: they are kept in
// Options.Storage, and fire once, even when they fell due while the bot
// was down. A function cannot be stored, so the plugin registers the
// handler under a stable name in Setup, and sets timers by that name;
// a timer set from a request replies in the request's room and thread.
//
//	p.OnTimer("remind", r.remind) // in Setup
//	t, err := req.After(10*time.Minute, "remind", "tea")
package bot
