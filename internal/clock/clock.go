// Package clock is the time warden's time-driven parts read and wait on: the wall clock in
// production, and in tests a fake one that moves only when the test moves it, so that tests of
// expiries, windows and retries advance time instead of sleeping.
//
// Only business time goes through a Clock: when a request expires, when a window opens, when a
// failed delivery is tried again. Waits that exist to let a burst of store changes settle, and
// leases that the store judges by its own clock, stay on real time.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and makes timers that fire by it.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d (d > 0).
	NewTicker(d time.Duration) Ticker
}

// Timer is a time.Timer of some clock.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was pending.
	Stop() bool
	// Reset makes the timer fire d from now; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// Ticker is a time.Ticker of some clock.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the wall clock.
func Real() Clock { return realClock{} }

// Func is a clock that reads the time from now and waits in real time: for callers that have only
// a time source. A timer of d fires d of real time from now.
func Func(now func() time.Time) Clock { return funcClock{now} }

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type funcClock struct{ now func() time.Time }

func (f funcClock) Now() time.Time                 { return f.now() }
func (funcClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (funcClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }

// Fake is a clock that moves only when Advance or Set moves it. Timers and tickers fire, in the
// order of their instants, as the clock passes them. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiting []*fakeTimer // pending, in no particular order
	// changed is closed, and replaced, whenever a timer is set, stopped or fired.
	changed chan struct{}
}

// NewFake returns a fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t, changed: make(chan struct{})} }

// Now is the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock d forward, firing what falls due on the way.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never back), firing what falls due on the way, each timer at its own
// instant and in order.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		sort.Slice(f.waiting, func(i, j int) bool { return f.waiting[i].at.Before(f.waiting[j].at) })
		if len(f.waiting) == 0 || f.waiting[0].at.After(t) {
			break
		}
		x := f.waiting[0]
		f.waiting = f.waiting[1:]
		if x.at.After(f.now) {
			f.now = x.at
		}
		select { // like time's timers and tickers: a value not yet received is not doubled
		case x.c <- f.now:
		default:
		}
		if x.period > 0 {
			x.at = x.at.Add(x.period)
			f.waiting = append(f.waiting, x)
		}
	}
	if t.After(f.now) {
		f.now = t
	}
	f.signal()
}

// signal wakes WaitFor; f.mu is held.
func (f *Fake) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Pending is the instants at which the timers and tickers now set will fire, earliest first.
func (f *Fake) Pending() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Time, len(f.waiting))
	for i, x := range f.waiting {
		out[i] = x.at
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// WaitFor waits, at most timeout of real time, until cond holds of the pending instants (as
// Pending gives them): the way a test knows that the code under test is waiting for the clock.
func (f *Fake) WaitFor(timeout time.Duration, cond func(pending []time.Time) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if cond(f.Pending()) {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return cond(f.Pending())
		}
	}
}

// WaitUntil waits, at most timeout of real time, until a timer or ticker is set to fire at t.
func (f *Fake) WaitUntil(timeout time.Duration, t time.Time) bool {
	return f.WaitFor(timeout, func(pending []time.Time) bool {
		for _, p := range pending {
			if p.Equal(t) {
				return true
			}
		}
		return false
	})
}

// NewTimer returns a timer firing when the clock reaches d from now.
func (f *Fake) NewTimer(d time.Duration) Timer {
	x := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	x.Reset(d)
	return x
}

// NewTicker returns a ticker firing every d of the clock's time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	x := &fakeTimer{f: f, c: make(chan time.Time, 1), period: d}
	x.Reset(d)
	return fakeTicker{x}
}

type fakeTicker struct{ x *fakeTimer }

func (t fakeTicker) C() <-chan time.Time { return t.x.c }
func (t fakeTicker) Stop()               { t.x.Stop() }

type fakeTimer struct {
	f      *Fake
	c      chan time.Time
	at     time.Time
	period time.Duration
}

func (x *fakeTimer) C() <-chan time.Time { return x.c }

// stop unschedules x; x.f.mu is held.
func (x *fakeTimer) stop() bool {
	for i, w := range x.f.waiting {
		if w == x {
			x.f.waiting = append(x.f.waiting[:i], x.f.waiting[i+1:]...)
			return true
		}
	}
	return false
}

// Stop unschedules the timer and, as time's timers do since Go 1.23, drops a value not yet received.
func (x *fakeTimer) Stop() bool {
	x.f.mu.Lock()
	defer x.f.mu.Unlock()
	was := x.stop()
	x.drain()
	x.f.signal()
	return was
}

func (x *fakeTimer) drain() {
	select {
	case <-x.c:
	default:
	}
}

// Reset schedules the timer d from now (at once when d <= 0), dropping a value not yet received.
func (x *fakeTimer) Reset(d time.Duration) bool {
	x.f.mu.Lock()
	defer x.f.mu.Unlock()
	was := x.stop()
	x.drain()
	x.at = x.f.now.Add(d)
	if d <= 0 && x.period == 0 {
		x.c <- x.f.now
	} else {
		x.f.waiting = append(x.f.waiting, x)
	}
	x.f.signal()
	return was
}
