package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// SyncStatus is what a resource's status.sync says: whether its part of Identity Center is in sync,
// and if not, why.
type SyncStatus struct {
	State  string   `json:"state"` // ok or error
	Errors []string `json:"errors,omitempty"`
}

type resourceStatus struct {
	Sync *SyncStatus `json:"sync,omitempty"`
}

// subject names the resource a failed operation or a compile problem concerns.
func subject(op Op) (resource.Kind, string) {
	switch op.Kind {
	case CreateUser, UpdateUser, AdoptUser, DeleteUser, ReleaseUser:
		return resource.KindUser, op.User
	case CreateGroup, RenameGroup, AdoptGroup, AddMember, RemoveMember, DeleteGroup, ReleaseGroup:
		return resource.KindAccessList, op.List
	case CreateAssignment, DeleteAssignment:
		if op.Assignment.PrincipalType == policy.PrincipalUser {
			return resource.KindUser, op.Assignment.Principal
		}
		return resource.KindAccessList, op.List
	}
	return "", ""
}

type subjectKey struct {
	kind resource.Kind
	name string
}

// writeStatuses records on each resource whether its sync is in error, writing only what changed
// (the previous run's errors are remembered, so resources that recovered are set back to ok).
func (e *Engine) writeStatuses(ctx context.Context, failed []opError, problems []policy.Problem) {
	now := map[subjectKey][]string{}
	for _, f := range failed {
		msg := f.op.String() + ": " + f.err.Error()
		if k, n := subject(f.op); k != "" && n != "" {
			now[subjectKey{k, n}] = append(now[subjectKey{k, n}], msg)
		}
		for _, r := range f.op.Requests { // a request's assignment that failed shows on the request too
			now[subjectKey{resource.KindAccessRequest, r}] = append(now[subjectKey{resource.KindAccessRequest, r}], msg)
		}
	}
	for _, p := range problems {
		now[subjectKey{p.Kind, p.Name}] = append(now[subjectKey{p.Kind, p.Name}], p.Message)
	}
	for key := range e.inError {
		if _, still := now[key]; !still {
			now[key] = nil // back to ok
		}
	}
	next := map[subjectKey]bool{}
	for key, errs := range now {
		sort.Strings(errs)
		st := &SyncStatus{State: "ok"}
		if len(errs) > 0 {
			st.State, st.Errors = "error", errs
			next[key] = true
		}
		if err := e.setResourceStatus(ctx, key, st); err != nil {
			e.log.Warn("sync: writing status", "kind", key.kind, "name", key.name, "err", err)
			if len(errs) > 0 {
				next[key] = true
			}
		}
	}
	e.inError = next
}

func (e *Engine) setResourceStatus(ctx context.Context, key subjectKey, st *SyncStatus) error {
	for attempt := 0; attempt < 3; attempt++ {
		o, err := e.store.Get(ctx, key.kind, key.name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur resourceStatus
		if len(o.Status) > 0 {
			json.Unmarshal(o.Status, &cur)
		}
		if cur.Sync != nil && cur.Sync.State == st.State && strings.Join(cur.Sync.Errors, "\n") == strings.Join(st.Errors, "\n") {
			return nil
		}
		if cur.Sync == nil && st.State == "ok" {
			return nil
		}
		cur.Sync = st
		b, _ := json.Marshal(cur)
		o.Status = b
		if err := e.store.Update(ctx, o); err != nil {
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			return err
		}
		e.markOwn(o.Metadata.Revision)
		return nil
	}
	return nil
}

// markOwn remembers a revision the engine wrote, so that the loop does not wake for it.
func (e *Engine) markOwn(rev int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.own == nil || len(e.own) > 100_000 {
		e.own = map[int64]bool{}
	}
	e.own[rev] = true
}

// markDropped notes a sync record the engine deleted: the store's change feed gives a deletion a
// revision the deleter does not learn, so the engine knows its own deletions by name.
func (e *Engine) markDropped(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dropped == nil || len(e.dropped) > 100_000 {
		e.dropped = map[string]int{}
	}
	e.dropped[key]++
}

// ownEvent reports whether a change to a sync record is the engine's own.
func (e *Engine) ownEvent(ev store.Event) bool {
	if ev.Type != store.Delete {
		return e.isOwn(ev.Revision)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := e.dropped[ev.Object.Metadata.Name]; n > 0 {
		if n == 1 {
			delete(e.dropped, ev.Object.Metadata.Name)
		} else {
			e.dropped[ev.Object.Metadata.Name] = n - 1
		}
		return true
	}
	return false
}

func (e *Engine) isOwn(rev int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.own[rev] {
		delete(e.own, rev)
		return true
	}
	return false
}

type opError struct {
	op  Op
	err error
}

// metrics are the engine's Prometheus series.
type metrics struct {
	runs       *prometheus.CounterVec
	operations *prometheus.CounterVec
	lastOK     prometheus.Gauge
	lastError  prometheus.Gauge
	lateness   prometheus.Histogram
}

// RegisterMetrics adds the sync engine's series to reg.
func (e *Engine) RegisterMetrics(reg prometheus.Registerer) error {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_sync_runs_total",
			Help: "Sync runs, by result (ok, error, brake)."}, []string{"result"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_sync_operations_total",
			Help: "Identity Center operations applied, by kind and result."}, []string{"kind", "result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_sync_last_success_timestamp_seconds",
			Help: "When the last sync run that applied everything it planned ended."}),
		lastError: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_sync_last_error_timestamp_seconds",
			Help: "When the last sync run, or one of its operations, failed."}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "warden_sync_revocation_lateness_seconds",
			Help:    "Time from a temporary grant's end to its DeleteAccountAssignment being sent.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300}}),
	}
	live := func(name, help string, f func(Status) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(e.Status()) })
	}
	collectors := []prometheus.Collector{m.runs, m.operations, m.lastOK, m.lastError, m.lateness,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "warden_identity_center_calls_total",
			Help: "Calls made to Identity Center APIs (every attempt)."}, func() float64 { return float64(e.idc.TotalCalls()) }),
		live("warden_sync_pending_operations", "Operations not done yet: of the run in progress, in flight, or waiting to be retried.",
			func(s Status) float64 { return float64(s.Pending) }),
		live("warden_sync_operations_in_flight", "Operations sent to Identity Center and not yet seen to end.",
			func(s Status) float64 { return float64(s.Progress.InFlight) }),
		live("warden_sync_run_operations_planned", "Operations the run in progress (or the last) applies.",
			func(s Status) float64 { return float64(s.Progress.Planned) }),
		live("warden_sync_run_operations_done", "Operations of the run in progress (or the last) done.",
			func(s Status) float64 { return float64(s.Progress.Done) }),
		live("warden_sync_run_operations_failed", "Operations of the run in progress (or the last) failed.",
			func(s Status) float64 { return float64(s.Progress.Failed) }),
		live("warden_sync_converged", "1 when the last run left nothing to do that warden knows of.",
			func(s Status) float64 { return b2f(s.Converged) }),
		live("warden_sync_healthy", "1 when the last run applied everything it planned.",
			func(s Status) float64 { return b2f(s.Health == HealthOK) }),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	e.metrics = m
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// revoked counts a revocation sent late by d after its grant's end.
func (m *metrics) revoked(d time.Duration) {
	if m != nil {
		m.lateness.Observe(max(0, d.Seconds()))
	}
}

func (e *Engine) observeRun(result string, p *Plan, failed []opError) {
	m := e.metrics
	if m == nil {
		return
	}
	m.runs.WithLabelValues(result).Inc()
	st := e.Status()
	if !st.LastSuccess.IsZero() {
		m.lastOK.Set(float64(st.LastSuccess.Unix()))
	}
	if !st.LastErrorAt.IsZero() {
		m.lastError.Set(float64(st.LastErrorAt.Unix()))
	}
	if p == nil {
		return
	}
	bad := map[string]int{}
	for _, f := range failed {
		bad[f.op.Kind.String()]++
	}
	total := map[string]int{}
	for _, op := range p.Ops {
		total[op.Kind.String()]++
	}
	for kind, n := range total {
		m.operations.WithLabelValues(kind, "failed").Add(float64(bad[kind]))
		m.operations.WithLabelValues(kind, "ok").Add(float64(n - bad[kind]))
	}
}

// statusErrors finds the resources whose status says their sync is in error (left by a previous
// process), so that they are set back to ok once fixed.
func statusErrors(s *policy.Snapshot) map[subjectKey]bool {
	out := map[subjectKey]bool{}
	for _, objs := range [][]*resource.Object{s.Users, s.Roles, s.AccessLists, s.Requests} {
		for _, o := range objs {
			if len(o.Status) == 0 {
				continue
			}
			var st resourceStatus
			if json.Unmarshal(o.Status, &st) == nil && st.Sync != nil && st.Sync.State == "error" {
				out[subjectKey{o.Kind, o.Metadata.Name}] = true
			}
		}
	}
	return out
}
