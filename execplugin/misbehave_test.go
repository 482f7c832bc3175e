package execplugin_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/matterbot/matterbot/bot"
	"github.com/matterbot/matterbot/bottest"
	"github.com/matterbot/matterbot/execplugin"
)

// shellPlugin is a one-shot plugin of shell scripts: each command runs
// the script of its name. Only hang has a short deadline: a loaded
// machine (CI, 2 cores) can take longer than that to start a shell.
const shellManifest = `protocol = 1
name = "sh"
version = "1"
mode = "oneshot"
exec = ["./run.sh"]
env = ["EXECPLUGIN_TEST_VISIBLE"]
[limits]
timeout = "20s"
max_output = 4096
[[commands]]
name = "ok"
[[commands]]
name = "hang"
timeout = "300ms"
[[commands]]
name = "crash"
[[commands]]
name = "garbage"
[[commands]]
name = "flood"
[[commands]]
name = "env"
[[commands]]
name = "pwd"
[[commands]]
name = "late"
[[commands]]
name = "stream"
[[commands]]
name = "error"
[[commands]]
name = "file"
[[commands]]
name = "escape"
[[commands]]
name = "noise"
`

// run.sh dispatches on the handler, read from the request with sed: no
// jq in the test environment.
const shellScript = `#!/bin/sh
req=$(cat)
h=$(printf '%s' "$req" | sed -n 's/.*"handler":"\([a-z]*\)".*/\1/p')
case "$h" in
ok) echo '{"type":"text","text":"ok"}' ;;
hang) echo '{"type":"text","text":"going to sleep"}'; exec sleep 60 ;;
crash) echo "it broke" >&2; exit 7 ;;
garbage) echo 'this is not json' ;;
flood) yes '{"type":"text","text":"flood"}' ;;
env) printf '{"type":"text","text":"%s"}\n' "$(env | sort | tr '\n' ' ')" ;;
pwd) printf '{"type":"text","text":"%s"}\n' "$(pwd)" ;;
late) echo '{"type":"done"}'; echo '{"type":"text","text":"after done"}' ;;
stream) for i in 1 2 3; do printf '{"type":"text","text":"step %s"}\n' $i; done ;;
error) echo '{"type":"done","error":{"kind":"user","message":"no such service"}}'; exit 1 ;;
file) echo "a,b" > out.csv; echo '{"type":"file","name":"out.csv","path":"out.csv","text":"the file"}' ;;
escape) echo '{"type":"file","name":"passwd","path":"/etc/passwd"}' ;;
noise) i=0; while [ $i -lt 1000 ]; do echo "noise $i" >&2; i=$((i+1)); done; echo '{"type":"text","text":"quiet"}' ;;
esac
`

func TestShellOneShot(t *testing.T) {
	t.Setenv("EXECPLUGIN_TEST_VISIBLE", "yes")
	t.Setenv("EXECPLUGIN_TEST_HIDDEN", "no")
	var log logBuffer
	dir := files(t, map[string]string{"plugin.toml": shellManifest, "run.sh": shellScript})
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, load(t, dir, &log))
	tests := []struct {
		name, in string
		want     []string
	}{
		{"ok", "!ok", []string{"ok"}},
		{"hang: killed at the deadline", "!hang", []string{"going to sleep", "`!hang` timed out after 300ms."}},
		{"crash", "!crash", []string{"Sorry, `!crash` failed (ref REF)."}},
		{"garbage", "!garbage", []string{"Sorry, `!garbage` failed (ref REF)."}},
		{"flood: cut at max_output", "!flood", append(slicesRepeat("flood", 4096/len(`{"type":"text","text":"flood"}`+"\n")), "Sorry, `!flood` failed (ref REF).")},
		{"lines after done are not read", "!late", nil},
		{"stream", "!stream", []string{"step 1", "step 2", "step 3"}},
		{"user error", "!error", []string{"`!error` failed: no such service"}},
		{"file outside the directories", "!escape", []string{"Sorry, `!escape` failed (ref REF)."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			if diff := cmp.Diff(tc.want, bottest.Texts(bottest.Unref(b.Say(tc.in)))); diff != "" {
				t.Errorf("Say(%q) (-want +got):\n%s", tc.in, diff)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Say(%q) took %v", tc.in, d)
			}
		})
	}
	logs := log.String()
	for _, want := range []string{
		`line="it broke"`, "exit status 7",
		`stdout: line 1: not a JSON object`, `this is not json`,
		`output over limits.max_output`,
		`path /etc/passwd is outside the plugin's directories`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	t.Run("stderr flood", func(t *testing.T) {
		if got := bottest.Texts(b.Say("!noise")); !cmp.Equal(got, []string{"quiet"}) {
			t.Errorf("noise: %q", got)
		}
		logs := log.String()
		if n := strings.Count(logs, `line="noise`); n < 50 || n > 200 {
			t.Errorf("%d stderr lines logged of 1000, want about 100", n)
		}
		if !regexp.MustCompile(`plugin stderr lines dropped" plugin=sh dropped=\d+`).MatchString(logs) {
			t.Errorf("no line says how many were dropped:\n%s", logs)
		}
	})
	t.Run("environment", func(t *testing.T) {
		env := bottest.Texts(b.Say("!env"))[0]
		for _, want := range []string{"EXECPLUGIN_TEST_VISIBLE=yes", "MATTERBOT_PLUGIN=sh", "MATTERBOT_PROTOCOL=1", "HOME=" + dir, "MATTERBOT_MODE=oneshot"} {
			if !strings.Contains(env, want) {
				t.Errorf("env lacks %s: %s", want, env)
			}
		}
		for _, bad := range []string{"EXECPLUGIN_TEST_HIDDEN", "MATTERBOT_TOKEN", "GOPATH="} {
			if strings.Contains(env, bad) {
				t.Errorf("env has %s: %s", bad, env)
			}
		}
	})
	t.Run("working directory", func(t *testing.T) {
		if got := bottest.Texts(b.Say("!pwd")); len(got) != 1 || got[0] != dir {
			t.Errorf("pwd = %q, want %s", got, dir)
		}
	})
	t.Run("file", func(t *testing.T) {
		rs := b.Say("!file")
		if len(rs) != 1 || rs[0].File == nil || string(rs[0].File.Data) != "a,b\n" || rs[0].Text != "the file" {
			t.Errorf("file reply: %+v", rs)
		}
	})
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestTokenAndWorkDir(t *testing.T) {
	manifest := `protocol = 1
name = "tok"
version = "1"
mode = "oneshot"
exec = ["./run.sh"]
token = true
[[commands]]
name = "env"
`
	script := "#!/bin/sh\nprintf '{\"type\":\"text\",\"text\":\"%s %s\"}\\n' \"$MATTERBOT_TOKEN\" \"$(pwd)\"\n"
	dir := files(t, map[string]string{"plugin.toml": manifest, "run.sh": script})
	work := t.TempDir()
	for _, tc := range []struct {
		name  string
		allow []string
		want  string
	}{
		{"not allowed", nil, " " + filepath.Join(work, "tok")},
		{"allowed", []string{"tok"}, "s3cret " + filepath.Join(work, "tok")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log logBuffer
			o := options(&log)
			o.Token, o.ServerURL, o.AllowToken, o.WorkDir = "s3cret", "https://chat.example.com", tc.allow, work
			pl, err := execplugin.New(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			b := bottest.New(t, pl)
			if got := bottest.Texts(b.Say("!env")); !cmp.Equal(got, []string{tc.want}) {
				t.Errorf("env = %q, want %q", got, tc.want)
			}
			if tc.allow == nil && !strings.Contains(log.String(), "allow_token does not list it") {
				t.Errorf("no warning for the refused token:\n%s", log.String())
			}
			if strings.Contains(log.String(), "s3cret") {
				t.Errorf("the token is in the log:\n%s", log.String())
			}
		})
	}
	if fi, err := os.Stat(filepath.Join(work, "tok")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("working directory: %v %v", fi, err)
	}
}

const pythonLongLived = `import json, sys, threading

lock = threading.Lock()
def send(m):
    with lock:
        sys.stdout.write(json.dumps(m) + "\n")
        sys.stdout.flush()

def handle(req):
    h = req["handler"]
    if h == "hello":
        send({"type": "text", "id": req["id"], "text": "hello, @" + req["user"]["username"]})
    elif h == "garbage":
        print("garbage", flush=True)
        return
    elif h == "exit":
        sys.exit(0)
    send({"type": "done", "id": req["id"]})

for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "hello":
        if m["config"].get("broken"):
            print("no ready for you", file=sys.stderr, flush=True)
            sys.exit(4)
        send({"type": "ready", "protocol": m["protocol"]})
    elif m["type"] == "request":
        threading.Thread(target=handle, args=(m,)).start()
    elif m["type"] == "deactivate":
        break
`

func TestPythonLongLived(t *testing.T) {
	manifest := `protocol = 1
name = "py"
version = "1"
mode = "longlived"
exec = ["python3", "plugin.py"]
[[commands]]
name = "hello"
[[commands]]
name = "garbage"
[config.broken]
type = "bool"
`
	var log logBuffer
	dir := files(t, map[string]string{"plugin.toml": manifest, "plugin.py": pythonLongLived})
	b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, load(t, dir, &log))
	if got := bottest.Texts(b.Say("!hello")); !cmp.Equal(got, []string{"hello, @alice"}) {
		t.Errorf("hello: %q", got)
	}
	// Garbage on stdout: the program is killed, the request fails, and
	// the program is started again.
	if got := bottest.Texts(bottest.Unref(b.Say("!garbage"))); !cmp.Equal(got, []string{"Sorry, `!garbage` failed (ref REF)."}) {
		t.Errorf("garbage: %q", got)
	}
	waitFor(t, "the restart", func() bool { return strings.Contains(log.String(), "plugin program restarted") })
	if !strings.Contains(log.String(), "protocol error") {
		t.Errorf("log lacks the protocol error:\n%s", log.String())
	}
	if got := bottest.Texts(b.Say("!hello")); !cmp.Equal(got, []string{"hello, @alice"}) {
		t.Errorf("hello after the restart: %q", got)
	}
}

func TestLongLivedStartFailures(t *testing.T) {
	tests := []struct {
		name, program, want string
	}{
		{"exits", "#!/bin/sh\necho 'cannot start' >&2\nexit 4\n", `exited before ready.*exit status 4.*stderr: cannot start`},
		{"never ready", "#!/bin/sh\nexec sleep 60\n", `no ready within limits.start_timeout 300ms`},
		{"wrong protocol", "#!/bin/sh\nread l\necho '{\"type\":\"ready\",\"protocol\":2}'\nexec sleep 60\n", `ready says protocol 2, hello said 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			manifest := "protocol = 1\nname = \"bad\"\nversion = \"1\"\nmode = \"longlived\"\nexec = [\"./run.sh\"]\n[limits]\nstart_timeout = \"300ms\"\n[[commands]]\nname = \"x\"\n"
			var log logBuffer
			pl := load(t, files(t, map[string]string{"plugin.toml": manifest, "run.sh": tc.program}), &log)
			b := bottest.NewWithOptions(t, &bot.Options{Logger: log.logger()}, pl)
			if b.Engine.Active("bad") {
				t.Fatal("plugin active")
			}
			err := b.Engine.Activate(context.Background(), "bad")
			if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("Activate = %v, want %s", err, tc.want)
			}
		})
	}
}
