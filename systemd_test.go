package matterbot

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matterbot/matterbot/config"
)

// unitFile is the systemd unit that packaging ships.
const unitFile = "packaging/systemd/matterbot.service"

// parseUnit reads a systemd unit file: section → key → values, in order
// (a key may repeat; an empty value is kept, as systemd reads it: a reset).
func parseUnit(t *testing.T, name string) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]map[string][]string{}
	var section string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: %q: want KEY=value in a section, on one line", name, i+1, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	return unit
}

// TestSystemdUnit checks the unit against the code: the command line it
// runs, the hardening it promises, and the token and store paths it hands
// over, loaded the way matterbot will load them under systemd.
func TestSystemdUnit(t *testing.T) {
	unit := parseUnit(t, unitFile)
	svc := unit["Service"]
	one := func(key string) string {
		t.Helper()
		if len(svc[key]) != 1 {
			t.Fatalf("[Service] %s = %q, want one value", key, svc[key])
		}
		return svc[key][0]
	}

	for key, want := range map[string]string{
		"DynamicUser":            "yes",
		"NoNewPrivileges":        "yes",
		"ProtectSystem":          "strict",
		"ProtectHome":            "yes",
		"PrivateTmp":             "yes",
		"CapabilityBoundingSet":  "",
		"StateDirectory":         "matterbot",
		"ConfigurationDirectory": "matterbot",
		"Restart":                "on-failure",
		"ExecReload":             "/bin/kill -HUP $MAINPID",
	} {
		if got := one(key); got != want {
			t.Errorf("[Service] %s=%s, want %s", key, got, want)
		}
	}
	if !slices.Contains(svc["SystemCallFilter"], "@system-service") {
		t.Errorf("[Service] SystemCallFilter = %q, want @system-service among them", svc["SystemCallFilter"])
	}
	if fams := strings.Fields(one("RestrictAddressFamilies")); !slices.Contains(fams, "AF_INET") || slices.Contains(fams, "AF_NETLINK") || slices.Contains(fams, "AF_PACKET") {
		t.Errorf("[Service] RestrictAddressFamilies = %q, want AF_INET and no AF_NETLINK or AF_PACKET", fams)
	}
	if d, err := time.ParseDuration(one("RestartSec")); err != nil || d <= 0 {
		t.Errorf("[Service] RestartSec = %s, want a positive duration (%v)", one("RestartSec"), err)
	}
	// Stopping waits for the engine (10 s by default) and then the HTTP
	// listener (httpShutdownTimeout) before systemd may kill.
	if d, err := time.ParseDuration(one("TimeoutStopSec")); err != nil || d < 10*time.Second+httpShutdownTimeout {
		t.Errorf("[Service] TimeoutStopSec = %s, want at least %v (%v)", one("TimeoutStopSec"), 10*time.Second+httpShutdownTimeout, err)
	}

	// The command line: the binary, and arguments matterbot accepts, with
	// the configuration in the configuration directory.
	args := strings.Fields(one("ExecStart"))
	if args[0] != "/usr/local/bin/matterbot" || len(args) != 4 || args[1] != "run" || args[2] != "-c" {
		t.Fatalf("[Service] ExecStart=%s, want /usr/local/bin/matterbot run -c FILE", one("ExecStart"))
	}
	confFile := args[3]
	if dir := path.Dir(confFile); dir != "/etc/"+one("ConfigurationDirectory") {
		t.Errorf("ExecStart reads %s, outside ConfigurationDirectory /etc/%s", confFile, one("ConfigurationDirectory"))
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), append(slices.Clone(args[1:]), "--help"), &stdout, &stderr); code != 0 {
		t.Errorf("matterbot %q --help = %d, stderr %q: ExecStart is not a valid command line", args[1:], code, stderr.String())
	}

	// What systemd hands over, as the service sees it: %d is the
	// credentials directory, %S the state root (/var/lib).
	creds, stateRoot := t.TempDir(), t.TempDir()
	credName, credSource, ok := strings.Cut(one("LoadCredential"), ":")
	if !ok || path.Dir(credSource) != path.Dir(confFile) {
		t.Errorf("LoadCredential=%s, want NAME:/etc/matterbot/FILE", one("LoadCredential"))
	}
	if err := os.WriteFile(filepath.Join(creds, credName), []byte("cred-token\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CREDENTIALS_DIRECTORY": creds, "STATE_DIRECTORY": filepath.Join(stateRoot, "matterbot")}
	specifiers := strings.NewReplacer("%d", creds, "%S", stateRoot, "%%", "%")
	var environ []string
	for _, e := range svc["Environment"] {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			t.Fatalf("Environment=%s: want KEY=value", e)
		}
		env[k] = specifiers.Replace(v)
		environ = append(environ, k+"="+v)
	}
	if unknown := config.UnknownEnv(environ); len(unknown) > 0 {
		t.Errorf("Environment= names variables the configuration does not know: %v", unknown)
	}
	// A configuration file with no token: the credential supplies it.
	doc := "[mattermost]\nserver = \"chat.example.com\"\nteam = \"ops\"\n"
	cfg, err := config.Parse(confFile, []byte(doc), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the configuration as the unit loads it: %v", err)
	}
	if got := cfg.Mattermost.Token.Reveal(); got != "cred-token" {
		t.Errorf("token = %q, want the credential's %q", got, "cred-token")
	}
	if want := filepath.Join(stateRoot, one("StateDirectory"), "matterbot.db"); cfg.Storage.Path != want {
		t.Errorf("store = %s, want %s, in StateDirectory", cfg.Storage.Path, want)
	}
	if wd := specifiers.Replace(one("WorkingDirectory")); wd != filepath.Join(stateRoot, one("StateDirectory")) {
		t.Errorf("WorkingDirectory = %s, want the state directory", wd)
	}
}

// TestSystemdAnalyzeVerify runs systemd's own check of the unit, where
// systemd-analyze is installed. It reports unknown keys and bad values
// on stderr but exits 0 for them, so any output fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart names an executable: any will do.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "matterbot.service")
	data = bytes.ReplaceAll(data, []byte("/usr/local/bin/matterbot"), []byte(self))
	if err := os.WriteFile(unit, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
