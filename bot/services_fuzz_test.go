package bot

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func FuzzCron(f *testing.F) {
	for _, s := range []string{
		"*/5 * * * *", "0 9 * * MON-FRI", "@daily", "@hourly", "0 0 L * *", "0 0 * * 5L",
		"0 0 15W * *", "0 0 * * 1#2", "0 0 30 2 *", "1-59/7 0,12 1-15 JAN-JUN,DEC SUN", "* * * *", "61 * * * *",
		"5-3 0 * * *", "0 5-3 * * *", "0 0 * DEC-JAN *", "0 0 9-1 * *", "0 0 * * fri-sun", "0 0 * * 1-7/2", "0 0 * * 7-7",
	} {
		f.Add(s)
	}
	start := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		expr, err := parseCron(spec)
		if err != nil {
			return
		}
		s := &schedule{cron: expr}
		prev := start
		for range 3 {
			next, err := s.next(prev, prev, time.UTC)
			if err != nil {
				t.Fatalf("parseCron(%q) accepted a spec cronexpr cannot evaluate: %v", spec, err)
			}
			if next.IsZero() {
				return
			}
			if !next.After(prev) {
				t.Fatalf("parseCron(%q): next after %v is %v, not later", spec, prev, next)
			}
			prev = next
		}
	})
}

// fuzzBody is a body type with every kind a form may fill.
type fuzzBody struct {
	Service string   `json:"service"`
	Env     string   `form:"environment" json:"env"`
	Count   int8     `json:"count"`
	Ratio   float64  `json:"ratio"`
	Ok      bool     `json:"ok"`
	Tags    []string `json:"tags"`
	IDs     []uint16 `json:"ids"`
	Skip    string   `json:"-"`
}

func FuzzWebhookBody(f *testing.F) {
	seeds := []struct{ ct, body string }{
		{"application/json", `{"service":"api","env":"prod","count":3,"tags":["a","b"]}`},
		{"application/json; charset=utf-8", `{"count":300}`},
		{"application/vnd.github+json", `{"ok":true} {"ok":false}`},
		{"application/json", `{"service":`},
		{"application/x-www-form-urlencoded", "service=api&environment=prod&count=-4&ratio=0.5&ok=true&tags=a&tags=b&ids=7"},
		{"application/x-www-form-urlencoded", "count=x&%zz"},
		{"text/plain", "hello"},
		{"", ""},
		{"multipart/form-data; boundary=x", "--x--"},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.body))
	}
	decoders := []*bodyDecoder{}
	for _, t := range []reflect.Type{reflect.TypeFor[fuzzBody](), reflect.TypeFor[map[string]string](), reflect.TypeFor[map[string][]string](), reflect.TypeFor[[]int](), reflect.TypeFor[[]byte]()} {
		d, err := newBodyDecoder(t)
		if err != nil {
			f.Fatalf("newBodyDecoder(%v) = %v", t, err)
		}
		decoders = append(decoders, d)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, d := range decoders {
			v := reflect.New(d.typ).Elem()
			err := d.decode(contentType, body, v)
			if err == nil {
				continue
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.Code/100 != 4 || he.Message == "" {
				t.Fatalf("decode(%q, %q) into %v = %v, want an *HTTPError with a 4xx and a message", contentType, body, d.typ, err)
			}
		}
	})
}
