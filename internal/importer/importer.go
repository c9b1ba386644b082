// Package importer turns an existing Identity Center into warden's resources: users, one access
// list per group (its members, the default owners), and roles named
// "<permission-set>-on-<account-name>" granting exactly that account × permission set, granted to the
// lists by their groups' assignments. User-level assignments become the user's standing roles, so
// nothing is dropped. It records what it takes over as warden's own, so that the first sync plan
// after an import has nothing to change; importing again picks up what changed and duplicates nothing.
//
// Role names: the permission set's name, "-on-", and the account's name made a slug (lower case;
// every run of characters other than letters, digits, '.', '_', '@' and '+' becomes one '-'; no '-'
// at either end). An account whose slug another account also has is named by its 12-digit id
// instead. List names are the group's display name made a slug the same way (a clash gets "-2", "-3").
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

	"golang.org/x/sync/errgroup"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/manage"
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

// Result is the resources an import makes, and what it takes over in Identity Center.
type Result struct {
	Objects []*resource.Object
	// Owned maps sync record names ("user:alice", "group:devops", "assignment:...") to the Identity
	// Center id (of the principal, for assignments), for what the import takes over.
	Owned   map[string]*resource.SyncRecordSpec
	Skipped []string // what could not be imported, and why
}

// Build turns a source into warden resources. owners are the default owners of every list.
func Build(s *Source, owners []string) *Result {
	r := &Result{Owned: map[string]*resource.SyncRecordSpec{}}
	psName := map[string]string{}
	for _, p := range s.PermissionSets {
		psName[p.ARN] = p.Name
	}
	slugCount := map[string]int{}
	for _, a := range s.Accounts {
		slugCount[Slug(a.Name)]++
	}
	accountPart := map[string]string{}
	for _, a := range s.Accounts {
		part := Slug(a.Name)
		if part == "" || slugCount[part] > 1 {
			part = a.ID
		}
		accountPart[a.ID] = part
	}
	roles := map[string]*resource.Object{}
	roleFor := func(x idc.Assignment) string {
		ps := psName[x.PermissionSetARN]
		part := accountPart[x.AccountID]
		if ps == "" || part == "" {
			return ""
		}
		name := ps + "-on-" + part
		if _, ok := roles[name]; !ok {
			o := resource.New(resource.KindRole, name)
			o.Metadata.Description = fmt.Sprintf("%s on account %s (imported from Identity Center)", ps, x.AccountID)
			o.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{AccountAssignments: []resource.AccountAssignment{{Account: x.AccountID, PermissionSet: ps}}}}
			roles[name] = o
		}
		return name
	}
	userNames := map[string]string{} // id -> name
	users := map[string]*resource.Object{}
	for _, u := range s.Users {
		o := resource.New(resource.KindUser, u.UserName)
		spec := &resource.UserSpec{DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email, Origin: "identity_center"}
		o.Spec = spec
		if err := resource.Validate(o); err != nil {
			r.Skipped = append(r.Skipped, fmt.Sprintf("user %q: %v", u.UserName, err))
			continue
		}
		for _, x := range s.Assignments[u.ID] {
			if name := roleFor(x); name != "" {
				spec.Roles = append(spec.Roles, name)
				a := "assignment:USER:" + u.UserName + ":" + x.AccountID + ":" + x.PermissionSetARN
				r.Owned[a] = &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: u.ID, Name: u.UserName,
					PrincipalType: "USER", AccountID: x.AccountID, PermissionSetARN: x.PermissionSetARN, Adopted: true}
			}
		}
		sort.Strings(spec.Roles)
		spec.Roles = dedupe(spec.Roles)
		users[u.ID], userNames[u.ID] = o, u.UserName
		r.Owned["user:"+u.UserName] = &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: u.ID, Name: u.UserName, Adopted: true}
	}
	listNames := map[string]bool{}
	var lists, members []*resource.Object
	for _, g := range s.Groups {
		name := Slug(g.DisplayName)
		if name == "" {
			name = "group"
		}
		for base, i := name, 2; listNames[name]; i++ {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		listNames[name] = true
		spec := &resource.AccessListSpec{Title: g.DisplayName, Owners: owners, Origin: "identity_center"}
		for _, x := range s.Assignments[g.ID] {
			if role := roleFor(x); role != "" {
				spec.Grants.Roles = append(spec.Grants.Roles, role)
			}
		}
		sort.Strings(spec.Grants.Roles)
		spec.Grants.Roles = dedupe(spec.Grants.Roles)
		o := resource.New(resource.KindAccessList, name)
		o.Spec = spec
		lists = append(lists, o)
		if len(spec.Grants.Roles) > 0 {
			r.Owned["group:"+name] = &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: g.ID, Name: g.DisplayName, Adopted: true}
		}
		for _, uid := range s.Members[g.ID] {
			un := userNames[uid]
			if un == "" {
				continue
			}
			m := resource.New(resource.KindAccessListMember, "")
			m.Spec = &resource.AccessListMemberSpec{List: name, Member: un, Reason: "imported from Identity Center"}
			resource.Normalize(m)
			members = append(members, m)
		}
	}
	// The catalog first (accounts and permission sets, as warden caches them), then roles, users,
	// lists and members: the order references need.
	for _, a := range s.Accounts {
		o := resource.New(resource.KindAccount, a.ID)
		o.Spec = &resource.AccountSpec{Name: a.Name, Status: "ACTIVE"}
		if resource.Validate(o) == nil {
			r.Objects = append(r.Objects, o)
		}
	}
	for _, p := range s.PermissionSets {
		o := resource.New(resource.KindPermissionSet, p.Name)
		o.Spec = &resource.PermissionSetSpec{ARN: p.ARN}
		if resource.Validate(o) == nil {
			r.Objects = append(r.Objects, o)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(roles)) {
		r.Objects = append(r.Objects, roles[name])
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return users[ids[i]].Metadata.Name < users[ids[j]].Metadata.Name })
	for _, id := range ids {
		r.Objects = append(r.Objects, users[id])
	}
	r.Objects = append(r.Objects, lists...)
	r.Objects = append(r.Objects, members...)
	return r
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// Stats says what an import did.
type Stats struct {
	Created, Existing, Updated, Recorded int
	Skipped                              []string
	OutOfScope                           []string
}

// Option changes how Import works.
type Option func(*options)

type options struct{ actor manage.Actor }

// As records the import in the audit log as done by actor (the administrator who ran it, with the
// token they used). Without it, the import is recorded as the bootstrap administrator's (warden
// demo's own import).
func As(actor manage.Actor) Option { return func(o *options) { o.actor = actor } }

// Import reads Identity Center and creates in the store what is not there yet, and adds to existing
// access lists and users the grants and standing roles that appeared in AWS since (all in one
// transaction), then records what it took over as warden's. Nothing is removed from existing objects:
// after the first import warden is the source of truth, and owners and edits made in warden stay.
func Import(ctx context.Context, st store.Store, c *idc.Client, scope Scope, owners []string, opts ...Option) (*Stats, error) {
	cfg := options{actor: manage.Actor{User: resource.BootstrapAdmin, Admin: true}}
	for _, opt := range opts {
		opt(&cfg)
	}
	if len(owners) == 0 {
		return nil, errors.New("--default-owner: at least one is required: every imported access list needs an owner")
	}
	src, err := Read(ctx, c, scope)
	if err != nil {
		return nil, err
	}
	res := Build(src, owners)
	stats := &Stats{Skipped: res.Skipped, OutOfScope: src.OutOfScope}
	var missing, grown []*resource.Object
	for _, o := range res.Objects {
		cur, err := st.Get(ctx, o.Kind, o.Metadata.Name)
		if errors.Is(err, store.ErrNotFound) {
			missing = append(missing, o)
			continue
		} else if err != nil {
			return nil, err
		}
		stats.Existing++
		if next := merged(cur, o); next != nil {
			grown = append(grown, next)
		}
	}
	if _, err := manage.New(st).Apply(ctx, cfg.actor, append(missing, grown...)); err != nil {
		return nil, fmt.Errorf("importing: %w", err)
	}
	stats.Updated = len(grown)
	stats.Created = len(missing)
	for _, key := range slices.Sorted(maps.Keys(res.Owned)) {
		spec := res.Owned[key]
		if _, err := st.Get(ctx, resource.KindSyncRecord, key); err == nil {
			continue
		}
		o := &resource.Object{Kind: resource.KindSyncRecord, Version: resource.Version, Metadata: resource.Metadata{Name: key}, Spec: spec}
		if err := st.Create(ctx, o); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
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

// merged is cur with what imp adds to it (an access list's grants, a user's standing roles), or nil
// when imp adds nothing.
func merged(cur, imp *resource.Object) *resource.Object {
	union := func(have, add []string) ([]string, bool) {
		seen := make(map[string]bool, len(have))
		for _, h := range have {
			seen[h] = true
		}
		out, grew := append([]string(nil), have...), false
		for _, a := range add {
			if !seen[a] {
				out, grew = append(out, a), true
				seen[a] = true
			}
		}
		return out, grew
	}
	switch spec := cur.Spec.(type) {
	case *resource.AccessListSpec:
		roles, grew := union(spec.Grants.Roles, imp.Spec.(*resource.AccessListSpec).Grants.Roles)
		if !grew {
			return nil
		}
		next := *spec
		next.Grants.Roles = roles
		o := *cur
		o.Spec = &next
		return &o
	case *resource.UserSpec:
		roles, grew := union(spec.Roles, imp.Spec.(*resource.UserSpec).Roles)
		if !grew {
			return nil
		}
		next := *spec
		next.Roles = roles
		o := *cur
		o.Spec = &next
		return &o
	}
	return nil
}
