package bot_test

import (
	"fmt"
	"regexp"
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

func ExampleCardColor() {
	for _, c := range []string{"good", "Cyan", "yellow", "#f80", "purple"} {
		hex, ok := bot.CardColor(c)
		fmt.Println(c, hex, ok)
	}
	// Output:
	// good #2EB886 true
	// Cyan #00FFFF true
	// yellow #FFA500 true
	// #f80 #ff8800 true
	// purple purple false
}

// FuzzCardColor: CardColor never panics, what it knows is always
// "#RRGGBB", and what it does not know comes back unchanged.
func FuzzCardColor(f *testing.F) {
	for _, s := range []string{"good", "WHITE", " #abc ", "#123456", "#12345", "", "#", "purple", "#ÿÿÿ"} {
		f.Add(s)
	}
	hex := regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	f.Fuzz(func(t *testing.T, c string) {
		got, ok := bot.CardColor(c)
		if ok && !hex.MatchString(got) {
			t.Errorf("CardColor(%q) = %q, true; want #RRGGBB", c, got)
		}
		if !ok && got != c {
			t.Errorf("CardColor(%q) = %q, false; want it unchanged", c, got)
		}
	})
}
