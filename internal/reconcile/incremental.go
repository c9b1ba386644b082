package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// scope is the set of principals one incremental observation reads: user names and access lists.
type scope struct {
	users map[string]bool
	lists map[string]bool
}

func newScope() *scope { return &scope{users: map[string]bool{}, lists: map[string]bool{}} }

func (s *scope) empty() bool { return len(s.users) == 0 && len(s.lists) == 0 }

// touched finds the principals whose desired state differs between two compiles: those are the
// only ones an incremental sync needs to observe again.
func touched(prev, next *policy.Desired) *scope {
	sc := newScope()
	for name, u := range next.Users {
		if p, ok := prev.Users[name]; !ok || *p != *u {
			sc.users[name] = true
		}
	}
	for name := range prev.Users {
		if _, ok := next.Users[name]; !ok {
			sc.users[name] = true
		}
	}
	byList := func(d *policy.Desired) map[string]*policy.Group {
		out := make(map[string]*policy.Group, len(d.Groups))
		for _, g := range d.Groups {
			out[g.List] = g
		}
		return out
	}
	pl, nl := byList(prev), byList(next)
	for list, g := range nl {
		if p, ok := pl[list]; !ok || p.DisplayName != g.DisplayName || !slices.Equal(p.Members, g.Members) {
			sc.lists[list] = true
		}
	}
	for list := range pl {
		if _, ok := nl[list]; !ok {
			sc.lists[list] = true
		}
	}
	mark := func(d *policy.Desired, a policy.Assignment) {
		if a.PrincipalType == policy.PrincipalUser {
			sc.users[a.Principal] = true
		} else if g := d.Groups[a.Principal]; g != nil {
			sc.lists[g.List] = true
		}
	}
	// A new assignment is observed first: if it exists already (made by hand), warden adopts it rather
	// than taking it for its own. An assignment that goes, or whose end moves, needs no look: warden
	// deletes only what its records say it owns, and deleting one that is gone is harmless. So an
	// expiry costs one call, not three.
	for a := range next.Assignments {
		if _, ok := prev.Assignments[a]; !ok {
			mark(next, a)
		}
	}
	return sc
}

// clone copies an observation deeply enough that observing a scope into it leaves the original be.
func (o *Observed) clone() *Observed {
	c := &Observed{UserIDs: maps.Clone(o.UserIDs), GroupIDs: maps.Clone(o.GroupIDs), Users: maps.Clone(o.Users),
		Members: make(map[string]map[string]string, len(o.Members)), Assignments: make(map[string]map[target]bool, len(o.Assignments)),
		UserNames: maps.Clone(o.UserNames), Accounts: maps.Clone(o.Accounts), MemberOf: maps.Clone(o.MemberOf)}
	if c.MemberOf == nil {
		c.MemberOf = map[string][]string{}
	}
	for k, v := range o.Members {
		c.Members[k] = maps.Clone(v)
	}
	for k, v := range o.Assignments {
		c.Assignments[k] = maps.Clone(v)
	}
	return c
}

// observeScope refreshes, in a copy of base, only the principals in sc.
func (e *Engine) observeScope(ctx context.Context, base *Observed, d *policy.Desired, sc *scope, records map[string]*resource.Object) (*Observed, error) {
	ctx = idc.WithLane(ctx, idc.Background)
	o := base.clone()
	if sc.empty() {
		return o, nil
	}
	users := map[string]bool{}
	for name := range sc.users {
		if id := o.UserIDs[name]; id != "" {
			delete(o.MemberOf, id)
		}
		delete(o.UserIDs, name)
		users[name] = true
	}
	if err := e.resolveUsers(ctx, o, users, records, false); err != nil {
		return nil, fmt.Errorf("observing users: %w", err)
	}
	lists := map[string]string{}
	titles := map[string]string{}
	for _, g := range d.Groups {
		titles[g.List] = g.DisplayName
	}
	for list := range sc.lists {
		title := titles[list]
		if title == "" {
			if r := records[groupKey(list)]; r != nil {
				title = r.Spec.(*resource.SyncRecordSpec).Name
			}
		}
		if old := o.GroupIDs[list]; old != "" {
			delete(o.Members, old)
			delete(o.Assignments, old)
		}
		delete(o.GroupIDs, list)
		lists[list] = title
	}
	if err := e.resolveGroups(ctx, o, lists, records, false); err != nil {
		return nil, fmt.Errorf("observing groups: %w", err)
	}
	// Members are named by warden's records of the users it knows, so that a member created since
	// the cached observation is not taken for a stranger.
	for _, r := range records {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordUser && o.UserNames[s.IDCID] == "" {
			o.UserNames[s.IDCID] = s.Name
			if o.UserIDs[s.Name] == "" {
				o.UserIDs[s.Name] = s.IDCID
			}
		}
	}
	for list := range sc.lists {
		e.revokeIfWanted(ctx) // the sync holds the engine: a revocation due meanwhile is made here
		gid := o.GroupIDs[list]
		if r := records[groupKey(list)]; gid == "" || (titles[list] == "" && r != nil && r.Spec.(*resource.SyncRecordSpec).Released) {
			continue // gone, or released: not warden's to look at
		}
		m, err := e.idc.Memberships(ctx, gid)
		if idc.IsNotFound(err) { // deleted behind warden's back: it does not exist
			o.GroupIDs[list] = ""
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("observing members of group %s: %w", gid, err)
		}
		o.Members[gid] = m
		if err := e.observeAssignments(ctx, o, policy.PrincipalGroup, gid); err != nil {
			return nil, err
		}
	}
	for name := range sc.users {
		e.revokeIfWanted(ctx)
		id := o.UserIDs[name]
		if id == "" {
			continue
		}
		if _, desired := d.Users[name]; desired {
			u, err := e.idc.DescribeUser(ctx, id)
			if idc.IsNotFound(err) {
				o.UserIDs[name] = "" // deleted behind warden's back
				delete(o.Users, name)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("observing user %s: %w", name, err)
			}
			o.Users[name] = u
		}
		if err := e.observeAssignments(ctx, o, policy.PrincipalUser, id); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (e *Engine) observeAssignments(ctx context.Context, o *Observed, ptype, id string) error {
	as, err := e.idc.AssignmentsForPrincipal(ctx, ptype, id)
	if err != nil {
		return fmt.Errorf("observing assignments of %s %s: %w", ptype, id, err)
	}
	set := map[target]bool{}
	for _, a := range as {
		set[target{a.AccountID, a.PermissionSetARN}] = true
	}
	o.Assignments[id] = set
	return nil
}

// markDirty adds principals whose state in Identity Center is in doubt, for the next incremental
// sync to observe again. The caller holds the engine.
func (e *Engine) markDirty(sc *scope) {
	if sc == nil || sc.empty() {
		return
	}
	if e.dirty == nil {
		e.dirty = newScope()
	}
	for u := range sc.users {
		e.dirty.users[u] = true
	}
	for l := range sc.lists {
		e.dirty.lists[l] = true
	}
}

// opScope is the set of principals a plan's operations touch, to observe again after applying it.
func opScope(p *Plan) *scope {
	sc := newScope()
	for _, op := range p.Ops {
		switch op.Kind {
		case CreateUser, UpdateUser, AdoptUser, DeleteUser:
			sc.users[op.User] = true
		case CreateGroup, RenameGroup, AdoptGroup, AddMember, RemoveMember, DeleteGroup, ReleaseGroup:
			sc.lists[op.List] = true
		case CreateAssignment, DeleteAssignment:
			if op.RecordOnly {
				continue
			}
			if op.Assignment.PrincipalType == policy.PrincipalUser {
				sc.users[op.Assignment.Principal] = true
			} else {
				sc.lists[op.List] = true
			}
		}
	}
	return sc
}

// failedScope is the set of principals whose operations failed: their state is unknown, so the
// next incremental sync reads them again.
func failedScope(failed []opError) *scope {
	p := &Plan{}
	for _, f := range failed {
		p.Ops = append(p.Ops, f.op)
	}
	return opScope(p)
}
