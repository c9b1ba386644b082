package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/wardenhq/warden/internal/resource"
)

// Target is the place of one account assignment, in its one canonical form: the 12-digit account id
// and the permission set's ARN. A permission set that Identity Center has not given an ARN (a
// warden that does not sync) is named by its name instead. Every allow and deny is matched against
// targets, never against the strings a person typed, so that naming a permission set by its ARN or
// an account by its id rather than its name reaches no further than naming them by name.
type Target struct {
	AccountID        string
	PermissionSetARN string
}

// Item is a target with the names people read: what a request stores for each resource it asks for.
type Item struct {
	Target
	AccountName       string
	PermissionSetName string
}

// Catalog resolves account and permission set patterns against the accounts and permission sets
// that exist. It caches what it resolves and is not safe for concurrent use.
type Catalog struct {
	accounts []Account
	psets    []PermissionSet

	accountByID  map[string]Account
	accountNames map[string][]string // name -> ids
	psByName     map[string]PermissionSet
	psByKey      map[string]PermissionSet // ARN (or name, when there is no ARN) -> permission set
	patterns     map[resource.AccountAssignment][]Target
	covers       map[resource.AccountAssignment]map[Target]bool // sets of the patterns Covers was asked about
}

// NewCatalog indexes accounts and permission sets.
func NewCatalog(accounts []Account, sets []PermissionSet) *Catalog {
	c := &Catalog{
		accounts: accounts, psets: sets,
		accountByID: make(map[string]Account, len(accounts)), accountNames: map[string][]string{},
		psByName: make(map[string]PermissionSet, len(sets)), psByKey: make(map[string]PermissionSet, len(sets)),
		patterns: map[resource.AccountAssignment][]Target{}, covers: map[resource.AccountAssignment]map[Target]bool{},
	}
	for _, a := range accounts {
		c.accountByID[a.ID] = a
		if a.Name != "" && a.Name != a.ID {
			c.accountNames[a.Name] = append(c.accountNames[a.Name], a.ID)
		}
	}
	for _, p := range sets {
		c.psByName[p.Name] = p
		c.psByKey[p.key()] = p
	}
	return c
}

// key is the permission set's canonical name: its ARN, or its name while it has none.
func (p PermissionSet) key() string {
	if p.ARN != "" {
		return p.ARN
	}
	return p.Name
}

// Resolve turns a pattern into the targets it covers. The account is a 12-digit id, an account name
// or a glob over both; the permission set is a name, an ARN, or a glob over names (a glob that
// starts with "arn:" is matched against ARNs). Exact names are map lookups; only globs scan.
func (c *Catalog) Resolve(p resource.AccountAssignment) []Target {
	out := slices.Clone(c.resolve(p))
	slices.SortFunc(out, compareTargets)
	return out
}

// Covers reports whether the pattern covers the target.
func (c *Catalog) Covers(p resource.AccountAssignment, t Target) bool {
	set, ok := c.covers[p]
	if !ok {
		ts := c.resolve(p)
		set = make(map[Target]bool, len(ts))
		for _, x := range ts {
			set[x] = true
		}
		c.covers[p] = set
	}
	return set[t]
}

// resolve is Resolve unsorted, and shared: callers do not modify it.
func (c *Catalog) resolve(p resource.AccountAssignment) []Target {
	if out, ok := c.patterns[p]; ok {
		return out
	}
	var accounts []string
	if resource.IsGlob(p.Account) {
		for _, a := range c.accounts {
			if resource.MatchGlob(p.Account, a.ID) || (a.Name != "" && resource.MatchGlob(p.Account, a.Name)) {
				accounts = append(accounts, a.ID)
			}
		}
	} else {
		if _, ok := c.accountByID[p.Account]; ok {
			accounts = append(accounts, p.Account)
		}
		accounts = append(accounts, c.accountNames[p.Account]...)
	}
	var sets []string
	switch {
	case resource.IsGlob(p.PermissionSet):
		arn := strings.HasPrefix(p.PermissionSet, "arn:")
		for _, ps := range c.psets {
			if (!arn && resource.MatchGlob(p.PermissionSet, ps.Name)) || (arn && ps.ARN != "" && resource.MatchGlob(p.PermissionSet, ps.ARN)) {
				sets = append(sets, ps.key())
			}
		}
	case strings.HasPrefix(p.PermissionSet, "arn:"):
		if ps, ok := c.psByKey[p.PermissionSet]; ok && ps.ARN != "" {
			sets = append(sets, ps.key())
		}
	default:
		if ps, ok := c.psByName[p.PermissionSet]; ok {
			sets = append(sets, ps.key())
		}
	}
	out := make([]Target, 0, len(accounts)*len(sets))
	for _, a := range accounts {
		for _, s := range sets {
			out = append(out, Target{a, s})
		}
	}
	c.patterns[p] = out
	return out
}

// ItemError says which part of an asked-for account × permission set names nothing, or more than
// one thing.
type ItemError struct {
	Field   string // "account" or "permission_set"
	Message string
}

func (e *ItemError) Error() string { return e.Field + ": " + e.Message }

// Lookup resolves an account and a permission set, each named exactly (no globs), to one item:
// the account by id or by a name only one account has, the permission set by name or ARN.
func (c *Catalog) Lookup(account, permissionSet string) (Item, error) {
	var it Item
	if resource.IsGlob(account) || account == "" {
		return it, &ItemError{"account", fmt.Sprintf("%q: name one account (its id or name), not a pattern", account)}
	}
	if a, ok := c.accountByID[account]; ok {
		it.AccountID, it.AccountName = a.ID, a.Name
	} else {
		switch ids := c.accountNames[account]; len(ids) {
		case 1:
			it.AccountID, it.AccountName = ids[0], account
		case 0:
			return it, &ItemError{"account", fmt.Sprintf("%q is not an account id or the name of one account", account)}
		default:
			return it, &ItemError{"account", fmt.Sprintf("%q is the name of %d accounts (%s): give the account id", account, len(ids), strings.Join(ids, ", "))}
		}
	}
	if resource.IsGlob(permissionSet) || permissionSet == "" {
		return it, &ItemError{"permission_set", fmt.Sprintf("%q: name one permission set (its name or ARN), not a pattern", permissionSet)}
	}
	ps, ok := c.psByName[permissionSet]
	if !ok {
		ps, ok = c.psByKey[permissionSet]
	}
	if !ok {
		return it, &ItemError{"permission_set", fmt.Sprintf("%q is not a permission set's name or ARN", permissionSet)}
	}
	it.PermissionSetARN, it.PermissionSetName = ps.key(), ps.Name
	return it, nil
}

// RoleTargets is what a role grants: its allow.account_assignments resolved, minus what its own
// deny.account_assignments covers. unresolved lists the allow patterns that match nothing.
func (c *Catalog) RoleTargets(r *resource.RoleSpec) (granted map[Target]bool, unresolved []resource.AccountAssignment) {
	denied := c.RoleDenies(r)
	granted = map[Target]bool{}
	for _, aa := range r.Allow.AccountAssignments {
		ts := c.resolve(aa)
		if len(ts) == 0 {
			unresolved = append(unresolved, aa)
		}
		for _, t := range ts {
			if !denied[t] {
				granted[t] = true
			}
		}
	}
	return granted, unresolved
}

// RoleDenies is what a role's deny.account_assignments covers.
func (c *Catalog) RoleDenies(r *resource.RoleSpec) map[Target]bool {
	out := map[Target]bool{}
	for _, aa := range r.Deny.AccountAssignments {
		for _, t := range c.resolve(aa) {
			out[t] = true
		}
	}
	return out
}

func compareTargets(a, b Target) int {
	return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.PermissionSetARN, b.PermissionSetARN))
}

func sortedTargets(set map[Target]bool) []Target {
	out := make([]Target, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTargets)
	return out
}
