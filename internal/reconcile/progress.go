package reconcile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// Progress is what the run in progress (or, between runs, the last one) has done so far.
type Progress struct {
	// Planned counts the operations the run applies that call Identity Center; Done and Failed
	// those that ended.
	Planned int `json:"planned"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	// InFlight counts the operations sent to Identity Center and not yet seen to end: the run's,
	// the revoker's, and those an earlier process journaled and did not see end (after a restart,
	// they are warden's work in flight, not drift).
	InFlight int `json:"in_flight"`
}

// runState is the live state behind Status: the run in progress and warden's journal. Guarded by
// Engine.mu.
type runState struct {
	running                         bool
	planned, started, done, failed  int
	directory                       int            // directory operations (users, groups, members) being sent
	journal                         map[string]int // record -> journaled (1: in flight, 2: failed, waiting to be retried)
	journaledInFlight, waitingRetry int
}

// journalState is what a sync record says of its assignment operation.
func journalState(s *resource.SyncRecordSpec) int {
	switch {
	case s == nil || s.Type != resource.RecordAssignment:
		return 0
	case s.Op != "":
		return 1
	case !s.NotBefore.IsZero():
		return 2
	}
	return 0
}

// journaled notes the journal state of a record written (nil: dropped).
func (e *Engine) journaled(key string, s *resource.SyncRecordSpec) {
	st := journalState(s)
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.live
	if r.journal == nil {
		r.journal = map[string]int{}
	}
	switch r.journal[key] {
	case 1:
		r.journaledInFlight--
	case 2:
		r.waitingRetry--
	}
	switch st {
	case 0:
		delete(r.journal, key)
		return
	case 1:
		r.journaledInFlight++
	case 2:
		r.waitingRetry++
	}
	r.journal[key] = st
}

// rejournal counts the journal of records read afresh.
func (e *Engine) rejournal(records map[string]*resource.Object) {
	e.mu.Lock()
	e.live.journal, e.live.journaledInFlight, e.live.waitingRetry = nil, 0, 0
	e.mu.Unlock()
	for key, r := range records {
		if s := r.Spec.(*resource.SyncRecordSpec); journalState(s) != 0 {
			e.journaled(key, s)
		}
	}
}

// beginApply starts counting an apply of p.
func (e *Engine) beginApply(p *Plan) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.live.running = true
	e.live.planned, e.live.started, e.live.done, e.live.failed = p.Changes(), 0, 0, 0
}

func (e *Engine) endApply() {
	e.mu.Lock()
	e.live.running = false
	e.mu.Unlock()
}

// opStarted and opEnded count an operation of the apply that calls Identity Center.
func (e *Engine) opStarted(op Op) {
	if op.recordsOnly() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.live.started++
	if op.Kind != CreateAssignment && op.Kind != DeleteAssignment { // those are journaled
		e.live.directory++
	}
}

func (e *Engine) opEnded(op Op, err error) {
	if op.recordsOnly() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.live.failed++
	} else {
		e.live.done++
	}
	if op.Kind != CreateAssignment && op.Kind != DeleteAssignment {
		e.live.directory--
	}
}

// progress is the live progress; Pending counts the operations not done yet: the run's not yet
// sent, those in flight, and those waiting to be retried. e.mu is held.
func (e *Engine) progress() (p Progress, pending int, running bool) {
	r := &e.live
	p = Progress{Planned: r.planned, Done: r.done, Failed: r.failed, InFlight: r.journaledInFlight + r.directory}
	notSent := 0
	if r.running {
		notSent = r.planned - r.started
	}
	return p, notSent + p.InFlight + r.waitingRetry, r.running
}

// Health of the sync, as Status.Health says it.
const (
	HealthStarting = "starting" // no run has ended yet
	HealthOK       = "ok"       // the last run applied everything it planned
	HealthFailing  = "failing"  // the last run failed, or some of its operations did
	HealthBraked   = "braked"   // the last run's plan waits for an operator (the safety brake)
)

// runFailed records a run that failed as a whole, under a fresh error id that the log and /readyz
// show.
func (e *Engine) runFailed(start time.Time, err error) {
	id := errorID()
	e.log.Warn("sync: the run failed", "error_id", id, "err", err)
	e.setStatus(func(s *Status) {
		s.LastRun, s.Health = start, HealthFailing
		s.LastError, s.LastErrorAt, s.LastErrorID = err.Error(), e.now(), id
		s.Converged = false
	})
	e.observeRun("error", nil, nil)
}

// endRun records how a run that applied its plan ended: a success when nothing failed and nothing
// is left undone (unconverged); braked when the safety brake holds the rest of the plan (not an
// error); else failing, with the first failure or what is left as the last error. s is e.status,
// e.mu held.
func (e *Engine) endRun(s *Status, unconverged []string, braked bool) {
	s.Converged, s.Unconverged = len(unconverged) == 0 && !braked, unconverged
	switch {
	case len(s.Failed) == 0 && braked:
		s.Health = HealthBraked
		return
	case len(s.Failed) == 0 && len(unconverged) == 0:
		s.Health, s.LastSuccess = HealthOK, e.now()
		return
	}
	id := errorID()
	s.Health, s.LastErrorAt, s.LastErrorID = HealthFailing, e.now(), id
	if len(s.Failed) > 0 {
		s.LastError = fmt.Sprintf("%s failed; the first: %s", plural(len(s.Failed), "operation"), s.Failed[0])
	} else {
		s.LastError = fmt.Sprintf("not converged: %s", unconverged[0])
	}
	e.log.Warn("sync: the run left work undone", "error_id", id, "failed", len(s.Failed), "unconverged", len(unconverged), "first", s.LastError)
}

func errorID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// HealthLine says in one line, with no error text (for anyone's eyes: /readyz), how the sync is.
func (e *Engine) HealthLine() string {
	s := e.Status()
	at := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	switch s.Health {
	case HealthOK:
		return fmt.Sprintf("sync: ok (last success %s)", at(s.LastSuccess))
	case HealthFailing:
		return fmt.Sprintf("sync: failing (last error %s, id %s; last success %s)", at(s.LastErrorAt), s.LastErrorID, at(s.LastSuccess))
	case HealthBraked:
		return fmt.Sprintf("sync: waiting for an operator: the safety brake holds the plan (last run %s; last success %s)", at(s.LastRun), at(s.LastSuccess))
	}
	return "sync: starting (no run has ended yet)"
}
