package config

import "log/slog"

// redacted is what a Secret prints instead of its value.
const redacted = "[REDACTED]"

// Secret holds a token or password. Printing it with fmt, logging it with
// slog or marshalling it as text shows "[REDACTED]" (or "" when it is
// empty), never the value; only Reveal gives the value. The zero Secret is
// empty.
type Secret struct {
	value string
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret value. Call it only where the value is used
// (an Authorization header), never to print or log it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns "[REDACTED]", or "" when the secret is empty.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString redacts for %#v too.
func (s Secret) GoString() string { return "config.Secret(" + s.String() + ")" }

// LogValue redacts the secret in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts, so that a configuration written back out or dumped as
// JSON never holds the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText stores text as the secret value; it is how the loader (and a
// plugin's own configuration type) reads a secret from TOML.
func (s *Secret) UnmarshalText(text []byte) error {
	s.value = string(text)
	return nil
}
