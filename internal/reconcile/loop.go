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

	// A full sync (observing everything) runs in the background, so that an expiry falling due
	// meanwhile interrupts it rather than waiting for it: its operations are journaled, so an
	// interrupted run loses nothing, and it runs again right after. After a few interruptions in a
	// row it is let finish, so that drift is still corrected when expiries are frequent.
	var (
		fullCancel  context.CancelFunc
		fullDone    = make(chan error, 1)
		fullRunning bool
		aborts      int
	)
	defer func() {
		if fullRunning {
			fullCancel()
			<-fullDone
		}
	}()
	handled := func(err error, what string) {
		switch {
		case err == nil:
		case errors.Is(err, ErrUninstalled):
			e.log.Debug("sync: uninstalled; nothing to do until an import")
		case errors.Is(err, ErrBrake):
			e.log.Warn("sync: plan refused by the safety brake; run warden sync apply --force if it is intended", "reason", err)
		case ctx.Err() != nil:
		default:
			e.log.Error("sync failed; retrying", "run", what, "err", err)
			wakeAt(time.Now().Add(30 * time.Second))
		}
		if n := e.NextChange(); !n.IsZero() && !n.After(time.Now()) {
			wakeAt(time.Now().Add(time.Second)) // due already (the run was long): soon, not at once
		} else {
			wakeAt(n)
		}
	}

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
			case resource.KindSyncRecord:
				if !e.isOwn(ev.Revision) {
					// An import recorded what it adopted, or took an uninstalled integration up again.
					e.recordsStale.Store(true)
					wakeAt(time.Now().Add(Debounce))
				}
				continue
			case resource.KindAPIToken:
				continue // logins change nothing desired
			}
			if e.isOwn(ev.Revision) {
				continue // a status the engine wrote
			}
			events = append(events, ev)
			wakeAt(time.Now().Add(Debounce))
		case <-ticker.C:
			full = true
			wakeAt(time.Now())
		case err := <-fullDone:
			fullRunning = false
			if errors.Is(err, context.Canceled) && ctx.Err() == nil {
				full = true // interrupted by an expiry: again, right after
				wakeAt(time.Now().Add(Debounce))
				continue
			}
			if err == nil || errors.Is(err, ErrBrake) {
				full, aborts = false, 0
			}
			handled(err, "full")
			if len(events) > 0 {
				wakeAt(time.Now()) // changes made while it ran
			}
		case <-timer.C:
			due = time.Time{}
			next := e.NextChange()
			timeDue := !next.IsZero() && !time.Now().Before(next)
			if fullRunning {
				if !timeDue || aborts >= 3 {
					continue // the full sync will pick these changes up, or run again after
				}
				e.log.Debug("sync: interrupting the full sync for a due change")
				fullCancel() // an expiry is due: it goes first
				<-fullDone
				e.log.Debug("sync: full sync interrupted")
				fullRunning = false
				aborts++
				full = true
			} else if full {
				fctx, cancel := context.WithCancel(ctx)
				fullCancel, fullRunning = cancel, true
				go func() {
					_, err := e.Sync(fctx, PlanOptions{Full: true}, false)
					cancel()
					fullDone <- err
				}()
				events = events[:0]
				wakeAt(e.NextChange()) // an expiry falling due meanwhile interrupts it
				e.log.Debug("sync: full sync started", "next_change", e.NextChange(), "due", due)
				continue
			}
			var err error
			if !timeDue && memberOnly(events) {
				_, err = e.syncMembers(ctx, events) // only memberships changed: incrementally
			} else {
				_, err = e.Sync(ctx, PlanOptions{}, false)
			}
			events = events[:0]
			handled(err, "incremental")
			if full && !fullRunning {
				wakeAt(time.Now().Add(Debounce)) // the interrupted full sync, again
			}
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
