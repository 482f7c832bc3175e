package mmtest

import (
	"crypto/rand"
	"encoding/base32"
	"unicode"
)

// TODO(fakews): use mattermost.NewID and mattermost.IsValidID once package
// mattermost lands on main; these two copy their contract.

// wsIDEncoding is the server's base32 alphabet for ids (model.NewId in
// server/public/model/utils.go), without padding.
var wsIDEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// newWSID returns a new 26-character id: a version-4 UUID in the server's
// base32 alphabet.
func newWSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return wsIDEncoding.EncodeToString(b[:])
}

// isValidWSID is model.IsValidId: 26 letters or digits.
func isValidWSID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return false
		}
	}
	return true
}
