// Package clock is the time warden's time-driven parts read and wait on: the wall clock in
// production, and in tests a fake one, so that tests of expiries, windows and retries advance time
// instead of sleeping. There are two fakes: Fake moves only when the test moves it (a test can
// check the exact instant the code waits for); Live runs with real time from where it starts, plus
// every jump the test makes (for a whole engine and simulator, where nothing should stall on a
// timer a test forgot to reach).
//
// Only business time goes through a Clock: when a request expires, when a window opens, when a
// failed delivery is tried again. Waits that exist to let a burst of store changes settle, and
// leases that the store judges by its own clock, stay on real time.
package clock

import (
	"context"
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

// Live is a clock for tests. It runs with real time from its start, plus every jump a test makes
// with Advance or Set; a timer fires once the clock reaches its instant, whichever way it gets there.
type Live struct {
	mu     sync.Mutex
	base   time.Time // the clock's time at realAt
	realAt time.Time // monotonic
	timers map[*liveTimer]bool
	armed  chan struct{} // closed (and replaced) whenever a timer is armed
}

// NewLive returns a clock that reads start now.
func NewLive(start time.Time) *Live {
	return &Live{base: start, realAt: time.Now(), timers: map[*liveTimer]bool{}, armed: make(chan struct{})}
}

// Now is the clock's time.
func (f *Live) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now()
}

func (f *Live) now() time.Time { return f.base.Add(time.Since(f.realAt)) }

// Advance moves the clock forward by d and fires the timers due.
func (f *Live) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance backwards")
	}
	f.mu.Lock()
	f.base = f.base.Add(d)
	f.fireDue()
	f.mu.Unlock()
}

// Set moves the clock forward to t (a t already passed changes nothing) and fires the timers due.
func (f *Live) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := t.Sub(f.now()); d > 0 {
		f.base = f.base.Add(d)
		f.fireDue()
	}
}

// Timers counts the timers waiting to fire (tests wait for a goroutine to arm one).
func (f *Live) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Next is the instant of the earliest timer armed, if any.
func (f *Live) Next() (time.Time, bool) {
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
func (f *Live) WaitTimers(ctx context.Context, n int) bool {
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
func (f *Live) fireDue() {
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
func (f *Live) fire(t *liveTimer, now time.Time) {
	delete(f.timers, t)
	if t.real != nil {
		t.real.Stop()
	}
	select {
	case t.c <- now:
	default:
	}
}

// NewTicker returns a ticker firing every d of the clock's time (a timer re-armed as it fires).
func (f *Live) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &liveTicker{c: make(chan time.Time, 1), stop: make(chan struct{})}
	timer := f.NewTimer(d)
	go func() {
		defer timer.Stop()
		for {
			select {
			case <-t.stop:
				return
			case now := <-timer.C():
				select {
				case t.c <- now:
				default:
				}
				timer.Reset(d)
			}
		}
	}()
	return t
}

type liveTicker struct {
	c    chan time.Time
	stop chan struct{}
	once sync.Once
}

func (t *liveTicker) C() <-chan time.Time { return t.c }
func (t *liveTicker) Stop()               { t.once.Do(func() { close(t.stop) }) }

// NewTimer returns a timer firing when the clock reaches now + d.
func (f *Live) NewTimer(d time.Duration) Timer {
	t := &liveTimer{f: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

type liveTimer struct {
	f    *Live
	c    chan time.Time
	at   time.Time
	real *time.Timer // fires t when real time alone gets the clock there
}

func (t *liveTimer) C() <-chan time.Time { return t.c }

func (t *liveTimer) Stop() bool {
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

func (t *liveTimer) Reset(d time.Duration) bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.timers[t]
	select { // a firing not received is dropped, as time.Timer does
	case <-t.c:
	default:
	}
	now := f.now()
	t.at = now.Add(d)
	if d <= 0 {
		f.timers[t] = true
		f.fire(t, now)
		return was
	}
	f.timers[t] = true
	t.arm(d)
	close(f.armed)
	f.armed = make(chan struct{})
	return was
}

// arm (re)starts the real-time fallback to fire t in d. f.mu is held.
func (t *liveTimer) arm(d time.Duration) {
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
