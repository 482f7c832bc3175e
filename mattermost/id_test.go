package mattermost

import (
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := NewID()
		if len(id) != IDLength {
			t.Fatalf("NewID() = %q, len %d, want %d", id, len(id), IDLength)
		}
		if s := strings.Trim(id, "ybndrfg8ejkmcpqxot1uwisza345h769"); s != "" {
			t.Fatalf("NewID() = %q has characters outside the alphabet: %q", id, s)
		}
		if !IsValidID(id) {
			t.Fatalf("IsValidID(NewID() = %q) = false", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDDecodesToUUIDv4(t *testing.T) {
	b, err := idEncoding.DecodeString(NewID())
	if err != nil || len(b) != 16 {
		t.Fatalf("decode NewID() = %x, %v", b, err)
	}
	if b[6]>>4 != 4 || b[8]>>6 != 2 {
		t.Errorf("NewID() bytes %x: version %d variant %b, want 4 and 10", b, b[6]>>4, b[8]>>6)
	}
}

func TestIsValidID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"t7boqukfst88jmcu3mgp8jtrme", true},
		{"T7BOQUKFST88JMCU3MGP8JTRME", true},
		{"", false},
		{"t7boqukfst88jmcu3mgp8jtrm", false},
		{"t7boqukfst88jmcu3mgp8jtrmee", false},
		{"t7boqukfst88jmcu3mgp8jt-me", false},
		{"t7boqukfst88jmcu3mgp8jt me", false},
		{"me", false},
	}
	for _, tc := range tests {
		if got := IsValidID(tc.in); got != tc.want {
			t.Errorf("IsValidID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
