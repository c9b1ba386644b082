package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/clock"
)

var start = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func liveFired(t clock.Timer) bool {
	select {
	case <-t.C():
		return true
	default:
		return false
	}
}

// A timer fires when Advance reaches its instant, not before, and a stopped one never does.
func TestLiveAdvanceFiresDueTimers(t *testing.T) {
	c := clock.NewLive(start)
	hour := c.NewTimer(time.Hour)
	minute := c.NewTimer(time.Minute)
	stopped := c.NewTimer(time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop reports wrongly")
	}
	c.Advance(59 * time.Second)
	if liveFired(minute) || liveFired(hour) {
		t.Fatal("fired before its instant")
	}
	c.Advance(time.Second)
	select {
	case at := <-minute.C():
		if at.Before(start.Add(time.Minute)) {
			t.Fatalf("fired at %v", at)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the minute timer did not fire at its instant")
	}
	if liveFired(hour) || liveFired(stopped) {
		t.Fatal("the hour timer or the stopped one fired")
	}
	if next, ok := c.Next(); c.Timers() != 1 || !ok || next.Sub(start.Add(time.Hour)).Abs() > time.Second {
		t.Fatalf("%d timers armed, the next at %v; want 1, at %v", c.Timers(), next, start.Add(time.Hour))
	}
	c.Set(start.Add(2 * time.Hour))
	if !liveFired(hour) {
		t.Fatal("Set past the instant did not fire the hour timer")
	}
	if now := c.Now(); now.Before(start.Add(2*time.Hour)) || now.After(start.Add(2*time.Hour+time.Minute)) {
		t.Fatalf("Now after Set: %v", now)
	}
}

// The clock runs with real time too: a short timer fires without any jump.
func TestLiveRunsWithRealTime(t *testing.T) {
	c := clock.NewLive(start)
	tm := c.NewTimer(20 * time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("a timer did not fire by real time")
	}
	if !c.Now().After(start) {
		t.Fatal("the clock stood still")
	}
	// Reset re-arms a fired timer; a jump that makes its instant nearer fires it by real time sooner.
	tm.Reset(time.Hour)
	c.Advance(time.Hour - 20*time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("the re-armed timer did not fire once the jump brought its instant near")
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	c := clock.NewLive(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- clock.Sleep(ctx, c, time.Hour) }()
	if !c.WaitTimers(context.Background(), 1) {
		t.Fatal("no timer armed")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Sleep: %v", err)
	}
	go func() { done <- clock.Sleep(context.Background(), c, time.Hour) }()
	if !c.WaitTimers(context.Background(), 1) {
		t.Fatal("no timer armed")
	}
	c.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v", err)
	}
}
