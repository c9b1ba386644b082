package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Roles returns the roles a user holds at now, by name: standing roles, and the grants of every
// access list the user belongs to, directly or through nested lists, with memberships not expired
// and the list's membership requirements met. It reads only what concerns the user.
func Roles(ctx context.Context, st store.Store, user string, now time.Time) (map[string]*resource.Object, error) {
	uo, err := st.Get(ctx, resource.KindUser, user)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", user, err)
	}
	u := uo.Spec.(*resource.UserSpec)
	names := slices.Clone(u.Roles)
	eligible := func(l *resource.AccessListSpec) bool {
		if l.MembershipRequires == nil {
			return true
		}
		for _, r := range l.MembershipRequires.Roles {
			if !slices.Contains(u.Roles, r) {
				return false
			}
		}
		for k, vals := range l.MembershipRequires.Traits {
			for _, v := range vals {
				if !slices.Contains(u.Traits[k], v) {
					return false
				}
			}
		}
		return true
	}
	// Walk up from the user's own memberships to the lists that hold those lists.
	seen := map[string]bool{}
	frontier := []struct{ name, kind string }{{user, resource.MemberUser}}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		members, err := st.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, cur.name)})
		if err != nil {
			return nil, err
		}
		for _, mo := range members {
			m := mo.Spec.(*resource.AccessListMemberSpec)
			if m.Kind() != cur.kind || (m.Expires != nil && !now.Before(*m.Expires)) || seen[m.List] {
				continue
			}
			lo, err := st.Get(ctx, resource.KindAccessList, m.List)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			l := lo.Spec.(*resource.AccessListSpec)
			seen[m.List] = true
			if eligible(l) { // as the sync: each list judges its members, nested ones included
				names = append(names, l.Grants.Roles...)
			}
			frontier = append(frontier, struct{ name, kind string }{m.List, resource.MemberList})
		}
	}
	out := map[string]*resource.Object{}
	for _, n := range names {
		if out[n] != nil {
			continue
		}
		r, err := st.Get(ctx, resource.KindRole, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out[n] = r
	}
	return out, nil
}
