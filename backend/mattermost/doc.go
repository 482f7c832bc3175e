// Package mattermost is the [bot.Backend] for Mattermost, built on the
// APIv4 client in package github.com/matterbot/matterbot/mattermost
// (imported here as mm).
//
// It turns the server's WebSocket events into [bot.Message] values for the
// engine, and the engine's [bot.Outgoing] replies into posts: over-long
// text is cut with [Split] so that every part fits the server's limit and
// renders on its own.
package mattermost
