package bot_test

import (
	"testing"

	"github.com/matterbot/matterbot/bot"
)

func TestCardColor(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"good", "good", "#2EB886", true},
		{"warning any case", "Warning", "#DAA038", true},
		{"danger with blanks", " danger ", "#A30200", true},
		{"white", "white", "#FFFFFF", true},
		{"cyan", "cyan", "#00FFFF", true},
		{"blue", "BLUE", "#0000FF", true},
		{"red", "red", "#FF0000", true},
		{"green", "green", "#008000", true},
		{"yellow is the seed's orange", "yellow", "#FFA500", true},
		{"hex passes", "#12abEF", "#12abEF", true},
		{"hex trimmed", " #123456\n", "#123456", true},
		{"short hex expanded", "#f80", "#ff8800", true},
		{"empty", "", "", false},
		{"unknown name", "purple", "purple", false},
		{"five digits", "#12345", "#12345", false},
		{"not hex", "#12345g", "#12345g", false},
		{"no hash", "123456", "123456", false},
		{"hash alone", "#", "#", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := bot.CardColor(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("CardColor(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
