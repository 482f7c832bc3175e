package mattermost

import (
	"crypto/rand"
	"encoding/base32"
	"unicode"
)

// idEncoding is the server's base32 alphabet for ids (model.NewId in
// server/public/model/utils.go), without padding.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// IDLength is the length of every Mattermost id.
const IDLength = 26

// NewID returns a new random 26-character id in the server's format: a
// version-4 UUID encoded with the alphabet ybndrfg8ejkmcpqxot1uwisza345h769.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return idEncoding.EncodeToString(b[:])
}

// IsValidID reports whether s has the shape of a server id: 26 bytes, all
// letters or digits (model.IsValidId).
func IsValidID(s string) bool {
	if len(s) != IDLength {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return false
		}
	}
	return true
}
