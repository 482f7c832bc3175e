package mmtest

import (
	"net/http"
	"strconv"
	"strings"
)

// clientConfig is the fake's client configuration in the format=old shape
// (server/config/client.go GenerateLimitedClientConfig and
// GenerateClientConfig): a map of strings. It holds the keys a client
// reads to learn what the server allows, with the values of the fake's
// behaviour (a default configuration, except what Options change); the
// server sends many more display settings. limited is the set sent
// without a session.
func (s *Server) clientConfig(limited bool) map[string]string {
	siteURL := strings.TrimRight(s.URL(), "/")
	cfg := map[string]string{
		"Version":                          s.version,
		"BuildNumber":                      "",
		"BuildDate":                        "",
		"BuildHash":                        "mmtest",
		"BuildHashEnterprise":              "none",
		"BuildEnterpriseReady":             "false",
		"SiteURL":                          siteURL,
		"SiteName":                         "Mattermost",
		"WebsocketURL":                     "",
		"WebsocketPort":                    "80",
		"WebsocketSecurePort":              "443",
		"EnableUserCreation":               "true",
		"EnableOpenServer":                 "false",
		"EnableSignUpWithEmail":            "true",
		"EnableSignInWithEmail":            "true",
		"EnableSignInWithUsername":         "true",
		"EnableSignUpWithGitLab":           "false",
		"EnableBotAccountCreation":         strconv.FormatBool(s.botAPI),
		"EnableDiagnostics":                "false",
		"TelemetryId":                      "",
		"DiagnosticId":                     "",
		"NoAccounts":                       "false",
		"EnableCustomBrand":                "false",
		"CustomBrandText":                  "",
		"CustomDescriptionText":            "",
		"EnableMultifactorAuthentication":  "true",
		"EnforceMultifactorAuthentication": "false",
		"PasswordMinimumLength":            "8",
		"AboutLink":                        "https://mattermost.com/default-about/",
		"HelpLink":                         "https://mattermost.com/default-help/",
		"TermsOfServiceLink":               "https://mattermost.com/terms-of-use/",
		"PrivacyPolicyLink":                "https://mattermost.com/privacy-policy/",
		"SupportEmail":                     "",
	}
	if limited {
		return cfg
	}
	for k, v := range map[string]string{
		"EnableCommands":                   "true",
		"EnableIncomingWebhooks":           "true",
		"EnableOutgoingWebhooks":           "true",
		"EnablePostUsernameOverride":       "false",
		"EnablePostIconOverride":           "false",
		"EnableUserAccessTokens":           "true",
		"EnableCustomEmoji":                "true",
		"EnableEmojiPicker":                "true",
		"EnableLinkPreviews":               "false",
		"EnableTesting":                    "false",
		"EnableDeveloper":                  "false",
		"EnableFileAttachments":            "true",
		"EnablePublicLink":                 "false",
		"MaxFileSize":                      strconv.FormatInt(s.maxFile, 10),
		"ShowEmailAddress":                 "true",
		"ShowFullName":                     "true",
		"TeammateNameDisplay":              "username",
		"RestrictDirectMessage":            "any",
		"EnableUserTypingMessages":         "true",
		"EnableChannelViewedMessages":      "true",
		"PostEditTimeLimit":                "-1",
		"MaxNotificationsPerChannel":       "1000",
		"ExperimentalTimezone":             "true",
		"ExperimentalViewArchivedChannels": strconv.FormatBool(s.viewArchived()),
		"SendEmailNotifications":           "false",
		"SendPushNotifications":            "false",
		"EnableUserDeactivation":           "false",
		"SQLDriverName":                    "postgres",
		"CollapsedThreads":                 "disabled",
	} {
		cfg[k] = v
	}
	return cfg
}

// getClientConfig is GET /config/client (api4/config.go getClientConfig),
// served without a session: format must be "old" (none is 501
// api.config.client.old_format.app_error, another value 400 format);
// without a valid session the limited set, with one the whole.
func (q *request) getClientConfig() {
	if !q.oldFormat("api.config.client.old_format.app_error") {
		return
	}
	q.reply(http.StatusOK, q.s.clientConfig(q.sess == nil))
}

// getClientLicense is GET /license/client (api4/license.go
// getClientLicense), served without a session: format as for the client
// configuration; the fake is unlicensed, so everyone gets
// {"IsLicensed":"false"} (model ClientLicense without a license).
func (q *request) getClientLicense() {
	if !q.oldFormat("api.license.client.old_format.app_error") {
		return
	}
	q.reply(http.StatusOK, map[string]string{"IsLicensed": "false"})
}

// oldFormat checks ?format=old, answering the error itself otherwise.
func (q *request) oldFormat(missing string) bool {
	switch q.r.URL.Query().Get("format") {
	case "old":
		return true
	case "":
		q.fail(apiError(http.StatusNotImplemented, missing, ""))
	default:
		q.failParam("format")
	}
	return false
}
