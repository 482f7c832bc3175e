package bot

import "strings"

// CardColor returns the hex colour ("#RRGGBB") that a Card's Color
// stands for, and whether c is one it knows:
//
//   - "good", "warning" and "danger" are Slack's colours (#2EB886,
//     #DAA038, #A30200), the three names Mattermost also accepts;
//   - "white", "cyan", "blue", "red", "green" and "yellow" are the
//     colours Errbot's Mattermost backend gives these names (#FFFFFF,
//     #00FFFF, #0000FF, #FF0000, #008000, and #FFA500 for yellow, an
//     orange, as there), so that cards written for Errbot look the same;
//   - "#RRGGBB" is itself, and "#RGB" is expanded to "#RRGGBB".
//
// Names are matched without regard to case or surrounding blanks. For
// anything else (empty, "purple", "#12345") CardColor returns c and
// false: the Mattermost backend then sends c unchanged, as Errbot's
// backend does (the web app reads it as a CSS colour; the server accepts
// only the three names and hex colours in places where it checks), and
// the console draws the card without colour, naming c on its top edge.
func CardColor(c string) (string, bool) {
	s := strings.TrimSpace(c)
	switch strings.ToLower(s) {
	case "good":
		return "#2EB886", true
	case "warning":
		return "#DAA038", true
	case "danger":
		return "#A30200", true
	case "white":
		return "#FFFFFF", true
	case "cyan":
		return "#00FFFF", true
	case "blue":
		return "#0000FF", true
	case "red":
		return "#FF0000", true
	case "green":
		return "#008000", true
	case "yellow":
		return "#FFA500", true
	}
	h, ok := strings.CutPrefix(s, "#")
	if !ok || !isHex(h) {
		return c, false
	}
	switch len(h) {
	case 6:
		return s, true
	case 3:
		return "#" + string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]}), true
	}
	return c, false
}

// isHex reports whether s is made of hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
