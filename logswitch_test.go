package matterbot

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/matterbot/matterbot/config"
)

// TestLogSwitch changes the level and the format under a derived logger.
func TestLogSwitch(t *testing.T) {
	var buf bytes.Buffer
	s := newLogSwitch(&buf, config.Log{Level: "info", Format: "text"})
	log := s.logger.With("plugin", "deploy").WithGroup("req").With("id", 7)

	log.Debug("hidden")
	log.Info("as text")
	s.set(config.Log{Level: "debug", Format: "json"})
	log.Debug("as json")
	s.set(config.Log{Level: "warn", Format: "json"})
	log.Info("hidden again")
	log.Warn("warned")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`level=INFO msg="as text" plugin=deploy req.id=7`,
		`"level":"DEBUG","msg":"as json","plugin":"deploy","req":{"id":7}}`,
		`"level":"WARN","msg":"warned","plugin":"deploy","req":{"id":7}}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %s, want it to hold %s", i, lines[i], w)
		}
	}
}

// TestLogSwitchConcurrent logs from several goroutines while the format
// flips: under -race, an unguarded access fails; every line is whole.
func TestLogSwitchConcurrent(t *testing.T) {
	var buf bytes.Buffer
	s := newLogSwitch(&buf, config.Log{Level: "info", Format: "text"})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			log := s.logger.With("worker", i)
			for range 200 {
				log.Info("tick")
			}
		})
	}
	for i := range 100 {
		f := []string{"text", "json"}[i%2]
		s.set(config.Log{Level: "info", Format: f})
	}
	wg.Wait()
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		text := strings.HasPrefix(l, "time=") && strings.Contains(l, "msg=tick worker=")
		json := strings.HasPrefix(l, `{"time":`) && strings.HasSuffix(l, "}")
		if !text && !json {
			t.Fatalf("mangled line %q", l)
		}
	}
}
