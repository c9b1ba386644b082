package reconcile

import (
	"context"
	"time"

	"github.com/wardenhq/warden/internal/store"
)

// Leadership. Of the processes sharing a store, one syncs: the one its Elector chooses.
//   - SQLite: one process holds the data directory (its lock file), so it is the only possible
//     leader (store.Sole) and leads from the moment it starts.
//   - PostgreSQL: a session-level advisory lock (postgres.Store.Campaign). A standby waits in the
//     lock and leads the moment the leader's session ends.
//   - Otherwise an expiring lease (store.LeaseElector).
//
// What the leader writes it writes with its term's fenced context (store.Term.Fence), so that on
// PostgreSQL, once another replica leads, none of those writes lands. That is every store write the
// sync makes: the sync records that journal each Identity Center operation before it is sent and
// record its outcome after (so an old leader resuming after a pause cannot journal, and so cannot
// send, another operation), the statuses it writes on users, lists and requests, its audit
// entries, and the uninstall mark. It covers the loop (Run: syncs, revocations, polls) and an
// operator's Apply and Uninstall, which run only on the leader. An operation already journaled and
// in flight when the leader paused may still reach Identity Center; the next leader finds it on
// record and polls or redoes it (creating an assignment that exists and deleting one that is gone
// are harmless), as after a crash.

// LeaderName is the name of the sync's leadership in the store.
const LeaderName = "sync"

// leaderTerm boxes the term for atomic.Value.
type leaderTerm struct{ store.Term }

// RunLeader runs the loop only while this process leads the sync, as el decides, until ctx ends.
// holder names this process. When the term is lost, the loop stops (its calls to Identity Center
// cancelled) and this process campaigns again.
func (e *Engine) RunLeader(ctx context.Context, el store.Elector, holder string) {
	for ctx.Err() == nil {
		term, err := el.Campaign(ctx, LeaderName, holder)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Warn("sync: campaigning to lead", "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		e.lead(ctx, term, holder)
	}
}

// lead runs the loop for one term.
func (e *Engine) lead(ctx context.Context, term store.Term, holder string) {
	e.log.Info("sync: this replica leads", "holder", holder, "term", term.Epoch())
	e.run.Lock()
	e.records, e.cache, e.last, e.wanted = nil, nil, nil, nil // another replica may have changed things: read afresh
	e.run.Unlock()
	e.term.Store(leaderTerm{term})
	lctx, cancel := context.WithCancel(term.Fence(ctx))
	done := make(chan struct{})
	go func() { e.Run(lctx); close(done) }()
	select {
	case <-ctx.Done():
	case <-term.Done():
		e.log.Warn("sync: lost the leadership; stepping down", "term", term.Epoch(), "err", term.Err())
	}
	cancel()
	<-done
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	if err := term.Resign(rctx); err != nil && ctx.Err() == nil {
		e.log.Warn("sync: resigning the leadership", "err", err)
	}
	rcancel()
}

// fenced returns ctx fenced by the term this engine leads in (unchanged when it has never led):
// an operator's Apply or Uninstall writes as the leader does.
func (e *Engine) fenced(ctx context.Context) context.Context {
	if t, ok := e.term.Load().(leaderTerm); ok {
		return t.Fence(ctx)
	}
	return ctx
}
