package notify

import "time"

// WithPeriod makes the notifier look every d even when nothing wakes it (default 30s).
func WithPeriod(d time.Duration) Option { return func(n *Notifier) { n.period = d } }
