package mmtest

import "testing"

// TestClientConfig follows api4/config.go getClientConfig and
// api4/license.go getClientLicense: format=old required, served without a
// session (the limited set), whole with one.
func TestClientConfig(t *testing.T) {
	w := newWorld(t, &Options{EnableBotAccountCreation: true})
	var limited, full map[string]string
	r := w.do(t, "GET", "/config/client?format=old", "", nil)
	expect(t, "config without a session", r, ok(200))
	r.json(t, &limited)
	w.do(t, "GET", "/config/client?format=old", w.aliceTok, nil).json(t, &full)
	if limited["Version"] != CurrentVersion || limited["SiteURL"] != w.srv.URL() || limited["EnableBotAccountCreation"] != "true" {
		t.Errorf("limited config = %v", limited)
	}
	if _, has := limited["EnableCommands"]; has {
		t.Error("the limited config has EnableCommands")
	}
	if full["EnableCommands"] != "true" || full["EnableUserAccessTokens"] != "true" || full["Version"] != CurrentVersion {
		t.Errorf("full config = %v", full)
	}
	expect(t, "config without format", w.do(t, "GET", "/config/client", "", nil), answer{501, "api.config.client.old_format.app_error"})
	expect(t, "config, format=new", w.do(t, "GET", "/config/client?format=new", "", nil), answer{400, idBodyParm})
	expect(t, "config with a bad token", w.do(t, "GET", "/config/client?format=old", "nope", nil), ok(200))

	var lic map[string]string
	r = w.do(t, "GET", "/license/client?format=old", w.aliceTok, nil)
	expect(t, "license", r, ok(200))
	r.json(t, &lic)
	if len(lic) != 1 || lic["IsLicensed"] != "false" {
		t.Errorf("license = %v, want {IsLicensed: false}", lic)
	}
	expect(t, "license without format", w.do(t, "GET", "/license/client", "", nil), answer{501, "api.license.client.old_format.app_error"})
}
