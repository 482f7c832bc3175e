// Package mmtest is an in-process fake Mattermost server for tests,
// benchmarks and demos. It speaks the REST API v4 and the WebSocket protocol
// on 127.0.0.1 with the status codes, AppError bodies and error ids of the
// real server, so a client written against Mattermost works against it
// unchanged. Where it copies a server behaviour, the code names the server
// source file it follows; its fidelity is checked against responses
// recorded from a real server (testdata/recorded).
//
// Start one per test, seed it through the back door, and point a client at
// URL:
//
//	srv := mmtest.NewServer(t, nil)
//	team, _ := srv.AddTeam("ops", "Ops")
//	alice, _ := srv.AddUser(mmtest.User{Username: "alice", Password: "secret"})
//	_ = srv.AddTeamMember(team.ID, alice.ID)
//	token, _ := srv.Login(alice.ID)
//	// GET srv.URL()+"/api/v4/users/me" with "Authorization: Bearer "+token
//
// Assert on what was posted with Posts or WaitForPost, and inject faults
// with FailNext, SetLatency, DropNextResponses, RevokeToken and the
// WebSocket knobs (DropWebSockets, RefuseWebSockets, RestartWebSockets).
package mmtest
