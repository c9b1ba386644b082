package policy_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// snapshotMembership lets Holdings read a snapshot, as the store does for the access rules.
type snapshotMembership struct {
	lists   map[string]*resource.AccessListSpec
	members []*resource.AccessListMemberSpec
}

func (m snapshotMembership) MembersNaming(name string) ([]*resource.AccessListMemberSpec, error) {
	var out []*resource.AccessListMemberSpec
	for _, r := range m.members {
		if r.Member == name {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m snapshotMembership) AccessList(name string) (*resource.AccessListSpec, error) {
	return m.lists[name], nil
}

func membershipOf(s *policy.Snapshot) snapshotMembership {
	m := snapshotMembership{lists: map[string]*resource.AccessListSpec{}}
	for _, o := range s.AccessLists {
		m.lists[o.Metadata.Name] = o.Spec.(*resource.AccessListSpec)
	}
	for _, o := range s.Members {
		m.members = append(m.members, o.Spec.(*resource.AccessListMemberSpec))
	}
	return m
}

// A user who lacks a nested list's requirements gets nothing through it: not its grants, and not
// the grants of the lists it is nested in (the sync leaves them out of those groups too).
func TestHoldingsStopAtAnIneligibleList(t *testing.T) {
	s := snap(t, roles+`
---
kind: user
version: v1
metadata: {name: dan}
spec: {traits: {team: [payments]}}
---
kind: access_list
version: v1
metadata: {name: inner}
spec: {title: Inner, owners: [dan], grants: {roles: [read-everything]}, membership_requires: {traits: {team: [security]}}}
---
kind: access_list
version: v1
metadata: {name: outer}
spec: {title: Outer, owners: [dan], grants: {roles: [requester, staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: inner, member: dan}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: outer, member: inner, member_kind: list}
`)
	var dan *resource.UserSpec
	for _, u := range s.Users {
		dan = u.Spec.(*resource.UserSpec)
	}
	h, err := policy.Holdings(membershipOf(s), "dan", dan, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Lists) != 0 || len(h.Roles) != 0 {
		t.Fatalf("an ineligible member of a nested list holds lists %v and roles %v", h.Lists, h.Roles)
	}
	d, _ := policy.Compile(s, t0)
	if len(d.Groups["Outer"].Members) != 0 {
		t.Fatalf("the sync puts dan in Outer: %v", d.Groups["Outer"].Members)
	}
}

// Holdings (walking up from a user) and the sync's groups (flattening down from each list) are one
// definition: over random organisations of nested lists, requirements and expiries, a user is in
// exactly the groups whose lists Holdings says they are in.
func TestHoldingsAgreeWithTheSyncsGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := t0
	for round := 0; round < 300; round++ {
		var b strings.Builder
		b.WriteString(roles)
		nUsers, nLists := 1+rng.IntN(6), 1+rng.IntN(7)
		for u := 0; u < nUsers; u++ {
			var traits, roles []string
			if rng.IntN(2) == 0 {
				traits = append(traits, "a")
			}
			if rng.IntN(2) == 0 {
				traits = append(traits, "b")
			}
			if rng.IntN(3) == 0 {
				roles = append(roles, "requester")
			}
			fmt.Fprintf(&b, "---\nkind: user\nversion: v1\nmetadata: {name: u%d}\nspec: {roles: [%s], traits: {t: [%s]}}\n", u, strings.Join(roles, ", "), strings.Join(traits, ", "))
		}
		for l := 0; l < nLists; l++ {
			req := ""
			switch rng.IntN(5) {
			case 0:
				req = ", membership_requires: {traits: {t: [a]}}"
			case 1:
				req = ", membership_requires: {roles: [requester]}"
			}
			fmt.Fprintf(&b, "---\nkind: access_list\nversion: v1\nmetadata: {name: l%d}\nspec: {title: L%d, owners: [u0], grants: {roles: [read-everything]}%s}\n", l, l, req)
		}
		// Lists only hold lists of a higher number: no cycles, as validation requires.
		for l := 0; l < nLists; l++ {
			for k := 0; k < rng.IntN(4); k++ {
				exp := ""
				switch rng.IntN(4) {
				case 0:
					exp = ", expires: " + now.Add(-time.Hour).Format(time.RFC3339)
				case 1:
					exp = ", expires: " + now.Add(time.Duration(1+rng.IntN(5))*time.Hour).Format(time.RFC3339)
				}
				if l+1 < nLists && rng.IntN(2) == 0 {
					fmt.Fprintf(&b, "---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: l%d, member: l%d, member_kind: list%s}\n", l, l+1+rng.IntN(nLists-l-1), exp)
				} else {
					fmt.Fprintf(&b, "---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: l%d, member: u%d%s}\n", l, rng.IntN(nUsers), exp)
				}
			}
		}
		s := snapDedup(t, b.String())
		d, _ := policy.Compile(s, now)
		m := membershipOf(s)
		for _, uo := range s.Users {
			name := uo.Metadata.Name
			h, err := policy.Holdings(m, name, uo.Spec.(*resource.UserSpec), now)
			if err != nil {
				t.Fatal(err)
			}
			var inGroups []string
			for _, g := range d.Groups {
				if slices.Contains(g.Members, name) {
					inGroups = append(inGroups, g.List)
				}
			}
			slices.Sort(inGroups)
			if !slices.Equal(h.Lists, inGroups) {
				t.Fatalf("round %d: %s holds lists %v, the sync puts them in the groups of %v\n%s", round, name, h.Lists, inGroups, b.String())
			}
		}
	}
}

// snapDedup decodes like snap, dropping member records that repeat one already given (the
// generator may draw the same membership twice; the store would refuse the second).
func snapDedup(t *testing.T, docs string) *policy.Snapshot {
	t.Helper()
	s := snap(t, docs)
	seen := map[string]bool{}
	var kept []*resource.Object
	for _, o := range s.Members {
		if !seen[o.Metadata.Name] {
			seen[o.Metadata.Name] = true
			kept = append(kept, o)
		}
	}
	s.Members = kept
	return s
}
