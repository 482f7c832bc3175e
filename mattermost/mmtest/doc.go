// Package mmtest is an in-process fake Mattermost server for tests,
// benchmarks and demos. It speaks the REST API v4 and the WebSocket protocol
// on 127.0.0.1 with the status codes, AppError bodies and error ids of the
// real server, so a client written against Mattermost works against it
// unchanged. Where it copies a server behaviour, the code names the server
// source file it follows; its fidelity is checked against exchanges recorded
// from a real 5.36 server (testdata/recorded): every recorded REST exchange
// is replayed by the tests, and every recorded WebSocket event that a REST
// call causes is compared with what the fake publishes.
//
// The fake claims a server version and behaves like it
// (Options.ServerVersion): VersionCurrent, the default, follows today's
// server source; Version536 matches the recorded 5.36.1 server exactly
// where the two differ (the ping's fields, a thread's order, members added
// by user_ids, a WebSocket resume after a bad sequence number, routes added
// since).
//
// Start one per test, seed it through the back door, and point a client at
// it:
//
//	srv := mmtest.NewServer(t, nil)
//	team, _ := srv.AddTeam("ops", "Ops")
//	alice, _ := srv.AddUser(mmtest.User{Username: "alice", Password: "secret"})
//	_ = srv.AddTeamMember(team.ID, alice.ID)
//	token, _ := srv.Login(alice.ID)
//	client, _ := srv.Client(token) // or any HTTP client on srv.URL()
//
// Assert on what was posted with Posts or WaitForPost (woken by changes,
// never polling), and inject faults with FailNext (5xx or 429), SetLatency,
// DropNextResponses (the request takes effect, its answer is lost),
// RevokeToken, DeactivateUser and the WebSocket knobs DropWebSockets,
// DropWebSocket, RefuseWebSockets and RestartWebSockets. The server's rate
// limiter (off by default, as on the real server) is turned on with
// Options.RateLimit.
//
// Accounts change through RenameUser (user_updated, as PUT
// /users/{id}/patch) and SetSystemAdmin (a bot with the role may post
// ephemeral messages).
//
// What it serves: login/logout, users (me, by id, username, email, ids,
// usernames, lists, search, autocomplete, full update and patch, status,
// typing, profile image, sessions, preferences, personal access tokens),
// bots (create, list, get, patch, disable, enable, assign), teams (all,
// by id and name, stats, members, unreads), channels (O/P/D/G: by id and
// name, create, full update and patch, archive, stats, pinned posts,
// timezones, members, search, autocomplete, the user's channels, mark
// viewed), posts (create with pending_post_id de-duplication, get,
// patch, update, delete, thread, channel pages with since/after/before,
// by ids, ephemeral, search), reactions, files (multipart and raw upload,
// download, info), custom emoji, slash commands (create, list, execute),
// incoming webhooks (/hooks/{id} and their creation), roles by name,
// /system/ping, the client config and license, and the WebSocket at
// /api/v4/websocket. docs/fake-server.md lists every route, the subsets
// (post search, built-in commands) and the bot libraries checked against
// it. Anything else answers the server's 404 api.context.404.app_error.
//
// Permissions follow the default roles: system admins may do anything;
// members post, read and manage their channels; a team member may read, but
// not post in, public channels it has not joined; private channels the
// caller cannot see are 404 by name and 403 by id; ephemeral posts and
// personal access tokens need a system admin (a bot's owner may make tokens
// for the bot), incoming webhooks a team or system admin. Posting, ephemeral
// posts, webhook creation and joining public channels are checked against
// the role table that POST /roles/names reads, as the server checks them
// (channel roles, then team roles, then the user's); SetRolePermissions
// changes a role, as the System Console would.
package mmtest
