package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// Observed is the part of Identity Center that warden manages, as last read.
type Observed struct {
	// UserIDs maps user names, GroupIDs access list names, to Identity Center ids, for the principals
	// looked at (desired or owned); an empty id means it does not exist in Identity Center.
	UserIDs  map[string]string
	GroupIDs map[string]string
	// Users holds attributes, for the users read in full (a full observation lists them all).
	Users map[string]idc.User
	// Members: group id -> user id -> membership id, for the groups that exist.
	Members map[string]map[string]string
	// Assignments: principal id -> the assignments it holds, for the principals observed.
	Assignments map[string]map[target]bool
	// UserNames maps user ids back to names (for members and assignments).
	UserNames map[string]string
}

type target struct {
	account string
	psARN   string
}

func newObserved() *Observed {
	return &Observed{UserIDs: map[string]string{}, GroupIDs: map[string]string{}, Users: map[string]idc.User{},
		Members: map[string]map[string]string{}, Assignments: map[string]map[target]bool{}, UserNames: map[string]string{}}
}

// lookupThreshold: resolving more unknown names than this lists the whole directory instead
// (ListUsers returns 100 a call; GetUserId resolves one).
const lookupThreshold = 50

// observe reads what warden manages, with the fewest calls:
//
//	users:       min(U_unknown, ceil(U_idc/100)) to resolve names warden has no id for (GetUserId each,
//	             or ListUsers); a full observation lists all users (ceil(U_idc/100)) to compare attributes
//	groups:      the same with GetGroupId / ListGroups
//	memberships: sum over managed groups g of max(1, ceil(members_g/100))   (ListGroupMemberships)
//	assignments: sum over managed principals p of max(1, ceil(assignments_p/100))
//	             (ListAccountAssignmentsForPrincipal)
//
// It never lists accounts × permission sets. Principals are "managed" when desired or owned.
func (e *Engine) observe(ctx context.Context, d *policy.Desired, records map[string]*resource.Object, full bool) (*Observed, error) {
	ctx = idc.WithLane(ctx, idc.Background)
	o := newObserved()
	// Names warden knows ids for come from its records; the rest are resolved.
	wantUsers := map[string]bool{}
	for name := range d.Users {
		wantUsers[name] = true
	}
	wantGroups := map[string]string{} // list -> title
	for title, g := range d.Groups {
		wantGroups[g.List] = title
	}
	for _, r := range records {
		s := r.Spec.(*resource.SyncRecordSpec)
		switch s.Type {
		case resource.RecordUser:
			wantUsers[s.Name] = true
		case resource.RecordGroup:
			list := strings.TrimPrefix(r.Metadata.Name, "group:")
			if _, desired := wantGroups[list]; !desired {
				wantGroups[list] = s.Name
			}
		case resource.RecordAssignment:
			if s.PrincipalType == policy.PrincipalUser {
				wantUsers[s.Name] = true
			}
		}
	}
	if err := e.resolveUsers(ctx, o, wantUsers, records, full); err != nil {
		return nil, fmt.Errorf("observing users: %w", err)
	}
	if err := e.resolveGroups(ctx, o, wantGroups, records, full); err != nil {
		return nil, fmt.Errorf("observing groups: %w", err)
	}
	for _, gid := range o.GroupIDs {
		if gid == "" {
			continue
		}
		m, err := e.idc.Memberships(ctx, gid)
		if idc.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("observing members of group %s: %w", gid, err)
		}
		o.Members[gid] = m
	}
	observe := func(ptype, id string) error {
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
	// Users: those with desired or owned assignments.
	users := map[string]bool{}
	for a := range d.Assignments {
		if a.PrincipalType == policy.PrincipalUser {
			users[a.Principal] = true
		}
	}
	for _, r := range records {
		if s := r.Spec.(*resource.SyncRecordSpec); s.Type == resource.RecordAssignment && s.PrincipalType == policy.PrincipalUser {
			users[s.Name] = true
		}
	}
	for name := range users {
		if id := o.UserIDs[name]; id != "" {
			if err := observe(policy.PrincipalUser, id); err != nil {
				return nil, err
			}
		}
	}
	for _, gid := range o.GroupIDs {
		if gid != "" {
			if err := observe(policy.PrincipalGroup, gid); err != nil {
				return nil, err
			}
		}
	}
	return o, nil
}

// resolveUsers finds the ids of the wanted user names: from warden's records, or by lookup. A full
// observation lists every user, which also catches a recorded user deleted behind warden's back.
func (e *Engine) resolveUsers(ctx context.Context, o *Observed, want map[string]bool, records map[string]*resource.Object, full bool) error {
	var unknown []string
	for name := range want {
		if r := records[userKey(name)]; r != nil && !full {
			id := r.Spec.(*resource.SyncRecordSpec).IDCID
			o.UserIDs[name], o.UserNames[id] = id, name
			continue
		}
		unknown = append(unknown, name)
	}
	if len(unknown) == 0 {
		return nil
	}
	if full || len(unknown) > lookupThreshold {
		all, err := e.idc.Users(ctx)
		if err != nil {
			return err
		}
		byName := map[string]idc.User{}
		for _, u := range all {
			byName[u.UserName] = u
		}
		for _, name := range unknown {
			u, ok := byName[name]
			o.UserIDs[name] = u.ID
			if ok {
				o.Users[name] = u
				o.UserNames[u.ID] = name
			}
		}
		return nil
	}
	for _, name := range unknown {
		id, err := e.idc.UserID(ctx, name)
		if err != nil {
			return err
		}
		o.UserIDs[name] = id
		if id != "" {
			o.UserNames[id] = name
		}
	}
	return nil
}

// resolveGroups finds the group ids of the wanted lists (list -> title): from warden's records, or by
// looking the title up. A full observation lists every group.
func (e *Engine) resolveGroups(ctx context.Context, o *Observed, want map[string]string, records map[string]*resource.Object, full bool) error {
	var unknown []string
	for list, title := range want {
		if r := records[groupKey(list)]; r != nil && !full {
			o.GroupIDs[list] = r.Spec.(*resource.SyncRecordSpec).IDCID
			continue
		}
		if title == "" { // neither desired nor on record: nothing to look for
			o.GroupIDs[list] = ""
			continue
		}
		unknown = append(unknown, list)
	}
	if len(unknown) == 0 {
		return nil
	}
	if full || len(unknown) > lookupThreshold {
		all, err := e.idc.Groups(ctx)
		if err != nil {
			return err
		}
		byName, byID := map[string]string{}, map[string]bool{}
		for _, g := range all {
			byName[g.DisplayName], byID[g.ID] = g.ID, true
		}
		for _, list := range unknown {
			if r := records[groupKey(list)]; r != nil && byID[r.Spec.(*resource.SyncRecordSpec).IDCID] {
				o.GroupIDs[list] = r.Spec.(*resource.SyncRecordSpec).IDCID
				continue
			}
			o.GroupIDs[list] = byName[want[list]]
		}
		return nil
	}
	for _, list := range unknown {
		id, err := e.idc.GroupID(ctx, want[list])
		if err != nil {
			return err
		}
		o.GroupIDs[list] = id
	}
	return nil
}

func userKey(name string) string  { return "user:" + name }
func groupKey(list string) string { return "group:" + list }
func assignmentKey(a policy.Assignment) string {
	return "assignment:" + a.PrincipalType + ":" + a.Principal + ":" + a.AccountID + ":" + a.PermissionSetARN
}

func toIDCUser(id string, u *policy.User) idc.User {
	return idc.User{ID: id, UserName: u.UserName, DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email}
}
