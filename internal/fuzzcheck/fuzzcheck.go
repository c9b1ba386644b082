// Package fuzzcheck is what warden's fuzz targets share: a bound on the memory one call may allocate,
// so that an input that makes a parser allocate without bound fails the target like a crash does.
// It is imported by tests only.
package fuzzcheck

import (
	"runtime/metrics"
	"testing"
)

// MaxAlloc is what one call of a fuzz target may allocate.
const MaxAlloc = 100 << 20

const allocsMetric = "/gc/heap/allocs:bytes"

// Allocated runs f and returns the bytes the process allocated on the heap meanwhile: f's, and any
// other goroutine's, so it is an upper bound on f's own.
func Allocated(f func()) uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Limit runs f and fails t when it allocated more than MaxAlloc.
func Limit(t testing.TB, f func()) {
	t.Helper()
	if n := Allocated(f); n > MaxAlloc {
		t.Fatalf("one call allocated %d MB, more than the %d MB allowed", n>>20, MaxAlloc>>20)
	}
}
