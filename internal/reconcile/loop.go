package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Debounce is how long the loop waits after a store change for more changes before syncing.
const Debounce = 200 * time.Millisecond

// Run keeps Identity Center in sync until ctx ends. A change in the store wakes it (debounced), a
// timer wakes it at the next instant the desired state changes by itself (an expiry, a start), and a
// full observation every SyncInterval corrects drift made outside warden. A failing sync is retried
// after a pause; the loop itself never stops for one.
func (e *Engine) Run(ctx context.Context) {
	e.leading.Store(true)
	defer e.leading.Store(false)
	full := true // the first pass looks at everything
	timer := time.NewTimer(0)
	defer timer.Stop()
	due := time.Now()
	wakeAt := func(t time.Time) {
		if t.IsZero() || (!due.IsZero() && !t.Before(due)) {
			return
		}
		due = t
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(0, time.Until(t)))
	}
	ticker := time.NewTicker(e.cfg.SyncInterval)
	defer ticker.Stop()

	rev, _ := e.store.Revision(ctx)
	watch := e.store.Watch(ctx, rev+1)
	var events []store.Event // changes since the last sync
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-watch.Events:
			if !ok {
				if ctx.Err() != nil {
					return
				}
				if err := watch.Err(); err != nil {
					e.log.Warn("sync: store watch ended; restarting it", "err", err)
				}
				rev, _ = e.store.Revision(ctx)
				watch = e.store.Watch(ctx, rev+1)
				wakeAt(time.Now().Add(Debounce))
				continue
			}
			switch ev.Object.Kind {
			case resource.KindSyncRecord, resource.KindAPIToken:
				continue // the engine's own journal, and logins, change nothing desired
			}
			if e.isOwn(ev.Revision) {
				continue // a status the engine wrote
			}
			events = append(events, ev)
			wakeAt(time.Now().Add(Debounce))
		case <-ticker.C:
			full = true
			wakeAt(time.Now())
		case <-timer.C:
			due = time.Time{}
			var err error
			next := e.NextChange()
			timeDue := !next.IsZero() && !time.Now().Before(next)
			if !full && !timeDue && memberOnly(events) {
				_, err = e.syncMembers(ctx, events) // only memberships changed: incrementally
			} else {
				_, err = e.Sync(ctx, PlanOptions{Full: full}, false)
			}
			events = events[:0]
			if n := e.NextChange(); !n.IsZero() && !n.After(time.Now()) {
				wakeAt(time.Now().Add(time.Second)) // due already (the run was long): soon, not at once
				continue
			}
			switch {
			case err == nil:
				full = false
			case errors.Is(err, ErrBrake):
				e.log.Warn("sync: plan refused by the safety brake; run warden sync apply --force if it is intended", "reason", err)
				full = false
			case ctx.Err() != nil:
				return
			default:
				e.log.Error("sync failed; retrying", "err", err)
				wakeAt(time.Now().Add(30 * time.Second))
			}
			wakeAt(e.NextChange())
		}
	}
}

// RunLeader runs the loop only while this process holds the sync lease in the store, so that of
// several replicas sharing a database exactly one applies. holder names this process.
func (e *Engine) RunLeader(ctx context.Context, holder string) {
	leaser, ok := e.store.(store.Leaser)
	if !ok {
		e.Run(ctx)
		return
	}
	for ctx.Err() == nil {
		got, err := leaser.AcquireLease(ctx, "sync", holder, e.cfg.LeaseTTL)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("sync: taking the lease", "err", err)
		}
		if !got {
			select {
			case <-ctx.Done():
			case <-time.After(e.cfg.LeaseTTL / 3):
			}
			continue
		}
		e.log.Info("sync: this replica leads", "holder", holder)
		e.run.Lock()
		e.records, e.cache, e.last = nil, nil, nil // another replica may have changed things: read afresh
		e.run.Unlock()
		e.run.Lock()
		e.records = nil // another replica may have written them: read afresh
		e.run.Unlock()
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { e.Run(lctx); close(done) }()
		renew := time.NewTicker(e.cfg.LeaseTTL / 3)
		for lctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-renew.C:
				rctx, rcancel := context.WithTimeout(ctx, e.cfg.LeaseTTL/3) // renew in time or step down
				ok, err := leaser.AcquireLease(rctx, "sync", holder, e.cfg.LeaseTTL)
				rcancel()
				if !ok || err != nil {
					e.log.Warn("sync: lost the lease; stepping down", "err", err)
					cancel()
				}
			}
			if ctx.Err() != nil {
				cancel()
			}
		}
		renew.Stop()
		cancel()
		<-done
		if ctx.Err() != nil {
			rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
			leaser.ReleaseLease(rctx, "sync", holder)
			rcancel()
		}
	}
}
