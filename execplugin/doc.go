// Package execplugin runs plugins written in any language: programs
// that matterbot starts as child processes and talks to over JSON on
// their standard input and output, in one of two modes (one process per
// invocation, or one long-lived process per plugin). The protocol, the
// manifest that declares a plugin's commands, and the limits are in
// docs/exec-plugins.md; JSON Schemas for each message are in
// docs/exec-plugins/schema.
//
// A Host loads the plugins of some directories, gives them to the
// engine as plugins like any other (bot.Setuper values: the same access
// rules, help, typing indicator, threads), and reloads them while the
// bot runs, with the admin command "plugin reload" or on a change of
// their files:
//
//	h := execplugin.NewHost(&execplugin.Options{Dirs: []string{"/etc/matterbot/plugins"}, Watch: true})
//	plugins, err := h.Load(names) // err: what did not load, each naming its file: log it
//	eng, err := bot.New(backend, opts, append(goPlugins, plugins...)...)
//
// New loads one plugin directory, for tests:
//
//	pl, err := execplugin.New("testdata/greeter", nil)
//	b := bottest.New(t, pl)
//	b.Say("!hello")
package execplugin
