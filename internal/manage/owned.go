package manage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// What an upstream SCIM connector provisioned is its own (see provisioned): a user of origin scim:<connector> (their
// profile, whether they are enabled, the trait the connector keeps their groups in), an access list
// it created (its title, its members). Only that connector changes it; anyone else's write that
// would is refused with an OwnedError naming the field and the connector. What warden governs
// stays everyone's to change as before: a user's standing roles, administrator flag and other
// traits, a list's owners, grants, reviews and membership requirements.

// ErrOwned: a write would change what an upstream connector owns.
var ErrOwned = errors.New("owned by an upstream connector")

// OwnedError is a refused write: Field of the resource is Owner's ("scim:<connector>").
type OwnedError struct {
	Kind  resource.Kind
	Name  string
	Field string
	Owner string
}

func (e *OwnedError) Error() string {
	c, _ := resource.SCIMConnector(e.Owner)
	return fmt.Sprintf("%s: %s %q is provisioned by the identity provider through the SCIM connector %s (origin %s): only that connector changes %s; change it at the identity provider",
		e.Field, e.Kind, e.Name, c, e.Owner, e.Field)
}

func (e *OwnedError) Unwrap() error { return ErrOwned }

// ownerOf is the connector that owns o ("scim:<connector>"), or "" when none does; for a member
// record, its list's (read in tx).
func ownerOf(ctx context.Context, tx store.Reader, o *resource.Object) (string, error) {
	if o == nil {
		return "", nil
	}
	switch s := o.Spec.(type) {
	case *resource.UserSpec:
		return provisioned(s.Origin, s.Upstream), nil
	case *resource.AccessListSpec:
		return provisioned(s.Origin, s.Upstream), nil
	case *resource.AccessListMemberSpec:
		l, err := tx.Get(ctx, resource.KindAccessList, s.List)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil // checkRefs says so
		}
		if err != nil {
			return "", err
		}
		return ownerOf(ctx, tx, l)
	}
	return "", nil
}

// provisioned is the connector that owns a user or list of this origin and these upstream
// records: its origin's connector, while that connector's record holds the id it gave it. One
// the provider deleted and warden kept (deprovision: disable) has none: it is the
// administrators' again, as is one made for the connector beforehand, which it takes when it
// provisions that user name.
func provisioned(origin string, ups map[string]*resource.UpstreamRecord) string {
	if _, ok := resource.SCIMConnector(origin); !ok {
		return ""
	}
	if r := ups[origin]; r != nil && r.ID != "" {
		return origin
	}
	return ""
}

// checkOwned refuses actor's write turning cur into next (cur nil: a creation; next nil: a
// deletion) when it changes what an upstream connector owns and actor is not that connector.
func checkOwned(ctx context.Context, tx store.Reader, actor Actor, cur, next *resource.Object) error {
	owner, err := ownerOf(ctx, tx, cur)
	if err != nil {
		return err
	}
	nextOwner, err := ownerOf(ctx, tx, next)
	if err != nil {
		return err
	}
	if owner == "" {
		owner = nextOwner
	}
	if owner == "" || actor.User == owner {
		return nil
	}
	o := next
	if o == nil {
		o = cur
	}
	refuse := func(field string) error {
		return &OwnedError{Kind: o.Kind, Name: o.Metadata.Name, Field: field, Owner: owner}
	}
	switch {
	case cur == nil:
		if _, ok := o.Spec.(*resource.AccessListMemberSpec); ok {
			return refuse("spec.list")
		}
		return refuse("spec.origin")
	case next == nil:
		if _, ok := o.Spec.(*resource.AccessListMemberSpec); ok {
			return refuse("spec.list")
		}
		return refuse("metadata.name")
	}
	switch c := cur.Spec.(type) {
	case *resource.UserSpec:
		n := next.Spec.(*resource.UserSpec)
		for _, f := range []struct {
			field string
			same  bool
		}{
			{"spec.origin", c.Origin == n.Origin},
			{"spec.display_name", c.DisplayName == n.DisplayName},
			{"spec.given_name", c.GivenName == n.GivenName},
			{"spec.family_name", c.FamilyName == n.FamilyName},
			{"spec.email", c.Email == n.Email},
			{"spec.disabled", c.Disabled == n.Disabled},
			{"spec.remove_when_disabled", c.RemoveWhenDisabled == n.RemoveWhenDisabled},
			{"spec.upstream." + owner, sameRecord(c.Upstream[owner], n.Upstream[owner])},
		} {
			if !f.same {
				return refuse(f.field)
			}
		}
		if r := c.Upstream[owner]; r != nil {
			for _, t := range slices.Sorted(maps.Keys(r.Traits)) {
				if !slices.Equal(c.Traits[t], n.Traits[t]) {
					return refuse("spec.traits." + t)
				}
			}
		}
	case *resource.AccessListSpec:
		n := next.Spec.(*resource.AccessListSpec)
		switch {
		case c.Origin != n.Origin:
			return refuse("spec.origin")
		case c.Title != n.Title:
			return refuse("spec.title")
		case !sameRecord(c.Upstream[owner], n.Upstream[owner]):
			return refuse("spec.upstream." + owner)
		}
	case *resource.AccessListMemberSpec:
		n := next.Spec.(*resource.AccessListMemberSpec)
		if c.List != n.List || c.Member != n.Member || c.Kind() != n.Kind() || !sameTime(c.Expires, n.Expires) || c.Reason != n.Reason {
			return refuse("spec.list")
		}
	}
	return nil
}

func sameRecord(a, b *resource.UpstreamRecord) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Subject != b.Subject || a.ID != b.ID || a.ExternalID != b.ExternalID || !slices.Equal(a.Roles, b.Roles) || len(a.Traits) != len(b.Traits) {
		return false
	}
	for k, v := range a.Traits {
		if !slices.Equal(v, b.Traits[k]) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
