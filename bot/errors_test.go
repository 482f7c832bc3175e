package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
)

// errDB stands for an internal error whose text must not reach users.
var errDB = errors.New("pq: connection to 10.0.3.7:5432 refused (session 9f8e)")

func TestErrorReplies(t *testing.T) {
	var logs syncBuffer
	p := plug{"errs", func(p *bot.Plugin) error {
		fail := func(err error) bot.HandlerFunc {
			return func(ctx context.Context, req *bot.Request) error { return err }
		}
		p.Command("internal", fail(fmt.Errorf("errs: load %q: %w", "x", errDB)))
		p.Command("user", fail(bot.UserErrorf("no deploy of %s yet", "api")))
		p.Command("wrapped user", fail(fmt.Errorf("errs: rollback: %w", bot.UserErrorf("nothing to roll back"))))
		p.Command("user with cause", fail(&bot.UserError{Err: fmt.Errorf("the database is down: %w", errDB)}))
		p.Command("usage", fail(bot.Usagef("give a service"))).Usage("<service>")
		return nil
	}}
	b := bottest.NewWithOptions(t, &bot.Options{Logger: logger(&logs)}, p)
	tests := []struct {
		in      string
		want    string   // "REF" stands for the reference
		wantLog []string // lines with the reference for REF, or parts of them
	}{
		{"!internal", "Sorry, `!internal` failed (ref REF).",
			[]string{`level=WARN msg="command failed" plugin=errs command=internal user_id=u-alice request_id=REF err="errs: load \"x\": pq: connection to 10.0.3.7:5432 refused (session 9f8e)"`,
				`level=INFO msg=command request_id=REF plugin=errs command=internal outcome=error duration=`}},
		{"!user", "`!user` failed: no deploy of api yet",
			[]string{`plugin=errs command=user outcome=error duration=`,
				`user_id=u-alice user=alice room_id=r-town-square room=town-square err="no deploy of api yet"`}},
		{"!wrapped user", "`!wrapped user` failed: nothing to roll back",
			[]string{`plugin=errs command="wrapped user" outcome=error duration=`, `err="errs: rollback: nothing to roll back"`}},
		{"!user with cause", "`!user with cause` failed: the database is down: " + errDB.Error(), nil},
		{"!usage", "`!usage`: give a service.\nUsage: `!usage <service>`",
			[]string{`plugin=errs command=usage outcome=usage duration=`, `err="give a service"`}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := texts(b.Say(tc.in))
			ref := ""
			if m := refRE.FindStringSubmatch(strings.Join(got, "")); m != nil {
				ref = m[0][len("(ref ") : len(m[0])-1]
			}
			want := strings.ReplaceAll(tc.want, "REF", ref)
			if strings.Contains(tc.want, "REF") && ref == "" {
				t.Fatalf("Say(%q) = %q, want a reference", tc.in, got)
			}
			if diff := cmp.Diff([]string{want}, got); diff != "" {
				t.Errorf("Say(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			for _, w := range tc.wantLog {
				if l, w := logs.String(), strings.ReplaceAll(w, "REF", ref); !strings.Contains(l, w) {
					t.Errorf("log does not contain\n%s\nlog:\n%s", w, l)
				}
			}
		})
	}
	// Two failures get two references.
	a, c := refRE.FindString(strings.Join(texts(b.Say("!internal")), "")), refRE.FindString(strings.Join(texts(b.Say("!internal")), ""))
	if a == c {
		t.Errorf("two failures share the reference %s", a)
	}
}
