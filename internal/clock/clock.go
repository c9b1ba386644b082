// Package clock is where time-driven parts of warden take their time from: the instant, and timers
// that fire at an instant. System is the real clock. Fake is a clock for tests: it runs with real
// time from where it starts, and a test moves it forward at will (Advance, Set), firing every timer
// whose instant it reaches, so that a test of an expiry jumps to it instead of sleeping until it.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, when d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock, like time.Timer.
type Timer interface {
	// C delivers the instant the timer fired (it holds at most one).
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did (false: fired or stopped already).
	Stop() bool
	// Reset makes the timer fire when d has passed from now, dropping a firing not received yet.
	Reset(d time.Duration)
}

// Sleep waits d on c, or until ctx ends (then its error).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// Until is how long from c's now to t.
func Until(c Clock, t time.Time) time.Duration { return t.Sub(c.Now()) }

// System is the real clock.
var System Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return &systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t *systemTimer) C() <-chan time.Time { return t.t.C }
func (t *systemTimer) Stop() bool          { return t.t.Stop() }
func (t *systemTimer) Reset(d time.Duration) {
	t.t.Reset(d) // since Go 1.23 a Reset timer never delivers a stale firing
}

// Fake is a clock for tests. It runs with real time from its start, plus every jump a test makes
// with Advance or Set; a timer fires once the clock reaches its instant, whichever way it gets there.
type Fake struct {
	mu     sync.Mutex
	base   time.Time // the clock's time at realAt
	realAt time.Time // monotonic
	timers map[*fakeTimer]bool
	armed  chan struct{} // closed (and replaced) whenever a timer is armed
}

// NewFake returns a clock that reads start now.
func NewFake(start time.Time) *Fake {
	return &Fake{base: start, realAt: time.Now(), timers: map[*fakeTimer]bool{}, armed: make(chan struct{})}
}

// Now is the clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now()
}

func (f *Fake) now() time.Time { return f.base.Add(time.Since(f.realAt)) }

// Advance moves the clock forward by d and fires the timers due.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance backwards")
	}
	f.mu.Lock()
	f.base = f.base.Add(d)
	f.fireDue()
	f.mu.Unlock()
}

// Set moves the clock forward to t (a t already passed changes nothing) and fires the timers due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := t.Sub(f.now()); d > 0 {
		f.base = f.base.Add(d)
		f.fireDue()
	}
}

// Timers counts the timers waiting to fire (tests wait for a goroutine to arm one).
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Next is the instant of the earliest timer armed, if any.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	for t := range f.timers {
		if next.IsZero() || t.at.Before(next) {
			next = t.at
		}
	}
	return next, !next.IsZero()
}

// WaitTimers waits until at least n timers are armed (a goroutine under test went to sleep on the
// clock) and reports whether they were before ctx ended.
func (f *Fake) WaitTimers(ctx context.Context, n int) bool {
	for {
		f.mu.Lock()
		have, armed := len(f.timers), f.armed
		f.mu.Unlock()
		if have >= n {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-armed:
		}
	}
}

// fireDue fires what the clock has reached and re-arms the real-time fallback of the rest, whose
// instants came nearer by the jump. f.mu is held.
func (f *Fake) fireDue() {
	now := f.now()
	for t := range f.timers {
		if !t.at.After(now) {
			f.fire(t, now)
		} else {
			t.arm(t.at.Sub(now))
		}
	}
}

// fire delivers t's firing. f.mu is held.
func (f *Fake) fire(t *fakeTimer, now time.Time) {
	delete(f.timers, t)
	if t.real != nil {
		t.real.Stop()
	}
	select {
	case t.c <- now:
	default:
	}
}

// NewTimer returns a timer firing when the clock reaches now + d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

type fakeTimer struct {
	f    *Fake
	c    chan time.Time
	at   time.Time
	real *time.Timer // fires t when real time alone gets the clock there
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if !t.f.timers[t] {
		return false
	}
	delete(t.f.timers, t)
	if t.real != nil {
		t.real.Stop()
	}
	return true
}

func (t *fakeTimer) Reset(d time.Duration) {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	select { // a firing not received is dropped, as time.Timer does
	case <-t.c:
	default:
	}
	now := f.now()
	t.at = now.Add(d)
	if d <= 0 {
		f.timers[t] = true
		f.fire(t, now)
		return
	}
	f.timers[t] = true
	t.arm(d)
	close(f.armed)
	f.armed = make(chan struct{})
}

// arm (re)starts the real-time fallback to fire t in d. f.mu is held.
func (t *fakeTimer) arm(d time.Duration) {
	if t.real != nil {
		t.real.Stop()
	}
	t.real = time.AfterFunc(d, func() {
		t.f.mu.Lock()
		defer t.f.mu.Unlock()
		if t.f.timers[t] && !t.at.After(t.f.now()) {
			t.f.fire(t, t.f.now())
		} else if t.f.timers[t] {
			t.arm(t.at.Sub(t.f.now())) // a rounding short of the instant
		}
	})
}
