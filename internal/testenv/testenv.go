// Package testenv is what tests share about their surroundings: the one rule for a peer a test
// needs that is missing (Chromium, the AWS CLI v2, xmlsec1, pysaml2, node packages, PostgreSQL),
// and waiting for a condition that code under test reaches on its own.
//
// A missing peer skips the test on a developer's machine and fails it under CI=true, where
// .ci/run installs everything: in CI nothing skips.
package testenv

import (
	"os"
	"testing"
	"time"
)

// CI says whether the tests run in CI (CI=true), where every test must run.
func CI() bool { return os.Getenv("CI") == "true" }

// Need stops t when something it needs is missing (err non-nil; err says what and how to get
// it): a failure under CI=true, a skip elsewhere. It does nothing when err is nil.
func Need(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if CI() {
		t.Fatalf("%v (CI=true: every test must run; .ci/run installs what the tests need)", err)
		return
	}
	t.Skipf("skipped: %v", err)
}

// Eventually waits until cond holds, checking it at first every millisecond and then less often
// (up to every 50 ms), and fails t naming what it waited for when within passes first. within is
// a bound on a hang, far above what the condition needs.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for pause := time.Millisecond; !cond(); pause = min(2*pause, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
			return
		}
		time.Sleep(pause)
	}
}
