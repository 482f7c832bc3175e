// Package faultsuite is matterbot's fault suite (issue 12); it holds only
// tests. TestFaults runs the bot, built as `matterbot run` builds it, in
// a child process against a fake Mattermost server (mmtest) behind a
// fault proxy (internal/faultproxy), over real sockets on 127.0.0.1.
// Sixteen simulated users send commands without pause, in channels,
// threads, direct and group messages, while the suite injects one fault
// after another: WebSocket drops at random moments, a server restart that
// loses every connection's queue, a period of refused connections,
// bursts of 5xx, a 429 storm, latency spikes, a token revoked then
// restored, a half-open link, bot restarts, and plugins that misbehave.
// At the end every command must have been answered exactly once, the bot
// must never have exited on its own, and its heap must have stayed
// bounded. It prints one line per fault: commands sent, answered,
// duplicated, lost.
//
// The default run is short enough for CI (`go test -race ./...`): one
// round of the faults, with the bot's reconnect and retry backoffs
// scaled down (the only difference from run). A soak repeats the round,
// with the bot exactly as `matterbot run` is (its own backoffs), for as
// long as asked:
//
//	go test -race ./internal/faultsuite/
//	MATTERBOT_SOAK=10m go test -race -timeout 0 -run TestFaults -v ./internal/faultsuite/
//
// MATTERBOT_FAULTS_SEED sets the seed of the fault schedule and of the
// users' commands (default 1, printed either way).
// MATTERBOT_FAULTS_FORCE=1 runs the faults that are skipped because the
// feature they need is not built yet, to see how the bot fares.
// MATTERBOT_FAULTS_ONLY=restart,429 runs only the faults whose names
// contain one of the words.
// MATTERBOT_FAULTS_DIR=DIR keeps the bot's logs, configuration and store
// in a new directory under DIR.
package faultsuite
