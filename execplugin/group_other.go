//go:build !unix

package execplugin

import "os/exec"

func setGroup(cmd *exec.Cmd) {}

// signalGroup kills cmd's process: without process groups, SIGTERM and
// the children are out of reach.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
