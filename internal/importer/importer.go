// Package importer turns an existing Identity Center into warden's resources: users, one access
// list per group (its members, the default owners), and roles named
// "<permission-set>-on-<account-name>" granting exactly that account × permission set, granted to the
// lists by their groups' assignments. User-level assignments become the user's standing roles, so
// nothing is dropped. It records what it takes over as warden's, so that the first sync plan
// after an import has nothing to change; importing again picks up what changed and duplicates nothing.
//
// Importing again adds only what warden does not explain. An assignment in Identity Center is
// explained when warden's desired state at the time of the import (policy.Compile of the store:
// standing roles, access list grants, approved access requests in their window) holds it, or when a
// sync record of warden's names it (an assignment warden created or adopted, one being created, or
// one being deleted, such as a request's that just ended). An explained assignment is warden's
// already: the store says what warden wants of it and the sync carries that out, so the import
// never turns it into a standing role, a grant or a new role. Likewise a group member already in
// the group's desired members (through a nested list, say) is not made a direct member. A group is
// the access list warden has for it (the list its group record names, else the list of the same
// title, ignoring case, else the list an import named after it) or becomes a new one. Prepare computes what an import adds, once: Preview
// shows exactly that, and Import writes exactly that. Reading Identity Center takes a while (minutes
// in a large organisation), so warden's records are read before it as well as after: an assignment
// the sync deleted meanwhile with its record (a request that ended during the read) is still
// warden's.
//
// Role names: the permission set's name, "-on-", and the account's name made a slug (lower case;
// every run of characters other than letters, digits, '.', '_', '@' and '+' becomes one '-'; no '-'
// at either end). An account whose slug another account also has is named by its 12-digit id
// instead. List names are the group's display name made a slug the same way (a clash, with another
// new list or with a list warden has, gets "-2", "-3").
package importer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Source is what an import reads from Identity Center.
type Source struct {
	Accounts       []idc.Account
	PermissionSets []idc.PermissionSet
	Users          []idc.User
	Groups         []idc.Group
	// Members: group id -> user ids; Assignments: principal id -> its assignments.
	Members     map[string][]string
	Assignments map[string][]idc.Assignment
	// OutOfScope names the accounts and groups the filters leave out.
	OutOfScope []string
}

// readers is how many reads an import has in flight.
const readers = 4

// Scope is the part of Identity Center warden manages: the identity_center section's account
// filter (on id or name) and group filter (on display name), the same the sync uses.
type Scope struct {
	Accounts, Groups idc.Filter
}

// Read reads the source with the fewest calls: catalog, users, groups, each group's members and
// assignments, and the users' assignments by provisioned (account, permission set) pair. Accounts
// and groups outside scope are left out, and not read further.
func Read(ctx context.Context, c *idc.Client, scope Scope) (*Source, error) {
	keepAccount, err := scope.Accounts.Compile()
	if err != nil {
		return nil, fmt.Errorf("identity_center.accounts: %w", err)
	}
	keepGroup, err := scope.Groups.Compile()
	if err != nil {
		return nil, fmt.Errorf("identity_center.groups: %w", err)
	}
	ctx = idc.WithLane(ctx, idc.Background)
	s := &Source{Members: map[string][]string{}, Assignments: map[string][]idc.Assignment{}}
	accounts, err := c.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	for _, a := range accounts {
		if keepAccount(a.ID, a.Name) {
			s.Accounts = append(s.Accounts, a)
		} else {
			s.OutOfScope = append(s.OutOfScope, fmt.Sprintf("account %s (%s)", a.Name, a.ID))
		}
	}
	if s.PermissionSets, err = c.PermissionSets(ctx); err != nil {
		return nil, fmt.Errorf("reading permission sets: %w", err)
	}
	if s.Users, err = c.Users(ctx); err != nil {
		return nil, fmt.Errorf("reading users: %w", err)
	}
	groups, err := c.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading groups: %w", err)
	}
	inScope := map[string]bool{}
	for _, g := range groups {
		if keepGroup(g.DisplayName) {
			s.Groups = append(s.Groups, g)
			inScope[g.ID] = true
		} else {
			s.OutOfScope = append(s.OutOfScope, fmt.Sprintf("group %s", g.DisplayName))
		}
	}
	// The reads per group and per account are independent: a few at a time keep the rate limiter,
	// not the round trip, the bound.
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for _, grp := range s.Groups {
		g.Go(func() error {
			m, err := c.Memberships(gctx, grp.ID)
			if err != nil {
				return fmt.Errorf("reading members of %s: %w", grp.DisplayName, err)
			}
			ids := make([]string, 0, len(m))
			for uid := range m {
				ids = append(ids, uid)
			}
			sort.Strings(ids)
			mu.Lock()
			s.Members[grp.ID] = ids
			mu.Unlock()
			return nil
		})
	}
	for _, a := range s.Accounts {
		g.Go(func() error {
			sets, err := c.ProvisionedPermissionSets(gctx, a.ID)
			if err != nil {
				return fmt.Errorf("reading permission sets of %s: %w", a.ID, err)
			}
			for _, ps := range sets {
				as, err := c.AccountAssignments(gctx, a.ID, ps)
				if err != nil {
					return fmt.Errorf("reading assignments of %s on %s: %w", ps, a.ID, err)
				}
				mu.Lock()
				for _, x := range as {
					if x.PrincipalType == "GROUP" && !inScope[x.PrincipalID] {
						continue
					}
					s.Assignments[x.PrincipalID] = append(s.Assignments[x.PrincipalID], x)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, as := range s.Assignments { // the same source reads the same, whatever the order of replies
		sort.Slice(as, func(i, j int) bool {
			if as[i].AccountID != as[j].AccountID {
				return as[i].AccountID < as[j].AccountID
			}
			return as[i].PermissionSetARN < as[j].PermissionSetARN
		})
	}
	return s, nil
}

var slugRun = regexp.MustCompile(`[^a-z0-9._@+]+`)

// Slug is the name rule of imported roles and lists.
func Slug(s string) string {
	return strings.Trim(slugRun.ReplaceAllString(strings.ToLower(s), "-"), "-.")
}

// PreviewOwner stands for the default owners in the access lists a preview shows.
const PreviewOwner = "(default owner)"

// Option is an optional setting of Preview and Import.
type Option func(*options)

type options struct {
	now   func() time.Time
	actor manage.Actor
}

// WithClock sets the clock that says which access requests are in their window (default: time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// As records the import in the audit log as done by actor (the administrator who ran it, with the
// token they used). Without it, the import is recorded as the bootstrap administrator's (warden
// demo's own import).
func As(actor manage.Actor) Option { return func(o *options) { o.actor = actor } }

func settings(opts []Option) options {
	o := options{now: time.Now, actor: manage.Actor{User: resource.BootstrapAdmin, Admin: true}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Plan is what an import would write to warden, computed once by Prepare: Preview shows it and
// Import writes exactly it.
type Plan struct {
	Source *Source
	// Create holds the objects new to warden, in the order their references need (accounts,
	// permission sets, roles, users, access lists, members); Update holds existing access lists and
	// users with what the import adds to them (grants, standing roles).
	Create, Update []*resource.Object
	// Changes says what the import adds, one line per object or addition, in the order of Create
	// then Update. Empty: the import adds nothing.
	Changes []string
	// Records are the sync records the import writes (those warden lacks): what it takes over in
	// Identity Center as warden's.
	Records map[string]*resource.SyncRecordSpec
	// Groups says which access list each group in scope is, or becomes.
	Groups []GroupPlan
	// Existing counts the accounts, permission sets, users, access lists and members warden holds
	// already.
	Existing int
	// Explained counts the assignments warden explains already (see the package documentation):
	// the import leaves them to the sync.
	Explained int
	Skipped   []string // what could not be imported, and why
}

// GroupPlan is one group and its access list.
type GroupPlan struct {
	ID, DisplayName string
	Members         int
	// List is the access list the group is (New false) or becomes (New true).
	List string
	New  bool
	// Roles are the roles its assignments stand for, as the import names them (whether or not the
	// import adds them: see Changes).
	Roles []string
}

// wardenState is what Prepare reads of the store.
type wardenState struct {
	objects  map[resource.Kind]map[string]*resource.Object
	snapshot policy.Snapshot
	records  map[string]*resource.SyncRecordSpec
}

func readWarden(ctx context.Context, st store.Store) (*wardenState, error) {
	w := &wardenState{objects: map[resource.Kind]map[string]*resource.Object{}}
	for _, k := range []resource.Kind{resource.KindAccount, resource.KindPermissionSet, resource.KindRole, resource.KindUser,
		resource.KindAccessList, resource.KindAccessListMember} {
		objs, err := st.List(ctx, k, store.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", k, err)
		}
		w.objects[k] = make(map[string]*resource.Object, len(objs))
		for _, o := range objs {
			w.objects[k][o.Metadata.Name] = o
		}
		switch k {
		case resource.KindRole:
			w.snapshot.Roles = objs
		case resource.KindUser:
			w.snapshot.Users = objs
		case resource.KindAccessList:
			w.snapshot.AccessLists = objs
		case resource.KindAccessListMember:
			w.snapshot.Members = objs
		}
	}
	var err error
	if w.records, err = Records(ctx, st); err != nil {
		return nil, err
	}
	reqs, err := st.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexState, resource.StateApproved)})
	if err != nil {
		return nil, fmt.Errorf("reading access requests: %w", err)
	}
	w.snapshot.Requests = reqs
	return w, nil
}

func assignmentKey(ptype, principal string, x idc.Assignment) string {
	return "assignment:" + ptype + ":" + principal + ":" + x.AccountID + ":" + x.PermissionSetARN
}

// Records reads warden's sync records.
func Records(ctx context.Context, st store.Store) (map[string]*resource.SyncRecordSpec, error) {
	objs, err := st.List(ctx, resource.KindSyncRecord, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", resource.KindSyncRecord, err)
	}
	out := make(map[string]*resource.SyncRecordSpec, len(objs))
	for _, o := range objs {
		out[o.Metadata.Name] = o.Spec.(*resource.SyncRecordSpec)
	}
	return out, nil
}

// Prepare computes what importing src adds to warden's store st at now. It reads the store, and
// makes no call to AWS. owners are the owners of the access lists it creates. earlier are warden's
// sync records as they were before src was read (Records): an assignment src saw, which the sync
// deleted while src was being read (a request ended), is warden's by them though its record is gone.
func Prepare(ctx context.Context, st store.Store, src *Source, owners []string, now time.Time, earlier map[string]*resource.SyncRecordSpec) (*Plan, error) {
	w, err := readWarden(ctx, st)
	if err != nil {
		return nil, err
	}
	known := maps.Clone(w.records) // warden's records now, and those src may have been read under
	for key, r := range earlier {
		if known[key] == nil {
			known[key] = r
		}
	}
	// What warden wants of Identity Center now: the sync's desired state over the catalog in scope.
	for _, a := range src.Accounts {
		w.snapshot.Accounts = append(w.snapshot.Accounts, policy.Account{ID: a.ID, Name: a.Name})
	}
	for _, ps := range src.PermissionSets {
		w.snapshot.PermissionSets = append(w.snapshot.PermissionSets, policy.PermissionSet{Name: ps.Name, ARN: ps.ARN})
	}
	desired, _ := policy.Compile(&w.snapshot, now)
	recorded := map[string]bool{} // principal id, account, permission set of each assignment on record
	for _, r := range known {
		if r.Type == resource.RecordAssignment && r.IDCID != "" {
			recorded[r.IDCID+"\x00"+r.AccountID+"\x00"+r.PermissionSetARN] = true
		}
	}
	// explained: warden wants the assignment (under one of the principal's names), or has it on record.
	explained := func(ptype, id string, names []string, x idc.Assignment) bool {
		if recorded[id+"\x00"+x.AccountID+"\x00"+x.PermissionSetARN] {
			return true
		}
		for _, n := range names {
			if _, ok := desired.Assignments[policy.Assignment{PrincipalType: ptype, Principal: n, AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN}]; ok {
				return true
			}
			if known[assignmentKey(ptype, n, x)] != nil {
				return true
			}
		}
		return false
	}

	p := &Plan{Source: src, Changes: []string{}, Records: map[string]*resource.SyncRecordSpec{}}
	record := func(key string, spec *resource.SyncRecordSpec) {
		if w.records[key] == nil {
			p.Records[key] = spec
		}
	}
	has := func(k resource.Kind, name string) *resource.Object { return w.objects[k][name] }

	// The catalog, as warden caches it.
	for _, a := range src.Accounts {
		if has(resource.KindAccount, a.ID) != nil {
			p.Existing++
			continue
		}
		o := resource.New(resource.KindAccount, a.ID)
		o.Spec = &resource.AccountSpec{Name: a.Name, Status: "ACTIVE"}
		if resource.Validate(o) == nil {
			p.Create = append(p.Create, o)
			p.Changes = append(p.Changes, fmt.Sprintf("account %s (%s)", a.ID, a.Name))
		}
	}
	for _, ps := range src.PermissionSets {
		if has(resource.KindPermissionSet, ps.Name) != nil {
			p.Existing++
			continue
		}
		o := resource.New(resource.KindPermissionSet, ps.Name)
		o.Spec = &resource.PermissionSetSpec{ARN: ps.ARN}
		if resource.Validate(o) == nil {
			p.Create = append(p.Create, o)
			p.Changes = append(p.Changes, "permission set "+ps.Name)
		}
	}

	// Roles: "<permission-set>-on-<account>", created when an addition needs one warden lacks.
	psName := map[string]string{}
	for _, ps := range src.PermissionSets {
		psName[ps.ARN] = ps.Name
	}
	slugCount := map[string]int{}
	for _, a := range src.Accounts {
		slugCount[Slug(a.Name)]++
	}
	accountPart := map[string]string{}
	for _, a := range src.Accounts {
		part := Slug(a.Name)
		if part == "" || slugCount[part] > 1 {
			part = a.ID
		}
		accountPart[a.ID] = part
	}
	roleName := func(x idc.Assignment) string {
		ps, part := psName[x.PermissionSetARN], accountPart[x.AccountID]
		if ps == "" || part == "" {
			return ""
		}
		return ps + "-on-" + part
	}
	roles := map[string]*resource.Object{}
	needRole := func(name string, x idc.Assignment) {
		if has(resource.KindRole, name) != nil || roles[name] != nil {
			return
		}
		ps := psName[x.PermissionSetARN]
		o := resource.New(resource.KindRole, name)
		o.Metadata.Description = fmt.Sprintf("%s on account %s (imported from Identity Center)", ps, x.AccountID)
		o.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{AccountAssignments: []resource.AccountAssignment{{Account: x.AccountID, PermissionSet: ps}}}}
		roles[name] = o
	}

	// Users, and their assignments warden does not explain as standing roles.
	var newUsers, grownUsers []*resource.Object
	var userChanges, roleChanges []string
	userNames := map[string]string{} // id -> name
	users := slices.Clone(src.Users)
	sort.SliceStable(users, func(i, j int) bool { return users[i].UserName < users[j].UserName })
	for _, u := range users {
		cur := has(resource.KindUser, u.UserName)
		var o *resource.Object
		if cur == nil {
			o = resource.New(resource.KindUser, u.UserName)
			o.Spec = &resource.UserSpec{DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email, Origin: "identity_center"}
			if err := resource.Validate(o); err != nil {
				p.Skipped = append(p.Skipped, fmt.Sprintf("user %q: %v", u.UserName, err))
				continue
			}
		}
		var add []string
		for _, x := range src.Assignments[u.ID] {
			role := roleName(x)
			if role == "" {
				continue
			}
			spec := &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: u.ID, Name: u.UserName,
				PrincipalType: policy.PrincipalUser, AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN, Adopted: true}
			if explained(policy.PrincipalUser, u.ID, []string{u.UserName}, x) {
				p.Explained++
				// Wanted, and there before warden (no record of it): on record as adopted, as an
				// import records what it finds, so that an uninstall keeps it; until the grant's end
				// when only requests want it (as the sync records it), so that their end keeps it too.
				if g, ok := desired.Assignments[policy.Assignment{PrincipalType: policy.PrincipalUser, Principal: u.UserName, AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN}]; ok && !recorded[u.ID+"\x00"+x.AccountID+"\x00"+x.PermissionSetARN] {
					spec.Until = g.Until
					record(assignmentKey(policy.PrincipalUser, u.UserName, x), spec)
				}
				continue
			}
			add = append(add, role)
			needRole(role, x)
			record(assignmentKey(policy.PrincipalUser, u.UserName, x), spec)
		}
		slices.Sort(add)
		add = slices.Compact(add)
		if cur == nil {
			o.Spec.(*resource.UserSpec).Roles = add
			newUsers = append(newUsers, o)
			line := "user " + u.UserName
			if len(add) > 0 {
				line += " with standing roles " + strings.Join(add, ", ")
			}
			userChanges = append(userChanges, line)
		} else {
			p.Existing++
			spec := cur.Spec.(*resource.UserSpec)
			if missing := without(add, spec.Roles); len(missing) > 0 {
				next := *spec
				next.Roles = append(slices.Clone(spec.Roles), missing...)
				grown := *cur
				grown.Spec = &next
				grownUsers = append(grownUsers, &grown)
				for _, r := range missing {
					roleChanges = append(roleChanges, fmt.Sprintf("standing role %s for user %s", r, u.UserName))
				}
			}
		}
		userNames[u.ID] = u.UserName
		record("user:"+u.UserName, &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: u.ID, Name: u.UserName, Adopted: true})
	}

	// Groups: each is the access list warden has for it (its group on record, the list of the same
	// title, or the list an import named after it), or becomes a new one named by its display name.
	listOf := map[string]string{} // group id -> list, from warden's records
	for key, r := range w.records {
		if list, ok := strings.CutPrefix(key, "group:"); ok && r.Type == resource.RecordGroup && has(resource.KindAccessList, list) != nil {
			listOf[r.IDCID] = list
		}
	}
	byTitle := map[string]string{} // lower-cased title -> list (the first by name, as the sync has it)
	for _, name := range slices.Sorted(maps.Keys(w.objects[resource.KindAccessList])) {
		t := strings.ToLower(w.objects[resource.KindAccessList][name].Spec.(*resource.AccessListSpec).Title)
		if _, ok := byTitle[t]; !ok {
			byTitle[t] = name
		}
	}
	desiredGroup := map[string]*policy.Group{} // list -> its desired group
	for _, g := range desired.Groups {
		desiredGroup[g.List] = g
	}
	claimed := map[string]bool{}
	var newLists, grownLists, members []*resource.Object
	var listChanges, grantChanges, memberChanges []string
	for _, g := range src.Groups {
		base := Slug(g.DisplayName)
		if base == "" {
			base = "group"
		}
		list := listOf[g.ID]
		if list == "" || claimed[list] {
			list = byTitle[strings.ToLower(g.DisplayName)]
		}
		if list == "" || claimed[list] {
			// The list an import made of this group, whose title was changed in warden since.
			if l := has(resource.KindAccessList, base); l != nil && l.Spec.(*resource.AccessListSpec).Origin == "identity_center" {
				list = base
			}
		}
		isNew := list == "" || claimed[list]
		if isNew {
			list = base
			for i := 2; claimed[list] || has(resource.KindAccessList, list) != nil; i++ {
				list = fmt.Sprintf("%s-%d", base, i)
			}
		}
		claimed[list] = true
		dg := desiredGroup[list]
		names := []string{g.DisplayName}
		if dg != nil && dg.DisplayName != g.DisplayName {
			names = append(names, dg.DisplayName)
		}
		var all, add []string
		for _, x := range src.Assignments[g.ID] {
			role := roleName(x)
			if role == "" {
				continue
			}
			all = append(all, role)
			if explained(policy.PrincipalGroup, g.ID, names, x) {
				p.Explained++
				continue
			}
			add = append(add, role)
			needRole(role, x)
		}
		slices.Sort(all)
		slices.Sort(add)
		all, add = slices.Compact(all), slices.Compact(add)
		var grants []string
		if isNew {
			o := resource.New(resource.KindAccessList, list)
			o.Spec = &resource.AccessListSpec{Title: g.DisplayName, Owners: owners, Origin: "identity_center", Grants: resource.Grants{Roles: add}}
			newLists = append(newLists, o)
			line := fmt.Sprintf("access list %s (group %s)", list, g.DisplayName)
			if len(add) > 0 {
				line += " granting " + strings.Join(add, ", ")
			}
			listChanges = append(listChanges, line)
			grants = add
		} else {
			p.Existing++
			cur := has(resource.KindAccessList, list)
			spec := cur.Spec.(*resource.AccessListSpec)
			grants = spec.Grants.Roles
			if missing := without(add, spec.Grants.Roles); len(missing) > 0 {
				next := *spec
				next.Grants.Roles = append(slices.Clone(spec.Grants.Roles), missing...)
				grown := *cur
				grown.Spec = &next
				grownLists = append(grownLists, &grown)
				grants = next.Grants.Roles
				for _, r := range missing {
					grantChanges = append(grantChanges, fmt.Sprintf("grant %s to access list %s", r, list))
				}
			}
		}
		if len(grants) > 0 {
			record("group:"+list, &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: g.ID, Name: g.DisplayName, Adopted: true})
		}
		var memberNames []string
		for _, uid := range src.Members[g.ID] {
			if un := userNames[uid]; un != "" {
				memberNames = append(memberNames, un)
			}
		}
		slices.Sort(memberNames)
		for _, un := range memberNames {
			m := resource.New(resource.KindAccessListMember, "")
			m.Spec = &resource.AccessListMemberSpec{List: list, Member: un, Reason: "imported from Identity Center"}
			resource.Normalize(m)
			if has(resource.KindAccessListMember, m.Metadata.Name) != nil {
				p.Existing++
				continue
			}
			if dg != nil && slices.Contains(dg.Members, un) {
				continue // a member through a nested list: warden explains it
			}
			members = append(members, m)
			memberChanges = append(memberChanges, fmt.Sprintf("member %s of access list %s", un, list))
		}
		p.Groups = append(p.Groups, GroupPlan{ID: g.ID, DisplayName: g.DisplayName, Members: len(src.Members[g.ID]), List: list, New: isNew, Roles: all})
	}

	for _, name := range slices.Sorted(maps.Keys(roles)) {
		p.Create = append(p.Create, roles[name])
		p.Changes = append(p.Changes, "role "+name)
	}
	p.Create = append(p.Create, newUsers...)
	p.Changes = append(p.Changes, userChanges...)
	p.Create = append(p.Create, newLists...)
	p.Changes = append(p.Changes, listChanges...)
	p.Create = append(p.Create, members...)
	p.Changes = append(p.Changes, memberChanges...)
	p.Update = append(grownLists, grownUsers...)
	p.Changes = append(p.Changes, grantChanges...)
	p.Changes = append(p.Changes, roleChanges...)
	return p, nil
}

// without is add minus have, in add's order.
func without(add, have []string) []string {
	var out []string
	for _, a := range add {
		if !slices.Contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

// Stats says what an import did.
type Stats struct {
	Created, Existing, Updated, Recorded int
	// Changes says what the import added, as Plan.Changes (what a preview said it would add).
	Changes []string
	// Explained counts the assignments the import left to the sync: warden's already.
	Explained  int
	Skipped    []string
	OutOfScope []string
}

// Preview reads Identity Center and says what an import would add to the store now, changing nothing.
func Preview(ctx context.Context, st store.Store, c *idc.Client, scope Scope, opts ...Option) (*Plan, error) {
	o := settings(opts)
	earlier, err := Records(ctx, st)
	if err != nil {
		return nil, err
	}
	src, err := Read(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	return Prepare(ctx, st, src, []string{PreviewOwner}, o.now(), earlier)
}

// Import reads Identity Center and writes what Prepare finds new (all in one transaction): objects
// warden lacks, and the grants and standing roles that appeared in AWS since on existing access
// lists and users; then it records what it took over as warden's. Nothing is removed from existing
// objects: after the first import warden is the source of truth, and owners and edits made in
// warden stay.
func Import(ctx context.Context, st store.Store, c *idc.Client, scope Scope, owners []string, opts ...Option) (*Stats, error) {
	if len(owners) == 0 {
		return nil, errors.New("--default-owner: at least one is required: every imported access list needs an owner")
	}
	o := settings(opts)
	earlier, err := Records(ctx, st)
	if err != nil {
		return nil, err
	}
	src, err := Read(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	p, err := Prepare(ctx, st, src, owners, o.now(), earlier)
	if err != nil {
		return nil, err
	}
	return write(ctx, st, p, o.actor)
}

// write writes a plan, as actor.
func write(ctx context.Context, st store.Store, p *Plan, actor manage.Actor) (*Stats, error) {
	stats := &Stats{Created: len(p.Create), Existing: p.Existing, Updated: len(p.Update), Changes: p.Changes,
		Explained: p.Explained, Skipped: p.Skipped, OutOfScope: p.Source.OutOfScope}
	if _, err := manage.New(st).Apply(ctx, actor, append(slices.Clone(p.Create), p.Update...)); err != nil {
		return nil, fmt.Errorf("importing: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(p.Records)) {
		o := &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: resource.Metadata{Name: key}, Spec: p.Records[key]}
		if err := st.Create(ctx, o); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				continue // written meanwhile by the sync
			}
			return nil, fmt.Errorf("recording %s: %w", key, err)
		}
		stats.Recorded++
	}
	// After an uninstall, an import takes the integration up again: the sync resumes.
	if _, err := st.Delete(ctx, resource.KindSyncRecord, resource.RecordUninstalled, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("resuming the sync: %w", err)
	}
	return stats, nil
}
