package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Debounce is how long the loop waits after a store change for more changes before syncing.
const Debounce = 200 * time.Millisecond

// Run keeps Identity Center in sync until ctx ends. A change in the store wakes it (debounced), a
// timer wakes it at the next instant the desired state changes by itself (a start, a member's
// expiry), a revoker of its own revokes each temporary grant the instant it ends (revoke.go), and a full
// observation every SyncInterval corrects drift made outside warden. A failing sync is retried after
// a pause; the loop itself never stops for one.
func (e *Engine) Run(ctx context.Context) {
	e.leading.Store(true)
	defer e.leading.Store(false)
	kick := make(chan struct{}, 1)
	pctx, pcancel := context.WithCancel(ctx)
	pollerDone, revokerDone := make(chan struct{}), make(chan struct{})
	e.outstanding.open()
	e.polling.Store(true) // before the revoker first looks
	go func() {
		defer close(pollerDone)
		e.runPoller(pctx, func() {
			select {
			case kick <- struct{}{}:
			default:
			}
		})
	}()
	// The revoker has a goroutine of its own, so that a sync running on this one never delays it.
	go func() { defer close(revokerDone); e.runRevoker(pctx) }()
	defer func() { pcancel(); <-pollerDone; <-revokerDone }()

	full := true // the first pass looks at everything
	timer := e.clock.NewTimer(0)
	defer timer.Stop()
	due := e.now()
	wakeAt := func(t time.Time) {
		if t.IsZero() || (!due.IsZero() && !t.Before(due)) {
			return
		}
		due = t
		e.resetTimer(timer, t)
	}
	ticker := e.clock.NewTimer(e.cfg.SyncInterval) // a full observation every SyncInterval
	defer ticker.Stop()

	// A full sync runs in the background, observing without holding the engine, so that
	// revocations and incremental syncs go on while it reads (see Sync).
	var (
		fullDone    = make(chan error, 1)
		fullRunning bool
	)
	fctx, fcancel := context.WithCancel(ctx)
	defer func() {
		fcancel()
		if fullRunning {
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
			wakeAt(e.now().Add(30 * time.Second))
		}
		if n := e.NextChange(); !n.IsZero() && !n.After(e.now()) {
			wakeAt(e.now().Add(time.Second)) // due already (the run was long): soon, not at once
		} else {
			wakeAt(n)
		}
		e.wakeRevoker() // the sync may have moved grants' ends, or compiled for the first time
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
				wakeAt(e.now().Add(Debounce))
				continue
			}
			switch ev.Object.Kind {
			case resource.KindSyncRecord:
				if !e.ownEvent(ev) {
					// An import recorded what it adopted, or took an uninstalled integration up again.
					e.recordsStale.Store(true)
					wakeAt(e.now().Add(Debounce))
				}
				continue
			}
			if !resource.IsPublic(ev.Object.Kind) {
				// Tokens, sessions, sign-in records, notification progress and the audit log
				// change nothing desired: only the resources people manage do.
				continue
			}
			if e.isOwn(ev.Revision) {
				continue // a status the engine wrote
			}
			events = append(events, ev)
			wakeAt(e.now().Add(Debounce))
		case <-kick:
			wakeAt(e.now().Add(Debounce)) // a revocation failed, or its assignment is wanted again
		case <-ticker.C():
			ticker.Reset(e.cfg.SyncInterval)
			full = true
			wakeAt(e.now())
		case err := <-fullDone:
			fullRunning = false
			if err == nil || errors.Is(err, ErrBrake) {
				full = false
			}
			handled(err, "full")
			if len(events) > 0 {
				wakeAt(e.now()) // changes made while it ran
			}
		case <-timer.C():
			due = time.Time{}
			if full && !fullRunning {
				fullRunning = true
				go func() {
					_, err := e.Sync(fctx, PlanOptions{Full: true}, false)
					fullDone <- err
				}()
				events = events[:0]
				continue
			}
			if fullRunning && !e.warm() {
				continue // the first full sync will pick these changes up
			}
			var err error
			next := e.NextChange()
			if timeDue := !next.IsZero() && !e.now().Before(next); !timeDue && memberOnly(events) {
				_, err = e.syncMembers(ctx, events) // only memberships changed: incrementally
			} else {
				_, err = e.Sync(ctx, PlanOptions{}, false)
			}
			events = events[:0]
			handled(err, "incremental")
		}
	}
}

// resetTimer makes t fire at at on the engine's clock.
func (e *Engine) resetTimer(t clock.Timer, at time.Time) {
	t.Reset(max(0, clock.Until(e.clock, at)))
}

// warm reports whether the engine has an observation to sync incrementally against.
func (e *Engine) warm() bool {
	e.run.Lock()
	defer e.run.Unlock()
	return e.cache != nil && e.last != nil
}
