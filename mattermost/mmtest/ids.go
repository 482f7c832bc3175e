package mmtest

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/matterbot/matterbot/mattermost"
)

// idEncoding is the server's base32 alphabet for ids (model.NewId),
// without padding: 16 bytes make 26 characters.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// entityID returns the id of a new account, team or channel named by
// parts: random, or with Options.StableIDs derived from parts, unless
// that id is taken. s.mu held.
func (s *Server) entityID(parts ...string) string {
	if !s.stable {
		return mattermost.NewID()
	}
	sum := sha256.Sum256([]byte("mmtest\x00" + strings.Join(parts, "\x00")))
	id := idEncoding.EncodeToString(sum[:16])
	if s.st.users[id] != nil || s.st.teams[id] != nil || s.st.channels[id] != nil {
		return mattermost.NewID() // a renamed entity's old name, reused
	}
	return id
}
