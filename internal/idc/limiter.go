package idc

import (
	"context"
	"sync"
	"time"
)

// Lane orders calls that wait for the shared rate: grants and revocations go before observation, so
// that a drift scan never delays an expiry.
type Lane int

// Lanes.
const (
	Priority Lane = iota
	Background
)

type laneKey struct{}

// WithLane marks the calls made with ctx as belonging to a lane (Background when unmarked).
func WithLane(ctx context.Context, l Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

func laneOf(ctx context.Context) Lane {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok {
		return l
	}
	return Background
}

// Limiter is a token bucket shared by every Identity Center call, with two lanes: a background call
// waits while any priority call is waiting.
type Limiter struct {
	mu       sync.Mutex
	rate     float64 // tokens per second; 0: unlimited
	burst    float64
	tokens   float64
	last     time.Time
	priority int // priority callers waiting
	now      func() time.Time
}

// NewLimiter returns a limiter of rate calls per second with a bucket of burst.
func NewLimiter(rate float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// Wait blocks until a call may be made in lane, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, lane Lane) error {
	if err := ctx.Err(); err != nil || l == nil || l.rate <= 0 {
		return err
	}
	l.mu.Lock()
	if lane == Priority {
		l.priority++
		defer func() { l.mu.Lock(); l.priority--; l.mu.Unlock() }()
	}
	for {
		now := l.now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens >= 1 && (lane == Priority || l.priority == 0) {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		if wait <= 0 || lane == Background {
			// A background caller re-checks often: a token may be free once priority callers are served.
			wait = max(wait, 5*time.Millisecond)
		}
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		l.mu.Lock()
	}
}

// Throttled tells the limiter that Identity Center refused a call for its rate: its own bucket was
// fuller than AWS's (calls from other tools share the quota; calls reach AWS a little later than
// they leave). The bucket is emptied, so that the next call waits a token's time, as AWS's bucket
// does, rather than every caller finding a token AWS no longer has and being refused again.
func (l *Limiter) Throttled() {
	if l == nil || l.rate <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.tokens = min(l.tokens, 0)
}
