package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/bot"
)

// The line editor, driven through pipes as if they were a terminal: Enter
// sends, Ctrl-C drops the line, Ctrl-D quits, and the history file keeps
// the lines sent.
func TestReadline(t *testing.T) {
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	defer outR.Close()
	hist := filepath.Join(t.TempDir(), "history")
	be, err := New(&Options{Input: inR, Output: outW, HistoryFile: hist, Color: ColorNever})
	if err != nil {
		t.Fatal(err)
	}
	be.interact = true           // pipes stand in for the terminal
	be.onWidth = func(func()) {} // no process-wide SIGWINCH handler
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, outR); close(copied) }()

	e, err := bot.New(be, nil, demo{})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- e.Run(context.Background()) }()
	if _, err := io.WriteString(inW, "!echo one\rdrop me\x03!echo two\r\x04"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrQuit) {
		t.Errorf("Run = %v, want ErrQuit", err)
	}
	inW.Close()
	outW.Close()
	<-copied

	got := out.String()
	for _, want := range []string{"#2 ops-bot › ~town-square: one", "^C", "#4 ops-bot › ~town-square: two"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, got)
		}
	}
	h, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if string(h) != "!echo one\n!echo two\n" {
		t.Errorf("history = %q, want the two lines sent", h)
	}
}

// Cancelling the context while the editor waits for a line returns at
// once and leaves no goroutine behind, though the terminal stays open.
func TestReadlineCancel(t *testing.T) {
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	defer outR.Close()
	be, err := New(&Options{Input: inR, Output: outW, HistoryFile: "-", Color: ColorNever})
	if err != nil {
		t.Fatal(err)
	}
	be.interact = true
	be.onWidth = func(func()) {}
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, outR); close(copied) }()
	e, err := bot.New(be, nil, demo{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	if _, err := io.WriteString(inW, "!echo one\r"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	inW.Close() // lets readline's blocked Read of the input return
	outW.Close()
	<-copied
}
