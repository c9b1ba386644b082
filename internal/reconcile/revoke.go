package reconcile

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// Revocation is the fast path for grants that end. A temporary grant's assignment is on record with
// its end (Until), so when that instant comes the revoker (a goroutine of its own in Run) sends
// DeleteAccountAssignment straight from the record: no store snapshot, no compile, no observation,
// and no wait for the deletion to finish. Deletions go on the priority lane; their outcome is polled
// afterwards on the background lane by the poller, which records it (a FAILED deletion is retried
// after a backoff; an outcome AWS no longer knows leaves the record, to be sent again). Each
// revocation thus costs one call when it is due and one later.
//
// Nothing holds it back for long: a full drift scan observes without holding the engine (see Sync);
// when a sync does hold it (planning, applying creations that wait on provisioning), the revoker asks
// and that sync makes the due revocations itself while it waits (revokeIfWanted).
//
// A record's Until is kept current by every sync (a later grant for the same assignment moves it),
// and a revocation is also checked against the last desired state compiled since Run began; until
// there is one (at start, on taking the lead), the fast path waits for it. What neither has seen yet
// (a grant for the same assignment approved in the instant before the old one ends) may see the
// assignment deleted and created again by the next sync: access is never left longer than granted.

// runRevoker revokes each temporary grant the instant it ends, and looks again whenever woken (a
// sync may have moved ends) until ctx ends.
func (e *Engine) runRevoker(ctx context.Context) {
	timer := e.clock.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-e.revokerWake:
		}
		e.resetTimer(timer, e.revokeNow(ctx))
	}
}

// revokeNow makes the revocations due now if no sync holds the engine; if one does, it asks that
// sync to make them (see revokeIfWanted) and says to look again shortly. It returns when to look next.
func (e *Engine) revokeNow(ctx context.Context) time.Time {
	now := e.now()
	if !e.run.TryLock() {
		if n := e.nextRevocation(); n.After(now) {
			return earliest(n, now.Add(time.Hour)) // nothing due before (a sync that changes that wakes the revoker)
		}
		e.revokeWanted.Store(true)
		select { // an apply waiting for its workers makes it at once
		case e.revokeAsk <- struct{}{}:
		default:
		}
		return now.Add(10 * time.Millisecond) // a lock check costs nothing: find the first gap
	}
	defer e.run.Unlock()
	if err := e.loadRecords(ctx); err != nil {
		e.log.Error("sync: revoking expired grants; retrying", "err", err)
		return now.Add(time.Second)
	}
	_, next, err := e.revoke(ctx, now)
	if err != nil && ctx.Err() == nil {
		e.log.Error("sync: revoking expired grants; retrying", "err", err)
		next = now.Add(time.Second)
	}
	if next.IsZero() {
		next = now.Add(time.Hour) // nothing on record ends: a sync wakes the revoker when that changes
	}
	return next
}

// revokeIfWanted makes the revocations the revoker found due while this goroutine's sync holds the
// engine. A sync calls it while it waits (for a worker during apply, between observations).
func (e *Engine) revokeIfWanted(ctx context.Context) {
	if e.revokeWanted.Swap(false) {
		if _, _, err := e.revoke(ctx, e.now()); err != nil && ctx.Err() == nil {
			e.log.Warn("sync: revoking expired grants", "err", err)
		}
	}
}

// revocationBy notes that a revocation may fall due at t (a record with that end was written), so
// that the revoker's hint is never later than the truth.
func (e *Engine) revocationBy(t time.Time) {
	n := t.UnixNano()
	for {
		cur := e.nextRevoke.Load()
		if cur == 0 || cur <= n { // 0: unknown, looked at once anyway
			return
		}
		if e.nextRevoke.CompareAndSwap(cur, n) {
			e.wakeRevoker() // it may be asleep until the later end
			return
		}
	}
}

// wakeRevoker makes the revoker look again.
func (e *Engine) wakeRevoker() {
	select {
	case e.revokerWake <- struct{}{}:
	default:
	}
}

func (e *Engine) nextRevocation() time.Time {
	if n := e.nextRevoke.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// revoke sends the deletions of owned user assignments whose grant has ended, with the engine held
// and the records loaded. It returns how many it sent and when the next one falls due (zero: none on
// record). A sync calls it too, before it plans with the same now, so that the plan finds expired
// grants' deletions in flight rather than sending and polling them itself. Until the engine has
// compiled the desired state once (at start, or on taking the lead), nothing is revoked this way: a
// record's end is only as current as the last sync, and a grant approved meanwhile may want the
// assignment still.
func (e *Engine) revoke(ctx context.Context, now time.Time) (int, time.Time, error) {
	t0 := time.Now()
	var (
		next time.Time
		due  []string
	)
	e.recMu.Lock()
	if e.records == nil || e.uninstalled() {
		e.recMu.Unlock()
		return 0, time.Time{}, nil
	}
	for key, r := range e.records {
		s := r.Spec.(*resource.SyncRecordSpec)
		if s.Type != resource.RecordAssignment || s.PrincipalType != policy.PrincipalUser || s.Until.IsZero() || s.Adopted || s.Op != "" {
			continue
		}
		if s.Until.After(now) {
			next = earliest(next, s.Until)
			continue
		}
		if s.NotBefore.After(now) { // a deletion that failed waits for its backoff
			next = earliest(next, s.NotBefore)
			continue
		}
		if s.IDCID == "" {
			continue // never created: the sync forgets the record
		}
		if !e.polling.Load() || e.wanted == nil {
			// No poller to learn the outcome (the sync deletes and polls), or nothing compiled yet
			// to check the record against: soon, by the sync or once it has compiled.
			next = earliest(next, now.Add(200*time.Millisecond))
			continue
		}
		a := policy.Assignment{PrincipalType: s.PrincipalType, Principal: s.Name, AccountID: s.AccountID, PermissionSetARN: s.PermissionSetARN}
		if g, ok := e.wanted.Assignments[a]; ok && (g.Until.IsZero() || g.Until.After(now)) {
			continue // a later grant holds it; the next sync moves the record's end
		}
		due = append(due, key)
	}
	// The hint is stored under the lock, so that a record written meanwhile (which lowers it) is not
	// overwritten by an older look.
	if next.IsZero() {
		e.nextRevoke.Store(math.MaxInt64) // none on record
	} else {
		e.nextRevoke.Store(next.UnixNano())
	}
	e.recMu.Unlock()
	if len(due) == 0 {
		return 0, next, nil
	}
	ctx = idc.WithLane(ctx, idc.Priority)
	a := &applier{e: e, ctx: ctx, mu: &e.recMu}
	sem := make(chan struct{}, maxOutstanding)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent int
	)
	for _, key := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			spec := a.existing(key)
			spec.Op = "delete"
			if err := a.record(key, spec); err != nil {
				e.log.Error("sync: journaling a revocation", "record", key, "err", err)
				return
			}
			res, err := e.idc.DeleteAssignment(ctx, idc.Assignment{PrincipalType: spec.PrincipalType, PrincipalID: spec.IDCID,
				AccountID: spec.AccountID, PermissionSetARN: spec.PermissionSetARN})
			if err != nil {
				// Not sent, or sent and unanswered: the record says it failed, and it is sent again
				// after a backoff (deleting an assignment twice is harmless); the principal is
				// observed again, in case it was made after all.
				if idc.IsNotFound(err) {
					err = a.finish(key, spec, idc.Operation{Status: idc.Succeeded}, nil)
				} else {
					err = a.finish(key, spec, idc.Operation{}, err)
				}
				if err != nil {
					e.log.Warn("sync: revoking an expired grant", "record", key, "err", err)
				}
				return
			}
			spec.RequestID = res.RequestID
			if err := a.record(key, spec); err != nil {
				e.log.Error("sync: recording a revocation", "record", key, "err", err)
				return
			}
			e.metrics.revoked(e.now().Sub(spec.Until))
			mu.Lock()
			sent++
			mu.Unlock()
			if res.Status != idc.InProgress {
				if err := a.finish(key, spec, res, nil); err != nil {
					e.log.Warn("sync: revoking an expired grant", "record", key, "err", err)
				}
				return
			}
			e.outstanding.add(pendingOp{key: key, verb: "delete", requestID: res.RequestID, sent: e.now()})
		}()
	}
	wg.Wait()
	e.log.Debug("sync: revoked expired grants", "sent", sent, "due", len(due), "took", time.Since(t0))
	return sent, next, nil
}

// pendingOp is an assignment operation sent and not yet seen to end: a revocation, or a creation a
// sync handed off.
type pendingOp struct {
	key       string
	verb      string // "create" or "delete", as the record journals it
	slot      bool   // holds a slot among the outstanding creations (Engine.creating)
	requestID string
	sent      time.Time
}

// pendingOps is the poller's queue, in the order the operations were sent.
type pendingOps struct {
	mu     sync.Mutex
	ops    []pendingOp
	keys   map[string]bool
	signal chan struct{}
	closed bool // the poller has stopped
}

// add queues op for the poller, and reports whether it did: with no poller, the record stays
// journaled with its RequestId for recovery.
func (q *pendingOps) add(op pendingOp) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.keys == nil {
		q.keys = map[string]bool{}
	}
	if q.signal == nil {
		q.signal = make(chan struct{}, 1)
	}
	q.ops = append(q.ops, op)
	q.keys[op.key] = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
	return true
}

// has reports whether the poller holds the operation on a record (recover leaves it to the poller).
func (q *pendingOps) has(key string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.keys[key]
}

func (q *pendingOps) take() (pendingOp, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ops) == 0 {
		return pendingOp{}, false
	}
	op := q.ops[0]
	q.ops = q.ops[1:]
	return op, true
}

func (q *pendingOps) done(key string) {
	q.mu.Lock()
	delete(q.keys, key)
	q.mu.Unlock()
}

// clear drops what the poller had not taken, and says how many of those held a creation's slot.
func (q *pendingOps) clear() (slots int) {
	q.mu.Lock()
	for _, op := range q.ops {
		if op.slot {
			slots++
		}
	}
	q.ops, q.keys, q.closed = nil, nil, true
	q.mu.Unlock()
	return slots
}

func (q *pendingOps) open() {
	q.mu.Lock()
	q.closed = false
	q.mu.Unlock()
}

func (q *pendingOps) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.signal == nil {
		q.signal = make(chan struct{}, 1)
	}
	return q.signal
}

// pollerWorkers poll sent operations side by side (their calls wait on the background lane).
const pollerWorkers = 4

// runPoller learns how the revocations sent by revoke, and the creations a sync handed off, ended,
// on the background lane, each once it has had the usual provisioning time, and records the outcome.
// Its workers only poll: what they learn is recorded by one finisher, which waits for the engine (a
// sync may hold it, waiting for the very creation slots the workers free). It returns when ctx ends;
// what it had not recorded stays journaled with its RequestId for the next run's recovery.
func (e *Engine) runPoller(ctx context.Context, kick func()) {
	ctx = idc.WithLane(ctx, idc.Background)
	e.polling.Store(true) // Run sets it too, before its revoker starts
	defer e.polling.Store(false)
	var (
		wg       sync.WaitGroup
		finished outcomes
	)
	for range pollerWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				op, ok := e.outstanding.take()
				if !ok {
					select {
					case <-ctx.Done():
					case <-e.outstanding.wait():
					}
					continue
				}
				if o, ok := e.pollOutstanding(ctx, op); ok {
					finished.add(o)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-finished.wait():
			}
			e.finishOutstanding(ctx, finished.takeAll(), kick)
		}
	}()
	wg.Wait()
	// What was not polled is journaled: the next run's recovery polls it. Its slots are freed: what
	// is still in flight then counts against Identity Center's quota unseen, as after a crash.
	for range e.outstanding.clear() {
		e.releaseCreation()
	}
}

// outcome is what polling an outstanding operation learned.
type outcome struct {
	op  pendingOp
	res idc.Operation
	err error
}

// outcomes is the queue from the poller's workers to its finisher.
type outcomes struct {
	mu     sync.Mutex
	list   []outcome
	signal chan struct{}
}

func (q *outcomes) add(o outcome) {
	q.mu.Lock()
	q.list = append(q.list, o)
	if q.signal == nil {
		q.signal = make(chan struct{}, 1)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *outcomes) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.signal == nil {
		q.signal = make(chan struct{}, 1)
	}
	return q.signal
}

func (q *outcomes) takeAll() []outcome {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.list
	q.list = nil
	return l
}

// pollOutstanding learns how one operation the poller holds ended, and frees its creation slot. It
// reports false when ctx ended first (the record stays journaled for the next run).
func (e *Engine) pollOutstanding(ctx context.Context, op pendingOp) (outcome, bool) {
	status := e.idc.DeletionStatus
	if op.verb == "create" {
		status = e.idc.CreationStatus
		// A creation's status is polled on the priority lane: its slot holds back the next grants.
		ctx = idc.WithLane(ctx, idc.Priority)
	}
	e.mu.Lock()
	estimate := e.provisioning
	e.mu.Unlock()
	o := outcome{op: op}
	slept := clock.Sleep(ctx, e.clock, clock.Until(e.clock, op.sent.Add(estimate)))
	if slept == nil {
		o.res, o.err = status(ctx, op.requestID)
		if o.err == nil && o.res.Status == idc.InProgress {
			o.res, o.err = e.poll(ctx, o.res, status)
		}
	}
	if op.slot {
		e.releaseCreation() // seen to end, or given up on
	}
	if ctx.Err() != nil {
		e.outstanding.done(op.key)
		return outcome{}, false
	}
	return o, true
}

// finishOutstanding records what the poller learned, holding the engine. Whatever an outcome leaves
// for a sync to do (a failure to retry, a creation no longer wanted or already over, a deletion
// wanted again) kicks the loop.
func (e *Engine) finishOutstanding(ctx context.Context, list []outcome, kick func()) {
	if len(list) == 0 {
		return
	}
	e.run.Lock()
	defer e.run.Unlock()
	a := &applier{e: e, ctx: ctx, mu: &e.recMu}
	for _, o := range list {
		e.finishOne(a, o, kick)
		e.outstanding.done(o.op.key)
	}
}

func (e *Engine) finishOne(a *applier, o outcome, kick func()) {
	op, res, err := o.op, o.res, o.err
	spec := a.existing(op.key)
	if spec == nil || spec.Op != op.verb || spec.RequestID != op.requestID {
		return // finished meanwhile by a sync
	}
	if err != nil && idc.IsNotFound(err) {
		// AWS does not know the request: the outcome is unknown, the record stays, and the sync
		// (or, for a revocation, the revoker) sends the operation again (harmless if it was made).
		if uerr := a.unknownOutcome(op.key, spec); uerr != nil {
			e.log.Warn("sync: recording an assignment operation", "record", op.key, "err", uerr)
		}
		kick()
		return
	}
	if ferr := a.finish(op.key, spec, res, err); ferr != nil {
		e.log.Warn("sync: an assignment operation failed; the sync retries it", "op", op.verb, "record", op.key, "err", ferr)
		kick()
		return
	}
	wanted := false
	if e.wanted != nil {
		x := policy.Assignment{PrincipalType: spec.PrincipalType, Principal: spec.Name, AccountID: spec.AccountID, PermissionSetARN: spec.PermissionSetARN}
		g, ok := e.wanted.Assignments[x]
		wanted = ok && (g.Until.IsZero() || g.Until.After(e.now()))
	}
	switch {
	case op.verb == "delete" && wanted:
		kick() // granted again meanwhile: the sync creates it anew
	case op.verb == "create" && !wanted && e.wanted != nil:
		kick() // ended (or its grant withdrawn) while it was made: the sync deletes it
	case op.verb == "create" && !spec.Until.IsZero():
		e.wakeRevoker() // its end is the revoker's to keep
	}
}
