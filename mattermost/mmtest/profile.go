package mmtest

import "fmt"

// Server versions the fake can claim and behave like (Options.ServerVersion).
const (
	// VersionCurrent follows today's server source
	// (github.com/mattermost/mattermost, server/) and claims
	// CurrentVersion. It is the default.
	VersionCurrent = "current"

	// Version536 behaves like the 5.36.1 server that the exchanges in
	// testdata/recorded were recorded from, and claims 5.36.1.
	Version536 = "5.36"
)

// CurrentVersion is the release the VersionCurrent profile claims in
// X-Version-Id, the WebSocket hello and the WebSocket ping reply: the first
// entry of server/public/model/version.go in the source it follows.
const CurrentVersion = "11.4.4"

// claimedVersion returns the release a profile name claims, or an error
// naming the accepted names.
func claimedVersion(profile string) (string, error) {
	switch profile {
	case "", VersionCurrent:
		return CurrentVersion, nil
	case Version536:
		return "5.36.1", nil
	}
	return "", fmt.Errorf("mmtest: unknown server version %q: want %q or %q", profile, VersionCurrent, Version536)
}

// is536 reports whether the server plays the 5.36 profile. A handler
// whose behaviour differs between the profiles branches on it and names,
// in a comment, the server file each side follows: the release-5.36 file
// (api4/..., app/...) and today's (server/channels/...). Routes that a
// version lacks are gated by route.since instead.
func (s *Server) is536() bool { return s.profile == Version536 }
