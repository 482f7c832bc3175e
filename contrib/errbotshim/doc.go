// Package errbotshim holds matterbot's Errbot shim: a Python package,
// standard library only, that implements Errbot's plugin API (BotPlugin,
// botcmd, arg_botcmd, re_botcmd, webhook, cmdfilter, self['key'],
// pollers, cards, templates) over matterbot's long-lived exec-plugin
// protocol (docs/exec-plugins.md), so that a directory holding an Errbot
// plugin, its .plug and .py, runs on matterbot unchanged:
//
//	[exec]
//	dirs = ["/etc/matterbot/plugins"]
//	errbot_runner = ["python3", "/usr/share/matterbot/errbotshim/matterbot-errbot"]
//
// The Python code is in errbot/ (the package plugins import as errbot),
// the runner is matterbot-errbot, the example plugins are in examples/ and
// their unit tests in tests/; README.md lists what of Errbot's API is not
// supported and why. This Go package has no code: its test runs the
// Python tests, so that go test ./... covers them.
package errbotshim
