package bot

// PluginName returns the name the engine gives plugin v: the result of its
// Name() string method, or else its type's name in lower case. The name
// is the plugin's in commands, logs and storage, and that of its
// [plugins.NAME] configuration table.
func PluginName(v Setuper) string { return pluginName(v) }
