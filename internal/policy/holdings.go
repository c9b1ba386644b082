package policy

import (
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// Membership is what Holdings reads, from the store or from a snapshot: the member records that
// name a user or a list as their member, and the access lists by name.
type Membership interface {
	// MembersNaming returns the member records whose member is name (of either member kind).
	MembersNaming(name string) ([]*resource.AccessListMemberSpec, error)
	// AccessList returns the list of that name, or nil when there is none.
	AccessList(name string) (*resource.AccessListSpec, error)
}

// Holding is what one user holds at an instant.
type Holding struct {
	// Lists are the access lists the user is in, sorted.
	Lists []string
	// Roles are the user's standing roles and the roles those lists grant, sorted, without repeats.
	// A role that does not exist may be among them; callers look them up.
	Roles []string
	// Next is the first instant after now at which this changes by itself (a membership on the way
	// expires), zero when none is scheduled.
	Next time.Time
}

// Holdings is warden's one definition of what a user holds, shared by the sync (whose groups it
// agrees with: see flatten) and the access rules (what a person may request and review).
//
// A user is in list L when they meet L's membership_requires and are a member of L directly, or
// are in a list that is a member of L, each membership on the way unexpired at now. So a user who
// does not meet a nested list's requirements gets nothing through it, not even from the lists it
// is nested in: eligibility is checked at every step before walking further up.
//
// A disabled user holds nothing at all: no list, no role (their memberships and standing roles
// are kept, and count again once they are enabled).
func Holdings(m Membership, user string, u *resource.UserSpec, now time.Time) (*Holding, error) {
	h := &Holding{}
	if u.Disabled {
		return h, nil
	}
	in := map[string]bool{}
	type node struct{ name, kind string }
	frontier := []node{{user, resource.MemberUser}}
	for len(frontier) > 0 {
		cur := frontier[0]
		frontier = frontier[1:]
		records, err := m.MembersNaming(cur.name)
		if err != nil {
			return nil, err
		}
		for _, rec := range records {
			if rec.Kind() != cur.kind || in[rec.List] {
				continue
			}
			if rec.Expires != nil {
				if !now.Before(*rec.Expires) {
					continue
				}
			}
			l, err := m.AccessList(rec.List)
			if err != nil {
				return nil, err
			}
			if l == nil {
				continue
			}
			if ok, _ := Eligible(l, u); !ok {
				continue // nothing through this list, nor through the lists that hold it
			}
			if rec.Expires != nil && (h.Next.IsZero() || rec.Expires.Before(h.Next)) {
				h.Next = *rec.Expires
			}
			in[rec.List] = true
			h.Lists = append(h.Lists, rec.List)
			h.Roles = append(h.Roles, l.Grants.Roles...)
			frontier = append(frontier, node{rec.List, resource.MemberList})
		}
	}
	h.Roles = append(h.Roles, u.Roles...)
	slices.Sort(h.Lists)
	slices.Sort(h.Roles)
	h.Roles = slices.Compact(h.Roles)
	return h, nil
}
