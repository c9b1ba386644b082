package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records how a test was stopped instead of stopping it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

// A missing peer skips a test locally and fails it under CI=true; a present one does neither.
func TestNeed(t *testing.T) {
	missing := errors.New("xmlsec1 is missing")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	if Need(r, missing); r.fatal == "" || r.skip != "" {
		t.Fatalf("under CI=true: fatal %q, skip %q", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	if Need(r, missing); r.skip == "" || r.fatal != "" {
		t.Fatalf("locally: fatal %q, skip %q", r.fatal, r.skip)
	}
	r = &recorder{TB: t}
	if Need(r, nil); r.skip != "" || r.fatal != "" {
		t.Fatalf("nothing missing: fatal %q, skip %q", r.fatal, r.skip)
	}
}

// Eventually returns once the condition holds, and fails naming what it waited for when it never
// does within the bound.
func TestEventually(t *testing.T) {
	n := 0
	r := &recorder{TB: t}
	Eventually(r, time.Minute, "the third check", func() bool { n++; return n == 3 })
	if r.fatal != "" || n != 3 {
		t.Fatalf("fatal %q after %d checks", r.fatal, n)
	}
	r = &recorder{TB: t}
	Eventually(r, 0, "what never happens", func() bool { return false })
	if r.fatal == "" || !strings.Contains(r.fatal, "what never happens") {
		t.Fatalf("fatal %q", r.fatal)
	}
}
