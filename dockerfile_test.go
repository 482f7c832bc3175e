package matterbot

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/matterbot/matterbot/config"
)

// The tests in this file check the Dockerfile against the code, since no
// image can be built here (no Docker engine): the paths, user, port and
// health check it names, and the build it runs.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // 1-based line of its first line
	cmd  string // upper case: FROM, RUN, ...
	args string // the rest, as written
}

// stage is one FROM and the instructions under it.
type stage struct {
	from, name string
	instrs     []instruction
}

// parseDockerfile splits a Dockerfile into stages. It understands what
// ours uses: comments, blank lines, "\" continuations and FROM ... AS.
func parseDockerfile(t *testing.T, name string) []stage {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur *instruction
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if cur == nil && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur != nil && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		more := strings.HasSuffix(line, "\\")
		line = strings.TrimSuffix(line, "\\")
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			cur = &instruction{line: i + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		} else {
			cur.args += " " + strings.TrimSpace(line)
		}
		if more {
			continue
		}
		cur.args = strings.TrimSpace(cur.args)
		if cur.cmd == "FROM" {
			f := strings.Fields(cur.args)
			for len(f) > 1 && strings.HasPrefix(f[0], "--") {
				f = f[1:] // --platform=...
			}
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		} else {
			if len(stages) == 0 {
				t.Fatalf("%s:%d: %s before FROM", name, cur.line, cur.cmd)
			}
			s := &stages[len(stages)-1]
			s.instrs = append(s.instrs, *cur)
		}
		cur = nil
	}
	return stages
}

// all returns the arguments of every cmd instruction of s.
func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// one returns the arguments of s's only cmd instruction.
func (s stage) one(t *testing.T, cmd string) string {
	t.Helper()
	a := s.all(cmd)
	if len(a) != 1 {
		t.Fatalf("stage %q: %d %s instructions, want 1: %q", s.from, len(a), cmd, a)
	}
	return a[0]
}

// execForm decodes an exec-form argument list: ["a", "b"].
func execForm(t *testing.T, cmd, args string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		t.Fatalf("%s %s: not the exec form (a scratch image has no shell): %v", cmd, args, err)
	}
	return v
}

// goBuild returns the build stage's RUN that runs go build.
func goBuild(t *testing.T, build stage) string {
	t.Helper()
	var runs []string
	for _, r := range build.all("RUN") {
		if strings.Contains(r, "go build") {
			runs = append(runs, r)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("build stage: %d RUN with go build, want 1", len(runs))
	}
	return runs[0]
}

// binaryPath returns where the go build RUN writes the binary, under the
// directory that becomes the final image's root.
func binaryPath(t *testing.T, run string) string {
	t.Helper()
	m := regexp.MustCompile(`-o /out/root(/\S+)`).FindStringSubmatch(run)
	if m == nil {
		t.Fatalf("go build RUN: no -o /out/root/...: %s", run)
	}
	return m[1]
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want 2 (build, final)", len(stages))
	}
	build, final := stages[0], stages[1]

	// The builder's Go is the go.mod's.
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if want := "golang:" + string(goVersion[1]); build.from != want {
		t.Errorf("build stage FROM %s, want %s (go.mod)", build.from, want)
	}
	if final.from != "scratch" {
		t.Errorf("final stage FROM %s, want scratch", final.from)
	}

	// The build: static, without local paths, stamped.
	buildRun := goBuild(t, build)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X github.com/matterbot/matterbot.version=$VERSION", "./cmd/matterbot"} {
		if !strings.Contains(buildRun, want) {
			t.Errorf("go build RUN lacks %q: %s", want, buildRun)
		}
	}
	if !slices.ContainsFunc(build.all("ARG"), func(a string) bool { return strings.HasPrefix(a, "VERSION") }) {
		t.Error("build stage has no ARG VERSION")
	}
	bin := binaryPath(t, buildRun)

	// The user: not root, in /etc/passwd with its home in the data volume.
	user := final.one(t, "USER")
	uid, gid, _ := strings.Cut(user, ":")
	if uid == "0" || uid == "root" || !regexp.MustCompile(`^\d+$`).MatchString(uid) {
		t.Errorf("USER %s: want a numeric uid other than 0 (Kubernetes' runAsNonRoot checks it)", user)
	}
	prep := strings.Join(build.all("RUN"), "\n")
	passwd := regexp.MustCompile(`echo '([^']*)' > etc/passwd`).FindStringSubmatch(prep)
	if passwd == nil {
		t.Fatal("build stage writes no etc/passwd")
	}
	if want := "matterbot:x:" + uid + ":" + gid + ":matterbot:/var/lib/matterbot:/sbin/nologin"; passwd[1] != want {
		t.Errorf("/etc/passwd = %q, want %q", passwd[1], want)
	}
	if !strings.Contains(prep, "cp /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/") {
		t.Error("build stage copies no CA certificates to /etc/ssl/certs/ca-certificates.crt, where Go looks")
	}
	copies := final.all("COPY")
	if want := "--from=build --chown=" + user + " /out/data/ /var/lib/"; !slices.Contains(copies, want) {
		t.Errorf("final stage COPY %q, want %q among them (the data directory, the user's)", copies, want)
	}

	// The volumes hold the configuration the CMD reads and the store the
	// configuration names.
	var volumes []string
	for _, v := range final.all("VOLUME") {
		volumes = append(volumes, execForm(t, "VOLUME", v)...)
	}
	if want := []string{"/etc/matterbot", "/var/lib/matterbot"}; !slices.Equal(volumes, want) {
		t.Errorf("VOLUME %q, want %q", volumes, want)
	}
	env := map[string]string{}
	for _, e := range final.all("ENV") {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			t.Errorf("ENV %s: want KEY=value", e)
		}
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	if unknown := config.UnknownEnv(environ); len(unknown) > 0 {
		t.Errorf("ENV names variables the configuration does not know: %v", unknown)
	}
	if ep := execForm(t, "ENTRYPOINT", final.one(t, "ENTRYPOINT")); !slices.Equal(ep, []string{bin}) {
		t.Errorf("ENTRYPOINT %q, want [%q], the binary the build writes", ep, bin)
	}
	cmd := execForm(t, "CMD", final.one(t, "CMD"))
	if len(cmd) != 3 || cmd[0] != "run" || cmd[1] != "-c" || path.Dir(cmd[2]) != "/etc/matterbot" {
		t.Fatalf("CMD %q, want [run -c /etc/matterbot/FILE]", cmd)
	}
	// The configuration as the container loads it: the environment of
	// the image over a minimal file in the configuration volume.
	doc := "[mattermost]\nserver = \"chat.example.com\"\nteam = \"ops\"\ntoken = \"tok\"\n"
	cfg, err := config.Parse(cmd[2], []byte(doc), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if dir := path.Dir(cfg.Storage.Path); dir != "/var/lib/matterbot" {
		t.Errorf("in the container the store is %s, want it in the data volume /var/lib/matterbot", cfg.Storage.Path)
	}

	// The listener, the port and the health check agree.
	_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		t.Fatal(err)
	}
	if expose := final.one(t, "EXPOSE"); expose != port {
		t.Errorf("EXPOSE %s, want %s, the port of the listener (%s)", expose, port, cfg.HTTP.Listen)
	}
	hc := final.one(t, "HEALTHCHECK")
	_, hcArgs, ok := strings.Cut(hc, " CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s: no CMD", hc)
	}
	probe := execForm(t, "HEALTHCHECK CMD", hcArgs)
	if len(probe) < 2 || probe[0] != bin || probe[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK CMD %q, want [%s healthcheck ...]", probe, bin)
	}
	// healthcheck reads MATTERBOT_HTTP_LISTEN as the bot does: with the
	// image's environment both name the same address.
	t.Setenv("MATTERBOT_HTTP_LISTEN", env["MATTERBOT_HTTP_LISTEN"])
	u, err := healthURL(env["MATTERBOT_HTTP_LISTEN"], "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + cfg.HTTP.Listen + "/healthz"; u != want {
		t.Errorf("the health check asks %s, the listener is at %s", u, want)
	}

	// The CMD and the health check are command lines matterbot accepts.
	for _, args := range [][]string{cmd, probe[1:]} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), append(slices.Clone(args), "--help"), &stdout, &stderr); code != 0 {
			t.Errorf("matterbot %q --help = %d, stderr %q: the image's command line is not valid", args, code, stderr.String())
		}
	}
}

// TestDockerBuildStatic runs the Dockerfile's go build, as written but
// for the output directory, and checks that the binary is static, holds
// no local paths and says the version it was given.
func TestDockerBuildStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: not in -short")
	}
	stages := parseDockerfile(t, "Dockerfile")
	run := goBuild(t, stages[0])
	out := t.TempDir()
	script := strings.ReplaceAll(run, "/out/root/", out+"/")
	bin := filepath.Join(out, filepath.FromSlash(strings.TrimPrefix(binaryPath(t, run), "/")))

	const version = "v0.0.0-dockertest"
	cmd := exec.Command("sh", "-c", script)
	arch := runtime.GOARCH
	if runtime.GOOS != "linux" {
		arch = "amd64" // an image's platform is linux
	}
	cmd.Env = append(os.Environ(), "VERSION="+version, "TARGETOS=linux", "TARGETARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP header: it needs a dynamic loader, which scratch lacks")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q (%v), want none", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -s was not applied")
	}

	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings CGO_ENABLED=%q -trimpath=%q, want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	if wd, _ := os.Getwd(); wd != "" {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(wd)) {
			t.Errorf("the binary holds the build directory %s: not reproducible elsewhere", wd)
		}
	}

	if runtime.GOOS != "linux" {
		return
	}
	got, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "matterbot " + version + "\n"; string(got) != want {
		t.Errorf("matterbot version = %q, want %q", got, want)
	}
}

// dockerignored reports whether .dockerignore's patterns leave name (a
// slash-separated path in the context) out of the build context, as
// Docker reads them: the last pattern that matches the path or one of its
// parent directories decides, "!" keeps, "**" spans directories, and a
// leading or trailing "/" is ignored.
func dockerignored(patterns []string, name string) bool {
	var parents []string
	for p := name; p != "."; p = path.Dir(p) {
		parents = append(parents, p)
	}
	ignored := false
	for _, pat := range patterns {
		keep := strings.HasPrefix(pat, "!")
		pat = strings.Trim(path.Clean(strings.TrimPrefix(pat, "!")), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(pat); i++ {
			switch {
			case strings.HasPrefix(pat[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pat[i:], "**"):
				re.WriteString(".*")
				i++
			case pat[i] == '*':
				re.WriteString("[^/]*")
			case pat[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(pat[i : i+1]))
			}
		}
		re.WriteString("$")
		rx := regexp.MustCompile(re.String())
		if slices.ContainsFunc(parents, rx.MatchString) {
			ignored = !keep
		}
	}
	return ignored
}

// TestDockerignore: the build context holds every file the build reads
// (the Go files and embedded files of the packages cmd/matterbot links,
// go.mod, go.sum) and none of the history, local stores or local
// configurations.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}

	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"./cmd/matterbot").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum", "Dockerfile"}
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(wd, f)
		if err != nil {
			t.Fatal(err)
		}
		needed = append(needed, filepath.ToSlash(rel))
	}
	if !slices.Contains(needed, "config/matterbot.example.toml") {
		t.Fatalf("go list found no embedded example configuration among %d files", len(needed))
	}
	for _, f := range needed {
		if dockerignored(patterns, f) {
			t.Errorf(".dockerignore leaves out %s, which the build reads", f)
		}
	}
	for _, f := range []string{".git/HEAD", "matterbot.toml", "deploy/prod.toml", "matterbot.db",
		"var/bot.db", "dist/matterbot-linux-amd64", "matterbot", "cmd/matterbot/matterbot"} {
		if !dockerignored(patterns, f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}

// TestReleaseMatchesDockerfile: scripts/release.sh and the Dockerfile
// run the same go build, but for the target and output names.
func TestReleaseMatchesDockerfile(t *testing.T) {
	data, err := os.ReadFile("scripts/release.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\nbuild\(\) \{\n(.*?)\n\}\n`).FindSubmatch(data)
	if m == nil {
		t.Fatal("scripts/release.sh has no build() function")
	}
	normalize := func(cmd string) string {
		cmd = strings.ReplaceAll(cmd, "\\\n", " ")
		cmd = regexp.MustCompile(`\bGOOS=\S+`).ReplaceAllString(cmd, "GOOS=OS")
		cmd = regexp.MustCompile(`\bGOARCH=\S+`).ReplaceAllString(cmd, "GOARCH=ARCH")
		cmd = regexp.MustCompile(`-o \S+`).ReplaceAllString(cmd, "-o OUT")
		return strings.Join(strings.Fields(cmd), " ")
	}
	release := normalize(string(m[1]))
	docker := normalize(goBuild(t, parseDockerfile(t, "Dockerfile")[0]))
	if release != docker {
		t.Errorf("the builds differ:\nscripts/release.sh: %s\nDockerfile:         %s", release, docker)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w -buildid="} {
		if !strings.Contains(release, want) {
			t.Errorf("scripts/release.sh: go build lacks %q: %s", want, release)
		}
	}
}
