// Package policy computes what Identity Center should hold, from warden's resources and the clock,
// and nothing else: no I/O, no state, the same answer for the same input.
//
// Compile(snapshot, now) returns the desired users, groups (with flattened members) and account
// assignments, and the next instant at which that answer changes by itself (a member's expiry, a
// request's start or end), so that the sync engine can wake exactly then.
//
// The rules:
//   - A disabled user holds nothing: they are in no group and have no assignment (their standing
//     roles, memberships and approved requests are kept, and count again once they are enabled).
//     Their Identity Center user is kept, unless they are to be removed when disabled
//     (remove_when_disabled, set by a SCIM connector with deprovision: delete).
//   - Every warden user should exist in Identity Center, named by its userName. Identity Center needs
//     a given and a family name; when a user has none, the display name is split at its first space
//     (or the user name's local part is used for both).
//   - An access list becomes a group (DisplayName = its title) when a role it grants holds account
//     assignments. Its members are its user members plus, recursively, the users of the lists that
//     are its members; a member whose record has expired is left out, and so is a user who lacks the
//     list's membership_requires (roles they hold, and every listed value of every listed trait).
//   - A group's assignments are its granted roles' allow.account_assignments, resolved against the
//     catalog of accounts (12-digit id, name, or glob over either) and permission sets (name, ARN, or
//     glob over names), minus every account × permission set that any of those roles denies.
//   - A user's assignments are their standing roles' assignments, plus those of approved access
//     requests whose window [start, end) holds now (the requested roles' assignments, or the requested
//     account × permission set), minus what the user's standing roles deny. Grants of the same
//     (user, account, permission set) collapse into one assignment that lasts as long as the longest.
//   - A pattern that resolves to nothing is reported as a Problem on the resource, not an error: the
//     rest of the answer stands.
package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// Account is an AWS account in the catalog.
type Account struct {
	ID   string
	Name string
}

// PermissionSet is a permission set in the catalog.
type PermissionSet struct {
	Name string
	ARN  string
}

// Snapshot is everything Compile reads. Objects are as the store holds them.
type Snapshot struct {
	Users          []*resource.Object
	Roles          []*resource.Object
	AccessLists    []*resource.Object
	Members        []*resource.Object
	Requests       []*resource.Object
	Accounts       []Account
	PermissionSets []PermissionSet
}

// User is a desired Identity Center user.
type User struct {
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string
}

// Group is a desired Identity Center group: one access list.
type Group struct {
	DisplayName string
	List        string
	// Members are user names, sorted.
	Members []string
}

// Principal types.
const (
	PrincipalUser  = "USER"
	PrincipalGroup = "GROUP"
)

// Assignment is a desired account assignment. Principal is a user name or a group's display name.
type Assignment struct {
	PrincipalType    string
	Principal        string
	AccountID        string
	PermissionSetARN string
}

// Grant says why a user assignment exists and until when (zero: standing).
type Grant struct {
	Until time.Time
	// Requests names the approved access requests behind it (an error on the assignment is shown on
	// them too).
	Requests []string
}

// Problem is something in warden's resources that could not be turned into Identity Center state.
type Problem struct {
	Kind    resource.Kind
	Name    string
	Message string
}

// Desired is what Identity Center should hold.
type Desired struct {
	Users  map[string]*User
	Groups map[string]*Group
	// Assignments maps each desired assignment to how long it lasts (zero: no end).
	Assignments map[Assignment]Grant
	Problems    []Problem
	// Expired names, per access list, the users whose membership has expired (directly or through
	// an expired nested list), so that their removal is known for an expiry.
	Expired map[string]map[string]bool
	// Disabled names the disabled users: what they lose is access ending, as an expiry is.
	Disabled map[string]bool
}

// SortedAssignments lists the assignments in a stable order.
func (d *Desired) SortedAssignments() []Assignment {
	out := make([]Assignment, 0, len(d.Assignments))
	for a := range d.Assignments {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

func (a Assignment) less(b Assignment) bool {
	if a.PrincipalType != b.PrincipalType {
		return a.PrincipalType < b.PrincipalType
	}
	if a.Principal != b.Principal {
		return a.Principal < b.Principal
	}
	if a.AccountID != b.AccountID {
		return a.AccountID < b.AccountID
	}
	return a.PermissionSetARN < b.PermissionSetARN
}

// compiler holds the indexes of one Compile.
type compiler struct {
	now      time.Time
	next     time.Time
	users    map[string]*resource.UserSpec
	roles    map[string]*resource.RoleSpec
	lists    map[string]*resource.AccessListSpec
	members  map[string]map[string]*resource.AccessListMemberSpec // list -> record name -> member
	parents  map[string]map[string]bool                           // list -> lists it is a member of
	byMember map[string][]*resource.AccessListMemberSpec          // member name -> records (built when first needed)
	cat      *Catalog
	problems []Problem

	resolved map[string]map[Target]bool // role -> allowed targets (minus its own denies)
	denied   map[string]map[Target]bool // role -> denied targets
	flat     map[string][]string        // list -> eligible flattened user names (memo)
	expired  map[string]map[string]bool // list -> users whose membership expired

	// requestBasis names the principals ("user:<name>", "list:<name>") whose memberships the
	// active requests' entitlement was judged on: a change to one of their memberships may take
	// a request's basis away.
	requestBasis map[string]bool
}

// Compile computes the desired Identity Center state at now, and the next instant after now at which
// it changes by itself (zero when nothing is scheduled).
func Compile(s *Snapshot, now time.Time) (*Desired, time.Time) {
	k := NewCompiler(s, now)
	return k.desired, k.c.next
}

// Compiler is a compile kept in memory, so that a change to list membership updates the desired
// state of just the groups it touches instead of compiling everything again.
type Compiler struct {
	c       *compiler
	desired *Desired
	byList  map[string]*Group
}

// Desired is the current desired state (updated in place by Recompute).
func (k *Compiler) Desired() *Desired { return k.desired }

// Next is the next instant the desired state changes by itself.
func (k *Compiler) Next() time.Time { return k.c.next }

// SetNow moves the compile's clock (for membership expiry in Recompute).
func (k *Compiler) SetNow(now time.Time) { k.c.now = now }

// PutMember adds or replaces a member record; DeleteMember removes one. Call Recompute with the
// member's list afterwards.
func (k *Compiler) PutMember(o *resource.Object) { k.c.putMember(o) }

// DeleteMember removes a member record.
func (k *Compiler) DeleteMember(o *resource.Object) {
	m := o.Spec.(*resource.AccessListMemberSpec)
	delete(k.c.members[m.List], o.Metadata.Name)
	k.c.byMember = nil
	if m.Kind() == resource.MemberList {
		delete(k.c.parents[m.Member], m.List)
	}
}

// Recompute updates the members of the given lists' groups, and of every list they are nested in,
// and returns the lists whose groups changed.
func (k *Compiler) Recompute(lists []string) []string {
	c := k.c
	affected := map[string]bool{}
	var walk func(string)
	walk = func(l string) {
		if affected[l] {
			return
		}
		affected[l] = true
		for p := range c.parents[l] {
			walk(p)
		}
	}
	for _, l := range lists {
		walk(l)
	}
	for l := range affected {
		delete(c.flat, l)
		delete(c.expired, l)
	}
	var changed []string
	for l := range affected {
		g := k.byList[l]
		if g == nil {
			continue
		}
		members := c.flatten(l, map[string]bool{})
		if !slicesEqual(members, g.Members) {
			g.Members = members
			changed = append(changed, l)
		}
	}
	sort.Strings(changed)
	return changed
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *compiler) putMember(o *resource.Object) {
	m := o.Spec.(*resource.AccessListMemberSpec)
	if c.members[m.List] == nil {
		c.members[m.List] = map[string]*resource.AccessListMemberSpec{}
	}
	c.members[m.List][o.Metadata.Name] = m
	c.byMember = nil
	if m.Kind() == resource.MemberList {
		if c.parents[m.Member] == nil {
			c.parents[m.Member] = map[string]bool{}
		}
		c.parents[m.Member][m.List] = true
	}
}

// NewCompiler compiles s at now and keeps what it needs to recompute membership changes.
func NewCompiler(s *Snapshot, now time.Time) *Compiler {
	c := &compiler{
		now: now, users: map[string]*resource.UserSpec{}, roles: map[string]*resource.RoleSpec{},
		lists: map[string]*resource.AccessListSpec{}, members: map[string]map[string]*resource.AccessListMemberSpec{},
		parents: map[string]map[string]bool{}, cat: NewCatalog(s.Accounts, s.PermissionSets),
		resolved: map[string]map[Target]bool{}, denied: map[string]map[Target]bool{},
		flat: map[string][]string{}, expired: map[string]map[string]bool{}, requestBasis: map[string]bool{},
	}
	for _, o := range s.Users {
		c.users[o.Metadata.Name] = o.Spec.(*resource.UserSpec)
	}
	for _, o := range s.Roles {
		c.roles[o.Metadata.Name] = o.Spec.(*resource.RoleSpec)
	}
	for _, o := range s.AccessLists {
		c.lists[o.Metadata.Name] = o.Spec.(*resource.AccessListSpec)
	}
	for _, o := range s.Members {
		c.putMember(o)
	}
	d := &Desired{Users: map[string]*User{}, Groups: map[string]*Group{}, Assignments: map[Assignment]Grant{}, Disabled: map[string]bool{}}

	userNames := make([]string, 0, len(c.users))
	for name := range c.users {
		userNames = append(userNames, name)
	}
	sort.Strings(userNames)
	folded := map[string]string{}
	for _, name := range userNames {
		// Identity Center compares user names without case: two warden users that differ only in
		// case would be one Identity Center user. The first keeps it; the other is not synced.
		if other, taken := folded[strings.ToLower(name)]; taken {
			c.problem(resource.KindUser, name, "its name differs from user %q only in case; Identity Center would take them for one user, so only %q is synced", other, other)
			delete(c.users, name)
			continue
		}
		folded[strings.ToLower(name)] = name
		if u := c.users[name]; u.Disabled {
			d.Disabled[name] = true
			if u.RemoveWhenDisabled {
				continue
			}
		}
		d.Users[name] = desiredUser(name, c.users[name])
	}

	titles := map[string]string{} // lower-cased title -> list
	listNames := make([]string, 0, len(c.lists))
	for name := range c.lists {
		listNames = append(listNames, name)
	}
	sort.Strings(listNames)
	for _, name := range listNames {
		l := c.lists[name]
		if !c.grantsAssignments(l) {
			continue
		}
		if other, taken := titles[strings.ToLower(l.Title)]; taken {
			c.problem(resource.KindAccessList, name, "its title %q is also the title of access list %q (Identity Center group names are unique, whatever their case); only %q is synced", l.Title, other, other)
			continue
		}
		titles[strings.ToLower(l.Title)] = name
		g := &Group{DisplayName: l.Title, List: name, Members: c.flatten(name, map[string]bool{})}
		d.Groups[l.Title] = g
		allowed, denied := map[Target]bool{}, map[Target]bool{}
		for _, r := range l.Grants.Roles {
			for t := range c.allowed(r) {
				allowed[t] = true
			}
			for t := range c.deniedBy(r) {
				denied[t] = true
			}
		}
		for t := range allowed {
			if !denied[t] {
				d.Assignments[Assignment{PrincipalGroup, l.Title, t.AccountID, t.PermissionSetARN}] = Grant{}
			}
		}
	}

	for _, name := range userNames {
		u := c.users[name]
		if u == nil || u.Disabled {
			continue // not synced (its name collides with another's), or holding nothing
		}
		denied := map[Target]bool{}
		for _, r := range u.Roles {
			for t := range c.deniedBy(r) {
				denied[t] = true
			}
		}
		for _, r := range u.Roles {
			for t := range c.allowed(r) {
				if !denied[t] {
					d.Assignments[Assignment{PrincipalUser, name, t.AccountID, t.PermissionSetARN}] = Grant{}
				}
			}
		}
	}
	for _, o := range s.Requests {
		c.request(o, d)
	}
	d.Problems = c.problems
	d.Expired = c.expired
	k := &Compiler{c: c, desired: d, byList: map[string]*Group{}}
	for _, g := range d.Groups {
		k.byList[g.List] = g
	}
	return k
}

// request adds an approved request's assignments while its window holds now, if its requester
// still holds what allowed it (Entitle over Holdings: the request rules' own definitions).
func (c *compiler) request(o *resource.Object, d *Desired) {
	r := o.Spec.(*resource.AccessRequestSpec)
	if r.State != resource.StateApproved || r.Start == nil || r.End == nil {
		return
	}
	if c.now.Before(*r.Start) {
		c.wake(*r.Start)
		return
	}
	if !c.now.Before(*r.End) {
		return
	}
	c.wake(*r.End)
	u, ok := c.users[r.User]
	if !ok {
		c.problem(resource.KindAccessRequest, o.Metadata.Name, "its user %q does not exist", r.User)
		return
	}
	if u.Disabled {
		c.problem(resource.KindAccessRequest, o.Metadata.Name, "its user %q is disabled; nothing is granted", r.User)
		return
	}
	items, err := c.entitled(r, u)
	if err != nil {
		c.problem(resource.KindAccessRequest, o.Metadata.Name, "%s: %s may no longer have it (%v); nothing is granted", LostBasis, r.User, err)
		return
	}
	denied := map[Target]bool{}
	for _, role := range u.Roles {
		for t := range c.deniedBy(role) {
			denied[t] = true
		}
	}
	grant := func(t Target) {
		if denied[t] {
			return
		}
		a := Assignment{PrincipalUser, r.User, t.AccountID, t.PermissionSetARN}
		cur, exists := d.Assignments[a]
		reqs := append(append([]string{}, cur.Requests...), o.Metadata.Name)
		switch {
		case !exists:
			d.Assignments[a] = Grant{Until: *r.End, Requests: reqs}
		case cur.Until.IsZero():
			d.Assignments[a] = Grant{Requests: reqs} // standing: lasts longer than any request
		case r.End.After(cur.Until):
			d.Assignments[a] = Grant{Until: *r.End, Requests: reqs}
		default:
			d.Assignments[a] = Grant{Until: cur.Until, Requests: reqs}
		}
	}
	for _, role := range r.Roles {
		for t := range c.allowed(role) {
			grant(t)
		}
	}
	for _, it := range items {
		grant(it.Target)
	}
}

// LostBasis starts the problem reported on an approved request whose requester no longer holds
// what allowed it.
const LostBasis = "lost its basis"

// entitled judges a request in its window against what its requester holds now, and returns its
// resources resolved.
func (c *compiler) entitled(r *resource.AccessRequestSpec, u *resource.UserSpec) ([]Item, error) {
	h, err := Holdings(c, r.User, u, c.now)
	if err != nil {
		return nil, err
	}
	c.requestBasis["user:"+r.User] = true
	for _, l := range h.Lists {
		c.requestBasis["list:"+l] = true
	}
	if !h.Next.IsZero() {
		c.wake(h.Next)
	}
	held := make([]*resource.RoleSpec, 0, len(h.Roles))
	for _, name := range h.Roles {
		if s := c.roles[name]; s != nil {
			held = append(held, s)
		}
	}
	items, err := RequestItems(r, c.cat)
	if err != nil {
		return nil, err
	}
	if _, err := Entitle(r.Roles, items, held, c.roles, c.cat); err != nil {
		return nil, err
	}
	return items, nil
}

// MembersNaming and AccessList let Holdings read the snapshot.
func (c *compiler) MembersNaming(name string) ([]*resource.AccessListMemberSpec, error) {
	if c.byMember == nil {
		c.byMember = map[string][]*resource.AccessListMemberSpec{}
		for _, recs := range c.members {
			for _, m := range recs {
				c.byMember[m.Member] = append(c.byMember[m.Member], m)
			}
		}
	}
	return c.byMember[name], nil
}

func (c *compiler) AccessList(name string) (*resource.AccessListSpec, error) {
	return c.lists[name], nil
}

// RequestsDependOn reports whether a change to the member record m may change what an active
// request's requester holds (and so whether the request still has its basis): such a change
// needs a whole compile, not only the groups' members recomputed.
func (k *Compiler) RequestsDependOn(m *resource.AccessListMemberSpec) bool {
	return k.c.requestBasis[m.Kind()+":"+m.Member]
}

func (c *compiler) wake(t time.Time) {
	if t.After(c.now) && (c.next.IsZero() || t.Before(c.next)) {
		c.next = t
	}
}

func (c *compiler) problem(k resource.Kind, name, format string, args ...any) {
	c.problems = append(c.problems, Problem{Kind: k, Name: name, Message: fmt.Sprintf(format, args...)})
}

// grantsAssignments: does a role this list grants hold account assignments?
func (c *compiler) grantsAssignments(l *resource.AccessListSpec) bool {
	for _, r := range l.Grants.Roles {
		if role := c.roles[r]; role != nil && len(role.Allow.AccountAssignments) > 0 {
			return true
		}
	}
	return false
}

// flatten returns the eligible users of a list, through nested lists, sorted and deduplicated.
// Requirements of the list apply to every user, however deeply nested; a nested list's own
// requirements apply to its own direct members.
func (c *compiler) flatten(list string, visiting map[string]bool) []string {
	if out, ok := c.flat[list]; ok {
		return out
	}
	if visiting[list] { // validation forbids cycles; never loop on a store that has one anyway
		return nil
	}
	visiting[list] = true
	defer delete(visiting, list)
	l := c.lists[list]
	set := map[string]bool{}
	var nested []string
	for _, m := range c.members[list] {
		if m.Expires != nil {
			if !c.now.Before(*m.Expires) {
				c.expire(list, m)
				continue
			}
			c.wake(*m.Expires)
		}
		if m.Kind() == resource.MemberList {
			for _, u := range c.flatten(m.Member, visiting) {
				set[u] = true
			}
			nested = append(nested, m.Member)
			continue
		}
		set[m.Member] = true
	}
	// A user a nested list lost to an expiry leaves this list by that expiry too, unless this list
	// still has them another way.
	for _, n := range nested {
		for u := range c.expired[n] {
			if !set[u] {
				if c.expired[list] == nil {
					c.expired[list] = map[string]bool{}
				}
				c.expired[list][u] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for u := range set {
		if c.eligible(l, u) {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	c.flat[list] = out
	return out
}

// expire notes the users an expired member record takes out of a list, so that removing them is
// known to be an expiry (which the sync engine's safety brake never holds back).
func (c *compiler) expire(list string, m *resource.AccessListMemberSpec) {
	if c.expired[list] == nil {
		c.expired[list] = map[string]bool{}
	}
	if m.Kind() == resource.MemberList {
		for _, u := range c.flatten(m.Member, map[string]bool{}) {
			c.expired[list][u] = true
		}
		return
	}
	c.expired[list][m.Member] = true
}

// eligible: does user meet the list's membership requirements?
func (c *compiler) eligible(l *resource.AccessListSpec, name string) bool {
	u := c.users[name]
	if u == nil || u.Disabled {
		return false
	}
	ok, _ := Eligible(l, u)
	return ok
}

// Eligible says whether a user meets an access list's membership requirements (membership_requires:
// every role, and every listed value of every listed trait), and if not, what is missing. An
// ineligible member stays on the list but is not synced to its Identity Center group.
func Eligible(l *resource.AccessListSpec, u *resource.UserSpec) (bool, string) {
	if l == nil || l.MembershipRequires == nil {
		return true, ""
	}
	req := l.MembershipRequires
	var missing []string
	for _, r := range req.Roles {
		if !contains(u.Roles, r) {
			missing = append(missing, "role "+r)
		}
	}
	keys := make([]string, 0, len(req.Traits))
	for k := range req.Traits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range req.Traits[k] {
			if !contains(u.Traits[k], v) {
				missing = append(missing, "trait "+k+"="+v)
			}
		}
	}
	if len(missing) > 0 {
		return false, "lacks " + strings.Join(missing, ", ")
	}
	return true, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// allowed resolves a role's allow.account_assignments, minus its own deny, once per role.
func (c *compiler) allowed(role string) map[Target]bool {
	if out, ok := c.resolved[role]; ok {
		return out
	}
	out := map[Target]bool{}
	if r := c.roles[role]; r != nil {
		var unresolved []resource.AccountAssignment
		out, unresolved = c.cat.RoleTargets(r)
		for _, aa := range unresolved {
			c.problem(resource.KindRole, role, "account %q with permission set %q matches nothing in the catalog", aa.Account, aa.PermissionSet)
		}
	}
	c.resolved[role] = out
	return out
}

func (c *compiler) deniedBy(role string) map[Target]bool {
	if out, ok := c.denied[role]; ok {
		return out
	}
	out := map[Target]bool{}
	if r := c.roles[role]; r != nil {
		out = c.cat.RoleDenies(r)
	}
	c.denied[role] = out
	return out
}

// desiredUser maps a warden user to the attributes Identity Center requires.
func desiredUser(name string, u *resource.UserSpec) *User {
	out := &User{UserName: name, DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName, Email: u.Email}
	if out.DisplayName == "" {
		out.DisplayName = strings.TrimSpace(out.GivenName + " " + out.FamilyName)
	}
	if out.DisplayName == "" {
		out.DisplayName = name
	}
	if out.GivenName == "" || out.FamilyName == "" {
		first, rest, found := strings.Cut(out.DisplayName, " ")
		if !found || u.DisplayName == "" {
			local, _, _ := strings.Cut(name, "@")
			first, rest = local, local
		}
		if out.GivenName == "" {
			out.GivenName = first
		}
		if out.FamilyName == "" {
			out.FamilyName = strings.TrimSpace(rest)
		}
	}
	return out
}
