package idc

import "time"

// SetLimiterNow makes l read the time from now.
func SetLimiterNow(l *Limiter, now func() time.Time) {
	l.mu.Lock()
	l.now = now
	l.mu.Unlock()
}
