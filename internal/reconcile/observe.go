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
	// Accounts, when set, are the only accounts whose assignments were read (observing by pair
	// reads only the managed accounts); nil means every account.
	Accounts map[string]bool
	// MemberOf: user id -> the ids of every group it is in (read for a user about to be deleted).
	MemberOf map[string][]string
}

type target struct {
	account string
	psARN   string
}

func newObserved() *Observed {
	return &Observed{UserIDs: map[string]string{}, GroupIDs: map[string]string{}, Users: map[string]idc.User{},
		Members: map[string]map[string]string{}, Assignments: map[string]map[target]bool{}, UserNames: map[string]string{},
		MemberOf: map[string][]string{}}
}

// lookupThreshold: resolving more unknown names than this lists the whole directory instead
// (ListUsers returns 100 a call; GetUserId resolves one).
const lookupThreshold = 50

// observe reads what warden manages, with the fewest calls (a full sync also reads the catalog:
// ceil(accounts/20) ListAccounts + ceil(permission sets/100) ListPermissionSets + one
// DescribePermissionSet per permission set not seen before):
//
//	users:       min(U_unknown, ceil(U_idc/100)) to resolve names warden has no id for (GetUserId each,
//	             or ListUsers); a full observation lists all users (ceil(U_idc/100)) to compare attributes
//	groups:      the same with GetGroupId / ListGroups
//	memberships: sum over managed groups g of max(1, ceil(members_g/100))   (ListGroupMemberships)
//	assignments: the cheaper of
//	             by principal: sum over managed principals p of max(1, ceil(assignments_p/100))
//	                           (ListAccountAssignmentsForPrincipal)
//	             by pair:      sum over managed accounts a of ceil(provisioned_a/100)
//	                           (ListPermissionSetsProvisionedToAccount) + sum over provisioned pairs
//	                           (a, ps) of max(1, ceil(assignments_(a,ps)/100)) (ListAccountAssignments)
//	             estimating the pairs by those in use. Many users with few assignments each favour
//	             pairs; few principals over many accounts favour principals.
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
	released := map[string]bool{} // lists of groups warden released: their ids only are looked at
	for _, r := range records {
		s := r.Spec.(*resource.SyncRecordSpec)
		switch s.Type {
		case resource.RecordUser:
			wantUsers[s.Name] = true
		case resource.RecordGroup:
			list := strings.TrimPrefix(r.Metadata.Name, "group:")
			if _, desired := wantGroups[list]; !desired {
				wantGroups[list] = s.Name
				released[list] = s.Released
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
	for list, gid := range o.GroupIDs {
		if gid == "" || released[list] {
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
	// Which principals' assignments to read: groups warden manages, and users with desired or owned
	// assignments.
	principals := map[string]string{} // id -> USER or GROUP
	perPrincipal := map[string]int{}  // id -> expected assignments, for the cost estimate
	for name := range usersWithAssignments(d, records) {
		if id := o.UserIDs[name]; id != "" {
			principals[id] = policy.PrincipalUser
		}
	}
	for list, gid := range o.GroupIDs {
		if gid != "" && !released[list] {
			principals[gid] = policy.PrincipalGroup
		}
	}
	pairs := map[target]bool{}
	for a := range d.Assignments {
		pairs[target{a.AccountID, a.PermissionSetARN}] = true
		var id string
		if a.PrincipalType == policy.PrincipalUser {
			id = o.UserIDs[a.Principal]
		} else if g := d.Groups[a.Principal]; g != nil {
			id = o.GroupIDs[g.List]
		}
		perPrincipal[id]++
	}
	byPrincipal := 0
	for id := range principals {
		byPrincipal += max(1, (perPrincipal[id]+99)/100)
	}
	// Reading by (account, permission set) costs a ListPermissionSetsProvisionedToAccount per account
	// and a ListAccountAssignments per provisioned pair; the pairs that matter are at least those in
	// use, so their count estimates it.
	// Only the managed accounts' assignments count: what is on other accounts is left alone.
	o.Accounts = map[string]bool{}
	for _, a := range e.catalogAccounts() {
		o.Accounts[a.ID] = true
	}
	byPair := len(e.catalogAccounts()) + len(pairs)
	if e.catalog != nil && byPair < byPrincipal {
		if err := e.observeByPair(ctx, o, principals); err != nil {
			return nil, err
		}
		return o, nil
	}
	for id, ptype := range principals {
		if err := e.observeAssignments(ctx, o, ptype, id); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// usersWithAssignments names the users holding desired or owned assignments.
func usersWithAssignments(d *policy.Desired, records map[string]*resource.Object) map[string]bool {
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
	return users
}

func (e *Engine) catalogAccounts() []idc.Account {
	if e.catalog == nil {
		return nil
	}
	return e.catalog.accounts
}

// observeByPair reads every provisioned (account, permission set) pair of the managed accounts and
// keeps the assignments of the given principals.
func (e *Engine) observeByPair(ctx context.Context, o *Observed, principals map[string]string) error {
	for id := range principals {
		o.Assignments[id] = map[target]bool{}
	}
	o.Accounts = map[string]bool{}
	for _, acct := range e.catalog.accounts {
		o.Accounts[acct.ID] = true
	}
	for _, acct := range e.catalog.accounts {
		sets, err := e.idc.ProvisionedPermissionSets(ctx, acct.ID)
		if err != nil {
			return fmt.Errorf("observing permission sets provisioned to %s: %w", acct.ID, err)
		}
		for _, ps := range sets {
			as, err := e.idc.AccountAssignments(ctx, acct.ID, ps)
			if err != nil {
				return fmt.Errorf("observing assignments of %s on %s: %w", ps, acct.ID, err)
			}
			for _, a := range as {
				if _, managed := principals[a.PrincipalID]; managed {
					o.Assignments[a.PrincipalID][target{a.AccountID, a.PermissionSetARN}] = true
				}
			}
		}
	}
	return nil
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
