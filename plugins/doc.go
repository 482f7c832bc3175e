// Package plugins holds matterbot's built-in plugins, one package each:
// help, about (about, version, status, uptime), echo, whoami and admin
// (plugin management). They use only package bot's public API, which they
// prove sufficient, and are tested only through bottest.
package plugins
