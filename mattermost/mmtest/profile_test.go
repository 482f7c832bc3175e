package mmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// profiles are the server versions the fake plays, with the release
// each claims.
var profiles = []struct{ name, release string }{
	{VersionCurrent, CurrentVersion},
	{Version536, "5.36.1"},
}

// TestServerVersionClaimed: X-Version-Id, the WebSocket hello and the
// WebSocket ping reply name the release the profile claims; the default
// is the current profile.
func TestServerVersionClaimed(t *testing.T) {
	for _, p := range append(profiles, struct{ name, release string }{"", CurrentVersion}) {
		t.Run("profile "+p.name, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: p.name})
			wantID := p.release + "..482d74aa791d53ed59a63fb53a266ea0.false"
			r := w.do(t, "GET", "/users/me", w.aliceTok, nil)
			if got := r.header.Get("X-Version-Id"); got != wantID {
				t.Errorf("X-Version-Id = %q, want %q", got, wantID)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			wsURL := "ws" + strings.TrimPrefix(w.srv.URL(), "http") + "/api/v4/websocket"
			c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.aliceTok}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			read := func() map[string]any {
				t.Helper()
				_, b, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				var f map[string]any
				if err := json.Unmarshal(b, &f); err != nil {
					t.Fatalf("frame %s: %v", b, err)
				}
				return f
			}
			hello := read()
			if v := hello["data"].(map[string]any)["server_version"]; v != wantID {
				t.Errorf("hello server_version = %v, want %q", v, wantID)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"seq":1,"action":"ping"}`)); err != nil {
				t.Fatal(err)
			}
			for {
				f := read()
				if f["seq_reply"] == nil {
					continue // status_change and the like
				}
				if v := f["data"].(map[string]any)["version"]; v != p.release {
					t.Errorf("ping reply version = %v, want %q", v, p.release)
				}
				break
			}
		})
	}
}

// TestServerVersionUnknown: any other profile name is refused, naming the
// accepted ones.
func TestServerVersionUnknown(t *testing.T) {
	for _, v := range []string{"5.36.1", "9.11.0", "Current", "latest"} {
		_, err := Start("127.0.0.1:0", &Options{ServerVersion: v})
		if err == nil || !strings.Contains(err.Error(), `"current" or "5.36"`) || !strings.Contains(err.Error(), v) {
			t.Errorf("Start with ServerVersion %q: err = %v, want one naming it and the accepted values", v, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New with ServerVersion %q did not panic", v)
				}
			}()
			New(&Options{ServerVersion: v})
		}()
	}
}

// TestPingProfiles: GET /system/ping answers the field set of each
// version's getSystemPing (release-5.36 api4/system.go; today's
// server/channels/api4/system.go), with the health keys that
// get_server_status adds.
func TestPingProfiles(t *testing.T) {
	base536 := map[string]any{
		"status": "OK", "AndroidLatestVersion": "", "AndroidMinVersion": "",
		"DesktopLatestVersion": "", "DesktopMinVersion": "", "IosLatestVersion": "", "IosMinVersion": "",
	}
	baseCur := map[string]any{
		"status": "OK", "AndroidLatestVersion": "", "AndroidMinVersion": "",
		"IosLatestVersion": "", "IosMinVersion": "", "ActiveSearchBackend": "database",
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		profile, query, who string
		want                map[string]any
		health              bool
	}{
		{Version536, "", "", base536, false},
		{Version536, "?get_server_status=1", "", with(base536, "database_status", "OK", "filestore_status", "OK"), true},
		{Version536, "?get_server_status=true", "root", with(base536, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "", "", baseCur, false},
		{VersionCurrent, "?get_server_status=1", "", baseCur, false},
		{VersionCurrent, "?get_server_status=true", "", with(baseCur, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "?get_server_status=true", "alice", with(baseCur, "database_status", "OK", "filestore_status", "OK"), true},
		{VersionCurrent, "?get_server_status=true", "root", with(baseCur, "database_status", "OK", "filestore_status", "OK", "root_status", false), true},
	}
	for _, tc := range tests {
		t.Run(tc.profile+tc.query+" "+tc.who, func(t *testing.T) {
			w := newWorld(t, &Options{ServerVersion: tc.profile})
			tok := map[string]string{"alice": w.aliceTok, "root": w.rootTok}[tc.who]
			r := w.do(t, "GET", "/system/ping"+tc.query, tok, nil)
			if r.status != 200 {
				t.Fatalf("ping = %d %s", r.status, r.body)
			}
			var got map[string]any
			r.json(t, &got)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ping body (-want +got):\n%s", d)
			}
			if h := r.header.Get("database_status"); (h == "OK") != tc.health {
				t.Errorf("database_status header = %q, want it set: %v", h, tc.health)
			}
		})
	}
}
