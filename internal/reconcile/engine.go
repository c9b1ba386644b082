// Package reconcile keeps Identity Center equal to warden's store: compile the desired state
// (package policy), observe what warden manages (package idc), plan the difference with ownership,
// and apply it within AWS's quotas, journaling every assignment operation before it is sent.
//
// Ownership: warden keeps a sync_record for every Identity Center user and group it created or
// adopted, and for every account assignment it created or adopted. It deletes only what it owns:
// an owned group's members and assignments are all its own; on users, only the assignments it
// recorded. A group or user of the same name that already exists is adopted, never duplicated.
// A user or group warden created and no longer wants is deleted; one it adopted is released: its
// record is marked so, warden stops managing it, and it stays in Identity Center (a released group
// loses the assignments its list granted first), unless PlanOptions.DeleteInAWS deletes it.
//
// The safety brake: a plan that removes from Identity Center more than cfg.SafetyBrake of what
// warden owns of any one kind (users, groups, group memberships, account assignments), and more
// than 3 of it, is refused unless forced. One weighing serves every destructive operation
// (Op.removal): an assignment or a membership counts one; a group's deletion counts the group and
// its memberships; a user's deletion counts the user and its memberships in groups warden does not
// manage (ListGroupMembershipsForMember, read before the plan is weighed). Expiries are never
// weighed: expired access always goes; a refused plan still applies them, and changes to warden's
// records alone.
//
// Status (Engine.Status): the sync's health (the last success, the last error with an id the log
// and /readyz show), the run as it goes (operations planned, done, failed, in flight; in flight
// counts the journaled assignment operations, a restarted process's included), and whether the
// last run converged: what it left undone and why. An operator's apply reads back what it changed
// in the directory; an operation applied and planned again by the next full observation is read
// back after it is applied again, and if it still differs, it does not converge. Drift is what a
// full observation finds that the observation before it did not call for.
//
// Crash safety: an assignment operation is recorded (its record's Op) before it is sent, and its
// RequestId after; a restarted engine polls the outstanding ones and recomputes the plan, so a crash
// at any point neither repeats an operation (creating an existing assignment is a no-op in Identity
// Center) nor forgets one (an assignment warden may have made is always on record as warden's).
//
// Waiting: within the loop, a run does not wait for Identity Center to provision what it sent. A
// revocation (revoke.go) and an assignment creation still in progress once sent are handed to the
// poller, which learns their outcomes on the background lane and records and audits them; a plan
// leaves an assignment whose operation is in flight alone until then, and the poller kicks the loop
// when the outcome leaves something to do (a failure to retry, a creation whose grant ended
// meanwhile). So a run ends once its calls are answered, and an approval never waits behind another
// grant's provisioning. An operator's apply (ReadBack), and an engine without the loop, poll each
// operation to its end, to report it.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Engine syncs one store with one Identity Center.
type Engine struct {
	store store.Store
	idc   *idc.Client
	cfg   idc.Config
	log   *slog.Logger
	clock clock.Clock // every instant and every wait of the engine's (tests move a fake one)

	run sync.Mutex // one sync at a time
	// recMu guards records, cache and replay while operations run: a sync's applier holds it for
	// each change it records, and a revocation made during that sync's apply holds it too.
	recMu sync.Mutex
	// wanted is the last desired state compiled since Run began (nil before): a revocation is
	// checked against it.
	wanted *policy.Desired
	// revokeWanted: a revocation is due while a sync holds the engine; its apply makes it, when
	// revokeAsk wakes it (or between observations).
	revokeWanted atomic.Bool
	revokeAsk    chan struct{}
	nextRevoke   atomic.Int64  // unix nanoseconds of the next revocation on record, as last looked
	revokerWake  chan struct{} // wakes the revoker to look again (a sync moved ends, a record was written)
	records      map[string]*resource.Object
	// recordsStale: someone else (an import, another replica) wrote a sync record; read them afresh.
	recordsStale atomic.Bool
	catalog      *catalog
	// provisioning estimates how long an assignment operation takes, to poll once, on time.
	provisioning time.Duration
	probes       int // operations polled, counting to the next early look
	// cache is the last observation and last the desired state it was planned against; dirty holds
	// principals the last apply touched. An incremental sync observes only what changed since.
	cache    *Observed
	last     *policy.Desired
	dirty    *scope
	compiler *policy.Compiler // the last full compile, kept for incremental membership changes
	leading  atomic.Bool
	term     atomic.Value // leaderTerm: the term this engine leads in (leader.go)
	// prevCache is the observation a full observation replaced, until the sync that follows has
	// compared its plan with it (drift); applied are the operations applied since the last full
	// observation began, appliedBefore those applied before it (an operation applied, and planned
	// again by the next full observation, did not converge).
	prevCache              *Observed
	applied, appliedBefore map[string]appliedOp
	// replay, while a full observation runs without holding the engine, collects what operations
	// applied meanwhile did, to be replayed on that observation when it ends.
	replay []func(*Observed)
	fullMu sync.Mutex // one full observation at a time
	// outstanding holds the revocations sent and not yet polled (see revoke.go).
	outstanding pendingOps
	// creating holds a slot for each assignment creation sent and not yet seen to end, across runs
	// and the poller: Identity Center refuses more than maxOutstanding at once.
	creating chan struct{}
	// warnings says what the operator must act on (SetWarnings), for Status.
	warnings atomic.Pointer[func() []string]
	polling  atomic.Bool // the poller runs (within Run)

	mu      sync.Mutex
	status  Status
	live    runState
	own     map[int64]bool // store revisions the engine wrote itself
	dropped map[string]int // sync records the engine deleted, until their deletion is seen
	grants  map[string][]RequestGrant
	inError map[subjectKey]bool // resources whose status says error
	metrics *metrics
}

// Status is what warden sync status shows: the sync's health, the last (or running) run, and
// whether Identity Center has converged to warden.
type Status struct {
	// Health: starting, ok (the last run applied everything it planned), failing (it failed, or
	// some of its operations did) or braked (its plan waits for an operator).
	Health      string    `json:"health"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"` // when a run last applied everything it planned
	// LastError is the last failure (of a run, or of its operations), kept after later successes;
	// LastErrorID names it in the log and in /readyz.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastErrorID string    `json:"last_error_id,omitempty"`
	LastFull    time.Time `json:"last_full,omitzero"`
	LastChanges int       `json:"last_changes"`
	Applied     int       `json:"applied"`
	Failed      []string  `json:"failed,omitempty"`
	// Running: a run is applying now; Progress counts its operations as they go.
	Running  bool     `json:"running"`
	Progress Progress `json:"progress"`
	// Pending counts the operations not done yet: the running run's not yet sent, those in flight,
	// and those that failed and wait to be retried.
	Pending int `json:"pending"`
	// Converged: the last run left nothing to do that warden knows of; Unconverged says what is left
	// and why (failed, waiting to be retried, held by the safety brake, applied yet still differing).
	Converged   bool     `json:"converged"`
	Unconverged []string `json:"unconverged,omitempty"`
	// Drift counts the changes the last full observation found that the observation before it did
	// not call for (made outside warden); warden's own work in flight is not drift.
	Drift        int       `json:"drift"`
	Brake        string    `json:"brake,omitempty"`
	Calls        int       `json:"calls"`
	NextChange   time.Time `json:"next_change,omitzero"`
	Problems     []string  `json:"problems,omitempty"`
	Provisioning string    `json:"provisioning_estimate"`
	// Directory is how users, groups and memberships are written: identitystore or scim.
	Directory string `json:"directory"`
	// Warnings are what an operator must act on before the sync fails (a SCIM token expiring).
	Warnings []string `json:"warnings,omitempty"`
}

type catalog struct {
	accounts []idc.Account
	excluded []idc.Account // left out by the accounts filter
	sets     []idc.PermissionSet
	at       time.Time
}

// Option sets an optional part of an engine.
type Option func(*Engine)

// WithClock makes the engine take its time from c: grants' ends, expiries, retries, the loop's
// timers and the waits on Identity Center's asynchronous operations (default: the system clock).
func WithClock(c clock.Clock) Option { return func(e *Engine) { e.clock = c } }

// WithProvisioningEstimate sets how long the engine first expects an assignment operation to take
// (default 1 s, AWS's usual); it learns the real time from the operations it polls.
func WithProvisioningEstimate(d time.Duration) Option {
	return func(e *Engine) { e.provisioning = max(d, minProvisioning) }
}

// New returns an engine. cfg's filters decide which accounts and groups warden manages.
func New(st store.Store, client *idc.Client, cfg idc.Config, log *slog.Logger, opts ...Option) *Engine {
	e := &Engine{store: st, idc: client, cfg: cfg.WithDefaults(), log: log, clock: clock.Real(), provisioning: time.Second,
		revokerWake: make(chan struct{}, 1), revokeAsk: make(chan struct{}, 1), creating: make(chan struct{}, maxOutstanding)}
	for _, o := range opts {
		o(e)
	}
	return e
}

func (e *Engine) now() time.Time { return e.clock.Now() }

// Endpoint is the sso-admin endpoint the engine's client uses (tests build a second engine on it).
func (e *Engine) Endpoint() string { return e.idc.Endpoint() }

// Status returns the engine's last results.
func (e *Engine) Status() Status {
	var warnings []string
	if w := e.warnings.Load(); w != nil {
		warnings = (*w)() // outside the lock: it may read the store
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.status
	s.Warnings = warnings
	s.Directory = e.idc.Dir().Kind()
	s.Calls = e.idc.TotalCalls()
	s.Provisioning = e.provisioning.String()
	s.Progress, s.Pending, s.Running = e.progress()
	if s.Health == "" {
		s.Health = HealthStarting
	}
	return s
}

// loadRecords reads warden's records once; afterwards the engine keeps its copy current.
func (e *Engine) loadRecords(ctx context.Context) error {
	if e.recordsStale.Swap(false) {
		e.records = nil
	}
	if e.records != nil {
		return nil
	}
	objs, err := e.store.List(ctx, resource.KindSyncRecord, store.ListOptions{})
	if err != nil {
		return fmt.Errorf("reading sync records: %w", err)
	}
	e.records = make(map[string]*resource.Object, len(objs))
	for _, o := range objs {
		e.records[o.Metadata.Name] = o
	}
	e.rejournal(e.records)
	return nil
}

// putRecord creates or replaces a record.
func (e *Engine) putRecord(ctx context.Context, key string, spec *resource.SyncRecordSpec) error {
	if spec.Type == resource.RecordAssignment && !spec.Until.IsZero() {
		e.revocationBy(spec.Until)
	}
	if cur := e.records[key]; cur != nil {
		next := &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: cur.Metadata, Spec: spec}
		if err := e.store.Update(ctx, next); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				delete(e.records, key)
				return e.putRecord(ctx, key, spec)
			}
			return fmt.Errorf("recording %s: %w", key, err)
		}
		e.records[key] = next
		e.journaled(key, spec)
		e.markOwn(next.Metadata.Revision)
		return nil
	}
	o := &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: resource.Metadata{Name: key}, Spec: spec}
	if err := e.store.Create(ctx, o); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) { // written meanwhile by an import: take it over
			cur, gerr := e.store.Get(ctx, resource.KindSyncRecord, key)
			if gerr == nil {
				e.records[key] = cur
				return e.putRecord(ctx, key, spec)
			}
		}
		return fmt.Errorf("recording %s: %w", key, err)
	}
	e.records[key] = o
	e.journaled(key, spec)
	e.markOwn(o.Metadata.Revision)
	return nil
}

func (e *Engine) dropRecord(ctx context.Context, key string) error {
	if e.records[key] == nil {
		return nil
	}
	e.markDropped(key)
	if _, err := e.store.Delete(ctx, resource.KindSyncRecord, key, 0); err != nil {
		e.ownEvent(store.Event{Type: store.Delete, Object: &resource.Object{Metadata: resource.Metadata{Name: key}}}) // no deletion to see
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("forgetting %s: %w", key, err)
		}
	}
	delete(e.records, key)
	e.journaled(key, nil)
	return nil
}

// snapshot reads warden's resources and the catalog.
func (e *Engine) snapshot(ctx context.Context, refreshCatalog bool) (*policy.Snapshot, error) {
	s := &policy.Snapshot{}
	for k, dst := range map[resource.Kind]*[]*resource.Object{
		resource.KindUser: &s.Users, resource.KindRole: &s.Roles, resource.KindAccessList: &s.AccessLists,
		resource.KindAccessListMember: &s.Members,
	} {
		objs, err := e.store.List(ctx, k, store.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", k, err)
		}
		*dst = objs
	}
	reqs, err := e.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexState, resource.StateApproved)})
	if err != nil {
		return nil, fmt.Errorf("reading access requests: %w", err)
	}
	s.Requests = reqs
	if e.catalog == nil || refreshCatalog {
		cctx := idc.WithLane(ctx, idc.Background)
		accounts, err := e.idc.Accounts(cctx)
		if err != nil {
			return nil, fmt.Errorf("reading accounts: %w", err)
		}
		sets, err := e.idc.PermissionSets(cctx)
		if err != nil {
			return nil, fmt.Errorf("reading permission sets: %w", err)
		}
		kept, excluded := e.filterAccounts(accounts)
		e.catalog = &catalog{accounts: kept, excluded: excluded, sets: sets, at: e.now()}
	}
	for _, a := range e.catalog.accounts {
		s.Accounts = append(s.Accounts, policy.Account{ID: a.ID, Name: a.Name})
	}
	for _, p := range e.catalog.sets {
		s.PermissionSets = append(s.PermissionSets, policy.PermissionSet{Name: p.Name, ARN: p.ARN})
	}
	return s, nil
}

// filterAccounts splits the organisation's accounts into those the accounts filter keeps and those
// it leaves out.
func (e *Engine) filterAccounts(in []idc.Account) (kept, excluded []idc.Account) {
	keep, err := e.cfg.Accounts.Compile()
	if err != nil {
		return in, nil // Validate rejected it already
	}
	for _, a := range in {
		if keep(a.ID, a.Name) {
			kept = append(kept, a)
		} else {
			excluded = append(excluded, a)
		}
	}
	return kept, excluded
}

// PlanOptions choose how a plan observes.
type PlanOptions struct {
	// Full lists every user and group afresh (drift made outside warden, deleted principals).
	Full bool
	// DeleteInAWS deletes the users and groups warden adopted (there before it) and no longer wants,
	// instead of leaving them in Identity Center unmanaged.
	DeleteInAWS bool
	// ReadBack (an operator's apply): after applying, read back the users and groups changed, so that
	// what Identity Center did not take is reported rather than counted as done.
	ReadBack bool
}

// ErrNotLeader: another replica leads the sync; only it applies.
var ErrNotLeader = errors.New("this replica does not lead the sync; the leader applies")

// Leading reports whether this engine leads the sync (always, without several replicas).
func (e *Engine) Leading() bool { return e.leading.Load() }

// Plan compiles, observes and diffs, changing nothing.
// A full plan, or the first, observes without holding the engine (observeFull), so that an
// operator's dry run never delays a revocation.
func (e *Engine) Plan(ctx context.Context, opts PlanOptions) (*Plan, *policy.Desired, time.Time, error) {
	if opts.Full || !e.warm() {
		if err := e.observeFull(ctx); err != nil {
			return nil, nil, time.Time{}, err
		}
	}
	e.run.Lock()
	defer e.run.Unlock()
	if err := e.loadRecords(ctx); err != nil {
		return nil, nil, time.Time{}, err
	}
	if e.uninstalled() {
		return nil, nil, time.Time{}, ErrUninstalled
	}
	return e.plan(ctx, PlanOptions{DeleteInAWS: opts.DeleteInAWS}, e.now(), true)
}

// Apply plans and applies on behalf of an operator; only the leading replica may.
func (e *Engine) Apply(ctx context.Context, opts PlanOptions, force bool) (*Result, error) {
	if !e.leading.Load() {
		return nil, ErrNotLeader
	}
	return e.Sync(e.fenced(ctx), opts, force)
}

// plan compiles the desired state as of now. A dry run keeps the compile the loop's membership path
// updates incrementally: that path finds what to apply by what changed since it, and a dry run
// between a change and its sync applies nothing.
func (e *Engine) plan(ctx context.Context, opts PlanOptions, now time.Time, dry bool) (*Plan, *policy.Desired, time.Time, error) {
	if err := e.loadRecords(ctx); err != nil {
		return nil, nil, time.Time{}, err
	}
	snap, err := e.snapshot(ctx, opts.Full)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if e.inError == nil {
		e.inError = statusErrors(snap)
	}
	compiler := policy.NewCompiler(snap, now)
	if !dry {
		e.compiler = compiler
	}
	desired, next := compiler.Desired(), compiler.Next()
	filtered := e.filterGroups(desired)
	e.wanted = desired
	var observed *Observed
	if opts.Full || e.cache == nil || e.last == nil {
		observed, err = e.observe(ctx, desired, e.records, opts.Full)
	} else {
		sc := touched(e.last, desired)
		if e.dirty != nil {
			for u := range e.dirty.users {
				sc.users[u] = true
			}
			for l := range e.dirty.lists {
				sc.lists[l] = true
			}
		}
		observed, err = e.observeScope(ctx, e.cache, desired, sc, e.records)
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			e.cache = nil // observe afresh next time (an interrupted run leaves the last one good)
		}
		return nil, nil, time.Time{}, err
	}
	e.cache, e.last, e.dirty = observed, desired, nil
	p := makePlan(desired, observed, e.records, now, e.cfg.SafetyBrake, opts.DeleteInAWS)
	p.LeftOut = e.leftOut(filtered)
	e.stuckSince(p, !dry)
	if err := e.weighDeletions(ctx, p, observed); err != nil {
		return nil, nil, time.Time{}, err
	}
	e.publishGrants(desired)
	return p, desired, next, nil
}

// weighDeletions counts what a plan's deletions of users and groups take with them that the
// observation does not hold, and weighs the plan again: a user's memberships in groups warden does
// not manage (ListGroupMembershipsForMember, one call per 100 of them, remembered until the user is
// observed again), and the members of a group warden released (ListGroupMemberships).
func (e *Engine) weighDeletions(ctx context.Context, p *Plan, o *Observed) error {
	ctx = idc.WithLane(ctx, idc.Background)
	weighed := false
	for i := range p.Ops {
		op := &p.Ops[i]
		switch {
		case op.Kind == DeleteUser:
			groups, ok := o.MemberOf[op.ID]
			if !ok {
				var err error
				if groups, err = e.idc.GroupsOfMember(ctx, op.ID); err != nil && !idc.IsNotFound(err) {
					return fmt.Errorf("counting the memberships of user %s before deleting it: %w", op.User, err)
				}
				o.MemberOf[op.ID] = groups
			}
			op.Members = 0
			for _, gid := range groups {
				if _, managed := o.Members[gid]; !managed {
					op.Members++
				}
			}
			weighed = true
		case op.Kind == DeleteGroup && o.Members[op.ID] == nil:
			m, err := e.idc.Memberships(ctx, op.ID)
			if err != nil && !idc.IsNotFound(err) {
				return fmt.Errorf("counting the members of group %q before deleting it: %w", op.Title, err)
			}
			op.Members = len(m)
			weighed = true
		}
	}
	if weighed {
		p.weigh(e.cfg.SafetyBrake)
	}
	return nil
}

// RequestGrant is an account assignment an access request grants, as of the engine's last plan.
type RequestGrant struct {
	AccountID        string    `json:"account_id"`
	AccountName      string    `json:"account_name,omitempty"`
	PermissionSet    string    `json:"permission_set"`
	PermissionSetARN string    `json:"permission_set_arn"`
	Until            time.Time `json:"until,omitzero"`
	// Record is the sync record warden keeps of the assignment (its state in Identity Center).
	Record string `json:"-"`
}

// publishGrants keeps, for RequestGrants, which assignments each approved request in its window
// grants.
func (e *Engine) publishGrants(d *policy.Desired) {
	accounts, sets := map[string]string{}, map[string]string{}
	if e.catalog != nil {
		for _, a := range e.catalog.accounts {
			accounts[a.ID] = a.Name
		}
		for _, p := range e.catalog.sets {
			sets[p.ARN] = p.Name
		}
	}
	by := map[string][]RequestGrant{}
	for a, g := range d.Assignments {
		for _, req := range g.Requests {
			name := sets[a.PermissionSetARN]
			if name == "" {
				name = psName(a.PermissionSetARN)
			}
			by[req] = append(by[req], RequestGrant{AccountID: a.AccountID, AccountName: accounts[a.AccountID], PermissionSet: name,
				PermissionSetARN: a.PermissionSetARN, Until: g.Until, Record: assignmentKey(a)})
		}
	}
	for _, gs := range by {
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].AccountID != gs[j].AccountID {
				return gs[i].AccountID < gs[j].AccountID
			}
			return gs[i].PermissionSet < gs[j].PermissionSet
		})
	}
	e.mu.Lock()
	e.grants = by
	e.mu.Unlock()
}

// RequestGrants lists the assignments an approved access request in its window grants, as of the
// engine's last plan (none for a request not in its window then).
func (e *Engine) RequestGrants(request string) []RequestGrant {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.grants[request])
}

// filterGroups drops groups the configuration excludes (and their assignments): each one's access
// list gets a problem saying it is not synced. It returns what it left out.
func (e *Engine) filterGroups(d *policy.Desired) []string {
	if len(e.cfg.Groups.Include) == 0 && len(e.cfg.Groups.Exclude) == 0 {
		return nil
	}
	f, err := e.cfg.Groups.Compile()
	if err != nil {
		return nil
	}
	var out []string
	for title, g := range d.Groups {
		if !f(title) {
			delete(d.Groups, title)
			out = append(out, fmt.Sprintf("access list %s (group %q)", g.List, title))
			d.Problems = append(d.Problems, policy.Problem{Kind: resource.KindAccessList, Name: g.List,
				Message: fmt.Sprintf("not synced: its group %q is outside the identity_center groups filter", title)})
		}
	}
	for a := range d.Assignments {
		if a.PrincipalType == policy.PrincipalGroup && d.Groups[a.Principal] == nil {
			delete(d.Assignments, a)
		}
	}
	sort.Strings(out)
	return out
}

// leftOut says what the filters leave out of the sync: access lists whose group the groups filter
// excludes, and the accounts the accounts filter excludes (the first few named).
func (e *Engine) leftOut(lists []string) []string {
	out := slices.Clone(lists)
	if e.catalog == nil || len(e.catalog.excluded) == 0 {
		return out
	}
	const named = 10
	for i, a := range e.catalog.excluded {
		if i == named {
			out = append(out, fmt.Sprintf("%d more accounts", len(e.catalog.excluded)-named))
			break
		}
		out = append(out, fmt.Sprintf("account %s (%s)", a.Name, a.ID))
	}
	return out
}

// Result is what one sync did.
type Result struct {
	Plan *Plan
	// Applied counts the operations applied that called Identity Center.
	Applied int
	Errors  []error
	// Unconverged says what the sync left undone and why (see Status.Unconverged).
	Unconverged []string
}

// ErrBrake: the plan deletes too much to be applied without force.
var ErrBrake = errors.New("refused by the safety brake")

// observeFull observes everything warden manages, refreshing the catalog, without holding the
// engine: a full observation of a large organisation takes minutes at Identity Center's rate, and
// revocations and incremental syncs go on meanwhile. What they apply meanwhile is replayed on the new
// observation, which then becomes the engine's cache for the plan that follows.
func (e *Engine) observeFull(ctx context.Context) error {
	e.fullMu.Lock()
	defer e.fullMu.Unlock()
	e.run.Lock()
	if !e.leading.Load() {
		e.records = nil // the leader writes them: read afresh
	}
	if err := e.loadRecords(ctx); err != nil {
		e.run.Unlock()
		return err
	}
	if e.uninstalled() {
		e.run.Unlock()
		return ErrUninstalled
	}
	if e.leading.Load() {
		if err := e.recover(ctx); err != nil {
			e.log.Warn("sync: polling outstanding operations", "err", err)
		}
	}
	snap, err := e.snapshot(ctx, true)
	if err != nil {
		e.run.Unlock()
		return err
	}
	desired, _ := policy.Compile(snap, e.now())
	e.filterGroups(desired)
	e.wanted = desired
	records := maps.Clone(e.records)
	e.replay = []func(*Observed){}
	e.mu.Lock()
	// What was applied before this observation: an operation of it that the plan after calls for
	// again did not converge.
	for k, a := range e.applied {
		if e.appliedBefore == nil {
			e.appliedBefore = map[string]appliedOp{}
		}
		b := e.appliedBefore[k]
		e.appliedBefore[k] = appliedOp{at: a.at, times: a.times + b.times}
	}
	e.applied = nil
	e.mu.Unlock()
	e.run.Unlock()

	observed, err := e.observe(ctx, desired, records, true)

	e.run.Lock()
	defer e.run.Unlock()
	replay := e.replay
	e.replay = nil
	if err != nil {
		return err
	}
	for _, f := range replay {
		f(observed)
	}
	e.prevCache = e.cache
	// The plan that follows observes, in this observation, whatever changed in the desired state
	// since it began (touched between desired and the plan's compile), and what failed meanwhile
	// (dirty).
	e.cache, e.last = observed, desired
	return nil
}

// Sync plans and applies. With force, the safety brake is overridden. A full sync observes without
// holding the engine (observeFull), then plans and applies like any other.
func (e *Engine) Sync(ctx context.Context, opts PlanOptions, force bool) (*Result, error) {
	start := e.now()
	if opts.Full || !e.warm() { // a whole observation is made without holding the engine
		if err := e.observeFull(ctx); err != nil {
			if !errors.Is(err, ErrUninstalled) {
				e.runFailed(start, err)
			}
			return nil, err
		}
	}
	e.run.Lock()
	defer e.run.Unlock()
	if err := e.loadRecords(ctx); err != nil {
		return nil, err
	}
	if e.uninstalled() {
		return nil, ErrUninstalled
	}
	if err := e.recover(ctx); err != nil {
		e.log.Warn("sync: polling outstanding operations", "err", err)
	}
	// Expired grants are revoked the fast way, and the plan is made as of the same instant, so that
	// it finds them in flight rather than deleting and polling them itself.
	now := e.now()
	if _, _, err := e.revoke(ctx, now); err != nil {
		e.log.Warn("sync: revoking expired grants", "err", err)
	}
	prev := e.prevCache
	e.prevCache = nil
	p, desired, next, err := e.plan(ctx, PlanOptions{DeleteInAWS: opts.DeleteInAWS}, now, false)
	if err != nil {
		e.runFailed(start, err)
		return nil, err
	}
	drift := -1
	if opts.Full && prev != nil {
		drift = e.drift(p, makePlan(desired, prev, e.records, now, e.cfg.SafetyBrake, opts.DeleteInAWS))
	}
	res := &Result{Plan: p}
	if p.Brake != "" && !force {
		// The brake holds back the plan, but never an expiry: expired access goes regardless.
		// Nor does it hold back changes to warden's records alone (a grant's end moved, a record
		// forgotten): they delete nothing, and an expiry is judged by them.
		expired := &Plan{}
		for _, op := range p.Ops {
			if op.Expired || op.RecordOnly || op.Kind == ForgetRecord {
				expired.Ops = append(expired.Ops, op)
			}
		}
		var failed []opError
		res.Applied, failed = e.apply(ctx, expired, !opts.ReadBack)
		for _, f := range failed {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %w", f.op, f.err))
		}
		e.markDirty(failedScope(failed))
		next = earliest(next, e.nextRetry())
		held := p.Changes() - expired.Changes()
		res.Unconverged = append(e.unconverged(failed, nil),
			fmt.Sprintf("%s held by the safety brake (%s): warden sync apply --force applies them", plural(held, "operation"), p.Brake))
		e.setStatus(func(s *Status) {
			s.LastRun, s.Brake, s.LastChanges, s.NextChange, s.Applied = start, p.Brake, p.Changes(), next, res.Applied
			s.Failed = errorStrings(res.Errors)
			e.endRun(s, res.Unconverged, true)
			if drift >= 0 {
				s.LastFull, s.Drift = start, drift
			}
		})
		e.observeRun("brake", expired, failed)
		return res, fmt.Errorf("%s: %w", p.Brake, ErrBrake)
	}
	var failedOps []opError
	res.Applied, failedOps = e.apply(ctx, p, !opts.ReadBack)
	for _, f := range failedOps {
		if idc.IsNotFound(f.err) {
			e.cache = nil // something vanished behind warden's back: observe everything next time
			break
		}
	}
	next = earliest(next, e.nextRetry())
	for _, f := range failedOps {
		res.Errors = append(res.Errors, fmt.Errorf("%s: %w", f.op, f.err))
	}
	e.markDirty(failedScope(failedOps)) // what succeeded is in the cache already
	var stuck []Op
	if opts.ReadBack || len(p.stuck) > 0 {
		stuck = e.readBack(ctx, p, failedOps, desired, opts.DeleteInAWS, opts.ReadBack)
	}
	res.Unconverged = e.unconverged(failedOps, stuck)
	e.writeStatuses(ctx, failedOps, desired.Problems)
	next = earliest(next, p.Wake)
	var problems []string
	for _, pr := range desired.Problems {
		problems = append(problems, fmt.Sprintf("%s %q: %s", pr.Kind, pr.Name, pr.Message))
	}
	e.setStatus(func(s *Status) {
		s.LastRun, s.LastChanges, s.Applied, s.Failed, s.Brake, s.NextChange, s.Problems =
			start, p.Changes(), res.Applied, errorStrings(res.Errors), "", next, problems
		e.endRun(s, res.Unconverged, false)
		if opts.Full {
			s.LastFull, s.Drift = start, max(0, drift)
		}
	})
	e.observeRun("ok", p, failedOps)
	e.log.Debug("sync: run", "full", opts.Full, "took", e.now().Sub(start), "changes", p.Changes())
	if len(res.Errors) > 0 {
		e.log.Warn("sync: some operations failed", "failed", len(res.Errors), "applied", res.Applied, "first", res.Errors[0])
	} else if res.Applied > 0 {
		e.log.Info("sync: applied", "operations", res.Applied)
	}
	return res, nil
}

func errorStrings(errs []error) []string {
	var out []string
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}

// appliedOp is an operation the engine applied: when last, and how often since the last full
// observation began.
type appliedOp struct {
	at    time.Time
	times int
}

// noteApplied remembers an operation applied that called Identity Center.
func (e *Engine) noteApplied(op Op) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.applied == nil {
		e.applied = map[string]appliedOp{}
	}
	a := e.applied[op.key()]
	e.applied[op.key()] = appliedOp{at: e.now(), times: a.times + 1}
}

// stuckSince marks the operations of a plan made on a full observation that the engine applied
// before that observation: changed outside warden since, or never kept by Identity Center though
// it answered them. The sync that applies such a plan reads them back (readBack) to tell. A plan
// that is applied consumes what it marked; a dry run leaves it for the next.
func (e *Engine) stuckSince(p *Plan, consume bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, op := range p.Ops {
		if a, ok := e.appliedBefore[op.key()]; ok && !op.recordsOnly() {
			p.stuck = append(p.stuck, op)
			p.Stuck = append(p.Stuck, fmt.Sprintf("%s: applied %s before (last at %s)", op, plural(a.times, "time"), a.at.UTC().Format(time.RFC3339)))
		}
	}
	if consume {
		e.appliedBefore = nil
	}
}

// drift counts the operations of a full plan that the plan on the observation before it did not
// call for: changes made outside warden. An operation on an assignment warden journaled (in
// flight) is warden's own work, never drift.
func (e *Engine) drift(p, before *Plan) int {
	had := map[string]bool{}
	for _, op := range before.Ops {
		had[op.key()] = true
	}
	n := 0
	for _, op := range p.Ops {
		if op.recordsOnly() || had[op.key()] {
			continue
		}
		if op.Kind == CreateAssignment || op.Kind == DeleteAssignment {
			if r := e.records[assignmentKey(op.Assignment)]; r != nil && r.Spec.(*resource.SyncRecordSpec).Op != "" {
				continue
			}
		}
		n++
	}
	return n
}

// readBack observes again the principals of operations just applied, and returns those that
// Identity Center, though it answered them, still does not reflect. It reads back the operations
// planned again after being applied before (the plan's stuck ones), and with directory (an
// operator's apply) also every user, group and membership changed; assignment operations otherwise
// are not read back, their end was seen (polled) already. It costs what the next incremental
// observation of those principals costs (about 2 calls each).
func (e *Engine) readBack(ctx context.Context, p *Plan, failed []opError, desired *policy.Desired, deleteInAWS, directory bool) []Op {
	bad := map[string]bool{}
	for _, f := range failed {
		bad[f.op.key()] = true
	}
	check := map[string]bool{}
	for _, op := range p.stuck {
		check[op.key()] = true
	}
	done := &Plan{}
	for _, op := range p.Ops {
		k := op.key()
		if op.recordsOnly() || bad[k] {
			continue
		}
		if check[k] || (directory && op.Kind != CreateAssignment && op.Kind != DeleteAssignment) {
			check[k] = true
			done.Ops = append(done.Ops, op)
		}
	}
	if len(done.Ops) == 0 || e.cache == nil {
		return nil
	}
	o, err := e.observeScope(ctx, e.cache, desired, opScope(done), e.records)
	if err != nil {
		e.log.Warn("sync: reading back what was applied", "err", err)
		return nil
	}
	e.cache = o
	var stuck []Op
	for _, op := range makePlan(desired, o, e.records, e.now(), e.cfg.SafetyBrake, deleteInAWS).Ops {
		if check[op.key()] && !op.recordsOnly() {
			stuck = append(stuck, op)
		}
	}
	return stuck
}

// unconverged says what a run left undone, and why.
func (e *Engine) unconverged(failed []opError, stuck []Op) []string {
	var out []string
	for _, f := range failed {
		out = append(out, fmt.Sprintf("%s: failed: %v", f.op, f.err))
	}
	for _, op := range stuck {
		out = append(out, fmt.Sprintf("%s: applied, yet Identity Center still differs", op))
	}
	e.mu.Lock()
	waiting := e.live.waitingRetry
	e.mu.Unlock()
	if waiting > 0 {
		out = append(out, fmt.Sprintf("%s wait to be retried, the first at %s", plural(waiting, "failed assignment operation"),
			e.nextRetry().UTC().Format(time.RFC3339)))
	}
	return out
}

func (e *Engine) setStatus(f func(*Status)) {
	e.mu.Lock()
	f(&e.status)
	e.mu.Unlock()
}

// earliest of two instants, a zero one meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// nextRetry is when the first failed assignment operation may be tried again.
func (e *Engine) nextRetry() time.Time {
	var t time.Time
	for _, r := range e.records {
		if nb := r.Spec.(*resource.SyncRecordSpec).NotBefore; !nb.IsZero() {
			t = earliest(t, nb)
		}
	}
	return t
}

// NextChange is when the desired state next changes by itself, as of the last sync.
func (e *Engine) NextChange() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status.NextChange
}

// Config is the engine's identity_center section, defaults filled in.
func (e *Engine) Config() idc.Config { return e.cfg }

// Client is the engine's Identity Center client (import and preview use it too).
func (e *Engine) Client() *idc.Client { return e.idc }

// SetWarnings makes Status carry what f says the operator must act on (f may read the store).
func (e *Engine) SetWarnings(f func() []string) { e.warnings.Store(&f) }
