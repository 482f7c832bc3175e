package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The subcommands start engines, servers and their goroutines: every test
// must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
