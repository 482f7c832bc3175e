package bot

import (
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    Address
		wantErr bool
	}{
		{in: "@alice", want: Address{User: "alice"}},
		{in: " @bob.smith ", want: Address{User: "bob.smith"}},
		{in: "~ops", want: Address{Room: "ops"}},
		{in: "~eng/ops", want: Address{Team: "eng", Room: "ops"}},
		{in: "alice", wantErr: true},
		{in: "@", wantErr: true},
		{in: "~", wantErr: true},
		{in: "@a b", wantErr: true},
		{in: "@a/b", wantErr: true},
		{in: "~eng/", wantErr: true},
		{in: "~/ops", wantErr: true},
		{in: "~a/b/c", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseAddress(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseAddress(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAddress(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"@alice", "~ops", "~eng/ops", "~a/b/c", "@", "~/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if (a.User == "") == (a.Room == "") {
			t.Fatalf("ParseAddress(%q) = %+v, want exactly one of User and Room", s, a)
		}
		again, err := ParseAddress(a.String())
		if err != nil || again != a {
			t.Fatalf("ParseAddress(%q.String() = %q) = %+v, %v, want %+v", s, a.String(), again, err, a)
		}
	})
}

func TestIdentityStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{User{ID: "u1", Username: "alice"}.String(), "@alice"},
		{Room{ID: "r1", Name: "ops"}.String(), "~ops"},
		{Room{ID: "r1", Name: "ops", Team: "eng"}.String(), "~eng/ops"},
		{Address{User: "bob"}.String(), "@bob"},
		{Address{Room: "ops"}.String(), "~ops"},
		{Address{Team: "eng", Room: "ops"}.String(), "~eng/ops"},
		{Address{}.String(), ""},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"status", "stauts", 2}, {"deploy", "deplyo", 2}, {"kitten", "sitting", 3}, {"日本", "日本語", 1},
	}
	for _, tc := range tests {
		if got := levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
