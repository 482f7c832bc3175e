package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/cronexpr"
)

// cronDescriptors are the @ forms cronexpr knows and we accept. Its others
// (@reboot is not supported anyway) would add a seconds or year field.
var cronDescriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true, "@daily": true, "@hourly": true,
}

// parseCron parses a five-field cron spec or a descriptor. cronexpr also
// takes six and seven fields (a year, seconds) and ignores any beyond
// seven; we refuse them so that a spec means what crontab(5) says.
func parseCron(spec string) (*cronexpr.Expression, error) {
	fields := strings.Fields(spec)
	switch {
	case len(fields) == 1 && strings.HasPrefix(fields[0], "@"):
		if !cronDescriptors[fields[0]] {
			return nil, fmt.Errorf("unknown descriptor %s (want @yearly, @monthly, @weekly, @daily or @hourly)", fields[0])
		}
	case len(fields) != 5:
		return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(fields))
	default:
		if err := checkCronRanges(fields); err != nil {
			return nil, err
		}
	}
	expr, err := cronexpr.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, err
	}
	return expr, nil
}

// cronFields names the five fields of a spec, in order.
var cronFields = [5]string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// checkCronRanges refuses a range that runs backwards ("5-3"), which
// cronexpr accepts as an empty set: Next then panics or walks every day
// up to 2099 (FuzzCron found it). It also rewrites a day-of-week range
// that ends on 7, Sunday as in crontab(5), which cronexpr cuts at
// Saturday: "5-7" becomes "5-6,0" and "1-7/2" "1-6/2,0". fields holds
// the five fields and is changed in place. Anything else cronexpr judges.
func checkCronRanges(fields []string) error {
	for i, field := range fields {
		items := strings.Split(field, ",")
		for j, item := range items {
			span, step, hasStep := strings.Cut(item, "/")
			lo, hi, isRange := strings.Cut(span, "-")
			if !isRange {
				continue
			}
			a, okA := cronValue(i, lo)
			b, okB := cronValue(i, hi)
			if !okA || !okB {
				continue // not a range cronexpr takes either: its error says so
			}
			if a > b {
				err := fmt.Errorf("%s field: range %s runs backwards", cronFields[i], span)
				switch {
				case i == 4 && a == 7:
					return fmt.Errorf("%w (Sunday starts a range as 0: 0-%s)", err, hi)
				case hasStep:
					return err
				}
				return fmt.Errorf("%w (write it as two ranges: %s-%s,%s-%s)", err, lo, cronMax(i), cronMin(i), hi)
			}
			if i != 4 || b != 7 {
				continue
			}
			n := 1
			if hasStep {
				var err error
				if n, err = strconv.Atoi(step); err != nil || n < 1 {
					continue // cronexpr refuses the step
				}
			}
			if a == 7 {
				items[j] = "0"
				continue
			}
			items[j] = lo + "-6" + item[len(span):] // the step, if any, kept
			if (7-a)%n == 0 {
				items[j] += ",0"
			}
		}
		fields[i] = strings.Join(items, ",")
	}
	return nil
}

// cronValue reads one end of a range in field i: a number or, in the
// month and day-of-week fields, an English name, whole or its first
// three letters, in any case.
func cronValue(i int, s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	s = strings.ToLower(s)
	named := func(name string) bool {
		name = strings.ToLower(name)
		return s == name || s == name[:3]
	}
	switch i {
	case 3:
		for m := time.January; m <= time.December; m++ {
			if named(m.String()) {
				return int(m), true
			}
		}
	case 4:
		for d := time.Sunday; d <= time.Saturday; d++ {
			if named(d.String()) {
				return int(d), true
			}
		}
	}
	return 0, false
}

// cronMin and cronMax are the bounds of field i, as written in a spec.
func cronMin(i int) string { return [5]string{"0", "0", "1", "1", "0"}[i] }
func cronMax(i int) string { return [5]string{"59", "23", "31", "12", "6"}[i] }
