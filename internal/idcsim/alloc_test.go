package idcsim

import (
	"runtime/metrics"
	"testing"
)

// MaxFuzzAlloc is what one call of a fuzz target may allocate. (The simulator imports nothing of
// warden's, its tests included, so this is warden's fuzzcheck again.)
const MaxFuzzAlloc = 100 << 20

func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// LimitAlloc runs f and fails t when the process allocated more than MaxFuzzAlloc meanwhile.
func LimitAlloc(t testing.TB, f func()) {
	t.Helper()
	defer CheckAlloc(t)()
	f()
}

// CheckAlloc starts measuring what the process allocates; the function it returns fails t when that
// is more than MaxFuzzAlloc. A fuzz target defers it: defer idcsim.CheckAlloc(t)().
func CheckAlloc(t testing.TB) func() {
	before := allocated()
	return func() {
		t.Helper()
		if n := allocated() - before; n > MaxFuzzAlloc {
			t.Fatalf("one call allocated %d MB, more than the %d MB allowed", n>>20, MaxFuzzAlloc>>20)
		}
	}
}
