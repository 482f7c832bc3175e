package config

import (
	"slices"
	"strings"
)

// UnknownPlugins returns a problem for each [plugins.NAME] table whose
// NAME is not in names, the plugins of the program: a misspelt table
// would otherwise be ignored, and the plugin run with its defaults. Each
// problem names the file and line of the table and, when one is close,
// the plugin probably meant. It returns nil when every table names a
// plugin.
func (c *Config) UnknownPlugins(names []string) ErrorList {
	d := &decoder{file: c.File, origins: c.origins}
	for _, table := range c.Plugins() {
		if slices.Contains(names, table) {
			continue
		}
		msg := "no plugin " + table + " in this bot"
		best, bestDist := "", 3
		for _, n := range names {
			if dist := editDistance(strings.ToLower(table), strings.ToLower(n)); dist < bestDist {
				best, bestDist = n, dist
			}
		}
		if best != "" {
			msg += "; did you mean [plugins." + best + "]?"
		} else if len(names) > 0 {
			msg += " (its plugins: " + strings.Join(slices.Sorted(slices.Values(names)), ", ") + ")"
		}
		d.problem([]string{"plugins", table}, nil, "%s", msg)
	}
	return d.errs
}
