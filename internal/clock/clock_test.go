package clock_test

import (
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/clock"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-c:
		return t, true
	default:
		return time.Time{}, false
	}
}

// A fake timer fires when the clock reaches its instant, and not before; Stop and Reset leave no
// stale value behind.
func TestFakeTimer(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Minute)
	if p := f.Pending(); len(p) != 1 || !p[0].Equal(t0.Add(time.Minute)) {
		t.Fatalf("pending %v", p)
	}
	f.Advance(time.Minute - time.Nanosecond)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("fired before its instant")
	}
	f.Advance(time.Hour)
	if at, ok := fired(tm.C()); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("fired %v %v, want at its instant", at, ok)
	}
	if !f.Now().Equal(t0.Add(time.Hour + time.Minute - time.Nanosecond)) {
		t.Fatalf("now %v", f.Now())
	}
	tm.Reset(time.Second)
	f.Advance(time.Second)
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer says it was pending")
	}
	if _, ok := fired(tm.C()); ok {
		t.Fatal("Reset left the value of the earlier firing")
	}
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer says it was not")
	}
	f.Advance(time.Hour)
	if _, ok := fired(tm.C()); ok || len(f.Pending()) != 0 {
		t.Fatal("a stopped timer fired")
	}
	now := f.NewTimer(0)
	if _, ok := fired(now.C()); !ok {
		t.Fatal("a timer of 0 did not fire at once")
	}
}

// A ticker fires once per interval passed, and does not pile values up.
func TestFakeTicker(t *testing.T) {
	f := clock.NewFake(t0)
	tk := f.NewTicker(10 * time.Second)
	defer tk.Stop()
	f.Advance(10 * time.Second)
	if at, ok := fired(tk.C()); !ok || !at.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("tick %v %v", at, ok)
	}
	f.Advance(35 * time.Second)
	if _, ok := fired(tk.C()); !ok {
		t.Fatal("no tick")
	}
	if _, ok := fired(tk.C()); ok {
		t.Fatal("ticks piled up")
	}
	if p := f.Pending(); len(p) != 1 || !p[0].Equal(t0.Add(50*time.Second)) {
		t.Fatalf("next tick at %v", p)
	}
}

// WaitUntil returns once another goroutine sets a timer for the instant.
func TestWaitUntil(t *testing.T) {
	f := clock.NewFake(t0)
	go func() {
		time.Sleep(10 * time.Millisecond) // the other goroutine is late on purpose
		f.NewTimer(time.Hour)
	}()
	if !f.WaitUntil(5*time.Second, t0.Add(time.Hour)) {
		t.Fatal("WaitUntil did not see the timer")
	}
	if f.WaitUntil(10*time.Millisecond, t0.Add(time.Minute)) {
		t.Fatal("WaitUntil saw a timer nobody set")
	}
}
