package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// planMembers plans what a change of list membership needs: members to add to and remove from the
// groups of the given lists (and users to create for new members), from the cached observation.
// It looks at nothing else, so that one membership change plans in microseconds at any scale.
func planMembers(d *policy.Desired, o *Observed, lists []string, records map[string]*resource.Object, brake float64, owned int) *Plan {
	p := &Plan{OwnedMemberships: owned}
	byList := map[string]*policy.Group{}
	for _, g := range d.Groups {
		byList[g.List] = g
	}
	newUsers := map[string]bool{}
	for _, list := range lists {
		g := byList[list]
		if g == nil {
			continue
		}
		gid := o.GroupIDs[list]
		have := o.Members[gid]
		want := map[string]bool{}
		for _, u := range g.Members {
			want[u] = true
			uid := o.UserIDs[u]
			if uid == "" && records[userKey(u)] == nil && !newUsers[u] {
				if du := d.Users[u]; du != nil {
					newUsers[u] = true
					p.Ops = append(p.Ops, Op{Kind: CreateUser, User: u, Attributes: du})
				}
			}
			if gid == "" || uid == "" || have[uid] == "" {
				p.Ops = append(p.Ops, Op{Kind: AddMember, List: list, Title: g.DisplayName, User: u})
			}
		}
		for uid, mid := range have {
			if name := o.UserNames[uid]; name == "" || !want[name] {
				if name == "" {
					name = uid
				}
				p.Ops = append(p.Ops, Op{Kind: RemoveMember, List: list, Title: g.DisplayName, User: name, ID: mid, UserID: uid, Expired: d.Expired[list][name]})
			}
		}
	}
	sortOps(p.Ops)
	p.weigh(brake)
	return p
}

// memberOnly reports whether every event is a change of list membership.
func memberOnly(events []store.Event) bool {
	for _, ev := range events {
		if ev.Object.Kind != resource.KindAccessListMember {
			return false
		}
	}
	return len(events) > 0
}

// requestsDependOn reports whether a membership change may change what the requester of an active
// access request holds: whether the request keeps its basis is judged by a whole compile.
func (e *Engine) requestsDependOn(events []store.Event) bool {
	if e.compiler == nil {
		return false
	}
	for _, ev := range events {
		if m, ok := ev.Object.Spec.(*resource.AccessListMemberSpec); ok && e.compiler.RequestsDependOn(m) {
			return true
		}
	}
	return false
}

// syncMembers applies membership changes incrementally: the kept compile is updated with the changed
// member records, the groups whose members changed are observed afresh, and only their differences
// are applied. It falls back to a whole sync when it cannot.
func (e *Engine) syncMembers(ctx context.Context, events []store.Event) (*Result, error) {
	e.run.Lock()
	if next := e.compilerNext(); e.compiler == nil || e.cache == nil || e.records == nil || e.uninstalled() || e.recordsStale.Load() || !memberOnly(events) ||
		(!next.IsZero() && !e.now().Before(next)) || e.requestsDependOn(events) {
		// Something is due by time (an expiry, a start), or more than memberships changed, or what
		// an active request's requester holds may have changed (its basis): all of it.
		e.run.Unlock()
		return e.Sync(ctx, PlanOptions{}, false)
	}
	defer e.run.Unlock()
	var lists []string
	for _, ev := range events {
		m := ev.Object.Spec.(*resource.AccessListMemberSpec)
		if ev.Type == store.Delete {
			e.compiler.DeleteMember(ev.Object)
		} else {
			e.compiler.PutMember(ev.Object)
		}
		lists = append(lists, m.List)
	}
	e.compiler.SetNow(e.now())
	changed := e.compiler.Recompute(lists)
	e.log.Debug("sync: membership change", "lists", lists, "changed", changed)
	d := e.compiler.Desired()
	sc := newScope()
	for _, l := range changed {
		sc.lists[l] = true
	}
	if e.dirty != nil { // what the last apply touched is read again too
		for u := range e.dirty.users {
			sc.users[u] = true
		}
		for l := range e.dirty.lists {
			sc.lists[l] = true
		}
	}
	o, err := e.observeScope(ctx, e.cache, d, sc, e.records)
	if err != nil {
		e.cache = nil
		e.runFailed(e.now(), err)
		return nil, err
	}
	e.cache, e.last, e.dirty, e.wanted = o, d, nil, d
	owned := 0 // memberships of the groups warden manages, as last observed
	for _, m := range o.Members {
		owned += len(m)
	}
	p := planMembers(d, o, changed, e.records, e.cfg.SafetyBrake, owned)
	res := &Result{Plan: p}
	if p.Brake != "" {
		res.Unconverged = []string{fmt.Sprintf("%s held by the safety brake (%s): warden sync apply --force applies them", plural(p.Changes(), "operation"), p.Brake)}
		e.setStatus(func(s *Status) {
			s.LastRun, s.Brake, s.LastChanges, s.Applied, s.Failed = e.now(), p.Brake, p.Changes(), 0, nil
			e.endRun(s, res.Unconverged, true)
		})
		e.observeRun("brake", nil, nil)
		return res, fmt.Errorf("%s: %w", p.Brake, ErrBrake)
	}
	var failed []opError
	res.Applied, failed = e.apply(ctx, p, true)
	for _, f := range failed {
		res.Errors = append(res.Errors, fmt.Errorf("%s: %w", f.op, f.err))
	}
	e.markDirty(failedScope(failed))
	e.writeStatuses(ctx, failed, d.Problems)
	res.Unconverged = e.unconverged(failed, nil)
	next := earliest(e.compiler.Next(), e.nextRetry())
	e.setStatus(func(s *Status) {
		s.LastRun, s.LastChanges, s.Applied, s.NextChange = e.now(), p.Changes(), res.Applied, next
		s.Failed = errorStrings(res.Errors)
		// This path plans only the lists that changed: a plan the brake holds stays held.
		unconverged := res.Unconverged
		if s.Brake != "" {
			for _, u := range s.Unconverged {
				if strings.Contains(u, "held by the safety brake") {
					unconverged = append(unconverged, u)
				}
			}
		}
		e.endRun(s, unconverged, s.Brake != "")
	})
	e.observeRun("ok", p, failed)
	if res.Applied > 0 || len(failed) > 0 {
		e.log.Info("sync: applied a membership change", "operations", res.Applied, "failed", len(failed))
	}
	return res, nil
}

func (e *Engine) compilerNext() time.Time {
	if e.compiler == nil {
		return time.Time{}
	}
	return e.compiler.Next()
}
