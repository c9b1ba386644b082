package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// maxOutstanding is Identity Center's quota of assignment operations in flight.
const maxOutstanding = 10

// applier runs one plan. Operations of one kind run together, kinds in plan order; a failed
// operation is reported and the rest go on.
type applier struct {
	e   *Engine
	ctx context.Context
	// mu is the engine's recMu: it guards the ids here and the engine's records, cache and replay,
	// across this applier's workers and a revocation running meanwhile.
	mu *sync.Mutex
	// ids resolved while applying: user name / access list -> Identity Center id
	users  map[string]string
	groups map[string]string
	errs   []opError
	done   int
	// handoff: an assignment creation still in progress once sent is left to the poller (as a
	// revocation is), rather than waited for here: the run ends, and the next change is synced,
	// while Identity Center provisions.
	handoff bool
}

// apply runs plan p. With handoff (the loop's runs, whose poller learns the outcomes), assignment
// creations are sent and left to the poller; without (an operator's apply, which reports outcomes,
// or no poller running), each is polled to its end here.
func (e *Engine) apply(ctx context.Context, p *Plan, handoff bool) (int, []opError) {
	e.beginApply(p)
	defer e.endApply()
	ctx = idc.WithLane(ctx, idc.Priority)
	a := &applier{e: e, ctx: ctx, mu: &e.recMu, users: map[string]string{}, groups: map[string]string{},
		handoff: handoff && e.polling.Load()}
	for key, r := range e.records {
		s := r.Spec.(*resource.SyncRecordSpec)
		switch s.Type {
		case resource.RecordUser:
			a.users[s.Name] = s.IDCID
		case resource.RecordGroup:
			a.groups[key[len("group:"):]] = s.IDCID
		}
	}
	for _, op := range p.Ops {
		if op.ID == "" {
			continue
		}
		switch op.Kind {
		case AdoptUser, UpdateUser:
			a.users[op.User] = op.ID
		case AdoptGroup, RenameGroup:
			a.groups[op.List] = op.ID
		}
	}
	// Group the ops by kind, keeping plan order.
	var batches [][]Op
	for i, op := range p.Ops {
		if i == 0 || op.Kind != p.Ops[i-1].Kind {
			batches = append(batches, nil)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], op)
	}
	per := e.idc.Dir().MembersPerCall()
	for _, batch := range batches {
		if k := batch[0].Kind; (k == AddMember || k == RemoveMember) && per > 1 {
			a.runMembers(batch, per)
			continue
		}
		workers := 4
		if k := batch[0].Kind; k == CreateAssignment || k == DeleteAssignment {
			workers = maxOutstanding
		}
		a.run(batch, workers)
	}
	return a.done, a.errs
}

// acquireCreation waits for a slot among the assignment creations Identity Center allows
// outstanding at once (maxOutstanding), or for ctx to end.
func (e *Engine) acquireCreation(ctx context.Context) error {
	select {
	case e.creating <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releaseCreation frees the slot of a creation seen to end (or given up on).
func (e *Engine) releaseCreation() { <-e.creating }

// minProvisioning is the shortest estimate of an assignment operation's time: no poll comes sooner.
const minProvisioning = 20 * time.Millisecond

func (a *applier) run(ops []Op, workers int) {
	units := make([][]Op, len(ops))
	for i, op := range ops {
		units[i] = []Op{op}
	}
	a.runUnits(units, workers)
}

// runMembers applies a batch of membership changes (all adds or all removals) per group, as many
// in one call as the directory takes (SCIM: 100 in one PATCH).
func (a *applier) runMembers(ops []Op, per int) {
	var (
		units [][]Op
		open  = map[string]int{} // list -> index of its unit being filled
	)
	for _, op := range ops {
		i, ok := open[op.List]
		if !ok || len(units[i]) == per {
			units = append(units, nil)
			i = len(units) - 1
			open[op.List] = i
		}
		units[i] = append(units[i], op)
	}
	a.runUnits(units, 4)
}

// runUnits runs units of operations, workers at a time; a unit of several is one call (membership
// changes of one group), and succeeds or fails as one.
func (a *applier) runUnits(units [][]Op, workers int) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	// While it waits for a worker (creations wait on provisioning), a revocation falling due is made
	// here when the revoker asks: the sync holds the engine, and a revocation must not wait for the
	// whole apply.
	for _, unit := range units {
		if a.ctx.Err() != nil {
			for _, op := range unit {
				a.fail(op, a.ctx.Err())
			}
			continue
		}
	wait:
		for {
			select {
			case sem <- struct{}{}:
				break wait
			case <-a.e.revokeAsk:
				a.e.revokeIfWanted(a.ctx)
			}
		}
		wg.Add(1)
		go func(unit []Op) {
			defer func() { <-sem; wg.Done() }()
			for _, op := range unit {
				a.e.opStarted(op)
			}
			var err error
			if len(unit) == 1 {
				err = a.one(unit[0])
			} else {
				err = a.chunk(unit)
			}
			for _, op := range unit {
				a.e.opEnded(op, err)
				if err != nil {
					a.fail(op, err)
					continue
				}
				if !op.recordsOnly() {
					a.e.noteApplied(op)
					a.mu.Lock()
					a.done++
					a.mu.Unlock()
				}
			}
		}(unit)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-a.e.revokeAsk:
			a.e.revokeIfWanted(a.ctx)
		}
	}
}

// chunk applies membership changes of one group in one call, and logs each.
func (a *applier) chunk(ops []Op) error {
	ctx, ids := idc.WithRequestIDs(a.ctx)
	err := a.members(ctx, ops)
	if err == nil {
		for _, op := range ops {
			detail := op.String()
			if id := ids.Last(); id != "" {
				detail += " (AWS request " + id + ")"
			}
			a.e.audit(a.ctx, audit.Entry{Action: "sync." + strings.ReplaceAll(op.Kind.String(), " ", "_"), Detail: detail,
				Kind: resource.KindSyncRecord, Name: op.subject()})
		}
	}
	return err
}

// release marks the record of a user or group warden adopted as released: no longer managed, left
// in Identity Center.
func (a *applier) release(key string) error {
	spec := a.existing(key)
	if spec == nil {
		return nil
	}
	spec.Released = true
	return a.record(key, spec)
}

// failedFor reports whether an operation on the access list's group failed in this apply.
func (a *applier) failedFor(list string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.errs {
		if f.op.List == list {
			return true
		}
	}
	return false
}

func (a *applier) fail(op Op, err error) {
	a.mu.Lock()
	a.errs = append(a.errs, opError{op, err})
	a.mu.Unlock()
}

func (a *applier) userID(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.users[name]
}

func (a *applier) groupID(list string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.groups[list]
}

// record writes a sync record under the applier's lock (records are shared by the workers).
func (a *applier) record(key string, spec *resource.SyncRecordSpec) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.e.putRecord(a.ctx, key, spec)
}

func (a *applier) forget(key string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.e.dropRecord(a.ctx, key)
}

func (a *applier) existing(key string) *resource.SyncRecordSpec {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r := a.e.records[key]; r != nil {
		c := *r.Spec.(*resource.SyncRecordSpec)
		return &c
	}
	return nil
}

func (a *applier) one(op Op) error {
	ctx, ids := idc.WithRequestIDs(a.ctx)
	err := a.do(ctx, op)
	switch op.Kind {
	case CreateAssignment, DeleteAssignment, ForgetRecord, AdoptUser, AdoptGroup:
		// Assignments are logged with their outcome (finish); the rest change nothing in AWS (a
		// release does not either, but it changes what warden manages: it is logged).
	default:
		if err == nil {
			detail := op.String()
			if id := ids.Last(); id != "" {
				detail += " (AWS request " + id + ")"
			}
			a.e.audit(a.ctx, audit.Entry{Action: "sync." + strings.ReplaceAll(op.Kind.String(), " ", "_"), Detail: detail,
				Kind: resource.KindSyncRecord, Name: op.subject()})
		}
	}
	return err
}

func (a *applier) do(ctx context.Context, op Op) error {
	c := a.e.idc
	switch op.Kind {
	case CreateUser:
		u := op.Attributes
		id, err := a.createOrAdopt(resource.RecordUser, userKey(op.User),
			func() (string, error) {
				return c.Dir().CreateUser(ctx, idc.User{UserName: u.UserName, DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email}, ExternalID(resource.RecordUser, op.User))
			},
			func() (string, error) { return c.UserID(ctx, u.UserName) })
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.users[op.User] = id
		a.mu.Unlock()
		a.seen(func(o *Observed) {
			o.UserIDs[op.User], o.UserNames[id] = id, op.User
			o.Users[op.User] = toIDCUser(id, u)
		})
		return a.record(userKey(op.User), &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: id, Name: op.User})
	case AdoptUser:
		return a.record(userKey(op.User), &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: op.ID, Name: op.User, Adopted: true})
	case UpdateUser:
		u := op.Attributes
		if err := c.Dir().UpdateUser(ctx, op.ID, idc.User{DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email}); err != nil {
			return err
		}
		a.seen(func(o *Observed) { o.Users[op.User] = toIDCUser(op.ID, u) })
		return nil
	case DeleteUser:
		if err := c.Dir().DeleteUser(ctx, op.ID); err != nil {
			return err
		}
		a.seen(func(o *Observed) {
			o.UserIDs[op.User] = ""
			delete(o.Users, op.User)
			delete(o.Assignments, op.ID)
			delete(o.MemberOf, op.ID)
		})
		return a.forget(userKey(op.User))
	case ReleaseUser:
		return a.release(userKey(op.User))
	case ReleaseGroup:
		// Released, a group is no longer looked at: it goes only once every assignment of warden's
		// on it is gone, or the access its list granted would stay.
		if a.failedFor(op.List) {
			return fmt.Errorf("kept under warden's management until its assignments are deleted (an operation on it failed)")
		}
		if err := a.release(groupKey(op.List)); err != nil {
			return err
		}
		a.seen(func(o *Observed) { delete(o.Members, op.ID); delete(o.Assignments, op.ID) })
		return nil
	case CreateGroup:
		id, err := a.createOrAdopt(resource.RecordGroup, groupKey(op.List),
			func() (string, error) {
				return c.Dir().CreateGroup(ctx, op.Title, "warden access list "+op.List, ExternalID(resource.RecordGroup, op.List))
			},
			func() (string, error) { return c.GroupID(ctx, op.Title) })
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.groups[op.List] = id
		a.mu.Unlock()
		a.seen(func(o *Observed) {
			o.GroupIDs[op.List] = id
			if o.Members[id] == nil {
				o.Members[id] = map[string]string{}
			}
			if o.Assignments[id] == nil {
				o.Assignments[id] = map[target]bool{}
			}
		})
		return a.record(groupKey(op.List), &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: id, Name: op.Title})
	case AdoptGroup:
		return a.record(groupKey(op.List), &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: op.ID, Name: op.Title, Adopted: true})
	case RenameGroup:
		if err := c.Dir().RenameGroup(ctx, op.ID, op.Title); err != nil {
			return err
		}
		prev := a.existing(groupKey(op.List))
		spec := &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: op.ID, Name: op.Title}
		if prev != nil {
			spec.Adopted = prev.Adopted
		}
		return a.record(groupKey(op.List), spec)
	case DeleteGroup:
		if err := c.Dir().DeleteGroup(ctx, op.ID); err != nil {
			return err
		}
		a.seen(func(o *Observed) { o.GroupIDs[op.List] = ""; delete(o.Members, op.ID); delete(o.Assignments, op.ID) })
		return a.forget(groupKey(op.List))
	case AddMember, RemoveMember:
		return a.members(ctx, []Op{op})
	case CreateAssignment:
		return a.createAssignment(op)
	case DeleteAssignment:
		return a.deleteAssignment(op)
	case ForgetRecord:
		return a.forget(op.Record)
	}
	return fmt.Errorf("unknown operation %d", op.Kind)
}

// members adds or removes memberships of one group, all of one kind, in one call of the directory
// (at most its MembersPerCall).
func (a *applier) members(ctx context.Context, ops []Op) error {
	dir := a.e.idc.Dir()
	gid := a.groupID(ops[0].List)
	if ops[0].Kind == RemoveMember {
		if gid == "" {
			a.mu.Lock()
			if a.e.cache != nil {
				gid = a.e.cache.GroupIDs[ops[0].List]
			}
			a.mu.Unlock()
		}
		if gid == "" && dir.Kind() == idc.DirectorySCIM {
			return fmt.Errorf("the group's id is not known (an earlier operation failed)")
		}
		ms := make([]idc.Membership, len(ops))
		for i, op := range ops {
			ms[i] = idc.Membership{UserID: op.UserID, ID: op.ID}
		}
		if err := dir.RemoveMembers(ctx, gid, ms); err != nil {
			return err
		}
		a.seen(func(o *Observed) {
			for _, m := range ms {
				delete(o.Members[gid], m.UserID)
			}
		})
		return nil
	}
	uids := make([]string, len(ops))
	for i, op := range ops {
		uids[i] = a.userID(op.User)
		if gid == "" || uids[i] == "" {
			return fmt.Errorf("the group or the user does not exist in Identity Center (an earlier operation failed)")
		}
	}
	mids, err := dir.AddMembers(ctx, gid, uids)
	if err != nil {
		return err
	}
	a.seen(func(o *Observed) {
		if o.Members[gid] == nil {
			o.Members[gid] = map[string]string{}
		}
		for i, uid := range uids {
			o.Members[gid][uid] = mids[i]
			o.UserNames[uid] = ops[i].User
		}
	})
	return nil
}

// ExternalID is the externalId warden gives a user or group it provisions over SCIM (typ: its
// record type; name: the user's or the access list's name): it tells warden's entities from those
// made by hand or by another tool.
func ExternalID(typ, name string) string { return "warden:" + typ + ":" + name }

// createOrAdopt creates a user or group (typ: its record type). One made meanwhile, or by a crashed
// run, answers ConflictException: it is found by name and adopted, unless warden holds it under
// another record (a name that differs only in case).
func (a *applier) createOrAdopt(typ, key string, create, find func() (string, error)) (string, error) {
	id, err := create()
	if err == nil || idc.ErrorCode(err) != "ConflictException" {
		return id, err
	}
	if id, err = find(); err != nil || id == "" {
		return "", fmt.Errorf("%s exists but cannot be found: %v", typ, err)
	}
	if other := a.ownerOf(typ, id); other != "" && other != key {
		return "", fmt.Errorf("Identity Center %s %s (matched without case) is already warden's %s", typ, id, other)
	}
	return id, nil
}

func (a *applier) principalID(x policy.Assignment, list string) string {
	if x.PrincipalType == policy.PrincipalGroup {
		return a.groupID(list)
	}
	return a.userID(x.Principal)
}

// retryDelay is how long a failed assignment operation waits before the next attempt.
func retryDelay(base time.Duration, attempts int) time.Duration {
	d := base << min(attempts-1, 7) // 10s, 20s, ... about 20 minutes
	return min(d, 15*time.Minute)
}

func (a *applier) createAssignment(op Op) error {
	x := op.Assignment
	list := op.List
	if x.PrincipalType == policy.PrincipalGroup && list == "" {
		list = a.listOfGroup(x.Principal)
	}
	pid := a.principalID(x, list)
	if pid == "" {
		return fmt.Errorf("the principal does not exist in Identity Center (an earlier operation failed)")
	}
	key := assignmentKey(x)
	spec := &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: pid, Name: x.Principal, PrincipalType: x.PrincipalType,
		AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN, Until: op.Until}
	prev := a.existing(key)
	if prev != nil {
		spec.Attempts = prev.Attempts
	}
	if op.RecordOnly {
		// Taking over an assignment that already existed for a temporary grant: it is adopted, and
		// the grant's end will not delete it. A standing grant governs it fully.
		spec.Adopted = !op.Until.IsZero() && (prev == nil || prev.Adopted)
		return a.record(key, spec)
	}
	// Journal first: from here on the assignment is on record as warden's, whatever happens.
	return a.operate(key, spec, "create", pid)
}

// operate journals an assignment operation ("create" or "delete") on its record, sends it for the
// principal pid, records the RequestId AWS gave it, polls it to its end and records the outcome. A
// creation in progress is handed to the poller instead, when the applier hands off.
func (a *applier) operate(key string, spec *resource.SyncRecordSpec, verb, pid string) error {
	spec.Op = verb
	if err := a.record(key, spec); err != nil {
		return err
	}
	send, status := a.e.idc.CreateAssignment, a.e.idc.CreationStatus
	release := func() {}
	if verb == "delete" {
		send, status = a.e.idc.DeleteAssignment, a.e.idc.DeletionStatus
	} else {
		// A slot among Identity Center's outstanding creations, held until this one is seen to end.
		if err := a.e.acquireCreation(a.ctx); err != nil {
			return a.finish(key, spec, idc.Operation{}, err)
		}
		release = a.e.releaseCreation
	}
	res, err := send(a.ctx, idc.Assignment{PrincipalType: spec.PrincipalType, PrincipalID: pid, AccountID: spec.AccountID, PermissionSetARN: spec.PermissionSetARN})
	if err == nil {
		spec.RequestID = res.RequestID
		if err = a.record(key, spec); err == nil {
			if verb == "create" && a.handoff && res.Status == idc.InProgress &&
				a.e.outstanding.add(pendingOp{key: key, verb: verb, requestID: res.RequestID, sent: a.e.now(), slot: true}) {
				// Journaled with its RequestId: the poller (or a restart's recovery) ends it, and
				// frees its slot.
				return nil
			}
			res, err = a.e.poll(a.ctx, res, status)
		}
	}
	release()
	return a.finish(key, spec, res, err)
}

// finish records the outcome of an assignment operation: done, or failed with a retry time.
func (a *applier) finish(key string, spec *resource.SyncRecordSpec, res idc.Operation, err error) error {
	if err == nil && res.Status == idc.Failed {
		err = fmt.Errorf("FAILED: %s", res.FailureReason)
	}
	if spec.RequestID != "" && (err == nil || res.Status == idc.Failed) {
		a.e.auditAssignment(a.ctx, key, spec, err)
	}
	op := spec.Op
	if err != nil && spec.RequestID != "" && res.Status != idc.Failed {
		// Sent, but its end was not seen (a poll failed): keep it journaled for the next run to poll.
		spec.Attempts++
		spec.LastError = err.Error()
		spec.NotBefore = a.e.now().Add(retryDelay(a.e.cfg.RetryFailedAfter, spec.Attempts))
		if rerr := a.record(key, spec); rerr != nil {
			return fmt.Errorf("%w (and recording it: %v)", err, rerr)
		}
		return err
	}
	spec.Op, spec.RequestID = "", ""
	if err != nil {
		if spec.PrincipalType == policy.PrincipalUser && res.Status != idc.Failed {
			// Perhaps made after all (unanswered): the principal is observed again before relying on
			// the cache.
			sc := newScope()
			sc.users[spec.Name] = true
			a.mu.Lock()
			a.e.markDirty(sc)
			a.mu.Unlock()
		}
		spec.Attempts++
		spec.LastError = err.Error()
		spec.NotBefore = a.e.now().Add(retryDelay(a.e.cfg.RetryFailedAfter, spec.Attempts))
		if rerr := a.record(key, spec); rerr != nil {
			return fmt.Errorf("%w (and recording it: %v)", err, rerr)
		}
		return err
	}
	t := target{spec.AccountID, spec.PermissionSetARN}
	if op == "delete" {
		a.seen(func(o *Observed) { delete(o.Assignments[spec.IDCID], t) })
		return a.forget(key)
	}
	a.seen(func(o *Observed) {
		if o.Assignments[spec.IDCID] == nil {
			o.Assignments[spec.IDCID] = map[target]bool{}
		}
		o.Assignments[spec.IDCID][t] = true
	})
	spec.Attempts, spec.LastError, spec.NotBefore = 0, "", time.Time{}
	return a.record(key, spec)
}

func (a *applier) deleteAssignment(op Op) error {
	x := op.Assignment
	pid := op.ID
	key := assignmentKey(x)
	spec := a.existing(key)
	if spec == nil {
		spec = &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: pid, Name: x.Principal, PrincipalType: x.PrincipalType,
			AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN}
	}
	return a.operate(key, spec, "delete", pid)
}

// seen updates the engine's cached observation with what an operation just did, so that the next
// incremental sync need not read it back.
func (a *applier) seen(f func(*Observed)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.e.cache != nil {
		f(a.e.cache)
	}
	if a.e.replay != nil {
		a.e.replay = append(a.e.replay, f)
	}
}

// ownerOf names the record that holds an Identity Center user or group id, if any.
func (a *applier) ownerOf(typ, id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, r := range a.e.records {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == typ && s.IDCID == id && !s.Released {
			return key
		}
	}
	return ""
}

func (a *applier) listOfGroup(title string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, r := range a.e.records {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordGroup && s.Name == title && !s.Released {
			return key[len("group:"):]
		}
	}
	return ""
}

// poll waits for an assignment operation to end, spending as few calls as it can. The first look
// comes when such operations usually finish: a moving average of how long they took to be seen done.
// The first 8 operations and every 16th after also take an early look at half that wait, so that a
// wait far too long (provisioning is faster than thought) halves quickly, at the price of one call
// in 16.
func (e *Engine) poll(ctx context.Context, op idc.Operation, status func(context.Context, string) (idc.Operation, error)) (idc.Operation, error) {
	start := e.now()
	e.mu.Lock()
	estimate := e.provisioning
	e.probes++
	probe := e.probes%16 == 0 || e.probes <= 8 // an unproven estimate is probed more at first
	e.mu.Unlock()
	wait := estimate
	if probe {
		wait = estimate / 2
	}
	polls := 0
	for op.Status == idc.InProgress {
		if err := clock.Sleep(ctx, e.clock, wait); err != nil {
			return op, err
		}
		next, err := status(ctx, op.RequestID)
		if err != nil {
			return op, err
		}
		op = next
		polls++
		switch {
		case probe && polls == 1:
			wait = estimate - wait // the rest of the usual wait
		case e.now().Sub(start) < estimate:
			wait = estimate - e.now().Sub(start)
		default:
			wait = min(max(wait*2, 50*time.Millisecond), 5*time.Second)
		}
	}
	if polls > 0 {
		took := e.now().Sub(start)
		e.mu.Lock()
		switch {
		case probe && polls == 1:
			e.provisioning = max(minProvisioning, min(e.provisioning, estimate/2))
		case polls == 1: // done by the first look: a hit never lengthens the wait
			e.provisioning = min(e.provisioning, (e.provisioning*3+took)/4)
		default:
			e.provisioning = min((e.provisioning*3+took)/4, 30*time.Second)
		}
		e.mu.Unlock()
	}
	return op, nil
}

// recover learns how operations that a previous run sent, but did not see end, ended, and records it:
// each is looked at once at once (it was sent a while ago), then polled if still in progress, ten at
// a time.
func (e *Engine) recover(ctx context.Context) error {
	ctx = idc.WithLane(ctx, idc.Priority)
	a := &applier{e: e, ctx: ctx, mu: &e.recMu}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, maxOutstanding)
	// The journal as it is now: the workers started below write records as they learn outcomes.
	type journaled struct {
		key  string
		spec resource.SyncRecordSpec
	}
	var todo []journaled
	e.recMu.Lock()
	for _, key := range slices.Sorted(maps.Keys(e.records)) {
		if s := e.records[key].Spec.(*resource.SyncRecordSpec); s.Op != "" {
			todo = append(todo, journaled{key, *s})
		}
	}
	e.recMu.Unlock()
	for _, j := range todo {
		key, s := j.key, j.spec
		if e.outstanding.has(key) {
			continue // the poller is on it
		}
		if s.RequestID == "" {
			// Sent or not, nobody knows: it stays journaled, so the plan treats the assignment as
			// warden's (deleted if not wanted, created again if wanted: both harmless if redundant).
			continue
		}
		check := e.idc.CreationStatus
		if s.Op == "delete" {
			check = e.idc.DeletionStatus
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := check(ctx, s.RequestID)
			if err == nil && res.Status == idc.InProgress {
				res, err = e.poll(ctx, res, check)
			}
			if err != nil && idc.IsNotFound(err) {
				// Unknown to AWS by now: the outcome is unknown. The record stays warden's, the
				// principal is observed again, and the plan deletes or creates as needed.
				if uerr := a.unknownOutcome(key, &s); uerr != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, uerr)
					mu.Unlock()
				}
				return
			}
			if ferr := a.finish(key, &s, res, err); ferr != nil && err == nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = ferr
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// unknownOutcome clears an operation whose outcome AWS no longer knows: the record stays (so the
// assignment stays warden's), and the principal is observed again by the next sync.
func (a *applier) unknownOutcome(key string, spec *resource.SyncRecordSpec) error {
	spec.Op, spec.RequestID = "", ""
	a.mu.Lock()
	if spec.PrincipalType == policy.PrincipalUser {
		sc := newScope()
		sc.users[spec.Name] = true
		a.e.markDirty(sc)
	} else {
		a.e.cache = nil // a group's: observe everything next time
	}
	a.mu.Unlock()
	return a.record(key, spec)
}

// SyncActor is who the audit log says made the changes the sync engine makes in Identity Center.
const SyncActor = "warden:sync"

// audit appends what the engine did in Identity Center to the audit log. A failure to write it is
// logged: the change in Identity Center is made, and its record says so.
func (e *Engine) audit(ctx context.Context, entry audit.Entry) {
	entry.Actor = SyncActor
	if err := e.store.Txn(ctx, func(tx store.Tx) error { return audit.Append(ctx, tx, entry) }); err != nil {
		e.log.Warn("sync: writing the audit log", "action", entry.Action, "err", err)
	}
}

// auditAssignment logs an assignment operation's outcome with the RequestId AWS gave it; the entry
// holds the sync record as it stood while the operation was in flight.
func (e *Engine) auditAssignment(ctx context.Context, key string, spec *resource.SyncRecordSpec, err error) {
	verb := "create"
	if spec.Op == "delete" {
		verb = "delete"
	}
	outcome := "SUCCEEDED"
	if err != nil {
		outcome = err.Error()
	}
	s := *spec
	e.audit(ctx, audit.Entry{Action: "sync." + verb + "_assignment",
		Detail: fmt.Sprintf("%s assignment %s %s on %s with %s: %s (AWS request %s)", verb, strings.ToLower(s.PrincipalType), s.Name, s.AccountID, psName(s.PermissionSetARN), outcome, s.RequestID),
		After:  &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: resource.Metadata{Name: key}, Spec: &s}})
}

// subject names the sync record an operation concerns, for the audit log.
func (op Op) subject() string {
	switch op.Kind {
	case CreateUser, UpdateUser, DeleteUser, AdoptUser, ReleaseUser:
		return userKey(op.User)
	case AddMember, RemoveMember:
		return groupKey(op.List) + "/" + op.User
	case CreateAssignment, DeleteAssignment:
		return assignmentKey(op.Assignment)
	case ForgetRecord:
		return op.Record
	}
	return groupKey(op.List)
}
