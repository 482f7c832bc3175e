package matterbot

import (
	"runtime/debug"
	"strings"
)

// modulePath is this module's path, to find its version among a custom
// bot's dependencies.
const modulePath = "github.com/matterbot/matterbot"

// version is stamped at link time:
//
//	go build -ldflags "-X github.com/matterbot/matterbot.version=v1.2.3" ./cmd/matterbot
//
// When it is empty, Version reads the build information instead.
var version string

// Version returns the version of the running program: the one stamped at
// link time if any; else the main module's version from the build
// information (a tag when installed with go install module@version,
// "(devel)" for a checkout), followed by the VCS revision and "dirty" for
// uncommitted changes; and, for a bot built on matterbot as a library,
// the matterbot version it was built with.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return buildVersion(bi)
}

// buildVersion formats bi as Version describes.
func buildVersion(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)" // go test and go run leave it empty
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var extra []string
	// Since Go 1.24 a checkout's build is versioned v0.0.0-date-rev(+dirty):
	// the revision is in the version already.
	if short := rev[:min(len(rev), 12)]; rev != "" && !strings.Contains(v, short) {
		r := "rev " + short
		if modified == "true" {
			r += " dirty"
		}
		extra = append(extra, r)
	}
	if bi.Main.Path != modulePath {
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				mv := d.Version
				if d.Replace != nil {
					mv = d.Replace.Version
					if mv == "" {
						mv = "(replaced by " + d.Replace.Path + ")"
					}
				}
				extra = append(extra, "matterbot "+mv)
			}
		}
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, ", ") + ")"
	}
	return v
}
