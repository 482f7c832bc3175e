package matterbot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matterbot/matterbot/plugins"
)

// TestBenchShortRun runs the whole bench, bot in-process, on a few
// commands: the run fails unless every command got exactly one reply, so
// the counts in the report are exact.
func TestBenchShortRun(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"bench", "--in-process", "--commands=20", "--throughput=45", "--users=3", "--channels=2", "--warmup=3"}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("run(%q) = %d, want 0; stderr %q", args, code, errOut.String())
	}
	for _, want := range []string{
		"bot in-process",
		"latency, 20 commands one at a time",
		"3 users × 2 channels, 6 commands in flight",
		"45 commands in ",
		"every reply seen exactly once",
		"allocs/command ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output = %q, want it to contain %q", out.String(), want)
		}
	}
}

func TestBenchBadInput(t *testing.T) {
	t.Setenv(benchTokenEnv, "")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no commands", []string{"bench", "--commands=0"}, "--commands, --throughput, --users and --channels must be at least 1"},
		{"no users", []string{"bench", "--users=0"}, "must be at least 1"},
		{"child without token", []string{"bench", "--bot-of=http://127.0.0.1:1"}, "needs the bot's token in " + benchTokenEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != 1 {
				t.Errorf("run(%q) = %d, want 1", tc.args, code)
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tc.args, errOut.String(), tc.wantErr)
			}
		})
	}
}

// TestBenchBotChild drives the child side of the bench over pipes, as the
// parent does over the child's stdin and stdout.
func TestBenchBotChild(t *testing.T) {
	f, err := startBenchFake(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runBotChild(context.Background(), f.url, f.token, "", "", plugins.Builtin(), inR, outW)
		outW.Close()
	}()
	sc := bufio.NewScanner(outR)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("child said %q, want ready", sc.Text())
	}
	cmd, err := f.send(f.users[0], f.channels[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.await(context.Background(), cmd); err != nil {
		t.Fatalf("reply from the child bot: %v", err)
	}
	if _, err := io.WriteString(inW, "mem\n"); err != nil {
		t.Fatal(err)
	}
	if !sc.Scan() {
		t.Fatalf("no answer to mem: %v", sc.Err())
	}
	var m memSample
	if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
		t.Fatalf("mem answer %q: %v", sc.Text(), err)
	}
	if m.Mallocs == 0 || m.HeapInuse == 0 {
		t.Errorf("mem answer = %+v, want non-zero Mallocs and HeapInuse", m)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Errorf("runBotChild = %v, want nil at the end of its input", err)
	}
	if err := f.checkReplies(); err != nil {
		t.Error(err)
	}
}

// TestStartBot covers the three ways the wait for the bench bot ends, in
// a synctest bubble: the timeout passes in fake time, without sleeping.
func TestStartBot(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		run      func(ctx context.Context, connected chan<- struct{}) error
		wantErr  string // "" for a running bot
		wantWait time.Duration
	}{
		{"connects", func(ctx context.Context, connected chan<- struct{}) error {
			connected <- struct{}{}
			<-ctx.Done()
			return nil
		}, "", 0},
		{"stops first", func(context.Context, chan<- struct{}) error {
			return errBoom
		}, "bot stopped before connecting: boom", 0},
		{"never connects", func(ctx context.Context, _ chan<- struct{}) error {
			<-ctx.Done()
			return nil
		}, "bot did not connect within 1m0s", time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				connected := make(chan struct{}, 1)
				run := func(ctx context.Context) error { return tc.run(ctx, connected) }
				start := time.Now()
				b, err := startBot(context.Background(), run, connected, time.Minute)
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("startBot = %v, want a running bot", err)
					}
					if err := b.shutdown(); err != nil {
						t.Errorf("shutdown = %v, want nil", err)
					}
				} else if err == nil || err.Error() != tc.wantErr {
					t.Errorf("startBot = %v, want %q", err, tc.wantErr)
				}
				if waited := time.Since(start); waited != tc.wantWait {
					t.Errorf("startBot returned after %v, want %v", waited, tc.wantWait)
				}
			})
		})
	}
}

// TestBenchBotChildStderr: the child bot's error reaches the command's
// standard error, not the process's.
func TestBenchBotChildStderr(t *testing.T) {
	t.Setenv(mainEnv, "1")                            // the child, this test binary, is the command
	web := httptest.NewServer(http.NotFoundHandler()) // not a Mattermost server
	defer web.Close()
	var stderr bytes.Buffer
	if b, err := startBotChild(context.Background(), web.URL, "tok", "", "", &stderr); err == nil {
		b.stop()
		t.Fatal("startBotChild against a plain web server = a running bot, want an error")
	}
	if want := web.URL + " is not a Mattermost server"; !strings.Contains(stderr.String(), want) {
		t.Errorf("child's stderr = %q, want it to contain %q", stderr.String(), want)
	}
}

// TestBenchScaleShortRun runs the scale bench, bot in-process, on two
// small worlds: every command, the catch-ups' included, must be answered
// exactly once, or the run fails.
func TestBenchScaleShortRun(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"bench", "--scale", "--in-process", "--worlds=3x4,12x30", "--quiet=0s", "-v"}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("run(%q) = %d, want 0; stderr %q", args, code, errOut.String())
	}
	for _, want := range []string{
		"bot in-process",
		"| channels | users | start → connected |",
		"| 3 | 4 | ",
		"| 12 | 30 | ",
		"(N=30; heap ",
		"catch-up of 2000 commands in 12 channels: ",
		"GET /api/v4/channels/{id}/posts",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output = %q, want it to contain %q", out.String(), want)
		}
	}
}

func TestParseWorlds(t *testing.T) {
	got, err := parseWorlds("10x10, 1000x5000")
	if err != nil || len(got) != 2 || got[1] != (scaleWorld{1000, 5000}) {
		t.Errorf("parseWorlds = %v, %v; want [{10 10} {1000 5000}]", got, err)
	}
	for _, bad := range []string{"", "10", "0x5", "ax5", "10x"} {
		if _, err := parseWorlds(bad); err == nil {
			t.Errorf("parseWorlds(%q) = nil error, want one", bad)
		}
	}
}
