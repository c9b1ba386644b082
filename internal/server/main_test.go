package server

import (
	"os"
	"testing"
)

// TestMain removes, once every test and benchmark has run, what outlives one: the UI benchmark's
// store at scale (ui_bench_test.go), built once per process and shared by its sub-benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if scaleDir != "" {
		os.RemoveAll(scaleDir)
	}
	os.Exit(code)
}
