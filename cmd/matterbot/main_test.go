package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "version", args: []string{"version"}, wantCode: 0, wantOut: "matterbot dev\n"},
		{name: "help", args: []string{"--help"}, wantCode: 0, wantOut: "Usage: matterbot"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: "unexpected argument frobnicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.wantCode {
				t.Errorf("run(%q) = %d, want %d (stderr %q)", tc.args, code, tc.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("run(%q) stdout = %q, want it to contain %q", tc.args, out.String(), tc.wantOut)
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tc.args, errOut.String(), tc.wantErr)
			}
		})
	}
}
