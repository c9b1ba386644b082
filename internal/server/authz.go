package server

import (
	"fmt"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// The foundation's authorization: administrators may do everything. Everyone else may read the
// catalog (roles, access lists and their members, permission sets, accounts, users), read their own
// access requests; requests are made and reviewed through /v1/access/requests (requests.go), under the
// rules of package access. Finer rules (list owners) belong to the access workflows.

type verb string

const (
	verbCreate verb = "create"
	verbUpdate verb = "update"
	verbApply  verb = "apply" // create or update
	verbDelete verb = "delete"
)

var readableByAll = map[resource.Kind]bool{
	resource.KindUser: true, resource.KindRole: true, resource.KindAccessList: true,
	resource.KindAccessListMember: true, resource.KindPermissionSet: true, resource.KindAccount: true,
}

func forbidden(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errForbidden)
}

func authorizeList(p *auth.Principal, k resource.Kind, opts *store.ListOptions) error {
	if p.Admin || readableByAll[k] {
		return nil
	}
	if k == resource.KindAccessRequest {
		for _, f := range opts.Filters {
			if f.Key == resource.IndexUser && f.Value != p.User {
				return forbidden("%s may list only their own access requests", p.User)
			}
		}
		opts.Filters = append(opts.Filters, resource.IndexEntry{Key: resource.IndexUser, Value: p.User})
		return nil
	}
	return forbidden("%s may not list %s", p.User, k)
}

func authorizeRead(p *auth.Principal, o *resource.Object) error {
	if p.Admin || readableByAll[o.Kind] {
		return nil
	}
	if r, ok := o.Spec.(*resource.AccessRequestSpec); ok && r.User == p.User {
		return nil
	}
	return forbidden("%s may not read %s", p.User, o)
}

// authorizeKind decides from the caller and the kind alone whether p may write resources of kind k
// at all. It runs before a request's body is read, so that a caller who may not write k cannot make
// the server read and decode a body for nothing; authorizeWrite then decides on the object.
// An administrator's write is an administrative change: it needs a recent second factor (stepUp).
func (s *Server) authorizeKind(p *auth.Principal, v verb, k resource.Kind) error {
	if k == resource.KindAccessRequest {
		// Not even an administrator writes a request as a resource: reviews, states and windows
		// change only through the workflow, which checks the rules and audits who did what.
		return forbidden("access requests change only through their workflow (warden request create|review|cancel|revoke, /v1/access/requests), not by %s of the resource", v)
	}
	if p.Admin {
		return s.stepUp(p, fmt.Sprintf("%s of %s resources (an administrative change)", v, k))
	}
	return forbidden("only administrators may %s %s resources", v, k)
}

// authorizeWrite decides a write of o (for a delete, o as stored).
func (s *Server) authorizeWrite(p *auth.Principal, v verb, o *resource.Object) error {
	return s.authorizeKind(p, v, o.Kind)
}
