package execplugin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"testing"

	"github.com/matterbot/matterbot/bottest"
)

// The benchmarks measure one command end to end (the message in, the
// reply out through bottest), and the same work done on the program
// without the bot (bare): the difference is the bot's overhead per
// invocation. Run them with
//
//	go test -run '^$' -bench . -benchtime 2s ./execplugin/
func BenchmarkOneShot(b *testing.B) {
	var log logBuffer
	dir := files(b, map[string]string{"plugin.toml": goManifest("oneshot", oneShotCommands)})
	b.Run("bot", func(b *testing.B) {
		bot := bottest.New(b, load(b, dir, &log))
		b.ReportAllocs()
		for b.Loop() {
			if rs := bot.Say("!echo hi"); len(rs) != 1 {
				b.Fatalf("replies %+v", rs)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		req := []byte(`{"type":"request","protocol":1,"id":"1","ref":"1","plugin":"goplug","kind":"command","handler":"echo","args":"hi","deadline":""}` + "\n")
		b.ReportAllocs()
		for b.Loop() {
			cmd := exec.Command(goPlugin, "oneshot")
			cmd.Stdin = bytes.NewReader(req)
			out, err := cmd.Output()
			if err != nil || !bytes.Contains(out, []byte("echo hi")) {
				b.Fatalf("%v %s", err, out)
			}
		}
	})
}

func BenchmarkLongLived(b *testing.B) {
	var log logBuffer
	dir := files(b, map[string]string{"plugin.toml": goManifest("longlived", longLivedCommands)})
	b.Run("bot", func(b *testing.B) {
		bot := bottest.New(b, load(b, dir, &log))
		b.ReportAllocs()
		for b.Loop() {
			if rs := bot.Say("!echo hi"); len(rs) != 1 {
				b.Fatalf("replies %+v", rs)
			}
		}
	})
	b.Run("bot-parallel", func(b *testing.B) {
		bot := bottest.New(b, load(b, dir, &log))
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				<-bot.Post(bot.Message("@alice", "~ops", "!echo hi"))
			}
		})
	})
	b.Run("bare", func(b *testing.B) {
		cmd := exec.Command(goPlugin)
		in, _ := cmd.StdinPipe()
		outPipe, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = in.Close(); _ = cmd.Wait() }()
		out := bufio.NewReader(outPipe)
		readType := func(want string) {
			for {
				line, err := out.ReadBytes('\n')
				if err != nil {
					b.Fatal(err)
				}
				var m struct{ Type string }
				_ = json.Unmarshal(line, &m)
				if m.Type == want {
					return
				}
			}
		}
		_, _ = io.WriteString(in, `{"type":"hello","protocol":1,"plugin":"goplug","version":"1","config":{},"bot":{"name":"b","version":"1","prefix":"!"},"describe":false,"limits":{"timeout":60,"concurrency":16,"max_output":1048576}}`+"\n")
		readType("ready")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			fmt.Fprintf(in, `{"type":"request","protocol":1,"id":"%d","ref":"x","plugin":"goplug","kind":"command","handler":"echo","command":"echo","args":"hi","words":["hi"],"deadline":"2030-01-01T00:00:00.000Z","message":{"id":"p","text":"!echo hi","from":{"id":"u-alice","username":"alice"},"room":{"id":"r","name":"ops"},"thread_id":"","direct":false}}`+"\n", i)
			readType("done")
		}
	})
}
