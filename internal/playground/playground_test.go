package playground

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

// The page is served whole, with a policy that loads nothing from
// elsewhere; the logins beside it; / leads to it; nothing else is.
func TestHandler(t *testing.T) {
	logins := []Login{{Username: "alice", Password: "alice-password"}, {Username: "carol", Token: "caroltoken", Admin: true}}
	h := Handler(logins)

	resp := get(t, h, "GET", Path)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), "<title>matterbot playground</title>") {
		t.Fatalf("GET %s = %d %q, want the page", Path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "script-src 'unsafe-inline'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	// No external assets: nothing the page names is fetched from elsewhere.
	for _, bad := range []string{"<script src", "<link", "@import", "url(http", "src=\"http"} {
		if strings.Contains(string(body), bad) {
			t.Errorf("the page has %q: it must load nothing from elsewhere", bad)
		}
	}

	resp = get(t, h, "GET", Path+"/logins")
	var got []Login
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET logins: %v, %q", err, resp.Header.Get("Content-Type"))
	}
	if diff := cmp.Diff(logins, got); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
	if resp := get(t, Handler(nil), "GET", Path+"/logins"); resp != nil {
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "[]" {
			t.Errorf("no logins = %s, want []", b)
		}
	}

	if resp := get(t, h, "GET", "/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != Path {
		t.Errorf("GET / = %d %q, want a redirect to %s", resp.StatusCode, resp.Header.Get("Location"), Path)
	}
	for _, path := range []string{"/other", Path + "/x", "/index.html"} {
		if resp := get(t, h, "GET", path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := get(t, h, "POST", Path); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s = %d, want 405", Path, resp.StatusCode)
	}
}
