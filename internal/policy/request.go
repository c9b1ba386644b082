package policy

import (
	"fmt"
	"slices"

	"github.com/wardenhq/warden/internal/resource"
)

// Entitlement is what a requester's roles say about each item of a request: for every role or
// resource asked for, in order (roles first), the allow.request conditions that allow it.
type Entitlement struct {
	Items []EntitledItem
}

// EntitledItem is one asked-for role or resource and the conditions that allow it.
type EntitledItem struct {
	Field      string // spec.roles[i] or spec.resources[i]
	Role       string
	Resource   *Item
	Conditions []*resource.RequestConditions
}

// FieldError is a request rule's refusal, naming the field at fault (as resource.FieldError).
func fieldError(field, format string, args ...any) error {
	return &resource.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Entitle decides whether a user holding roles (held: the specs of the roles they hold, as
// Holdings finds them) may have what the request asks for, item by item, and which conditions
// allow each. This is the rule both for making a request and for keeping one: a request whose
// requester no longer holds what allowed it has lost its basis, and the sync grants nothing for it.
//
//   - A role is allowed when some allow.request.roles of a held role matches its name and no
//     deny.request.roles does, and no deny.request.account_assignments covers anything the role
//     grants (so a denied permission set cannot be had by asking for a role that holds it).
//   - A resource (resolved first to one account id and permission set ARN) is allowed when some
//     allow.request.account_assignments covers it and no deny.request.account_assignments does.
//
// resources must already be resolved (see Catalog.Lookup); roles names every role that exists.
func Entitle(roleNames []string, resources []Item, held []*resource.RoleSpec, roles map[string]*resource.RoleSpec, cat *Catalog) (*Entitlement, error) {
	e := &Entitlement{}
	deniedTarget := func(t Target) bool {
		for _, s := range held {
			if s.Deny.Request != nil {
				for _, p := range s.Deny.Request.AccountAssignments {
					if cat.Covers(p, t) {
						return true
					}
				}
			}
		}
		return false
	}
	allowing := func(match func(*resource.RequestConditions) bool) []*resource.RequestConditions {
		var out []*resource.RequestConditions
		for _, s := range held {
			if s.Allow.Request != nil && match(s.Allow.Request) && !slices.Contains(out, s.Allow.Request) {
				out = append(out, s.Allow.Request)
			}
		}
		return out
	}
	for i, name := range roleNames {
		field := fmt.Sprintf("spec.roles[%d]", i)
		r := roles[name]
		if r == nil {
			return nil, fieldError(field, "role %q does not exist", name)
		}
		for _, s := range held {
			if s.Deny.Request != nil && anyGlob(s.Deny.Request.Roles, name) {
				return nil, fieldError(field, "you may not request role %q", name)
			}
		}
		granted, _ := cat.RoleTargets(r)
		for _, t := range sortedTargets(granted) {
			if deniedTarget(t) {
				return nil, fieldError(field, "you may not request role %q: it grants %s on %s, which your roles deny you to request", name, t.PermissionSetARN, t.AccountID)
			}
		}
		conds := allowing(func(c *resource.RequestConditions) bool { return anyGlob(c.Roles, name) })
		if len(conds) == 0 {
			return nil, fieldError(field, "you may not request role %q", name)
		}
		e.Items = append(e.Items, EntitledItem{Field: field, Role: name, Conditions: conds})
	}
	for i := range resources {
		it := &resources[i]
		field := fmt.Sprintf("spec.resources[%d]", i)
		conds := allowing(func(c *resource.RequestConditions) bool {
			for _, p := range c.AccountAssignments {
				if cat.Covers(p, it.Target) {
					return true
				}
			}
			return false
		})
		if deniedTarget(it.Target) || len(conds) == 0 {
			return nil, fieldError(field, "you may not request %s on %s", it.PermissionSetName, it.AccountName)
		}
		e.Items = append(e.Items, EntitledItem{Field: field, Resource: it, Conditions: conds})
	}
	return e, nil
}

func anyGlob(patterns []string, name string) bool {
	for _, p := range patterns {
		if resource.MatchGlob(p, name) {
			return true
		}
	}
	return false
}

// RequestItems resolves the resources a stored request asks for. A request made by this version
// stores account ids and permission set ARNs; one stored before names them as a person typed them,
// and is resolved the same way a new one would be.
func RequestItems(r *resource.AccessRequestSpec, cat *Catalog) ([]Item, error) {
	out := make([]Item, 0, len(r.Resources))
	for i, res := range r.Resources {
		it, err := cat.Lookup(res.Account, res.PermissionSet)
		if err != nil {
			ie := err.(*ItemError)
			return nil, fieldError(fmt.Sprintf("spec.resources[%d].%s", i, ie.Field), "%s", ie.Message)
		}
		out = append(out, it)
	}
	return out, nil
}
