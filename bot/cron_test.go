package bot

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCronDayOfWeekRanges checks the days a day-of-week range runs on,
// where 7 is Sunday as in crontab(5). cronexpr alone reads "5-7" as
// Friday and Saturday.
func TestCronDayOfWeekRanges(t *testing.T) {
	tests := []struct {
		spec string
		want []time.Weekday
	}{
		{"0 0 * * 5-7", []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Friday}},
		{"0 0 * * FRI-7", []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Friday}},
		{"0 0 * * 1-7/2", []time.Weekday{time.Monday, time.Wednesday, time.Friday, time.Sunday}},
		{"0 0 * * 2-7/2", []time.Weekday{time.Tuesday, time.Thursday, time.Saturday, time.Tuesday}},
		{"0 0 * * 7-7", []time.Weekday{time.Sunday, time.Sunday, time.Sunday, time.Sunday}},
		{"0 0 * * 0-7", []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday}},
		{"0 0 * * 1,6-7", []time.Weekday{time.Monday, time.Saturday, time.Sunday, time.Monday}},
		{"0 0 * * sat,SUN", []time.Weekday{time.Saturday, time.Sunday, time.Saturday, time.Sunday}},
	}
	// Sunday 2026-11-29 12:00 UTC: the first run is on Monday at the earliest.
	from := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		expr, err := parseCron(tc.spec)
		if err != nil {
			t.Errorf("parseCron(%q) = %v", tc.spec, err)
			continue
		}
		s := &schedule{cron: expr}
		var got []time.Weekday
		for prev := from; len(got) < len(tc.want); {
			if prev, err = s.next(prev, prev, time.UTC); err != nil || prev.IsZero() {
				t.Fatalf("%q: next = %v, %v", tc.spec, prev, err)
			}
			got = append(got, prev.Weekday())
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%q runs on %v, want %v", tc.spec, got, tc.want)
		}
	}
}

func TestCronBackwardsRanges(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"5-3 0 * * *", "minute field: range 5-3 runs backwards (write it as two ranges: 5-59,0-3)"},
		{"0 22-2 * * *", "hour field: range 22-2 runs backwards (write it as two ranges: 22-23,0-2)"},
		{"0 0 9-1/2 * *", "day-of-month field: range 9-1 runs backwards"},
		{"0 0 * 1,DEC-jan *", "month field: range DEC-jan runs backwards (write it as two ranges: DEC-12,1-jan)"},
		{"0 0 * * fri-sun", "day-of-week field: range fri-sun runs backwards (write it as two ranges: fri-6,0-sun)"},
		{"0 0 * * 7-1", "day-of-week field: range 7-1 runs backwards (Sunday starts a range as 0: 0-1)"},
	}
	for _, tc := range tests {
		if _, err := parseCron(tc.spec); err == nil || err.Error() != tc.want {
			t.Errorf("parseCron(%q) = %v, want %q", tc.spec, err, tc.want)
		}
	}
}
