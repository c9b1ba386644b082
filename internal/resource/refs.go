package resource

import (
	"context"
	"fmt"
	"strings"
)

// Lookup answers what CheckRefs needs to know about other resources. The store's transaction
// implements it, so that the answer includes every write of the same batch.
type Lookup interface {
	Exists(ctx context.Context, k Kind, name string) (bool, error)
	// NestedLists returns the lists that are members of list (member_kind list).
	NestedLists(ctx context.Context, list string) ([]string, error)
}

// CheckRefs checks that everything o names exists, and that an access list is never nested in itself,
// directly or through other lists. Problems come back as Errors with field paths.
func CheckRefs(ctx context.Context, lk Lookup, o *Object) error {
	c := &refChecker{ctx: ctx, lk: lk}
	switch s := o.Spec.(type) {
	case *UserSpec:
		c.names("spec.roles", KindRole, s.Roles)
	case *RoleSpec:
		for i, cond := range []RoleConditions{s.Allow, s.Deny} {
			side := [2]string{"spec.allow", "spec.deny"}[i]
			if cond.Request != nil {
				c.names(side+".request.roles", KindRole, cond.Request.Roles)
			}
			if cond.ReviewRequests != nil {
				c.names(side+".review_requests.roles", KindRole, cond.ReviewRequests.Roles)
			}
		}
	case *AccessListSpec:
		c.names("spec.owners", KindUser, s.Owners)
		c.names("spec.grants.roles", KindRole, s.Grants.Roles)
		if s.MembershipRequires != nil {
			c.names("spec.membership_requires.roles", KindRole, s.MembershipRequires.Roles)
		}
	case *AccessListMemberSpec:
		c.name("spec.list", KindAccessList, s.List)
		if s.Kind() == MemberList {
			if c.name("spec.member", KindAccessList, s.Member) {
				c.cycle(s.List, s.Member)
			}
		} else {
			c.name("spec.member", KindUser, s.Member)
		}
	case *AccessRequestSpec:
		c.name("spec.user", KindUser, s.User)
		c.names("spec.roles", KindRole, s.Roles)
	case *APITokenSpec:
		if s.User != BootstrapAdmin {
			c.name("spec.user", KindUser, s.User)
		}
	}
	if c.err != nil {
		return c.err
	}
	if len(c.errs) > 0 {
		return c.errs
	}
	return nil
}

type refChecker struct {
	ctx  context.Context
	lk   Lookup
	errs Errors
	err  error // a failure to look something up, as opposed to a bad reference
}

var kindNoun = map[Kind]string{KindRole: "role", KindUser: "user", KindAccessList: "access list"}

func (c *refChecker) name(field string, k Kind, name string) bool {
	if c.err != nil || name == "" || IsGlob(name) {
		return false
	}
	ok, err := c.lk.Exists(c.ctx, k, name)
	if err != nil {
		c.err = fmt.Errorf("looking up %s %q: %w", k, name, err)
		return false
	}
	if !ok {
		c.errs = append(c.errs, &FieldError{Field: field, Message: fmt.Sprintf("%s %q does not exist", kindNoun[k], name)})
	}
	return ok
}

func (c *refChecker) names(field string, k Kind, names []string) {
	for i, n := range names {
		c.name(fmt.Sprintf("%s[%d]", field, i), k, n)
	}
}

// cycle reports an error if parent is reachable from child through nested lists.
func (c *refChecker) cycle(parent, child string) {
	type step struct {
		list string
		path []string
	}
	seen := map[string]bool{child: true}
	queue := []step{{child, []string{parent, child}}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nested, err := c.lk.NestedLists(c.ctx, s.list)
		if err != nil {
			c.err = fmt.Errorf("reading members of access list %q: %w", s.list, err)
			return
		}
		for _, n := range nested {
			path := append(append([]string{}, s.path...), n)
			if n == parent {
				c.errs = append(c.errs, &FieldError{Field: "spec.member", Message: fmt.Sprintf(
					"access list %q would be nested in itself: %s", parent, strings.Join(path, " → "))})
				return
			}
			if !seen[n] {
				seen[n] = true
				queue = append(queue, step{n, path})
			}
		}
	}
}
