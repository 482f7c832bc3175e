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
//			return req.Reply("hello, @%s", req.Message.From.Username)
//		}).Help("say hello")
//		return nil
//	}
//
// An Engine runs plugins against a Backend (the chat system: Mattermost, a
// console, or the in-memory one in package bottest). Package bot never
// imports a backend: backends import bot and implement Backend.
//
// Plugins keep state in a Store, a private key/value namespace opened from
// the engine's Storage. Implementations live in package storage.
package bot
