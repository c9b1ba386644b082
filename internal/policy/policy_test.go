package policy_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

var (
	t0      = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	catalog = struct {
		accounts []policy.Account
		sets     []policy.PermissionSet
	}{
		accounts: []policy.Account{{"637423191929", "Production"}, {"058264527036", "Staging"}, {"293847561029", "Development"}},
		sets: []policy.PermissionSet{
			{"AdministratorAccess", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa"},
			{"ReadOnlyAccess", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb"},
			{"PowerUserAccess", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-cccccccccccccccc"},
		},
	}
	admin = catalog.sets[0].ARN
	ro    = catalog.sets[1].ARN
	power = catalog.sets[2].ARN
)

// snap decodes YAML resources into a snapshot with the test catalog.
func snap(t *testing.T, docs string) *policy.Snapshot {
	t.Helper()
	objs, err := resource.DecodeAll("test.yaml", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	s := &policy.Snapshot{Accounts: catalog.accounts, PermissionSets: catalog.sets}
	for _, o := range objs {
		switch o.Kind {
		case resource.KindUser:
			s.Users = append(s.Users, o)
		case resource.KindRole:
			s.Roles = append(s.Roles, o)
		case resource.KindAccessList:
			s.AccessLists = append(s.AccessLists, o)
		case resource.KindAccessListMember:
			s.Members = append(s.Members, o)
		case resource.KindAccessRequest:
			s.Requests = append(s.Requests, o)
		}
	}
	return s
}

func users(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "---\nkind: user\nversion: v1\nmetadata: {name: %s}\nspec: {display_name: %s Person, email: %s@example.com}\n", n, n, n)
	}
	return b.String()
}

func assignments(d *policy.Desired) []string {
	var out []string
	for _, a := range d.SortedAssignments() {
		s := fmt.Sprintf("%s %s %s %s", a.PrincipalType, a.Principal, a.AccountID, a.PermissionSetARN[len(a.PermissionSetARN)-2:])
		if g := d.Assignments[a]; !g.Until.IsZero() {
			s += " until " + g.Until.Format("15:04")
		}
		out = append(out, s)
	}
	return out
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

const roles = `
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: read-everything}
spec: {allow: {account_assignments: [{account: "*", permission_set: ReadOnlyAccess}]}}
---
kind: role
version: v1
metadata: {name: no-production}
spec: {allow: {}, deny: {account_assignments: [{account: "637423191929", permission_set: "*"}]}}
---
kind: role
version: v1
metadata: {name: requester}
spec: {allow: {request: {roles: [staging-admin], account_assignments: [{account: "*", permission_set: "*"}]}}}
`

func TestUsersAndRequiredNames(t *testing.T) {
	d, next := policy.Compile(snap(t, `
kind: user
version: v1
metadata: {name: alice@example.com}
spec: {given_name: Alice, family_name: Nguyen, email: alice@example.com}
---
kind: user
version: v1
metadata: {name: bob}
spec: {display_name: Bob van Dijk}
---
kind: user
version: v1
metadata: {name: carol@example.com}
spec: {}
`), t0)
	eq(t, "alice", *d.Users["alice@example.com"], policy.User{UserName: "alice@example.com", DisplayName: "Alice Nguyen", GivenName: "Alice", FamilyName: "Nguyen", Email: "alice@example.com"})
	eq(t, "bob", *d.Users["bob"], policy.User{UserName: "bob", DisplayName: "Bob van Dijk", GivenName: "Bob", FamilyName: "van Dijk"})
	eq(t, "carol", *d.Users["carol@example.com"], policy.User{UserName: "carol@example.com", DisplayName: "carol@example.com", GivenName: "carol", FamilyName: "carol"})
	if !next.IsZero() {
		t.Fatalf("next change %v with nothing scheduled", next)
	}
}

func TestGroupsFlattenNestedListsAndDropExpiredAndIneligible(t *testing.T) {
	d, next := policy.Compile(snap(t, users("alice", "bob", "carol", "dan", "erin")+roles+`
---
kind: user
version: v1
metadata: {name: frank}
spec: {roles: [requester], traits: {team: [platform]}}
---
kind: access_list
version: v1
metadata: {name: platform}
spec: {title: Platform, owners: [alice], grants: {roles: [staging-admin, read-everything]}, membership_requires: {traits: {team: [platform]}}}
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice]}
---
kind: access_list
version: v1
metadata: {name: everyone}
spec: {title: Everyone, owners: [alice], grants: {roles: [read-everything, no-production]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: platform, member: frank}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: platform, member: alice}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: bob}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: carol, expires: "2026-11-21T11:00:00Z"}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: dan, expires: "2026-11-21T15:00:00Z"}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: everyone, member: oncall, member_kind: list}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: everyone, member: erin}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: everyone, member: platform, member_kind: list, expires: "2026-11-22T00:00:00Z"}
`), t0)
	// "On call" grants no assignments: no group. Its users reach Everyone through nesting.
	if _, ok := d.Groups["On call"]; ok {
		t.Fatal("a list granting no account assignments became a group")
	}
	// alice lacks the team trait Platform requires: kept out of Platform, and so out of Everyone
	// through Platform (she is not a direct member of Everyone).
	eq(t, "Platform members", d.Groups["Platform"].Members, []string{"frank"})
	// carol expired; dan expires at 15:00; bob, erin, and frank through Platform.
	eq(t, "Everyone members", d.Groups["Everyone"].Members, []string{"bob", "dan", "erin", "frank"})
	eq(t, "assignments", assignments(d), []string{
		"GROUP Everyone 058264527036 bb",
		"GROUP Everyone 293847561029 bb", // Production denied by no-production
		"GROUP Platform 058264527036 aa",
		"GROUP Platform 058264527036 bb",
		"GROUP Platform 293847561029 bb",
		"GROUP Platform 637423191929 bb",
	})
	eq(t, "next change", next, time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC))
	// carol's expiry takes her out of Everyone too, through On call: her removal from both is an
	// expiry (which the sync's safety brake never holds back).
	if !d.Expired["oncall"]["carol"] || !d.Expired["everyone"]["carol"] {
		t.Errorf("carol's expiry, through a nested list, is not known as one: %v", d.Expired)
	}

	// At 15:00 dan is gone and the next change is Platform's expiry from Everyone at midnight.
	d, next = policy.Compile(snap(t, users("alice", "bob", "carol", "dan", "erin")+roles+`
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice], grants: {roles: [read-everything]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: dan, expires: "2026-11-21T15:00:00Z"}
`), time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC))
	eq(t, "members at expiry", d.Groups["On call"].Members, []string{})
	if !next.IsZero() {
		t.Fatalf("next %v after the only expiry", next)
	}
}

func TestUserAssignmentsRequestsAndOverlaps(t *testing.T) {
	at := func(h int) string { return time.Date(2026, 11, 21, h, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	docs := roles + `
---
kind: user
version: v1
metadata: {name: bob}
spec: {roles: [requester]}
---
kind: user
version: v1
metadata: {name: alice}
spec: {roles: [read-everything, no-production, requester]}
---
kind: access_request
version: v1
metadata: {name: r1}
spec: {user: alice, roles: [staging-admin], state: APPROVED, start: "` + at(11) + `", end: "` + at(13) + `"}
---
kind: access_request
version: v1
metadata: {name: r2}
spec: {user: alice, resources: [{account: Staging, permission_set: AdministratorAccess}], state: APPROVED, start: "` + at(10) + `", end: "` + at(16) + `"}
---
kind: access_request
version: v1
metadata: {name: r3}
spec: {user: alice, resources: [{account: Staging, permission_set: ReadOnlyAccess}], state: APPROVED, start: "` + at(10) + `", end: "` + at(14) + `"}
---
kind: access_request
version: v1
metadata: {name: r4}
spec: {user: bob, resources: [{account: Production, permission_set: PowerUserAccess}], state: APPROVED, start: "` + at(13) + `", end: "` + at(14) + `"}
---
kind: access_request
version: v1
metadata: {name: r5}
spec: {user: bob, roles: [staging-admin], state: PENDING, start: "` + at(10) + `", end: "` + at(14) + `"}
---
kind: access_request
version: v1
metadata: {name: r6}
spec: {user: alice, resources: [{account: Production, permission_set: AdministratorAccess}], state: APPROVED, start: "` + at(10) + `", end: "` + at(14) + `"}
`
	d, next := policy.Compile(snap(t, docs), t0)
	eq(t, "at noon", assignments(d), []string{
		// r1 and r2 overlap on Staging admin: one assignment, until the later end (16:00).
		"USER alice 058264527036 aa until 16:00",
		// Standing read-only on Staging, so r3's read-only adds no end.
		"USER alice 058264527036 bb",
		"USER alice 293847561029 bb",
		// Production is denied by alice's standing no-production role: neither read-only nor r6.
	})
	eq(t, "next", next, time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)) // r1 ends, r4 starts
	d, next = policy.Compile(snap(t, docs), time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC))
	eq(t, "at 13:00", assignments(d), []string{
		"USER alice 058264527036 aa until 16:00", // r1 ended; r2 still holds it
		"USER alice 058264527036 bb",
		"USER alice 293847561029 bb",
		"USER bob 637423191929 cc until 14:00",
	})
	eq(t, "next", next, time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC))
	d, _ = policy.Compile(snap(t, docs), time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC))
	eq(t, "at 16:00", assignments(d), []string{"USER alice 058264527036 bb", "USER alice 293847561029 bb"})
}

func TestCatalogPatternsAndProblems(t *testing.T) {
	d, _ := policy.Compile(snap(t, users("alice")+`
---
kind: role
version: v1
metadata: {name: by-arn-and-glob}
spec:
  allow:
    account_assignments:
      - {account: "0582*", permission_set: "`+power+`"}
      - {account: "Dev*", permission_set: "*Access"}
      - {account: Nowhere, permission_set: ReadOnlyAccess}
---
kind: access_list
version: v1
metadata: {name: a}
spec: {title: Same, owners: [alice], grants: {roles: [by-arn-and-glob]}}
---
kind: access_list
version: v1
metadata: {name: b}
spec: {title: Same, owners: [alice], grants: {roles: [by-arn-and-glob]}}
`), t0)
	eq(t, "assignments", assignments(d), []string{
		"GROUP Same 058264527036 cc",
		"GROUP Same 293847561029 aa",
		"GROUP Same 293847561029 bb",
		"GROUP Same 293847561029 cc",
	})
	if len(d.Problems) != 2 {
		t.Fatalf("problems: %+v", d.Problems)
	}
	if p := d.Problems; p[0].Kind != resource.KindRole || !strings.Contains(p[0].Message, `"Nowhere"`) ||
		p[1].Kind != resource.KindAccessList || p[1].Name != "b" || !strings.Contains(p[1].Message, "unique") {
		t.Fatalf("problems: %+v", d.Problems)
	}
}

// Compile is deterministic: the same input gives the same answer.
func TestDeterministic(t *testing.T) {
	s := snap(t, users("a", "b", "c")+roles+`
---
kind: access_list
version: v1
metadata: {name: l}
spec: {title: L, owners: [a], grants: {roles: [read-everything]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: l, member: c}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: l, member: a}
`)
	d1, n1 := policy.Compile(s, t0)
	d2, n2 := policy.Compile(s, t0)
	if !reflect.DeepEqual(d1, d2) || !n1.Equal(n2) {
		t.Fatal("two compiles of one snapshot differ")
	}
	eq(t, "members sorted", d1.Groups["L"].Members, []string{"a", "c"})
}

// A membership change applied to a Compiler gives the same groups as compiling everything again.
func TestCompilerRecomputeMatchesFullCompile(t *testing.T) {
	base := users("a", "b", "c", "d") + roles + `
---
kind: access_list
version: v1
metadata: {name: inner}
spec: {title: Inner, owners: [a], grants: {roles: [staging-admin]}}
---
kind: access_list
version: v1
metadata: {name: outer}
spec: {title: Outer, owners: [a], grants: {roles: [read-everything]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: outer, member: inner, member_kind: list}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: inner, member: a}
`
	s := snap(t, base)
	k := policy.NewCompiler(s, t0)
	added, err := resource.DecodeAll("m.yaml", []byte("kind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: inner, member: c}\n"))
	if err != nil {
		t.Fatal(err)
	}
	k.PutMember(added[0])
	changed := k.Recompute([]string{"inner"})
	eq(t, "changed lists", changed, []string{"inner", "outer"})
	full, _ := policy.Compile(snap(t, base+"---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: inner, member: c}\n"), t0)
	for title, g := range full.Groups {
		eq(t, "members of "+title, k.Desired().Groups[title].Members, g.Members)
	}
	k.DeleteMember(s.Members[1]) // inner/a
	eq(t, "after removing a", k.Recompute([]string{"inner"}), []string{"inner", "outer"})
	eq(t, "Outer members", k.Desired().Groups["Outer"].Members, []string{"c"})
}

// A disabled user holds nothing: no group membership, no standing assignment, no approved
// request's; what they hold is kept and counts again once they are enabled. Their Identity Center
// user stays unless remove_when_disabled.
func TestCompileDisabledUserHoldsNothing(t *testing.T) {
	at := func(h int) string { return time.Date(2026, 11, 21, h, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	docs := func(dave string) string {
		return roles + `
---
kind: user
version: v1
metadata: {name: carol}
spec: {roles: [read-everything, requester]}
---
kind: user
version: v1
metadata: {name: dave}
spec: {roles: [read-everything, requester]` + dave + `}
---
kind: access_list
version: v1
metadata: {name: ops}
spec: {title: Ops, owners: [carol], grants: {roles: [staging-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: carol}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: dave}
---
kind: access_request
version: v1
metadata: {name: r1}
spec: {user: dave, resources: [{account: Production, permission_set: PowerUserAccess}], state: APPROVED, start: "` + at(11) + `", end: "` + at(13) + `"}
`
	}
	d, _ := policy.Compile(snap(t, docs("")), t0)
	eq(t, "enabled: members", d.Groups["Ops"].Members, []string{"carol", "dave"})
	if got := strings.Join(assignments(d), "\n"); !strings.Contains(got, "USER dave 637423191929 cc until 13:00") || !strings.Contains(got, "USER dave 058264527036 bb") {
		t.Fatalf("enabled dave's assignments:\n%s", got)
	}

	d, _ = policy.Compile(snap(t, docs(", disabled: true")), t0)
	eq(t, "disabled: members", d.Groups["Ops"].Members, []string{"carol"})
	for _, a := range assignments(d) {
		if strings.Contains(a, "dave") {
			t.Fatalf("disabled dave still has %s", a)
		}
	}
	if d.Users["dave"] == nil || !d.Disabled["dave"] {
		t.Fatalf("disabled dave: kept in Identity Center %v, marked disabled %v", d.Users["dave"] != nil, d.Disabled["dave"])
	}
	problem := false
	for _, p := range d.Problems {
		problem = problem || (p.Name == "r1" && strings.Contains(p.Message, "disabled"))
	}
	if !problem {
		t.Fatalf("no problem says r1's user is disabled: %+v", d.Problems)
	}

	d, _ = policy.Compile(snap(t, docs(", disabled: true, remove_when_disabled: true")), t0)
	if d.Users["dave"] != nil || d.Users["carol"] == nil {
		t.Fatal("a user to remove when disabled is still desired in Identity Center")
	}

	// Holdings, the request rules' view, agrees: nothing.
	s := snap(t, docs(", disabled: true"))
	var dave *resource.UserSpec
	for _, o := range s.Users {
		if o.Metadata.Name == "dave" {
			dave = o.Spec.(*resource.UserSpec)
		}
	}
	h, err := policy.Holdings(noMembers{}, "dave", dave, t0)
	if err != nil || len(h.Roles) != 0 || len(h.Lists) != 0 {
		t.Fatalf("disabled dave holds %+v %v", h, err)
	}
}

// noMembers is a Membership that would give every user the list ops (Holdings must not ask it for
// a disabled user).
type noMembers struct{}

func (noMembers) MembersNaming(name string) ([]*resource.AccessListMemberSpec, error) {
	return []*resource.AccessListMemberSpec{{List: "ops", Member: name}}, nil
}
func (noMembers) AccessList(string) (*resource.AccessListSpec, error) {
	return &resource.AccessListSpec{Title: "Ops", Grants: resource.Grants{Roles: []string{"staging-admin"}}}, nil
}
